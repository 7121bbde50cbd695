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
 * The frontend process: HTTP and HTTPS for clients and browsers
 * (DESIGN.md §6, §8).  It answers what it can from its own memory
 * (discovery, the JWKS the signer broadcasts, health) and asks the
 * storage, signer and connector processes for the rest.  It holds no
 * key and no upstream secret; its root is empty and its network
 * namespace has no interfaces: only the inherited listeners work.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "oidcd.h"
#include "http.h"

#define FRONTEND_MAX_LISTENERS	4
#define FRONTEND_MAX_HEADERS	16
#define FRONTEND_TLS_MAX	(1024 * 1024)

struct frontend_listener {
	int			 fl_fd;
	int			 fl_tls;
	uint8_t			*fl_cert;
	size_t			 fl_certlen;
	uint8_t			*fl_key;
	size_t			 fl_keylen;
};

struct frontend_env {
	struct privsep		*fe_ps;
	struct http_server	*fe_server;
	struct http_server	*fe_old;	/* draining after a reload */
	struct event		*fe_drain;
	json_t			*fe_config;
	struct frontend_listener fe_listeners[FRONTEND_MAX_LISTENERS];
	int			 fe_started;
	int			 fe_maxfds;	/* RLIMIT_NOFILE, read at start */
	/* from the config */
	char			*fe_issuer_path;
	size_t			 fe_issuer_pathlen;
	char			 fe_tls_min[8];
	char			 fe_tls_max[8];
	struct http_kv		 fe_headers[FRONTEND_MAX_HEADERS];
	size_t			 fe_nheaders;
	json_t			*fe_origins;
	char			*fe_allowed_headers;
	char			*fe_discovery;
	size_t			 fe_discovery_len;
	/* from the signer */
	char			*fe_jwks;
	size_t			 fe_jwks_len;
	uint64_t		 fe_jwks_gen;
	char			 fe_jwks_etag[32];
	char			 fe_jwks_cc[64];
};

static struct frontend_env	*env;

static int	 frontend_dispatch_parent(int, struct privsep_proc *,
		    struct imsg *);
static int	 frontend_dispatch_signer(int, struct privsep_proc *,
		    struct imsg *);
static int	 frontend_dispatch_peer(int, struct privsep_proc *,
		    struct imsg *);
static void	 frontend_handle(struct http_conn *, struct http_request *,
		    void *);
static void	 frontend_run(struct privsep *, struct privsep_proc *, void *);

static struct privsep_proc procs[] = {
	{ "parent",	PROC_PARENT,	frontend_dispatch_parent },
	{ "connector",	PROC_CONNECTOR,	frontend_dispatch_peer },
	{ "signer",	PROC_SIGNER,	frontend_dispatch_signer },
	{ "storage",	PROC_STORAGE,	frontend_dispatch_peer },
};

void
frontend(struct privsep *ps, struct privsep_proc *p)
{
	int	 i;

	if ((env = calloc(1, sizeof(*env))) == NULL)
		fatal("%s: calloc", __func__);
	env->fe_ps = ps;
	for (i = 0; i < FRONTEND_MAX_LISTENERS; i++)
		env->fe_listeners[i].fl_fd = -1;
	proc_run(ps, p, procs, sizeof(procs) / sizeof(procs[0]), frontend_run,
	    NULL);
}

/* Before the sandbox: what later needs a syscall the filter denies. */
static void
frontend_run(struct privsep *ps, struct privsep_proc *p, void *arg)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("%s: getrlimit", __func__);
	/*
	 * No tls_init() here: it costs some 350 KB per frontend even
	 * when no listener uses TLS.  libtls calls it with the first TLS
	 * config; in the sandbox it then cannot read openssl.cnf, which
	 * libtls does not need: protocols and ciphers are set explicitly.
	 */
	oidc_init(ps);
	env->fe_maxfds = rl.rlim_cur > INT_MAX ? INT_MAX : (int)rl.rlim_cur;
}

/*
 * An endpoint URL as Dex builds it: the issuer with its path replaced
 * by path.Join(issuer path, p), so never a trailing slash.
 */
static char *
frontend_endpoint(const char *issuer, const char *ipath, const char *p)
{
	const char	*auth;
	char		*url;
	size_t		 n;

	if ((auth = strstr(issuer, "://")) == NULL)
		fatalx("%s: bad issuer", __func__);
	auth += 3;
	n = strcspn(auth, "/?#");
	if (asprintf(&url, "%.*s%s%s", (int)(auth - issuer) + (int)n, issuer,
	    ipath, p) == -1)
		fatal("%s: asprintf", __func__);
	return (url);
}

static json_t *
frontend_sorted(json_t *a)
{
	json_t	*out;
	size_t	 i, j, n = json_array_size(a);
	const char **v;

	if ((v = calloc(n + 1, sizeof(*v))) == NULL ||
	    (out = json_array()) == NULL)
		fatal("%s: calloc", __func__);
	for (i = 0; i < n; i++)
		v[i] = json_string_value(json_array_get(a, i));
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			const char *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	for (i = 0; i < n; i++)
		json_array_append_new(out, json_string(v[i]));
	free(v);
	return (out);
}

/* Grant types as Dex computes them (reference/dex.md §1.2), sorted. */
static json_t *
frontend_grant_types(json_t *cfg)
{
	static const struct {
		const char	*name;
		int		 bit;	/* CONF_GT_* of conf.h */
	} all[] = {
		{ "authorization_code", 0x01 },
		{ "client_credentials", 0x40 },
		{ "implicit", 0x02 },
		{ "password", 0x04 },
		{ "refresh_token", 0x08 },
		{ "urn:ietf:params:oauth:grant-type:device_code", 0x10 },
		{ "urn:ietf:params:oauth:grant-type:token-exchange", 0x20 },
	};
	json_t		*out, *rt;
	json_int_t	 mask;
	size_t		 i;
	int		 implicit = 0, password;

	mask = json_integer_value(json_object_get(cfg, "grantMask"));
	password = json_is_true(json_object_get(cfg, "passwordGrant"));
	json_array_foreach(json_object_get(cfg, "responseTypes"), i, rt)
		if (strstr(json_string_value(rt), "token") != NULL &&
		    strcmp(json_string_value(rt), "id_token") != 0)
			implicit = 1;
	if ((out = json_array()) == NULL)
		fatal("%s: json_array", __func__);
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (all[i].bit == 0x02 && !implicit)
			continue;
		if (all[i].bit == 0x04 && !password)
			continue;
		/* Dex master's: only when oauth2.grantTypes names it. */
		if (all[i].bit == 0x40 && (mask & all[i].bit) == 0)
			continue;
		if (mask != 0 && (mask & all[i].bit) == 0)
			continue;
		json_array_append_new(out, json_string(all[i].name));
	}
	return (out);
}

/* An endpoint member added after Dex's own. */
static void
frontend_discovery_add(json_t *d, const char *member, const char *iss,
    const char *ipath, const char *path)
{
	char	*u;

	u = frontend_endpoint(iss, ipath, path);
	if (json_object_set_new(d, member, json_string(u)) == -1)
		fatalx("%s: %s", __func__, member);
	free(u);
}

/*
 * The discovery document, built once per config with Dex's members in
 * Dex's order and Go's MarshalIndent layout (reference/dex.md §4.1).
 */
static void
frontend_discovery(json_t *cfg)
{
	json_t		*d;
	const char	*iss, *ipath;
	char		*u[7];
	size_t		 i;
	json_int_t	 mask;
	static const char *paths[7] = { "/auth", "/token", "/keys",
	    "/userinfo", "/device/code", "/token/introspect", NULL };

	iss = json_string_value(json_object_get(cfg, "issuer"));
	ipath = json_string_value(json_object_get(cfg, "issuerPath"));
	for (i = 0; paths[i] != NULL; i++)
		u[i] = frontend_endpoint(iss, ipath, paths[i]);
	d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:[s], "
	    "s:O, s:O, s:[s,s,s,s,s], s:[s,s], s:[s,s,s,s,s,s,s,s,s,s,s]}",
	    "issuer", iss,
	    "authorization_endpoint", u[0],
	    "token_endpoint", u[1],
	    "jwks_uri", u[2],
	    "userinfo_endpoint", u[3],
	    "device_authorization_endpoint", u[4],
	    "introspection_endpoint", u[5],
	    "grant_types_supported", frontend_grant_types(cfg),
	    "response_types_supported",
	    frontend_sorted(json_object_get(cfg, "responseTypes")),
	    "subject_types_supported", "public",
	    "id_token_signing_alg_values_supported",
	    json_object_get(cfg, "signingAlgs"),
	    "code_challenge_methods_supported",
	    json_object_get(cfg, "pkceMethods"),
	    "scopes_supported", "openid", "email", "groups", "profile",
	    "offline_access",
	    "token_endpoint_auth_methods_supported", "client_secret_basic",
	    "client_secret_post",
	    "claims_supported", "iss", "sub", "aud", "iat", "exp", "email",
	    "email_verified", "locale", "name", "preferred_username",
	    "at_hash");
	for (i = 0; paths[i] != NULL; i++)
		free(u[i]);
	if (d == NULL)
		fatalx("%s: json_pack", __func__);
	/* Dex names it always; here only when the grant is on. */
	mask = json_integer_value(json_object_get(cfg, "grantMask"));
	if (mask != 0 && (mask & 0x10) == 0)	/* CONF_GT_DEVICECODE */
		(void)json_object_del(d, "device_authorization_endpoint");
	/* Not Dex's (dex.md §10): appended, Dex's members keep their order. */
	frontend_discovery_add(d, "revocation_endpoint", iss, ipath,
	    "/token/revoke");
	frontend_discovery_add(d, "end_session_endpoint", iss, ipath,
	    "/logout");
	if (json_object_set_new(d, "backchannel_logout_supported",
	    json_true()) == -1 || json_object_set_new(d,
	    "backchannel_logout_session_supported", json_true()) == -1)
		fatalx("%s: backchannel_logout", __func__);
	free(env->fe_discovery);
	if ((env->fe_discovery = json_dumps(d, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER)) == NULL)
		fatalx("%s: json_dumps", __func__);
	env->fe_discovery_len = strlen(env->fe_discovery);
	json_decref(d);
}

static void
frontend_config_clear(void)
{
	size_t	 i;

	json_decref(env->fe_config);
	env->fe_config = NULL;
	env->fe_nheaders = 0;
	for (i = 0; i < FRONTEND_MAX_HEADERS; i++) {
		free((char *)env->fe_headers[i].key);
		free((char *)env->fe_headers[i].value);
		env->fe_headers[i].key = env->fe_headers[i].value = NULL;
	}
	free(env->fe_allowed_headers);
	env->fe_allowed_headers = NULL;
	free(env->fe_issuer_path);
	env->fe_issuer_path = NULL;
}

static void
frontend_configure(struct imsg *imsg)
{
	json_t		*cfg, *v, *hdrs;
	const char	*k;
	size_t		 i, len;
	char		*s;

	frontend_config_clear();
	cfg = config_getglobal(imsg);
	if (!json_is_string(json_object_get(cfg, "issuer")) ||
	    !json_is_string(json_object_get(cfg, "issuerPath")) ||
	    !json_is_array(json_object_get(cfg, "allowedOrigins")) ||
	    !json_is_array(json_object_get(cfg, "allowedHeaders")) ||
	    !json_is_object(json_object_get(cfg, "headers")))
		fatalx("%s: bad config", __func__);
	env->fe_config = cfg;
	if ((env->fe_issuer_path = strdup(json_string_value(
	    json_object_get(cfg, "issuerPath")))) == NULL)
		fatal("%s: strdup", __func__);
	env->fe_issuer_pathlen = strlen(env->fe_issuer_path);
	/* web.tlsMinVersion and tlsMaxVersion: 12 or 13, 0 when unset. */
	v = json_object_get(cfg, "tlsMin");
	(void)strlcpy(env->fe_tls_min, json_integer_value(v) == 13 ? "1.3" :
	    "1.2", sizeof(env->fe_tls_min));
	v = json_object_get(cfg, "tlsMax");
	(void)strlcpy(env->fe_tls_max, json_integer_value(v) == 12 ? "1.2" :
	    "1.3", sizeof(env->fe_tls_max));

	hdrs = json_object_get(cfg, "headers");
	json_object_foreach(hdrs, k, v) {
		if (env->fe_nheaders >= FRONTEND_MAX_HEADERS ||
		    !json_is_string(v))
			break;
		env->fe_headers[env->fe_nheaders].key = strdup(k);
		env->fe_headers[env->fe_nheaders].value =
		    strdup(json_string_value(v));
		env->fe_nheaders++;
	}
	env->fe_origins = json_object_get(cfg, "allowedOrigins");

	/* Access-Control-Allow-Headers, joined once. */
	len = 1;
	json_array_foreach(json_object_get(cfg, "allowedHeaders"), i, v)
		len += strlen(json_string_value(v)) + 2;
	if ((s = calloc(1, len)) == NULL)
		fatal("%s: calloc", __func__);
	json_array_foreach(json_object_get(cfg, "allowedHeaders"), i, v) {
		if (i > 0)
			(void)strlcat(s, ", ", len);
		(void)strlcat(s, json_string_value(v), len);
	}
	env->fe_allowed_headers = s;
	frontend_discovery(cfg);
	oidc_configure(cfg);
}

static void
frontend_listener_clear(struct frontend_listener *fl)
{
	if (fl->fl_fd != -1)
		close(fl->fl_fd);
	fl->fl_fd = -1;
	free(fl->fl_cert);
	freezero(fl->fl_key, fl->fl_keylen);
	fl->fl_cert = fl->fl_key = NULL;
	fl->fl_certlen = fl->fl_keylen = 0;
	fl->fl_tls = 0;
}

static void
frontend_tls_chunk(struct imsg *imsg)
{
	struct frontend_listener	*fl;
	struct cfg_tls			 ct;
	uint8_t				**buf;
	size_t				*len;

	if (imsg_get_len(imsg) < sizeof(ct))
		fatalx("%s: short IMSG_CFG_TLS", __func__);
	memcpy(&ct, imsg->data, sizeof(ct));
	if (ct.ct_listener >= FRONTEND_MAX_LISTENERS ||
	    ct.ct_len != imsg_get_len(imsg) - sizeof(ct) ||
	    ct.ct_total > FRONTEND_TLS_MAX || ct.ct_offset > ct.ct_total ||
	    ct.ct_len > ct.ct_total - ct.ct_offset)
		fatalx("%s: bad IMSG_CFG_TLS", __func__);
	fl = &env->fe_listeners[ct.ct_listener];
	switch (ct.ct_type) {
	case CFG_TLS_CERT:
		buf = &fl->fl_cert;
		len = &fl->fl_certlen;
		break;
	case CFG_TLS_KEY:
		buf = &fl->fl_key;
		len = &fl->fl_keylen;
		break;
	default:
		fatalx("%s: bad IMSG_CFG_TLS type", __func__);
	}
	if (ct.ct_offset == 0) {
		freezero(*buf, *len);
		if ((*buf = calloc(1, ct.ct_total)) == NULL)
			fatal("%s: calloc", __func__);
		*len = ct.ct_total;
	} else if (*buf == NULL || *len != ct.ct_total)
		fatalx("%s: IMSG_CFG_TLS out of order", __func__);
	memcpy(*buf + ct.ct_offset, (uint8_t *)imsg->data + sizeof(ct),
	    ct.ct_len);
}

static void
frontend_drain(int fd, short event, void *arg)
{
	struct timeval	 tv;

	if (env->fe_old == NULL)
		return;
	if (http_server_nconns(env->fe_old) == 0) {
		http_server_free(env->fe_old);
		env->fe_old = NULL;
		return;
	}
	timerclear(&tv);
	tv.tv_sec = 1;
	evtimer_add(env->fe_drain, &tv);
}

/*
 * At the end of a config round: a new server with the new settings on
 * the new listeners.  A server from before a reload stops accepting and
 * is freed once its last connection is done.
 */
static void
frontend_launch(struct privsep *ps)
{
	struct http_server_conf		 sc;
	struct http_tls_conf		 tc;
	struct frontend_listener	*fl;
	struct http_server		*srv;
	int				 i;

	memset(&sc, 0, sizeof(sc));
	sc.max_fds = env->fe_maxfds;
	sc.headers = env->fe_headers;
	sc.nheaders = env->fe_nheaders;
	if ((srv = http_server_new(ps->ps_evbase, &sc, frontend_handle,
	    NULL)) == NULL)
		fatalx("%s: http_server_new", __func__);
	for (i = 0; i < FRONTEND_MAX_LISTENERS; i++) {
		fl = &env->fe_listeners[i];
		if (fl->fl_fd == -1)
			continue;
		memset(&tc, 0, sizeof(tc));
		if (fl->fl_tls) {
			if (fl->fl_cert == NULL || fl->fl_key == NULL)
				fatalx("%s: TLS listener without a "
				    "certificate", __func__);
			tc.cert = fl->fl_cert;
			tc.certlen = fl->fl_certlen;
			tc.key = fl->fl_key;
			tc.keylen = fl->fl_keylen;
			tc.min_version = env->fe_tls_min;
			tc.max_version = env->fe_tls_max;
		}
		if (http_server_listen(srv, fl->fl_fd, fl->fl_tls ? &tc :
		    NULL) == -1)
			fatalx("%s: cannot serve listener %d", __func__, i);
		/* The server owns the descriptor now; the key is wiped. */
		fl->fl_fd = -1;
		frontend_listener_clear(fl);
	}
	if (env->fe_server != NULL) {
		if (env->fe_old != NULL)
			http_server_free(env->fe_old);
		http_server_unlisten(env->fe_server);
		env->fe_old = env->fe_server;
		if (env->fe_drain == NULL && (env->fe_drain =
		    evtimer_new(ps->ps_evbase, frontend_drain, NULL)) == NULL)
			fatal("%s: evtimer_new", __func__);
		frontend_drain(-1, 0, NULL);
	}
	env->fe_server = srv;
}

static int
frontend_dispatch_parent(int fd, struct privsep_proc *p, struct imsg *imsg)
{
	struct privsep		*ps = p->p_ps;
	struct cfg_listen	 cl;
	int			 s, i;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_RESET:
		for (i = 0; i < FRONTEND_MAX_LISTENERS; i++)
			frontend_listener_clear(&env->fe_listeners[i]);
		break;
	case IMSG_CFG_GLOBAL:
		frontend_configure(imsg);
		break;
	case IMSG_CFG_TLS:
		frontend_tls_chunk(imsg);
		break;
	case IMSG_CFG_TEMPLATE: {
		struct cfg_template	 ct;

		if (imsg_get_len(imsg) < sizeof(ct))
			fatalx("%s: short IMSG_CFG_TEMPLATE", __func__);
		memcpy(&ct, imsg->data, sizeof(ct));
		if (ct.ct_len != imsg_get_len(imsg) - sizeof(ct) ||
		    memchr(ct.ct_name, '\0', sizeof(ct.ct_name)) == NULL ||
		    oidc_template(ct.ct_name, (char *)imsg->data +
		    sizeof(ct), ct.ct_len) == -1)
			fatalx("%s: bad IMSG_CFG_TEMPLATE", __func__);
		break;
	}
	case IMSG_CFG_ASSET: {
		struct cfg_asset	 ca;

		if (imsg_get_len(imsg) < sizeof(ca))
			fatalx("%s: short IMSG_CFG_ASSET", __func__);
		memcpy(&ca, imsg->data, sizeof(ca));
		if (oidc_asset_install(&ca, (char *)imsg->data + sizeof(ca),
		    imsg_get_len(imsg) - sizeof(ca)) == -1)
			fatalx("%s: bad IMSG_CFG_ASSET", __func__);
		break;
	}
	case IMSG_CFG_LISTEN:
		if (imsg_get_data(imsg, &cl, sizeof(cl)) == -1 ||
		    cl.cl_id >= FRONTEND_MAX_LISTENERS ||
		    (s = imsg_get_fd(imsg)) == -1)
			fatalx("%s: bad IMSG_CFG_LISTEN", __func__);
		if (env->fe_listeners[cl.cl_id].fl_fd != -1)
			close(env->fe_listeners[cl.cl_id].fl_fd);
		env->fe_listeners[cl.cl_id].fl_fd = s;
		env->fe_listeners[cl.cl_id].fl_tls = cl.cl_tls != 0;
		break;
	case IMSG_CFG_DONE:
		if (env->fe_config == NULL)
			fatalx("%s: no config", __func__);
		frontend_launch(ps);
		proc_compose(ps, PROC_PARENT, IMSG_CFG_DONE, NULL, 0);
		break;
	case IMSG_CTL_START:
		env->fe_started = 1;
		break;
	default:
		return (-1);
	}
	return (0);
}

static int
frontend_dispatch_signer(int fd, struct privsep_proc *p, struct imsg *imsg)
{
	struct jwks_update	 ju;

	switch (imsg_get_type(imsg)) {
	case IMSG_JWKS_UPDATE:
		if (imsg_get_len(imsg) < sizeof(ju))
			fatalx("%s: short IMSG_JWKS_UPDATE", __func__);
		memcpy(&ju, imsg->data, sizeof(ju));
		if (ju.ju_len != imsg_get_len(imsg) - sizeof(ju) ||
		    ju.ju_len == 0)
			fatalx("%s: bad IMSG_JWKS_UPDATE", __func__);
		free(env->fe_jwks);
		if ((env->fe_jwks = malloc(ju.ju_len)) == NULL)
			fatal("%s: malloc", __func__);
		memcpy(env->fe_jwks, (char *)imsg->data + sizeof(ju),
		    ju.ju_len);
		env->fe_jwks_len = ju.ju_len;
		env->fe_jwks_gen = ju.ju_generation;
		(void)snprintf(env->fe_jwks_etag, sizeof(env->fe_jwks_etag),
		    "\"%" PRIu64 "\"", ju.ju_generation);
		(void)snprintf(env->fe_jwks_cc, sizeof(env->fe_jwks_cc),
		    "max-age=%u, must-revalidate", ju.ju_max_age);
		log_debug("JWKS generation %" PRIu64 " (%u bytes)",
		    ju.ju_generation, ju.ju_len);
		oidc_jwks(env->fe_jwks, env->fe_jwks_len);
		break;
	case IMSG_SIGN_RESULT:
	case IMSG_SIGN_FAIL:
		return (oidc_dispatch(p, imsg));
	default:
		return (-1);
	}
	return (0);
}

static int
frontend_dispatch_peer(int fd, struct privsep_proc *p, struct imsg *imsg)
{
	return (oidc_dispatch(p, imsg));
}

/* A connection by id, on the current server or one draining. */
struct http_conn *
frontend_conn(uint32_t id)
{
	struct http_conn	*c = NULL;

	if (id == 0)
		return (NULL);
	if (env->fe_server != NULL)
		c = http_server_conn_byid(env->fe_server, id);
	if (c == NULL && env->fe_old != NULL)
		c = http_server_conn_byid(env->fe_old, id);
	return (c);
}

/*
 * CORS as Dex's gorilla handler does it, for the routes that have it:
 * adds at most two headers to h[n..].
 */
size_t
frontend_cors(struct http_request *req, struct http_kv *h, size_t n)
{
	const char	*origin;
	json_t		*v;
	size_t		 i;

	if (json_array_size(env->fe_origins) == 0 ||
	    (origin = http_header(req, "Origin")) == NULL)
		return (n);
	json_array_foreach(env->fe_origins, i, v) {
		if (strcmp(json_string_value(v), "*") == 0) {
			h[n].key = "Access-Control-Allow-Origin";
			h[n++].value = "*";
			return (n);
		}
		if (strcmp(json_string_value(v), origin) == 0) {
			h[n].key = "Access-Control-Allow-Origin";
			h[n++].value = origin;
			h[n].key = "Vary";
			h[n++].value = "Origin";
			return (n);
		}
	}
	return (n);
}

static void
frontend_respond(struct http_conn *c, struct http_request *req, int status,
    const char *ctype, struct http_kv *h, size_t nh, const void *body,
    size_t len)
{
	int	 flags = 0;

	if (req->method == HTTP_METHOD_HEAD)
		flags |= HTTP_RESP_HEAD;
	if (http_conn_respond(c, status, ctype, h, nh, body, len, flags) ==
	    -1)
		log_debug("%s: response to %s failed", __func__,
		    http_conn_peer_str(c));
}

static void
frontend_text(struct http_conn *c, struct http_request *req, int status,
    const char *text)
{
	frontend_respond(c, req, status, "text/plain; charset=utf-8", NULL, 0,
	    text, strlen(text));
}

static void
frontend_handle(struct http_conn *c, struct http_request *req, void *arg)
{
	struct http_kv	 h[8];
	const char	*path = req->path, *inm, *why;
	size_t		 nh = 0;
	int		 cors = 0;

	/* Every route lives under the issuer's path. */
	if (env->fe_issuer_pathlen > 0) {
		if (strncmp(path, env->fe_issuer_path,
		    env->fe_issuer_pathlen) != 0 ||
		    (path[env->fe_issuer_pathlen] != '/' &&
		    path[env->fe_issuer_pathlen] != '\0')) {
			frontend_text(c, req, 404, "404 page not found\n");
			return;
		}
		path += env->fe_issuer_pathlen;
	}

	if (strcmp(path, "/.well-known/openid-configuration") == 0 ||
	    strcmp(path, "/keys") == 0 || strcmp(path, "/token") == 0 ||
	    strcmp(path, "/userinfo") == 0 ||
	    strcmp(path, "/token/introspect") == 0 ||
	    strcmp(path, "/token/revoke") == 0)
		cors = 1;
	if (cors)
		nh = frontend_cors(req, h, nh);
	if (req->method == HTTP_METHOD_OPTIONS && cors &&
	    http_header(req, "Access-Control-Request-Method") != NULL) {
		h[nh].key = "Access-Control-Allow-Methods";
		h[nh++].value = "GET, HEAD, POST, OPTIONS";
		h[nh].key = "Access-Control-Allow-Headers";
		h[nh++].value = env->fe_allowed_headers;
		frontend_respond(c, req, 200, NULL, h, nh, NULL, 0);
		return;
	}
	if (oidc_handle(c, req, path))
		return;
	if (req->method != HTTP_METHOD_GET &&
	    req->method != HTTP_METHOD_HEAD) {
		h[nh].key = "Allow";
		h[nh++].value = "GET, HEAD";
		frontend_respond(c, req, 405, "text/plain; charset=utf-8",
		    h, nh, "method not allowed\n", 19);
		return;
	}

	if (strcmp(path, "/.well-known/openid-configuration") == 0) {
		frontend_respond(c, req, 200, "application/json", h, nh,
		    env->fe_discovery, env->fe_discovery_len);
	} else if (strcmp(path, "/keys") == 0) {
		if (env->fe_jwks == NULL) {
			frontend_text(c, req, 503, "signing keys are not "
			    "available yet\n");
			return;
		}
		h[nh].key = "Cache-Control";
		h[nh++].value = env->fe_jwks_cc;
		h[nh].key = "ETag";
		h[nh++].value = env->fe_jwks_etag;
		if ((inm = http_header(req, "If-None-Match")) != NULL &&
		    strcmp(inm, env->fe_jwks_etag) == 0)
			frontend_respond(c, req, 304, NULL, h, nh, NULL, 0);
		else
			frontend_respond(c, req, 200, "application/json", h,
			    nh, env->fe_jwks, env->fe_jwks_len);
	} else if (strcmp(path, "/healthz") == 0) {
		if (env->fe_jwks == NULL || !env->fe_started)
			frontend_text(c, req, 503, "Health check failed\n");
		else
			frontend_text(c, req, 200, "Health check passed");
	} else if (strcmp(path, "/healthz/live") == 0) {
		frontend_text(c, req, 200, "ok");
	} else if (strcmp(path, "/healthz/ready") == 0) {
		if (!env->fe_started)
			frontend_text(c, req, 503, "not ready: starting\n");
		else if (env->fe_jwks == NULL)
			frontend_text(c, req, 503, "not ready: no signing "
			    "keys yet\n");
		else if ((why = oidc_not_ready()) != NULL)
			frontend_text(c, req, 503, why);
		else
			frontend_text(c, req, 200, "ok");
	} else
		frontend_text(c, req, 404, "404 page not found\n");
}
