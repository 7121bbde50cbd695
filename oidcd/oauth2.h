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
 * The OAuth 2.0 / OpenID Connect logic of the frontend as a pure module:
 * no sockets, no imsg, no clock of its own.  It validates authorization
 * requests, authenticates clients at /token and /token/introspect,
 * parses token requests, builds the claim sets the signer signs and the
 * JSON and redirect URLs the frontend answers with, all to Dex's
 * behaviour (../shared/reference/dex.md §1, §4).
 */

#ifndef OAUTH2_H
#define OAUTH2_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "http.h"
#include "jose.h"

/* Limits on the config and on everything a request brings. */
#define OAUTH2_MAX_CLIENTS	4096
#define OAUTH2_MAX_CONNECTORS	256
#define OAUTH2_MAX_URIS		64	/* redirectURIs of one client */
#define OAUTH2_MAX_LOGOUT_URIS	1024	/* postLogoutRedirectURIs: any the
					   config parser lets through */
#define OAUTH2_MAX_PEERS	256	/* trustedPeers of one client */
#define OAUTH2_MAX_RTSETS	8	/* oauth2.responseTypes entries */
#define OAUTH2_MAX_SCOPES	64	/* scopes in one request */
#define OAUTH2_MAX_AUDIENCE	16	/* audience:server:client_id scopes */
#define OAUTH2_ID_MAX		256	/* client or connector id */
#define OAUTH2_REDIRECT_MAX	4096	/* redirect_uri */
#define OAUTH2_STATE_MAX	4096	/* Dex's MySQL schema widened it so */
#define OAUTH2_NONCE_MAX	1024
#define OAUTH2_CHALLENGE_MAX	256	/* code_challenge; RFC 7636: 128 */
#define OAUTH2_VERIFIER_MAX	256	/* code_verifier; RFC 7636: 128 */
#define OAUTH2_CODE_MAX		256	/* an authorization code */
#define OAUTH2_REFRESH_MAX	1024	/* a refresh token */
#define OAUTH2_USERNAME_MAX	512
#define OAUTH2_PASSWORD_MAX	1024
#define OAUTH2_SECRET_MAX	1024	/* client_secret */
#define OAUTH2_BASIC_MAX	4096	/* the whole Authorization value */
#define OAUTH2_DESC_MAX		1024	/* an error_description we build */
#define OAUTH2_URL_MAX		(64 * 1024)	/* a redirect we build */
#define OAUTH2_MAX_CC_GROUPS	1024	/* clientCredentialsClaims.groups */
#define OAUTH2_GROUP_MAX	8192	/* bytes of one; conf.h's limits */

/* Dex's special redirect URIs for public clients. */
#define OAUTH2_REDIRECT_OOB	"urn:ietf:wg:oauth:2.0:oob"
#define OAUTH2_REDIRECT_DEVICE	"/device/callback"

/* Response types (oauth2.responseTypes), bits of a set. */
#define OAUTH2_RT_CODE		0x01
#define OAUTH2_RT_TOKEN		0x02
#define OAUTH2_RT_IDTOKEN	0x04

/* PKCE methods, bits. */
#define OAUTH2_PKCE_S256	0x01
#define OAUTH2_PKCE_PLAIN	0x02

/* Grant types, bits: the same values as conf.h's CONF_GT_*. */
#define OAUTH2_GT_AUTHCODE	0x01
#define OAUTH2_GT_IMPLICIT	0x02
#define OAUTH2_GT_PASSWORD	0x04
#define OAUTH2_GT_REFRESH	0x08
#define OAUTH2_GT_DEVICECODE	0x10
#define OAUTH2_GT_TOKENEXCHANGE	0x20
#define OAUTH2_GT_CLIENTCREDS	0x40

/* RFC 6749 (and OIDC) error codes; oauth2_error_name() spells them. */
enum oauth2_error {
	OAUTH2_OK = 0,
	OAUTH2_INVALID_REQUEST,
	OAUTH2_INVALID_CLIENT,			/* HTTP 401 */
	OAUTH2_INVALID_GRANT,
	OAUTH2_UNAUTHORIZED_CLIENT,
	OAUTH2_UNSUPPORTED_GRANT_TYPE,
	OAUTH2_INVALID_SCOPE,
	OAUTH2_ACCESS_DENIED,			/* 401 at the password grant */
	OAUTH2_UNSUPPORTED_RESPONSE_TYPE,
	OAUTH2_SERVER_ERROR,			/* HTTP 500 */
	OAUTH2_REQUEST_NOT_SUPPORTED,
	OAUTH2_REQUEST_URI_NOT_SUPPORTED
};

struct oauth2_client {
	char		 *id;
	char		 *name;
	char		 *logo_url;		/* NULL when not set */
	int		  public;
	char		**redirect_uris;
	size_t		  nredirect_uris;
	char		**trusted_peers;
	size_t		  ntrusted_peers;
	int		  has_secret;		/* else: only "" passes */
	uint8_t		  secret_hash[32];	/* SHA-256 of the secret */
	int		  grant_mask;		/* OAUTH2_GT_*, 0: any */
	char		**cc_groups;	/* clientCredentialsClaims.groups */
	size_t		  ncc_groups;
	char		**post_logout_uris;	/* postLogoutRedirectURIs */
	size_t		  npost_logout_uris;
	char		 *backchannel_uri;	/* NULL when not set */
};

struct oauth2_connector {
	char		*id;
	char		*name;
	char		*type;
};

struct oauth2_conf {
	char			*issuer;
	char			*issuer_path;	/* "" or "/dex" */
	struct oauth2_client	*clients;	/* sorted by id */
	size_t			 nclients;
	struct oauth2_connector	*connectors;	/* config order */
	size_t			 nconnectors;
	int			 rt_sets[OAUTH2_MAX_RTSETS];
	size_t			 nrt_sets;
	int			 rt_single;	/* types listed on their own */
	int			 pkce_methods;	/* OAUTH2_PKCE_* */
	int			 pkce_enforce;
	int			 grant_mask;	/* effective, OAUTH2_GT_* */
	char			*password_connector;	/* NULL: none */
	int			 skip_approval;
	int			 always_show_login;
	int64_t			 id_token_ttl;	/* seconds */
	int64_t			 authreq_ttl;	/* seconds */
	enum jose_alg		 alg;		/* signingAlgs[0] */
};

/* oauth2_authreq_parse() outcomes */
#define OAUTH2_AUTHREQ_OK	0	/* authreq is set */
#define OAUTH2_AUTHREQ_DISPLAY	1	/* error page; never redirect */
#define OAUTH2_AUTHREQ_REDIRECT	2	/* 303 to redirect */

struct oauth2_authreq_result {
	int				 outcome;	/* OAUTH2_AUTHREQ_* */
	int				 status;	/* HTTP status */
	enum oauth2_error		 error;
	char				 description[OAUTH2_DESC_MAX];
	char				*redirect;	/* REDIRECT: Location */
	json_t				*authreq;	/* OK */
	const struct oauth2_client	*client;	/* once known */
	int				 fragment;	/* implicit/hybrid */
};

/* Token request grants (oauth2_token_request()). */
enum oauth2_grant {
	OAUTH2_GRANT_NONE = 0,
	OAUTH2_GRANT_AUTHCODE,
	OAUTH2_GRANT_REFRESH,
	OAUTH2_GRANT_PASSWORD,
	OAUTH2_GRANT_TOKEN_EXCHANGE,
	OAUTH2_GRANT_DEVICE_CODE,
	OAUTH2_GRANT_CLIENT_CREDENTIALS
};

#define OAUTH2_GRANT_DEVICE	"urn:ietf:params:oauth:grant-type:device_code"

/* RFC 8693 token types that Dex's token exchange knows. */
#define OAUTH2_TOKEN_TYPE_ID		"urn:ietf:params:oauth:token-type:id_token"
#define OAUTH2_TOKEN_TYPE_ACCESS	\
	"urn:ietf:params:oauth:token-type:access_token"
#define OAUTH2_SUBJECT_TOKEN_MAX	16384

/*
 * A parsed /token request.  The strings point into the form given to
 * oauth2_token_request() and live as long as it does.
 */
struct oauth2_token_request {
	enum oauth2_grant		 grant;
	const struct oauth2_client	*client;
	/* authorization_code */
	const char			*code;
	const char			*redirect_uri;
	const char			*code_verifier;	/* NULL: none */
	/* refresh_token */
	const char			*refresh_token;
	/* refresh_token (NULL: the original scopes), password and
	 * client_credentials */
	json_t				*scopes;
	/* password and client_credentials */
	const char			*username;
	const char			*password;
	const char			*nonce;		/* "" when absent */
	/* token exchange (scopes above) */
	const char			*subject_token;
	const char			*subject_token_type;
	const char			*requested_token_type;
	const struct oauth2_connector	*connector;
	/* device_code (and code_verifier above) */
	const char			*device_code;
	/* on failure */
	enum oauth2_error		 error;
	int				 status;	/* HTTP status */
	char				 description[OAUTH2_DESC_MAX];
};

/*
 * A parsed device authorization request (/device/code, RFC 8628 §3.1);
 * the strings point into the form.
 */
struct oauth2_device_request {
	const struct oauth2_client	*client;
	json_t				*scopes;
	const char			*code_challenge;	/* "": none */
	const char			*code_challenge_method;	/* "": none */
	enum oauth2_error		 error;
	int				 status;
	char				 description[OAUTH2_DESC_MAX];
};

/* Config. */
struct oauth2_conf		*oauth2_conf_new(const json_t *, char *, size_t);
void				 oauth2_conf_free(struct oauth2_conf *);
const struct oauth2_client	*oauth2_client_find(const struct oauth2_conf *,
				    const char *);
const struct oauth2_connector	*oauth2_connector_find(
				    const struct oauth2_conf *, const char *);
int				 oauth2_peer_trusted(const struct oauth2_conf *,
				    const char *, const char *);

/* Errors. */
const char	*oauth2_error_name(enum oauth2_error);
int		 oauth2_error_status(enum oauth2_error);
char		*oauth2_error_json(const char *, const char *);

/* /auth */
int		 oauth2_redirect_uri_valid(const struct oauth2_client *,
		    const char *);
int		 oauth2_authreq_parse(const struct oauth2_conf *,
		    const struct http_params *, const char *,
		    struct oauth2_authreq_result *);
void		 oauth2_authreq_result_free(struct oauth2_authreq_result *);
int		 oauth2_authreq_fragment(const json_t *);
char		*oauth2_redirect(const char *, int, const struct http_kv *,
		    size_t);
char		*oauth2_code_redirect(const char *, int, const char *,
		    const char *, const char *, const char *, int64_t);

/* /token and /token/introspect */
enum oauth2_error oauth2_client_auth(const struct oauth2_conf *,
		    const struct http_request *, const struct http_params *,
		    const struct oauth2_client **, const char **);
int		 oauth2_secret_check(const struct oauth2_client *,
		    const char *, size_t);
int		 oauth2_token_request(const struct oauth2_conf *,
		    const struct http_request *, const struct http_params *,
		    struct oauth2_token_request *);
void		 oauth2_token_request_free(struct oauth2_token_request *);
char		*oauth2_exchange_response(const char *, const char *,
		    int64_t);
char		*oauth2_token_response(const char *, const char *,
		    const char *, int64_t);

/* The device flow. */
int		 oauth2_device_request(const struct oauth2_conf *,
		    const struct http_request *, const struct http_params *,
		    struct oauth2_device_request *);
void		 oauth2_device_request_free(struct oauth2_device_request *);
char		*oauth2_device_redirect_uri(const struct oauth2_conf *,
		    const struct oauth2_client *, int);

/* client_credentials: the grant a client holds for itself. */
json_t		*oauth2_client_grant(const struct oauth2_client *,
		    const json_t *, const char *);

/*
 * A revocation request (RFC 7009) at /token/revoke.  The strings point
 * into the form given to oauth2_revoke_request().
 */
struct oauth2_revoke_request {
	const struct oauth2_client	*client;
	const char			*token;
	const char			*hint;		/* "" when absent */
	enum oauth2_error		 error;
	int				 status;	/* HTTP status */
	char				 description[OAUTH2_DESC_MAX];
};
int		 oauth2_revoke_request(const struct oauth2_conf *,
		    const struct http_request *, const struct http_params *,
		    struct oauth2_revoke_request *);
const char	*oauth2_token_client(const json_t *);

/* Tokens. */
json_t		*oauth2_id_token_claims(const struct oauth2_conf *,
		    const json_t *, const char *, int64_t, const char *,
		    const char *, enum jose_alg, const char *);
json_t		*oauth2_access_token_claims(const struct oauth2_conf *,
		    const json_t *, const char *, int64_t, enum jose_alg,
		    const char *);

/* The approval page. */
const char	*oauth2_scope_description(const char *);
json_t		*oauth2_scope_descriptions(const json_t *);

#endif /* OAUTH2_H */
