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
 * The storage records of the OpenID Provider: auth requests, codes,
 * refresh token families and the subject index, as operations over a
 * db txn (db.h).  The storage process runs them; unit testers and the
 * fuzz target call them directly.  The request and reply shapes are
 * the "Storage protocol" in oidcd.h.
 *
 * Every operation takes the time from its caller, so a test can move a
 * fake clock, and answers a JSON reply object: {"ok": true, ...} or
 * {"ok": false, "error", "error_description"}.  Its return value is a
 * DB_ code: DB_OK means "commit what this operation wrote" (an error
 * reply may still have written, as a revocation after a replay); any
 * other value means "abort it and answer server_error".
 */

#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "db.h"

/* Lengths of what the frontend makes or hands out (base64url). */
#define STORE_ID_LEN		22	/* authreq id: 16 random bytes */
#define STORE_ID_BYTES		16
#define STORE_HMACKEY_LEN	43	/* 32 bytes */
#define STORE_CODE_LEN		43	/* 32 random bytes */
#define STORE_CODE_BYTES	32
#define STORE_TOKEN_LEN		64	/* family id (16) || 32 random bytes */
#define STORE_TOKEN_BYTES	48
#define STORE_FAMILY_BYTES	16
#define STORE_HASH_LEN		43	/* SHA-256 in base64url, in records */
#define STORE_FAMILY_HEX	32

/* Limits on what a request may carry. */
#define STORE_NAME_MAX		1024	/* clientId, connectorId, userId */
#define STORE_URI_MAX		4096
#define STORE_TEXT_MAX		4096	/* state, nonce, names, email */
#define STORE_SCOPES_MAX	32
#define STORE_SCOPE_MAX		512	/* bytes of one scope */
#define STORE_GROUPS_MAX	1024
#define STORE_RTYPES_MAX	3
#define STORE_CHALLENGE_MAX	256	/* RFC 7636 allows 43 to 128 */
#define STORE_VERIFIER_MAX	256
#define STORE_CONNDATA_MAX	8192	/* sealed upstream data */
#define STORE_TIME_MAX		((int64_t)1 << 40)	/* seconds */
#define STORE_LOCAL_CONNECTOR	"local"	/* the password database */
#define STORE_BATCH_MAX		256	/* requests in one write txn */
#define STORE_JTI_MAX		128	/* jti of an access token we signed */

/* Lifetimes (seconds). */
#define STORE_TOMBSTONE_MARGIN	600	/* a redeemed code, after its expiry */
#define STORE_REVOKED_KEEP	86400	/* a revoked family record */
#define STORE_FAMILIES_MAX	32	/* per user + connector + client */

/*
 * The device flow (RFC 8628, dex.md §4.10).  A user code is Dex's: 8
 * letters of STORE_USER_CODE_CHARS shown as XXXX-XXXX; what a user types
 * is read without case, dashes or spaces.  A device code is 32 random
 * bytes, stored only as its SHA-256.
 */
#define STORE_USER_CODE_CHARS	"BCDFGHJKLMNPQRSTVWXZ"
#define STORE_USER_CODE_LETTERS	8
#define STORE_USER_CODE_LEN	9	/* with the dash */
#define STORE_USER_CODE_INPUT_MAX 64	/* bytes a user may type */
#define STORE_USER_CODE_TRIES	8	/* new codes tried on a collision */
#define STORE_DEVICE_CODE_LEN	43	/* base64url of 32 bytes */
#define STORE_DEVICE_CODE_BYTES	32
#define STORE_DEVICE_LIFETIME	300	/* Dex's expiry.deviceRequests */
#define STORE_DEVICE_INTERVAL	5	/* seconds between polls (Dex) */
#define STORE_DEVICE_SLOWDOWN	5	/* added when polled too soon */
#define STORE_DEVICE_INTERVAL_MAX 600	/* the most it grows to */
#define STORE_DEVICE_KEEP	600	/* expired_token, then GC */

/*
 * Browser sessions (sessions: in the config, Dex master's keys).  The
 * cookie is 32 random bytes the frontend keeps to itself: storage sees
 * only its SHA-256 (base64url, STORE_HASH_LEN).  The sid of ID tokens
 * is a separate random id, so a token never tells the cookie.
 */
#define STORE_SID_LEN		22	/* base64url of 16 random bytes */
#define STORE_SID_BYTES		16
#define STORE_SESSION_CLIENTS_MAX 64	/* client ids kept per session */
#define STORE_SESSION_ABSOLUTE	86400	/* absoluteLifetime: 24h */
#define STORE_SESSION_IDLE	3600	/* validIfNotUsedFor: 1h */
#define STORE_SUB_MAX		2048	/* an id_token_hint's sub */
#define STORE_ERR_LOGIN		"login_required"

/* The refresh policy and what else storage gets in IMSG_CFG_GLOBAL. */
#define STORE_REFRESHERS_MAX	64
struct store_policy {
	uint64_t	 sp_authreq_lifetime;	/* "authRequests"; 0: off */
	int		 sp_disable_rotation;
	uint64_t	 sp_reuse_interval;
	uint64_t	 sp_valid_if_not_used_for;
	uint64_t	 sp_absolute_lifetime;
	char		*sp_refreshers[STORE_REFRESHERS_MAX];
	size_t		 sp_nrefreshers;
	uint64_t	 sp_device_lifetime;	/* "deviceRequests"; 0: Dex's */
	uint64_t	 sp_session_absolute;	/* 0: STORE_SESSION_* */
	uint64_t	 sp_session_idle;
	struct passwd_db *sp_local;		/* "localUsers"; NULL: none */
};

/* One request of a group-commit batch. */
struct store_op {
	int		 so_type;	/* IMSG_STORE_* */
	json_t		*so_req;	/* borrowed */
	json_t		*so_reply;	/* set by store_batch(); caller frees */
};

int	 store_policy_parse(json_t *, struct store_policy *);
void	 store_policy_free(struct store_policy *);

/* Validation: 0 if the request is well formed, -1 if not (fatal). */
int	 store_request_check(int, json_t *);

/* One request, in a txn the caller commits on DB_OK. */
int	 store_exec(struct db_txn *, const struct store_policy *, uint64_t,
	    int, json_t *, json_t **);
int	 store_authreq_put(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_authreq_get(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_authreq_login(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_code_issue(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_code_redeem(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_refresh_issue(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_refresh_rotate(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_introspect(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_device_create(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_device_get(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_device_complete(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_device_deny(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_device_poll(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_access_revoke(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_access_check(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_refresh_revoke(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_session_create(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_session_login(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_session_get(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);
int	 store_session_end(struct db_txn *, const struct store_policy *,
	    uint64_t, json_t *, json_t **);

/* User codes: a new one; what a user typed, as XXXX-XXXX (0) or -1. */
void	 store_user_code_make(char *);
int	 store_user_code_parse(const char *, char *);

/*
 * Group commit: every op in its own child of one write txn, one commit
 * (one sync), then every op has its reply.  Returns the DB_ code of the
 * commit; when it fails every reply is server_error.
 */
int	 store_batch(struct db *, const struct store_policy *, uint64_t,
	    struct store_op *, size_t);
json_t	*store_error(const char *, const char *);

/* Control: sessions (one JSON object per live family) and revocation. */
#define STORE_CTL_USER_MAX	STORE_NAME_MAX
int	 store_sessions(struct db_txn *, uint64_t, const char *,
	    int (*)(json_t *, void *), void *);
int	 store_revoke(struct db_txn *, uint64_t, json_t *, size_t *,
	    const char **);

#endif /* STORE_H */
