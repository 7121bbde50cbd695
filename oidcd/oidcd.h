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
 * oidcd: the master header.  Every struct, enum and imsg type of the
 * privilege-separated core, and every prototype of its files, grouped
 * by file.  Self-contained modules (conf.h, http.h, jose.h, db.h,
 * sandbox.h) keep their own headers so unit testers and fuzz targets can
 * include them alone; they are included here.
 */

#ifndef OIDCD_H
#define OIDCD_H

#include <sys/types.h>
#include <sys/queue.h>
/* libbsd's RB_GENERATE_STATIC marks functions __unused; glibc lacks it. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif
#include <sys/tree.h>

#include <event2/event.h>
#include <jansson.h>
#include <stdint.h>

#include "asset.h"
#include "conf.h"
#include "imsg.h"
#include "log.h"
#include "sandbox.h"

#define OIDCD_VERSION		"0.1"
#define OIDCD_CONF_FILE		"/etc/oidcd.yaml"
#define OIDCD_USER		"_oidcd"
#define OIDCD_KEY_USER		"_oidcdkey"
#define OIDCD_DB_USER		"_oidcddb"

/* Internal pipes carry at most this much per message (DESIGN.md §3). */
#define PROC_MAX_IMSGSIZE	(256 * 1024)
#define PROC_PARENT_SOCK_FILENO	3
#define PROC_MAX_INSTANCES	64

enum privsep_procid {
	PROC_ALL = -1,
	PROC_PARENT = 0,
	PROC_FRONTEND,
	PROC_CONNECTOR,
	PROC_SIGNER,
	PROC_STORAGE,
	PROC_CONTROL,
	PROC_MAX
};

enum imsg_type {
	IMSG_NONE,
	/* plumbing and config, parent <-> all (DESIGN.md §4.1) */
	IMSG_CTL_PROCFD,
	IMSG_CTL_VERBOSE,
	IMSG_CTL_START,
	IMSG_CTL_RESET,
	IMSG_CFG_GLOBAL,
	IMSG_CFG_LISTEN,
	IMSG_CFG_TLS,
	IMSG_CFG_DONE,
	/* control (DESIGN.md §4.6) */
	IMSG_CTL_OK,
	IMSG_CTL_FAIL,
	IMSG_CTL_END,
	IMSG_CTL_SHOW_STATUS,
	IMSG_CTL_STATUS,
	IMSG_CTL_RELOAD,
	IMSG_CTL_LOG_VERBOSE,
	IMSG_CTL_KEY_SHOW,
	IMSG_CTL_KEY,
	IMSG_CTL_KEY_ROTATE,
	IMSG_CTL_GC,
	/* keys (DESIGN.md §4.2, §4.4) */
	IMSG_JWKS_UPDATE,
	IMSG_JWKS_GET,
	IMSG_SIGN_JWT,
	IMSG_SIGN_RESULT,
	IMSG_SIGN_FAIL,
	/* storage requests and their one reply (see "Storage protocol") */
	IMSG_STORE_AUTHREQ_PUT,
	IMSG_STORE_AUTHREQ_GET,
	IMSG_STORE_AUTHREQ_LOGIN,
	IMSG_STORE_CODE_ISSUE,
	IMSG_STORE_CODE_REDEEM,
	IMSG_STORE_REFRESH_ISSUE,
	IMSG_STORE_REFRESH_ROTATE,
	IMSG_STORE_INTROSPECT,
	IMSG_STORE_RESULT,
	/* connector requests and their reply */
	IMSG_CONN_PASSWORD,
	IMSG_CONN_REFRESH,
	IMSG_CONN_LOGIN,
	IMSG_CONN_CALLBACK,
	IMSG_CONN_EXCHANGE,
	IMSG_CONN_RESULT,
	IMSG_CONN_STATUS,
	/* control: sessions and revocation, clients */
	IMSG_CTL_SHOW_SESSIONS,
	IMSG_CTL_SESSION,
	IMSG_CTL_REVOKE,
	IMSG_CTL_SHOW_CLIENTS,
	IMSG_CTL_CLIENT,
	IMSG_CFG_TEMPLATE,
	IMSG_CFG_ASSET,		/* struct cfg_asset (asset.h) + chunk */
	/* storage: the device flow (answered by IMSG_STORE_RESULT) */
	IMSG_STORE_DEVICE_CREATE,
	IMSG_STORE_DEVICE_GET,
	IMSG_STORE_DEVICE_COMPLETE,
	IMSG_STORE_DEVICE_DENY,
	IMSG_STORE_DEVICE_POLL,
	/* storage: revocation (RFC 7009) */
	IMSG_STORE_ACCESS_REVOKE,
	IMSG_STORE_ACCESS_CHECK,
	IMSG_STORE_REFRESH_REVOKE,
	/* storage: browser sessions (answered by IMSG_STORE_RESULT) */
	IMSG_STORE_SESSION_CREATE,
	IMSG_STORE_SESSION_LOGIN,
	IMSG_STORE_SESSION_GET,
	/* RP-initiated logout */
	IMSG_STORE_SESSION_END,
	IMSG_CONN_LOGOUT,
	IMSG_CONN_BACKCHANNEL,
	IMSG_MAX
};

/*
 * Storage protocol (frontend -> storage, DESIGN.md §4.3, §4.4).
 *
 * Every request is one imsg whose payload is a compact JSON object, at
 * most STORE_JSON_MAX bytes; peerid is the requester's request id and
 * pid its instance + 1.  Storage answers each request with exactly one
 * IMSG_STORE_RESULT to the same instance and peerid, whose payload is a
 * JSON object: {"ok": true, ...} or {"ok": false, "error": <RFC 6749
 * error code>, "error_description": <text for the client>}.  A write is
 * answered only after its transaction is committed with a sync; writes
 * that arrive together share one transaction (group commit).
 *
 * Records (field names as in the JSON):
 *   identity: {"userId", "username", "preferredUsername", "email",
 *       "emailVerified" (bool), "groups" [..], "connectorId"}
 *   authreq: {"id" (22 chars, base64url of 16 random bytes),
 *       "clientId", "redirectUri", "scopes" [..], "responseTypes" [..],
 *       "state", "nonce", "codeChallenge", "codeChallengeMethod",
 *       "connectorId", "connectorData" (the connector's sealed login
 *       state: upstream nonce and PKCE verifier), "forceApproval" (bool),
 *       "expiry" (unix s),
 *       "hmacKey" (base64url, 32 bytes, made by the frontend),
 *       and once logged in "loggedIn" (bool), "identity", "authTime",
 *       "sid" (from a browser session)}
 *   grant (what a code or a refresh token stands for): {"clientId",
 *       "scopes", "nonce", "identity", "connectorId", "authTime",
 *       "sid" (or absent)}
 *
 *   IMSG_STORE_AUTHREQ_PUT    {"authreq"} -> {}
 *   IMSG_STORE_AUTHREQ_GET    {"id"} -> {"authreq"}; an expired one is
 *                             invalid_request "User session has expired."
 *   IMSG_STORE_AUTHREQ_LOGIN  {"id", "identity"} -> {"authreq"} (now
 *                             loggedIn, authTime set)
 *   IMSG_STORE_CODE_ISSUE     {"id"} -> {"code", "authreq"}: deletes the
 *                             logged-in authreq (single use), stores
 *                             SHA-256(code) -> grant + redirectUri +
 *                             PKCE, expiring after STORE_CODE_LIFETIME
 *   IMSG_STORE_CODE_REDEEM    {"code", "clientId", "redirectUri",
 *                             "codeVerifier" (or absent), "refresh"
 *                             (bool: issue a refresh token if the grant
 *                             has offline_access)} -> {"grant",
 *                             "refreshToken" (or absent)}.  Checks
 *                             client, redirect URI, expiry and PKCE
 *                             (dex.md §1.4) in the same txn that deletes
 *                             the code; a replayed code revokes the
 *                             refresh tokens it issued: invalid_grant.
 *   IMSG_STORE_REFRESH_ISSUE  {"grant"} -> {"refreshToken"}
 *   IMSG_STORE_REFRESH_ROTATE {"refreshToken", "clientId", "scopes"
 *                             (or absent)} -> {"grant", "refreshToken"}
 *                             with Dex's rotation rules (reuseInterval,
 *                             validIfNotUsedFor, absoluteLifetime,
 *                             disableRotation); reuse of a rotated-out
 *                             token revokes the whole family.  With
 *                             "upstreamFirst": true and a token of an
 *                             upstream connector (not "local") outside
 *                             reuseInterval, nothing is written: the
 *                             reply is {"grant", "upstream": true}, the
 *                             first half of a refresh that asks the
 *                             upstream first.  With "identity" (what
 *                             the upstream said this time, its refresh
 *                             token sealed in connectorData) the family's
 *                             identity is replaced in the same txn; the
 *                             userId and connectorId must not change.
 *   IMSG_STORE_INTROSPECT     {"refreshToken"} -> {"active" (bool),
 *                             "grant", "exp", "iat"}
 *   IMSG_STORE_ACCESS_REVOKE  {"jti", "exp", "clientId"} -> {}: the
 *                             access token (verified by the frontend) is
 *                             remembered as revoked until its exp, then
 *                             the GC forgets it; an expired one is not.
 *   IMSG_STORE_ACCESS_CHECK   {"jti"} -> {"revoked" (bool)}; reads only.
 *   IMSG_STORE_REFRESH_REVOKE {"refreshToken", "clientId"} ->
 *                             {"revoked" (bool)}: a known token (current
 *                             or rotated out) of that client revokes its
 *                             whole family; an unknown token or one of
 *                             another client changes nothing (RFC 7009
 *                             §2.1), and the reply is still ok.
 *
 * The device flow (RFC 8628, dex.md §4.10): a device request keyed by
 * its user code (XXXX-XXXX, store_user_code_parse()'s form) and a device
 * token keyed by SHA-256(device code), both expiring after
 * expiry.deviceRequests; the token record answers expired_token for
 * STORE_DEVICE_KEEP more.  It holds the grant once the user logged in,
 * never a token.
 *   IMSG_STORE_DEVICE_CREATE  {"clientId", "scopes", "redirectUri" (as
 *                             the login will store it), "codeChallenge",
 *                             "codeChallengeMethod"} -> {"deviceCode",
 *                             "userCode", "expiresIn", "interval"}
 *   IMSG_STORE_DEVICE_GET     {"userCode"} -> {"device": {"clientId",
 *                             "scopes", "nonce"}}; the nonce goes to the
 *                             login, to bind its code to this request.
 *                             Unknown, expired or done: invalid_request.
 *   IMSG_STORE_DEVICE_COMPLETE {"userCode", "code"} -> {"clientId"}:
 *                             redeems the auth code for the request's
 *                             client and redirect URI (its nonce must
 *                             match), stores the grant in the device
 *                             token and deletes the request, one txn.
 *   IMSG_STORE_DEVICE_DENY    {"userCode"} -> {"clientId"}: the device
 *                             will hear access_denied.
 *   IMSG_STORE_DEVICE_POLL    {"deviceCode", "clientId", "codeVerifier"
 *                             (or absent), "refresh" (bool)} -> {"grant",
 *                             "refreshToken" (or absent)}, once; or the
 *                             RFC 8628 errors authorization_pending,
 *                             slow_down, access_denied, expired_token,
 *                             and invalid_grant for an unknown, used or
 *                             other client's code.  A used code coming
 *                             back revokes the refresh token it gave.
 *   IMSG_STORE_SESSION_CREATE {"id", "identity", "session" (base64url
 *                             SHA-256 of a new browser cookie),
 *                             "replaces" (the browser's old one, ended;
 *                             or absent)} ->
 *                             {"authreq", "sid"}: AUTHREQ_LOGIN, and a
 *                             browser session (DB_KIND_SESSION) with the
 *                             identity, its authTime and a new random sid,
 *                             which the authreq, its code and grant carry.
 *   IMSG_STORE_SESSION_LOGIN  {"authreq" (as for PUT), "session",
 *                             "maxAge" (or absent), "sub" (of a verified
 *                             id_token_hint, or absent)} -> {"authreq"}
 *                             stored logged in with the session's
 *                             identity, authTime and sid; the session's
 *                             lastUsed and clients updated.  Or
 *                             login_required, nothing written: no live
 *                             session, another connector, authTime older
 *                             than maxAge, another user than sub.
 *   IMSG_STORE_SESSION_GET    {"session"} -> {"connectorId"}, or
 *                             login_required.
 *   IMSG_STORE_SESSION_END    {"session"} -> {"ended": true, "sid",
 *                             "userId", "connectorId", "clients" [..]}:
 *                             the browser session is deleted (its
 *                             refresh tokens live on); {"ended": false}
 *                             when there was no live one.
 *
 * Connector protocol (frontend -> connector), same framing, reply
 * IMSG_CONN_RESULT {"ok": true, "identity"} or {"ok": false, "error",
 * "error_description"}:
 *   IMSG_CONN_PASSWORD  {"connectorId", "username", "password",
 *                        "remoteAddr"}: the password database
 *                        (enablePasswordDB/staticPasswords), bcrypt with
 *                        Dex's cost bounds, failed logins rate-limited
 *                        per user and per address.
 *   IMSG_CONN_REFRESH   {"connectorId", "identity", "scopes"}: is the
 *                       user still there, with what claims (Dex's
 *                       Refresh()).  For an upstream connector the
 *                       sealed upstream refresh token in
 *                       identity.connectorData is used, and the new
 *                       identity carries the next one.
 *   IMSG_CONN_LOGIN     {"connectorId", "state" (the authreq id),
 *                       "offlineAccess" (bool)} -> {"url" (upstream
 *                       authorization URL), "connectorData" (sealed:
 *                       upstream nonce and PKCE verifier, kept in the
 *                       authreq)}
 *   IMSG_CONN_CALLBACK  {"connectorId", "connectorData", "scopes",
 *                       "params" {"code", "error", "error_description"}}
 *                       -> {"identity"}; errors are access_denied (the
 *                       user or the upstream said no) or server_error.
 *   IMSG_CONN_EXCHANGE  {"connectorId", "subjectToken",
 *                       "subjectTokenType"} -> {"identity"} (RFC 8693,
 *                       as Dex's TokenIdentity()).
 *   IMSG_CONN_LOGOUT    {"connectorId", "postLogoutRedirectUri",
 *                       "state"} -> {"url"} (the upstream's
 *                       end_session_endpoint with client_id,
 *                       post_logout_redirect_uri and state) or {} when
 *                       the connector has none.
 *   IMSG_CONN_BACKCHANNEL {"clientId", "uri", "logoutToken"} -> {} at
 *                       once: the connector POSTs logout_token=... to
 *                       the client's backchannelLogoutURI in the
 *                       background and logs a failure (OpenID
 *                       Back-Channel Logout 1.0).
 *
 * IMSG_CONN_STATUS (connector -> every frontend, unasked): a JSON object
 * {"connector id": "" when ready, else why not, ...} for /healthz/ready.
 */
#define STORE_JSON_MAX		(64 * 1024)
#define STORE_CODE_LIFETIME	60	/* seconds; Dex keeps codes 30 min */

struct privsep;
struct privsep_proc;

/* One peer pipe, with its libevent event. */
struct imsgev {
	struct imsgbuf		 ibuf;
	void			(*handler)(int, short, void *);
	struct event		*ev;
	struct event		*ev_flush;	/* proc.c's pipes; else NULL */
	int			 flush_pending;
	struct privsep_proc	*proc;
	void			*data;
	short			 events;
};

struct privsep_proc {
	const char		*p_title;
	enum privsep_procid	 p_id;
	int			(*p_cb)(int, struct privsep_proc *,
				    struct imsg *);
	void			(*p_init)(struct privsep *,
				    struct privsep_proc *);
	const char		*p_chroot;
	const char		*p_user;
	void			(*p_shutdown)(void);
	struct privsep		*p_ps;
	struct privsep_proc	*p_env;	/* the table this entry is in */
};

struct privsep {
	enum privsep_procid	 ps_id;		/* who we are */
	unsigned int		 ps_instance;	/* which instance of it */
	unsigned int		 ps_instances[PROC_MAX];
	const char		*ps_title[PROC_MAX];
	/* ps_ievs[peer][instance]: our pipe to each peer instance */
	struct imsgev		*ps_ievs[PROC_MAX];
	pid_t			*ps_pids[PROC_MAX];	/* parent only */
	struct event_base	*ps_evbase;
	struct event		*ps_evsig[6];
	int			 ps_debug;
	int			 ps_verbose;
	int			 ps_noroot;	/* running without root */
	void			*ps_env;	/* the role's own state */
	const char		*ps_argv0;
	void			(*ps_cleanup)(struct privsep *); /* parent */
	/* privdrop settings a child gets on its command line */
	const char		*ps_root;
	const char		*ps_user;
};

/* IMSG_CTL_PROCFD payload */
struct privsep_fd {
	enum privsep_procid	 pf_procid;
	unsigned int		 pf_instance;
};

/* IMSG_CFG_LISTEN payload; the listening socket is the imsg fd */
struct cfg_listen {
	uint32_t		 cl_id;
	uint32_t		 cl_tls;
	char			 cl_addr[128];
};

/* IMSG_CFG_TLS payload: one chunk of a PEM file (httpd's shape) */
#define CFG_TLS_CERT		1
#define CFG_TLS_KEY		2
#define CFG_TLS_CA		3	/* the system's roots, to the connector */
#define CFG_CA_BUNDLE		"/etc/ssl/certs/ca-certificates.crt"
#define CFG_CA_BUNDLE_MAX	(4 * 1024 * 1024)
#define CFG_SEAL_KEY_FILE	"connector.key"	/* in stateDir */
#define CFG_SEAL_KEY_LEN	32
#define CFG_TLS_CHUNK		(64 * 1024)
struct cfg_tls {
	uint32_t		 ct_listener;
	uint32_t		 ct_type;
	uint32_t		 ct_total;
	uint32_t		 ct_offset;
	uint32_t		 ct_len;
};

/*
 * The control protocol (oidcctl <-> control process) is imsg over the
 * control socket, maximum message size CTL_MAX_IMSGSIZE.  oidcctl sends
 * one request and reads replies until IMSG_CTL_END, IMSG_CTL_OK or
 * IMSG_CTL_FAIL:
 *
 *   IMSG_CTL_SHOW_STATUS  (empty)     -> IMSG_CTL_STATUS * n, IMSG_CTL_END
 *   IMSG_CTL_KEY_SHOW     (empty)     -> IMSG_CTL_KEY * n, IMSG_CTL_END
 *   IMSG_CTL_KEY_ROTATE   (empty)     -> IMSG_CTL_OK (text)
 *   IMSG_CTL_RELOAD       (empty or a file name) -> IMSG_CTL_OK (text)
 *                                        or IMSG_CTL_FAIL (the errors)
 *   IMSG_CTL_LOG_VERBOSE  (int32 level: 1 brief, 2 verbose)
 *                                     -> IMSG_CTL_OK
 *   IMSG_SIGN_JWT         (struct sign_req + payload; root only)
 *                                     -> IMSG_SIGN_RESULT (u32 len + JWS)
 *                                        or IMSG_SIGN_FAIL (text)
 *   IMSG_CTL_GC           (empty)     -> IMSG_CTL_OK (text)
 *
 * IMSG_CTL_OK carries an optional text.  "show" requests are allowed to
 * root and to members of the daemon's group; everything else to root
 * only: the others get IMSG_CTL_FAIL with EPERM.
 */
#define CTL_MAX_IMSGSIZE	(64 * 1024)
#define CTL_MAX_CONNS		32

/* IMSG_CTL_FAIL payload header; the message follows */
struct ctl_fail {
	int32_t			 cf_error;
	uint32_t		 cf_msglen;
};

/* IMSG_CTL_STATUS: one per process */
struct ctl_status {
	int32_t			 cs_procid;
	uint32_t		 cs_instance;
	int32_t			 cs_pid;
	int32_t			 cs_uid;
	uint64_t		 cs_started;
	uint64_t		 cs_generation;
	char			 cs_title[32];
	char			 cs_info[256];
};

/* IMSG_CFG_GLOBAL: a JSON object with what that process needs */
#define CFG_JSON_MAX		(PROC_MAX_IMSGSIZE - 64)

/* IMSG_CFG_TEMPLATE: one template of frontend.dir; the text follows */
#define CFG_TEMPLATES_MAX	32
struct cfg_template {
	char			 ct_name[64];
	uint32_t		 ct_len;
};

/* IMSG_JWKS_UPDATE header; the serialized JWKS follows */
struct jwks_update {
	uint64_t		 ju_generation;
	uint32_t		 ju_max_age;
	uint32_t		 ju_len;
};

/* IMSG_SIGN_JWT header; the payload JSON follows */
#define SIGN_TOKEN_ID		1
#define SIGN_TOKEN_ACCESS	2
#define SIGN_TOKEN_LOGOUT	3
#define SIGN_PAYLOAD_MAX	(32 * 1024)
#define SIGN_MAX_SKEW		5	/* seconds between iat and now */
struct sign_req {
	uint32_t		 sr_type;
	uint32_t		 sr_len;
};

/* IMSG_CTL_KEY: one per signing key */
#define KEY_STATE_NEXT		1
#define KEY_STATE_ACTIVE	2
#define KEY_STATE_RETIRED	3
struct ctl_key {
	char			 ck_kid[64];
	char			 ck_alg[16];
	uint32_t		 ck_state;
	uint64_t		 ck_created;
	uint64_t		 ck_promoted;
	uint64_t		 ck_retire;
	uint64_t		 ck_signatures;
};

/* config.c */
struct oidcd_conf;
#define OIDCD_GC_INTERVAL	60	/* seconds between expiry GC passes */
void	 config_setglobal(struct privsep *, enum privsep_procid,
	    const struct oidcd_conf *, gid_t);
json_t	*config_getglobal(struct imsg *);
void	 config_settls(struct privsep *, enum privsep_procid, uint32_t,
	    uint32_t, const uint8_t *, size_t);
struct config_templates {
	struct cfg_template	 ct_hdr[CFG_TEMPLATES_MAX];
	char			*ct_text[CFG_TEMPLATES_MAX];
	size_t			 ct_n;
};
int	 config_loadtemplates(const char *, struct config_templates *,
	    char *, size_t);
void	 config_freetemplates(struct config_templates *);
void	 config_settemplates(struct privsep *,
	    const struct config_templates *);
int	 config_loadassets(const char *, const char *, struct asset_set *,
	    char *, size_t);
void	 config_freeassets(struct asset_set *);
void	 config_setassets(struct privsep *, const struct asset_set *);

/* signer.c */
void	 signer(struct privsep *, struct privsep_proc *);

/* storage.c */
void	 storage(struct privsep *, struct privsep_proc *);

/* frontend.c */
struct http_request;
void	 frontend(struct privsep *, struct privsep_proc *);
struct http_conn *frontend_conn(uint32_t);
struct http_kv;
size_t	 frontend_cors(struct http_request *, struct http_kv *, size_t);

/* oidc.c */
void	 oidc_init(struct privsep *);
void	 oidc_configure(const json_t *);
void	 oidc_jwks(const char *, size_t);
int	 oidc_template(const char *, const char *, size_t);
int	 oidc_asset_install(const struct cfg_asset *, const void *, size_t);
int	 oidc_handle(struct http_conn *, struct http_request *,
	    const char *);
int	 oidc_dispatch(struct privsep_proc *, struct imsg *);
const char *oidc_not_ready(void);
/* oidc.c: the flow API of the feature files */
struct oidc_flow;
struct oauth2_conf;
struct oauth2_token_request;
typedef void (*oidc_cb)(struct oidc_flow *, uint32_t, json_t *,
    const char *, size_t);
struct oidc_flow *oidc_flow_new(struct http_conn *, struct http_request *);
int	 oidc_b64url_ok(const char *, size_t);
json_t	*oidc_flow_data(struct oidc_flow *);
void	 oidc_flow_cookie(struct oidc_flow *, const char *);
const struct oauth2_conf *oidc_conf(void);
int	 oidc_ask_json(struct oidc_flow *, enum privsep_procid, uint32_t,
	    json_t *, oidc_cb);
void	 oidc_json(struct oidc_flow *, int, const char *, struct http_kv *,
	    size_t);
void	 oidc_json_error(struct oidc_flow *, int, const char *,
	    const char *);
void	 oidc_redirect(struct oidc_flow *, int, const char *);
void	 oidc_page(struct oidc_flow *, int, const char *, json_t *);
void	 oidc_error_page(struct oidc_flow *, int, const char *);
void	 oidc_token_grant(struct oidc_flow *, json_t *);
json_t	*oidc_token_verify(const char *, int);
char	*oidc_session_of(struct http_request *);
void	 oidc_session_clear(struct oidc_flow *);
int	 oidc_ask_sign(struct oidc_flow *, uint32_t, json_t *, oidc_cb);

/* logout.c: RP-initiated logout */
int	 logout_handle(struct http_conn *, struct http_request *,
	    const char *);

/* device.c: the device flow (RFC 8628) */
int	 device_handle(struct http_conn *, struct http_request *,
	    const char *);
int	 device_token(struct oidc_flow *,
	    const struct oauth2_token_request *);

/* connector.c */
void	 connector(struct privsep *, struct privsep_proc *);
void	 connector_reply(int, uint32_t, json_t *);
void	 connector_error(int, uint32_t, const char *, const char *);

/* federation.c: the connector's upstream side */
void	 federation_init(struct privsep *);
int	 federation_configure(const json_t *, const char *, size_t, char *,
	    size_t);
void	 federation_start(void);
int	 federation_has(const char *);
void	 federation_login(const json_t *, int, uint32_t);
void	 federation_callback(const json_t *, int, uint32_t);
void	 federation_refresh(const json_t *, int, uint32_t);
void	 federation_exchange(const json_t *, int, uint32_t);
void	 federation_logout(const json_t *, int, uint32_t);
void	 federation_backchannel(const json_t *, int, uint32_t);

/* control.c */
void	 control(struct privsep *, struct privsep_proc *);

/* proc.c */
void	 proc_init(struct privsep *, struct privsep_proc *, unsigned int,
	    int, char **, enum privsep_procid);
void	 proc_connect(struct privsep *);
void	 proc_kill(struct privsep *);
__dead void proc_run(struct privsep *, struct privsep_proc *,
	    struct privsep_proc *, unsigned int,
	    void (*)(struct privsep *, struct privsep_proc *, void *),
	    void *);
enum privsep_procid proc_getid(struct privsep_proc *, unsigned int,
	    const char *);
void	 proc_dispatch(int, short, void *);
int	 proc_compose_imsg(struct privsep *, enum privsep_procid, int,
	    uint32_t, uint32_t, int, const void *, size_t);
int	 proc_compose(struct privsep *, enum privsep_procid, uint32_t,
	    const void *, size_t);
int	 proc_composev_imsg(struct privsep *, enum privsep_procid, int,
	    uint32_t, uint32_t, int, const struct iovec *, int);
int	 proc_composev(struct privsep *, enum privsep_procid, uint32_t,
	    const struct iovec *, int);
int	 proc_forward_imsg(struct privsep *, struct imsg *,
	    enum privsep_procid, int);
struct imsgbuf *proc_ibuf(struct privsep *, enum privsep_procid, int);
struct imsgev *proc_iev(struct privsep *, enum privsep_procid, int);
int	 proc_flush_imsg(struct privsep *, enum privsep_procid, int);
void	 imsg_event_add(struct imsgev *);
int	 imsg_compose_event(struct imsgev *, uint32_t, uint32_t, pid_t,
	    int, const void *, size_t);
int	 imsg_composev_event(struct imsgev *, uint32_t, uint32_t, pid_t,
	    int, const struct iovec *, int);
const char *proc_title(enum privsep_procid);

/* util.c */
int	 timingsafe_bcmp(const void *, const void *, size_t);
uint64_t now_monotonic_ms(void);
uint64_t now_realtime(void);
int	 imsg_get_string(struct imsg *, size_t, char **);
const char *key_state_name(unsigned int);
char	*xstrdup(const char *);

#endif /* OIDCD_H */
