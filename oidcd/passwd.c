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
 * The password database and the failed-login limiter (passwd.h).
 *
 * Dex's passwordDB (server/server.go) looks the email up, refuses a
 * hash whose cost is outside 10..16, and compares with bcrypt.  We do
 * the same with libcrypt's crypt_r(), and also make an unknown user
 * cost one bcrypt, so that the time of the answer does not tell which
 * emails exist.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <crypt.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "log.h"
#include "passwd.h"

/* bcrypt reads at most this many bytes of a password. */
#define BCRYPT_KEY_MAX		72
#define RL_KEY_LEN		16	/* bytes of HMAC kept as the key */

struct passwd_user {
	char			*pu_email;	/* lowercased */
	json_t			*pu_entry;	/* the config object */
	size_t			 pu_order;	/* index in the config */
};

struct passwd_db {
	struct passwd_user	*pd_users;	/* sorted by email */
	size_t			 pd_nusers;
	/* a bcrypt setting with no hash: what unknown users cost */
	char			 pd_dummy[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data	*pd_cd;
	uint64_t		 pd_runs;
};

struct rl_entry {
	uint8_t			 re_key[RL_KEY_LEN];
	uint32_t		 re_fails;	/* in the current window */
	uint32_t		 re_lockouts;	/* so far, for the delay */
	uint64_t		 re_window;	/* start of the window */
	uint64_t		 re_until;	/* locked out until then */
	uint64_t		 re_last;	/* last failure or lookup */
	struct rl_entry		*re_next;	/* hash chain or free list */
	TAILQ_ENTRY(rl_entry)	 re_lru;
};
TAILQ_HEAD(rl_lru, rl_entry);

struct passwd_rl {
	struct rl_entry		*rl_entries;
	size_t			 rl_size;
	size_t			 rl_count;
	struct rl_entry		*rl_free;
	size_t			 rl_fresh;	/* entries never used yet */
	struct rl_entry		*rl_buckets[PASSWD_RL_BUCKETS];
	struct rl_lru		 rl_lru;	/* most recent first */
	/*
	 * Keys are an HMAC under a random secret, so that nobody can
	 * choose emails that all fall into one chain, and the table
	 * holds no email or address in clear.
	 */
	uint8_t			 rl_secret[32];
};

static int	 user_cmp(const void *, const void *);
static int	 email_cmp(const void *, const void *);
static struct passwd_user *db_find(const struct passwd_db *, const char *);
static int	 lower_copy(const char *, char *, size_t);
static int	 db_bcrypt(struct passwd_db *, const char *, const char *,
		    size_t, int *);
static json_t	*db_identity(const struct passwd_user *);
static const char *entry_str(const json_t *, const char *);
static void	 rl_keyof(const struct passwd_rl *, int, const char *,
		    uint8_t *);
static struct rl_entry *rl_lookup(struct passwd_rl *, const uint8_t *, int,
		    uint64_t);
static void	 rl_remove(struct passwd_rl *, struct rl_entry *);
static void	 rl_count_fail(struct rl_entry *, uint64_t);
static uint64_t	 rl_wait(struct passwd_rl *, int, const char *, uint64_t);

/*
 * The cost of a bcrypt hash: "$2b$10$..." (any minor letter, or none
 * as in "$2$10$").  -1 for anything else.
 */
int
passwd_hash_cost(const char *h)
{
	size_t	n;

	if (h == NULL || h[0] != '$' || h[1] != '2')
		return (-1);
	n = 2;
	if (h[n] != '$') {
		if (!islower((unsigned char)h[n]))
			return (-1);
		n++;
	}
	if (h[n] != '$' || !isdigit((unsigned char)h[n + 1]) ||
	    !isdigit((unsigned char)h[n + 2]) || h[n + 3] != '$')
		return (-1);
	return ((h[n + 1] - '0') * 10 + (h[n + 2] - '0'));
}

static int
user_cmp(const void *a, const void *b)
{
	const struct passwd_user	*ua = a, *ub = b;
	int				 c;

	/* By email, then by place in the config for the duplicates. */
	if ((c = strcmp(ua->pu_email, ub->pu_email)) != 0)
		return (c);
	if (ua->pu_order != ub->pu_order)
		return (ua->pu_order < ub->pu_order ? -1 : 1);
	return (0);
}

static int
email_cmp(const void *a, const void *b)
{
	const struct passwd_user	*ua = a, *ub = b;

	return (strcmp(ua->pu_email, ub->pu_email));
}

static const char *
entry_str(const json_t *o, const char *key)
{
	const char	*s;

	s = json_string_value(json_object_get(o, key));
	return (s != NULL ? s : "");
}

/* Lowercase (ASCII, as the config parser does) into buf; -1 if long. */
static int
lower_copy(const char *s, char *buf, size_t bufsz)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i + 1 >= bufsz)
			return (-1);
		buf[i] = (char)tolower((unsigned char)s[i]);
	}
	buf[i] = '\0';
	return (0);
}

/*
 * Load the static passwords.  With logins, every entry needs its hash
 * and the database can check passwords; without, it is the directory
 * that refreshes look users up in (storage's copy, which never holds a
 * hash): entries need an email only.
 */
static struct passwd_db *
db_load(const json_t *arr, int logins)
{
	struct passwd_db	*db;
	struct passwd_user	*u;
	const json_t		*e;
	const char		*email, *hash;
	char			 lower[PASSWD_EMAIL_MAX + 1];
	uint8_t			 salt[16];
	size_t			 i, j, n;
	unsigned int		 costs[PASSWD_COST_MAX + 1];
	int			 c, mode;

	if ((db = calloc(1, sizeof(*db))) == NULL)
		return (NULL);
	/* crypt_r wants its 32 KB zeroed before the first call. */
	if (logins && (db->pd_cd = calloc(1, sizeof(*db->pd_cd))) == NULL)
		goto fail;
	memset(costs, 0, sizeof(costs));
	n = json_is_array(arr) ? json_array_size(arr) : 0;
	if (n > PASSWD_USERS_MAX) {
		log_warnx("%zu static passwords, only the first %d are used",
		    n, PASSWD_USERS_MAX);
		n = PASSWD_USERS_MAX;
	}
	if (n > 0 && (db->pd_users = calloc(n, sizeof(*u))) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		e = json_array_get(arr, i);
		email = json_string_value(json_object_get(e, "email"));
		hash = json_string_value(json_object_get(e, "hash"));
		if (email == NULL || email[0] == '\0' ||
		    (logins && hash == NULL)) {
			log_warnx("static password %zu: no email or hash", i);
			continue;
		}
		if (lower_copy(email, lower, sizeof(lower)) == -1 ||
		    (hash != NULL && strlen(hash) > PASSWD_HASH_MAX)) {
			log_warnx("static password %zu: email or hash too "
			    "long", i);
			continue;
		}
		u = &db->pd_users[db->pd_nusers];
		if ((u->pu_email = strdup(lower)) == NULL ||
		    (u->pu_entry = json_deep_copy(e)) == NULL) {
			free(u->pu_email);
			goto fail;
		}
		u->pu_order = i;
		db->pd_nusers++;
		c = passwd_hash_cost(hash);
		if (c >= PASSWD_COST_MIN && c <= PASSWD_COST_MAX)
			costs[c]++;
	}
	/*
	 * Dex's static storage logs a duplicate email and the later entry
	 * wins: sorted by email then order, the last of a run is kept.
	 */
	if (db->pd_nusers > 0)
		qsort(db->pd_users, db->pd_nusers, sizeof(*u), user_cmp);
	for (i = 0, j = 0; i < db->pd_nusers; i++) {
		if (j > 0 && strcmp(db->pd_users[j - 1].pu_email,
		    db->pd_users[i].pu_email) == 0) {
			log_warnx("duplicate static password email \"%s\"",
			    db->pd_users[i].pu_email);
			free(db->pd_users[j - 1].pu_email);
			json_decref(db->pd_users[j - 1].pu_entry);
			db->pd_users[j - 1] = db->pd_users[i];
			continue;
		}
		db->pd_users[j++] = db->pd_users[i];
	}
	db->pd_nusers = j;
	if (!logins)
		return (db);

	/*
	 * The dummy costs what most real entries cost: a cheaper one
	 * would tell unknown emails from known ones by the time taken.
	 */
	mode = PASSWD_COST_DEFAULT;
	for (c = PASSWD_COST_MIN; c <= PASSWD_COST_MAX; c++)
		if (costs[c] > costs[mode])
			mode = c;
	arc4random_buf(salt, sizeof(salt));
	if (crypt_gensalt_rn("$2b$", (unsigned long)mode, (char *)salt,
	    sizeof(salt), db->pd_dummy, sizeof(db->pd_dummy)) == NULL) {
		log_warn("%s: crypt_gensalt_rn", __func__);
		goto fail;
	}
	return (db);
 fail:
	passwd_db_free(db);
	return (NULL);
}

struct passwd_db *
passwd_db_load(const json_t *arr)
{
	return (db_load(arr, 1));
}

struct passwd_db *
passwd_dir_load(const json_t *arr)
{
	return (db_load(arr, 0));
}

void
passwd_db_free(struct passwd_db *db)
{
	size_t	i;

	if (db == NULL)
		return;
	for (i = 0; i < db->pd_nusers; i++) {
		free(db->pd_users[i].pu_email);
		json_decref(db->pd_users[i].pu_entry);
	}
	free(db->pd_users);
	freezero(db->pd_cd, db->pd_cd != NULL ? sizeof(*db->pd_cd) : 0);
	free(db);
}

size_t
passwd_db_count(const struct passwd_db *db)
{
	return (db->pd_nusers);
}

uint64_t
passwd_db_bcrypt_runs(const struct passwd_db *db)
{
	return (db->pd_runs);
}

static struct passwd_user *
db_find(const struct passwd_db *db, const char *email)
{
	struct passwd_user	 key;
	char			 lower[PASSWD_EMAIL_MAX + 1];

	if (db->pd_nusers == 0 ||
	    lower_copy(email, lower, sizeof(lower)) == -1)
		return (NULL);
	key.pu_email = lower;
	return (bsearch(&key, db->pd_users, db->pd_nusers, sizeof(key),
	    email_cmp));
}

/*
 * One bcrypt of pw (pwlen bytes) against hash; *match tells.  A
 * password with a NUL inside, or longer than PASSWD_PASSWORD_MAX,
 * still costs its bcrypt but never matches.  -1 when crypt_r refuses
 * the hash.
 */
static int
db_bcrypt(struct passwd_db *db, const char *hash, const char *pw,
    size_t pwlen, int *match)
{
	char		 key[BCRYPT_KEY_MAX + 1];
	const char	*out;
	size_t		 klen, hlen;
	int		 ok = 1, ret = 0;

	*match = 0;
	if (pwlen > PASSWD_PASSWORD_MAX || memchr(pw, '\0', pwlen) != NULL) {
		ok = 0;
		pwlen = 0;
	}
	/*
	 * bcrypt ignores what follows byte 72; cutting it here keeps
	 * libcrypt's own passphrase limit (512) out of the way, as Go's
	 * bcrypt, which Dex uses, has none.
	 */
	klen = pwlen > BCRYPT_KEY_MAX ? BCRYPT_KEY_MAX : pwlen;
	memcpy(key, pw, klen);
	key[klen] = '\0';

	db->pd_runs++;
	out = crypt_r(key, hash, db->pd_cd);
	explicit_bzero(key, sizeof(key));
	if (out == NULL || out[0] == '*') {
		ret = -1;
		goto done;
	}
	hlen = strlen(hash);
	if (strlen(out) == hlen && CRYPTO_memcmp(out, hash, hlen) == 0 &&
	    ok)
		*match = 1;
 done:
	/* The key schedule in there was derived from the password. */
	explicit_bzero(db->pd_cd, sizeof(*db->pd_cd));
	return (ret);
}

static json_t *
db_identity(const struct passwd_user *u)
{
	const json_t	*e = u->pu_entry, *v;
	const char	*name;
	json_t		*groups;
	size_t		 i;

	/* Dex: the identity's username is name, else username. */
	name = entry_str(e, "name");
	if (name[0] == '\0')
		name = entry_str(e, "username");
	if ((groups = json_array()) == NULL)
		return (NULL);
	json_array_foreach(json_object_get(e, "groups"), i, v)
		if (json_is_string(v))
			json_array_append(groups, (json_t *)v);
	v = json_object_get(e, "emailVerified");
	return (json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:s}",
	    "userId", entry_str(e, "userId"),
	    "username", name,
	    "preferredUsername", entry_str(e, "preferredUsername"),
	    "email", u->pu_email,
	    "emailVerified", json_is_boolean(v) ? json_is_true(v) : 1,
	    "groups", groups,
	    "connectorId", PASSWD_CONNECTOR_ID));
}

int
passwd_login(struct passwd_db *db, struct passwd_rl *rl, const char *email,
    const char *pw, size_t pwlen, const char *addr, uint64_t now,
    json_t **identity, uint64_t *retry)
{
	struct passwd_user	*u;
	const char		*hash;
	int			 cost, match;

	*identity = NULL;
	if (retry != NULL)
		*retry = 0;
	/* A directory (passwd_dir_load()) checks no password. */
	if (email == NULL || pw == NULL || db->pd_cd == NULL)
		return (PASSWD_ERROR);
	if (rl != NULL) {
		uint64_t	wait;

		if ((wait = passwd_rl_check(rl, email, addr, now)) > 0) {
			if (retry != NULL)
				*retry = wait;
			return (PASSWD_LIMITED);
		}
	}

	if ((u = db_find(db, email)) == NULL) {
		/* Same work, same answer as a wrong password. */
		(void)db_bcrypt(db, db->pd_dummy, pw, pwlen, &match);
		if (rl != NULL)
			passwd_rl_fail(rl, email, addr, now);
		return (PASSWD_INVALID);
	}
	hash = entry_str(u->pu_entry, "hash");
	cost = passwd_hash_cost(hash);
	if (cost < PASSWD_COST_MIN || cost > PASSWD_COST_MAX) {
		/* Dex's checkCost(): a config mistake, refused at login. */
		log_warnx("password entry \"%s\": bcrypt cost %d is outside "
		    "%d..%d; login refused", u->pu_email, cost,
		    PASSWD_COST_MIN, PASSWD_COST_MAX);
		return (PASSWD_BADHASH);
	}
	if (db_bcrypt(db, hash, pw, pwlen, &match) == -1) {
		log_warnx("password entry \"%s\": crypt_r refused the hash",
		    u->pu_email);
		return (PASSWD_BADHASH);
	}
	if (!match) {
		if (rl != NULL)
			passwd_rl_fail(rl, email, addr, now);
		return (PASSWD_INVALID);
	}
	if (rl != NULL)
		passwd_rl_success(rl, email, now);
	if ((*identity = db_identity(u)) == NULL)
		return (PASSWD_ERROR);
	return (PASSWD_OK);
}

int
passwd_refresh(const struct passwd_db *db, const json_t *old, json_t **id)
{
	struct passwd_user	*u;
	const char		*email;

	*id = NULL;
	email = json_string_value(json_object_get(old, "email"));
	if (email == NULL || (u = db_find(db, email)) == NULL)
		return (PASSWD_NOTFOUND);
	/* Removed and added again under the same email: not the same. */
	if (strcmp(entry_str(u->pu_entry, "userId"),
	    entry_str(old, "userId")) != 0)
		return (PASSWD_NOTFOUND);
	if ((*id = db_identity(u)) == NULL)
		return (PASSWD_ERROR);
	return (PASSWD_OK);
}

/*
 * The limiter.
 */

int
passwd_addr_key(const char *addr, char *buf, size_t bufsz)
{
	struct in6_addr	 in6;
	struct in_addr	 in4;
	char		 tmp[PASSWD_ADDR_MAX + 1], out[INET6_ADDRSTRLEN];
	const char	*p;
	size_t		 len;
	int		 r;

	len = strlen(addr);
	if (len > PASSWD_ADDR_MAX)
		return (-1);
	/* "[2001:db8::1]:443" and "[2001:db8::1]" */
	p = addr;
	if (p[0] == '[' && (p = strchr(addr, ']')) != NULL) {
		len = p - addr - 1;
		memcpy(tmp, addr + 1, len);
		tmp[len] = '\0';
	} else
		memcpy(tmp, addr, len + 1);

	if (inet_pton(AF_INET, tmp, &in4) == 1) {
		if (inet_ntop(AF_INET, &in4, out, sizeof(out)) == NULL)
			return (-1);
		r = snprintf(buf, bufsz, "%s", out);
	} else if (inet_pton(AF_INET6, tmp, &in6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&in6)) {
			memcpy(&in4, &in6.s6_addr[12], sizeof(in4));
			if (inet_ntop(AF_INET, &in4, out, sizeof(out)) ==
			    NULL)
				return (-1);
			r = snprintf(buf, bufsz, "%s", out);
		} else {
			/* One host usually has a whole /64. */
			memset(&in6.s6_addr[PASSWD_RL_V6_PREFIX], 0,
			    sizeof(in6.s6_addr) - PASSWD_RL_V6_PREFIX);
			if (inet_ntop(AF_INET6, &in6, out, sizeof(out)) ==
			    NULL)
				return (-1);
			r = snprintf(buf, bufsz, "%s/%d", out,
			    PASSWD_RL_V6_PREFIX * 8);
		}
	} else
		r = snprintf(buf, bufsz, "%s", addr);
	if (r < 0 || (size_t)r >= bufsz)
		return (-1);
	return (0);
}

struct passwd_rl *
passwd_rl_new(size_t size)
{
	struct passwd_rl	*rl;

	if (size == 0 || size > PASSWD_RL_ENTRIES)
		size = PASSWD_RL_ENTRIES;
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return (NULL);
	if ((rl->rl_entries = calloc(size, sizeof(*rl->rl_entries))) ==
	    NULL) {
		free(rl);
		return (NULL);
	}
	/*
	 * Entries are handed out in order as they are first needed, so
	 * that an idle connector does not touch (and keep resident) the
	 * whole table.
	 */
	rl->rl_size = size;
	TAILQ_INIT(&rl->rl_lru);
	arc4random_buf(rl->rl_secret, sizeof(rl->rl_secret));
	return (rl);
}

void
passwd_rl_free(struct passwd_rl *rl)
{
	if (rl == NULL)
		return;
	free(rl->rl_entries);
	freezero(rl, sizeof(*rl));
}

size_t
passwd_rl_count(const struct passwd_rl *rl)
{
	return (rl->rl_count);
}

/* kind 'u': a user (lowercased email), 'a': an address key. */
static void
rl_keyof(const struct passwd_rl *rl, int kind, const char *s, uint8_t *key)
{
	uint8_t		 md[EVP_MAX_MD_SIZE];
	char		 buf[PASSWD_EMAIL_MAX + 2];
	unsigned int	 mdlen = 0;
	size_t		 i;

	/* Over-long strings are cut: they can only be failures anyway. */
	buf[0] = (char)kind;
	for (i = 0; s[i] != '\0' && i < PASSWD_EMAIL_MAX; i++)
		buf[i + 1] = kind == 'u' ?
		    (char)tolower((unsigned char)s[i]) : s[i];
	if (HMAC(EVP_sha256(), rl->rl_secret, sizeof(rl->rl_secret),
	    (const uint8_t *)buf, i + 1, md, &mdlen) == NULL ||
	    mdlen < RL_KEY_LEN)
		fatalx("%s: HMAC", __func__);
	memcpy(key, md, RL_KEY_LEN);
}

static size_t
rl_bucket(const uint8_t *key)
{
	uint32_t	h;

	memcpy(&h, key, sizeof(h));
	return (h & (PASSWD_RL_BUCKETS - 1));
}

static void
rl_remove(struct passwd_rl *rl, struct rl_entry *e)
{
	struct rl_entry	**pp;

	for (pp = &rl->rl_buckets[rl_bucket(e->re_key)]; *pp != NULL;
	    pp = &(*pp)->re_next)
		if (*pp == e) {
			*pp = e->re_next;
			break;
		}
	TAILQ_REMOVE(&rl->rl_lru, e, re_lru);
	memset(e, 0, sizeof(*e));
	e->re_next = rl->rl_free;
	rl->rl_free = e;
	rl->rl_count--;
}

/*
 * The entry for key, made most recently used; with create, a new one
 * (evicting the least recently used when full) if there is none.
 */
static struct rl_entry *
rl_lookup(struct passwd_rl *rl, const uint8_t *key, int create,
    uint64_t now)
{
	struct rl_entry	*e;
	size_t		 b = rl_bucket(key);

	for (e = rl->rl_buckets[b]; e != NULL; e = e->re_next)
		if (memcmp(e->re_key, key, RL_KEY_LEN) == 0)
			break;
	if (e != NULL && now >= e->re_last + PASSWD_RL_FORGET &&
	    now >= e->re_until) {
		/* Quiet for long enough: forgiven. */
		rl_remove(rl, e);
		e = NULL;
	}
	if (e == NULL) {
		if (!create)
			return (NULL);
		if (rl->rl_free == NULL && rl->rl_fresh < rl->rl_size)
			e = &rl->rl_entries[rl->rl_fresh++];
		else {
			if (rl->rl_free == NULL)
				rl_remove(rl, TAILQ_LAST(&rl->rl_lru, rl_lru));
			e = rl->rl_free;
			rl->rl_free = e->re_next;
		}
		memset(e, 0, sizeof(*e));
		memcpy(e->re_key, key, RL_KEY_LEN);
		e->re_next = rl->rl_buckets[b];
		rl->rl_buckets[b] = e;
		TAILQ_INSERT_HEAD(&rl->rl_lru, e, re_lru);
		rl->rl_count++;
	} else if (e != TAILQ_FIRST(&rl->rl_lru)) {
		TAILQ_REMOVE(&rl->rl_lru, e, re_lru);
		TAILQ_INSERT_HEAD(&rl->rl_lru, e, re_lru);
	}
	e->re_last = now;
	return (e);
}

static uint64_t
rl_wait(struct passwd_rl *rl, int kind, const char *s, uint64_t now)
{
	struct rl_entry	*e;
	uint8_t		 key[RL_KEY_LEN];

	rl_keyof(rl, kind, s, key);
	if ((e = rl_lookup(rl, key, 0, now)) == NULL || e->re_until <= now)
		return (0);
	return (e->re_until - now);
}

uint64_t
passwd_rl_check(struct passwd_rl *rl, const char *user, const char *addr,
    uint64_t now)
{
	char		 akey[PASSWD_ADDR_MAX + 8];
	uint64_t	 w, wait = 0;

	if (user != NULL)
		wait = rl_wait(rl, 'u', user, now);
	if (addr != NULL && passwd_addr_key(addr, akey, sizeof(akey)) == 0 &&
	    (w = rl_wait(rl, 'a', akey, now)) > wait)
		wait = w;
	return (wait);
}

static void
rl_count_fail(struct rl_entry *e, uint64_t now)
{
	uint64_t	delay;

	if (e->re_fails == 0 || now >= e->re_window + PASSWD_RL_WINDOW) {
		e->re_fails = 0;
		e->re_window = now;
	}
	if (++e->re_fails < PASSWD_RL_FAILS)
		return;
	/* Each lockout in a row doubles the delay, up to the cap. */
	delay = PASSWD_RL_DELAY;
	if (e->re_lockouts < 32)
		delay <<= e->re_lockouts;
	else
		delay = PASSWD_RL_DELAY_MAX;
	if (delay > PASSWD_RL_DELAY_MAX)
		delay = PASSWD_RL_DELAY_MAX;
	e->re_lockouts++;
	e->re_until = now + delay;
	e->re_fails = 0;
}

void
passwd_rl_fail(struct passwd_rl *rl, const char *user, const char *addr,
    uint64_t now)
{
	char		 akey[PASSWD_ADDR_MAX + 8];
	uint8_t		 key[RL_KEY_LEN];

	if (user != NULL) {
		rl_keyof(rl, 'u', user, key);
		rl_count_fail(rl_lookup(rl, key, 1, now), now);
	}
	if (addr != NULL && passwd_addr_key(addr, akey, sizeof(akey)) == 0) {
		rl_keyof(rl, 'a', akey, key);
		rl_count_fail(rl_lookup(rl, key, 1, now), now);
	}
}

/*
 * A right password clears the user's count, not the address's: one
 * account of one's own must not buy guesses at the others.
 */
void
passwd_rl_success(struct passwd_rl *rl, const char *user, uint64_t now)
{
	struct rl_entry	*e;
	uint8_t		 key[RL_KEY_LEN];

	rl_keyof(rl, 'u', user, key);
	if ((e = rl_lookup(rl, key, 0, now)) != NULL)
		rl_remove(rl, e);
}
