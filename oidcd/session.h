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
 * Browser sessions, the frontend's side (the records are store.c's):
 * the cookie, and the OpenID Connect parameters that decide whether a
 * session may sign the user in (prompt, max_age).  Pure functions, so
 * that unit testers and fuzz targets can use them alone.
 */

#ifndef SESSION_H
#define SESSION_H

#include <stddef.h>
#include <stdint.h>

#define SESSION_COOKIE_BYTES	32	/* random bytes of the cookie */
#define SESSION_COOKIE_LEN	43	/* ... in base64url */
#define SESSION_HASH_LEN	43	/* base64url SHA-256, for storage */
#define SESSION_COOKIE_HDR_MAX	1024	/* the Set-Cookie value */
#define SESSION_PROMPT_MAX	256	/* bytes of a prompt parameter */
#define SESSION_MAX_AGE_MAX	((int64_t)1 << 40)	/* seconds */
#define SESSION_HINT_MAX	16384	/* bytes of an id_token_hint */

/* prompt (OpenID Connect Core §3.1.2.1) as a set. */
#define SESSION_PROMPT_NONE	0x1
#define SESSION_PROMPT_LOGIN	0x2
#define SESSION_PROMPT_CONSENT	0x4
#define SESSION_PROMPT_SELECT	0x8	/* select_account */

int	 session_prompt_parse(const char *, int *);
int	 session_max_age_parse(const char *, int64_t *);
int	 session_cookie_find(const char *, const char *, char *, size_t);
char	*session_cookie_make(char **);
char	*session_cookie_hash(const char *);
char	*session_set_cookie(const char *, const char *, const char *, int,
	    int64_t);

#endif /* SESSION_H */
