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
 * Tests for frontend.dir's assets (asset.c): content types, URL path
 * checks, loading a directory (layout, theme, hidden files, symbolic
 * links, special files, names and every limit), and the frontend's
 * side: a set sent in chunks comes back whole, and chunks that do not
 * fit are refused.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asset.h"
#include "tap.h"

static char	 top[32];

static void
put(const char *rel, const void *data, size_t len)
{
	char	 path[PATH_MAX], *p;
	FILE	*fp;

	(void)snprintf(path, sizeof(path), "%s/%s", top, rel);
	/* mkdir -p of the parents */
	for (p = path + strlen(top) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			perror(path);
			exit(1);
		}
		*p = '/';
	}
	if ((fp = fopen(path, "w")) == NULL ||
	    fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
}

static void
puts_(const char *rel, const char *s)
{
	put(rel, s, strlen(s));
}

static void
rm(const char *rel)
{
	char	 path[PATH_MAX];

	(void)snprintf(path, sizeof(path), "%s/%s", top, rel);
	(void)unlink(path);
}

static char	 err[1024];

static int
load(const char *theme, struct asset_set *set)
{
	err[0] = '\0';
	return (asset_load(top, theme, set, err, sizeof(err)));
}

/* load() fails and err names want. */
static void
load_fails(const char *theme, const char *want, const char *what)
{
	struct asset_set	 set;
	int			 rv;

	rv = load(theme, &set);
	if (!ok(rv == -1 && strstr(err, want) != NULL &&
	    set.as_n == 0 && set.as_files == NULL, "%s", what))
		diag("rv %d, err \"%s\", want \"%s\"", rv, err, want);
}

static void
test_types(void)
{
	is_str(asset_type("static/main.css"), "text/css; charset=utf-8",
	    "css");
	is_str(asset_type("theme/LOGO.PNG"), "image/png", "PNG, any case");
	is_str(asset_type("static/a.js"), "text/javascript; charset=utf-8",
	    "js");
	is_str(asset_type("static/x.svg"), "image/svg+xml", "svg");
	is_str(asset_type("theme/favicon.ico"), "image/x-icon", "ico");
	is_str(asset_type("static/p.jpg"), "image/jpeg", "jpg");
	is_str(asset_type("static/f.woff2"), "font/woff2", "woff2");
	is_str(asset_type("robots.txt"), "text/plain; charset=utf-8", "txt");
	is_str(asset_type("static/i.html"), "text/html; charset=utf-8",
	    "html");
	is_str(asset_type("static/x.exe"), "application/octet-stream",
	    "unknown extension");
	is_str(asset_type("static/README"), "application/octet-stream",
	    "no extension");
	is_str(asset_type("static/x.css/README"), "application/octet-stream",
	    "a dot in a directory name does not count");
}

static void
test_paths(void)
{
	char	 longp[ASSET_PATH_MAX + 8];

	ok(asset_path_ok("static/main.css"), "static/main.css");
	ok(asset_path_ok("static/img/x-y_z.svg"), "static/img/x-y_z.svg");
	ok(asset_path_ok("robots.txt"), "robots.txt");
	ok(!asset_path_ok(""), "empty");
	ok(!asset_path_ok("/static/main.css"), "leading slash");
	ok(!asset_path_ok("static/"), "trailing slash");
	ok(!asset_path_ok("static//main.css"), "double slash");
	ok(!asset_path_ok("static/../robots.txt"), "..");
	ok(!asset_path_ok("static/./main.css"), ".");
	ok(!asset_path_ok("static/.hidden"), "hidden");
	ok(!asset_path_ok("static/%2e%2e/x"), "percent");
	ok(!asset_path_ok("static/a b.css"), "space");
	ok(!asset_path_ok("static/a\\b.css"), "backslash");
	ok(!asset_path_ok("static/\xc3\xa9.css"), "non-ASCII");
	memset(longp, 'a', sizeof(longp));
	memcpy(longp, "static/", 7);
	longp[ASSET_PATH_MAX - 1] = '\0';
	ok(asset_path_ok(longp), "%d characters", ASSET_PATH_MAX - 2);
	longp[ASSET_PATH_MAX - 1] = 'a';
	longp[ASSET_PATH_MAX] = '\0';
	ok(!asset_path_ok(longp), "%d characters", ASSET_PATH_MAX);
}

static void
test_load(void)
{
	struct asset_set	 set, set2;
	const struct asset	*a;
	char			 etag[ASSET_ETAG_MAX], name[256];
	size_t			 i;
	int			 sorted;

	memset(&set, 0xa5, sizeof(set));
	ok(asset_load(NULL, NULL, &set, err, sizeof(err)) == 0 &&
	    set.as_n == 0 && set.as_files == NULL,
	    "no frontend.dir: an empty set");

	puts_("templates/login.html", "<p>login</p>");
	puts_("static/main.css", "body{}");
	puts_("static/img/x.svg", "<svg/>");
	puts_("static/.hidden", "secret");
	puts_("static/.git/config", "[core]");
	puts_("themes/light/logo.png", "PNGL");
	puts_("themes/light/styles.css", ".l{}");
	puts_("themes/dark/logo.png", "PNGD");
	puts_("robots.txt", "User-agent: *\n");
	put("static/empty.txt", "", 0);

	if (!ok(load(NULL, &set) == 0, "load the dir"))
		diag("%s", err);
	is_int(set.as_n, 6, "six files (hidden ones and templates left "
	    "out)");
	is_int(set.as_total, 6 + 6 + 4 + 4 + 14 + 0, "total bytes");
	for (sorted = 1, i = 1; i < set.as_n; i++)
		if (strcmp(set.as_files[i - 1].a_path,
		    set.as_files[i].a_path) >= 0)
			sorted = 0;
	ok(sorted, "sorted by path");
	a = asset_find(&set, "static/main.css");
	ok(a != NULL && a->a_len == 6 && memcmp(a->a_data, "body{}", 6) ==
	    0 && strcmp(a->a_type, "text/css; charset=utf-8") == 0,
	    "static/main.css: bytes and type");
	ok(a != NULL && strlen(a->a_etag) == 34 && a->a_etag[0] == '"' &&
	    a->a_etag[33] == '"', "a quoted 32-digit ETag");
	(void)strlcpy(etag, a ? a->a_etag : "", sizeof(etag));
	a = asset_find(&set, "static/img/x.svg");
	ok(a != NULL && a->a_len == 6 && strcmp(a->a_type,
	    "image/svg+xml") == 0, "static/img/x.svg, recursively");
	a = asset_find(&set, "theme/logo.png");
	ok(a != NULL && memcmp(a->a_data, "PNGL", 4) == 0,
	    "theme/logo.png from themes/light");
	ok(asset_find(&set, "theme/styles.css") != NULL, "theme/styles.css");
	a = asset_find(&set, "robots.txt");
	ok(a != NULL && a->a_len == 14, "robots.txt");
	a = asset_find(&set, "static/empty.txt");
	ok(a != NULL && a->a_len == 0, "an empty file");
	ok(asset_find(&set, "static/.hidden") == NULL &&
	    asset_find(&set, "static/.git/config") == NULL,
	    "hidden files are not loaded");
	ok(asset_find(&set, "templates/login.html") == NULL &&
	    asset_find(&set, "static/../templates/login.html") == NULL,
	    "templates are not assets");
	ok(asset_find(&set, "themes/light/logo.png") == NULL,
	    "themes/ is not a URL path");
	ok(asset_find(&set, "static/nope.css") == NULL &&
	    asset_find(&set, "static") == NULL &&
	    asset_find(&set, "static/img") == NULL &&
	    asset_find(&set, "aaa") == NULL && asset_find(&set, "zzz") ==
	    NULL, "what is not there is not found");
	asset_set_free(&set);
	ok(set.as_n == 0 && set.as_files == NULL, "freed");

	/* Same bytes, same ETag; other bytes, another. */
	(void)load(NULL, &set);
	a = asset_find(&set, "static/main.css");
	ok(a != NULL && strcmp(a->a_etag, etag) == 0, "the ETag is stable");
	asset_set_free(&set);
	puts_("static/main.css", "body{x}");
	(void)load(NULL, &set);
	a = asset_find(&set, "static/main.css");
	ok(a != NULL && strcmp(a->a_etag, etag) != 0,
	    "the ETag follows the content");
	asset_set_free(&set);

	/* Themes. */
	ok(load("dark", &set) == 0 && (a = asset_find(&set,
	    "theme/logo.png")) != NULL && memcmp(a->a_data, "PNGD", 4) == 0 &&
	    asset_find(&set, "theme/styles.css") == NULL,
	    "theme dark: themes/dark only");
	asset_set_free(&set);
	ok(load("coreos", &set) == 0 && (a = asset_find(&set,
	    "theme/logo.png")) != NULL && memcmp(a->a_data, "PNGL", 4) == 0,
	    "theme coreos is light, as in Dex");
	asset_set_free(&set);
	ok(load("nosuch", &set) == 0 && asset_find(&set,
	    "theme/logo.png") == NULL && asset_find(&set,
	    "static/main.css") != NULL, "a theme with no directory: no "
	    "theme files");
	asset_set_free(&set);
	load_fails("../themes/light", "not a valid directory name",
	    "a theme that is a path is refused");
	load_fails(".hidden", "not a valid directory name",
	    "a hidden theme is refused");

	/* Names, links, special files. */
	puts_("static/a b.css", "x");
	load_fails(NULL, "static/a b.css", "a name with a space is refused, "
	    "by name");
	rm("static/a b.css");
	(void)snprintf(name, sizeof(name), "%s/static/link.css", top);
	ok(symlink("main.css", name) == 0, "make a symbolic link");
	load_fails(NULL, "static/link.css: a symbolic link",
	    "a symbolic link to a file inside is not followed");
	(void)unlink(name);
	(void)snprintf(name, sizeof(name), "%s/static/up", top);
	ok(symlink("..", name) == 0, "make a symbolic link to ..");
	load_fails(NULL, "static/up: a symbolic link",
	    "a symbolic link to a directory is not followed");
	(void)unlink(name);
	(void)snprintf(name, sizeof(name), "%s/static/fifo", top);
	ok(mkfifo(name, 0600) == 0, "make a FIFO");
	load_fails(NULL, "static/fifo: not a regular file",
	    "a FIFO is refused (and does not hang)");
	(void)unlink(name);
	(void)snprintf(name, sizeof(name), "%s/robots.txt", top);
	(void)unlink(name);
	ok(mkdir(name, 0755) == 0, "robots.txt as a directory");
	load_fails(NULL, "robots.txt: not a regular file",
	    "robots.txt must be a file");
	(void)rmdir(name);
	puts_("robots.txt", "User-agent: *\n");

	/* Limits. */
	{
		char	 rel[ASSET_PATH_MAX + 64];
		size_t	 n;

		n = (size_t)snprintf(rel, sizeof(rel), "static/");
		memset(rel + n, 'a', ASSET_PATH_MAX - n);
		rel[ASSET_PATH_MAX] = '\0';
		puts_(rel, "x");
		load_fails(NULL, "the path is longer than",
		    "a path over ASSET_PATH_MAX is refused");
		rm(rel);
		/* One less: the URL path just fits. */
		rel[ASSET_PATH_MAX - 1] = '\0';
		puts_(rel, "x");
		ok(load(NULL, &set) == 0 && asset_find(&set, rel) != NULL,
		    "a path of %d characters is fine", ASSET_PATH_MAX - 1);
		asset_set_free(&set);
		rm(rel);
	}
	{
		char	*big;

		if ((big = calloc(1, ASSET_FILE_MAX + 1)) == NULL)
			exit(1);
		put("static/big.bin", big, ASSET_FILE_MAX + 1);
		load_fails(NULL, "static/big.bin: 1048577 bytes",
		    "a file over ASSET_FILE_MAX is refused, by name");
		put("static/big.bin", big, ASSET_FILE_MAX);
		ok(load(NULL, &set) == 0 && (a = asset_find(&set,
		    "static/big.bin")) != NULL && a->a_len == ASSET_FILE_MAX,
		    "a file of ASSET_FILE_MAX is fine");
		asset_set_free(&set);
		for (i = 1; i < ASSET_TOTAL_MAX / ASSET_FILE_MAX; i++) {
			(void)snprintf(name, sizeof(name),
			    "static/big%zu.bin", i);
			put(name, big, ASSET_FILE_MAX);
		}
		load_fails(NULL, "the files add up to more than",
		    "a set over ASSET_TOTAL_MAX is refused");
		for (i = 0; i < ASSET_TOTAL_MAX / ASSET_FILE_MAX; i++) {
			(void)snprintf(name, sizeof(name),
			    i ? "static/big%zu.bin" : "static/big.bin", i);
			rm(name);
		}
		free(big);
	}
	for (i = 0; i < ASSET_FILES_MAX; i++) {
		(void)snprintf(name, sizeof(name), "static/many/f%zu.txt", i);
		puts_(name, "x");
	}
	load_fails(NULL, "more than 256 files",
	    "more than ASSET_FILES_MAX files are refused");
	(void)snprintf(name, sizeof(name), "static/many/f0.txt");
	rm(name);
	rm("static/main.css");
	rm("static/img/x.svg");
	rm("static/empty.txt");
	rm("robots.txt");
	/* Count what is left (theme "none": no theme files), fill up. */
	if (load("none", &set) == 0) {
		i = set.as_n;
		asset_set_free(&set);
		for (; i < ASSET_FILES_MAX; i++) {
			(void)snprintf(name, sizeof(name),
			    "static/more/g%zu.txt", i);
			puts_(name, "y");
		}
		ok(load("none", &set) == 0 && set.as_n == ASSET_FILES_MAX,
		    "exactly ASSET_FILES_MAX files are fine");
		asset_set_free(&set);
	} else
		ok(0, "exactly ASSET_FILES_MAX files: %s", err);

	/* A missing dir is an error; a dir with none of the parts is not. */
	(void)snprintf(name, sizeof(name), "%s/nonexistent", top);
	ok(asset_load(name, NULL, &set2, err, sizeof(err)) == -1 &&
	    strstr(err, "nonexistent") != NULL, "a missing dir is an error");
	(void)snprintf(name, sizeof(name), "%s/templates", top);
	ok(asset_load(name, NULL, &set2, err, sizeof(err)) == 0 &&
	    set2.as_n == 0, "a dir without static/, themes/, robots.txt: "
	    "an empty set");
}

struct sendstate {
	struct asset_set	*ss_recv;
	size_t			 ss_left;	/* chunks still to come */
	int			 ss_rv;
};

static int
send_chunk(const struct cfg_asset *ca, const void *data, size_t len,
    void *arg)
{
	struct sendstate	*ss = arg;

	ss->ss_rv = asset_recv(ss->ss_recv, ca, data, len);
	/* Complete early, or failed: stop. */
	if (ss->ss_rv == -1 || (ss->ss_rv == 1 && ca->ac_nfiles != 0 &&
	    (ca->ac_index + 1 != ca->ac_nfiles ||
	    ca->ac_offset + ca->ac_len != ca->ac_size)))
		return (-1);
	return (0);
}

/* Send set as config_setassets() does, into recv; the last result. */
static int
send_set(const struct asset_set *set, struct asset_set *recv)
{
	struct sendstate	ss;

	memset(&ss, 0, sizeof(ss));
	ss.ss_recv = recv;
	ss.ss_rv = -1;
	if (asset_send(set, send_chunk, &ss) != 0)
		return (-1);
	return (ss.ss_rv);
}

static void
chunk(struct cfg_asset *ca, const char *path, uint32_t nfiles,
    uint32_t index, uint32_t size, uint32_t offset, uint32_t len)
{
	memset(ca, 0, sizeof(*ca));
	(void)strlcpy(ca->ac_path, path, sizeof(ca->ac_path));
	(void)strlcpy(ca->ac_type, "text/plain", sizeof(ca->ac_type));
	(void)strlcpy(ca->ac_etag, "\"e\"", sizeof(ca->ac_etag));
	ca->ac_nfiles = nfiles;
	ca->ac_index = index;
	ca->ac_size = size;
	ca->ac_offset = offset;
	ca->ac_len = len;
}

static void
test_recv(void)
{
	struct asset_set	 set, got;
	struct cfg_asset	 ca;
	const struct asset	*a, *b;
	static char		 buf[ASSET_CHUNK * 3];
	char			 dir[64];
	size_t			 i, same;

	/* A set with a file of several chunks. */
	for (i = 0; i < sizeof(buf) - 7; i++)
		buf[i] = (char)(i * 7 + i / 256);
	put("rt/static/multi.bin", buf, sizeof(buf) - 7);
	puts_("rt/static/a.css", "a{}");
	put("rt/static/img/empty.svg", "", 0);
	puts_("rt/themes/light/logo.png", "PNG");
	puts_("rt/robots.txt", "User-agent: *\n");
	(void)snprintf(dir, sizeof(dir), "%s/rt", top);
	if (!ok(asset_load(dir, NULL, &set, err, sizeof(err)) == 0 &&
	    set.as_n == 5, "load for the round trip"))
		diag("%s", err);
	memset(&got, 0, sizeof(got));
	is_int(send_set(&set, &got), 1, "a set in chunks comes back whole, "
	    "complete on its last chunk");
	same = got.as_n == set.as_n && got.as_total == set.as_total;
	for (i = 0; same && i < set.as_n; i++) {
		a = &set.as_files[i];
		b = &got.as_files[i];
		same = strcmp(a->a_path, b->a_path) == 0 &&
		    strcmp(a->a_type, b->a_type) == 0 &&
		    strcmp(a->a_etag, b->a_etag) == 0 &&
		    a->a_len == b->a_len && b->a_have == b->a_len &&
		    memcmp(a->a_data, b->a_data, a->a_len) == 0;
	}
	ok(same, "same paths, types, ETags and bytes (%zu files)", set.as_n);
	a = asset_find(&got, "static/multi.bin");
	ok(a != NULL && a->a_len == sizeof(buf) - 7 &&
	    memcmp(a->a_data, buf, a->a_len) == 0, "the multi-chunk file");
	is_int(send_set(&set, &got), 1, "a second set replaces the first");
	ok(got.as_n == set.as_n, "with as many files");
	asset_set_free(&set);

	memset(&set, 0, sizeof(set));
	is_int(send_set(&set, &got), 1, "the empty set is one message");
	ok(got.as_n == 0 && got.as_files == NULL, "and leaves nothing");

	/* Chunks that do not fit. */
	chunk(&ca, "static/a.css", 2, 0, 4, 0, 4);
	is_int(asset_recv(&got, &ca, "abcd", 3), -1, "length mismatch");
	chunk(&ca, "static/a.css", 2, 0, 4, 0, 4);
	is_int(asset_recv(&got, &ca, "abcd", 4), 0, "first file");
	chunk(&ca, "static/a.css", 2, 1, 4, 0, 4);
	is_int(asset_recv(&got, &ca, "abcd", 4), -1, "a duplicate path");
	chunk(&ca, "static/0.css", 2, 1, 4, 0, 4);
	is_int(asset_recv(&got, &ca, "abcd", 4), -1, "out of order");

	chunk(&ca, "static/a.css", 1, 0, 8, 0, 4);
	is_int(asset_recv(&got, &ca, "abcd", 4), 0, "half a file");
	chunk(&ca, "static/a.css", 1, 0, 8, 5, 3);
	is_int(asset_recv(&got, &ca, "efg", 3), -1, "a gap");
	chunk(&ca, "static/a.css", 1, 0, 8, 0, 4);
	(void)asset_recv(&got, &ca, "abcd", 4);
	chunk(&ca, "static/a.css", 1, 0, 8, 4, 5);
	is_int(asset_recv(&got, &ca, "efghi", 5), -1, "past the end");
	chunk(&ca, "robots.txt", 2, 0, 1, 0, 1);
	(void)asset_recv(&got, &ca, "r", 1);
	chunk(&ca, "static/a.css", 2, 1, 8, 0, 4);
	(void)asset_recv(&got, &ca, "abcd", 4);
	is_int(asset_recv(&got, &ca, "abcd", 4), -1, "a file's first chunk "
	    "twice");
	chunk(&ca, "static/a.css", 1, 0, 8, 0, 4);
	(void)asset_recv(&got, &ca, "abcd", 4);
	chunk(&ca, "static/b.css", 1, 0, 8, 4, 4);
	is_int(asset_recv(&got, &ca, "efgh", 4), -1, "another file's chunk");
	chunk(&ca, "static/a.css", 1, 0, 8, 0, 4);
	(void)asset_recv(&got, &ca, "abcd", 4);
	chunk(&ca, "static/a.css", 1, 0, 9, 4, 4);
	is_int(asset_recv(&got, &ca, "efgh", 4), -1, "a size that changed");
	chunk(&ca, "static/a.css", 1, 0, 8, 0, 4);
	(void)asset_recv(&got, &ca, "abcd", 4);
	chunk(&ca, "static/a.css", 1, 0, 8, 4, 0);
	is_int(asset_recv(&got, &ca, "", 0), -1, "an empty chunk of a file "
	    "with bytes left");
	chunk(&ca, "static/a.css", 1, 0, 8, 0, 4);
	(void)asset_recv(&got, &ca, "abcd", 4);
	chunk(&ca, "static/a.css", 1, 0, 8, 4, 4);
	is_int(asset_recv(&got, &ca, "efgh", 4), 1, "the rest: complete");
	a = asset_find(&got, "static/a.css");
	ok(a != NULL && a->a_len == 8 && memcmp(a->a_data, "abcdefgh", 8) ==
	    0, "reassembled");
	chunk(&ca, "static/b.css", 1, 1, 8, 0, 4);
	is_int(asset_recv(&got, &ca, "abcd", 4), -1, "a chunk after the "
	    "end of the set");

	chunk(&ca, "static/../x", 1, 0, 1, 0, 1);
	is_int(asset_recv(&got, &ca, "x", 1), -1, "a bad path");
	chunk(&ca, "static/x", 1, 0, 1, 0, 1);
	memset(ca.ac_path, 'a', sizeof(ca.ac_path));
	is_int(asset_recv(&got, &ca, "x", 1), -1, "an unterminated path");
	chunk(&ca, "static/x", 1, 0, 1, 0, 1);
	(void)strlcpy(ca.ac_type, "text/plain\r\nX: y", sizeof(ca.ac_type));
	is_int(asset_recv(&got, &ca, "x", 1), -1, "a type with CRLF");
	chunk(&ca, "static/x", 1, 0, 1, 0, 1);
	ca.ac_etag[0] = '\0';
	is_int(asset_recv(&got, &ca, "x", 1), -1, "no ETag");
	chunk(&ca, "static/x", ASSET_FILES_MAX + 1, 0, 1, 0, 1);
	is_int(asset_recv(&got, &ca, "x", 1), -1, "too many files");
	chunk(&ca, "static/x", 1, 0, ASSET_FILE_MAX + 1, 0, 1);
	is_int(asset_recv(&got, &ca, "x", 1), -1, "a file too large");
	chunk(&ca, "static/x", 1, 0, 1, 0, ASSET_CHUNK + 1);
	is_int(asset_recv(&got, &ca, buf, ASSET_CHUNK + 1), -1,
	    "a chunk too large");
	{
		static char	 mb[ASSET_FILE_MAX];
		uint32_t	 n = ASSET_TOTAL_MAX / ASSET_FILE_MAX + 1, f;
		size_t		 off;
		char		 p[32];
		int		 rv = 0;

		for (f = 0; f < n && rv != -1; f++) {
			(void)snprintf(p, sizeof(p), "static/f%u", f);
			for (off = 0; off < sizeof(mb) && rv != -1;
			    off += ASSET_CHUNK) {
				chunk(&ca, p, n, f, sizeof(mb), off,
				    ASSET_CHUNK);
				rv = asset_recv(&got, &ca, mb + off,
				    ASSET_CHUNK);
			}
		}
		ok(rv == -1 && f == n, "a set over ASSET_TOTAL_MAX is refused "
		    "at its last file");
	}
	asset_set_free(&got);
	ok(asset_find(&got, "static/a.css") == NULL, "nothing in a freed set");
}

int
main(void)
{
	char	 cmd[PATH_MAX + 16];

	(void)snprintf(top, sizeof(top), "/tmp/t_asset.XXXXXX");
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	test_types();
	test_paths();
	test_load();
	test_recv();
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		diag("could not remove %s", top);
	return (tap_done());
}
