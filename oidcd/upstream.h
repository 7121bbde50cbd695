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
 * The logic of the upstream connectors, Dex's `oidc' and `oauth' types
 * (reference/dex.md 3.1 and 3.2).  Pure: no I/O, no event loop, the
 * clock is an argument.  connector.c does the HTTP and calls one
 * function per step:
 *
 *	upstream_config_load()		at config time
 *	upstream_discovery_parse()	oidc: the discovery document
 *	upstream_jwks_parse()		oidc: the upstream's keys
 *	upstream_login()		the authorization URL + sealed state
 *	upstream_login_state()		at the callback: nonce and verifier
 *	upstream_token_request()	the code (or refresh) grant to POST
 *	upstream_token_response()	its answer
 *	upstream_id_token_verify()	oidc: the ID token
 *	upstream_userinfo_request/_parse()	getUserInfo, oauth
 *	upstream_identity()		Dex's createIdentity
 *	upstream_refresh_merge()	on refresh: same user, keep token
 *
 * Functions that can fail return 0 or -1 (UPSTREAM_DENIED for a user
 * outside allowedGroups) and write why into errbuf: one line, no
 * secrets, fit for a log and for an error_description.  Text taken
 * from the upstream is cut short and reduced to printable ASCII.
 */

#ifndef UPSTREAM_H
#define UPSTREAM_H

#include <sys/types.h>

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "jose.h"

/* Limits on everything that comes from outside. */
#define UPSTREAM_DISCOVERY_MAX	(64 * 1024)	/* discovery document */
#define UPSTREAM_TOKEN_RESP_MAX	(64 * 1024)	/* token endpoint answer */
#define UPSTREAM_USERINFO_MAX	(64 * 1024)	/* userinfo answer */
#define UPSTREAM_URL_MAX	4096	/* any URL, ours or theirs */
#define UPSTREAM_JSON_DEPTH	16	/* nesting of claims and answers */
#define UPSTREAM_GROUPS_MAX	1024	/* groups of one identity */
#define UPSTREAM_GROUP_MAX	1024	/* bytes of one group name */
#define UPSTREAM_USERID_MAX	1024	/* bytes of a user id */
#define UPSTREAM_TEXT_MAX	4096	/* name, preferred name, email */
#define UPSTREAM_TOKEN_MAX	16384	/* access or ID token, bytes */
#define UPSTREAM_REFRESH_MAX	4096	/* upstream refresh token, bytes */
#define UPSTREAM_CODE_MAX	4096	/* authorization code, bytes */
#define UPSTREAM_STATE_MAX	256	/* the state we send (authreq id) */
#define UPSTREAM_CONF_STR_MAX	4096	/* a string of the config */
#define UPSTREAM_CONF_LIST_MAX	256	/* entries of a config list */
#define UPSTREAM_ALGS_MAX	32	/* id_token_signing_alg_values */
#define UPSTREAM_SEALED_MAX	8192	/* a sealed blob, base64url */
#define UPSTREAM_WARN_MAX	8	/* warnings kept for the caller */
#define UPSTREAM_ERR_MAX	256	/* a good size for errbuf */
#define UPSTREAM_SHOW_MAX	64	/* upstream text quoted in errors */

/* Random values we send: 32 bytes each, 43 base64url characters. */
#define UPSTREAM_NONCE_BYTES	32
#define UPSTREAM_NONCE_LEN	JOSE_B64URL_LEN(UPSTREAM_NONCE_BYTES)
#define UPSTREAM_VERIFIER_BYTES	32	/* RFC 7636: 43 to 128 chars */
#define UPSTREAM_VERIFIER_LEN	JOSE_B64URL_LEN(UPSTREAM_VERIFIER_BYTES)

/* Time: leeway on exp/iat/nbf, JWKS cache bounds (seconds). */
#define UPSTREAM_LEEWAY		60
#define UPSTREAM_JWKS_AGE_DEFAULT 3600	/* no Cache-Control max-age */
#define UPSTREAM_JWKS_AGE_MIN	60	/* also the unknown-kid refetch */
#define UPSTREAM_JWKS_AGE_MAX	86400

/* Sealing: ChaCha20-Poly1305, key from the caller. */
#define UPSTREAM_SEAL_KEY_LEN	32
#define UPSTREAM_SEAL_VERSION	1
#define UPSTREAM_SEAL_NONCE_LEN	12
#define UPSTREAM_SEAL_TAG_LEN	16
#define UPSTREAM_SEAL_MAX_PLAIN	(UPSTREAM_REFRESH_MAX + 512)
/* What a blob holds; part of its authenticated header. */
#define UPSTREAM_SEAL_LOGIN	1	/* nonce and PKCE verifier */
#define UPSTREAM_SEAL_REFRESH	2	/* the upstream refresh token */

/* Results besides 0 and -1. */
#define UPSTREAM_DENIED		-2	/* not in allowedGroups */

/* Dex's message for UPSTREAM_DENIED. */
#define UPSTREAM_ERR_GROUPS	"user not a member of allowed groups"

enum upstream_type {
	UPSTREAM_OIDC,
	UPSTREAM_OAUTH
};

enum upstream_pkce {
	UPSTREAM_PKCE_AUTO = 0,	/* pkceChallenge unset: see upstream_login */
	UPSTREAM_PKCE_S256,
	UPSTREAM_PKCE_PLAIN
};

/* How the client authenticates at the token endpoint. */
enum upstream_auth {
	UPSTREAM_AUTH_BASIC,	/* Authorization: Basic (oidc default) */
	UPSTREAM_AUTH_BODY,	/* client_id/client_secret in the form */
	UPSTREAM_AUTH_AUTO	/* oauth: Basic, then the form on a retry */
};

/* code_challenge_methods_supported, as seen in discovery */
#define UPSTREAM_PKCE_HAS_S256	0x1
#define UPSTREAM_PKCE_HAS_PLAIN	0x2
#define UPSTREAM_PKCE_HAS_OTHER	0x4

/* One claimModifications.newGroupFromClaims entry. */
struct upstream_newgroup {
	char		**ng_claims;
	size_t		  ng_nclaims;
	char		 *ng_delimiter;
	int		  ng_clear_delimiter;
	char		 *ng_prefix;
};

/*
 * A connector's configuration with Dex's defaults applied, and what
 * discovery found.  Strings are never NULL unless noted; every member
 * is owned by the struct (upstream_conf_free()).
 */
struct upstream_conf {
	enum upstream_type	 uc_type;
	char			*uc_id;
	char			*uc_issuer;		/* oidc */
	char			*uc_issuer_alias;	/* NULL when unset */
	char			*uc_discovery_url;	/* oidc */
	char			*uc_client_id;
	char			*uc_client_secret;	/* secret; "" unset */
	char			*uc_redirect_uri;	/* <issuer>/callback */
	char			**uc_scopes;	/* oidc: openid first */
	size_t			 uc_nscopes;
	int			 uc_has_email_scope;
	enum upstream_auth	 uc_auth;
	int			 uc_refresh;	/* the type can refresh */
	int			 uc_insecure_skip_verify;	/* for TLS */

	/* Endpoints: oauth from the config, oidc from discovery. */
	char			*uc_auth_url;
	char			*uc_token_url;
	char			*uc_jwks_url;
	char			*uc_userinfo_url;	/* NULL if none */
	char			*uc_end_session_url;	/* NULL if none */
	int			 uc_discovered;

	/* providerDiscoveryOverrides; NULL when unset */
	char			*uc_pdo_auth;
	char			*uc_pdo_token;
	char			*uc_pdo_jwks;
	char			*uc_pdo_userinfo;
	char			*uc_pdo_end_session;

	/* From discovery: algorithms allowed (none: any usable), PKCE. */
	enum jose_alg		 uc_algs[UPSTREAM_ALGS_MAX];
	size_t			 uc_nalgs;
	int			 uc_pkce_methods;	/* UPSTREAM_PKCE_HAS_ */

	/* oidc claim rules (dex.md 3.1) */
	int			 uc_skip_email_verified;
	int			 uc_enable_groups;
	int			 uc_get_userinfo;
	int			 uc_override_claim_mapping;
	char			**uc_allowed_groups;
	size_t			 uc_nallowed_groups;
	char			*uc_acr_values;	/* space-joined; NULL unset */
	char			*uc_user_id_key;	/* NULL: "sub" */
	char			*uc_user_name_key;	/* "name" */
	char			*uc_prompt;	/* "consent"; may be "" */
	enum upstream_pkce	 uc_pkce;
	char			*uc_cm_preferred_username; /* NULL unset */
	char			*uc_cm_email;		/* NULL unset */
	char			*uc_cm_groups;		/* NULL unset */
	struct upstream_newgroup *uc_newgroups;
	size_t			 uc_nnewgroups;
	regex_t			 uc_groups_filter;
	int			 uc_have_groups_filter;
	char			*uc_group_prefix;	/* "" unset */
	char			*uc_group_suffix;	/* "" unset */

	/* oauth claimMapping, with Dex's defaults */
	char			*uc_oa_user_id_key;		/* "id" */
	char			*uc_oa_user_name_key;	/* "user_name" */
	char			*uc_oa_preferred_username_key;
	char			*uc_oa_groups_key;		/* "groups" */
	char			*uc_oa_email_key;		/* "email" */
	char			*uc_oa_email_verified_key;

	/* Sealing key (upstream_set_seal_key()). */
	uint8_t			 uc_seal_key[UPSTREAM_SEAL_KEY_LEN];
	int			 uc_have_seal_key;

	/*
	 * Warnings of the load and of discovery (Dex logs them and goes
	 * on): the caller logs them and calls upstream_warnings_clear().
	 */
	char			*uc_warnings[UPSTREAM_WARN_MAX];
	size_t			 uc_nwarnings;
};

/* The upstream's keys, and until when they may be used. */
struct upstream_jwks {
	struct jose_jwks	 uj_set;
	int			 uj_alg_given[JOSE_JWKS_MAX_KEYS];
	int64_t			 uj_fetched;
	int64_t			 uj_expires;
};

/* A request for the caller to send. */
struct upstream_request {
	char		*ur_url;
	char		*ur_body;	/* form body; NULL for a GET */
	size_t		 ur_bodylen;
	char		*ur_authorization;	/* header value or NULL */
};

/* What upstream_login() sealed, opened again at the callback. */
struct upstream_login_state {
	char		uls_nonce[UPSTREAM_NONCE_LEN + 1];	/* "" oauth */
	char		uls_verifier[UPSTREAM_VERIFIER_LEN + 1];
	enum upstream_pkce uls_method;
};

/* A token endpoint answer.  Strings are NULL when absent. */
struct upstream_tokens {
	char		*ut_access_token;
	char		*ut_token_type;
	char		*ut_refresh_token;
	char		*ut_id_token;
	char		*ut_scope;
	int64_t		 ut_expires_in;		/* -1 when absent */
	char		*ut_error;		/* the upstream's error code */
	char		*ut_error_description;
};

/* Who asks for an identity (Dex's createIdentity callers). */
enum upstream_caller {
	UPSTREAM_LOGIN,
	UPSTREAM_REFRESH,
	UPSTREAM_EXCHANGE_ID,		/* token exchange of an ID token */
	UPSTREAM_EXCHANGE_ACCESS	/* token exchange of an access token */
};

struct upstream_id_input {
	enum upstream_caller	 ui_caller;
	const json_t		*ui_id_claims;	/* verified, or NULL */
	const json_t		*ui_userinfo;	/* or NULL */
	const char		*ui_access_token;	/* oauth; or NULL */
	const char		*ui_refresh_token;	/* or NULL */
	int			 ui_groups;	/* oauth: "groups" requested */
};

/*
 * Config.  cfg is the connector's config block as the parser hands it
 * over (Dex's key names, matched case-insensitively, the last one
 * winning, as encoding/json does); type is "oidc" or "oauth", id the
 * connector id, issuer our own issuer URL: redirectURI must be
 * <issuer>/callback.
 */
int	 upstream_config_load(const json_t *, const char *, const char *,
	    const char *, struct upstream_conf **, char *, size_t);
void	 upstream_conf_free(struct upstream_conf *);
void	 upstream_set_seal_key(struct upstream_conf *, const uint8_t *);
void	 upstream_warnings_clear(struct upstream_conf *);

/*
 * Discovery (oidc): the document at uc_discovery_url.  Fills the
 * endpoints, with providerDiscoveryOverrides applied; may add warnings.
 */
int	 upstream_discovery_parse(struct upstream_conf *, const char *,
	    size_t, char *, size_t);

/*
 * JWKS.  max_age is upstream_cache_max_age() of the answer's
 * Cache-Control (-1: none); it is bounded by UPSTREAM_JWKS_AGE_*.
 * *uj is overwritten (free what it held first); a set without one
 * usable key is an error.
 */
int	 upstream_jwks_parse(struct upstream_jwks *, const char *, size_t,
	    int64_t, int64_t, char *, size_t);
void	 upstream_jwks_free(struct upstream_jwks *);
int	 upstream_jwks_stale(const struct upstream_jwks *, int64_t);
int	 upstream_jwks_may_refetch(const struct upstream_jwks *, int64_t);
int64_t	 upstream_cache_max_age(const char *);

/*
 * Login.  state is the authreq id.  *url is the upstream authorization
 * URL, *conn_data the sealed nonce and verifier to keep with the
 * authreq; both from malloc().
 */
int	 upstream_login(const struct upstream_conf *, const char *, int,
	    char **, char **, char *, size_t);
int	 upstream_login_state(const struct upstream_conf *, const char *,
	    struct upstream_login_state *, char *, size_t);

/*
 * Token endpoint.  retry is 0, or 1 for the second try of
 * UPSTREAM_AUTH_AUTO (credentials in the form).  The refresh grant
 * takes the identity's connectorData (the sealed refresh token).
 * content_type may be NULL; form-encoded answers are understood too.
 */
int	 upstream_token_request(const struct upstream_conf *, const char *,
	    const struct upstream_login_state *, int,
	    struct upstream_request *, char *, size_t);
int	 upstream_refresh_request(const struct upstream_conf *, const char *,
	    int, struct upstream_request *, char *, size_t);
int	 upstream_token_response(const struct upstream_conf *, int,
	    const char *, const char *, size_t, struct upstream_tokens *,
	    char *, size_t);
void	 upstream_request_free(struct upstream_request *);
void	 upstream_tokens_free(struct upstream_tokens *);

/*
 * ID token.  expected_nonce is NULL on refresh and token exchange;
 * access_token (or NULL) is checked against at_hash.  When no key of
 * the set matches the kid, *need_jwks_refresh is set: fetch the JWKS
 * again (upstream_jwks_may_refetch()) and retry once.
 */
int	 upstream_id_token_verify(const struct upstream_conf *,
	    const struct upstream_jwks *, const char *, const char *,
	    const char *, int, int64_t, json_t **, int *, char *, size_t);

/* Userinfo: a GET with the access token, and its answer. */
int	 upstream_userinfo_request(const struct upstream_conf *,
	    const char *, struct upstream_request *, char *, size_t);
int	 upstream_userinfo_parse(const struct upstream_conf *, int,
	    const char *, const char *, size_t, json_t **, char *, size_t);

/*
 * Identity: Dex's createIdentity for oidc, HandleCallback's mapping
 * for oauth.  *identity uses the storage names (userId, username,
 * preferredUsername, email, emailVerified, groups, connectorId,
 * connectorData = the sealed refresh token, absent without one).
 */
int	 upstream_identity(const struct upstream_conf *,
	    const struct upstream_id_input *, json_t **, char *, size_t);
int	 upstream_refresh_merge(const json_t *, json_t *, char *, size_t);

/* Sealing; AAD = version, kind and connector id. */
char	*upstream_seal(const uint8_t *, const char *, int, const void *,
	    size_t);
int	 upstream_unseal(const uint8_t *, const char *, int, const char *,
	    uint8_t **, size_t *);

#endif /* UPSTREAM_H */
