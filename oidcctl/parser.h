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

#ifndef OIDCCTL_PARSER_H
#define OIDCCTL_PARSER_H

/* Longest file name oidcctl accepts on its command line. */
/* The control socket, unless -s names another. */
#define OIDCCTL_SOCKET		"/run/oidcd.sock"
#define OIDCCTL_MAX_ARG		1024	/* a user id, token or session */
#define OIDCCTL_MAX_TOKEN	16384	/* an access token (a JWT) */
#define OIDCCTL_MAX_PATH	4096
/* Reply items (processes, keys) oidcctl prints before it gives up. */
#define OIDCCTL_MAX_REPLIES	10000
/* Seconds oidcctl waits for the daemon to answer. */
#define OIDCCTL_TIMEOUT		60

enum actions {
	NONE,
	SHOW_STATUS,
	SHOW_KEYS,
	KEY_ROTATE,
	RELOAD,
	LOG_VERBOSE,
	LOG_BRIEF,
	GC,
	TOKEN_SIGN,
	SHOW_CLIENTS,
	SHOW_SESSIONS,
	REVOKE_USER,
	REVOKE_TOKEN,
	REVOKE_FAMILY
};

struct parse_result {
	enum actions	 action;
	int		 token_type;	/* SIGN_TOKEN_ID or SIGN_TOKEN_ACCESS */
	const char	*path;		/* reload file, claims file or "-" */
	const char	*arg;		/* a user id, token or session */
};

struct parse_result	*parse(int, char *[]);

#endif /* OIDCCTL_PARSER_H */
