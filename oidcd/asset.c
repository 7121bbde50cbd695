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
 * frontend.dir's static files and theme (asset.h): read in the parent,
 * rebuilt and looked up in the frontends.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "asset.h"

#define ASSET_OCTETS	"application/octet-stream"

/* By extension, case-insensitive; anything else is ASSET_OCTETS. */
static const struct {
	const char	*ext;
	const char	*type;
} asset_types[] = {
	{ "css",	"text/css; charset=utf-8" },
	{ "gif",	"image/gif" },
	{ "htm",	"text/html; charset=utf-8" },
	{ "html",	"text/html; charset=utf-8" },
	{ "ico",	"image/x-icon" },
	{ "jpeg",	"image/jpeg" },
	{ "jpg",	"image/jpeg" },
	{ "js",		"text/javascript; charset=utf-8" },
	{ "json",	"application/json" },
	{ "map",	"application/json" },
	{ "mjs",	"text/javascript; charset=utf-8" },
	{ "otf",	"font/otf" },
	{ "png",	"image/png" },
	{ "svg",	"image/svg+xml" },
	{ "ttf",	"font/ttf" },
	{ "txt",	"text/plain; charset=utf-8" },
	{ "webp",	"image/webp" },
	{ "woff",	"font/woff" },
	{ "woff2",	"font/woff2" },
	{ "xml",	"application/xml" },
};

/* The state of one asset_load(). */
struct asset_walk {
	struct asset_set	*w_set;
	size_t			 w_cap;		/* of w_set->as_files */
	char			*w_err;
	size_t			 w_errlen;
};

static int	asset_fail(struct asset_walk *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static int
asset_fail(struct asset_walk *w, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(w->w_err, w->w_errlen, fmt, ap);
	va_end(ap);
	return (-1);
}

const char *
asset_type(const char *path)
{
	const char	*base, *dot;
	size_t		 i;

	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	if ((dot = strrchr(base, '.')) == NULL || dot == base)
		return (ASSET_OCTETS);
	for (i = 0; i < sizeof(asset_types) / sizeof(asset_types[0]); i++)
		if (strcasecmp(dot + 1, asset_types[i].ext) == 0)
			return (asset_types[i].type);
	return (ASSET_OCTETS);
}

/* One path component: not empty, no leading dot, ASSET_NAME_CHARS. */
static int
asset_name_ok(const char *name, size_t len)
{
	return (len > 0 && name[0] != '.' &&
	    strspn(name, ASSET_NAME_CHARS) >= len);
}

/*
 * A URL path as a set may hold it: components joined by single
 * slashes, none empty, none "." or "..", nothing percent-encoded.
 */
int
asset_path_ok(const char *path)
{
	const char	*p, *slash;
	size_t		 len;

	if (strnlen(path, ASSET_PATH_MAX) == ASSET_PATH_MAX)
		return (0);
	for (p = path;; p = slash + 1) {
		slash = strchr(p, '/');
		len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (!asset_name_ok(p, len))
			return (0);
		if (slash == NULL)
			return (1);
	}
}

static int
asset_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct asset *)a)->a_path,
	    ((const struct asset *)b)->a_path));
}

const struct asset *
asset_find(const struct asset_set *set, const char *path)
{
	size_t	 lo = 0, hi, mid;
	int	 c;

	if (set == NULL || set->as_n == 0 || !asset_path_ok(path))
		return (NULL);
	hi = set->as_n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(path, set->as_files[mid].a_path)) == 0)
			return (&set->as_files[mid]);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (NULL);
}

void
asset_set_free(struct asset_set *set)
{
	size_t	 i;

	for (i = 0; i < set->as_n; i++)
		free(set->as_files[i].a_data);
	free(set->as_files);
	memset(set, 0, sizeof(*set));
}

/* A strong validator: the first 128 bits of the SHA-256, in hex. */
static int
asset_etag(struct asset *a)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen, i;
	char			*p = a->a_etag;

	if (EVP_Digest(a->a_data, a->a_len, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen < 16)
		return (-1);
	*p++ = '"';
	for (i = 0; i < 16; i++) {
		*p++ = hex[md[i] >> 4];
		*p++ = hex[md[i] & 0xf];
	}
	*p++ = '"';
	*p = '\0';
	return (0);
}

/* Read the regular file name of the directory dfd in as url. */
static int
asset_add(struct asset_walk *w, int dfd, const char *name, const char *url,
    const char *fspath)
{
	struct asset_set	*set = w->w_set;
	struct asset		*a, *n;
	struct stat		 st;
	ssize_t			 r;
	size_t			 off, size;
	int			 fd;

	if (set->as_n == ASSET_FILES_MAX)
		return (asset_fail(w, "%s: more than %d files", fspath,
		    ASSET_FILES_MAX));
	/* O_NONBLOCK: a FIFO put there in a race must not hang us. */
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return (asset_fail(w, "%s: %s", fspath, strerror(errno)));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return (asset_fail(w, "%s: not a regular file", fspath));
	}
	if (st.st_size > ASSET_FILE_MAX) {
		close(fd);
		return (asset_fail(w, "%s: %lld bytes, more than the %d a "
		    "file may have", fspath, (long long)st.st_size,
		    ASSET_FILE_MAX));
	}
	size = st.st_size;
	if (set->as_total + size > ASSET_TOTAL_MAX) {
		close(fd);
		return (asset_fail(w, "%s: the files add up to more than %d "
		    "bytes", fspath, ASSET_TOTAL_MAX));
	}
	if (set->as_n == w->w_cap) {
		w->w_cap = w->w_cap ? w->w_cap * 2 : 16;
		if ((n = reallocarray(set->as_files, w->w_cap,
		    sizeof(*n))) == NULL) {
			close(fd);
			return (asset_fail(w, "%s: out of memory", fspath));
		}
		set->as_files = n;
	}
	a = &set->as_files[set->as_n];
	memset(a, 0, sizeof(*a));
	if ((a->a_data = malloc(size ? size : 1)) == NULL) {
		close(fd);
		return (asset_fail(w, "%s: out of memory", fspath));
	}
	for (off = 0; off < size; off += r) {
		if ((r = read(fd, a->a_data + off, size - off)) == -1 &&
		    errno == EINTR) {
			r = 0;
			continue;
		}
		if (r <= 0) {
			close(fd);
			free(a->a_data);
			a->a_data = NULL;
			return (asset_fail(w, "%s: %s", fspath, r == 0 ?
			    "short read" : strerror(errno)));
		}
	}
	close(fd);
	(void)strlcpy(a->a_path, url, sizeof(a->a_path));
	(void)strlcpy(a->a_type, asset_type(url), sizeof(a->a_type));
	a->a_len = a->a_have = size;
	if (asset_etag(a) == -1) {
		free(a->a_data);
		a->a_data = NULL;
		return (asset_fail(w, "%s: cannot hash", fspath));
	}
	set->as_n++;
	set->as_total += size;
	return (0);
}

/*
 * What name in dfd is, without following a symbolic link: 0 and *st,
 * 0 and st_mode 0 when it does not exist, -1 otherwise.
 */
static int
asset_stat(struct asset_walk *w, int dfd, const char *name,
    const char *fspath, struct stat *st)
{
	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT) {
			st->st_mode = 0;
			return (0);
		}
		return (asset_fail(w, "%s: %s", fspath, strerror(errno)));
	}
	if (S_ISLNK(st->st_mode))
		return (asset_fail(w, "%s: a symbolic link; links are not "
		    "followed", fspath));
	return (0);
}

/* A directory of dfd, or -1 in *fdp when there is none. */
static int
asset_opendir(struct asset_walk *w, int dfd, const char *name,
    const char *fspath, int *fdp)
{
	struct stat	 st;

	*fdp = -1;
	if (asset_stat(w, dfd, name, fspath, &st) == -1)
		return (-1);
	if (st.st_mode == 0)
		return (0);
	if (!S_ISDIR(st.st_mode))
		return (asset_fail(w, "%s: not a directory", fspath));
	if ((*fdp = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return (asset_fail(w, "%s: %s", fspath, strerror(errno)));
	return (0);
}

/*
 * Every regular file below the directory dfd (which this closes), as
 * url/...  Recursion is bounded by ASSET_PATH_MAX: each level adds at
 * least two characters to the URL path.
 */
static int
asset_walk(struct asset_walk *w, int dfd, const char *url, const char *fs)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		 u[ASSET_PATH_MAX], f[PATH_MAX];
	int		 fd, n, rv = -1;

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return (asset_fail(w, "%s: %s", fs, strerror(errno)));
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				(void)asset_fail(w, "%s: %s", fs,
				    strerror(errno));
				goto done;
			}
			break;
		}
		/* ".", "..", and hidden files such as .gitkeep. */
		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(f, sizeof(f), "%s/%s", fs, de->d_name);
		if (!asset_name_ok(de->d_name, strlen(de->d_name))) {
			(void)asset_fail(w, "%s: a name may only have the "
			    "characters A-Z a-z 0-9 . _ -", f);
			goto done;
		}
		n = snprintf(u, sizeof(u), "%s/%s", url, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(u)) {
			(void)asset_fail(w, "%s: the path is longer than %d "
			    "characters", f, ASSET_PATH_MAX - 1);
			goto done;
		}
		if (asset_stat(w, dirfd(d), de->d_name, f, &st) == -1)
			goto done;
		if (st.st_mode == 0)
			continue;	/* gone since readdir() */
		if (S_ISDIR(st.st_mode)) {
			if (asset_opendir(w, dirfd(d), de->d_name, f,
			    &fd) == -1)
				goto done;
			if (fd != -1 && asset_walk(w, fd, u, f) == -1)
				goto done;
		} else if (S_ISREG(st.st_mode)) {
			if (asset_add(w, dirfd(d), de->d_name, u, f) == -1)
				goto done;
		} else {
			(void)asset_fail(w, "%s: not a regular file or a "
			    "directory", f);
			goto done;
		}
	}
	rv = 0;
 done:
	closedir(d);
	return (rv);
}

/*
 * Read dir/static/..., dir/themes/<theme>/... and dir/robots.txt into
 * set, sorted by URL path.  Any of them may be missing; a symbolic
 * link, a special file, a bad name or a limit passed is an error with
 * the file's name in err.  With no dir, the set is empty.
 */
int
asset_load(const char *dir, const char *theme, struct asset_set *set,
    char *err, size_t errlen)
{
	struct asset_walk	 w;
	struct stat		 st;
	char			 f[PATH_MAX];
	int			 dfd, tfd, fd;

	memset(set, 0, sizeof(*set));
	memset(&w, 0, sizeof(w));
	w.w_set = set;
	w.w_err = err;
	w.w_errlen = errlen;
	if (dir == NULL)
		return (0);
	/* Dex's defaulting: coreos and tectonic are the light theme. */
	if (theme == NULL || theme[0] == '\0' || strcmp(theme, "coreos") == 0 ||
	    strcmp(theme, "tectonic") == 0)
		theme = "light";
	if (strlen(theme) >= ASSET_THEME_MAX ||
	    !asset_name_ok(theme, strlen(theme)))
		return (asset_fail(&w, "theme %s: not a valid directory name",
		    theme));
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (asset_fail(&w, "%s: %s", dir, strerror(errno)));

	(void)snprintf(f, sizeof(f), "%s/static", dir);
	if (asset_opendir(&w, dfd, "static", f, &fd) == -1 ||
	    (fd != -1 && asset_walk(&w, fd, "static", f) == -1))
		goto fail;

	(void)snprintf(f, sizeof(f), "%s/themes", dir);
	if (asset_opendir(&w, dfd, "themes", f, &tfd) == -1)
		goto fail;
	if (tfd != -1) {
		(void)snprintf(f, sizeof(f), "%s/themes/%s", dir, theme);
		if (asset_opendir(&w, tfd, theme, f, &fd) == -1) {
			close(tfd);
			goto fail;
		}
		close(tfd);
		if (fd != -1 && asset_walk(&w, fd, "theme", f) == -1)
			goto fail;
	}

	(void)snprintf(f, sizeof(f), "%s/robots.txt", dir);
	if (asset_stat(&w, dfd, "robots.txt", f, &st) == -1)
		goto fail;
	if (st.st_mode != 0 && !S_ISREG(st.st_mode)) {
		(void)asset_fail(&w, "%s: not a regular file", f);
		goto fail;
	}
	if (st.st_mode != 0 && asset_add(&w, dfd, "robots.txt", "robots.txt",
	    f) == -1)
		goto fail;

	close(dfd);
	if (set->as_n > 0)
		qsort(set->as_files, set->as_n, sizeof(set->as_files[0]),
		    asset_cmp);
	return (0);
 fail:
	close(dfd);
	asset_set_free(set);
	return (-1);
}

/* A header field: NUL-terminated, not empty, printable ASCII. */
static int
asset_field_ok(const char *s, size_t size)
{
	size_t	 i;

	if (memchr(s, '\0', size) == NULL || s[0] == '\0')
		return (0);
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return (0);
	return (1);
}

/*
 * Frontend side: add one IMSG_CFG_ASSET chunk to the set being built.
 * Returns 1 when the set is complete, 0 when more is to come, -1 when
 * the chunk does not fit what came before (the caller stops).
 */
int
asset_recv(struct asset_set *set, const struct cfg_asset *ac,
    const void *data, size_t len)
{
	struct asset	*a;

	if (ac->ac_len != len || len > ASSET_CHUNK ||
	    ac->ac_nfiles > ASSET_FILES_MAX)
		return (-1);
	if (ac->ac_index == 0 && ac->ac_offset == 0) {
		/* A new set; anything half-built is dropped. */
		asset_set_free(set);
		if (ac->ac_nfiles == 0)
			return (len == 0 && ac->ac_size == 0 ? 1 : -1);
		if ((set->as_files = calloc(ac->ac_nfiles,
		    sizeof(*set->as_files))) == NULL)
			return (-1);
		set->as_n = ac->ac_nfiles;
	}
	if (set->as_files == NULL || ac->ac_nfiles != set->as_n ||
	    ac->ac_index != set->as_cur || set->as_cur >= set->as_n)
		return (-1);
	a = &set->as_files[set->as_cur];
	if (!asset_field_ok(ac->ac_path, sizeof(ac->ac_path)))
		return (-1);
	if (ac->ac_offset == 0) {
		if (a->a_data != NULL || !asset_path_ok(ac->ac_path) ||
		    !asset_field_ok(ac->ac_type, sizeof(ac->ac_type)) ||
		    !asset_field_ok(ac->ac_etag, sizeof(ac->ac_etag)) ||
		    ac->ac_size > ASSET_FILE_MAX ||
		    ac->ac_size > ASSET_TOTAL_MAX - set->as_total)
			return (-1);
		/* Sorted and unique, so that asset_find() can bisect. */
		if (set->as_cur > 0 && strcmp(set->as_files[set->as_cur -
		    1].a_path, ac->ac_path) >= 0)
			return (-1);
		(void)strlcpy(a->a_path, ac->ac_path, sizeof(a->a_path));
		(void)strlcpy(a->a_type, ac->ac_type, sizeof(a->a_type));
		(void)strlcpy(a->a_etag, ac->ac_etag, sizeof(a->a_etag));
		if ((a->a_data = malloc(ac->ac_size ? ac->ac_size : 1)) ==
		    NULL)
			return (-1);
		a->a_len = ac->ac_size;
		a->a_have = 0;
		set->as_total += a->a_len;
	} else if (a->a_data == NULL || strcmp(a->a_path, ac->ac_path) != 0 ||
	    ac->ac_size != a->a_len)
		return (-1);
	if (ac->ac_offset != a->a_have || len > a->a_len - a->a_have ||
	    (len == 0 && a->a_len != 0))
		return (-1);
	if (len > 0)
		memcpy(a->a_data + a->a_have, data, len);
	a->a_have += len;
	if (a->a_have < a->a_len)
		return (0);
	set->as_cur++;
	return (set->as_cur == set->as_n ? 1 : 0);
}

/*
 * The chunks of a set, in order, as the parent sends them and
 * asset_recv() takes them: one empty header for an empty set.  emit's
 * non-zero value stops the walk and is returned.
 */
int
asset_send(const struct asset_set *set, int (*emit)(const struct cfg_asset *,
    const void *, size_t, void *), void *arg)
{
	const struct asset	*a;
	struct cfg_asset	 ca;
	size_t			 i, off, chunk;
	int			 rv;

	memset(&ca, 0, sizeof(ca));
	if (set->as_n == 0)
		return (emit(&ca, NULL, 0, arg));
	for (i = 0; i < set->as_n; i++) {
		a = &set->as_files[i];
		off = 0;
		do {
			chunk = a->a_len - off;
			if (chunk > ASSET_CHUNK)
				chunk = ASSET_CHUNK;
			memset(&ca, 0, sizeof(ca));
			(void)strlcpy(ca.ac_path, a->a_path,
			    sizeof(ca.ac_path));
			(void)strlcpy(ca.ac_type, a->a_type,
			    sizeof(ca.ac_type));
			(void)strlcpy(ca.ac_etag, a->a_etag,
			    sizeof(ca.ac_etag));
			ca.ac_nfiles = set->as_n;
			ca.ac_index = i;
			ca.ac_size = a->a_len;
			ca.ac_offset = off;
			ca.ac_len = chunk;
			if ((rv = emit(&ca, a->a_data + off, chunk, arg)) != 0)
				return (rv);
			off += chunk;
		} while (off < a->a_len);
	}
	return (0);
}
