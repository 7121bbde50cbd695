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
 * The files of frontend.dir that Dex serves beside its pages:
 * dir/static/... at static/..., dir/themes/<theme>/... at theme/...,
 * and dir/robots.txt.  The parent reads them as root (asset_load()),
 * each frontend gets them in IMSG_CFG_ASSET chunks and puts them back
 * together (asset_recv()), and serves them by their URL path
 * (asset_find()).  A set is a sorted array, so a lookup is a binary
 * search and a path that is not in it is simply not found: no request
 * path ever reaches a file system.
 */

#ifndef ASSET_H
#define ASSET_H

#include <stddef.h>
#include <stdint.h>

#define ASSET_FILES_MAX		256		/* files in a set */
#define ASSET_FILE_MAX		(1024 * 1024)	/* bytes in one file */
#define ASSET_TOTAL_MAX		(4 * 1024 * 1024) /* bytes in a set */
/*
 * URL path ("static/img/x.svg") with its NUL; it also bounds how deep
 * the walk of dir/static goes.  Each name is [A-Za-z0-9._-]+ and does
 * not start with '.'; names that do (".git", ".DS_Store") are skipped.
 */
#define ASSET_PATH_MAX		128
#define ASSET_NAME_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
				"abcdefghijklmnopqrstuvwxyz0123456789._-"
#define ASSET_THEME_MAX		64		/* frontend.theme */
#define ASSET_TYPE_MAX		48		/* Content-Type */
#define ASSET_ETAG_MAX		40		/* quoted hash */
#define ASSET_CHUNK		(64 * 1024)	/* bytes per imsg */

struct asset {
	char		 a_path[ASSET_PATH_MAX];	/* URL path */
	char		 a_type[ASSET_TYPE_MAX];
	char		 a_etag[ASSET_ETAG_MAX];
	uint8_t		*a_data;
	size_t		 a_len;
	size_t		 a_have;	/* asset_recv(): bytes so far */
};

struct asset_set {
	struct asset	*as_files;	/* sorted by a_path, unique */
	size_t		 as_n;
	size_t		 as_total;	/* bytes */
	size_t		 as_cur;	/* asset_recv(): file in transit */
};

/*
 * IMSG_CFG_ASSET: one chunk of one file; ac_len bytes follow.  A set
 * is sent whole, in path order, each file's chunks in order; the
 * chunk at index 0, offset 0 starts a new set.  An empty set is one
 * message with ac_nfiles 0: it takes the frontend back to the
 * built-in assets.
 */
struct cfg_asset {
	char		 ac_path[ASSET_PATH_MAX];
	char		 ac_type[ASSET_TYPE_MAX];
	char		 ac_etag[ASSET_ETAG_MAX];
	uint32_t	 ac_nfiles;	/* in the set */
	uint32_t	 ac_index;	/* of this file */
	uint32_t	 ac_size;	/* of this file */
	uint32_t	 ac_offset;
	uint32_t	 ac_len;
};

int		 asset_load(const char *, const char *, struct asset_set *,
		    char *, size_t);
void		 asset_set_free(struct asset_set *);
int		 asset_recv(struct asset_set *, const struct cfg_asset *,
		    const void *, size_t);
int		 asset_send(const struct asset_set *,
		    int (*)(const struct cfg_asset *, const void *, size_t,
		    void *), void *);
const struct asset *asset_find(const struct asset_set *, const char *);
int		 asset_path_ok(const char *);
const char	*asset_type(const char *);

#endif /* ASSET_H */
