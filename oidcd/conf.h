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
 * The configuration: a Dex YAML config file turned into struct oidcd_conf
 * by parse.c.  This header stands alone (oidcd.h includes it) so that the
 * unit tester and the fuzz target can use the parser by itself.
 *
 * Conventions: strings are malloc'd and NUL-terminated, NULL when the key
 * is absent; durations are int64_t milliseconds (Go durations truncated
 * toward zero); lists of strings are counted arrays (struct conf_strv);
 * clients, connectors and static passwords are TAILQs in file order.
 */

#ifndef CONF_H
#define CONF_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Limits on what a config file may hold. */
#define CONF_MAX_FILESIZE	(1024 * 1024)	/* bytes in the file */
#define CONF_MAX_DEPTH		32	/* nesting of YAML collections */
#define CONF_MAX_NODES		200000	/* YAML nodes after alias expansion */
#define CONF_MAX_STRLEN		8192	/* bytes in one string (after env) */
#define CONF_MAX_LIST		1024	/* items in one list of strings */
#define CONF_MAX_CLIENTS	1024
#define CONF_MAX_CONNECTORS	1024
#define CONF_PEM_MAX		(1024 * 1024)	/* one rootCAs entry */
#define CONF_PEM_BEGIN		"-----BEGIN "
#define CONF_MAX_PASSWORDS	1024
#define CONF_MAX_MSGS		200	/* messages kept; one more says so */
#define CONF_MAX_FRONTENDS	64

/* Defaults for the oidcd: block and Dex's own defaults. */
#define CONF_DEF_USER		"_oidcd"
#define CONF_DEF_KEYUSER	"_oidcdkey"
#define CONF_DEF_DBUSER		"_oidcddb"
#define CONF_DEF_STATEDIR	"/var/lib/oidcd"
#define CONF_DEF_EMPTYDIR_SUB	"empty"		/* stateDir/empty */
#define CONF_DEF_KEYDIR_SUB	"keys"		/* stateDir/keys */
#define CONF_DEF_DBDIR_SUB	"db"		/* stateDir/db */
#define CONF_DEF_CONTROLSOCK	"/run/oidcd.sock"
#define CONF_DEF_MAPSIZE	(1024ULL * 1024 * 1024)	/* LMDB, 1 GiB */
#define CONF_MIN_MAPSIZE	(1024ULL * 1024)
#define CONF_MAX_MAPSIZE	(1ULL << 40)

#define CONF_MSEC_MIN		(60LL * 1000)
#define CONF_MSEC_HOUR		(60LL * CONF_MSEC_MIN)
#define CONF_DEF_SIGNINGKEYS	(6 * CONF_MSEC_HOUR)
#define CONF_DEF_IDTOKENS	(24 * CONF_MSEC_HOUR)
#define CONF_DEF_AUTHREQUESTS	(24 * CONF_MSEC_HOUR)
#define CONF_DEF_DEVICEREQUESTS	(5 * CONF_MSEC_MIN)
#define CONF_DEF_SESS_COOKIE	"dex_session"	/* sessions: Dex master's */
#define CONF_DEF_SESS_ABSOLUTE	(24 * CONF_MSEC_HOUR)
#define CONF_DEF_SESS_IDLE	CONF_MSEC_HOUR
#define CONF_SESS_COOKIE_MAX	64	/* bytes of sessions.cookieName */
#define CONF_DEF_JWKSMAXAGE	(10 * CONF_MSEC_MIN)

/* Message severities. */
#define CONF_WARN		1
#define CONF_ERR		2

struct conf_msg {
	TAILQ_ENTRY(conf_msg)	 m_entry;
	int			 m_severity;	/* CONF_WARN or CONF_ERR */
	int			 m_line;	/* 0: no position */
	int			 m_col;
	char			*m_text;	/* "FILE:LINE:COL: what" */
};
TAILQ_HEAD(conf_msgs, conf_msg);

struct conf_strv {
	char			**sv_v;
	size_t			 sv_n;
};

/* storage.type */
#define CONF_STORAGE_MEMORY	1
#define CONF_STORAGE_LMDB	2

/* signer.type */
#define CONF_SIGNER_LOCAL	1

/* signing algorithm */
#define CONF_ALG_RS256		1
#define CONF_ALG_ES256		2

/* logger.level, as slog: debug -4, info 0, warn 4, error 8 */
#define CONF_LOG_DEBUG		(-4)
#define CONF_LOG_INFO		0
#define CONF_LOG_WARN		4
#define CONF_LOG_ERROR		8

/* logger.format */
#define CONF_LOGFMT_TEXT	0
#define CONF_LOGFMT_JSON	1

/* oauth2.responseTypes: a set of these bits per allowed entry */
#define CONF_RT_CODE		0x01
#define CONF_RT_TOKEN		0x02
#define CONF_RT_IDTOKEN		0x04

/* grant types, for oauth2.grantTypes and staticClients[].grantTypes */
#define CONF_GT_AUTHCODE	0x01	/* authorization_code */
#define CONF_GT_IMPLICIT	0x02	/* implicit */
#define CONF_GT_PASSWORD	0x04	/* password */
#define CONF_GT_REFRESH		0x08	/* refresh_token */
#define CONF_GT_DEVICECODE	0x10	/* urn:...:device_code */
#define CONF_GT_TOKENEXCHANGE	0x20	/* urn:...:token-exchange */
#define CONF_GT_CLIENTCREDS	0x40	/* client_credentials (master) */

/* A static client (staticClients[]). */
struct conf_client {
	TAILQ_ENTRY(conf_client) cl_entry;
	int			 cl_line;
	char			*cl_id;		/* from id or $idEnv */
	char			*cl_id_env;	/* the variable's name */
	char			*cl_secret;	/* secret: freezero'd */
	char			*cl_secret_env;
	char			*cl_name;
	char			*cl_logo_url;
	int			 cl_public;
	struct conf_strv	 cl_redirect_uris;
	struct conf_strv	 cl_trusted_peers;
	/* Keys that Dex master adds. */
	struct conf_strv	 cl_post_logout_uris;
	char			*cl_backchannel_logout_uri;
	struct conf_strv	 cl_allowed_connectors;
	/* clientCredentialsClaims.groups */
	struct conf_strv	 cl_cc_groups;
	/* refreshTokenLifetime: idle and absolute; -1 unset */
	int64_t			 cl_rt_idle;
	int64_t			 cl_rt_absolute;
	/* Ours: grant types this client may use, CONF_GT_*; 0 = any. */
	struct conf_strv	 cl_grant_types;
	int			 cl_grant_mask;
};
TAILQ_HEAD(conf_clients, conf_client);

/*
 * A connector (connectors[]).  cn_config is the config block after env
 * expansion, as JSON: the connector process checks what is specific to
 * the type.  The keys of oidc and oauth configs are checked here already.
 */
struct conf_connector {
	TAILQ_ENTRY(conf_connector) cn_entry;
	int			 cn_line;
	char			*cn_type;
	char			*cn_id;
	char			*cn_name;
	json_t			*cn_config;	/* object; may hold secrets */
	struct conf_strv	 cn_grant_types;	/* master */
};
TAILQ_HEAD(conf_connectors, conf_connector);

/* A static password (staticPasswords[]). */
struct conf_password {
	TAILQ_ENTRY(conf_password) pw_entry;
	int			 pw_line;
	char			*pw_email;	/* lowercased */
	char			*pw_hash; /* bcrypt "$2a$10$...", decoded */
	char			*pw_hash_env;	/* name of the variable */
	char			*pw_username;
	char			*pw_name;	/* name, else username */
	char			*pw_preferred_username;
	int			 pw_email_verified;	/* default 1 */
	char			*pw_user_id;
	struct conf_strv	 pw_groups;
};
TAILQ_HEAD(conf_passwords, conf_password);

struct oidcd_conf {
	char			*cf_file;	/* name given to the parser */

	/* issuer: the exact string is iss; the parts are for routing. */
	char			*cf_issuer;
	char			*cf_issuer_scheme;	/* "http" or "https" */
	char			*cf_issuer_host; /* without [] for IPv6 */
	int			 cf_issuer_port;	/* explicit or 80/443 */
	char			*cf_issuer_path;	/* "" or "/dex" */

	/* storage */
	int			 cf_storage_type;	/* CONF_STORAGE_* */
	char			*cf_storage_path;	/* lmdb: absolute */
	uint64_t		 cf_storage_mapsize;
	json_t			*cf_storage_config; /* after env expansion */

	/* web */
	char			*cf_web_http;
	char			*cf_web_https;
	char			*cf_web_tls_cert;
	char			*cf_web_tls_key;
	int			 cf_web_tls_min;	/* 12 or 13 */
	int			 cf_web_tls_max;	/* 12 or 13 */
	struct conf_strv	 cf_web_allowed_origins;
	struct conf_strv	 cf_web_allowed_headers;
	char			*cf_web_csp;		/* headers: */
	char			*cf_web_xframe;
	char			*cf_web_xcto;
	char			*cf_web_xxss;
	char			*cf_web_hsts;
	char			*cf_web_ip_header;	/* clientRemoteIP */
	struct conf_strv	 cf_web_trusted_proxies;

	/* telemetry */
	char			*cf_telemetry_http;
	int			 cf_telemetry_profiling;

	/* grpc: read, never served */
	char			*cf_grpc_addr;
	char			*cf_grpc_tls_cert;
	char			*cf_grpc_tls_key;
	char			*cf_grpc_tls_client_ca;

	/* expiry */
	int64_t			 cf_exp_signing_keys;
	int64_t			 cf_exp_id_tokens;
	int64_t			 cf_exp_auth_requests;
	int64_t			 cf_exp_device_requests;
	int			 cf_rt_disable_rotation;
	int64_t			 cf_rt_reuse_interval;	/* 0: off */
	int64_t			 cf_rt_valid_if_not_used_for; /* 0: never */
	int64_t			 cf_rt_absolute_lifetime;	/* 0: never */

	/* sessions (browser sessions; Dex master's keys) */
	int			 cf_sess_enabled;	/* ours; default on */
	char			*cf_sess_cookie_name;	/* NULL: default */
	int64_t			 cf_sess_absolute;
	int64_t			 cf_sess_idle;

	/* logger */
	int			 cf_log_level;		/* CONF_LOG_* */
	int			 cf_log_format;		/* CONF_LOGFMT_* */
	struct conf_strv	 cf_log_exclude_fields;

	/* oauth2 */
	struct conf_strv	 cf_response_types;	/* as written */
	int			*cf_response_type_sets;	/* CONF_RT_* each */
	struct conf_strv	 cf_grant_types;	/* as written */
	int			 cf_grant_mask;		/* CONF_GT_*, 0: all */
	int			 cf_skip_approval;
	int			 cf_always_show_login;
	char			*cf_password_connector;
	int			 cf_pkce_enforce;
	struct conf_strv	 cf_pkce_methods; /* default S256, plain */

	/* frontend */
	char			*cf_fe_dir;
	char			*cf_fe_logo_url;
	char			*cf_fe_issuer;		/* display name */
	char			*cf_fe_theme;
	json_t			*cf_fe_extra;		/* object of strings */

	/* signer */
	int			 cf_signer_type;	/* CONF_SIGNER_LOCAL */
	int64_t			 cf_keys_rotation;	/* effective period */
	int			 cf_signing_alg;	/* CONF_ALG_* */

	struct conf_connectors	 cf_connectors;		/* supported only */
	size_t			 cf_nconnectors;
	struct conf_clients	 cf_clients;
	size_t			 cf_nclients;
	int			 cf_enable_password_db;
	struct conf_passwords	 cf_passwords;
	size_t			 cf_npasswords;

	/* The oidcd: block.  Paths are absolute (made so at parse time). */
	int			 cf_frontends;
	char			*cf_user;
	char			*cf_key_user;
	char			*cf_db_user;
	char			*cf_state_dir;
	char			*cf_empty_dir;
	char			*cf_key_dir;
	char			*cf_control_socket;
	int64_t			 cf_jwks_max_age;
	int64_t			 cf_keys_publish_ahead;
	int64_t			 cf_keys_retire_after;

	/* Set by the parent, not the parser: the connector's sealing key. */
	char			*cf_seal_key;	/* base64url, 32 bytes */
};

struct oidcd_conf *conf_parse_file(const char *, struct conf_msgs *);
struct oidcd_conf *conf_parse_buffer(const char *, const char *, size_t,
	    struct conf_msgs *);
void	 conf_free(struct oidcd_conf *);
void	 conf_msgs_free(struct conf_msgs *);
int	 conf_msgs_print(FILE *, struct conf_msgs *);
int	 conf_msgs_count(struct conf_msgs *, int);
int	 conf_check_secrecy(const char *, const struct oidcd_conf *);
int	 conf_has_secrets(const struct oidcd_conf *);
char	*conf_pem_resolve(const char *, size_t *);
int	 conf_parse_duration(const char *, int64_t *);
int	 conf_parse_duration_ns(const char *, int64_t *);
int	 conf_expand_env(const char *, char **);
int	 conf_bcrypt_valid(const char *);

#endif /* CONF_H */
