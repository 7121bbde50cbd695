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
 * The signer process: the only holder of the JWT signing keys
 * (DESIGN.md §4.4, §4.5).  Keys live in the signer's own LMDB env in
 * its chroot.  Life cycle: next (published, not used) -> active
 * (published, signs) -> retired (published until every token it signed
 * has expired, plus the JWKS max-age) -> deleted by the expiry GC.  The
 * serialized JWKS is broadcast to the frontends whenever it changes.
 * Every signature is logged: the signer is the audit point.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "oidcd.h"
#include "db.h"
#include "jose.h"

#define SIGNER_KEYS_MAX		16	/* keys kept at once */
#define SIGNER_TICK_MAX		30	/* seconds between schedule checks */
#define SIGNER_AUD_MAX		1024

struct signer_key {
	TAILQ_ENTRY(signer_key)	 sk_entry;
	char			 sk_kid[JOSE_KID_LEN + 1];
	enum jose_alg		 sk_alg;
	unsigned int		 sk_state;
	uint64_t		 sk_created;
	uint64_t		 sk_promoted;
	uint64_t		 sk_retire;
	uint64_t		 sk_signatures;
	EVP_PKEY		*sk_pkey;
};
TAILQ_HEAD(signer_keys, signer_key);

struct signer_env {
	struct privsep		*se_ps;
	struct db		*se_db;
	struct signer_keys	 se_keys;
	struct event		*se_tick;
	int			 se_configured;
	int			 se_rotate_now;
	uint64_t		 se_generation;
	char			*se_jwks;
	size_t			 se_jwks_len;
	/* from IMSG_CFG_GLOBAL */
	char			*se_issuer;
	enum jose_alg		 se_alg;
	uint64_t		 se_rotation;	/* seconds */
	uint64_t		 se_idtokens;	/* seconds */
	uint64_t		 se_max_age;	/* seconds */
	uint64_t		 se_ahead;	/* seconds */
	json_t			*se_audiences;	/* object: client id -> true */
};

static struct signer_env	*env;

static int	 signer_dispatch_parent(int, struct privsep_proc *,
		    struct imsg *);
static int	 signer_dispatch_frontend(int, struct privsep_proc *,
		    struct imsg *);
static int	 signer_dispatch_control(int, struct privsep_proc *,
		    struct imsg *);
static void	 signer_run(struct privsep *, struct privsep_proc *, void *);
static void	 signer_schedule(void);
static void	 signer_publish(int);

static struct privsep_proc procs[] = {
	{ "parent",	PROC_PARENT,	signer_dispatch_parent },
	{ "frontend",	PROC_FRONTEND,	signer_dispatch_frontend },
	{ "control",	PROC_CONTROL,	signer_dispatch_control },
};

void
signer(struct privsep *ps, struct privsep_proc *p)
{
	if ((env = calloc(1, sizeof(*env))) == NULL)
		fatal("%s: calloc", __func__);
	TAILQ_INIT(&env->se_keys);
	env->se_ps = ps;
	proc_run(ps, p, procs, sizeof(procs) / sizeof(procs[0]),
	    signer_run, NULL);
}

static void
signer_run(struct privsep *ps, struct privsep_proc *p, void *arg)
{
	struct db_config	 dc;

	/*
	 * No mlockall(): with MCL_FUTURE the LMDB map would count against
	 * RLIMIT_MEMLOCK of an unprivileged user and fail.  The process is
	 * not dumpable (sandbox_privdrop) and keys are freezero()d.
	 */
	memset(&dc, 0, sizeof(dc));
	dc.dc_mapsize = 64 * 1024 * 1024;
	dc.dc_kinds = DB_KINDS_SIGNER;
	if ((env->se_db = db_open(".", &dc)) == NULL)
		fatalx("%s: cannot open the key database", __func__);
}

static void
signer_key_free(struct signer_key *sk)
{
	if (sk == NULL)
		return;
	EVP_PKEY_free(sk->sk_pkey);
	freezero(sk, sizeof(*sk));
}

static void
signer_keys_clear(void)
{
	struct signer_key	*sk;

	while ((sk = TAILQ_FIRST(&env->se_keys)) != NULL) {
		TAILQ_REMOVE(&env->se_keys, sk, sk_entry);
		signer_key_free(sk);
	}
}

/* Load one stored key record; called for each entry of the keys kind. */
static int
signer_load_one(const void *key, size_t keylen, const void *val,
    size_t vallen, void *arg)
{
	struct signer_key	*sk;
	struct db_rechdr	 hdr;
	json_t			*obj = NULL;
	const char		*alg, *der64;
	uint8_t			*der = NULL;
	size_t			 derlen = 0;
	json_int_t		 state, created, promoted, retire;

	(void)arg;
	if (keylen != JOSE_KID_LEN)
		goto bad;
	if (db_record_decode(val, vallen, &hdr, &obj) != DB_OK)
		goto bad;
	if (json_unpack(obj, "{s:s, s:I, s:I, s:I, s:I, s:s}",
	    "alg", &alg, "state", &state, "created", &created,
	    "promoted", &promoted, "retire", &retire, "der", &der64) == -1)
		goto bad;
	if ((sk = calloc(1, sizeof(*sk))) == NULL)
		fatal("%s: calloc", __func__);
	memcpy(sk->sk_kid, key, keylen);
	sk->sk_alg = jose_alg_from_name(alg);
	sk->sk_state = state;
	sk->sk_created = created;
	sk->sk_promoted = promoted;
	sk->sk_retire = retire;
	if (jose_b64url_decode(der64, strlen(der64), &der, &derlen) == -1 ||
	    (sk->sk_pkey = jose_privkey_from_der(der, derlen)) == NULL ||
	    jose_key_check(sk->sk_pkey, sk->sk_alg) == -1) {
		freezero(der, derlen);
		signer_key_free(sk);
		goto bad;
	}
	freezero(der, derlen);
	TAILQ_INSERT_TAIL(&env->se_keys, sk, sk_entry);
	json_decref(obj);
	return (0);
 bad:
	json_decref(obj);
	log_warnx("%s: skipping an unreadable key record", __func__);
	return (0);
}

static void
signer_load(void)
{
	struct db_txn	*txn;

	signer_keys_clear();
	if ((txn = db_txn_begin(env->se_db, 0)) == NULL)
		fatalx("%s: db_txn_begin", __func__);
	if (db_foreach(txn, DB_KIND_KEYS, NULL, 0, signer_load_one,
	    NULL) < 0)
		fatalx("%s: cannot read the keys", __func__);
	db_txn_abort(txn);
}

static int
signer_store(struct db_txn *txn, struct signer_key *sk)
{
	json_t		*obj;
	uint8_t		*der;
	char		*der64;
	size_t		 derlen;
	int		 rv;

	if ((der = jose_privkey_to_der(sk->sk_pkey, &derlen)) == NULL)
		return (-1);
	der64 = jose_b64url_encode(der, derlen);
	freezero(der, derlen);
	if (der64 == NULL)
		return (-1);
	obj = json_pack("{s:s, s:I, s:I, s:I, s:I, s:s}",
	    "alg", jose_alg_name(sk->sk_alg),
	    "state", (json_int_t)sk->sk_state,
	    "created", (json_int_t)sk->sk_created,
	    "promoted", (json_int_t)sk->sk_promoted,
	    "retire", (json_int_t)sk->sk_retire,
	    "der", der64);
	freezero(der64, strlen(der64));
	if (obj == NULL)
		return (-1);
	/* Retired keys carry an expiry so the GC deletes them in time. */
	rv = db_put(txn, DB_KIND_KEYS, sk->sk_kid, JOSE_KID_LEN, 1, obj,
	    sk->sk_state == KEY_STATE_RETIRED ? sk->sk_retire : 0);
	/* The JSON held the key in base64; wipe it before freeing. */
	json_object_set_new(obj, "der", json_string(""));
	json_decref(obj);
	return (rv == DB_OK ? 0 : -1);
}

static struct signer_key *
signer_key_new(unsigned int state, uint64_t now)
{
	struct signer_key	*sk;

	if ((sk = calloc(1, sizeof(*sk))) == NULL)
		fatal("%s: calloc", __func__);
	sk->sk_alg = env->se_alg;
	if ((sk->sk_pkey = jose_key_generate(env->se_alg)) == NULL)
		fatalx("%s: key generation failed", __func__);
	if (jose_kid_generate(sk->sk_kid, sizeof(sk->sk_kid)) == -1)
		fatalx("%s: kid generation failed", __func__);
	sk->sk_state = state;
	sk->sk_created = now;
	sk->sk_promoted = state == KEY_STATE_ACTIVE ? now : 0;
	log_info("generated %s key %s (%s)", jose_alg_name(sk->sk_alg),
	    sk->sk_kid, key_state_name(state));
	return (sk);
}

static struct signer_key *
signer_find(unsigned int state)
{
	struct signer_key	*sk;

	TAILQ_FOREACH(sk, &env->se_keys, sk_entry)
		if (sk->sk_state == state)
			return (sk);
	return (NULL);
}

/*
 * Bring the key set to where the schedule says it should be, in one
 * write txn: retired keys past their time go, a due rotation promotes
 * the next key (only once it has been published for the publish-ahead
 * time), and there is always an active and a next key.  Returns 1 when
 * the public key set changed.
 */
static int
signer_rotate(uint64_t now)
{
	struct signer_key	*sk, *tmp, *active, *next;
	struct db_txn		*txn;
	int			 changed = 0, n;

	if ((txn = db_txn_begin(env->se_db, 1)) == NULL)
		fatalx("%s: db_txn_begin", __func__);

	TAILQ_FOREACH_SAFE(sk, &env->se_keys, sk_entry, tmp) {
		if (sk->sk_state == KEY_STATE_RETIRED && sk->sk_retire <= now) {
			log_info("deleted retired key %s", sk->sk_kid);
			if (db_del(txn, DB_KIND_KEYS, sk->sk_kid,
			    JOSE_KID_LEN) < DB_NOTFOUND)
				fatalx("%s: db_del", __func__);
			TAILQ_REMOVE(&env->se_keys, sk, sk_entry);
			signer_key_free(sk);
			changed = 1;
		} else if (sk->sk_alg != env->se_alg &&
		    sk->sk_state == KEY_STATE_NEXT) {
			/* The algorithm changed: the next key is useless. */
			if (db_del(txn, DB_KIND_KEYS, sk->sk_kid,
			    JOSE_KID_LEN) < DB_NOTFOUND)
				fatalx("%s: db_del", __func__);
			TAILQ_REMOVE(&env->se_keys, sk, sk_entry);
			signer_key_free(sk);
			changed = 1;
		}
	}

	active = signer_find(KEY_STATE_ACTIVE);
	next = signer_find(KEY_STATE_NEXT);

	if (active == NULL) {
		/*
		 * First start: nobody can have cached a JWKS yet, so the
		 * first key signs at once.
		 */
		active = signer_key_new(KEY_STATE_ACTIVE, now);
		TAILQ_INSERT_HEAD(&env->se_keys, active, sk_entry);
		if (signer_store(txn, active) == -1)
			fatalx("%s: cannot store a key", __func__);
		changed = 1;
	} else if (next != NULL &&
	    (env->se_rotate_now || active->sk_alg != env->se_alg ||
	    now >= active->sk_promoted + env->se_rotation) &&
	    now >= next->sk_created + env->se_ahead) {
		active->sk_state = KEY_STATE_RETIRED;
		active->sk_retire = now + env->se_idtokens + env->se_max_age;
		next->sk_state = KEY_STATE_ACTIVE;
		next->sk_promoted = now;
		if (signer_store(txn, active) == -1 ||
		    signer_store(txn, next) == -1)
			fatalx("%s: cannot store a key", __func__);
		log_info("rotated: key %s is active, %s retires at %llu",
		    next->sk_kid, active->sk_kid,
		    (unsigned long long)active->sk_retire);
		TAILQ_REMOVE(&env->se_keys, next, sk_entry);
		TAILQ_INSERT_HEAD(&env->se_keys, next, sk_entry);
		env->se_rotate_now = 0;
		next = NULL;
		changed = 1;
	}
	if (next == NULL) {
		next = signer_key_new(KEY_STATE_NEXT, now);
		TAILQ_INSERT_TAIL(&env->se_keys, next, sk_entry);
		if (signer_store(txn, next) == -1)
			fatalx("%s: cannot store a key", __func__);
		changed = 1;
	}

	/* Too many retired keys (tiny test periods): drop the oldest. */
	n = 0;
	TAILQ_FOREACH(sk, &env->se_keys, sk_entry)
		n++;
	while (n > SIGNER_KEYS_MAX) {
		TAILQ_FOREACH(sk, &env->se_keys, sk_entry)
			if (sk->sk_state == KEY_STATE_RETIRED)
				break;
		if (sk == NULL)
			break;
		log_warnx("too many keys: deleting retired key %s early",
		    sk->sk_kid);
		(void)db_del(txn, DB_KIND_KEYS, sk->sk_kid, JOSE_KID_LEN);
		TAILQ_REMOVE(&env->se_keys, sk, sk_entry);
		signer_key_free(sk);
		n--;
	}

	if (db_txn_commit(txn) != DB_OK)
		fatalx("%s: cannot commit the key set", __func__);
	return (changed);
}

/* Serialize the JWKS: active first, then retired oldest first, then next. */
static void
signer_jwks_build(void)
{
	static const unsigned int order[] = { KEY_STATE_ACTIVE,
	    KEY_STATE_RETIRED, KEY_STATE_NEXT };
	struct signer_key	*sk;
	json_t			*keys, *jwk;
	unsigned int		 i;

	if ((keys = json_array()) == NULL)
		fatal("%s: json_array", __func__);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		TAILQ_FOREACH(sk, &env->se_keys, sk_entry) {
			if (sk->sk_state != order[i])
				continue;
			if ((jwk = jose_jwk_public(sk->sk_pkey, sk->sk_alg,
			    sk->sk_kid)) == NULL)
				fatalx("%s: jose_jwk_public", __func__);
			json_array_append_new(keys, jwk);
		}
	}
	free(env->se_jwks);
	if ((env->se_jwks = jose_jwks_serialize(keys, &env->se_jwks_len)) ==
	    NULL)
		fatalx("%s: jose_jwks_serialize", __func__);
	json_decref(keys);
	env->se_generation++;
}

/* Send the JWKS to one frontend, or to all with n == -1. */
static void
signer_publish(int n)
{
	struct jwks_update	 ju;
	struct iovec		 iov[2];

	if (env->se_jwks == NULL)
		return;
	ju.ju_generation = env->se_generation;
	ju.ju_max_age = env->se_max_age;
	ju.ju_len = env->se_jwks_len;
	iov[0].iov_base = &ju;
	iov[0].iov_len = sizeof(ju);
	iov[1].iov_base = env->se_jwks;
	iov[1].iov_len = env->se_jwks_len;
	if (proc_composev_imsg(env->se_ps, PROC_FRONTEND, n, IMSG_JWKS_UPDATE,
	    0, -1, iov, 2) == -1)
		fatal("%s: compose", __func__);
}

static void
signer_tick(int fd, short event, void *arg)
{
	signer_schedule();
}

/*
 * Run the schedule and re-arm the timer for the next moment something
 * can change: the rotation time, the publish-ahead time of the next
 * key or the retirement of an old one, and at least every 30 s.
 */
static void
signer_schedule(void)
{
	struct signer_key	*sk;
	struct timeval		 tv;
	uint64_t		 now = now_realtime(), when, t;

	if (signer_rotate(now)) {
		signer_jwks_build();
		signer_publish(-1);
	}

	when = now + SIGNER_TICK_MAX;
	TAILQ_FOREACH(sk, &env->se_keys, sk_entry) {
		if (sk->sk_state == KEY_STATE_ACTIVE)
			t = sk->sk_promoted + env->se_rotation;
		else if (sk->sk_state == KEY_STATE_NEXT)
			t = sk->sk_created + env->se_ahead;
		else
			t = sk->sk_retire;
		if (t > now && t < when)
			when = t;
	}
	if (when <= now)
		when = now + 1;
	timerclear(&tv);
	tv.tv_sec = when - now;
	evtimer_add(env->se_tick, &tv);
}

static void
signer_configure(struct imsg *imsg)
{
	json_error_t	 jerr;
	json_t		*cfg, *auds, *v;
	const char	*issuer, *alg;
	json_int_t	 rotation, idtokens, max_age, ahead;
	size_t		 i;

	if (imsg_get_len(imsg) == 0 || imsg_get_len(imsg) > CFG_JSON_MAX)
		fatalx("%s: bad config size", __func__);
	if ((cfg = json_loadb(imsg->data, imsg_get_len(imsg),
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		fatalx("%s: bad config: %s", __func__, jerr.text);
	if (json_unpack_ex(cfg, &jerr, 0, "{s:s, s:s, s:I, s:I, s:I, s:I, "
	    "s:o}", "issuer", &issuer, "alg", &alg, "rotation", &rotation,
	    "idTokens", &idtokens, "maxAge", &max_age, "publishAhead", &ahead,
	    "audiences", &auds) == -1 || !json_is_array(auds) ||
	    json_array_size(auds) > SIGNER_AUD_MAX || rotation <= 0 ||
	    idtokens <= 0 || max_age < 0 || ahead < 0)
		fatalx("%s: bad config: %s", __func__, jerr.text);

	if (env->se_issuer == NULL) {
		char	 err[512];

		/* Keys belong to one issuer, as the main database does. */
		if (db_meta_check(env->se_db, issuer, err, sizeof(err)) !=
		    DB_OK)
			fatalx("%s", err);
	}
	free(env->se_issuer);
	if ((env->se_issuer = strdup(issuer)) == NULL)
		fatal("%s: strdup", __func__);
	env->se_alg = jose_alg_from_name(alg);
	if (env->se_alg != JOSE_ALG_RS256 && env->se_alg != JOSE_ALG_ES256)
		fatalx("%s: unsupported signing algorithm %s", __func__,
		    alg);
	env->se_rotation = rotation;
	env->se_idtokens = idtokens;
	env->se_max_age = max_age;
	env->se_ahead = ahead;
	json_decref(env->se_audiences);
	if ((env->se_audiences = json_object()) == NULL)
		fatal("%s: json_object", __func__);
	json_array_foreach(auds, i, v) {
		if (!json_is_string(v))
			fatalx("%s: bad audience", __func__);
		json_object_set_new(env->se_audiences, json_string_value(v),
		    json_true());
	}
	json_decref(cfg);
}

static int
signer_dispatch_parent(int fd, struct privsep_proc *p, struct imsg *imsg)
{
	struct privsep	*ps = p->p_ps;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_RESET:
		break;
	case IMSG_CFG_GLOBAL:
		signer_configure(imsg);
		break;
	case IMSG_CFG_DONE:
		env->se_configured = 1;
		proc_compose(ps, PROC_PARENT, IMSG_CFG_DONE, NULL, 0);
		break;
	case IMSG_CTL_START:
		if (!env->se_configured)
			fatalx("%s: start before config", __func__);
		if (env->se_tick == NULL) {
			if ((env->se_tick = evtimer_new(ps->ps_evbase,
			    signer_tick, NULL)) == NULL)
				fatal("%s: evtimer_new", __func__);
			signer_load();
		} else
			evtimer_del(env->se_tick);
		/* signer_schedule() publishes when the key set changes. */
		signer_schedule();
		if (env->se_jwks == NULL) {
			/* Keys loaded unchanged from the database. */
			signer_jwks_build();
			signer_publish(-1);
		}
		break;
	default:
		return (-1);
	}
	return (0);
}

/* Is the aud claim (a string or an array of strings) all known clients? */
static int
signer_check_aud(json_t *aud)
{
	json_t	*v;
	size_t	 i;

	if (json_is_string(aud))
		return (json_object_get(env->se_audiences,
		    json_string_value(aud)) != NULL ? 0 : -1);
	if (!json_is_array(aud) || json_array_size(aud) == 0 ||
	    json_array_size(aud) > SIGNER_AUD_MAX)
		return (-1);
	json_array_foreach(aud, i, v)
		if (!json_is_string(v) || json_object_get(env->se_audiences,
		    json_string_value(v)) == NULL)
			return (-1);
	return (0);
}

/*
 * The checks of DESIGN.md §4.4: a compromised frontend can mint tokens
 * for users, but not for unknown audiences, other issuers or longer
 * lifetimes, and never without a log line here.
 */
static const char *
signer_check(uint32_t type, json_t *claims, uint64_t now)
{
	json_t		*iss, *aud, *iat, *exp;
	json_int_t	 tiat, texp;
	uint64_t	 lifetime;

	iss = json_object_get(claims, "iss");
	aud = json_object_get(claims, "aud");
	iat = json_object_get(claims, "iat");
	exp = json_object_get(claims, "exp");
	if (!json_is_string(iss) ||
	    strcmp(json_string_value(iss), env->se_issuer) != 0)
		return ("issuer mismatch");
	if (aud == NULL || signer_check_aud(aud) == -1)
		return ("audience is not a configured client");
	if (!json_is_integer(iat) || !json_is_integer(exp))
		return ("iat and exp must be integers");
	tiat = json_integer_value(iat);
	texp = json_integer_value(exp);
	if (tiat < (json_int_t)(now - SIGN_MAX_SKEW) ||
	    tiat > (json_int_t)(now + SIGN_MAX_SKEW))
		return ("iat is not now");
	switch (type) {
	case SIGN_TOKEN_ID:
	case SIGN_TOKEN_ACCESS:
		lifetime = env->se_idtokens;
		break;
	case SIGN_TOKEN_LOGOUT:
		lifetime = 120;
		break;
	default:
		return ("unknown token type");
	}
	if (texp <= tiat || (uint64_t)(texp - tiat) > lifetime)
		return ("lifetime out of bounds");
	return (NULL);
}

static const char *
signer_type_name(uint32_t type)
{
	switch (type) {
	case SIGN_TOKEN_ID:
		return ("id");
	case SIGN_TOKEN_ACCESS:
		return ("access");
	case SIGN_TOKEN_LOGOUT:
		return ("logout");
	default:
		return ("unknown");
	}
}

/* Handle IMSG_SIGN_JWT from a frontend or from control. */
static void
signer_sign(struct privsep_proc *p, struct imsg *imsg)
{
	struct privsep		*ps = p->p_ps;
	struct sign_req		 sr;
	struct signer_key	*sk;
	struct iovec		 iov[2];
	json_t			*claims = NULL, *aud;
	const char		*why = NULL, *s;
	char			*jws = NULL, *audstr = NULL;
	uint32_t		 len;
	int			 n = imsg_get_pid(imsg) - 1;

	if (imsg_get_len(imsg) < sizeof(sr))
		fatalx("%s: short IMSG_SIGN_JWT", __func__);
	memcpy(&sr, imsg->data, sizeof(sr));
	if (sr.sr_len != imsg_get_len(imsg) - sizeof(sr) ||
	    sr.sr_len == 0 || sr.sr_len > SIGN_PAYLOAD_MAX)
		fatalx("%s: bad IMSG_SIGN_JWT length", __func__);

	if ((sk = signer_find(KEY_STATE_ACTIVE)) == NULL)
		why = "no active key";
	else if ((claims = jose_json_object((char *)imsg->data + sizeof(sr),
	    sr.sr_len)) == NULL)
		why = "payload is not a JSON object";
	else
		why = signer_check(sr.sr_type, claims, now_realtime());
	/* Logout tokens are explicitly typed, as the spec recommends. */
	if (why == NULL && (jws = jose_jws_sign_typ(sk->sk_pkey, sk->sk_alg,
	    sk->sk_kid, sr.sr_type == SIGN_TOKEN_LOGOUT ? JOSE_TYP_LOGOUT :
	    JOSE_TYP_JWT, (char *)imsg->data + sizeof(sr), sr.sr_len)) ==
	    NULL)
		why = "signature failed";

	if (why != NULL) {
		log_warnx("refused to sign a %s token for %s: %s",
		    signer_type_name(sr.sr_type), p->p_title, why);
		proc_compose_imsg(ps, p->p_id, n, IMSG_SIGN_FAIL,
		    imsg_get_id(imsg), -1, why, strlen(why));
		json_decref(claims);
		return;
	}

	sk->sk_signatures++;
	aud = json_object_get(claims, "aud");
	audstr = json_dumps(aud, JSON_COMPACT | JSON_ENCODE_ANY);
	s = json_string_value(json_object_get(claims, "sub"));
	log_info("signed %s token jti=%s sub=%s aud=%s kid=%s for %s[%d]",
	    signer_type_name(sr.sr_type),
	    json_string_value(json_object_get(claims, "jti")) ?
	    json_string_value(json_object_get(claims, "jti")) : "-",
	    s ? s : "-", audstr ? audstr : "-", sk->sk_kid, p->p_title, n);
	free(audstr);

	len = strlen(jws);
	iov[0].iov_base = &len;
	iov[0].iov_len = sizeof(len);
	iov[1].iov_base = jws;
	iov[1].iov_len = len;
	if (proc_composev_imsg(ps, p->p_id, n, IMSG_SIGN_RESULT,
	    imsg_get_id(imsg), -1, iov, 2) == -1)
		fatal("%s: compose", __func__);
	free(jws);
	json_decref(claims);
}

static int
signer_dispatch_frontend(int fd, struct privsep_proc *p, struct imsg *imsg)
{
	int	 n = imsg_get_pid(imsg) - 1;

	switch (imsg_get_type(imsg)) {
	case IMSG_SIGN_JWT:
		signer_sign(p, imsg);
		break;
	case IMSG_JWKS_GET:
		if (imsg_get_len(imsg) != 0 || n < 0 ||
		    n >= (int)p->p_ps->ps_instances[PROC_FRONTEND])
			fatalx("%s: bad IMSG_JWKS_GET", __func__);
		signer_publish(n);
		break;
	default:
		return (-1);
	}
	return (0);
}

static void
signer_show_keys(struct privsep *ps, uint32_t peerid)
{
	struct signer_key	*sk;
	struct ctl_key		 ck;

	TAILQ_FOREACH(sk, &env->se_keys, sk_entry) {
		memset(&ck, 0, sizeof(ck));
		(void)strlcpy(ck.ck_kid, sk->sk_kid, sizeof(ck.ck_kid));
		(void)strlcpy(ck.ck_alg, jose_alg_name(sk->sk_alg),
		    sizeof(ck.ck_alg));
		ck.ck_state = sk->sk_state;
		ck.ck_created = sk->sk_created;
		ck.ck_promoted = sk->sk_promoted;
		ck.ck_retire = sk->sk_retire;
		ck.ck_signatures = sk->sk_signatures;
		proc_compose_imsg(ps, PROC_CONTROL, 0, IMSG_CTL_KEY, peerid,
		    -1, &ck, sizeof(ck));
	}
	proc_compose_imsg(ps, PROC_CONTROL, 0, IMSG_CTL_END, peerid, -1,
	    NULL, 0);
}

static int
signer_dispatch_control(int fd, struct privsep_proc *p, struct imsg *imsg)
{
	struct privsep		*ps = p->p_ps;
	struct signer_key	*next;
	char			 msg[128];

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_KEY_SHOW:
		signer_show_keys(ps, imsg_get_id(imsg));
		break;
	case IMSG_CTL_KEY_ROTATE:
		env->se_rotate_now = 1;
		next = signer_find(KEY_STATE_NEXT);
		if (next != NULL && now_realtime() < next->sk_created +
		    env->se_ahead)
			(void)snprintf(msg, sizeof(msg), "key %s becomes "
			    "active in %llus, once published long enough",
			    next->sk_kid, (unsigned long long)
			    (next->sk_created + env->se_ahead -
			    now_realtime()));
		else
			(void)snprintf(msg, sizeof(msg), "rotated");
		log_info("key rotation requested by control: %s", msg);
		evtimer_del(env->se_tick);
		signer_schedule();
		proc_compose_imsg(ps, PROC_CONTROL, 0, IMSG_CTL_OK,
		    imsg_get_id(imsg), -1, msg, strlen(msg));
		break;
	case IMSG_SIGN_JWT:
		signer_sign(p, imsg);
		break;
	default:
		return (-1);
	}
	return (0);
}
