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
 * Tests for the config parser (parse.c): Dex's parsing rules, every key,
 * error positions, env expansion, YAML 1.1 scalars and Go durations.
 * Run from the top of the source tree: the data files are
 * regress/data/config/ and etc/.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "tap.h"

#define MIN		(60LL * 1000)
#define HOUR		(60 * MIN)

static struct conf_msgs	msgs;

static struct oidcd_conf *
parse(const char *yaml)
{
	conf_msgs_free(&msgs);
	TAILQ_INIT(&msgs);
	return (conf_parse_buffer("t.yaml", yaml, strlen(yaml), &msgs));
}

/* Is there a message of this severity that contains all of text? */
static int
has_msg(int sev, const char *text)
{
	struct conf_msg	*m;

	TAILQ_FOREACH(m, &msgs, m_entry)
		if (m->m_severity == sev && strstr(m->m_text, text) != NULL)
			return (1);
	return (0);
}

static void
dump_msgs(void)
{
	struct conf_msg	*m;

	TAILQ_FOREACH(m, &msgs, m_entry)
		diag("%s: %s", m->m_severity == CONF_ERR ? "error" :
		    "warning", m->m_text);
}

static int
strv_is(struct conf_strv *sv, int n, ...)
{
	va_list	ap;
	int	i, ok = 1;

	if ((int)sv->sv_n != n)
		return (0);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		if (strcmp(sv->sv_v[i], va_arg(ap, const char *)) != 0)
			ok = 0;
	va_end(ap);
	return (ok);
}

static const char *
jstr(json_t *o, const char *k)
{
	return (json_string_value(json_object_get(o, k)));
}

/* The smallest config that Dex starts with. */
/* bcrypt of "password", from Dex's examples */
#define HASH	"$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"

#define REST	"storage:\n  type: memory\n" \
		"web:\n  http: 127.0.0.1:5556\n" \
		"enablePasswordDB: true\n"
#define BASE	"issuer: http://127.0.0.1:5556/dex\n" \
		"storage:\n  type: memory\n" \
		"web:\n  http: 127.0.0.1:5556\n" \
		"enablePasswordDB: true\n"

static void
test_seed(void)
{
	struct oidcd_conf	*cf;
	struct conf_connector	*cn;
	struct conf_client	*cl;
	json_t			*scopes;

	conf_msgs_free(&msgs);
	TAILQ_INIT(&msgs);
	cf = conf_parse_file("etc/dex-config.yaml", &msgs);
	ok(cf != NULL, "seed dex-config.yaml loads");
	if (cf == NULL) {
		dump_msgs();
		return;
	}
	is_int(conf_msgs_count(&msgs, CONF_ERR), 0, "seed: no errors");
	is_int(conf_msgs_count(&msgs, CONF_WARN), 0, "seed: no warnings");
	is_str(cf->cf_issuer, "http://localhost:5556/dex", "seed: issuer");
	is_str(cf->cf_issuer_scheme, "http", "seed: issuer scheme");
	is_str(cf->cf_issuer_host, "localhost", "seed: issuer host");
	is_int(cf->cf_issuer_port, 5556, "seed: issuer port");
	is_str(cf->cf_issuer_path, "/dex", "seed: issuer path");
	is_int(cf->cf_storage_type, CONF_STORAGE_MEMORY, "seed: memory");
	is_str(cf->cf_web_http, "0.0.0.0:5556", "seed: web.http");
	is_int(cf->cf_nconnectors, 1, "seed: one connector");
	cn = TAILQ_FIRST(&cf->cf_connectors);
	is_str(cn->cn_type, "oidc", "seed: connector type");
	is_str(cn->cn_id, "authentik", "seed: connector id");
	is_str(cn->cn_name, "Authentik", "seed: connector name");
	is_int(cn->cn_line, 20, "seed: connector line");
	is_str(jstr(cn->cn_config, "issuer"),
	    "http://localhost:9000/application/o/dex/",
	    "seed: connector issuer");
	is_str(jstr(cn->cn_config, "clientSecret"),
	    "YOUR_AUTHENTIK_CLIENT_SECRET", "seed: connector secret");
	scopes = json_object_get(cn->cn_config, "scopes");
	is_int(json_array_size(scopes), 4, "seed: 4 scopes");
	is_str(json_string_value(json_array_get(scopes, 3)),
	    "offline_access", "seed: scope 4");
	is_int(cf->cf_log_level, CONF_LOG_DEBUG, "seed: log level");
	is_int(cf->cf_log_format, CONF_LOGFMT_TEXT, "seed: log format");
	is_int(cf->cf_exp_device_requests, 5 * MIN, "seed: deviceRequests");
	is_int(cf->cf_exp_id_tokens, 24 * HOUR, "seed: idTokens");
	is_int(cf->cf_exp_auth_requests, 24 * HOUR, "seed: authRequests");
	is_int(cf->cf_rt_reuse_interval, 3000, "seed: reuseInterval");
	is_int(cf->cf_rt_valid_if_not_used_for, 168 * HOUR,
	    "seed: validIfNotUsedFor");
	is_int(cf->cf_rt_absolute_lifetime, 720 * HOUR,
	    "seed: absoluteLifetime");
	is_int(cf->cf_rt_disable_rotation, 0, "seed: disableRotation");
	is_int(cf->cf_nclients, 1, "seed: one client");
	cl = TAILQ_FIRST(&cf->cf_clients);
	is_str(cl->cl_id, "parseable-app", "seed: client id");
	is_str(cl->cl_name, "Parseable", "seed: client name");
	is_str(cl->cl_secret, "parseable-secret", "seed: client secret");
	ok(strv_is(&cl->cl_redirect_uris, 1,
	    "http://localhost:8000/api/v1/o/code"), "seed: redirect URI");
	is_int(cf->cf_skip_approval, 1, "seed: skipApprovalScreen");
	is_int(cf->cf_enable_password_db, 0, "seed: no password db");
	/* Defaults Dex would apply. */
	is_int(cf->cf_exp_signing_keys, 6 * HOUR, "seed: signingKeys 6h");
	is_int(cf->cf_keys_rotation, 6 * HOUR, "seed: rotation 6h");
	is_int(cf->cf_signing_alg, CONF_ALG_RS256, "seed: RS256");
	ok(strv_is(&cf->cf_response_types, 1, "code"),
	    "seed: responseTypes default [code]");
	ok(strv_is(&cf->cf_web_allowed_headers, 1, "Authorization"),
	    "seed: allowedHeaders default");
	ok(strv_is(&cf->cf_pkce_methods, 2, "S256", "plain"),
	    "seed: PKCE methods default");
	is_int(cf->cf_web_tls_min, 12, "seed: TLS min 1.2");
	is_str(cf->cf_user, "_oidcd", "seed: user default");
	is_str(cf->cf_key_user, "_oidcdkey", "seed: keyUser default");
	is_str(cf->cf_db_user, "_oidcddb", "seed: dbUser default");
	is_str(cf->cf_state_dir, "/var/lib/oidcd", "seed: stateDir default");
	is_str(cf->cf_empty_dir, "/var/lib/oidcd/empty",
	    "seed: emptyDir default");
	is_str(cf->cf_key_dir, "/var/lib/oidcd/keys", "seed: keyDir");
	is_str(cf->cf_control_socket, "/run/oidcd.sock",
	    "seed: controlSocket default");
	ok(cf->cf_frontends >= 1 && cf->cf_frontends <= CONF_MAX_FRONTENDS,
	    "seed: frontends default from CPUs (%d)", cf->cf_frontends);
	is_int(cf->cf_jwks_max_age, 10 * MIN, "seed: jwksMaxAge 10m");
	is_int(cf->cf_keys_publish_ahead, 20 * MIN,
	    "seed: keysPublishAhead 2 x jwksMaxAge");
	is_int(cf->cf_keys_retire_after, 24 * HOUR,
	    "seed: keysRetireAfter = idTokens");
	is_int(conf_has_secrets(cf), 1, "seed: holds secrets");
	conf_free(cf);
}

static void
test_dist(void)
{
	struct oidcd_conf	*cf;
	struct conf_client	*cl;
	struct conf_password	*pw;

	setenv("OIDCD_TEST_DIST_CLIENT_ID", "prod-app", 1);
	setenv("OIDCD_TEST_DIST_CLIENT_SECRET", "prod-secret", 1);
	conf_msgs_free(&msgs);
	TAILQ_INIT(&msgs);
	cf = conf_parse_file("regress/data/config/dex-config-dist.yaml",
	    &msgs);
	ok(cf != NULL, "config.yaml.dist layout loads");
	if (cf == NULL) {
		dump_msgs();
		return;
	}
	ok(has_msg(CONF_WARN, "dex-config-dist.yaml:88:11: connectors[0]: "
	    "connector type \"mockCallback\" is not supported yet"),
	    "dist: mockCallback skipped with a warning");
	is_int(cf->cf_nconnectors, 0, "dist: skipped connector not kept");
	is_int(cf->cf_web_tls_min, 12, "dist: tlsMinVersion 1.2 (a float)");
	is_int(cf->cf_web_tls_max, 13, "dist: tlsMaxVersion 1.3 (a float)");
	is_str(cf->cf_fe_issuer, "dex", "dist: frontend.issuer");
	is_str(cf->cf_fe_dir, "", "dist: frontend.dir empty");
	is_str(cf->cf_fe_theme, "light", "dist: frontend.theme");
	is_str(cf->cf_telemetry_http, "127.0.0.1:5558", "dist: telemetry");
	ok(strv_is(&cf->cf_log_exclude_fields, 4, "email", "username",
	    "preferred_username", "groups"), "dist: excludeFields");
	is_int(cf->cf_rt_valid_if_not_used_for, 2160 * HOUR,
	    "dist: validIfNotUsedFor");
	is_str(cf->cf_password_connector, "local", "dist: passwordConnector");
	is_int(cf->cf_nclients, 4, "dist: four clients");
	cl = TAILQ_FIRST(&cf->cf_clients);
	cl = TAILQ_NEXT(cl, cl_entry);
	is_str(cl->cl_id, "prod-app", "dist: idEnv read");
	is_str(cl->cl_secret, "prod-secret", "dist: secretEnv read");
	cl = TAILQ_NEXT(cl, cl_entry);
	is_int(cl->cl_public, 1, "dist: public client");
	ok(cl->cl_secret == NULL, "dist: public client without secret");
	cl = TAILQ_NEXT(cl, cl_entry);
	ok(strv_is(&cl->cl_allowed_connectors, 1, "mock"),
	    "dist: allowedConnectors");
	pw = TAILQ_FIRST(&cf->cf_passwords);
	is_str(pw->pw_email, "admin@example.com", "dist: password email");
	is_str(pw->pw_preferred_username, "admin-public",
	    "dist: preferredUsername");
	is_str(pw->pw_name, "Admin User", "dist: name");
	ok(strv_is(&pw->pw_groups, 2, "team-a", "team-a/admins"),
	    "dist: groups");
	conf_free(cf);
	unsetenv("OIDCD_TEST_DIST_CLIENT_ID");
	unsetenv("OIDCD_TEST_DIST_CLIENT_SECRET");
}

static void
test_make_run_config(void)
{
	struct oidcd_conf	*cf;
	struct conf_password	*pw;
	char			 cwd[1024], want[1200];

	conf_msgs_free(&msgs);
	TAILQ_INIT(&msgs);
	cf = conf_parse_file("etc/oidcd.yaml", &msgs);
	ok(cf != NULL && TAILQ_EMPTY(&msgs), "etc/oidcd.yaml loads clean");
	if (cf == NULL) {
		dump_msgs();
		return;
	}
	ok(getcwd(cwd, sizeof(cwd)) != NULL, "getcwd");
	is_int(cf->cf_storage_type, CONF_STORAGE_LMDB, "oidcd.yaml: lmdb");
	(void)snprintf(want, sizeof(want), "%s/var/db", cwd);
	is_str(cf->cf_storage_path, want, "oidcd.yaml: db path absolute");
	(void)snprintf(want, sizeof(want), "%s/var/oidcd.sock", cwd);
	is_str(cf->cf_control_socket, want, "oidcd.yaml: socket absolute");
	(void)snprintf(want, sizeof(want), "%s/var/keys", cwd);
	is_str(cf->cf_key_dir, want, "oidcd.yaml: keys under stateDir");
	pw = TAILQ_FIRST(&cf->cf_passwords);
	ok(pw != NULL && strncmp(pw->pw_hash, "$2b$10$", 7) == 0,
	    "oidcd.yaml: bcrypt hash kept as written");
	conf_free(cf);
}

static void
test_every_key(void)
{
	struct oidcd_conf	*cf;
	struct conf_client	*cl;
	struct conf_password	*pw;
	struct conf_connector	*cn;
	const char		*y =
	    "issuer: https://id.example.com:8443/base/\n"
	    "storage:\n"
	    "  type: lmdb\n"
	    "  config:\n"
	    "    path: /srv/oidcd/db\n"
	    "    mapSize: 2147483648\n"
	    "web:\n"
	    "  http: 127.0.0.1:5556\n"
	    "  https: 0.0.0.0:5554\n"
	    "  tlsCert: /etc/oidcd/tls.crt\n"
	    "  tlsKey: /etc/oidcd/tls.key\n"
	    "  tlsMinVersion: \"1.3\"\n"
	    "  tlsMaxVersion: \"1.3\"\n"
	    "  allowedOrigins: ['*']\n"
	    "  allowedHeaders: [Authorization, X-Custom]\n"
	    "  headers:\n"
	    "    Content-Security-Policy: default-src 'self'\n"
	    "    X-Frame-Options: DENY\n"
	    "    X-Content-Type-Options: nosniff\n"
	    "    X-XSS-Protection: 1; mode=block\n"
	    "    Strict-Transport-Security: max-age=31536000\n"
	    "  clientRemoteIP:\n"
	    "    header: X-Forwarded-For\n"
	    "    trustedProxies: [10.0.0.0/8, '::1', 192.168.1.1]\n"
	    "telemetry:\n"
	    "  http: 127.0.0.1:5558\n"
	    "  enableProfiling: true\n"
	    "expiry:\n"
	    "  signingKeys: 12h\n"
	    "  idTokens: 1h\n"
	    "  authRequests: 30m\n"
	    "  deviceRequests: 10m\n"
	    "  refreshTokens:\n"
	    "    disableRotation: true\n"
	    "    reuseInterval: 3s\n"
	    "    validIfNotUsedFor: 2h\n"
	    "    absoluteLifetime: 48h\n"
	    "logger:\n"
	    "  level: warn\n"
	    "  format: json\n"
	    "  excludeFields: [email]\n"
	    "oauth2:\n"
	    "  responseTypes: [code, 'code id_token', 'id_token token']\n"
	    "  grantTypes: [authorization_code, refresh_token, password]\n"
	    "  skipApprovalScreen: true\n"
	    "  alwaysShowLoginScreen: true\n"
	    "  passwordConnector: up\n"
	    "  pkce:\n"
	    "    enforce: true\n"
	    "    codeChallengeMethodsSupported: [S256]\n"
	    "frontend:\n"
	    "  dir: /usr/share/oidcd/web\n"
	    "  logoURL: https://example.com/logo.png\n"
	    "  issuer: Example\n"
	    "  theme: dark\n"
	    "  extra:\n"
	    "    tagline: hello\n"
	    "signer:\n"
	    "  type: local\n"
	    "  config:\n"
	    "    keysRotationPeriod: 24h\n"
	    "    algorithm: ES256\n"
	    "connectors:\n"
	    "- type: oidc\n"
	    "  id: up\n"
	    "  name: Upstream\n"
	    "  grantTypes: [authorization_code]\n"
	    "  config:\n"
	    "    issuer: https://up.example.com\n"
	    "    issuerAlias: https://alias.example.com\n"
	    "    clientID: cid\n"
	    "    clientSecret: csecret\n"
	    "    redirectURI: https://id.example.com:8443/base/callback\n"
	    "    scopes: [profile, email, groups]\n"
	    "    basicAuthUnsupported: true\n"
	    "    providerDiscoveryOverrides: {tokenURL: a, authURL: b, "
	    "jwksURL: c}\n"
	    "    rootCAs: [/etc/ssl/certs/ca-certificates.crt]\n"
	    "    insecureSkipVerify: false\n"
	    "    insecureSkipEmailVerified: true\n"
	    "    insecureEnableGroups: true\n"
	    "    allowedGroups: [admins]\n"
	    "    acrValues: [mfa]\n"
	    "    getUserInfo: true\n"
	    "    userIDKey: oid\n"
	    "    userNameKey: email\n"
	    "    promptType: login\n"
	    "    pkceChallenge: S256\n"
	    "    overrideClaimMapping: true\n"
	    "    claimMapping: {preferred_username: nick, email: mail, "
	    "groups: roles}\n"
	    "    claimModifications:\n"
	    "      newGroupFromClaims:\n"
	    "      - {claims: [a, b], delimiter: ':', clearDelimiter: true, "
	    "prefix: p}\n"
	    "      filterGroupClaims: {groupsFilter: '^team-'}\n"
	    "      modifyGroupNames: {prefix: 'x-', suffix: '-y'}\n"
	    "- type: oauth\n"
	    "  id: gen\n"
	    "  name: Generic\n"
	    "  config:\n"
	    "    clientID: c\n"
	    "    clientSecret: s\n"
	    "    redirectURI: r\n"
	    "    tokenURL: t\n"
	    "    authorizationURL: a\n"
	    "    userInfoURL: u\n"
	    "    scopes: [x]\n"
	    "    rootCAs: []\n"
	    "    insecureSkipVerify: false\n"
	    "    userIDKey: id\n"
	    "    claimMapping: {userNameKey: u, preferredUsernameKey: p, "
	    "groupsKey: g, emailKey: e, emailVerifiedKey: v}\n"
	    "staticClients:\n"
	    "- id: app\n"
	    "  secret: s3cret\n"
	    "  redirectURIs: [https://app/cb, https://app/cb2]\n"
	    "  trustedPeers: [other]\n"
	    "  name: App\n"
	    "  logoURL: https://app/logo\n"
	    "  postLogoutRedirectURIs: [https://app/bye]\n"
	    "  backchannelLogoutURI: https://app/bcl\n"
	    "  refreshTokenLifetime: {validIfNotUsedFor: 1h, "
	    "absoluteLifetime: 10h}\n"
	    "  allowedConnectors: [up]\n"
	    "  clientCredentialsClaims: {groups: [svc]}\n"
	    "  grantTypes: [authorization_code, client_credentials]\n"
	    "- id: other\n"
	    "  public: true\n"
	    "  name: Other\n"
	    "enablePasswordDB: true\n"
	    "staticPasswords:\n"
	    "- email: Alice@Example.COM\n"
	    "  hash: " HASH "\n"
	    "  username: alice\n"
	    "  preferredUsername: al\n"
	    "  emailVerified: false\n"
	    "  userID: u-1\n"
	    "  groups: [g1]\n"
	    "oidcd:\n"
	    "  frontends: 3\n"
	    "  user: www\n"
	    "  keyUser: wkey\n"
	    "  dbUser: wdb\n"
	    "  stateDir: /srv/oidcd\n"
	    "  emptyDir: /srv/empty\n"
	    "  controlSocket: /srv/oidcd.sock\n"
	    "  signingAlgorithm: RS256\n"
	    "  jwksMaxAge: 5m\n"
	    "  keysPublishAhead: 1h\n"
	    "  keysRetireAfter: 36h\n";

	cf = parse(y);
	ok(cf != NULL, "every key: loads");
	if (cf == NULL) {
		dump_msgs();
		return;
	}
	is_int(conf_msgs_count(&msgs, CONF_WARN), 0, "every key: no warnings");
	dump_msgs();
	is_str(cf->cf_issuer, "https://id.example.com:8443/base/",
	    "issuer kept verbatim");
	is_str(cf->cf_issuer_path, "/base", "issuer path without slash");
	is_int(cf->cf_issuer_port, 8443, "issuer port");
	is_str(cf->cf_storage_path, "/srv/oidcd/db", "storage path");
	is_int(cf->cf_storage_mapsize, 2147483648LL, "storage mapSize");
	is_str(jstr(cf->cf_storage_config, "path"), "/srv/oidcd/db",
	    "storage config JSON");
	is_str(cf->cf_web_https, "0.0.0.0:5554", "web.https");
	is_str(cf->cf_web_tls_cert, "/etc/oidcd/tls.crt", "web.tlsCert");
	is_str(cf->cf_web_tls_key, "/etc/oidcd/tls.key", "web.tlsKey");
	is_int(cf->cf_web_tls_min, 13, "web.tlsMinVersion");
	is_int(cf->cf_web_tls_max, 13, "web.tlsMaxVersion");
	ok(strv_is(&cf->cf_web_allowed_origins, 1, "*"), "allowedOrigins");
	ok(strv_is(&cf->cf_web_allowed_headers, 2, "Authorization",
	    "X-Custom"), "allowedHeaders");
	is_str(cf->cf_web_csp, "default-src 'self'", "headers CSP");
	is_str(cf->cf_web_xframe, "DENY", "headers X-Frame-Options");
	is_str(cf->cf_web_xcto, "nosniff", "headers X-Content-Type-Options");
	is_str(cf->cf_web_xxss, "1; mode=block", "headers X-XSS-Protection");
	is_str(cf->cf_web_hsts, "max-age=31536000", "headers HSTS");
	is_str(cf->cf_web_ip_header, "X-Forwarded-For", "clientRemoteIP");
	ok(strv_is(&cf->cf_web_trusted_proxies, 3, "10.0.0.0/8", "::1",
	    "192.168.1.1"), "trustedProxies");
	is_int(cf->cf_telemetry_profiling, 1, "telemetry.enableProfiling");
	is_int(cf->cf_exp_signing_keys, 12 * HOUR, "expiry.signingKeys");
	is_int(cf->cf_exp_id_tokens, HOUR, "expiry.idTokens");
	is_int(cf->cf_exp_auth_requests, 30 * MIN, "expiry.authRequests");
	is_int(cf->cf_exp_device_requests, 10 * MIN, "expiry.deviceRequests");
	is_int(cf->cf_rt_disable_rotation, 1, "disableRotation");
	is_int(cf->cf_rt_valid_if_not_used_for, 2 * HOUR, "validIfNotUsedFor");
	is_int(cf->cf_rt_absolute_lifetime, 48 * HOUR, "absoluteLifetime");
	is_int(cf->cf_log_level, CONF_LOG_WARN, "logger.level");
	is_int(cf->cf_log_format, CONF_LOGFMT_JSON, "logger.format");
	ok(strv_is(&cf->cf_response_types, 3, "code", "code id_token",
	    "id_token token"), "responseTypes");
	is_int(cf->cf_response_type_sets[1], CONF_RT_CODE | CONF_RT_IDTOKEN,
	    "responseTypes sets");
	is_int(cf->cf_response_type_sets[2], CONF_RT_TOKEN | CONF_RT_IDTOKEN,
	    "responseTypes sets 2");
	is_int(cf->cf_grant_mask, CONF_GT_AUTHCODE | CONF_GT_REFRESH |
	    CONF_GT_PASSWORD, "grantTypes");
	is_int(cf->cf_always_show_login, 1, "alwaysShowLoginScreen");
	is_int(cf->cf_pkce_enforce, 1, "pkce.enforce");
	ok(strv_is(&cf->cf_pkce_methods, 1, "S256"), "pkce methods");
	is_str(cf->cf_fe_logo_url, "https://example.com/logo.png",
	    "frontend.logoURL");
	is_str(cf->cf_fe_theme, "dark", "frontend.theme");
	is_str(jstr(cf->cf_fe_extra, "tagline"), "hello", "frontend.extra");
	is_int(cf->cf_keys_rotation, 24 * HOUR,
	    "signer keysRotationPeriod wins over expiry.signingKeys");
	is_int(cf->cf_signing_alg, CONF_ALG_ES256,
	    "signer algorithm wins over oidcd.signingAlgorithm");
	is_int(cf->cf_nconnectors, 2, "two connectors");
	cn = TAILQ_FIRST(&cf->cf_connectors);
	ok(strv_is(&cn->cn_grant_types, 1, "authorization_code"),
	    "connector grantTypes");
	is_str(jstr(json_object_get(cn->cn_config, "claimMapping"),
	    "preferred_username"), "nick", "oidc claimMapping in JSON");
	ok(json_is_true(json_object_get(cn->cn_config, "getUserInfo")),
	    "oidc bool stays a JSON bool");
	cn = TAILQ_NEXT(cn, cn_entry);
	is_str(cn->cn_type, "oauth", "oauth connector kept");
	cl = TAILQ_FIRST(&cf->cf_clients);
	ok(strv_is(&cl->cl_trusted_peers, 1, "other"), "trustedPeers");
	is_str(cl->cl_logo_url, "https://app/logo", "client logoURL");
	ok(strv_is(&cl->cl_post_logout_uris, 1, "https://app/bye"),
	    "postLogoutRedirectURIs");
	is_str(cl->cl_backchannel_logout_uri, "https://app/bcl",
	    "backchannelLogoutURI");
	is_int(cl->cl_rt_idle, HOUR, "client refreshTokenLifetime idle");
	is_int(cl->cl_rt_absolute, 10 * HOUR, "client absoluteLifetime");
	ok(strv_is(&cl->cl_cc_groups, 1, "svc"), "clientCredentialsClaims");
	is_int(cl->cl_grant_mask, CONF_GT_AUTHCODE | CONF_GT_CLIENTCREDS,
	    "client grantTypes");
	pw = TAILQ_FIRST(&cf->cf_passwords);
	is_str(pw->pw_email, "alice@example.com", "email lowercased");
	is_str(pw->pw_name, "alice", "name defaults to username");
	is_int(pw->pw_email_verified, 0, "emailVerified false");
	is_str(pw->pw_user_id, "u-1", "userID");
	is_int(cf->cf_frontends, 3, "oidcd.frontends");
	is_str(cf->cf_user, "www", "oidcd.user");
	is_str(cf->cf_key_user, "wkey", "oidcd.keyUser");
	is_str(cf->cf_db_user, "wdb", "oidcd.dbUser");
	is_str(cf->cf_empty_dir, "/srv/empty", "oidcd.emptyDir");
	is_str(cf->cf_key_dir, "/srv/oidcd/keys", "key dir");
	is_str(cf->cf_control_socket, "/srv/oidcd.sock",
	    "oidcd.controlSocket");
	is_int(cf->cf_jwks_max_age, 5 * MIN, "oidcd.jwksMaxAge");
	is_int(cf->cf_keys_publish_ahead, HOUR, "oidcd.keysPublishAhead");
	is_int(cf->cf_keys_retire_after, 36 * HOUR, "oidcd.keysRetireAfter");
	conf_free(cf);
}

static void
test_errors(void)
{
	struct oidcd_conf	*cf;
	struct conf_msg		*m;
	int			 i;

	cf = parse(BASE "expiry:\n  idTokens: 7d\n");
	ok(cf == NULL, "7d is an error");
	ok(has_msg(CONF_ERR, "t.yaml:8:13: expiry.idTokens: invalid "
	    "duration \"7d\""), "7d: position and path");

	/* rootCAs: a file, PEM text or base64 of PEM, checked at load. */
	cf = parse(BASE "connectors:\n- type: oidc\n  id: up\n  name: Up\n"
	    "  config:\n    issuer: https://idp.example\n    clientID: c\n"
	    "    rootCAs: [/nonexistent/ca.pem]\n");
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml:14:15: connectors[0]: "
	    "rootCAs: not a readable PEM file, PEM text or base64 of PEM"),
	    "rootCAs: a missing file is an error at its position");
	cf = parse(BASE "connectors:\n- type: oidc\n  id: up\n  name: Up\n"
	    "  config:\n    issuer: https://idp.example\n    clientID: c\n"
	    "    rootCAs:\n    - |\n      -----BEGIN CERTIFICATE-----\n"
	    "      MIIB\n      -----END CERTIFICATE-----\n"
	    "    - LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VS"
	    "VElGSUNBVEUtLS0tLQo=\n");
	ok(cf != NULL, "rootCAs: PEM text and base64 of PEM load");
	conf_free(cf);
	{
		size_t	 len;
		char	*pem = conf_pem_resolve("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS"
		    "0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=", &len);

		ok(pem != NULL && len == strlen(pem) && strcmp(pem,
		    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END "
		    "CERTIFICATE-----\n") == 0, "rootCAs: base64 decoded");
		free(pem);
		ok(conf_pem_resolve("bm90IGEgUEVN", &len) == NULL,
		    "rootCAs: base64 of something else refused");
	}

	cf = parse(BASE "web:\n  tlsMinVersion: \"1.1\"\n");
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml:8:18: web.tlsMinVersion: "
	    "supported TLS versions are: 1.2, 1.3"), "TLS 1.1 refused at 7:18");

	cf = parse(BASE "web:\n  tlsMinVersion: \"1.3\"\n"
	    "  tlsMaxVersion: \"1.2\"\n");
	ok(cf == NULL && has_msg(CONF_ERR, "tlsMinVersion must not be above"),
	    "TLS min above max refused");

	cf = parse("issuer: ftp://x\n" REST);
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml:1:9: issuer: must be an "
	    "absolute http:// or https:// URL"), "ftp issuer at 1:9");

	cf = parse("issuer: http://x:99999/\n" REST);
	ok(cf == NULL && has_msg(CONF_ERR, "issuer: bad port"),
	    "issuer port range");

	cf = parse(BASE "oauth2:\n  responseTypes: [code, token code]\n");
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml:8:25: oauth2.responseTypes: "
	    "unsupported response_type \"token code\""),
	    "response type not in Dex's list");

	cf = parse(BASE "oauth2:\n  grantTypes: [magic]\n");
	ok(cf == NULL && has_msg(CONF_ERR, "unsupported grant type \"magic\""),
	    "unknown grant type");

	cf = parse(BASE "logger:\n  level: loud\n");
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml:8:10: logger.level: "
	    "unknown log level \"loud\""), "bad log level");

	cf = parse(BASE "logger:\n  format: xml\n");
	ok(cf == NULL && has_msg(CONF_ERR, "log format"), "bad log format");

	cf = parse(BASE "enablePasswordDB: \"true\"\n");
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml:7:19: enablePasswordDB: "
	    "expected a boolean"), "quoted true is a string, not a bool");

	cf = parse(BASE "web: [a]\n");
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml:7:6: web: expected a "
	    "mapping, got a list"), "web as a list");

	cf = parse(BASE "oidcd:\n  frontends: 65\n");
	ok(cf == NULL && has_msg(CONF_ERR, "oidcd.frontends: number out of "
	    "range 1..64"), "frontends range");

	cf = parse(BASE "oidcd:\n  frontends: \"2\"\n");
	ok(cf == NULL && has_msg(CONF_ERR, "expected a number"),
	    "frontends as a string");

	cf = parse(BASE "oidcd:\n  signingAlgorithm: HS256\n");
	ok(cf == NULL && has_msg(CONF_ERR, "unsupported signing algorithm"),
	    "HS256 refused");

	/* Several errors, all reported, in file order. */
	cf = parse("issuer: http://h/\nstorage: {type: memory}\n"
	    "web: {http: x, tlsMinVersion: '9'}\nenablePasswordDB: true\n"
	    "expiry: {idTokens: 1x, authRequests: -5m}\n"
	    "staticClients:\n- id: a\n  secret: b\n");
	ok(cf == NULL, "several errors");
	is_int(conf_msgs_count(&msgs, CONF_ERR), 4, "four errors collected");
	i = 0;
	TAILQ_FOREACH(m, &msgs, m_entry) {
		if (i == 0)
			ok(strstr(m->m_text, "t.yaml:3:") != NULL,
			    "first message is line 3");
		if (i == 3)
			ok(strstr(m->m_text, "t.yaml:7:") != NULL &&
			    strstr(m->m_text, "Name field is required") != NULL,
			    "last message is line 7, the nameless client");
		i++;
	}
	ok(has_msg(CONF_ERR, "t.yaml:5:38: expiry.authRequests: duration "
	    "must be positive"), "negative duration refused");

	/* Dex's Config.Validate. */
	cf = parse("storage: {type: memory}\nweb: {http: x}\n"
	    "enablePasswordDB: true\n");
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml: no issuer specified"),
	    "issuer required");
	cf = parse("issuer: http://h\nweb: {http: x}\n"
	    "enablePasswordDB: true\n");
	ok(cf == NULL && has_msg(CONF_ERR, "no storage supplied"),
	    "storage required");
	cf = parse("issuer: http://h\nstorage: {type: memory}\n"
	    "enablePasswordDB: true\n");
	ok(cf == NULL && has_msg(CONF_ERR, "must supply a HTTP/HTTPS"),
	    "web.http or https required");
	cf = parse(BASE "web: {https: ':443'}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "no cert specified for HTTPS") &&
	    has_msg(CONF_ERR, "no private key specified for HTTPS"),
	    "https needs tlsCert and tlsKey");
	cf = parse("issuer: http://h\nstorage: {type: memory}\n"
	    "web: {http: x}\nstaticPasswords:\n- email: a@b\n"
	    "  hash: " HASH "\n");
	ok(cf == NULL && has_msg(CONF_ERR, "cannot specify static passwords "
	    "without enabling password db"), "static passwords need the db");
	cf = parse("issuer: http://h\nstorage: {type: memory}\n"
	    "web: {http: x}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "no connectors"),
	    "no connectors at all");
	cf = parse("issuer: http://h\nstorage: {type: memory}\n"
	    "web: {http: x}\nconnectors:\n- {type: ldap, id: l, name: L, "
	    "config: {}}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "no usable connector"),
	    "only unsupported connectors");
	cf = parse(BASE "oauth2: {passwordConnector: nope}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml:7:29: "
	    "oauth2.passwordConnector: no such connector \"nope\""),
	    "passwordConnector must exist");

	/* Clients, as cmd/dex/serve.go. */
	cf = parse(BASE "staticClients:\n- {id: a, secret: s}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "Name field is required"),
	    "client name required");
	cf = parse(BASE "staticClients:\n- {name: n, secret: s}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "ID or IDEnv field is required"),
	    "client id required");
	cf = parse(BASE "staticClients:\n- {id: a, idEnv: X, name: n}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "ID and IDEnv fields are exclusive"),
	    "id xor idEnv");
	cf = parse(BASE "staticClients:\n- {id: a, name: n}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "Secret or SecretEnv field is "
	    "required for client \"a\""), "secret required unless public");
	cf = parse(BASE "staticClients:\n- {id: a, name: n, public: yes}\n");
	ok(cf != NULL, "public client needs no secret");
	conf_free(cf);
	cf = parse(BASE "staticClients:\n- {id: a, name: n, secret: s, "
	    "secretEnv: E}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "exclusive"), "secret xor env");
	cf = parse(BASE "staticClients:\n- {id: a, name: n, secret: s}\n"
	    "- {id: a, name: m, secret: t}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml:9:3: staticClients[1]: "
	    "duplicate client id \"a\""), "duplicate client id");

	/* Connectors. */
	cf = parse(BASE "connectors:\n- {type: oidc, name: x, config: "
	    "{issuer: i, clientID: c}}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "connectors[0]: missing required "
	    "key \"id\""), "connector id required");
	cf = parse(BASE "connectors:\n- {type: oidc, id: local, name: x, "
	    "config: {issuer: i, clientID: c}}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "\"local\" is reserved"),
	    "local is reserved");
	cf = parse(BASE "connectors:\n"
	    "- {type: oidc, id: a, name: x, config: {issuer: i, clientID: c}}\n"
	    "- {type: github, id: a, name: why, config: {}}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml:9:22: connectors[1]: "
	    "duplicate connector id \"a\""), "connector ids unique");
	cf = parse(BASE "connectors:\n- {type: magic, id: m, name: x}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "unknown connector type \"magic\""),
	    "unknown connector type");
	cf = parse(BASE "connectors:\n- {type: oidc, id: o, name: x, config: "
	    "{clientID: c}}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "connectors[0].config: missing "
	    "required key \"issuer\""), "oidc issuer required");
	cf = parse(BASE "connectors:\n- {type: oidc, id: o, name: x}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "missing required key \"clientID\""),
	    "oidc without config: clientID required");
	cf = parse(BASE "connectors:\n- type: oidc\n  id: o\n  name: x\n"
	    "  config:\n    issuer: i\n    clientID: c\n"
	    "    hostedDomains: [example.com]\n");
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml:14:20: "
	    "connectors[0].config.hostedDomains: the oidc connector no longer "
	    "supports hostedDomains"), "hostedDomains refused as Dex");
	cf = parse(BASE "connectors:\n- type: oidc\n  id: o\n  name: x\n"
	    "  config:\n    issuer: i\n    clientID: 12345\n"
	    "    getUserInfo: 'true'\n    scopes: email\n");
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml:13:15: "
	    "connectors[0].config.clientID: expected a string, got a number"),
	    "number into a connector string is a type error");
	ok(has_msg(CONF_ERR, "config.getUserInfo: expected a boolean"),
	    "string into a connector bool is a type error");
	ok(has_msg(CONF_ERR, "config.scopes: expected a list of strings"),
	    "string into a connector list is a type error");
	cf = parse(BASE "connectors:\n- type: oidc\n  id: o\n  name: x\n"
	    "  config:\n    issuer: i\n    clientID: c\n"
	    "    pkceChallenge: S512\n");
	ok(cf == NULL && has_msg(CONF_ERR, "unsupported PKCE challenge"),
	    "pkceChallenge values");

	/* Storage and signer. */
	cf = parse("issuer: http://h\nweb: {http: x}\nenablePasswordDB: true\n"
	    "storage:\n  type: sqlite3\n  config: {file: /var/dex/dex.db}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml:5:9: storage: storage "
	    "type \"sqlite3\" is not supported by oidcd; use type: lmdb "
	    "(config: {path: ...})"), "sqlite3 gets the named error");
	cf = parse("issuer: http://h\nweb: {http: x}\nenablePasswordDB: true\n"
	    "storage: {type: postgres}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "\"postgres\" is not supported by "
	    "oidcd; use type: lmdb"), "postgres gets the named error");
	cf = parse("issuer: http://h\nweb: {http: x}\nenablePasswordDB: true\n"
	    "storage: {type: etcd}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "\"etcd\" is not supported"),
	    "etcd refused");
	cf = parse("issuer: http://h\nweb: {http: x}\nenablePasswordDB: true\n"
	    "storage: {type: kubernetes}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "\"kubernetes\" is not supported"),
	    "kubernetes refused");
	cf = parse("issuer: http://h\nweb: {http: x}\nenablePasswordDB: true\n"
	    "storage: {type: mysql}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "\"mysql\" is not supported"),
	    "mysql refused");
	cf = parse("issuer: http://h\nweb: {http: x}\nenablePasswordDB: true\n"
	    "storage: {type: redis}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "unknown storage type \"redis\""),
	    "unknown storage type");
	cf = parse(BASE "signer: {type: vault, config: {addr: x}}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "signer type \"vault\" is not "
	    "supported yet"), "vault signer refused");
	cf = parse(BASE "signer: {type: local, config: {algorithm: ES256}}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "signer.config: missing required "
	    "key \"keysRotationPeriod\""), "local signer needs the period");
	cf = parse(BASE "signer: {type: local, config: {keysRotationPeriod: "
	    "1h}}\nexpiry: {signingKeys: 3h}\noidcd: {signingAlgorithm: "
	    "ES256}\n");
	ok(cf != NULL && cf->cf_keys_rotation == HOUR &&
	    cf->cf_signing_alg == CONF_ALG_ES256,
	    "signer period, oidcd algorithm");
	conf_free(cf);
	cf = parse(BASE "expiry: {signingKeys: 3h}\n");
	ok(cf != NULL && cf->cf_keys_rotation == 3 * HOUR,
	    "no signer: expiry.signingKeys");
	conf_free(cf);

	/* Passwords. */
	cf = parse(BASE "staticPasswords:\n- {email: a@b, hash: nothash}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml:8:22: staticPasswords[0]: "
	    "malformed bcrypt hash for \"a@b\""), "bad hash");
	ok(!has_msg(CONF_ERR, "nothash"), "the hash is not in the message");
	cf = parse(BASE "staticPasswords:\n- {email: a@b}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "no password hash provided"),
	    "hash required");
	cf = parse(BASE "staticPasswords:\n- {email: 5, hash: x}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "email: expected a string, got a "
	    "number"), "no coercion in staticPasswords (own UnmarshalJSON)");

	/* YAML syntax errors carry libyaml's position. */
	cf = parse("issuer: http://h\nweb:\n  http: [x\n");
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml:4:1: YAML syntax error"),
	    "YAML syntax error position");
	cf = parse("issuer: *nope\n");
	ok(cf == NULL && has_msg(CONF_ERR, "unknown anchor"), "unknown alias");
	cf = parse("- a\n- b\n");
	ok(cf == NULL && has_msg(CONF_ERR, "t.yaml:1:1: the config must be a "
	    "mapping"), "top level must be a mapping");
	cf = parse("");
	ok(cf == NULL && has_msg(CONF_ERR, "no issuer"), "empty file");
}

static void
test_missing_file(void)
{
	struct oidcd_conf	*cf;

	conf_msgs_free(&msgs);
	TAILQ_INIT(&msgs);
	cf = conf_parse_file("regress/data/config/does-not-exist.yaml", &msgs);
	ok(cf == NULL, "missing file");
	ok(has_msg(CONF_ERR, "regress/data/config/does-not-exist.yaml: No "
	    "such file or directory"), "missing file message");
	is_int(conf_msgs_print(fopen("/dev/null", "w"), &msgs), 1,
	    "conf_msgs_print counts errors");
}

static void
test_env(void)
{
	struct oidcd_conf	*cf;
	struct conf_connector	*cn;
	struct conf_client	*cl;
	struct conf_password	*pw;
	char			*s;
	const char		*y = BASE
	    "web:\n  http: $OIDCD_T_ADDR\n"
	    "staticClients:\n- id: $OIDCD_T_ID\n  secret: ${OIDCD_T_SECRET}\n"
	    "  name: n\n"
	    "staticPasswords:\n- email: a@b\n"
	    "  hash: " HASH "\n"
	    "connectors:\n- type: oidc\n  id: o\n  name: $OIDCD_T_ID\n"
	    "  config:\n    issuer: https://$OIDCD_T_HOST/x\n"
	    "    clientID: ${OIDCD_T_ID}\n    clientSecret: a$1b$$c$-d\n"
	    "    scopes: [$OIDCD_T_ID, \"${OIDCD_T_UNSET}\"]\n"
	    "    redirectURI: $OIDCD_T_BRACE}\n"
	    "    userIDKey: \"${}x${\"\n"
	    "    promptType: cost$\n";

	setenv("OIDCD_T_ADDR", "1.2.3.4:5", 1);
	setenv("OIDCD_T_ID", "envid", 1);
	setenv("OIDCD_T_SECRET", "envsecret", 1);
	setenv("OIDCD_T_HOST", "up.example.com", 1);
	setenv("OIDCD_T_BRACE", "br", 1);
	unsetenv("OIDCD_T_UNSET");
	unsetenv("DEX_EXPAND_ENV");

	cf = parse(y);
	ok(cf != NULL, "env: loads");
	if (cf == NULL) {
		dump_msgs();
		return;
	}
	is_str(cf->cf_web_http, "$OIDCD_T_ADDR", "env: not expanded in web");
	is_str(cf->cf_issuer, "http://127.0.0.1:5556/dex",
	    "env: issuer untouched");
	cl = TAILQ_FIRST(&cf->cf_clients);
	is_str(cl->cl_id, "$OIDCD_T_ID", "env: not expanded in client id");
	is_str(cl->cl_secret, "${OIDCD_T_SECRET}",
	    "env: not expanded in client secret");
	pw = TAILQ_FIRST(&cf->cf_passwords);
	is_str(pw->pw_hash, HASH,
	    "env: bcrypt hash in staticPasswords untouched");
	cn = TAILQ_FIRST(&cf->cf_connectors);
	is_str(cn->cn_name, "$OIDCD_T_ID", "env: connector name untouched");
	is_str(jstr(cn->cn_config, "issuer"), "https://up.example.com/x",
	    "env: $VAR in connector config");
	is_str(jstr(cn->cn_config, "clientID"), "envid",
	    "env: ${VAR} in connector config");
	is_str(jstr(cn->cn_config, "clientSecret"), "abcd",
	    "env: $1, $$ and $- are special names, expanding to nothing");
	is_str(json_string_value(json_array_get(json_object_get(cn->cn_config,
	    "scopes"), 0)), "envid", "env: strings in lists expanded");
	is_str(json_string_value(json_array_get(json_object_get(cn->cn_config,
	    "scopes"), 1)), "", "env: unset variable is empty");
	is_str(jstr(cn->cn_config, "redirectURI"), "br}",
	    "env: $VAR stops at a non-name byte");
	is_str(jstr(cn->cn_config, "userIDKey"), "x",
	    "env: bad ${} and ${ are eaten as Go does");
	is_str(jstr(cn->cn_config, "promptType"), "cost$",
	    "env: trailing $ stays");
	conf_free(cf);

	setenv("DEX_EXPAND_ENV", "false", 1);
	cf = parse(y);
	cn = cf ? TAILQ_FIRST(&cf->cf_connectors) : NULL;
	ok(cn != NULL && strcmp(jstr(cn->cn_config, "clientID"),
	    "${OIDCD_T_ID}") == 0, "env: DEX_EXPAND_ENV=false turns it off");
	conf_free(cf);
	setenv("DEX_EXPAND_ENV", "0", 1);
	cf = parse(y);
	cn = cf ? TAILQ_FIRST(&cf->cf_connectors) : NULL;
	ok(cn != NULL && strcmp(jstr(cn->cn_config, "clientID"),
	    "${OIDCD_T_ID}") == 0, "env: DEX_EXPAND_ENV=0 (ParseBool)");
	conf_free(cf);
	setenv("DEX_EXPAND_ENV", "nope", 1);
	cf = parse(y);
	cn = cf ? TAILQ_FIRST(&cf->cf_connectors) : NULL;
	ok(cn != NULL && strcmp(jstr(cn->cn_config, "clientID"), "envid") == 0,
	    "env: unparsable DEX_EXPAND_ENV falls back to true");
	conf_free(cf);
	unsetenv("DEX_EXPAND_ENV");

	/* A bcrypt hash in a connector config is mangled, as in Dex. */
	ok(conf_expand_env("$2a$10$abc", &s) == 0 && strcmp(s, "a0") == 0,
	    "env: bcrypt in expanded config is mangled (%s)", s);
	free(s);
	ok(conf_expand_env("${#}x${@}", &s) == 0 && strcmp(s, "x") == 0,
	    "env: ${#} and ${@} special");
	free(s);
	ok(conf_expand_env("$%x", &s) == 0 && strcmp(s, "$%x") == 0,
	    "env: $ before a non-name stays");
	free(s);

	/* idEnv, secretEnv, hashFromEnv */
	setenv("OIDCD_T_HASH",
	    "$2y$12$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W", 1);
	cf = parse(BASE "staticClients:\n- {idEnv: OIDCD_T_ID, secretEnv: "
	    "OIDCD_T_SECRET, name: n}\n"
	    "staticPasswords:\n- {email: a@b, hashFromEnv: OIDCD_T_HASH}\n");
	ok(cf != NULL, "env: idEnv/secretEnv/hashFromEnv load");
	if (cf != NULL) {
		cl = TAILQ_FIRST(&cf->cf_clients);
		is_str(cl->cl_id, "envid", "env: idEnv read");
		is_str(cl->cl_secret, "envsecret", "env: secretEnv read");
		is_str(cl->cl_secret_env, "OIDCD_T_SECRET",
		    "env: secretEnv name kept");
		pw = TAILQ_FIRST(&cf->cf_passwords);
		is_str(pw->pw_hash, getenv("OIDCD_T_HASH"),
		    "env: hashFromEnv read");
		is_int(conf_has_secrets(cf), 0,
		    "env: secrets from the environment are not in the file");
	}
	conf_free(cf);
	cf = parse(BASE "staticClients:\n- {idEnv: OIDCD_T_UNSET, secret: s, "
	    "name: n}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "OIDCD_T_UNSET (idEnv) is unset"),
	    "env: unset idEnv is an error");
	cf = parse(BASE "staticPasswords:\n- {email: a@b, hashFromEnv: "
	    "OIDCD_T_UNSET}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "no password hash provided"),
	    "env: unset hashFromEnv is an error");
}

static void
test_bools(void)
{
	static const struct {
		const char	*in;
		int		 want;
	} t[] = {
		{ "yes", 1 }, { "Yes", 1 }, { "YES", 1 }, { "y", 1 },
		{ "Y", 1 }, { "on", 1 }, { "On", 1 }, { "ON", 1 },
		{ "true", 1 }, { "True", 1 }, { "TRUE", 1 },
		{ "no", 0 }, { "No", 0 }, { "NO", 0 }, { "n", 0 },
		{ "N", 0 }, { "off", 0 }, { "Off", 0 }, { "OFF", 0 },
		{ "false", 0 }, { "False", 0 }, { "FALSE", 0 }
	};
	static const char *bad[] = { "yEs", "oN", "tRUE", "'yes'", "1",
	    "enabled" };
	struct oidcd_conf	*cf;
	char			 buf[512];
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		(void)snprintf(buf, sizeof(buf), BASE "oauth2:\n"
		    "  skipApprovalScreen: %s\n", t[i].in);
		cf = parse(buf);
		ok(cf != NULL && cf->cf_skip_approval == t[i].want,
		    "YAML 1.1 boolean %s", t[i].in);
		conf_free(cf);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(buf, sizeof(buf), BASE "oauth2:\n"
		    "  skipApprovalScreen: %s\n", bad[i]);
		cf = parse(buf);
		ok(cf == NULL && has_msg(CONF_ERR, "expected a boolean"),
		    "not a boolean: %s", bad[i]);
		conf_free(cf);
	}
	/* ghodss: a boolean into a string field of a plain struct. */
	cf = parse(BASE "frontend: {theme: yes, issuer: 0x1F, logoURL: 1.50, "
	    "dir: 1e7}\n");
	ok(cf != NULL, "scalars into frontend strings");
	if (cf != NULL) {
		is_str(cf->cf_fe_theme, "true", "yes into a string: \"true\"");
		is_str(cf->cf_fe_issuer, "31", "0x1F into a string: \"31\"");
		is_str(cf->cf_fe_logo_url, "1.5",
		    "1.50 into a string: \"1.5\"");
		is_str(cf->cf_fe_dir, "1e+07", "1e7 into a string: Go's %%g");
	}
	conf_free(cf);
	cf = parse(BASE "web: {http: 010, https: ~}\n");
	ok(cf != NULL && strcmp(cf->cf_web_http, "8") == 0 &&
	    cf->cf_web_https == NULL, "010 is octal 8; ~ is null");
	conf_free(cf);
}

static void
test_durations(void)
{
	static const struct {
		const char	*in;
		long long	 ms;
	} good[] = {
		{ "0", 0 }, { "300ms", 300 }, { "1h30m", 90 * MIN },
		{ "1.5h", 90 * MIN }, { "-1.5h", -90 * MIN }, { "-3s", -3000 },
		{ "+5s", 5000 }, { "2562047h", 2562047LL * HOUR },
		{ "1us", 0 }, { "1500\xc2\xb5s", 1 }, { "1500\xce\xbcs", 1 },
		{ "1000000ns", 1 }, { ".5s", 500 }, { "5.s", 5000 },
		{ "1h1m1s1ms", HOUR + MIN + 1001 }, { "-0", 0 }
	};
	static const char *bad[] = { "7d", "", "-", "5", "1.5", "h", ".s",
	    "1hh", "2562048h", "9223372036854775808ns", "1 h", "1H",
	    "99999999999999999999s" };
	int64_t		ms, ns;
	size_t		i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = 12345;
		ok(conf_parse_duration(good[i].in, &ms) == 0 &&
		    ms == good[i].ms, "duration \"%s\" = %lld ms (got %lld)",
		    good[i].in, good[i].ms, (long long)ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(conf_parse_duration(bad[i], &ms) == -1,
		    "duration \"%s\" refused", bad[i]);
	ok(conf_parse_duration_ns("-9223372036854775808ns", &ns) == 0 &&
	    ns == INT64_MIN, "most negative duration");
	ok(conf_parse_duration_ns("9223372036854775807ns", &ns) == 0 &&
	    ns == INT64_MAX, "largest duration");
	ok(conf_parse_duration_ns("1.000000001s", &ns) == 0 &&
	    ns == 1000000001, "fraction to the nanosecond");
}

static void
test_keys(void)
{
	struct oidcd_conf	*cf;

	cf = parse("ISSUER: http://h/\nStorage: {TYPE: memory}\n"
	    "WEB: {Http: x, allowedorigins: [o]}\nenablepassworddb: true\n"
	    "Frontend: {LOGOURL: l}\n");
	ok(cf != NULL, "keys: case does not matter");
	if (cf != NULL) {
		is_str(cf->cf_issuer, "http://h/", "keys: ISSUER");
		is_str(cf->cf_issuer_path, "", "keys: issuer path / is empty");
		is_str(cf->cf_web_http, "x", "keys: Http");
		ok(strv_is(&cf->cf_web_allowed_origins, 1, "o"),
		    "keys: allowedorigins");
		is_str(cf->cf_fe_logo_url, "l", "keys: LOGOURL");
	}
	conf_free(cf);

	cf = parse(BASE "colour: blue\nweb:\n  http: x\n  bogus: 1\n"
	    "  headers: {X-Powered-By: me}\n"
	    "connectors:\n- type: oidc\n  id: o\n  name: x\n  config:\n"
	    "    issuer: i\n    clientID: c\n    clientSecert: typo\n"
	    "grpc: {addr: 127.0.0.1:5557}\n"
	    "sessions: {cookieName: x, cookieEncryptionKey: k, bogus: 1}\n");
	ok(cf != NULL, "unknown keys do not stop loading");
	is_int(conf_msgs_count(&msgs, CONF_ERR), 0, "unknown keys: no error");
	ok(has_msg(CONF_WARN, "t.yaml:7:1: unknown key \"colour\" at top "
	    "level (ignored)"), "unknown top-level key warned");
	ok(has_msg(CONF_WARN, "t.yaml:10:3: unknown key \"bogus\" in web "
	    "(ignored)"), "unknown web key warned");
	ok(has_msg(CONF_WARN, "unknown key \"X-Powered-By\" in web.headers"),
	    "header Dex does not read warned");
	ok(has_msg(CONF_WARN, "t.yaml:19:5: unknown key \"clientSecert\" in "
	    "connectors[0].config (ignored)"), "connector key typo warned");
	ok(has_msg(CONF_WARN, "gRPC API is not supported"), "grpc warned");
	ok(has_msg(CONF_WARN, "sessions.cookieEncryptionKey: not supported "
	    "by oidcd"), "sessions.cookieEncryptionKey warned");
	ok(has_msg(CONF_WARN, "unknown key \"bogus\" in sessions"),
	    "unknown sessions key warned");
	ok(cf != NULL && cf->cf_sess_enabled && cf->cf_sess_cookie_name !=
	    NULL && strcmp(cf->cf_sess_cookie_name, "x") == 0,
	    "sessions.cookieName read; sessions on");
	conf_free(cf);

	cf = parse(BASE);
	ok(cf != NULL && cf->cf_sess_enabled &&
	    cf->cf_sess_cookie_name == NULL &&
	    cf->cf_sess_absolute == CONF_DEF_SESS_ABSOLUTE &&
	    cf->cf_sess_idle == CONF_DEF_SESS_IDLE,
	    "sessions: on by default, Dex master's lifetimes");
	conf_free(cf);
	cf = parse(BASE "sessions:\n  enabled: false\n"
	    "  absoluteLifetime: 2h\n  validIfNotUsedFor: 10m\n");
	ok(cf != NULL && !cf->cf_sess_enabled &&
	    cf->cf_sess_absolute == 2 * CONF_MSEC_HOUR &&
	    cf->cf_sess_idle == 10 * CONF_MSEC_MIN,
	    "sessions: enabled, absoluteLifetime, validIfNotUsedFor");
	conf_free(cf);
	cf = parse(BASE "sessions: {cookieName: \"a b;c\"}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "sessions.cookieName"),
	    "sessions.cookieName that is no cookie token: error");
	conf_free(cf);

	cf = parse(BASE "issuer: http://second/\n");
	ok(cf != NULL && strcmp(cf->cf_issuer, "http://second/") == 0 &&
	    has_msg(CONF_WARN, "duplicate key \"issuer\""),
	    "duplicate key: warned, the last one used");
	conf_free(cf);

	cf = parse(BASE "staticPasswords:\n"
	    "- {email: A@b, hash: $2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYi"
	    "FPm1leZck7Mc8T4W}\n"
	    "- {email: a@B, hash: JDJhJDEwJDJiMmNVOENQaE9UYUdyczFIUlF1QXVlUzdK"
	    "VFQ1WkhzSFN6WWlGUG0xbGVaY2s3TWM4VDRX}\n");
	ok(cf != NULL && has_msg(CONF_WARN, "duplicate static password email "
	    "\"a@b\""), "duplicate email warned, as Dex logs it");
	if (cf != NULL)
		is_str(TAILQ_LAST(&cf->cf_passwords, conf_passwords)->pw_hash,
		    HASH,
		    "base64 of a bcrypt hash is decoded");
	conf_free(cf);
}

static void
test_yaml(void)
{
	struct oidcd_conf	*cf;
	struct conf_client	*cl;
	char			*big;
	size_t			 i, off;

	cf = parse(BASE "defaults: &d\n  secret: s\n  name: N\n"
	    "staticClients:\n- <<: *d\n  id: a\n- <<: *d\n  id: b\n"
	    "  name: B\n");
	ok(cf != NULL && cf->cf_nclients == 2, "anchors and merge keys");
	if (cf != NULL) {
		cl = TAILQ_LAST(&cf->cf_clients, conf_clients);
		is_str(cl->cl_name, "B", "explicit key after merge wins");
		is_str(cl->cl_secret, "s", "merged key read");
	}
	conf_free(cf);

	/* Billion laughs: the node limit stops it. */
	cf = parse("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n");
	ok(cf == NULL && has_msg(CONF_ERR, "YAML nodes"),
	    "alias expansion is bounded");

	/* Nesting depth. */
	big = malloc(4096);
	off = 0;
	for (i = 0; i < 40; i++)
		big[off++] = '[';
	for (i = 0; i < 40; i++)
		big[off++] = ']';
	big[off] = '\0';
	cf = parse(big);
	ok(cf == NULL && has_msg(CONF_ERR, "nesting deeper than"),
	    "nesting is bounded");
	free(big);

	/* Long strings. */
	big = malloc(CONF_MAX_STRLEN + 64);
	memcpy(big, "issuer: ", 8);
	memset(big + 8, 'a', CONF_MAX_STRLEN + 1);
	big[8 + CONF_MAX_STRLEN + 1] = '\0';
	cf = parse(big);
	ok(cf == NULL && has_msg(CONF_ERR, "string longer than"),
	    "string length is bounded");
	free(big);

	cf = parse(BASE "frontend: {theme: \"a\\0b\"}\n");
	ok(cf == NULL && has_msg(CONF_ERR, "NUL"), "NUL byte refused");
}

static void
test_secrecy(void)
{
	struct oidcd_conf	*cf;
	char			 path[] = "/tmp/t_parse.XXXXXX";
	const char		*y = BASE
	    "staticClients:\n- {id: a, secret: s, name: n}\n";
	int			 fd;

	if ((fd = mkstemp(path)) == -1) {
		ok(0, "mkstemp");
		return;
	}
	ok(write(fd, y, strlen(y)) == (ssize_t)strlen(y), "secrecy: file");
	close(fd);
	conf_msgs_free(&msgs);
	TAILQ_INIT(&msgs);
	cf = conf_parse_file(path, &msgs);
	ok(cf != NULL && conf_has_secrets(cf), "secrecy: client secret");
	(void)chmod(path, 0644);
	ok(conf_check_secrecy(path, cf) >= 1, "secrecy: 0644 warned");
	(void)chmod(path, 0600);
	is_int(conf_check_secrecy(path, cf), geteuid() == 0 ? 0 : 0,
	    "secrecy: 0600 owned by us is fine");
	conf_free(cf);
	unlink(path);
	cf = parse(BASE);
	ok(cf != NULL && !conf_has_secrets(cf), "secrecy: nothing secret");
	conf_free(cf);
}

int
main(void)
{
	TAILQ_INIT(&msgs);
	test_seed();
	test_dist();
	test_make_run_config();
	test_every_key();
	test_errors();
	test_missing_file();
	test_env();
	test_bools();
	test_durations();
	test_keys();
	test_yaml();
	test_secrecy();
	conf_msgs_free(&msgs);
	return (tap_done());
}
