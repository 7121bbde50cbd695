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
 * The configuration parser.  oidcd reads Dex's YAML config unchanged, so
 * this file copies what Dex gets from go-yaml v2, ghodss/yaml and Go's
 * encoding/json (reference/dex.md section 0):
 *
 *  - YAML 1.1 scalar resolution: plain yes/no/on/off are booleans, 0x10
 *    and 010 are integers, quoted scalars are always strings;
 *  - keys match case-insensitively; unknown keys are ignored by Dex, here
 *    they are ignored with a warning;
 *  - ghodss/yaml turns a number or a boolean into a string when the Go
 *    field is a string and the field sits in a plain struct (web, expiry,
 *    staticClients...), but not below a type with its own UnmarshalJSON
 *    (storage, signer, connectors, staticPasswords): there a number into a
 *    string field is a type error;
 *  - os.ExpandEnv runs over the string values of storage.config,
 *    connectors[].config and signer.config only, unless DEX_EXPAND_ENV is
 *    false.
 *
 * libyaml's event parser builds a small tree first (ynode, with line and
 * column of every node), which the table-driven decoder below walks.
 * Every message names FILE:LINE:COL; all of them are collected, sorted in
 * file order, and conf_parse_*() returns NULL when any is an error.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <yaml.h>

#include "conf.h"
#include "log.h"

enum ykind {
	YN_NULL,
	YN_BOOL,
	YN_INT,
	YN_FLOAT,
	YN_STR,
	YN_MAP,
	YN_SEQ
};

/*
 * One YAML node.  A map holds its pairs in yn_kids as key, value, key,
 * value...; its keys are always YN_STR, converted as ghodss/yaml does.
 */
struct ynode {
	enum ykind	 yn_kind;
	int		 yn_line;
	int		 yn_col;
	int		 yn_merged;	/* key came from a << merge */
	char		*yn_str;	/* scalar text, or key string */
	int		 yn_bool;
	int		 yn_isuint;	/* above INT64_MAX: yn_uint */
	int64_t		 yn_int;
	uint64_t	 yn_uint;
	double		 yn_dbl;
	struct ynode	**yn_kids;
	size_t		 yn_nkids;
};

struct anchor {
	char		*a_name;
	struct ynode	*a_node;
};

struct pstate {
	const char		*ps_file;
	struct conf_msgs	*ps_msgs;
	int			 ps_nmsgs;
	int			 ps_nerrors;
	size_t			 ps_nodes;
	int			 ps_coerce;	/* ghodss string coercion */
	int			 ps_expand;	/* DEX_EXPAND_ENV */
	int			 ps_nomem;
	char			 ps_path[256];
	struct oidcd_conf	*ps_conf;
	yaml_parser_t		 ps_parser;
	struct anchor		*ps_anchors;
	size_t			 ps_nanchors;
	struct ynode		*ps_keep;	/* merged-away nodes */

	/* What the final checks need to know. */
	int			 ps_have_storage;
	int			 ps_have_keys_rotation;
	int64_t			 ps_keys_rotation;
	int			 ps_have_signer_alg;
	int			 ps_signer_alg;
	int			 ps_oidcd_alg;
	int			 ps_nskipped;	/* unsupported connectors */
	char			**ps_conn_ids;	/* every connector id seen */
	size_t			 ps_nconn_ids;
	int			 ps_tls_line;
	int			 ps_tls_col;
	int			 ps_pwc_line;
	int			 ps_pwc_col;
	int			 ps_web_line;
	int			 ps_web_col;
};

/* Key table entry types. */
enum ktype {
	K_STR,		/* char * */
	K_BOOL,		/* int */
	K_INT,		/* int in [k_min, k_max] */
	K_U64,		/* uint64_t in [k_min, k_max] */
	K_DUR,		/* int64_t msec, >= k_min */
	K_STRV,		/* struct conf_strv */
	K_MAP,		/* nested table, same base */
	K_OBJ,		/* nested table, validate only */
	K_OBJLIST,	/* list of nested tables, validate only */
	K_STRMAP,	/* json_t * object of strings */
	K_NODE,		/* struct ynode *, kept for later */
	K_FUNC,		/* k_fn does it */
	K_ANY,		/* anything, not kept */
	K_UNSUP		/* known to Dex, not to us: warn */
};

#define K_REQ		0x01	/* must be present and not empty */
#define K_NOCOERCE	0x02	/* no ghodss coercion for this key */
#define K_SUB		0x04	/* k_sub is in effect with K_FUNC */

struct keydef;
typedef int (*kfn_t)(struct pstate *, struct ynode *, void *,
    const struct keydef *);

struct keydef {
	const char		*k_name;
	enum ktype		 k_type;
	size_t			 k_off;
	int			 k_flags;
	const struct keydef	*k_sub;
	kfn_t			 k_fn;
	long long		 k_min;
	long long		 k_max;
};

#define KEYS_MAX	64	/* entries in one key table */

static const char *kindname[] = {
	"null", "a boolean", "a number", "a number", "a string",
	"a mapping", "a list"
};

static void	 msg_add(struct pstate *, int, int, int, const char *, ...)
		    __attribute__((__format__ (printf, 5, 6)));
static void	 node_err(struct pstate *, struct ynode *, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	 node_warn(struct pstate *, struct ynode *, const char *,
		    ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	 ynode_free(struct ynode *);
static int	 decode_map(struct pstate *, struct ynode *,
		    const struct keydef *, void *, const char *);

/*
 * Messages.
 */

static void
msg_insert(struct pstate *ps, struct conf_msg *m)
{
	struct conf_msg	*n;

	/* Keep file order; messages without a position go last. */
	if (m->m_line != 0) {
		TAILQ_FOREACH(n, ps->ps_msgs, m_entry) {
			if (n->m_line == 0 || n->m_line > m->m_line ||
			    (n->m_line == m->m_line && n->m_col > m->m_col)) {
				TAILQ_INSERT_BEFORE(n, m, m_entry);
				return;
			}
		}
	}
	TAILQ_INSERT_TAIL(ps->ps_msgs, m, m_entry);
}

static void
msg_add(struct pstate *ps, int sev, int line, int col, const char *fmt, ...)
{
	struct conf_msg	*m;
	va_list		 ap;
	char		*text = NULL, *full = NULL;
	int		 r;

	if (sev == CONF_ERR)
		ps->ps_nerrors++;
	if (ps->ps_msgs == NULL)
		return;
	if (ps->ps_nmsgs > CONF_MAX_MSGS)
		return;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		goto nomem;
	va_start(ap, fmt);
	r = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (r == -1)
		goto nomem;
	if (ps->ps_nmsgs == CONF_MAX_MSGS) {
		free(text);
		text = NULL;
		line = col = 0;
		sev = CONF_ERR;
		r = asprintf(&full, "%s: too many messages, the rest is "
		    "left out", ps->ps_file);
	} else if (line > 0)
		r = asprintf(&full, "%s:%d:%d: %s", ps->ps_file, line, col,
		    text);
	else
		r = asprintf(&full, "%s: %s", ps->ps_file, text);
	if (r == -1)
		goto nomem;
	free(text);
	ps->ps_nmsgs++;
	m->m_severity = sev;
	m->m_line = line;
	m->m_col = col;
	m->m_text = full;
	msg_insert(ps, m);
	return;
 nomem:
	free(text);
	free(m);
	ps->ps_nomem = 1;
}

static void
node_vmsg(struct pstate *ps, int sev, struct ynode *n, const char *fmt,
    va_list ap)
{
	char	*text;

	if (vasprintf(&text, fmt, ap) == -1) {
		ps->ps_nomem = 1;
		if (sev == CONF_ERR)
			ps->ps_nerrors++;
		return;
	}
	if (ps->ps_path[0] != '\0')
		msg_add(ps, sev, n ? n->yn_line : 0, n ? n->yn_col : 0,
		    "%s: %s", ps->ps_path, text);
	else
		msg_add(ps, sev, n ? n->yn_line : 0, n ? n->yn_col : 0,
		    "%s", text);
	free(text);
}

/* An error about node n, prefixed with the path of the key being read. */
static void
node_err(struct pstate *ps, struct ynode *n, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	node_vmsg(ps, CONF_ERR, n, fmt, ap);
	va_end(ap);
}

static void
node_warn(struct pstate *ps, struct ynode *n, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	node_vmsg(ps, CONF_WARN, n, fmt, ap);
	va_end(ap);
}

/* Path of the key being decoded, for messages: "web.tlsMinVersion". */
static size_t
path_push(struct pstate *ps, const char *fmt, ...)
{
	va_list	ap;
	size_t	old = strlen(ps->ps_path);

	va_start(ap, fmt);
	(void)vsnprintf(ps->ps_path + old, sizeof(ps->ps_path) - old, fmt, ap);
	va_end(ap);
	return (old);
}

static void
path_pop(struct pstate *ps, size_t old)
{
	ps->ps_path[old] = '\0';
}

void
conf_msgs_free(struct conf_msgs *msgs)
{
	struct conf_msg	*m;

	if (msgs == NULL)
		return;
	while ((m = TAILQ_FIRST(msgs)) != NULL) {
		TAILQ_REMOVE(msgs, m, m_entry);
		free(m->m_text);
		free(m);
	}
}

int
conf_msgs_count(struct conf_msgs *msgs, int severity)
{
	struct conf_msg	*m;
	int		 n = 0;

	TAILQ_FOREACH(m, msgs, m_entry)
		if (m->m_severity == severity)
			n++;
	return (n);
}

int
conf_msgs_print(FILE *fp, struct conf_msgs *msgs)
{
	struct conf_msg	*m;
	int		 nerr = 0;

	TAILQ_FOREACH(m, msgs, m_entry) {
		if (m->m_severity == CONF_ERR)
			nerr++;
		fprintf(fp, "%s%s\n", m->m_text,
		    m->m_severity == CONF_WARN ? " (warning)" : "");
	}
	return (nerr);
}

/*
 * Small helpers.
 */

static void
strv_free(struct conf_strv *sv)
{
	size_t	i;

	for (i = 0; i < sv->sv_n; i++)
		free(sv->sv_v[i]);
	free(sv->sv_v);
	sv->sv_v = NULL;
	sv->sv_n = 0;
}

static int
strv_add(struct conf_strv *sv, const char *s)
{
	char	**v;

	if ((v = reallocarray(sv->sv_v, sv->sv_n + 1, sizeof(*v))) == NULL)
		return (-1);
	sv->sv_v = v;
	if ((v[sv->sv_n] = strdup(s)) == NULL)
		return (-1);
	sv->sv_n++;
	return (0);
}

static void
str_freezero(char *s)
{
	if (s != NULL)
		freezero(s, strlen(s));
}

/* Replace *dst by a copy of src. */
static int
str_set(char **dst, const char *src)
{
	char	*s = NULL;

	if (src != NULL && (s = strdup(src)) == NULL)
		return (-1);
	free(*dst);
	*dst = s;
	return (0);
}

/*
 * Go's strconv.FormatFloat(f, 'g', -1, 32), which ghodss/yaml uses to
 * turn a YAML float into a string field: the shortest digits that read
 * back as the same float32, in %e form when the exponent is below -4 or
 * at least 6 (Go's "shortest" threshold, not C's).
 */
static void
fmt_go_float32(double d, char *buf, size_t len)
{
	float	 f = (float)d;
	char	 tmp[64], *e;
	int	 prec, exp10;

	if (isnan(f)) {
		(void)strlcpy(buf, "NaN", len);
		return;
	}
	if (isinf(f)) {
		(void)strlcpy(buf, f > 0 ? "+Inf" : "-Inf", len);
		return;
	}
	for (prec = 1; prec < 10; prec++) {
		(void)snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, (double)f);
		if (strtof(tmp, NULL) == f)
			break;
	}
	if ((e = strchr(tmp, 'e')) == NULL) {
		(void)strlcpy(buf, tmp, len);
		return;
	}
	exp10 = atoi(e + 1);
	if (exp10 < -4 || exp10 >= 6) {
		(void)strlcpy(buf, tmp, len);
		return;
	}
	(void)snprintf(buf, len, "%.*f",
	    prec - 1 - exp10 > 0 ? prec - 1 - exp10 : 0, (double)f);
}

/*
 * Go durations (time.ParseDuration): [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+,
 * units ns us µs μs ms s m h, and a bare "0".  Overflow of the int64
 * nanosecond count is an error as in Go.
 */
int
conf_parse_duration_ns(const char *s, int64_t *out)
{
	static const struct {
		const char	*u;
		uint64_t	 ns;
	} units[] = {
		{ "ns", 1ULL },
		{ "us", 1000ULL },
		{ "\xc2\xb5s", 1000ULL },	/* U+00B5 micro sign */
		{ "\xce\xbcs", 1000ULL },	/* U+03BC greek mu */
		{ "ms", 1000000ULL },
		{ "s", 1000000000ULL },
		{ "m", 60ULL * 1000000000ULL },
		{ "h", 3600ULL * 1000000000ULL }
	};
	const uint64_t	 lim = 1ULL << 63;
	uint64_t	 d = 0, v, f, unit;
	double		 scale;
	size_t		 i, ulen;
	int		 neg = 0, pre, post, found;

	if (s == NULL)
		return (-1);
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return (0);
	}
	if (*s == '\0')
		return (-1);
	while (*s != '\0') {
		v = f = 0;
		scale = 1;
		if (!(*s == '.' || (*s >= '0' && *s <= '9')))
			return (-1);
		pre = 0;
		while (*s >= '0' && *s <= '9') {
			if (v > lim / 10)
				return (-1);
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > lim)
				return (-1);
			s++;
			pre = 1;
		}
		post = 0;
		if (*s == '.') {
			int	overflow = 0;

			s++;
			while (*s >= '0' && *s <= '9') {
				post = 1;
				if (!overflow) {
					if (f > (lim - 1) / 10) {
						overflow = 1;
					} else {
						f = f * 10 +
						    (uint64_t)(*s - '0');
						scale *= 10;
					}
				}
				s++;
			}
		}
		if (!pre && !post)
			return (-1);
		ulen = 0;
		while (s[ulen] != '\0' && s[ulen] != '.' &&
		    !(s[ulen] >= '0' && s[ulen] <= '9'))
			ulen++;
		if (ulen == 0)
			return (-1);		/* missing unit */
		found = 0;
		unit = 0;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (strlen(units[i].u) == ulen &&
			    strncmp(units[i].u, s, ulen) == 0) {
				unit = units[i].ns;
				found = 1;
				break;
			}
		}
		if (!found)
			return (-1);		/* unknown unit, e.g. "d" */
		s += ulen;
		if (v > lim / unit)
			return (-1);
		v *= unit;
		if (f > 0) {
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > lim)
				return (-1);
		}
		d += v;
		if (d > lim)
			return (-1);
	}
	if (neg) {
		*out = d == lim ? INT64_MIN : -(int64_t)d;
		return (0);
	}
	if (d > lim - 1)
		return (-1);
	*out = (int64_t)d;
	return (0);
}

int
conf_parse_duration(const char *s, int64_t *msec)
{
	int64_t	ns;

	if (conf_parse_duration_ns(s, &ns) == -1)
		return (-1);
	/* Truncated toward zero, as Go's Duration.Milliseconds(). */
	*msec = ns / 1000000;
	return (0);
}

/* Go's os.ExpandEnv: $VAR, ${VAR}, special one-character names. */
static int
shell_special(int c)
{
	return (c == '*' || c == '#' || c == '$' || c == '@' || c == '!' ||
	    c == '?' || c == '-' || (c >= '0' && c <= '9'));
}

static int
shell_alnum(int c)
{
	return (c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'));
}

static int
buf_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	char	*nb;
	size_t	 ncap;

	if (*len + n + 1 > *cap) {
		ncap = (*len + n + 1) * 2;
		if ((nb = realloc(*buf, ncap)) == NULL)
			return (-1);
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return (0);
}

int
conf_expand_env(const char *s, char **out)
{
	char		*buf = NULL, *name;
	const char	*val, *r;
	size_t		 len = 0, cap = 0, i = 0, j, w, nlen, slen;

	slen = strlen(s);
	if (buf_append(&buf, &len, &cap, "", 0) == -1)
		return (-1);
	for (j = 0; j < slen; j++) {
		if (s[j] != '$' || j + 1 >= slen)
			continue;
		if (buf_append(&buf, &len, &cap, s + i, j - i) == -1)
			goto fail;
		r = s + j + 1;
		name = NULL;
		nlen = 0;
		w = 0;
		if (r[0] == '{') {
			if (slen - j - 1 > 2 &&
			    shell_special((unsigned char)r[1]) && r[2] == '}') {
				name = (char *)r + 1;
				nlen = 1;
				w = 3;
			} else {
				for (w = 1; r[w] != '\0' && r[w] != '}'; w++)
					;
				if (r[w] == '\0')
					w = 1;		/* bad: eat "${" */
				else if (w == 1)
					w = 2;		/* bad: eat "${}" */
				else {
					name = (char *)r + 1;
					nlen = w - 1;
					w++;
				}
			}
		} else if (shell_special((unsigned char)r[0])) {
			name = (char *)r;
			nlen = 1;
			w = 1;
		} else {
			for (w = 0; shell_alnum((unsigned char)r[w]); w++)
				;
			if (w > 0) {
				name = (char *)r;
				nlen = w;
			}
		}
		if (name == NULL && w == 0) {
			/* "$" not followed by a name stays. */
			if (buf_append(&buf, &len, &cap, "$", 1) == -1)
				goto fail;
		} else if (name != NULL) {
			char	*n;

			if ((n = strndup(name, nlen)) == NULL)
				goto fail;
			val = getenv(n);
			free(n);
			if (val != NULL && buf_append(&buf, &len, &cap, val,
			    strlen(val)) == -1)
				goto fail;
		}
		j += w;
		i = j + 1;
	}
	if (i < slen && buf_append(&buf, &len, &cap, s + i, slen - i) == -1)
		goto fail;
	*out = buf;
	return (0);
 fail:
	free(buf);
	return (-1);
}

/* strconv.ParseBool */
static int
go_parse_bool(const char *s, int *b)
{
	static const char *t[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *f[] = { "0", "f", "F", "FALSE", "false", "False" };
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(s, t[i]) == 0) {
			*b = 1;
			return (0);
		}
		if (strcmp(s, f[i]) == 0) {
			*b = 0;
			return (0);
		}
	}
	return (-1);
}

/*
 * What golang.org/x/crypto/bcrypt.Cost() accepts: at least 59 bytes,
 * "$", a major version not above 2, an optional minor letter, "$", two
 * digits of cost in 4..31.
 */
int
conf_bcrypt_valid(const char *h)
{
	size_t	n = 3;
	int	cost;

	if (strlen(h) < 59 || h[0] != '$' || h[1] > '2')
		return (0);
	if (h[2] != '$')
		n++;
	if (!isdigit((unsigned char)h[n]) || !isdigit((unsigned char)h[n + 1]))
		return (0);
	cost = (h[n] - '0') * 10 + (h[n + 1] - '0');
	if (cost < 4 || cost > 31)
		return (0);
	return (1);
}

/* Standard base64 with padding (Go's base64.StdEncoding), strict. */
static int
b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '+')
		return (62);
	if (c == '/')
		return (63);
	return (-1);
}

static char *
b64_decode_str(const char *s)
{
	size_t	 len = strlen(s), i, o = 0;
	char	*out;
	int	 v[4], k, pad;

	if (len == 0 || len % 4 != 0)
		return (NULL);
	if ((out = malloc(len / 4 * 3 + 1)) == NULL)
		return (NULL);
	for (i = 0; i < len; i += 4) {
		pad = 0;
		for (k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (pad > 0 ||
			    (v[k] = b64_val((unsigned char)s[i + k])) == -1)
				goto bad;
		}
		out[o++] = (char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (char)((v[1] & 0xf) << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (char)((v[2] & 0x3) << 6 | v[3]);
	}
	out[o] = '\0';
	if (strlen(out) != o)
		goto bad;
	return (out);
 bad:
	freezero(out, len / 4 * 3 + 1);
	return (NULL);
}

/*
 * YAML 1.1 scalar resolution as go-yaml v2 does it for plain scalars.
 */

static int
resolve_in_map(const char *s, struct ynode *n)
{
	static const char *yes[] = { "y", "Y", "yes", "Yes", "YES", "true",
	    "True", "TRUE", "on", "On", "ON" };
	static const char *no[] = { "n", "N", "no", "No", "NO", "false",
	    "False", "FALSE", "off", "Off", "OFF" };
	static const char *null[] = { "", "~", "null", "Null", "NULL" };
	static const char *inf[] = { ".inf", ".Inf", ".INF", "+.inf",
	    "+.Inf", "+.INF" };
	static const char *ninf[] = { "-.inf", "-.Inf", "-.INF" };
	static const char *nan[] = { ".nan", ".NaN", ".NAN" };
	size_t	i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			n->yn_kind = YN_BOOL;
			n->yn_bool = 1;
			return (1);
		}
		if (strcmp(s, no[i]) == 0) {
			n->yn_kind = YN_BOOL;
			n->yn_bool = 0;
			return (1);
		}
	}
	for (i = 0; i < sizeof(null) / sizeof(null[0]); i++)
		if (strcmp(s, null[i]) == 0) {
			n->yn_kind = YN_NULL;
			return (1);
		}
	for (i = 0; i < sizeof(inf) / sizeof(inf[0]); i++)
		if (strcmp(s, inf[i]) == 0) {
			n->yn_kind = YN_FLOAT;
			n->yn_dbl = INFINITY;
			return (1);
		}
	for (i = 0; i < 3; i++) {
		if (strcmp(s, ninf[i]) == 0) {
			n->yn_kind = YN_FLOAT;
			n->yn_dbl = -INFINITY;
			return (1);
		}
		if (strcmp(s, nan[i]) == 0) {
			n->yn_kind = YN_FLOAT;
			n->yn_dbl = NAN;
			return (1);
		}
	}
	return (0);
}

/* strconv.ParseUint(s, 0, 64) without the sign. */
static int
go_parse_uint(const char *s, uint64_t *out)
{
	uint64_t	v = 0, d;
	int		base = 10;

	if (*s == '\0')
		return (-1);
	if (s[0] == '0') {
		if (strlen(s) >= 3 && (s[1] == 'b' || s[1] == 'B')) {
			base = 2;
			s += 2;
		} else if (strlen(s) >= 3 && (s[1] == 'o' || s[1] == 'O')) {
			base = 8;
			s += 2;
		} else if (strlen(s) >= 3 && (s[1] == 'x' || s[1] == 'X')) {
			base = 16;
			s += 2;
		} else {
			base = 8;
			s++;
		}
	}
	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9')
			d = (uint64_t)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (uint64_t)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (uint64_t)(*s - 'A' + 10);
		else
			return (-1);
		if (d >= (uint64_t)base)
			return (-1);
		if (v > (UINT64_MAX - d) / (uint64_t)base)
			return (-1);
		v = v * (uint64_t)base + d;
	}
	*out = v;
	return (0);
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static int
yaml_style_float(const char *s)
{
	int	digits = 0;

	if (*s == '-' || *s == '+')
		s++;
	if (*s == '.') {
		s++;
		while (isdigit((unsigned char)*s)) {
			s++;
			digits++;
		}
		if (digits == 0)
			return (0);
	} else {
		while (isdigit((unsigned char)*s)) {
			s++;
			digits++;
		}
		if (digits == 0)
			return (0);
		if (*s == '.') {
			s++;
			while (isdigit((unsigned char)*s))
				s++;
		}
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		digits = 0;
		while (isdigit((unsigned char)*s)) {
			s++;
			digits++;
		}
		if (digits == 0)
			return (0);
	}
	return (*s == '\0');
}

static void
resolve_plain(struct ynode *n)
{
	const char	*s = n->yn_str;
	char		*plain, *p, *end;
	uint64_t	 u;
	double		 d;
	int		 neg = 0;

	n->yn_kind = YN_STR;
	if (resolve_in_map(s, n))
		return;
	if (s[0] == '.') {
		/* Not in the map: maybe a float such as .5 */
		if (yaml_style_float(s)) {
			errno = 0;
			d = strtod(s, &end);
			if (errno == 0 && *end == '\0') {
				n->yn_kind = YN_FLOAT;
				n->yn_dbl = d;
			}
		}
		return;
	}
	if (!(isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+'))
		return;
	/* go-yaml drops every '_' before trying numbers. */
	if ((plain = strdup(s)) == NULL)
		return;
	for (p = end = plain; *p != '\0'; p++)
		if (*p != '_')
			*end++ = *p;
	*end = '\0';
	p = plain;
	if (*p == '-' || *p == '+') {
		neg = *p == '-';
		p++;
	}
	if (go_parse_uint(p, &u) == 0) {
		if (neg && u <= (1ULL << 63)) {
			n->yn_kind = YN_INT;
			n->yn_int = u == (1ULL << 63) ? INT64_MIN : -(int64_t)u;
			goto done;
		} else if (!neg && u <= INT64_MAX) {
			n->yn_kind = YN_INT;
			n->yn_int = (int64_t)u;
			goto done;
		} else if (!neg && plain[0] != '+') {
			n->yn_kind = YN_INT;
			n->yn_isuint = 1;
			n->yn_uint = u;
			goto done;
		}
	}
	if (yaml_style_float(plain)) {
		errno = 0;
		d = strtod(plain, &end);
		if (errno == 0 && *end == '\0') {
			n->yn_kind = YN_FLOAT;
			n->yn_dbl = d;
		}
	}
 done:
	free(plain);
}

/*
 * The tree builder, over libyaml events.
 */

static struct ynode *
ynode_new(struct pstate *ps, enum ykind kind, int line, int col)
{
	struct ynode	*n;

	if (++ps->ps_nodes > CONF_MAX_NODES) {
		if (ps->ps_nodes == CONF_MAX_NODES + 1)
			msg_add(ps, CONF_ERR, line, col, "more than %d YAML "
			    "nodes (after aliases are expanded)",
			    CONF_MAX_NODES);
		return (NULL);
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		ps->ps_nomem = 1;
		return (NULL);
	}
	n->yn_kind = kind;
	n->yn_line = line;
	n->yn_col = col;
	return (n);
}

static void
ynode_free(struct ynode *n)
{
	size_t	i;

	if (n == NULL)
		return;
	for (i = 0; i < n->yn_nkids; i++)
		ynode_free(n->yn_kids[i]);
	free(n->yn_kids);
	str_freezero(n->yn_str);
	free(n);
}

static int
ynode_append(struct pstate *ps, struct ynode *p, struct ynode *kid)
{
	struct ynode	**k;

	if ((k = reallocarray(p->yn_kids, p->yn_nkids + 1,
	    sizeof(*k))) == NULL) {
		ps->ps_nomem = 1;
		return (-1);
	}
	p->yn_kids = k;
	k[p->yn_nkids++] = kid;
	return (0);
}

static struct ynode *
ynode_copy(struct pstate *ps, struct ynode *src, int line, int col,
    int depth)
{
	struct ynode	*n, *k;
	size_t		 i;

	if (depth > CONF_MAX_DEPTH) {
		msg_add(ps, CONF_ERR, line, col, "nesting deeper than %d "
		    "levels", CONF_MAX_DEPTH);
		return (NULL);
	}
	if ((n = ynode_new(ps, src->yn_kind, line, col)) == NULL)
		return (NULL);
	n->yn_merged = src->yn_merged;
	n->yn_bool = src->yn_bool;
	n->yn_isuint = src->yn_isuint;
	n->yn_int = src->yn_int;
	n->yn_uint = src->yn_uint;
	n->yn_dbl = src->yn_dbl;
	if (src->yn_str != NULL && (n->yn_str = strdup(src->yn_str)) == NULL) {
		ps->ps_nomem = 1;
		goto fail;
	}
	for (i = 0; i < src->yn_nkids; i++) {
		/*
		 * Copies keep the alias's position: a message then points
		 * at the place that used the value.
		 */
		if ((k = ynode_copy(ps, src->yn_kids[i], line, col,
		    depth + 1)) == NULL)
			goto fail;
		if (ynode_append(ps, n, k) == -1) {
			ynode_free(k);
			goto fail;
		}
	}
	return (n);
 fail:
	ynode_free(n);
	return (NULL);
}

static int
yaml_next(struct pstate *ps, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&ps->ps_parser, ev)) {
		yaml_parser_t	*p = &ps->ps_parser;

		if (p->error == YAML_MEMORY_ERROR) {
			ps->ps_nomem = 1;
			msg_add(ps, CONF_ERR, 0, 0, "out of memory");
		} else if (p->context != NULL)
			msg_add(ps, CONF_ERR, (int)p->problem_mark.line + 1,
			    (int)p->problem_mark.column + 1,
			    "YAML syntax error: %s %s",
			    p->problem ? p->problem : "error", p->context);
		else
			msg_add(ps, CONF_ERR, (int)p->problem_mark.line + 1,
			    (int)p->problem_mark.column + 1,
			    "YAML syntax error: %s",
			    p->problem ? p->problem : "error");
		return (-1);
	}
	return (0);
}

/* ghodss/yaml: map keys become JSON object names. */
static int
key_to_string(struct pstate *ps, struct ynode *k)
{
	char	 buf[64];

	switch (k->yn_kind) {
	case YN_STR:
		return (0);
	case YN_BOOL:
		(void)strlcpy(buf, k->yn_bool ? "true" : "false", sizeof(buf));
		break;
	case YN_INT:
		if (k->yn_isuint)
			(void)snprintf(buf, sizeof(buf), "%llu",
			    (unsigned long long)k->yn_uint);
		else
			(void)snprintf(buf, sizeof(buf), "%lld",
			    (long long)k->yn_int);
		break;
	case YN_FLOAT:
		fmt_go_float32(k->yn_dbl, buf, sizeof(buf));
		if (strcmp(buf, "+Inf") == 0)
			(void)strlcpy(buf, ".inf", sizeof(buf));
		else if (strcmp(buf, "-Inf") == 0)
			(void)strlcpy(buf, "-.inf", sizeof(buf));
		else if (strcmp(buf, "NaN") == 0)
			(void)strlcpy(buf, ".nan", sizeof(buf));
		break;
	default:
		msg_add(ps, CONF_ERR, k->yn_line, k->yn_col,
		    "unsupported map key: %s", kindname[k->yn_kind]);
		return (-1);
	}
	if (str_set(&k->yn_str, buf) == -1) {
		ps->ps_nomem = 1;
		return (-1);
	}
	k->yn_kind = YN_STR;
	return (0);
}

static struct ynode	*build_node(struct pstate *, yaml_event_t *, int);

/* A "<<" key: copy the pairs of the map (or list of maps) in place. */
static int
merge_into(struct pstate *ps, struct ynode *map, struct ynode *val, int depth)
{
	struct ynode	*src, *k, *v;
	size_t		 i, j, nsrc;

	if (val->yn_kind == YN_MAP)
		nsrc = 1;
	else if (val->yn_kind == YN_SEQ)
		nsrc = val->yn_nkids;
	else {
		msg_add(ps, CONF_ERR, val->yn_line, val->yn_col,
		    "map merge requires a mapping or a list of mappings");
		return (-1);
	}
	/* In a list, the earlier maps win: add them last. */
	for (j = nsrc; j-- > 0;) {
		src = val->yn_kind == YN_MAP ? val : val->yn_kids[j];
		if (src->yn_kind != YN_MAP) {
			msg_add(ps, CONF_ERR, src->yn_line, src->yn_col,
			    "map merge requires a mapping or a list of "
			    "mappings");
			return (-1);
		}
		for (i = 0; i + 1 < src->yn_nkids; i += 2) {
			k = ynode_copy(ps, src->yn_kids[i],
			    src->yn_kids[i]->yn_line, src->yn_kids[i]->yn_col,
			    depth + 1);
			if (k == NULL)
				return (-1);
			k->yn_merged = 1;
			v = ynode_copy(ps, src->yn_kids[i + 1],
			    src->yn_kids[i + 1]->yn_line,
			    src->yn_kids[i + 1]->yn_col, depth + 1);
			if (v == NULL || ynode_append(ps, map, k) == -1) {
				ynode_free(k);
				ynode_free(v);
				return (-1);
			}
			if (ynode_append(ps, map, v) == -1) {
				ynode_free(v);
				return (-1);
			}
		}
	}
	return (0);
}

static int
build_collection(struct pstate *ps, struct ynode *n, int ismap, int depth)
{
	yaml_event_t	 ev;
	struct ynode	*k = NULL, *v;
	int		 endtype, merge;

	endtype = ismap ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
	for (;;) {
		if (yaml_next(ps, &ev) == -1)
			return (-1);
		if ((int)ev.type == endtype) {
			yaml_event_delete(&ev);
			return (0);
		}
		merge = ismap && ev.type == YAML_SCALAR_EVENT &&
		    ev.data.scalar.tag == NULL &&
		    ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    strcmp((char *)ev.data.scalar.value, "<<") == 0;
		v = build_node(ps, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (v == NULL)
			return (-1);
		if (!ismap) {
			if (ynode_append(ps, n, v) == -1) {
				ynode_free(v);
				return (-1);
			}
			continue;
		}
		k = v;
		if (key_to_string(ps, k) == -1) {
			ynode_free(k);
			return (-1);
		}
		if (yaml_next(ps, &ev) == -1) {
			ynode_free(k);
			return (-1);
		}
		v = build_node(ps, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (v == NULL) {
			ynode_free(k);
			return (-1);
		}
		if (merge) {
			/*
			 * An anchor may name the merged value: keep it alive
			 * until the tree goes.
			 */
			if (ynode_append(ps, ps->ps_keep, k) == -1) {
				ynode_free(k);
				ynode_free(v);
				return (-1);
			}
			if (ynode_append(ps, ps->ps_keep, v) == -1) {
				ynode_free(v);
				return (-1);
			}
			if (merge_into(ps, n, v, depth) == -1)
				return (-1);
			continue;
		}
		if (ynode_append(ps, n, k) == -1) {
			ynode_free(k);
			ynode_free(v);
			return (-1);
		}
		if (ynode_append(ps, n, v) == -1) {
			ynode_free(v);
			return (-1);
		}
	}
}

static struct ynode *
build_node(struct pstate *ps, yaml_event_t *ev, int depth)
{
	struct ynode	*n = NULL;
	struct anchor	*a;
	const char	*anchor = NULL;
	int		 line, col;
	size_t		 i;

	line = (int)ev->start_mark.line + 1;
	col = (int)ev->start_mark.column + 1;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.length > CONF_MAX_STRLEN) {
			msg_add(ps, CONF_ERR, line, col, "string longer than "
			    "%d bytes", CONF_MAX_STRLEN);
			return (NULL);
		}
		if (strlen((char *)ev->data.scalar.value) !=
		    ev->data.scalar.length) {
			msg_add(ps, CONF_ERR, line, col, "string holds a NUL "
			    "byte");
			return (NULL);
		}
		if ((n = ynode_new(ps, YN_STR, line, col)) == NULL)
			return (NULL);
		if ((n->yn_str = strdup((char *)ev->data.scalar.value)) ==
		    NULL) {
			ps->ps_nomem = 1;
			ynode_free(n);
			return (NULL);
		}
		/*
		 * Only untagged plain scalars are resolved; quoted ones and
		 * !!str are strings.  Other explicit tags resolve as plain.
		 */
		if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    (ev->data.scalar.tag == NULL || strcmp((char *)
		    ev->data.scalar.tag, YAML_STR_TAG) != 0))
			resolve_plain(n);
		else if (ev->data.scalar.tag != NULL && strcmp((char *)
		    ev->data.scalar.tag, YAML_NULL_TAG) == 0)
			n->yn_kind = YN_NULL;
		anchor = (char *)ev->data.scalar.anchor;
		break;
	case YAML_ALIAS_EVENT:
		for (i = ps->ps_nanchors; i-- > 0;) {
			a = &ps->ps_anchors[i];
			if (strcmp(a->a_name,
			    (char *)ev->data.alias.anchor) == 0)
				return (ynode_copy(ps, a->a_node, line, col,
				    depth));
		}
		msg_add(ps, CONF_ERR, line, col, "unknown anchor \"%s\"",
		    (char *)ev->data.alias.anchor);
		return (NULL);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (depth >= CONF_MAX_DEPTH) {
			msg_add(ps, CONF_ERR, line, col, "nesting deeper than "
			    "%d levels", CONF_MAX_DEPTH);
			return (NULL);
		}
		if ((n = ynode_new(ps, ev->type == YAML_MAPPING_START_EVENT ?
		    YN_MAP : YN_SEQ, line, col)) == NULL)
			return (NULL);
		if (ev->type == YAML_MAPPING_START_EVENT)
			anchor = (char *)ev->data.mapping_start.anchor;
		else
			anchor = (char *)ev->data.sequence_start.anchor;
		if (build_collection(ps, n,
		    ev->type == YAML_MAPPING_START_EVENT, depth) == -1) {
			ynode_free(n);
			return (NULL);
		}
		break;
	default:
		msg_add(ps, CONF_ERR, line, col, "unexpected YAML event");
		return (NULL);
	}
	if (anchor != NULL) {
		a = reallocarray(ps->ps_anchors, ps->ps_nanchors + 1,
		    sizeof(*a));
		if (a == NULL) {
			ps->ps_nomem = 1;
			ynode_free(n);
			return (NULL);
		}
		ps->ps_anchors = a;
		a[ps->ps_nanchors].a_node = n;
		if ((a[ps->ps_nanchors].a_name = strdup(anchor)) == NULL) {
			ps->ps_nomem = 1;
			ynode_free(n);
			return (NULL);
		}
		ps->ps_nanchors++;
	}
	return (n);
}

/*
 * Parse the first document of buf into a tree.  *root is NULL for an
 * empty stream.  Returns -1 on a syntax error (already reported).
 */
static int
build_tree(struct pstate *ps, const char *buf, size_t len,
    struct ynode **root)
{
	yaml_event_t	 ev;
	int		 ret = -1;

	*root = NULL;
	if (!yaml_parser_initialize(&ps->ps_parser)) {
		ps->ps_nomem = 1;
		return (-1);
	}
	yaml_parser_set_input_string(&ps->ps_parser,
	    (const unsigned char *)buf, len);
	for (;;) {
		if (yaml_next(ps, &ev) == -1)
			break;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			ret = 0;
			break;
		}
		if (ev.type == YAML_STREAM_START_EVENT ||
		    ev.type == YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		/* The root node; later documents are not read (go-yaml). */
		*root = build_node(ps, &ev, 0);
		yaml_event_delete(&ev);
		if (*root != NULL)
			ret = 0;
		break;
	}
	yaml_parser_delete(&ps->ps_parser);
	return (ret);
}

/*
 * Typed readers of one value.  Each returns 1 when it stored a value, 0
 * for a YAML null (encoding/json leaves the field alone) and -1 after
 * reporting an error.
 */

static int
get_string(struct pstate *ps, struct ynode *n, char **out)
{
	char	buf[64];

	switch (n->yn_kind) {
	case YN_NULL:
		return (0);
	case YN_STR:
		if (str_set(out, n->yn_str) == -1)
			goto nomem;
		return (1);
	case YN_BOOL:
	case YN_INT:
	case YN_FLOAT:
		if (!ps->ps_coerce)
			break;
		/* ghodss/yaml: a number or boolean into a string field */
		if (n->yn_kind == YN_BOOL)
			(void)strlcpy(buf, n->yn_bool ? "true" : "false",
			    sizeof(buf));
		else if (n->yn_kind == YN_FLOAT)
			fmt_go_float32(n->yn_dbl, buf, sizeof(buf));
		else if (n->yn_isuint)
			(void)snprintf(buf, sizeof(buf), "%llu",
			    (unsigned long long)n->yn_uint);
		else
			(void)snprintf(buf, sizeof(buf), "%lld",
			    (long long)n->yn_int);
		if (str_set(out, buf) == -1)
			goto nomem;
		return (1);
	default:
		break;
	}
	node_err(ps, n, "expected a string, got %s", kindname[n->yn_kind]);
	return (-1);
 nomem:
	ps->ps_nomem = 1;
	return (-1);
}

static int
get_bool(struct pstate *ps, struct ynode *n, int *out)
{
	if (n->yn_kind == YN_NULL)
		return (0);
	if (n->yn_kind == YN_BOOL) {
		*out = n->yn_bool;
		return (1);
	}
	node_err(ps, n, "expected a boolean (true or false), got %s",
	    kindname[n->yn_kind]);
	return (-1);
}

static int
get_int(struct pstate *ps, struct ynode *n, long long min, long long max,
    long long *out)
{
	long long	v;

	if (n->yn_kind == YN_NULL)
		return (0);
	if (n->yn_kind == YN_INT && !n->yn_isuint)
		v = n->yn_int;
	else if (n->yn_kind == YN_FLOAT && n->yn_dbl == floor(n->yn_dbl) &&
	    fabs(n->yn_dbl) < 9e15)
		v = (long long)n->yn_dbl;	/* JSON has no integer type */
	else if (n->yn_kind == YN_INT || n->yn_kind == YN_FLOAT) {
		node_err(ps, n, "number out of range %lld..%lld", min, max);
		return (-1);
	} else {
		node_err(ps, n, "expected a number, got %s",
		    kindname[n->yn_kind]);
		return (-1);
	}
	if (v < min || v > max) {
		node_err(ps, n, "number out of range %lld..%lld", min, max);
		return (-1);
	}
	*out = v;
	return (1);
}

static int
get_duration(struct pstate *ps, struct ynode *n, long long min,
    int64_t *out)
{
	char	*s = NULL;
	int64_t	 ms;
	int	 r;

	if ((r = get_string(ps, n, &s)) != 1)
		return (r);
	if (conf_parse_duration(s, &ms) == -1) {
		node_err(ps, n, "invalid duration \"%s\" (a Go duration such "
		    "as 300ms, 10m, 24h or 1h30m; there is no \"d\" unit)",
		    s);
		free(s);
		return (-1);
	}
	free(s);
	if (ms < min) {
		node_err(ps, n, "duration must be %s", min > 0 ?
		    "positive" : "zero or positive");
		return (-1);
	}
	*out = ms;
	return (1);
}

static int
get_strv(struct pstate *ps, struct ynode *n, struct conf_strv *sv)
{
	struct conf_strv	 nsv = { NULL, 0 };
	char			*s;
	size_t			 i, old;
	int			 r;

	if (n->yn_kind == YN_NULL)
		return (0);
	if (n->yn_kind != YN_SEQ) {
		node_err(ps, n, "expected a list of strings, got %s",
		    kindname[n->yn_kind]);
		return (-1);
	}
	if (n->yn_nkids > CONF_MAX_LIST) {
		node_err(ps, n, "more than %d items", CONF_MAX_LIST);
		return (-1);
	}
	for (i = 0; i < n->yn_nkids; i++) {
		s = NULL;
		old = path_push(ps, "[%zu]", i);
		r = get_string(ps, n->yn_kids[i], &s);
		path_pop(ps, old);
		if (r == -1)
			goto fail;
		/* encoding/json: null in a []string is "" */
		if (strv_add(&nsv, s == NULL ? "" : s) == -1) {
			free(s);
			ps->ps_nomem = 1;
			goto fail;
		}
		free(s);
	}
	strv_free(sv);
	*sv = nsv;
	return (1);
 fail:
	strv_free(&nsv);
	return (-1);
}

/* A YAML node as JSON, for connector and storage configs. */
static json_t *
node_to_json(struct pstate *ps, struct ynode *n)
{
	json_t	*j, *v;
	size_t	 i;

	switch (n->yn_kind) {
	case YN_NULL:
		return (json_null());
	case YN_BOOL:
		return (json_boolean(n->yn_bool));
	case YN_INT:
		if (n->yn_isuint)
			return (json_real((double)n->yn_uint));
		return (json_integer(n->yn_int));
	case YN_FLOAT:
		if (isnan(n->yn_dbl) || isinf(n->yn_dbl)) {
			node_err(ps, n, "infinity and NaN have no JSON form");
			return (NULL);
		}
		return (json_real(n->yn_dbl));
	case YN_STR:
		return (json_string(n->yn_str));
	case YN_SEQ:
		if ((j = json_array()) == NULL)
			return (NULL);
		for (i = 0; i < n->yn_nkids; i++) {
			if ((v = node_to_json(ps, n->yn_kids[i])) == NULL ||
			    json_array_append_new(j, v) == -1) {
				json_decref(j);
				return (NULL);
			}
		}
		return (j);
	case YN_MAP:
		if ((j = json_object()) == NULL)
			return (NULL);
		for (i = 0; i + 1 < n->yn_nkids; i += 2) {
			if ((v = node_to_json(ps, n->yn_kids[i + 1])) == NULL ||
			    json_object_set_new(j, n->yn_kids[i]->yn_str,
			    v) == -1) {
				json_decref(j);
				return (NULL);
			}
		}
		return (j);
	}
	return (NULL);
}

/* Overwrite the strings of a JSON value before it is released. */
static void
json_scrub(json_t *j)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	if (j == NULL)
		return;
	if (json_is_string(j))
		explicit_bzero((char *)json_string_value(j),
		    json_string_length(j));
	else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			json_scrub(v);
	} else if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			json_scrub(v);
	}
}

static void
json_free_secret(json_t *j)
{
	if (j != NULL && j->refcount == 1)
		json_scrub(j);
	json_decref(j);
}

/*
 * os.ExpandEnv over every string value below n (keys are left alone),
 * as Dex's expandEnvInMap does for storage, connector and signer configs.
 */
static int
expand_tree(struct pstate *ps, struct ynode *n)
{
	char	*s;
	size_t	 i;

	if (!ps->ps_expand)
		return (0);
	switch (n->yn_kind) {
	case YN_STR:
		if (strchr(n->yn_str, '$') == NULL)
			return (0);
		if (conf_expand_env(n->yn_str, &s) == -1) {
			ps->ps_nomem = 1;
			return (-1);
		}
		if (strlen(s) > CONF_MAX_STRLEN) {
			freezero(s, strlen(s));
			node_err(ps, n, "string longer than %d bytes after "
			    "environment expansion", CONF_MAX_STRLEN);
			return (-1);
		}
		str_freezero(n->yn_str);
		n->yn_str = s;
		return (0);
	case YN_MAP:
		for (i = 1; i < n->yn_nkids; i += 2)
			if (expand_tree(ps, n->yn_kids[i]) == -1)
				return (-1);
		return (0);
	case YN_SEQ:
		for (i = 0; i < n->yn_nkids; i++)
			if (expand_tree(ps, n->yn_kids[i]) == -1)
				return (-1);
		return (0);
	default:
		return (0);
	}
}

/*
 * The table-driven decoder.  base is the struct the offsets point into;
 * with base NULL the keys are only checked (connector configs).
 */

static int
key_empty(struct ynode *v)
{
	return (v->yn_kind == YN_NULL ||
	    (v->yn_kind == YN_STR && v->yn_str[0] == '\0') ||
	    ((v->yn_kind == YN_SEQ || v->yn_kind == YN_MAP) &&
	    v->yn_nkids == 0));
}

static int
decode_value(struct pstate *ps, struct ynode *v, const struct keydef *k,
    void *base)
{
	void		*dst = base ? (char *)base + k->k_off : NULL;
	char		*s = NULL;
	struct conf_strv sv = { NULL, 0 };
	long long	 ll;
	int64_t		 d;
	int		 b, r = 0, coerce = ps->ps_coerce;
	size_t		 i, old;
	json_t		*j, *js;

	if (k->k_flags & K_NOCOERCE)
		ps->ps_coerce = 0;
	switch (k->k_type) {
	case K_STR:
		if ((r = get_string(ps, v, &s)) == 1 && dst != NULL) {
			str_freezero(*(char **)dst);
			*(char **)dst = s;
			s = NULL;
		}
		str_freezero(s);
		break;
	case K_BOOL:
		if ((r = get_bool(ps, v, &b)) == 1 && dst != NULL)
			*(int *)dst = b;
		break;
	case K_INT:
		if ((r = get_int(ps, v, k->k_min, k->k_max, &ll)) == 1 &&
		    dst != NULL)
			*(int *)dst = (int)ll;
		break;
	case K_U64:
		if ((r = get_int(ps, v, k->k_min, k->k_max, &ll)) == 1 &&
		    dst != NULL)
			*(uint64_t *)dst = (uint64_t)ll;
		break;
	case K_DUR:
		if ((r = get_duration(ps, v, k->k_min, &d)) == 1 &&
		    dst != NULL)
			*(int64_t *)dst = d;
		break;
	case K_STRV:
		if ((r = get_strv(ps, v, &sv)) == 1 && dst != NULL) {
			strv_free((struct conf_strv *)dst);
			*(struct conf_strv *)dst = sv;
		} else
			strv_free(&sv);
		break;
	case K_MAP:
	case K_OBJ:
		if (v->yn_kind == YN_NULL)
			break;
		r = decode_map(ps, v, k->k_sub, k->k_type == K_MAP ? base :
		    NULL, NULL);
		break;
	case K_OBJLIST:
		if (v->yn_kind == YN_NULL)
			break;
		if (v->yn_kind != YN_SEQ) {
			node_err(ps, v, "expected a list, got %s",
			    kindname[v->yn_kind]);
			r = -1;
			break;
		}
		for (i = 0; i < v->yn_nkids; i++) {
			old = path_push(ps, "[%zu]", i);
			if (decode_map(ps, v->yn_kids[i], k->k_sub, NULL,
			    NULL) == -1)
				r = -1;
			path_pop(ps, old);
		}
		break;
	case K_STRMAP:
		if (v->yn_kind == YN_NULL)
			break;
		if (v->yn_kind != YN_MAP) {
			node_err(ps, v, "expected a mapping of strings, got %s",
			    kindname[v->yn_kind]);
			r = -1;
			break;
		}
		if ((j = json_object()) == NULL) {
			ps->ps_nomem = 1;
			r = -1;
			break;
		}
		for (i = 0; i + 1 < v->yn_nkids; i += 2) {
			old = path_push(ps, ".%s", v->yn_kids[i]->yn_str);
			s = NULL;
			if (get_string(ps, v->yn_kids[i + 1], &s) == -1)
				r = -1;
			else if ((js = json_string(s ? s : "")) == NULL ||
			    json_object_set_new(j, v->yn_kids[i]->yn_str,
			    js) == -1)
				ps->ps_nomem = 1;
			free(s);
			s = NULL;
			path_pop(ps, old);
		}
		if (r == -1 || dst == NULL)
			json_decref(j);
		else {
			json_decref(*(json_t **)dst);
			*(json_t **)dst = j;
		}
		break;
	case K_NODE:
		if (dst != NULL)
			*(struct ynode **)dst = v;
		break;
	case K_FUNC:
		r = k->k_fn(ps, v, base, k);
		break;
	case K_ANY:
		break;
	case K_UNSUP:
		node_warn(ps, v, "not supported by oidcd (ignored)");
		break;
	}
	ps->ps_coerce = coerce;
	return (r == -1 ? -1 : 0);
}

static int
decode_map(struct pstate *ps, struct ynode *n, const struct keydef *tab,
    void *base, const char *name)
{
	struct ynode	*key, *seen[KEYS_MAX];
	const struct keydef *k;
	size_t		 i, t, old, oldname = 0;
	int		 ret = 0;

	if (name != NULL)
		oldname = path_push(ps, "%s%s", ps->ps_path[0] ? "." : "",
		    name);
	if (n->yn_kind != YN_MAP) {
		node_err(ps, n, "expected a mapping, got %s",
		    kindname[n->yn_kind]);
		ret = -1;
		goto done;
	}
	memset(seen, 0, sizeof(seen));
	for (i = 0; i + 1 < n->yn_nkids; i += 2) {
		key = n->yn_kids[i];
		for (t = 0; tab[t].k_name != NULL; t++)
			if (strcasecmp(tab[t].k_name, key->yn_str) == 0)
				break;
		k = &tab[t];
		if (k->k_name == NULL) {
			msg_add(ps, CONF_WARN, key->yn_line, key->yn_col,
			    "unknown key \"%s\" %s%s (ignored)", key->yn_str,
			    ps->ps_path[0] ? "in " : "at top level",
			    ps->ps_path);
			continue;
		}
		if (t < KEYS_MAX && seen[t] != NULL && !key->yn_merged &&
		    !seen[t]->yn_merged)
			msg_add(ps, CONF_WARN, key->yn_line, key->yn_col,
			    "duplicate key \"%s\"%s%s; the last one is used",
			    key->yn_str, ps->ps_path[0] ? " in " : "",
			    ps->ps_path);
		if (t < KEYS_MAX)
			seen[t] = key;
		old = path_push(ps, "%s%s", ps->ps_path[0] ? "." : "",
		    k->k_name);
		if (decode_value(ps, n->yn_kids[i + 1], k, base) == -1)
			ret = -1;
		path_pop(ps, old);
	}
	for (t = 0; tab[t].k_name != NULL && t < KEYS_MAX; t++) {
		if (!(tab[t].k_flags & K_REQ))
			continue;
		if (seen[t] == NULL) {
			node_err(ps, n, "missing required key \"%s\"",
			    tab[t].k_name);
			ret = -1;
			continue;
		}
		/* seen[t] is the key; its value follows it */
		for (i = 0; i + 1 < n->yn_nkids; i += 2)
			if (n->yn_kids[i] == seen[t])
				break;
		if (i + 1 < n->yn_nkids && key_empty(n->yn_kids[i + 1])) {
			old = path_push(ps, "%s%s", ps->ps_path[0] ? "." : "",
			    tab[t].k_name);
			node_err(ps, n->yn_kids[i + 1], "must not be empty");
			path_pop(ps, old);
			ret = -1;
		}
	}
 done:
	if (name != NULL)
		path_pop(ps, oldname);
	return (ret);
}

/* Find a key's value node in a map, case-insensitively; last one wins. */
static struct ynode *
map_get(struct ynode *n, const char *key)
{
	struct ynode	*v = NULL;
	size_t		 i;

	if (n == NULL || n->yn_kind != YN_MAP)
		return (NULL);
	for (i = 0; i + 1 < n->yn_nkids; i += 2)
		if (strcasecmp(n->yn_kids[i]->yn_str, key) == 0)
			v = n->yn_kids[i + 1];
	return (v);
}

/*
 * Key handlers for values that need more than a type check.
 */

#define OFF(f)		offsetof(struct oidcd_conf, f)
#define CLOFF(f)	offsetof(struct conf_client, f)
#define PWOFF(f)	offsetof(struct conf_password, f)

static int
dec_issuer(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	struct oidcd_conf	*cf = base;
	const char		*p, *auth, *host, *hend, *port;
	char			*s = NULL, *path;
	const char		*errstr;
	size_t			 len;
	int			 r, defport;

	if ((r = get_string(ps, v, &s)) != 1)
		return (r);
	free(cf->cf_issuer);
	cf->cf_issuer = s;
	if (s[0] == '\0')
		return (0);		/* reported as missing later */
	if (strncasecmp(s, "https://", 8) == 0) {
		auth = s + 8;
		defport = 443;
		r = str_set(&cf->cf_issuer_scheme, "https");
	} else if (strncasecmp(s, "http://", 7) == 0) {
		auth = s + 7;
		defport = 80;
		r = str_set(&cf->cf_issuer_scheme, "http");
	} else {
		node_err(ps, v, "must be an absolute http:// or https:// "
		    "URL");
		return (-1);
	}
	if (r == -1)
		goto nomem;
	if (strpbrk(s, "?#") != NULL) {
		node_err(ps, v, "must not have a query or fragment");
		return (-1);
	}
	len = strcspn(auth, "/");
	if (memchr(auth, '@', len) != NULL) {
		node_err(ps, v, "must not hold user information");
		return (-1);
	}
	if (auth[0] == '[') {
		host = auth + 1;
		if ((hend = memchr(auth, ']', len)) == NULL) {
			node_err(ps, v, "bad IPv6 address");
			return (-1);
		}
		port = hend + 1;
	} else {
		host = auth;
		for (hend = auth; hend < auth + len && *hend != ':'; hend++)
			;
		port = hend;
	}
	if (hend == host) {
		node_err(ps, v, "no host");
		return (-1);
	}
	free(cf->cf_issuer_host);
	if ((cf->cf_issuer_host = strndup(host, (size_t)(hend - host))) ==
	    NULL)
		goto nomem;
	cf->cf_issuer_port = defport;
	if (port < auth + len) {
		char	pbuf[8];
		size_t	plen = (size_t)(auth + len - port);

		if (*port != ':' || plen < 2 || plen > 6) {
			node_err(ps, v, "bad port");
			return (-1);
		}
		memcpy(pbuf, port + 1, plen - 1);
		pbuf[plen - 1] = '\0';
		cf->cf_issuer_port = (int)strtonum(pbuf, 1, 65535, &errstr);
		if (errstr != NULL || !isdigit((unsigned char)pbuf[0])) {
			node_err(ps, v, "bad port");
			return (-1);
		}
	}
	p = auth + len;
	if ((path = strdup(p)) == NULL)
		goto nomem;
	/* Routes hang below the path; "/dex/" serves as "/dex". */
	len = strlen(path);
	while (len > 0 && path[len - 1] == '/')
		path[--len] = '\0';
	free(cf->cf_issuer_path);
	cf->cf_issuer_path = path;
	return (1);
 nomem:
	ps->ps_nomem = 1;
	return (-1);
}

static int
dec_tls_version(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	char	*s = NULL;
	int	 r, ver;

	if ((r = get_string(ps, v, &s)) != 1)
		return (r);
	if (strcmp(s, "1.2") == 0)
		ver = 12;
	else if (strcmp(s, "1.3") == 0)
		ver = 13;
	else {
		node_err(ps, v, "supported TLS versions are: 1.2, 1.3");
		free(s);
		return (-1);
	}
	free(s);
	ps->ps_tls_line = v->yn_line;
	ps->ps_tls_col = v->yn_col;
	*(int *)((char *)base + k->k_off) = ver;
	return (1);
}

static const char *response_types[] = {
	"code", "token", "id_token", "code token", "code id_token",
	"id_token token", "code id_token token"
};

static int
dec_response_types(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	struct oidcd_conf	*cf = base;
	struct conf_strv	 sv = { NULL, 0 };
	int			*sets = NULL, r, bits;
	size_t			 i, t;
	char			*w, *save, *tmp;

	if ((r = get_strv(ps, v, &sv)) != 1)
		return (r);
	if ((sets = calloc(sv.sv_n + 1, sizeof(*sets))) == NULL)
		goto nomem;
	for (i = 0; i < sv.sv_n; i++) {
		for (t = 0; t < sizeof(response_types) /
		    sizeof(response_types[0]); t++)
			if (strcmp(sv.sv_v[i], response_types[t]) == 0)
				break;
		if (t == sizeof(response_types) / sizeof(response_types[0])) {
			node_err(ps, v->yn_kids[i], "unsupported response_type "
			    "\"%s\"", sv.sv_v[i]);
			r = -1;
			continue;
		}
		if ((tmp = strdup(sv.sv_v[i])) == NULL)
			goto nomem;
		bits = 0;
		for (w = strtok_r(tmp, " ", &save); w != NULL;
		    w = strtok_r(NULL, " ", &save)) {
			if (strcmp(w, "code") == 0)
				bits |= CONF_RT_CODE;
			else if (strcmp(w, "token") == 0)
				bits |= CONF_RT_TOKEN;
			else
				bits |= CONF_RT_IDTOKEN;
		}
		free(tmp);
		sets[i] = bits;
	}
	if (r == -1) {
		free(sets);
		strv_free(&sv);
		return (-1);
	}
	strv_free(&cf->cf_response_types);
	cf->cf_response_types = sv;
	free(cf->cf_response_type_sets);
	cf->cf_response_type_sets = sets;
	return (1);
 nomem:
	free(sets);
	strv_free(&sv);
	ps->ps_nomem = 1;
	return (-1);
}

static const struct {
	const char	*name;
	int		 bit;
} grant_types[] = {
	{ "authorization_code", CONF_GT_AUTHCODE },
	{ "implicit", CONF_GT_IMPLICIT },
	{ "password", CONF_GT_PASSWORD },
	{ "refresh_token", CONF_GT_REFRESH },
	{ "urn:ietf:params:oauth:grant-type:device_code",
	    CONF_GT_DEVICECODE },
	{ "urn:ietf:params:oauth:grant-type:token-exchange",
	    CONF_GT_TOKENEXCHANGE },
	{ "client_credentials", CONF_GT_CLIENTCREDS }
};

static int
grant_list(struct pstate *ps, struct ynode *v, struct conf_strv *dst,
    int *mask)
{
	struct conf_strv	 sv = { NULL, 0 };
	size_t			 i, t;
	int			 r, m = 0;

	if ((r = get_strv(ps, v, &sv)) != 1)
		return (r);
	for (i = 0; i < sv.sv_n; i++) {
		for (t = 0; t < sizeof(grant_types) / sizeof(grant_types[0]);
		    t++)
			if (strcmp(sv.sv_v[i], grant_types[t].name) == 0)
				break;
		if (t == sizeof(grant_types) / sizeof(grant_types[0])) {
			node_err(ps, v->yn_kids[i], "unsupported grant type "
			    "\"%s\"", sv.sv_v[i]);
			r = -1;
		} else
			m |= grant_types[t].bit;
	}
	if (r == -1) {
		strv_free(&sv);
		return (-1);
	}
	strv_free(dst);
	*dst = sv;
	*mask = m;
	return (1);
}

static int
dec_grant_types(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	struct oidcd_conf	*cf = base;

	return (grant_list(ps, v, &cf->cf_grant_types, &cf->cf_grant_mask));
}

static int
dec_client_grant_types(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	struct conf_client	*cl = base;

	return (grant_list(ps, v, &cl->cl_grant_types, &cl->cl_grant_mask));
}

static int
dec_connector_grant_types(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	struct conf_strv	*sv = (struct conf_strv *)((char *)base +
				    k->k_off);
	int			 mask;

	return (grant_list(ps, v, sv, &mask));
}

static int
dec_pkce_methods(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	struct oidcd_conf	*cf = base;
	struct conf_strv	 sv = { NULL, 0 };
	size_t			 i;
	int			 r;

	if ((r = get_strv(ps, v, &sv)) != 1)
		return (r);
	for (i = 0; i < sv.sv_n; i++) {
		if (strcmp(sv.sv_v[i], "S256") != 0 &&
		    strcmp(sv.sv_v[i], "plain") != 0) {
			node_err(ps, v->yn_kids[i], "unsupported code "
			    "challenge method \"%s\" (S256 or plain)",
			    sv.sv_v[i]);
			r = -1;
		}
	}
	if (r == -1) {
		strv_free(&sv);
		return (-1);
	}
	strv_free(&cf->cf_pkce_methods);
	cf->cf_pkce_methods = sv;
	return (1);
}

static int
dec_log_level(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	struct oidcd_conf	*cf = base;
	char			*s = NULL;
	int			 r;

	if ((r = get_string(ps, v, &s)) != 1)
		return (r);
	/* slog.Level.UnmarshalText: case does not matter */
	if (strcasecmp(s, "debug") == 0)
		cf->cf_log_level = CONF_LOG_DEBUG;
	else if (strcasecmp(s, "info") == 0)
		cf->cf_log_level = CONF_LOG_INFO;
	else if (strcasecmp(s, "warn") == 0)
		cf->cf_log_level = CONF_LOG_WARN;
	else if (strcasecmp(s, "error") == 0)
		cf->cf_log_level = CONF_LOG_ERROR;
	else {
		node_err(ps, v, "unknown log level \"%s\" (debug, info, "
		    "warn or error)", s);
		r = -1;
	}
	free(s);
	return (r);
}

static int
dec_log_format(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	struct oidcd_conf	*cf = base;
	char			*s = NULL;
	int			 r;

	if ((r = get_string(ps, v, &s)) != 1)
		return (r);
	if (strcmp(s, "json") == 0)
		cf->cf_log_format = CONF_LOGFMT_JSON;
	else if (strcmp(s, "text") == 0 || s[0] == '\0')
		cf->cf_log_format = CONF_LOGFMT_TEXT;
	else {
		node_err(ps, v, "log format is not one of the supported "
		    "values (text, json): \"%s\"", s);
		r = -1;
	}
	free(s);
	return (r);
}

/* An IP address or CIDR prefix (Go's netip.ParsePrefix or ParseAddr). */
static int
cidr_valid(const char *s)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash;
	unsigned char	 addr[16];
	const char	*errstr;
	int		 v6, max;

	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return (0);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	v6 = strchr(buf, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, addr) != 1)
		return (0);
	max = v6 ? 128 : 32;
	if (slash != NULL) {
		(void)strtonum(slash, 0, max, &errstr);
		if (errstr != NULL || !isdigit((unsigned char)slash[0]))
			return (0);
	}
	return (1);
}

static int
dec_proxies(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	struct oidcd_conf	*cf = base;
	struct conf_strv	 sv = { NULL, 0 };
	size_t			 i;
	int			 r;

	if ((r = get_strv(ps, v, &sv)) != 1)
		return (r);
	for (i = 0; i < sv.sv_n; i++)
		if (!cidr_valid(sv.sv_v[i])) {
			node_err(ps, v->yn_kids[i], "\"%s\" is not an IP "
			    "address or CIDR prefix", sv.sv_v[i]);
			r = -1;
		}
	if (r == -1) {
		strv_free(&sv);
		return (-1);
	}
	strv_free(&cf->cf_web_trusted_proxies);
	cf->cf_web_trusted_proxies = sv;
	return (1);
}

static int
parse_alg(struct pstate *ps, struct ynode *v, int *alg)
{
	char	*s = NULL;
	int	 r;

	if ((r = get_string(ps, v, &s)) != 1)
		return (r);
	if (strcmp(s, "RS256") == 0)
		*alg = CONF_ALG_RS256;
	else if (strcmp(s, "ES256") == 0)
		*alg = CONF_ALG_ES256;
	else {
		node_err(ps, v, "unsupported signing algorithm \"%s\" "
		    "(RS256 or ES256)", s);
		r = -1;
	}
	free(s);
	return (r);
}

static int
dec_oidcd_alg(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	return (parse_alg(ps, v, &ps->ps_oidcd_alg));
}

static int
dec_signer_alg(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	int	r;

	if ((r = parse_alg(ps, v, &ps->ps_signer_alg)) == 1)
		ps->ps_have_signer_alg = 1;
	return (r);
}

static int
dec_signer_rotation(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	int	r;

	if ((r = get_duration(ps, v, 1, &ps->ps_keys_rotation)) == 1)
		ps->ps_have_keys_rotation = 1;
	return (r);
}

static int
dec_password_connector(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	struct oidcd_conf	*cf = base;

	ps->ps_pwc_line = v->yn_line;
	ps->ps_pwc_col = v->yn_col;
	return (get_string(ps, v, &cf->cf_password_connector));
}

static int
dec_hosted_domains(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	struct conf_strv	sv = { NULL, 0 };
	int			r;

	if ((r = get_strv(ps, v, &sv)) != 1)
		return (r);
	if (sv.sv_n > 0) {
		node_err(ps, v, "the oidc connector no longer supports "
		    "hostedDomains; switch to the google connector");
		r = -1;
	}
	strv_free(&sv);
	return (r);
}

static int
dec_pkce_challenge(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	char	*s = NULL;
	int	 r;

	if ((r = get_string(ps, v, &s)) != 1)
		return (r);
	if (s[0] != '\0' && strcmp(s, "S256") != 0 && strcmp(s, "plain") != 0) {
		node_err(ps, v, "unsupported PKCE challenge method \"%s\" "
		    "(S256, plain or empty)", s);
		r = -1;
	}
	free(s);
	return (r);
}

/*
 * Connector configs (reference/dex.md 3.1 and 3.2), checked only.
 */

static const struct keydef oidc_pdo_keys[] = {
	{ .k_name = "tokenURL", .k_type = K_STR },
	{ .k_name = "authURL", .k_type = K_STR },
	{ .k_name = "jwksURL", .k_type = K_STR },
	{ .k_name = "userInfoURL", .k_type = K_STR },
	{ .k_name = "deviceAuthURL", .k_type = K_STR },
	{ .k_name = "endSessionURL", .k_type = K_STR },
	{ .k_name = NULL }
};

static const struct keydef oidc_claimmap_keys[] = {
	{ .k_name = "preferred_username", .k_type = K_STR },
	{ .k_name = "email", .k_type = K_STR },
	{ .k_name = "groups", .k_type = K_STR },
	{ .k_name = NULL }
};

static const struct keydef oidc_newgroup_keys[] = {
	{ .k_name = "claims", .k_type = K_STRV },
	{ .k_name = "delimiter", .k_type = K_STR },
	{ .k_name = "clearDelimiter", .k_type = K_BOOL },
	{ .k_name = "prefix", .k_type = K_STR },
	{ .k_name = NULL }
};

static const struct keydef oidc_filter_keys[] = {
	{ .k_name = "groupsFilter", .k_type = K_STR },
	{ .k_name = NULL }
};

static const struct keydef oidc_modify_keys[] = {
	{ .k_name = "prefix", .k_type = K_STR },
	{ .k_name = "suffix", .k_type = K_STR },
	{ .k_name = NULL }
};

static const struct keydef oidc_claimmod_keys[] = {
	{ .k_name = "newGroupFromClaims", .k_type = K_OBJLIST,
	    .k_sub = oidc_newgroup_keys },
	{ .k_name = "filterGroupClaims", .k_type = K_OBJ,
	    .k_sub = oidc_filter_keys },
	{ .k_name = "modifyGroupNames", .k_type = K_OBJ,
	    .k_sub = oidc_modify_keys },
	{ .k_name = NULL }
};

static const struct keydef oidc_keys[] = {
	{ .k_name = "issuer", .k_type = K_STR, .k_flags = K_REQ },
	{ .k_name = "issuerAlias", .k_type = K_STR },
	{ .k_name = "clientID", .k_type = K_STR, .k_flags = K_REQ },
	{ .k_name = "clientSecret", .k_type = K_STR },
	{ .k_name = "redirectURI", .k_type = K_STR },
	{ .k_name = "scopes", .k_type = K_STRV },
	{ .k_name = "basicAuthUnsupported", .k_type = K_BOOL },
	{ .k_name = "providerDiscoveryOverrides", .k_type = K_OBJ,
	    .k_sub = oidc_pdo_keys },
	{ .k_name = "rootCAs", .k_type = K_STRV },
	{ .k_name = "insecureSkipVerify", .k_type = K_BOOL },
	{ .k_name = "insecureSkipEmailVerified", .k_type = K_BOOL },
	{ .k_name = "insecureEnableGroups", .k_type = K_BOOL },
	{ .k_name = "allowedGroups", .k_type = K_STRV },
	{ .k_name = "acrValues", .k_type = K_STRV },
	{ .k_name = "getUserInfo", .k_type = K_BOOL },
	{ .k_name = "userIDKey", .k_type = K_STR },
	{ .k_name = "userNameKey", .k_type = K_STR },
	{ .k_name = "promptType", .k_type = K_STR },
	{ .k_name = "pkceChallenge", .k_type = K_FUNC,
	    .k_fn = dec_pkce_challenge },
	{ .k_name = "overrideClaimMapping", .k_type = K_BOOL },
	{ .k_name = "claimMapping", .k_type = K_OBJ,
	    .k_sub = oidc_claimmap_keys },
	{ .k_name = "claimModifications", .k_type = K_OBJ,
	    .k_sub = oidc_claimmod_keys },
	{ .k_name = "hostedDomains", .k_type = K_FUNC,
	    .k_fn = dec_hosted_domains },
	{ .k_name = NULL }
};

static const struct keydef oauth_claimmap_keys[] = {
	{ .k_name = "userNameKey", .k_type = K_STR },
	{ .k_name = "preferredUsernameKey", .k_type = K_STR },
	{ .k_name = "groupsKey", .k_type = K_STR },
	{ .k_name = "emailKey", .k_type = K_STR },
	{ .k_name = "emailVerifiedKey", .k_type = K_STR },
	{ .k_name = NULL }
};

static const struct keydef oauth_keys[] = {
	{ .k_name = "clientID", .k_type = K_STR },
	{ .k_name = "clientSecret", .k_type = K_STR },
	{ .k_name = "redirectURI", .k_type = K_STR },
	{ .k_name = "tokenURL", .k_type = K_STR },
	{ .k_name = "authorizationURL", .k_type = K_STR },
	{ .k_name = "userInfoURL", .k_type = K_STR },
	{ .k_name = "scopes", .k_type = K_STRV },
	{ .k_name = "rootCAs", .k_type = K_STRV },
	{ .k_name = "insecureSkipVerify", .k_type = K_BOOL },
	{ .k_name = "userIDKey", .k_type = K_STR },
	{ .k_name = "claimMapping", .k_type = K_OBJ,
	    .k_sub = oauth_claimmap_keys },
	{ .k_name = NULL }
};

/* Connector types oidcd has. */
static const struct {
	const char		*type;
	const struct keydef	*keys;
} conn_types[] = {
	{ "oidc", oidc_keys },
	{ "oauth", oauth_keys }
};

/* Dex's other connector types: they load with a warning and are skipped. */
static const char *dex_conn_types[] = {
	"ldap", "github", "gitlab", "gitea", "google", "saml",
	"samlExperimental", "authproxy", "linkedin", "microsoft",
	"bitbucket-cloud", "openshift", "atlassian-crowd", "keystone",
	"mockCallback", "mockPassword"
};

struct conn_tmp {
	char			*type;
	char			*id;
	char			*name;
	struct ynode		*config;
	struct conf_strv	 grant_types;
};

static const struct keydef connector_keys[] = {
	{ .k_name = "type", .k_type = K_STR,
	    .k_off = offsetof(struct conn_tmp, type), .k_flags = K_REQ },
	{ .k_name = "id", .k_type = K_STR,
	    .k_off = offsetof(struct conn_tmp, id), .k_flags = K_REQ },
	{ .k_name = "name", .k_type = K_STR,
	    .k_off = offsetof(struct conn_tmp, name), .k_flags = K_REQ },
	{ .k_name = "config", .k_type = K_NODE,
	    .k_off = offsetof(struct conn_tmp, config) },
	{ .k_name = "grantTypes", .k_type = K_FUNC,
	    .k_off = offsetof(struct conn_tmp, grant_types),
	    .k_fn = dec_connector_grant_types },
	{ .k_name = NULL }
};

/*
 * A rootCAs entry, as Dex reads it (pkg/httpclient): the name of a PEM
 * file, else base64 of PEM, else PEM itself.  The PEM, or NULL.
 */
char *
conf_pem_resolve(const char *entry, size_t *lenp)
{
	struct stat	 st;
	char		*pem = NULL;
	size_t		 len;
	ssize_t		 n;
	int		 fd, dl;

	*lenp = 0;
	len = strlen(entry);
	if (strncmp(entry, CONF_PEM_BEGIN, strlen(CONF_PEM_BEGIN)) == 0 ||
	    strstr(entry, "\n" CONF_PEM_BEGIN) != NULL) {
		if ((pem = strdup(entry)) != NULL)
			*lenp = len;
		return (pem);
	}
	if ((fd = open(entry, O_RDONLY | O_CLOEXEC)) != -1) {
		if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_size > CONF_PEM_MAX ||
		    (pem = calloc(1, st.st_size + 1)) == NULL) {
			close(fd);
			return (NULL);
		}
		n = read(fd, pem, st.st_size);
		close(fd);
		if (n != st.st_size || strstr(pem, CONF_PEM_BEGIN) == NULL) {
			free(pem);
			return (NULL);
		}
		*lenp = n;
		return (pem);
	}
	if (len == 0 || len > CONF_PEM_MAX || len % 4 != 0 ||
	    (pem = calloc(1, len + 1)) == NULL)
		return (NULL);
	if ((dl = EVP_DecodeBlock((unsigned char *)pem,
	    (const unsigned char *)entry, len)) <= 0) {
		free(pem);
		return (NULL);
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	while (dl > 0 && pem[dl - 1] == '\0')
		dl--;
	pem[dl] = '\0';
	if (strstr(pem, CONF_PEM_BEGIN) == NULL) {
		free(pem);
		return (NULL);
	}
	*lenp = dl;
	return (pem);
}

/* Every rootCAs entry of a connector must resolve now, not at login. */
static int
check_root_cas(struct pstate *ps, struct ynode *cfg)
{
	struct ynode	*v, *e;
	char		*pem;
	size_t		 i, len;
	int		 ret = 0;

	if ((v = map_get(cfg, "rootCAs")) == NULL || v->yn_kind != YN_SEQ)
		return (0);
	for (i = 0; i < v->yn_nkids; i++) {
		e = v->yn_kids[i];
		if (e->yn_kind != YN_STR)
			continue;
		if ((pem = conf_pem_resolve(e->yn_str, &len)) == NULL) {
			node_err(ps, e, "rootCAs: not a readable PEM file, "
			    "PEM text or base64 of PEM");
			ret = -1;
		}
		free(pem);
	}
	return (ret);
}

static int
conn_id_add(struct pstate *ps, const char *id)
{
	char	**v;

	if ((v = reallocarray(ps->ps_conn_ids, ps->ps_nconn_ids + 1,
	    sizeof(*v))) == NULL)
		return (-1);
	ps->ps_conn_ids = v;
	if ((v[ps->ps_nconn_ids] = strdup(id)) == NULL)
		return (-1);
	ps->ps_nconn_ids++;
	return (0);
}

static int
conn_id_seen(struct pstate *ps, const char *id)
{
	size_t	i;

	for (i = 0; i < ps->ps_nconn_ids; i++)
		if (strcmp(ps->ps_conn_ids[i], id) == 0)
			return (1);
	return (0);
}

static int
dec_connector(struct pstate *ps, struct ynode *n, struct oidcd_conf *cf)
{
	struct conn_tmp		 t;
	struct conf_connector	*cn = NULL;
	struct ynode		*empty = NULL;
	const struct keydef	*keys = NULL;
	size_t			 i;
	int			 ret = 0, known = 0;

	memset(&t, 0, sizeof(t));
	if (decode_map(ps, n, connector_keys, &t, NULL) == -1) {
		ret = -1;
		goto done;
	}
	if (conn_id_seen(ps, t.id)) {
		node_err(ps, map_get(n, "id"), "duplicate connector id "
		    "\"%s\"", t.id);
		ret = -1;
	} else if (strcmp(t.id, "local") == 0) {
		node_err(ps, map_get(n, "id"), "connector id \"local\" is "
		    "reserved for the password database");
		ret = -1;
	} else if (conn_id_add(ps, t.id) == -1) {
		ps->ps_nomem = 1;
		ret = -1;
		goto done;
	}
	for (i = 0; i < sizeof(conn_types) / sizeof(conn_types[0]); i++)
		if (strcmp(t.type, conn_types[i].type) == 0)
			keys = conn_types[i].keys;
	for (i = 0; i < sizeof(dex_conn_types) / sizeof(dex_conn_types[0]);
	    i++)
		if (strcmp(t.type, dex_conn_types[i]) == 0)
			known = 1;
	if (keys == NULL && !known) {
		node_err(ps, map_get(n, "type"), "unknown connector type "
		    "\"%s\"", t.type);
		ret = -1;
		goto done;
	}
	if (keys == NULL) {
		node_warn(ps, map_get(n, "type"), "connector type \"%s\" is "
		    "not supported yet; connector \"%s\" is skipped", t.type,
		    t.id);
		ps->ps_nskipped++;
		goto done;
	}
	/*
	 * Dex decodes a missing config as the type's zero config, so an
	 * absent block is an empty one: required keys are then missing.
	 */
	if (t.config == NULL || t.config->yn_kind == YN_NULL) {
		if ((empty = ynode_new(ps, YN_MAP, n->yn_line,
		    n->yn_col)) == NULL) {
			ret = -1;
			goto done;
		}
		t.config = empty;
	}
	if (expand_tree(ps, t.config) == -1) {
		ret = -1;
		goto done;
	}
	/* Below a connector, encoding/json decodes: no coercion. */
	ps->ps_coerce = 0;
	if (decode_map(ps, t.config, keys, NULL, "config") == -1 ||
	    check_root_cas(ps, t.config) == -1)
		ret = -1;
	if (ret == -1)
		goto done;
	if ((cn = calloc(1, sizeof(*cn))) == NULL ||
	    (cn->cn_config = node_to_json(ps, t.config)) == NULL) {
		if (!ps->ps_nerrors)
			ps->ps_nomem = 1;
		free(cn);
		ret = -1;
		goto done;
	}
	cn->cn_line = n->yn_line;
	cn->cn_type = t.type;
	cn->cn_id = t.id;
	cn->cn_name = t.name;
	cn->cn_grant_types = t.grant_types;
	memset(&t, 0, sizeof(t));
	TAILQ_INSERT_TAIL(&cf->cf_connectors, cn, cn_entry);
	cf->cf_nconnectors++;
 done:
	free(t.type);
	free(t.id);
	free(t.name);
	strv_free(&t.grant_types);
	ynode_free(empty);
	return (ret);
}

static int
dec_connectors(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	size_t	i, old;
	int	ret = 0, coerce = ps->ps_coerce;

	if (v->yn_kind == YN_NULL)
		return (0);
	if (v->yn_kind != YN_SEQ) {
		node_err(ps, v, "expected a list, got %s",
		    kindname[v->yn_kind]);
		return (-1);
	}
	if (v->yn_nkids > CONF_MAX_CONNECTORS) {
		node_err(ps, v, "more than %d connectors",
		    CONF_MAX_CONNECTORS);
		return (-1);
	}
	for (i = 0; i < v->yn_nkids; i++) {
		/* Connector has its own UnmarshalJSON: no coercion. */
		ps->ps_coerce = 0;
		old = path_push(ps, "[%zu]", i);
		if (dec_connector(ps, v->yn_kids[i], base) == -1)
			ret = -1;
		path_pop(ps, old);
	}
	ps->ps_coerce = coerce;
	return (ret);
}

/*
 * storage and signer: {type, config}, each with its own UnmarshalJSON in
 * Dex, so no coercion, and env expansion in config.
 */

struct typecfg {
	char		*type;
	struct ynode	*config;
};

static const struct keydef typecfg_keys[] = {
	{ .k_name = "type", .k_type = K_STR,
	    .k_off = offsetof(struct typecfg, type) },
	{ .k_name = "config", .k_type = K_NODE,
	    .k_off = offsetof(struct typecfg, config) },
	{ .k_name = NULL }
};

struct lmdb_tmp {
	char		*path;
	uint64_t	 mapsize;
};

static const struct keydef lmdb_keys[] = {
	{ .k_name = "path", .k_type = K_STR,
	    .k_off = offsetof(struct lmdb_tmp, path) },
	{ .k_name = "mapSize", .k_type = K_U64,
	    .k_off = offsetof(struct lmdb_tmp, mapsize),
	    .k_min = (long long)CONF_MIN_MAPSIZE,
	    .k_max = (long long)CONF_MAX_MAPSIZE },
	{ .k_name = NULL }
};

static const struct keydef memory_keys[] = {
	{ .k_name = NULL }
};

static int
dec_storage(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	static const char	*dex_types[] = { "sqlite3", "postgres",
				    "mysql", "etcd", "kubernetes" };
	struct oidcd_conf	*cf = base;
	struct typecfg		 t = { NULL, NULL };
	struct lmdb_tmp		 l = { NULL, CONF_DEF_MAPSIZE };
	struct ynode		*tn;
	size_t			 i;
	int			 ret = 0;

	if (v->yn_kind == YN_NULL)
		return (0);
	ps->ps_coerce = 0;
	if (decode_map(ps, v, typecfg_keys, &t, NULL) == -1)
		return (-1);
	ps->ps_have_storage = 1;
	tn = map_get(v, "type");
	if (t.type == NULL || t.type[0] == '\0') {
		node_err(ps, tn ? tn : v, "no storage type given (memory or "
		    "lmdb)");
		ret = -1;
		goto done;
	}
	for (i = 0; i < sizeof(dex_types) / sizeof(dex_types[0]); i++) {
		if (strcmp(t.type, dex_types[i]) == 0) {
			node_err(ps, tn, "storage type \"%s\" is not supported "
			    "by oidcd; use type: lmdb (config: {path: ...})",
			    t.type);
			ret = -1;
			goto done;
		}
	}
	if (strcmp(t.type, "memory") == 0)
		cf->cf_storage_type = CONF_STORAGE_MEMORY;
	else if (strcmp(t.type, "lmdb") == 0)
		cf->cf_storage_type = CONF_STORAGE_LMDB;
	else {
		node_err(ps, tn, "unknown storage type \"%s\"", t.type);
		ret = -1;
		goto done;
	}
	if (t.config != NULL && t.config->yn_kind != YN_NULL) {
		if (expand_tree(ps, t.config) == -1) {
			ret = -1;
			goto done;
		}
		if (cf->cf_storage_type == CONF_STORAGE_LMDB)
			ret = decode_map(ps, t.config, lmdb_keys, &l,
			    "config");
		else
			ret = decode_map(ps, t.config, memory_keys, NULL,
			    "config");
		json_free_secret(cf->cf_storage_config);
		cf->cf_storage_config = NULL;
		if (ret == 0 && (cf->cf_storage_config =
		    node_to_json(ps, t.config)) == NULL)
			ret = -1;
	} else if (cf->cf_storage_type == CONF_STORAGE_LMDB) {
		/* Without a path the database goes to stateDir/db. */
		l.mapsize = CONF_DEF_MAPSIZE;
	}
	if (ret == 0) {
		free(cf->cf_storage_path);
		cf->cf_storage_path = l.path;
		l.path = NULL;
		cf->cf_storage_mapsize = l.mapsize;
	}
 done:
	free(l.path);
	free(t.type);
	return (ret);
}

static const struct keydef signer_local_keys[] = {
	{ .k_name = "keysRotationPeriod", .k_type = K_FUNC, .k_flags = K_REQ,
	    .k_fn = dec_signer_rotation },
	{ .k_name = "algorithm", .k_type = K_FUNC, .k_fn = dec_signer_alg },
	{ .k_name = NULL }
};

static int
dec_signer(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	struct oidcd_conf	*cf = base;
	struct typecfg		 t = { NULL, NULL };
	struct ynode		*tn;
	int			 ret = 0;

	if (v->yn_kind == YN_NULL)
		return (0);
	ps->ps_coerce = 0;
	if (decode_map(ps, v, typecfg_keys, &t, NULL) == -1)
		return (-1);
	tn = map_get(v, "type");
	if (t.type == NULL || t.type[0] == '\0') {
		/* No type: local with expiry.signingKeys, as no signer. */
		if (t.config != NULL && t.config->yn_kind != YN_NULL) {
			node_err(ps, v, "signer config without a type");
			ret = -1;
		}
	} else if (strcmp(t.type, "local") == 0) {
		cf->cf_signer_type = CONF_SIGNER_LOCAL;
		if (t.config == NULL || t.config->yn_kind == YN_NULL) {
			node_err(ps, v, "the local signer needs config: "
			    "{keysRotationPeriod: ...}");
			ret = -1;
		} else if (expand_tree(ps, t.config) == -1)
			ret = -1;
		else
			ret = decode_map(ps, t.config, signer_local_keys,
			    NULL, "config");
	} else if (strcmp(t.type, "vault") == 0) {
		node_err(ps, tn, "signer type \"vault\" is not supported yet; "
		    "use type: local");
		ret = -1;
	} else {
		node_err(ps, tn, "unknown signer type \"%s\"", t.type);
		ret = -1;
	}
	free(t.type);
	return (ret);
}

static const struct keydef grpc_keys[] = {
	{ .k_name = "addr", .k_type = K_STR, .k_off = OFF(cf_grpc_addr) },
	{ .k_name = "tlsCert", .k_type = K_STR,
	    .k_off = OFF(cf_grpc_tls_cert) },
	{ .k_name = "tlsKey", .k_type = K_STR, .k_off = OFF(cf_grpc_tls_key) },
	{ .k_name = "tlsClientCA", .k_type = K_STR,
	    .k_off = OFF(cf_grpc_tls_client_ca) },
	{ .k_name = "tlsMinVersion", .k_type = K_ANY },
	{ .k_name = "tlsMaxVersion", .k_type = K_ANY },
	{ .k_name = "reflection", .k_type = K_ANY },
	{ .k_name = NULL }
};

static int
dec_grpc(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	struct oidcd_conf	*cf = base;

	if (v->yn_kind == YN_NULL)
		return (0);
	if (decode_map(ps, v, grpc_keys, base, NULL) == -1)
		return (-1);
	/* Dex's own checks, so that a config Dex refuses is refused. */
	if (cf->cf_grpc_tls_cert != NULL && cf->cf_grpc_addr == NULL) {
		node_err(ps, v, "no address specified for gRPC");
		return (-1);
	}
	if ((cf->cf_grpc_tls_cert == NULL) != (cf->cf_grpc_tls_key == NULL)) {
		node_err(ps, v, "must specify both a gRPC TLS cert and key");
		return (-1);
	}
	if (cf->cf_grpc_tls_client_ca != NULL && cf->cf_grpc_tls_cert == NULL) {
		node_err(ps, v, "cannot specify gRPC TLS client CA without a "
		    "gRPC TLS cert");
		return (-1);
	}
	if (cf->cf_grpc_addr != NULL)
		node_warn(ps, v, "the gRPC API is not supported by oidcd "
		    "(ignored)");
	return (0);
}

/*
 * staticClients: storage.Client, a plain struct, so ghodss coerces.
 */

static const struct keydef client_rtl_keys[] = {
	{ .k_name = "validIfNotUsedFor", .k_type = K_DUR,
	    .k_off = CLOFF(cl_rt_idle) },
	{ .k_name = "absoluteLifetime", .k_type = K_DUR,
	    .k_off = CLOFF(cl_rt_absolute) },
	{ .k_name = NULL }
};

static const struct keydef client_cc_keys[] = {
	{ .k_name = "groups", .k_type = K_STRV, .k_off = CLOFF(cl_cc_groups) },
	{ .k_name = NULL }
};

static const struct keydef client_keys[] = {
	{ .k_name = "id", .k_type = K_STR, .k_off = CLOFF(cl_id) },
	{ .k_name = "idEnv", .k_type = K_STR, .k_off = CLOFF(cl_id_env) },
	{ .k_name = "secret", .k_type = K_STR, .k_off = CLOFF(cl_secret) },
	{ .k_name = "secretEnv", .k_type = K_STR,
	    .k_off = CLOFF(cl_secret_env) },
	{ .k_name = "redirectURIs", .k_type = K_STRV,
	    .k_off = CLOFF(cl_redirect_uris) },
	{ .k_name = "trustedPeers", .k_type = K_STRV,
	    .k_off = CLOFF(cl_trusted_peers) },
	{ .k_name = "public", .k_type = K_BOOL, .k_off = CLOFF(cl_public) },
	{ .k_name = "name", .k_type = K_STR, .k_off = CLOFF(cl_name) },
	{ .k_name = "logoURL", .k_type = K_STR, .k_off = CLOFF(cl_logo_url) },
	{ .k_name = "postLogoutRedirectURIs", .k_type = K_STRV,
	    .k_off = CLOFF(cl_post_logout_uris) },
	{ .k_name = "backchannelLogoutURI", .k_type = K_STR,
	    .k_off = CLOFF(cl_backchannel_logout_uri) },
	{ .k_name = "refreshTokenLifetime", .k_type = K_MAP,
	    .k_sub = client_rtl_keys },
	{ .k_name = "allowedConnectors", .k_type = K_STRV,
	    .k_off = CLOFF(cl_allowed_connectors) },
	{ .k_name = "clientCredentialsClaims", .k_type = K_MAP,
	    .k_sub = client_cc_keys },
	{ .k_name = "grantTypes", .k_type = K_FUNC,
	    .k_fn = dec_client_grant_types },
	{ .k_name = "mfaChain", .k_type = K_UNSUP },
	{ .k_name = "ssoSharedWith", .k_type = K_UNSUP },
	{ .k_name = NULL }
};

static void
client_free(struct conf_client *cl)
{
	if (cl == NULL)
		return;
	free(cl->cl_id);
	free(cl->cl_id_env);
	str_freezero(cl->cl_secret);
	free(cl->cl_secret_env);
	free(cl->cl_name);
	free(cl->cl_logo_url);
	strv_free(&cl->cl_redirect_uris);
	strv_free(&cl->cl_trusted_peers);
	strv_free(&cl->cl_post_logout_uris);
	free(cl->cl_backchannel_logout_uri);
	strv_free(&cl->cl_allowed_connectors);
	strv_free(&cl->cl_cc_groups);
	strv_free(&cl->cl_grant_types);
	free(cl);
}

static int
dec_client(struct pstate *ps, struct ynode *n, struct oidcd_conf *cf)
{
	struct conf_client	*cl, *o;
	const char		*val;
	int			 ret;

	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		ps->ps_nomem = 1;
		return (-1);
	}
	cl->cl_line = n->yn_line;
	cl->cl_rt_idle = cl->cl_rt_absolute = -1;
	if ((ret = decode_map(ps, n, client_keys, cl, NULL)) == -1)
		goto fail;
	/* cmd/dex/serve.go, in Dex's order */
	if (cl->cl_name == NULL || cl->cl_name[0] == '\0') {
		node_err(ps, n, "Name field is required for a client");
		ret = -1;
	}
	if ((cl->cl_id == NULL || cl->cl_id[0] == '\0') &&
	    (cl->cl_id_env == NULL || cl->cl_id_env[0] == '\0')) {
		node_err(ps, n, "ID or IDEnv field is required for a client");
		goto fail;
	}
	if (cl->cl_id_env != NULL && cl->cl_id_env[0] != '\0') {
		if (cl->cl_id != NULL && cl->cl_id[0] != '\0') {
			node_err(ps, map_get(n, "idEnv"), "ID and IDEnv fields "
			    "are exclusive for client \"%s\"", cl->cl_id);
			goto fail;
		}
		if ((val = getenv(cl->cl_id_env)) == NULL || *val == '\0') {
			node_err(ps, map_get(n, "idEnv"), "environment "
			    "variable %s (idEnv) is unset or empty",
			    cl->cl_id_env);
			goto fail;
		}
		if (str_set(&cl->cl_id, val) == -1)
			goto nomem;
	}
	if ((cl->cl_secret == NULL || cl->cl_secret[0] == '\0') &&
	    (cl->cl_secret_env == NULL || cl->cl_secret_env[0] == '\0') &&
	    !cl->cl_public) {
		node_err(ps, n, "Secret or SecretEnv field is required for "
		    "client \"%s\"", cl->cl_id);
		goto fail;
	}
	if (cl->cl_secret_env != NULL && cl->cl_secret_env[0] != '\0') {
		if (cl->cl_secret != NULL && cl->cl_secret[0] != '\0') {
			node_err(ps, map_get(n, "secretEnv"), "Secret and "
			    "SecretEnv fields are exclusive for client \"%s\"",
			    cl->cl_id);
			goto fail;
		}
		if ((val = getenv(cl->cl_secret_env)) == NULL ||
		    *val == '\0') {
			if (!cl->cl_public) {
				node_err(ps, map_get(n, "secretEnv"),
				    "environment variable %s (secretEnv) is "
				    "unset or empty", cl->cl_secret_env);
				goto fail;
			}
		} else {
			str_freezero(cl->cl_secret);
			if ((cl->cl_secret = strdup(val)) == NULL)
				goto nomem;
		}
	}
	if (ret == -1)
		goto fail;
	TAILQ_FOREACH(o, &cf->cf_clients, cl_entry)
		if (strcmp(o->cl_id, cl->cl_id) == 0) {
			node_err(ps, n, "duplicate client id \"%s\"",
			    cl->cl_id);
			goto fail;
		}
	TAILQ_INSERT_TAIL(&cf->cf_clients, cl, cl_entry);
	cf->cf_nclients++;
	return (0);
 nomem:
	ps->ps_nomem = 1;
 fail:
	client_free(cl);
	return (-1);
}

static int
dec_clients(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	size_t	i, old;
	int	ret = 0;

	if (v->yn_kind == YN_NULL)
		return (0);
	if (v->yn_kind != YN_SEQ) {
		node_err(ps, v, "expected a list, got %s",
		    kindname[v->yn_kind]);
		return (-1);
	}
	if (v->yn_nkids > CONF_MAX_CLIENTS) {
		node_err(ps, v, "more than %d clients", CONF_MAX_CLIENTS);
		return (-1);
	}
	for (i = 0; i < v->yn_nkids; i++) {
		old = path_push(ps, "[%zu]", i);
		if (dec_client(ps, v->yn_kids[i], base) == -1)
			ret = -1;
		path_pop(ps, old);
	}
	return (ret);
}

/*
 * staticPasswords: Dex's password.UnmarshalJSON, so no coercion.
 */

static const struct keydef password_keys[] = {
	{ .k_name = "email", .k_type = K_STR, .k_off = PWOFF(pw_email) },
	{ .k_name = "hash", .k_type = K_STR, .k_off = PWOFF(pw_hash) },
	{ .k_name = "hashFromEnv", .k_type = K_STR,
	    .k_off = PWOFF(pw_hash_env) },
	{ .k_name = "username", .k_type = K_STR, .k_off = PWOFF(pw_username) },
	{ .k_name = "name", .k_type = K_STR, .k_off = PWOFF(pw_name) },
	{ .k_name = "preferredUsername", .k_type = K_STR,
	    .k_off = PWOFF(pw_preferred_username) },
	{ .k_name = "emailVerified", .k_type = K_BOOL,
	    .k_off = PWOFF(pw_email_verified) },
	{ .k_name = "userID", .k_type = K_STR, .k_off = PWOFF(pw_user_id) },
	{ .k_name = "groups", .k_type = K_STRV, .k_off = PWOFF(pw_groups) },
	{ .k_name = NULL }
};

static void
password_free(struct conf_password *pw)
{
	if (pw == NULL)
		return;
	free(pw->pw_email);
	str_freezero(pw->pw_hash);
	free(pw->pw_hash_env);
	free(pw->pw_username);
	free(pw->pw_name);
	free(pw->pw_preferred_username);
	free(pw->pw_user_id);
	strv_free(&pw->pw_groups);
	free(pw);
}

static int
dec_password(struct pstate *ps, struct ynode *n, struct oidcd_conf *cf)
{
	struct conf_password	*pw, *o;
	const char		*val;
	char			*dec, *p;
	struct ynode		*hn;

	if ((pw = calloc(1, sizeof(*pw))) == NULL) {
		ps->ps_nomem = 1;
		return (-1);
	}
	pw->pw_line = n->yn_line;
	pw->pw_email_verified = 1;
	if (decode_map(ps, n, password_keys, pw, NULL) == -1)
		goto fail;
	if (pw->pw_email == NULL || pw->pw_email[0] == '\0') {
		node_err(ps, n, "email is required for a static password");
		goto fail;
	}
	for (p = pw->pw_email; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	hn = map_get(n, "hash");
	if ((pw->pw_hash == NULL || pw->pw_hash[0] == '\0') &&
	    pw->pw_hash_env != NULL && pw->pw_hash_env[0] != '\0') {
		hn = map_get(n, "hashFromEnv");
		if ((val = getenv(pw->pw_hash_env)) != NULL) {
			str_freezero(pw->pw_hash);
			if ((pw->pw_hash = strdup(val)) == NULL)
				goto nomem;
		}
	}
	if (pw->pw_hash == NULL || pw->pw_hash[0] == '\0') {
		node_err(ps, hn ? hn : n, "no password hash provided for "
		    "\"%s\"", pw->pw_email);
		goto fail;
	}
	if (!conf_bcrypt_valid(pw->pw_hash)) {
		/* Backwards compatibility: base64 of a bcrypt hash. */
		if ((dec = b64_decode_str(pw->pw_hash)) == NULL ||
		    !conf_bcrypt_valid(dec)) {
			str_freezero(dec);
			node_err(ps, hn ? hn : n, "malformed bcrypt hash for "
			    "\"%s\"", pw->pw_email);
			goto fail;
		}
		str_freezero(pw->pw_hash);
		pw->pw_hash = dec;
	}
	if ((pw->pw_name == NULL || pw->pw_name[0] == '\0') &&
	    pw->pw_username != NULL && str_set(&pw->pw_name,
	    pw->pw_username) == -1)
		goto nomem;
	TAILQ_FOREACH(o, &cf->cf_passwords, pw_entry)
		if (strcmp(o->pw_email, pw->pw_email) == 0) {
			/* Dex logs it and goes on; so do we. */
			node_warn(ps, n, "duplicate static password email "
			    "\"%s\"", pw->pw_email);
			break;
		}
	TAILQ_INSERT_TAIL(&cf->cf_passwords, pw, pw_entry);
	cf->cf_npasswords++;
	return (0);
 nomem:
	ps->ps_nomem = 1;
 fail:
	password_free(pw);
	return (-1);
}

static int
dec_passwords(struct pstate *ps, struct ynode *v, void *base,
    const struct keydef *k)
{
	size_t	i, old;
	int	ret = 0, coerce = ps->ps_coerce;

	if (v->yn_kind == YN_NULL)
		return (0);
	if (v->yn_kind != YN_SEQ) {
		node_err(ps, v, "expected a list, got %s",
		    kindname[v->yn_kind]);
		return (-1);
	}
	if (v->yn_nkids > CONF_MAX_PASSWORDS) {
		node_err(ps, v, "more than %d static passwords",
		    CONF_MAX_PASSWORDS);
		return (-1);
	}
	ps->ps_coerce = 0;
	for (i = 0; i < v->yn_nkids; i++) {
		old = path_push(ps, "[%zu]", i);
		if (dec_password(ps, v->yn_kids[i], base) == -1)
			ret = -1;
		path_pop(ps, old);
	}
	ps->ps_coerce = coerce;
	return (ret);
}

/*
 * The top-level tables.
 */

static const struct keydef web_header_keys[] = {
	{ .k_name = "Content-Security-Policy", .k_type = K_STR,
	    .k_off = OFF(cf_web_csp) },
	{ .k_name = "X-Frame-Options", .k_type = K_STR,
	    .k_off = OFF(cf_web_xframe) },
	{ .k_name = "X-Content-Type-Options", .k_type = K_STR,
	    .k_off = OFF(cf_web_xcto) },
	{ .k_name = "X-XSS-Protection", .k_type = K_STR,
	    .k_off = OFF(cf_web_xxss) },
	{ .k_name = "Strict-Transport-Security", .k_type = K_STR,
	    .k_off = OFF(cf_web_hsts) },
	{ .k_name = NULL }
};

static const struct keydef web_remoteip_keys[] = {
	{ .k_name = "header", .k_type = K_STR, .k_off = OFF(cf_web_ip_header) },
	{ .k_name = "trustedProxies", .k_type = K_FUNC, .k_fn = dec_proxies },
	{ .k_name = NULL }
};

static const struct keydef web_keys[] = {
	{ .k_name = "http", .k_type = K_STR, .k_off = OFF(cf_web_http) },
	{ .k_name = "https", .k_type = K_STR, .k_off = OFF(cf_web_https) },
	{ .k_name = "tlsCert", .k_type = K_STR, .k_off = OFF(cf_web_tls_cert) },
	{ .k_name = "tlsKey", .k_type = K_STR, .k_off = OFF(cf_web_tls_key) },
	{ .k_name = "tlsMinVersion", .k_type = K_FUNC,
	    .k_off = OFF(cf_web_tls_min), .k_fn = dec_tls_version },
	{ .k_name = "tlsMaxVersion", .k_type = K_FUNC,
	    .k_off = OFF(cf_web_tls_max), .k_fn = dec_tls_version },
	{ .k_name = "allowedOrigins", .k_type = K_STRV,
	    .k_off = OFF(cf_web_allowed_origins) },
	{ .k_name = "allowedHeaders", .k_type = K_STRV,
	    .k_off = OFF(cf_web_allowed_headers) },
	{ .k_name = "headers", .k_type = K_MAP, .k_sub = web_header_keys },
	{ .k_name = "clientRemoteIP", .k_type = K_MAP,
	    .k_sub = web_remoteip_keys },
	{ .k_name = NULL }
};

static const struct keydef telemetry_keys[] = {
	{ .k_name = "http", .k_type = K_STR, .k_off = OFF(cf_telemetry_http) },
	{ .k_name = "enableProfiling", .k_type = K_BOOL,
	    .k_off = OFF(cf_telemetry_profiling) },
	{ .k_name = NULL }
};

static const struct keydef refresh_keys[] = {
	{ .k_name = "disableRotation", .k_type = K_BOOL,
	    .k_off = OFF(cf_rt_disable_rotation) },
	{ .k_name = "reuseInterval", .k_type = K_DUR,
	    .k_off = OFF(cf_rt_reuse_interval) },
	{ .k_name = "validIfNotUsedFor", .k_type = K_DUR,
	    .k_off = OFF(cf_rt_valid_if_not_used_for) },
	{ .k_name = "absoluteLifetime", .k_type = K_DUR,
	    .k_off = OFF(cf_rt_absolute_lifetime) },
	{ .k_name = NULL }
};

static const struct keydef expiry_keys[] = {
	{ .k_name = "signingKeys", .k_type = K_DUR,
	    .k_off = OFF(cf_exp_signing_keys), .k_min = 1 },
	{ .k_name = "idTokens", .k_type = K_DUR, .k_off = OFF(cf_exp_id_tokens),
	    .k_min = 1 },
	{ .k_name = "authRequests", .k_type = K_DUR,
	    .k_off = OFF(cf_exp_auth_requests), .k_min = 1 },
	{ .k_name = "deviceRequests", .k_type = K_DUR,
	    .k_off = OFF(cf_exp_device_requests), .k_min = 1 },
	{ .k_name = "refreshTokens", .k_type = K_MAP, .k_sub = refresh_keys },
	{ .k_name = NULL }
};

/* Dex master's browser sessions; "enabled" is ours (Dex: an env var). */
static const struct keydef sessions_keys[] = {
	{ .k_name = "enabled", .k_type = K_BOOL,
	    .k_off = OFF(cf_sess_enabled) },
	{ .k_name = "cookieName", .k_type = K_STR,
	    .k_off = OFF(cf_sess_cookie_name) },
	{ .k_name = "absoluteLifetime", .k_type = K_DUR,
	    .k_off = OFF(cf_sess_absolute), .k_min = 1 },
	{ .k_name = "validIfNotUsedFor", .k_type = K_DUR,
	    .k_off = OFF(cf_sess_idle), .k_min = 1 },
	{ .k_name = "rememberMeCheckedByDefault", .k_type = K_UNSUP },
	{ .k_name = "cookieEncryptionKey", .k_type = K_UNSUP },
	{ .k_name = "ssoSharedWithDefault", .k_type = K_UNSUP },
	{ .k_name = NULL }
};

static const struct keydef logger_keys[] = {
	{ .k_name = "level", .k_type = K_FUNC, .k_flags = K_NOCOERCE,
	    .k_fn = dec_log_level },
	{ .k_name = "format", .k_type = K_FUNC, .k_fn = dec_log_format },
	{ .k_name = "excludeFields", .k_type = K_STRV,
	    .k_off = OFF(cf_log_exclude_fields) },
	{ .k_name = NULL }
};

static const struct keydef pkce_keys[] = {
	{ .k_name = "enforce", .k_type = K_BOOL,
	    .k_off = OFF(cf_pkce_enforce) },
	{ .k_name = "codeChallengeMethodsSupported", .k_type = K_FUNC,
	    .k_fn = dec_pkce_methods },
	{ .k_name = NULL }
};

static const struct keydef oauth2_keys[] = {
	{ .k_name = "responseTypes", .k_type = K_FUNC,
	    .k_fn = dec_response_types },
	{ .k_name = "grantTypes", .k_type = K_FUNC, .k_fn = dec_grant_types },
	{ .k_name = "skipApprovalScreen", .k_type = K_BOOL,
	    .k_off = OFF(cf_skip_approval) },
	{ .k_name = "alwaysShowLoginScreen", .k_type = K_BOOL,
	    .k_off = OFF(cf_always_show_login) },
	{ .k_name = "passwordConnector", .k_type = K_FUNC,
	    .k_fn = dec_password_connector },
	{ .k_name = "pkce", .k_type = K_MAP, .k_sub = pkce_keys },
	{ .k_name = NULL }
};

static const struct keydef frontend_keys[] = {
	{ .k_name = "dir", .k_type = K_STR, .k_off = OFF(cf_fe_dir) },
	{ .k_name = "logoURL", .k_type = K_STR, .k_off = OFF(cf_fe_logo_url) },
	{ .k_name = "issuer", .k_type = K_STR, .k_off = OFF(cf_fe_issuer) },
	{ .k_name = "theme", .k_type = K_STR, .k_off = OFF(cf_fe_theme) },
	{ .k_name = "extra", .k_type = K_STRMAP, .k_off = OFF(cf_fe_extra) },
	{ .k_name = NULL }
};

/*
 * Our own block.  A new setting is one line here, a field in struct
 * oidcd_conf, a default in conf_new() and a paragraph in oidcd.yaml(5).
 */
static const struct keydef oidcd_keys[] = {
	{ .k_name = "frontends", .k_type = K_INT, .k_off = OFF(cf_frontends),
	    .k_min = 1, .k_max = CONF_MAX_FRONTENDS },
	{ .k_name = "user", .k_type = K_STR, .k_off = OFF(cf_user) },
	{ .k_name = "keyUser", .k_type = K_STR, .k_off = OFF(cf_key_user) },
	{ .k_name = "dbUser", .k_type = K_STR, .k_off = OFF(cf_db_user) },
	{ .k_name = "stateDir", .k_type = K_STR, .k_off = OFF(cf_state_dir) },
	{ .k_name = "emptyDir", .k_type = K_STR, .k_off = OFF(cf_empty_dir) },
	{ .k_name = "controlSocket", .k_type = K_STR,
	    .k_off = OFF(cf_control_socket) },
	{ .k_name = "signingAlgorithm", .k_type = K_FUNC,
	    .k_fn = dec_oidcd_alg },
	{ .k_name = "jwksMaxAge", .k_type = K_DUR,
	    .k_off = OFF(cf_jwks_max_age),
	    .k_min = 1 },
	{ .k_name = "keysPublishAhead", .k_type = K_DUR,
	    .k_off = OFF(cf_keys_publish_ahead) },
	{ .k_name = "keysRetireAfter", .k_type = K_DUR,
	    .k_off = OFF(cf_keys_retire_after), .k_min = 1 },
	{ .k_name = NULL }
};

static const struct keydef top_keys[] = {
	{ .k_name = "issuer", .k_type = K_FUNC, .k_fn = dec_issuer },
	{ .k_name = "storage", .k_type = K_FUNC, .k_fn = dec_storage },
	{ .k_name = "web", .k_type = K_MAP, .k_sub = web_keys },
	{ .k_name = "telemetry", .k_type = K_MAP, .k_sub = telemetry_keys },
	{ .k_name = "grpc", .k_type = K_FUNC, .k_fn = dec_grpc },
	{ .k_name = "expiry", .k_type = K_MAP, .k_sub = expiry_keys },
	{ .k_name = "logger", .k_type = K_MAP, .k_sub = logger_keys },
	{ .k_name = "oauth2", .k_type = K_MAP, .k_sub = oauth2_keys },
	{ .k_name = "frontend", .k_type = K_MAP, .k_sub = frontend_keys },
	{ .k_name = "signer", .k_type = K_FUNC, .k_fn = dec_signer },
	{ .k_name = "connectors", .k_type = K_FUNC, .k_fn = dec_connectors },
	{ .k_name = "staticClients", .k_type = K_FUNC, .k_fn = dec_clients },
	{ .k_name = "enablePasswordDB", .k_type = K_BOOL,
	    .k_off = OFF(cf_enable_password_db) },
	{ .k_name = "staticPasswords", .k_type = K_FUNC,
	    .k_fn = dec_passwords },
	{ .k_name = "oidcd", .k_type = K_MAP, .k_flags = K_NOCOERCE,
	    .k_sub = oidcd_keys },
	{ .k_name = "sessions", .k_type = K_MAP, .k_sub = sessions_keys },
	{ .k_name = "mfa", .k_type = K_UNSUP },
	{ .k_name = NULL }
};

/*
 * Whole-config work: defaults, Dex's Config.Validate, derived values.
 */

static struct oidcd_conf *
conf_new(void)
{
	struct oidcd_conf	*cf;

	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		return (NULL);
	TAILQ_INIT(&cf->cf_connectors);
	TAILQ_INIT(&cf->cf_clients);
	TAILQ_INIT(&cf->cf_passwords);
	cf->cf_exp_signing_keys = CONF_DEF_SIGNINGKEYS;
	cf->cf_exp_id_tokens = CONF_DEF_IDTOKENS;
	cf->cf_exp_auth_requests = CONF_DEF_AUTHREQUESTS;
	cf->cf_exp_device_requests = CONF_DEF_DEVICEREQUESTS;
	cf->cf_sess_enabled = 1;
	cf->cf_sess_absolute = CONF_DEF_SESS_ABSOLUTE;
	cf->cf_sess_idle = CONF_DEF_SESS_IDLE;
	cf->cf_log_level = CONF_LOG_INFO;
	cf->cf_log_format = CONF_LOGFMT_TEXT;
	cf->cf_web_tls_min = 12;
	cf->cf_signer_type = CONF_SIGNER_LOCAL;
	cf->cf_signing_alg = CONF_ALG_RS256;
	cf->cf_jwks_max_age = CONF_DEF_JWKSMAXAGE;
	cf->cf_keys_publish_ahead = -1;
	cf->cf_keys_retire_after = -1;
	if ((cf->cf_user = strdup(CONF_DEF_USER)) == NULL ||
	    (cf->cf_key_user = strdup(CONF_DEF_KEYUSER)) == NULL ||
	    (cf->cf_db_user = strdup(CONF_DEF_DBUSER)) == NULL ||
	    (cf->cf_state_dir = strdup(CONF_DEF_STATEDIR)) == NULL ||
	    (cf->cf_control_socket = strdup(CONF_DEF_CONTROLSOCK)) == NULL) {
		conf_free(cf);
		return (NULL);
	}
	return (cf);
}

void
conf_free(struct oidcd_conf *cf)
{
	struct conf_connector	*cn;
	struct conf_client	*cl;
	struct conf_password	*pw;

	if (cf == NULL)
		return;
	freezero(cf->cf_seal_key, cf->cf_seal_key ? strlen(cf->cf_seal_key) : 0);
	free(cf->cf_file);
	free(cf->cf_issuer);
	free(cf->cf_issuer_scheme);
	free(cf->cf_issuer_host);
	free(cf->cf_issuer_path);
	free(cf->cf_storage_path);
	json_free_secret(cf->cf_storage_config);
	free(cf->cf_web_http);
	free(cf->cf_web_https);
	free(cf->cf_web_tls_cert);
	free(cf->cf_web_tls_key);
	strv_free(&cf->cf_web_allowed_origins);
	strv_free(&cf->cf_web_allowed_headers);
	free(cf->cf_web_csp);
	free(cf->cf_web_xframe);
	free(cf->cf_web_xcto);
	free(cf->cf_web_xxss);
	free(cf->cf_web_hsts);
	free(cf->cf_web_ip_header);
	strv_free(&cf->cf_web_trusted_proxies);
	free(cf->cf_telemetry_http);
	free(cf->cf_grpc_addr);
	free(cf->cf_grpc_tls_cert);
	free(cf->cf_grpc_tls_key);
	free(cf->cf_grpc_tls_client_ca);
	strv_free(&cf->cf_log_exclude_fields);
	strv_free(&cf->cf_response_types);
	free(cf->cf_response_type_sets);
	strv_free(&cf->cf_grant_types);
	free(cf->cf_password_connector);
	strv_free(&cf->cf_pkce_methods);
	free(cf->cf_fe_dir);
	free(cf->cf_fe_logo_url);
	free(cf->cf_sess_cookie_name);
	free(cf->cf_fe_issuer);
	free(cf->cf_fe_theme);
	json_decref(cf->cf_fe_extra);
	while ((cn = TAILQ_FIRST(&cf->cf_connectors)) != NULL) {
		TAILQ_REMOVE(&cf->cf_connectors, cn, cn_entry);
		free(cn->cn_type);
		free(cn->cn_id);
		free(cn->cn_name);
		json_free_secret(cn->cn_config);
		strv_free(&cn->cn_grant_types);
		free(cn);
	}
	while ((cl = TAILQ_FIRST(&cf->cf_clients)) != NULL) {
		TAILQ_REMOVE(&cf->cf_clients, cl, cl_entry);
		client_free(cl);
	}
	while ((pw = TAILQ_FIRST(&cf->cf_passwords)) != NULL) {
		TAILQ_REMOVE(&cf->cf_passwords, pw, pw_entry);
		password_free(pw);
	}
	free(cf->cf_user);
	free(cf->cf_key_user);
	free(cf->cf_db_user);
	free(cf->cf_state_dir);
	free(cf->cf_empty_dir);
	free(cf->cf_key_dir);
	free(cf->cf_control_socket);
	freezero(cf, sizeof(*cf));
}

/*
 * Relative paths are taken against the directory oidcd starts in, once,
 * here: the processes chdir and chroot later.
 */
static int
path_absolute(struct pstate *ps, char **p, const char *what)
{
	char	 cwd[PATH_MAX], *abs;

	if (*p == NULL || (*p)[0] == '/')
		return (0);
	if ((*p)[0] == '\0') {
		msg_add(ps, CONF_ERR, 0, 0, "%s must not be empty", what);
		return (-1);
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		msg_add(ps, CONF_ERR, 0, 0, "%s: getcwd: %s", what,
		    strerror(errno));
		return (-1);
	}
	if (asprintf(&abs, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/",
	    strncmp(*p, "./", 2) == 0 ? *p + 2 : *p) == -1) {
		ps->ps_nomem = 1;
		return (-1);
	}
	free(*p);
	*p = abs;
	return (0);
}

static int
path_join(struct pstate *ps, char **dst, const char *dir, const char *sub)
{
	char	*s;

	if (asprintf(&s, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" :
	    "/", sub) == -1) {
		ps->ps_nomem = 1;
		return (-1);
	}
	free(*dst);
	*dst = s;
	return (0);
}

static int
conn_exists(struct pstate *ps, struct oidcd_conf *cf, const char *id)
{
	struct conf_connector	*cn;

	TAILQ_FOREACH(cn, &cf->cf_connectors, cn_entry)
		if (strcmp(cn->cn_id, id) == 0)
			return (1);
	if (strcmp(id, "local") == 0 && cf->cf_enable_password_db)
		return (1);
	if (conn_id_seen(ps, id))
		return (2);		/* a skipped connector */
	return (0);
}

static void
conf_validate(struct pstate *ps, struct oidcd_conf *cf, struct ynode *root)
{
	struct conf_client	*cl;
	long			 ncpu;
	size_t			 i;
	int			 r;
	const char		*who;

	/* Config.Validate, in Dex's order and words. */
	if (cf->cf_issuer == NULL || cf->cf_issuer[0] == '\0')
		msg_add(ps, CONF_ERR, 0, 0, "no issuer specified in config "
		    "file");
	/* It goes into a Set-Cookie header as it is: a plain token. */
	if (cf->cf_sess_cookie_name != NULL &&
	    (cf->cf_sess_cookie_name[0] == '\0' ||
	    strlen(cf->cf_sess_cookie_name) > CONF_SESS_COOKIE_MAX ||
	    strspn(cf->cf_sess_cookie_name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_-.") !=
	    strlen(cf->cf_sess_cookie_name)))
		msg_add(ps, CONF_ERR, 0, 0, "sessions.cookieName: letters, "
		    "digits, '_', '-' and '.' only, 1 to %d of them",
		    CONF_SESS_COOKIE_MAX);
	if (!cf->cf_enable_password_db && cf->cf_npasswords != 0)
		msg_add(ps, CONF_ERR, 0, 0, "cannot specify static passwords "
		    "without enabling password db");
	if (!ps->ps_have_storage)
		msg_add(ps, CONF_ERR, 0, 0, "no storage supplied in config "
		    "file");
	if ((cf->cf_web_http == NULL || cf->cf_web_http[0] == '\0') &&
	    (cf->cf_web_https == NULL || cf->cf_web_https[0] == '\0'))
		msg_add(ps, CONF_ERR, 0, 0, "must supply a HTTP/HTTPS address "
		    "to listen on (web.http or web.https)");
	if (cf->cf_web_https != NULL && cf->cf_web_https[0] != '\0') {
		if (cf->cf_web_tls_cert == NULL ||
		    cf->cf_web_tls_cert[0] == '\0')
			msg_add(ps, CONF_ERR, 0, 0, "no cert specified for "
			    "HTTPS (web.tlsCert)");
		if (cf->cf_web_tls_key == NULL ||
		    cf->cf_web_tls_key[0] == '\0')
			msg_add(ps, CONF_ERR, 0, 0, "no private key specified "
			    "for HTTPS (web.tlsKey)");
	}
	if (cf->cf_web_tls_max != 0 && cf->cf_web_tls_min > cf->cf_web_tls_max)
		msg_add(ps, CONF_ERR, ps->ps_tls_line, ps->ps_tls_col,
		    "web.tlsMinVersion must not be above web.tlsMaxVersion");

	/* server.NewServer: no connectors at all is fatal. */
	if (cf->cf_nconnectors == 0 && !cf->cf_enable_password_db) {
		if (ps->ps_nskipped > 0)
			msg_add(ps, CONF_ERR, 0, 0, "no usable connector: "
			    "every connector has a type oidcd does not "
			    "support yet, and enablePasswordDB is off");
		else
			msg_add(ps, CONF_ERR, 0, 0, "server: no connectors "
			    "specified (add connectors or set "
			    "enablePasswordDB: true)");
	}
	if (cf->cf_password_connector != NULL &&
	    cf->cf_password_connector[0] != '\0') {
		r = conn_exists(ps, cf, cf->cf_password_connector);
		if (r != 1)
			msg_add(ps, CONF_ERR, ps->ps_pwc_line, ps->ps_pwc_col,
			    "oauth2.passwordConnector: %s \"%s\"", r == 2 ?
			    "the connector is not supported yet:" :
			    "no such connector", cf->cf_password_connector);
	}
	TAILQ_FOREACH(cl, &cf->cf_clients, cl_entry) {
		for (i = 0; i < cl->cl_allowed_connectors.sv_n; i++) {
			if (conn_exists(ps, cf,
			    cl->cl_allowed_connectors.sv_v[i]) == 0)
				msg_add(ps, CONF_WARN, cl->cl_line, 1,
				    "client \"%s\": allowedConnectors names "
				    "no connector \"%s\"", cl->cl_id,
				    cl->cl_allowed_connectors.sv_v[i]);
		}
	}

	/* Defaults that depend on other keys. */
	if (cf->cf_web_allowed_headers.sv_n == 0 &&
	    strv_add(&cf->cf_web_allowed_headers, "Authorization") == -1)
		ps->ps_nomem = 1;
	if (cf->cf_response_types.sv_n == 0) {
		if (strv_add(&cf->cf_response_types, "code") == -1 ||
		    (cf->cf_response_type_sets = calloc(2, sizeof(int))) ==
		    NULL)
			ps->ps_nomem = 1;
		else
			cf->cf_response_type_sets[0] = CONF_RT_CODE;
	}
	if (cf->cf_pkce_methods.sv_n == 0 &&
	    (strv_add(&cf->cf_pkce_methods, "S256") == -1 ||
	    strv_add(&cf->cf_pkce_methods, "plain") == -1))
		ps->ps_nomem = 1;
	cf->cf_keys_rotation = ps->ps_have_keys_rotation ?
	    ps->ps_keys_rotation : cf->cf_exp_signing_keys;
	if (ps->ps_have_signer_alg)
		cf->cf_signing_alg = ps->ps_signer_alg;
	else if (ps->ps_oidcd_alg != 0)
		cf->cf_signing_alg = ps->ps_oidcd_alg;
	/*
	 * A new key is published keysPublishAhead before it signs, so that
	 * caches that fetched /keys up to jwksMaxAge ago still verify; an
	 * old key stays as long as tokens it signed live (Dex: idTokens).
	 */
	if (cf->cf_keys_publish_ahead == -1)
		cf->cf_keys_publish_ahead = 2 * cf->cf_jwks_max_age;
	if (cf->cf_keys_retire_after == -1)
		cf->cf_keys_retire_after = cf->cf_exp_id_tokens;
	if (cf->cf_frontends == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		cf->cf_frontends = ncpu < 1 ? 1 : ncpu > CONF_MAX_FRONTENDS ?
		    CONF_MAX_FRONTENDS : (int)ncpu;
	}
	who = NULL;
	if (cf->cf_user == NULL || cf->cf_user[0] == '\0')
		who = "oidcd.user";
	else if (cf->cf_key_user == NULL || cf->cf_key_user[0] == '\0')
		who = "oidcd.keyUser";
	else if (cf->cf_db_user == NULL || cf->cf_db_user[0] == '\0')
		who = "oidcd.dbUser";
	else if (cf->cf_control_socket == NULL ||
	    cf->cf_control_socket[0] == '\0')
		who = "oidcd.controlSocket";
	else if (cf->cf_state_dir == NULL || cf->cf_state_dir[0] == '\0')
		who = "oidcd.stateDir";
	if (who != NULL) {
		msg_add(ps, CONF_ERR, 0, 0, "%s must not be empty", who);
		return;
	}
	if (path_absolute(ps, &cf->cf_state_dir, "oidcd.stateDir") == -1 ||
	    path_absolute(ps, &cf->cf_empty_dir, "oidcd.emptyDir") == -1 ||
	    path_absolute(ps, &cf->cf_control_socket,
	    "oidcd.controlSocket") == -1 ||
	    path_absolute(ps, &cf->cf_storage_path,
	    "storage.config.path") == -1)
		return;
	if (cf->cf_empty_dir == NULL && path_join(ps, &cf->cf_empty_dir,
	    cf->cf_state_dir, CONF_DEF_EMPTYDIR_SUB) == -1)
		return;
	if (path_join(ps, &cf->cf_key_dir, cf->cf_state_dir,
	    CONF_DEF_KEYDIR_SUB) == -1)
		return;
	if (cf->cf_storage_type == CONF_STORAGE_LMDB) {
		if (cf->cf_storage_mapsize == 0)
			cf->cf_storage_mapsize = CONF_DEF_MAPSIZE;
		if (cf->cf_storage_path == NULL &&
		    path_join(ps, &cf->cf_storage_path, cf->cf_state_dir,
		    CONF_DEF_DBDIR_SUB) == -1)
			return;
	}
}

static void
pstate_clear(struct pstate *ps)
{
	size_t	i;

	for (i = 0; i < ps->ps_nanchors; i++)
		free(ps->ps_anchors[i].a_name);
	free(ps->ps_anchors);
	for (i = 0; i < ps->ps_nconn_ids; i++)
		free(ps->ps_conn_ids[i]);
	free(ps->ps_conn_ids);
	ynode_free(ps->ps_keep);
}

struct oidcd_conf *
conf_parse_buffer(const char *name, const char *buf, size_t len,
    struct conf_msgs *msgs)
{
	struct pstate		 ps;
	struct oidcd_conf	*cf = NULL;
	struct ynode		*root = NULL;
	const char		*e;
	int			 b;

	memset(&ps, 0, sizeof(ps));
	ps.ps_file = name;
	ps.ps_msgs = msgs;
	ps.ps_coerce = 1;
	ps.ps_expand = 1;
	if ((e = getenv("DEX_EXPAND_ENV")) != NULL && go_parse_bool(e, &b) == 0)
		ps.ps_expand = b;

	if (len > CONF_MAX_FILESIZE) {
		msg_add(&ps, CONF_ERR, 0, 0, "file is larger than %d bytes",
		    CONF_MAX_FILESIZE);
		goto done;
	}
	if ((ps.ps_keep = calloc(1, sizeof(*ps.ps_keep))) == NULL ||
	    (cf = conf_new()) == NULL) {
		ps.ps_nomem = 1;
		goto done;
	}
	ps.ps_keep->yn_kind = YN_SEQ;
	ps.ps_conf = cf;
	if ((cf->cf_file = strdup(name)) == NULL) {
		ps.ps_nomem = 1;
		goto done;
	}
	if (build_tree(&ps, buf, len, &root) == -1)
		goto done;
	if (root != NULL && root->yn_kind != YN_NULL) {
		if (root->yn_kind != YN_MAP) {
			msg_add(&ps, CONF_ERR, root->yn_line, root->yn_col,
			    "the config must be a mapping, not %s",
			    kindname[root->yn_kind]);
			goto done;
		}
		(void)decode_map(&ps, root, top_keys, cf, NULL);
	}
	conf_validate(&ps, cf, root);
 done:
	if (ps.ps_nomem)
		msg_add(&ps, CONF_ERR, 0, 0, "out of memory");
	ynode_free(root);
	pstate_clear(&ps);
	if (ps.ps_nerrors > 0 || ps.ps_nomem) {
		conf_free(cf);
		return (NULL);
	}
	return (cf);
}

struct oidcd_conf *
conf_parse_file(const char *path, struct conf_msgs *msgs)
{
	struct oidcd_conf	*cf;
	struct stat		 st;
	struct pstate		 ps;
	char			*buf;
	size_t			 off = 0;
	ssize_t			 n;
	int			 fd;

	memset(&ps, 0, sizeof(ps));
	ps.ps_file = path;
	ps.ps_msgs = msgs;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		msg_add(&ps, CONF_ERR, 0, 0, "%s", strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) == -1) {
		msg_add(&ps, CONF_ERR, 0, 0, "%s", strerror(errno));
		close(fd);
		return (NULL);
	}
	if (!S_ISREG(st.st_mode)) {
		msg_add(&ps, CONF_ERR, 0, 0, "not a regular file");
		close(fd);
		return (NULL);
	}
	if (st.st_size > CONF_MAX_FILESIZE) {
		msg_add(&ps, CONF_ERR, 0, 0, "file is larger than %d bytes",
		    CONF_MAX_FILESIZE);
		close(fd);
		return (NULL);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		msg_add(&ps, CONF_ERR, 0, 0, "out of memory");
		close(fd);
		return (NULL);
	}
	/* The file may change under us: never read past what was sized. */
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			msg_add(&ps, CONF_ERR, 0, 0, "%s", strerror(errno));
			freezero(buf, (size_t)st.st_size + 1);
			close(fd);
			return (NULL);
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	cf = conf_parse_buffer(path, buf, off, msgs);
	freezero(buf, (size_t)st.st_size + 1);
	return (cf);
}

/*
 * Secret hygiene, as parse.y's check_file_secrecy(): a file that holds
 * secrets must not be readable by others, and when we run as root it
 * must belong to root.
 */

static int
json_has_secret(json_t *j)
{
	static const char *names[] = { "clientSecret", "bindPW", "password",
	    "token", "keystonePassword", "secret" };
	const char	*k;
	json_t		*v;
	size_t		 i;

	if (!json_is_object(j))
		return (0);
	json_object_foreach(j, k, v) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcasecmp(k, names[i]) == 0 &&
			    json_is_string(v) && json_string_length(v) > 0)
				return (1);
		if (json_is_object(v) && json_has_secret(v))
			return (1);
	}
	return (0);
}

int
conf_has_secrets(const struct oidcd_conf *cf)
{
	struct conf_client	*cl;
	struct conf_connector	*cn;
	struct conf_password	*pw;

	TAILQ_FOREACH(pw, &cf->cf_passwords, pw_entry)
		if (pw->pw_hash_env == NULL || pw->pw_hash_env[0] == '\0')
			return (1);
	TAILQ_FOREACH(cl, &cf->cf_clients, cl_entry)
		if (cl->cl_secret != NULL && cl->cl_secret[0] != '\0' &&
		    (cl->cl_secret_env == NULL || cl->cl_secret_env[0] == '\0'))
			return (1);
	TAILQ_FOREACH(cn, &cf->cf_connectors, cn_entry)
		if (json_has_secret(cn->cn_config))
			return (1);
	return (json_has_secret(cf->cf_storage_config));
}

int
conf_check_secrecy(const char *file, const struct oidcd_conf *cf)
{
	struct stat	st;
	int		warned = 0;

	if (!conf_has_secrets(cf))
		return (0);
	if (stat(file, &st) == -1) {
		log_warn("%s", file);
		return (-1);
	}
	if (st.st_mode & S_IROTH) {
		log_warnx("%s: holds secrets but is readable by others",
		    file);
		warned++;
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		log_warnx("%s: holds secrets but is not owned by root", file);
		warned++;
	}
	return (warned);
}
