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
 * Unit tests for passwd.c: the local users and the failed-login
 * limiter.  The hashes are made here with crypt_r() and a salt from
 * /dev/urandom, not with passwd.c; the limiter runs on a fake clock.
 */

#include <sys/types.h>

#include <crypt.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "passwd.h"
#include "tap.h"

#define T0	100000		/* fake clock start, seconds */

static struct crypt_data	cd;

/* A bcrypt hash of pw at cost, salted from /dev/urandom. */
static char *
make_hash(const char *pw, int cost)
{
	char		 setting[CRYPT_GENSALT_OUTPUT_SIZE], rnd[16];
	const char	*h;
	int		 fd;

	if ((fd = open("/dev/urandom", O_RDONLY)) == -1 ||
	    read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd)) {
		perror("/dev/urandom");
		exit(1);
	}
	close(fd);
	if (crypt_gensalt_rn("$2b$", cost, rnd, sizeof(rnd), setting,
	    sizeof(setting)) == NULL ||
	    (h = crypt_r(pw, setting, &cd)) == NULL || h[0] == '*') {
		fprintf(stderr, "crypt failed\n");
		exit(1);
	}
	return (strdup(h));
}

/* The same hash with another cost in its header: never runs. */
static char *
recost(const char *h, int cost)
{
	char	*s = strdup(h);

	s[4] = '0' + cost / 10;
	s[5] = '0' + cost % 10;
	return (s);
}

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static int
login(struct passwd_db *db, struct passwd_rl *rl, const char *user,
    const char *pw, const char *addr, uint64_t now, json_t **id,
    uint64_t *retry)
{
	json_t	*tmp = NULL;
	int	 r;

	r = passwd_login(db, rl, user, pw, strlen(pw), addr, now,
	    id != NULL ? id : &tmp, retry);
	json_decref(tmp);
	return (r);
}

static const char *
idstr(const json_t *id, const char *k)
{
	return (json_string_value(json_object_get(id, k)));
}

static char	*h_alice, *h_dave, *h_bob9, *h_carol17, *h_eve1, *h_eve2;

static json_t *
users(int with_alice, const char *alice_name, const char *alice_id)
{
	json_t	*a;

	a = json_array();
	if (with_alice)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:s, s:b, s:s, s:[s,s]}",
		    "email", "alice@example.com", "hash", h_alice,
		    "username", "alice", "name", alice_name,
		    "preferredUsername", "ally", "emailVerified", 1,
		    "userId", alice_id, "groups", "admins", "devs"));
	json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:b, s:s}",
	    "email", "dave@example.com", "hash", h_dave,
	    "username", "dave", "emailVerified", 0, "userId", "4444"));
	json_array_append_new(a, json_pack("{s:s, s:s, s:s}",
	    "email", "bob@example.com", "hash", h_bob9, "userId", "2222"));
	json_array_append_new(a, json_pack("{s:s, s:s, s:s}",
	    "email", "carol@example.com", "hash", h_carol17,
	    "userId", "3333"));
	json_array_append_new(a, json_pack("{s:s, s:s, s:s}",
	    "email", "eve@example.com", "hash", h_eve1, "userId", "5551"));
	json_array_append_new(a, json_pack("{s:s, s:s, s:s}",
	    "email", "eve@example.com", "hash", h_eve2, "userId", "5552"));
	return (a);
}

static void
test_login(void)
{
	struct passwd_db	*db;
	json_t			*arr, *id = NULL;
	uint64_t		 runs;
	char			 nul[] = "wonderland\0x", longpw[2048];

	arr = users(1, "Alice Liddell", "1111");
	db = passwd_db_load(arr);
	json_decref(arr);
	ok(db != NULL, "database loads");
	is_int(passwd_db_count(db), 5, "five users (eve once)");

	is_int(passwd_hash_cost(h_alice), 10, "cost of a $2b$10$ hash");
	is_int(passwd_hash_cost("$2a$12$abc"), 12, "cost of $2a$12$");
	is_int(passwd_hash_cost("$2$05$abc"), 5, "cost of $2$05$");
	is_int(passwd_hash_cost("$1$abc$def"), -1, "md5crypt: no cost");
	is_int(passwd_hash_cost("$2b$1$x"), -1, "one digit: no cost");

	runs = passwd_db_bcrypt_runs(db);
	is_int(login(db, NULL, "alice@example.com", "wonderland", NULL, T0,
	    &id, NULL), PASSWD_OK, "right password");
	is_int(passwd_db_bcrypt_runs(db), runs + 1, "one bcrypt");
	is_str(idstr(id, "userId"), "1111", "userId verbatim");
	is_str(idstr(id, "username"), "Alice Liddell", "username is name");
	is_str(idstr(id, "preferredUsername"), "ally", "preferredUsername");
	is_str(idstr(id, "email"), "alice@example.com", "email");
	ok(json_is_true(json_object_get(id, "emailVerified")),
	    "emailVerified");
	is_str(json_string_value(json_array_get(json_object_get(id,
	    "groups"), 1)), "devs", "groups");
	is_str(idstr(id, "connectorId"), "local", "connectorId local");
	json_decref(id);
	id = NULL;

	is_int(login(db, NULL, "ALICE@Example.COM", "wonderland", NULL, T0,
	    &id, NULL), PASSWD_OK, "email is case-insensitive");
	is_str(idstr(id, "email"), "alice@example.com",
	    "identity email lowercased");
	json_decref(id);
	id = NULL;

	is_int(login(db, NULL, "dave@example.com", "dave-pw", NULL, T0, &id,
	    NULL), PASSWD_OK, "dave logs in");
	is_str(idstr(id, "username"), "dave", "username without name");
	ok(json_is_false(json_object_get(id, "emailVerified")),
	    "emailVerified false kept");
	is_int(json_array_size(json_object_get(id, "groups")), 0,
	    "no groups: empty list");
	json_decref(id);

	is_int(login(db, NULL, "eve@example.com", "eve2", NULL, T0, NULL,
	    NULL), PASSWD_OK, "duplicate email: the later entry wins");
	is_int(login(db, NULL, "eve@example.com", "eve1", NULL, T0, NULL,
	    NULL), PASSWD_INVALID, "duplicate email: the earlier is gone");

	runs = passwd_db_bcrypt_runs(db);
	is_int(login(db, NULL, "alice@example.com", "Wonderland", NULL, T0,
	    NULL, NULL), PASSWD_INVALID, "wrong password");
	is_int(passwd_db_bcrypt_runs(db), runs + 1, "wrong password: bcrypt");
	is_int(login(db, NULL, "nobody@example.com", "wonderland", NULL, T0,
	    NULL, NULL), PASSWD_INVALID, "unknown user: same answer");
	is_int(passwd_db_bcrypt_runs(db), runs + 2, "unknown user: bcrypt");
	is_int(login(db, NULL, "alice@example.com", "wonderlan", NULL, T0,
	    NULL, NULL), PASSWD_INVALID, "a prefix of the password");
	is_int(passwd_login(db, NULL, "alice@example.com", nul,
	    sizeof(nul) - 1, NULL, T0, &id, NULL), PASSWD_INVALID,
	    "password with a NUL inside");
	is_int(passwd_db_bcrypt_runs(db), runs + 4, "NUL: bcrypt all the same");
	memset(longpw, 'a', sizeof(longpw));
	is_int(passwd_login(db, NULL, "alice@example.com", longpw,
	    sizeof(longpw), NULL, T0, &id, NULL), PASSWD_INVALID,
	    "over-long password");
	is_int(passwd_db_bcrypt_runs(db), runs + 5, "long: bcrypt too");

	runs = passwd_db_bcrypt_runs(db);
	is_int(login(db, NULL, "bob@example.com", "bob-pw", NULL, T0, NULL,
	    NULL), PASSWD_BADHASH, "cost 9 refused at login");
	is_int(login(db, NULL, "carol@example.com", "carol-pw", NULL, T0,
	    NULL, NULL), PASSWD_BADHASH, "cost 17 refused at login");
	is_int(passwd_db_bcrypt_runs(db), runs, "no bcrypt for a bad cost");

	passwd_db_free(db);
}

/* Mean seconds of n logins. */
static double
timed(struct passwd_db *db, const char *user, int n)
{
	double	t;
	int	i;

	t = now_s();
	for (i = 0; i < n; i++)
		login(db, NULL, user, "not-the-password", NULL, T0, NULL,
		    NULL);
	return ((now_s() - t) / n);
}

static void
test_timing(void)
{
	struct passwd_db	*db;
	json_t			*arr;
	char			*h11;
	double			 tu, tw;

	arr = users(1, "Alice", "1111");
	db = passwd_db_load(arr);
	json_decref(arr);
	tw = timed(db, "alice@example.com", 4);
	tu = timed(db, "nobody@example.com", 4);
	printf("# cost 10: wrong password %.1f ms, unknown user %.1f ms\n",
	    tw * 1e3, tu * 1e3);
	ok(tu > tw * 0.6 && tu < tw * 1.6,
	    "unknown user takes as long as a wrong password");
	passwd_db_free(db);

	/* Users at cost 11: the dummy must follow, or it is twice as fast. */
	h11 = make_hash("x", 11);
	arr = json_pack("[{s:s, s:s}, {s:s, s:s}]",
	    "email", "a@x", "hash", h11, "email", "b@x", "hash", h11);
	db = passwd_db_load(arr);
	json_decref(arr);
	tw = timed(db, "a@x", 3);
	tu = timed(db, "nobody@x", 3);
	printf("# cost 11: wrong password %.1f ms, unknown user %.1f ms\n",
	    tw * 1e3, tu * 1e3);
	ok(tu > tw * 0.7 && tu < tw * 1.4,
	    "the dummy hash has the users' cost");
	passwd_db_free(db);
	free(h11);
}

static void
test_refresh(void)
{
	struct passwd_db	*db, *db2;
	json_t			*arr, *id = NULL, *nid = NULL, *old;

	arr = users(1, "Alice", "1111");
	db = passwd_db_load(arr);
	json_decref(arr);
	login(db, NULL, "alice@example.com", "wonderland", NULL, T0, &id,
	    NULL);

	is_int(passwd_refresh(db, id, &nid), PASSWD_OK, "refresh");
	ok(json_equal(id, nid), "refresh: same claims");
	json_decref(nid);

	/* The config changes the name: the refresh shows it. */
	arr = users(1, "Alice Pleasance", "1111");
	db2 = passwd_db_load(arr);
	json_decref(arr);
	is_int(passwd_refresh(db2, id, &nid), PASSWD_OK, "refresh, renamed");
	is_str(idstr(nid, "username"), "Alice Pleasance", "new name");
	json_decref(nid);
	passwd_db_free(db2);

	/* Removed. */
	arr = users(0, NULL, NULL);
	db2 = passwd_db_load(arr);
	json_decref(arr);
	is_int(passwd_refresh(db2, id, &nid), PASSWD_NOTFOUND,
	    "refresh of a removed user");
	ok(nid == NULL, "no identity");
	passwd_db_free(db2);

	/* Removed and made again with another userId. */
	arr = users(1, "Alice", "9999");
	db2 = passwd_db_load(arr);
	json_decref(arr);
	is_int(passwd_refresh(db2, id, &nid), PASSWD_NOTFOUND,
	    "refresh after the userId changed");
	passwd_db_free(db2);

	old = json_pack("{s:s, s:s}", "email", "ALICE@example.com",
	    "userId", "1111");
	is_int(passwd_refresh(db, old, &nid), PASSWD_OK,
	    "refresh: email case-insensitive");
	json_decref(nid);
	json_decref(old);
	old = json_pack("{s:s}", "userId", "1111");
	is_int(passwd_refresh(db, old, &nid), PASSWD_NOTFOUND,
	    "refresh without an email");
	json_decref(old);
	json_decref(id);
	passwd_db_free(db);
}

static void
test_ratelimit_user(void)
{
	struct passwd_db	*db;
	struct passwd_rl	*rl;
	json_t			*arr;
	uint64_t		 runs, retry = 0, t = T0;
	char			 addr[32];
	int			 i, n;

	arr = users(1, "Alice", "1111");
	db = passwd_db_load(arr);
	json_decref(arr);
	rl = passwd_rl_new(0);

	/* Five failures from five addresses: the user is locked. */
	for (i = 0; i < PASSWD_RL_FAILS; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%d", i + 1);
		is_int(login(db, rl, "alice@example.com", "guess", addr, t + i,
		    NULL, &retry), PASSWD_INVALID, "failure %d", i + 1);
	}
	t += PASSWD_RL_FAILS - 1;
	runs = passwd_db_bcrypt_runs(db);
	is_int(login(db, rl, "Alice@Example.com", "wonderland", "198.51.100.1",
	    t + 1, NULL, &retry), PASSWD_LIMITED,
	    "locked: even the right password, from a new address");
	is_int(retry, PASSWD_RL_DELAY - 1, "retry after the rest of 60 s");
	is_int(passwd_db_bcrypt_runs(db), runs, "refused without bcrypt");
	is_int(login(db, rl, "dave@example.com", "dave-pw", "192.0.2.1",
	    t + 1, NULL, NULL), PASSWD_OK, "another user is not locked");

	t += PASSWD_RL_DELAY;
	for (i = 0; i < PASSWD_RL_FAILS - 1; i++)
		login(db, rl, "alice@example.com", "guess", "192.0.2.10",
		    t + i, NULL, NULL);
	t += PASSWD_RL_FAILS;
	is_int(login(db, rl, "alice@example.com", "wonderland", "192.0.2.9",
	    t, NULL, NULL), PASSWD_OK, "after the delay: logged in");
	/* The success cleared the count: four more failures do not lock. */
	for (i = 0; i < PASSWD_RL_FAILS - 1; i++)
		login(db, rl, "alice@example.com", "guess", "192.0.2.11",
		    t + i, NULL, NULL);
	is_int(passwd_rl_check(rl, "alice@example.com", NULL, t + 5), 0,
	    "a success clears the user's count");

	/* Failures spread wider than the window never lock. */
	t += 1000;
	for (i = 0, n = 0; i < 3 * PASSWD_RL_FAILS; i++)
		if (login(db, rl, "nobody@example.com", "guess", NULL,
		    t + (uint64_t)i * (PASSWD_RL_WINDOW / 4 + 1), NULL,
		    NULL) != PASSWD_INVALID)
			n++;
	is_int(n, 0, "failures slower than %d per %d s never lock",
	    PASSWD_RL_FAILS, PASSWD_RL_WINDOW);

	/* Lockouts in a row double the delay, up to the cap. */
	t += 100000;
	for (i = 0; i < 6; i++) {
		uint64_t	want;
		int		j;

		want = (uint64_t)PASSWD_RL_DELAY << i;
		if (want > PASSWD_RL_DELAY_MAX)
			want = PASSWD_RL_DELAY_MAX;
		for (j = 0; j < PASSWD_RL_FAILS; j++)
			passwd_rl_fail(rl, "mallory@example.com", NULL, t);
		is_int(passwd_rl_check(rl, "mallory@example.com", NULL, t),
		    want, "lockout %d: %llu s", i + 1,
		    (unsigned long long)want);
		t += want;
	}
	is_int(passwd_rl_check(rl, "MALLORY@example.com", NULL, t), 0,
	    "free again after the delay");
	t += PASSWD_RL_FORGET;
	for (i = 0; i < PASSWD_RL_FAILS; i++)
		passwd_rl_fail(rl, "mallory@example.com", NULL, t);
	is_int(passwd_rl_check(rl, "mallory@example.com", NULL, t),
	    PASSWD_RL_DELAY, "a day of quiet: back to the first delay");

	passwd_rl_free(rl);
	passwd_db_free(db);
}

static void
test_ratelimit_addr(void)
{
	struct passwd_db	*db;
	struct passwd_rl	*rl;
	json_t			*arr;
	char			 user[64], key[PASSWD_ADDR_MAX + 8];
	char			 longaddr[PASSWD_ADDR_MAX + 2];
	uint64_t		 t = T0;
	int			 i;

	arr = users(1, "Alice", "1111");
	db = passwd_db_load(arr);
	json_decref(arr);
	rl = passwd_rl_new(0);

	for (i = 0; i < PASSWD_RL_FAILS; i++) {
		snprintf(user, sizeof(user), "user%d@example.com", i);
		login(db, rl, user, "guess", "203.0.113.7", t, NULL, NULL);
	}
	is_int(login(db, rl, "alice@example.com", "wonderland",
	    "203.0.113.7", t, NULL, NULL), PASSWD_LIMITED,
	    "address locked after failures on different users");
	is_int(login(db, rl, "alice@example.com", "wonderland",
	    "203.0.113.8", t, NULL, NULL), PASSWD_OK,
	    "another address is not");
	is_int(login(db, rl, "alice@example.com", "wonderland",
	    "::ffff:203.0.113.7", t, NULL, NULL), PASSWD_LIMITED,
	    "the same address IPv4-mapped is locked too");

	/* Five addresses of one /64. */
	for (i = 0; i < PASSWD_RL_FAILS; i++) {
		snprintf(user, sizeof(user), "v6user%d@example.com", i);
		snprintf(key, sizeof(key), "2001:db8:1:2:%x::%x", i * 4099,
		    i + 1);
		login(db, rl, user, "guess", key, t, NULL, NULL);
	}
	is_int(login(db, rl, "alice@example.com", "wonderland",
	    "2001:db8:1:2:ffff:ffff:ffff:fffe", t, NULL, NULL),
	    PASSWD_LIMITED, "an IPv6 address counts per /64");
	is_int(login(db, rl, "alice@example.com", "wonderland",
	    "2001:db8:1:3::1", t, NULL, NULL), PASSWD_OK,
	    "the next /64 is not locked");

	ok(passwd_addr_key("2001:DB8:1:2:aaaa:bbbb:cccc:dddd", key,
	    sizeof(key)) == 0, "addr key of IPv6");
	is_str(key, "2001:db8:1:2::/64", "IPv6 key is the /64");
	passwd_addr_key("[2001:db8::1]:443", key, sizeof(key));
	is_str(key, "2001:db8::/64", "bracketed IPv6 with a port");
	passwd_addr_key("::ffff:10.1.2.3", key, sizeof(key));
	is_str(key, "10.1.2.3", "IPv4-mapped is IPv4");
	passwd_addr_key("10.1.2.3", key, sizeof(key));
	is_str(key, "10.1.2.3", "IPv4 is itself");
	passwd_addr_key("unix", key, sizeof(key));
	is_str(key, "unix", "anything else is itself");
	memset(longaddr, '1', sizeof(longaddr) - 1);
	longaddr[sizeof(longaddr) - 1] = '\0';
	ok(passwd_addr_key(longaddr, key, sizeof(key)) == -1,
	    "over-long address refused");

	passwd_rl_free(rl);
	passwd_db_free(db);
}

static void
test_lru(void)
{
	struct passwd_rl	*rl;
	char			 user[64];
	uint64_t		 t = T0;
	int			 i, j;

	rl = passwd_rl_new(16);
	for (i = 0; i < 1000; i++) {
		snprintf(user, sizeof(user), "u%d@example.com", i);
		passwd_rl_fail(rl, user, "192.0.2.1", t);
	}
	is_int(passwd_rl_count(rl), 16, "table bounded at its size");
	passwd_rl_free(rl);

	rl = passwd_rl_new(16);
	for (j = 0; j < PASSWD_RL_FAILS; j++)
		passwd_rl_fail(rl, "victim@example.com", NULL, t);
	ok(passwd_rl_check(rl, "victim@example.com", NULL, t) > 0,
	    "victim locked");
	/* Others come and go; the victim, still tried, stays. */
	for (i = 0; i < 100; i++) {
		snprintf(user, sizeof(user), "o%d@example.com", i);
		passwd_rl_fail(rl, user, NULL, t);
		if (i % 8 == 0)
			passwd_rl_check(rl, "victim@example.com", NULL, t);
	}
	ok(passwd_rl_check(rl, "victim@example.com", NULL, t) > 0,
	    "a recently used entry is not evicted");
	for (i = 0; i < 16; i++) {
		snprintf(user, sizeof(user), "p%d@example.com", i);
		passwd_rl_fail(rl, user, NULL, t);
	}
	is_int(passwd_rl_check(rl, "victim@example.com", NULL, t), 0,
	    "the least recently used entry is evicted");
	is_int(passwd_rl_count(rl), 16, "still 16 entries");
	passwd_rl_success(rl, "p15@example.com", t);
	is_int(passwd_rl_count(rl), 15, "a success frees the user's entry");
	passwd_rl_free(rl);
}

int
main(void)
{
	char	*h_tmp;

	h_alice = make_hash("wonderland", 10);
	h_dave = make_hash("dave-pw", 10);
	h_bob9 = make_hash("bob-pw", 9);
	h_carol17 = make_hash("carol-pw", 10);
	h_tmp = h_carol17;
	h_carol17 = recost(h_tmp, 17);
	free(h_tmp);
	h_eve1 = make_hash("eve1", 10);
	h_eve2 = make_hash("eve2", 10);

	test_login();
	test_timing();
	test_refresh();
	test_ratelimit_user();
	test_ratelimit_addr();
	test_lru();

	free(h_alice);
	free(h_dave);
	free(h_bob9);
	free(h_carol17);
	free(h_eve1);
	free(h_eve2);
	return (tap_done());
}
