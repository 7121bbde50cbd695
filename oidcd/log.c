/*
 * Copyright (c) 2026 The oidcd authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * Logging in the shape every OpenBSD daemon has: stderr in the
 * foreground with -d, syslog otherwise (opened with LOG_NDELAY before
 * chroot so that it still works inside an empty root).  Each line names
 * the process role.  logger.format json turns each line into one JSON
 * object, as Dex's slog JSON handler does.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int		 log_debug_mode;
static int		 log_verbose;
static int		 log_format = LOG_FORMAT_TEXT;
static int		 log_quiet;	/* logger.level warn or error */
static const char	*log_procname = "oidcd";

void
log_init(int n_debug, int facility)
{
	extern char	*__progname;

	log_debug_mode = n_debug;
	log_verbose = n_debug;
	log_procinit(__progname);

	if (!log_debug_mode)
		openlog(__progname, LOG_PID | LOG_NDELAY, facility);

	tzset();
}

void
log_procinit(const char *procname)
{
	if (procname != NULL)
		log_procname = procname;
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

void
log_setformat(int format)
{
	log_format = format;
}

int
log_getformat(void)
{
	return (log_format);
}

/* With logger.level warn or error, info lines are left out. */
void
log_setquiet(int quiet)
{
	log_quiet = quiet;
}

int
log_getquiet(void)
{
	return (log_quiet);
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

static const char *
log_levelname(int pri)
{
	switch (pri) {
	case LOG_DEBUG:
		return ("DEBUG");
	case LOG_INFO:
	case LOG_NOTICE:
		return ("INFO");
	case LOG_WARNING:
		return ("WARN");
	default:
		return ("ERROR");
	}
}

/* Append s to out as the body of a JSON string. */
static void
log_json_escape(char *out, size_t outsz, const char *s)
{
	size_t	 o = strlen(out);

	for (; *s != '\0' && o + 7 < outsz; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = c;
		} else if (c < 0x20) {
			o += snprintf(out + o, outsz - o, "\\u%04x", c);
		} else
			out[o++] = c;
	}
	out[o] = '\0';
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char		 msg[2048], line[4608];
	struct timespec	 ts;
	struct tm	 tm;
	char		 tbuf[64];
	int		 saved_errno = errno;

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);

	if (log_format == LOG_FORMAT_JSON) {
		(void)clock_gettime(CLOCK_REALTIME, &ts);
		(void)gmtime_r(&ts.tv_sec, &tm);
		(void)strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
		(void)snprintf(line, sizeof(line),
		    "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"proc\":\"%s\","
		    "\"msg\":\"", tbuf, ts.tv_nsec / 1000000,
		    log_levelname(pri), log_procname);
		log_json_escape(line, sizeof(line) - 3, msg);
		(void)strlcat(line, "\"}", sizeof(line));
	} else
		(void)snprintf(line, sizeof(line), "%s: %s", log_procname,
		    msg);

	if (log_debug_mode) {
		fprintf(stderr, "%s\n", line);
		fflush(stderr);
	} else
		syslog(pri, "%s", line);

	errno = saved_errno;
}

void
log_warn(const char *emsg, ...)
{
	char		*nfmt;
	va_list		 ap;
	int		 saved_errno = errno;

	va_start(ap, emsg);
	if (emsg == NULL)
		logit(LOG_ERR, "%s", strerror(saved_errno));
	else if (asprintf(&nfmt, "%s: %s", emsg,
	    strerror(saved_errno)) == -1) {
		/* we tried it... */
		vlog(LOG_ERR, emsg, ap);
		logit(LOG_ERR, "%s", strerror(saved_errno));
	} else {
		vlog(LOG_ERR, nfmt, ap);
		free(nfmt);
	}
	va_end(ap);
	errno = saved_errno;
}

void
log_warnx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_WARNING, emsg, ap);
	va_end(ap);
}

void
log_info(const char *emsg, ...)
{
	va_list	 ap;

	if (log_quiet)
		return;
	va_start(ap, emsg);
	vlog(LOG_INFO, emsg, ap);
	va_end(ap);
}

void
log_debug(const char *emsg, ...)
{
	va_list	 ap;

	if (log_verbose > 1) {
		va_start(ap, emsg);
		vlog(LOG_DEBUG, emsg, ap);
		va_end(ap);
	}
}

static __dead void
vfatalc(int code, const char *emsg, va_list ap)
{
	static char	 s[BUFSIZ];
	const char	*sep;

	if (emsg != NULL) {
		(void)vsnprintf(s, sizeof(s), emsg, ap);
		sep = ": ";
	} else {
		s[0] = '\0';
		sep = "";
	}
	if (code)
		logit(LOG_CRIT, "fatal in %s: %s%s%s",
		    log_procname, s, sep, strerror(code));
	else
		logit(LOG_CRIT, "fatal in %s%s%s", log_procname, sep, s);
	exit(1);
}

void
fatal(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vfatalc(errno, emsg, ap);
	va_end(ap);
}

void
fatalx(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vfatalc(0, emsg, ap);
	va_end(ap);
}
