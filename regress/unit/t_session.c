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
 * session.c: prompt and max_age as OpenID Connect Core and Dex master
 * read them, the session cookie in a Cookie header, Set-Cookie's flags.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "oidcd.h"
#include "session.h"
#include "tap.h"

#define C43	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234"

static int
prompt(const char *s)
{
	int	 f = -1;

	if (session_prompt_parse(s, &f) == -1)
		return (-1);
	return (f);
}

static void
test_prompt(void)
{
	char	 big[SESSION_PROMPT_MAX + 2];

	is_int(prompt(""), 0, "no prompt");
	is_int(prompt("none"), SESSION_PROMPT_NONE, "none");
	is_int(prompt("login"), SESSION_PROMPT_LOGIN, "login");
	is_int(prompt("login consent"),
	    SESSION_PROMPT_LOGIN | SESSION_PROMPT_CONSENT, "login consent");
	is_int(prompt("  select_account  "), SESSION_PROMPT_SELECT,
	    "select_account, spaces around");
	is_int(prompt("none login"), -1, "none with login refused");
	is_int(prompt("consent none"), -1, "none after another refused");
	is_int(prompt("login login"), -1, "a repeated value refused");
	is_int(prompt("bogus"), -1, "an unknown value refused");
	is_int(prompt("nonelogin"), -1, "no prefix matching");
	is_int(prompt("non"), -1, "no prefix matching, short");
	is_int(prompt("NONE"), -1, "case matters");
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_int(prompt(big), -1, "too long refused");
}

static void
test_max_age(void)
{
	int64_t	 v = -1;

	ok(session_max_age_parse("0", &v) == 0 && v == 0, "max_age 0");
	ok(session_max_age_parse("3600", &v) == 0 && v == 3600,
	    "max_age 3600");
	is_int(session_max_age_parse("", &v), -1, "empty refused");
	is_int(session_max_age_parse("-1", &v), -1, "negative refused");
	is_int(session_max_age_parse("1.5", &v), -1, "fraction refused");
	is_int(session_max_age_parse(" 1", &v), -1, "space refused");
	is_int(session_max_age_parse("99999999999999999999", &v), -1,
	    "overflow refused");
	is_int(session_max_age_parse("1099511627777", &v), -1,
	    "over SESSION_MAX_AGE_MAX refused");
}

static void
test_cookie(void)
{
	char	 out[SESSION_COOKIE_LEN + 1], *c, *h, *h2, *s;

	ok(session_cookie_find("dex_session=" C43, "dex_session", out,
	    sizeof(out)) == 0 && strcmp(out, C43) == 0, "the only cookie");
	ok(session_cookie_find("a=b; dex_session=" C43 "; c=d",
	    "dex_session", out, sizeof(out)) == 0 && strcmp(out, C43) == 0,
	    "among others");
	ok(session_cookie_find("x_dex_session=" C43 "; dex_session=" C43,
	    "dex_session", out, sizeof(out)) == 0, "after a longer name");
	is_int(session_cookie_find("x_dex_session=" C43, "dex_session", out,
	    sizeof(out)), -1, "a name with ours as suffix is not ours");
	is_int(session_cookie_find("dex_session_x=" C43, "dex_session", out,
	    sizeof(out)), -1, "a name with ours as prefix is not ours");
	is_int(session_cookie_find("dex_session=short", "dex_session", out,
	    sizeof(out)), -1, "wrong length refused");
	is_int(session_cookie_find("dex_session=" C43 "x", "dex_session",
	    out, sizeof(out)), -1, "too long refused");
	is_int(session_cookie_find("dex_session=abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJ+/01234", "dex_session", out, sizeof(out)), -1,
	    "not base64url refused");
	ok(session_cookie_find("dex_session=bad; dex_session=" C43,
	    "dex_session", out, sizeof(out)) == 0, "a bad one, then ours");
	is_int(session_cookie_find(NULL, "dex_session", out, sizeof(out)),
	    -1, "no Cookie header");
	is_int(session_cookie_find("dex_session=" C43, "dex_session", out,
	    10), -1, "no room");

	h = session_cookie_make(&c);
	is_int(strlen(c), SESSION_COOKIE_LEN, "a new cookie: 43 chars");
	is_int(strlen(h), SESSION_HASH_LEN, "its hash: 43 chars");
	h2 = session_cookie_hash(c);
	is_str(h2, h, "the hash is the cookie's");
	ok(strcmp(h, c) != 0, "the hash is not the cookie");
	free(h2);
	free(h);
	h = session_cookie_make(&s);
	ok(strcmp(s, c) != 0, "two cookies differ");
	free(h);
	free(s);
	free(c);
	/* SHA-256("abc"), RFC 4634's test vector, in base64url. */
	h = session_cookie_hash("abc");
	is_str(h, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0",
	    "SHA-256 of the cookie, base64url");
	free(h);

	s = session_set_cookie("dex_session", C43, "/dex/", 0, 86400);
	is_str(s, "dex_session=" C43 "; Path=/dex/; Max-Age=86400; "
	    "HttpOnly; SameSite=Lax", "Set-Cookie over HTTP");
	free(s);
	s = session_set_cookie("dex_session", C43, "/", 1, 60);
	is_str(s, "dex_session=" C43 "; Path=/; Max-Age=60; HttpOnly; "
	    "SameSite=Lax; Secure", "Set-Cookie over HTTPS: Secure");
	free(s);
}

int
main(void)
{
	log_init(1, LOG_DAEMON);
	test_prompt();
	test_max_age();
	test_cookie();
	return (tap_done());
}
