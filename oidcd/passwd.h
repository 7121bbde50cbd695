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
 * The password database (Dex's enablePasswordDB + staticPasswords, the
 * "local" connector) and the limiter of failed logins.  Pure: no imsg,
 * no event loop, the clock is an argument, so that the unit tester can
 * drive it with a fake one.
 */

#ifndef PASSWD_H
#define PASSWD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PASSWD_CONNECTOR_ID	"local"	/* Dex's built-in connector */

/* Limits on what arrives from the config and from the frontend. */
#define PASSWD_USERS_MAX	4096	/* entries in the database */
#define PASSWD_EMAIL_MAX	512	/* login name, bytes */
#define PASSWD_PASSWORD_MAX	1024	/* bcrypt reads 72 of them */
#define PASSWD_HASH_MAX		128	/* a bcrypt hash is 60 */
#define PASSWD_ADDR_MAX		64	/* remoteAddr, bytes */

/* Dex's bounds on the bcrypt cost of a stored hash (server/api.go). */
#define PASSWD_COST_MIN		10
#define PASSWD_COST_MAX		16
#define PASSWD_COST_DEFAULT	10	/* the dummy hash without users */

/*
 * Failed logins, counted per user (email) and per client address (an
 * IPv6 address per /64, since one host usually owns the whole /64).
 * PASSWD_RL_FAILS failures within PASSWD_RL_WINDOW seconds lock the
 * key out for PASSWD_RL_DELAY seconds, doubled for each lockout that
 * follows, up to PASSWD_RL_DELAY_MAX.  A key quiet for PASSWD_RL_FORGET
 * seconds starts afresh.  The table has a fixed size; the least
 * recently used entry makes room for a new one.
 */
#define PASSWD_RL_ENTRIES	4096
#define PASSWD_RL_BUCKETS	8192	/* hash chains, a power of two */
#define PASSWD_RL_FAILS		5
#define PASSWD_RL_WINDOW	300
#define PASSWD_RL_DELAY		60
#define PASSWD_RL_DELAY_MAX	900
#define PASSWD_RL_FORGET	86400
#define PASSWD_RL_V6_PREFIX	8	/* bytes of an IPv6 address kept */

/*
 * The connector's queue of password checks (connector.c): at most
 * PASSWD_QUEUE_MAX waiting, none answered after PASSWD_QUEUE_AGE_MS;
 * the others are answered "busy" without a bcrypt.
 */
#define PASSWD_QUEUE_MAX	32
#define PASSWD_QUEUE_AGE_MS	5000

/* Texts of the answers (Dex's for an invalid password). */
#define PASSWD_ERR_INVALID	"Invalid username or password"
#define PASSWD_ERR_LIMITED	"Too many failed login attempts; try again later."
#define PASSWD_ERR_NOTFOUND	"User not found."
#define PASSWD_ERR_LOGIN	"Login error."

/* What passwd_login() and passwd_refresh() found. */
#define PASSWD_OK		0
#define PASSWD_INVALID		1	/* unknown user or wrong password */
#define PASSWD_LIMITED		2	/* refused by the limiter */
#define PASSWD_BADHASH		3	/* entry unusable: cost or format */
#define PASSWD_NOTFOUND		4	/* refresh: user gone or changed */
#define PASSWD_ERROR		5	/* out of memory, bad input */

struct passwd_db;
struct passwd_rl;

/*
 * The database from the connector's config "passwords" array (see
 * config_connector()).  Entries with an over-long email are skipped
 * with a warning; a later duplicate email replaces an earlier one, as
 * Dex's static storage does.  Hash costs are not checked here: Dex
 * refuses a bad cost at login time, not at startup.
 */
struct passwd_db *passwd_db_load(const json_t *);
/*
 * The same without hashes: a directory for passwd_refresh() only, which
 * storage keeps to check a local user's refresh in the rotation's own
 * transaction.  passwd_login() on it fails with PASSWD_ERROR.
 */
struct passwd_db *passwd_dir_load(const json_t *);
void		 passwd_db_free(struct passwd_db *);
size_t		 passwd_db_count(const struct passwd_db *);
/* bcrypt runs so far, dummy ones included (for the tests) */
uint64_t	 passwd_db_bcrypt_runs(const struct passwd_db *);

/*
 * Check email/password.  Unknown users and wrong passwords both run
 * one bcrypt (a dummy hash for unknown users, at the cost most entries
 * use) and both return PASSWD_INVALID.  With rl not NULL, a user or an
 * address locked out returns PASSWD_LIMITED without running bcrypt
 * and *retry is set to the seconds left; a failure is counted; a
 * success clears the user's count.  On PASSWD_OK *identity is a new
 * object (the storage protocol's identity record).
 */
int		 passwd_login(struct passwd_db *, struct passwd_rl *,
		    const char *, const char *, size_t, const char *,
		    uint64_t, json_t **, uint64_t *);

/*
 * Dex's passwordDB.Refresh: the entry for the identity's email must
 * still be there with the same userId; *identity gets its current
 * claims.  Otherwise PASSWD_NOTFOUND.
 */
int		 passwd_refresh(const struct passwd_db *, const json_t *,
		    json_t **);

/* The bcrypt cost of a hash, or -1 if it is not a bcrypt hash. */
int		 passwd_hash_cost(const char *);

/* The limiter; the clock is in seconds, any monotonic origin. */
struct passwd_rl *passwd_rl_new(size_t);
void		 passwd_rl_free(struct passwd_rl *);
size_t		 passwd_rl_count(const struct passwd_rl *);
/* 0 when both may try, else seconds until both may */
uint64_t	 passwd_rl_check(struct passwd_rl *, const char *,
		    const char *, uint64_t);
void		 passwd_rl_fail(struct passwd_rl *, const char *,
		    const char *, uint64_t);
void		 passwd_rl_success(struct passwd_rl *, const char *,
		    uint64_t);
/*
 * The key an address counts under: an IPv4 address as is, an IPv6 one
 * as its /64 ("2001:db8:1:2::/64"), an IPv4-mapped one as IPv4, and
 * anything unparseable as the string itself.  -1 if it does not fit.
 */
int		 passwd_addr_key(const char *, char *, size_t);

#endif /* PASSWD_H */
