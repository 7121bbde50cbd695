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
 * The connector's upstream side (DESIGN.md §4.3, §9): one fed_conn per
 * upstream connector of the config, with its HTTP client, what
 * discovery found and the upstream's keys; and one fed_op per request
 * of a frontend that needs the upstream (a callback, a refresh, a
 * token exchange), a small state machine over httpc.c whose steps are
 * the pure functions of upstream.c.
 *
 * Discovery runs at configuration and, while it fails, again with a
 * growing delay: oidcd starts without its upstreams (Dex refuses to)
 * and the frontends hear which connector is not ready, for
 * /healthz/ready.  Every operation has a deadline under the frontend's,
 * so that the frontend always gets an answer it can turn into an OAuth
 * error for the client.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "oidcd.h"
#include "httpc.h"
#include "jose.h"
#include "oauth2.h"
#include "upstream.h"

#define FED_OP_TIMEOUT_MS	8000	/* under the frontend's 9 s */
#define FED_HTTP_TIMEOUT_MS	7000	/* one upstream request */
#define FED_RETRY_MIN		1	/* s, discovery retry, doubling */
#define FED_RETRY_MAX		60
#define FED_OPS_MAX		1024	/* operations in flight, all */
#define FED_WHY_MAX		256
#define FED_BC_MAX		256	/* back-channel logouts in flight */
#define FED_BC_TIMEOUT_MS	5000	/* one back-channel logout POST */
#define FED_BC_BODY_MAX		4096	/* of its answer, read and dropped */

enum fed_kind {
	FED_CALLBACK,
	FED_REFRESH,
	FED_EXCHANGE
};

enum fed_step {
	FED_STEP_TOKEN,
	FED_STEP_JWKS,
	FED_STEP_USERINFO
};

struct fed_conn;

struct fed_op {
	TAILQ_ENTRY(fed_op)	 fo_entry;
	struct fed_conn		*fo_conn;
	enum fed_kind		 fo_kind;
	enum fed_step		 fo_step;
	int			 fo_instance;	/* frontend */
	uint32_t		 fo_peerid;
	struct httpc_req	*fo_req;
	struct event		*fo_timer;
	int			 fo_auth_retry;	/* oauth: creds in the form */
	int			 fo_refetched;	/* JWKS fetched for this op */
	char			*fo_code;
	struct upstream_login_state fo_ls;
	struct upstream_tokens	 fo_tokens;
	char			*fo_id_token;	/* to verify */
	char			*fo_access;	/* for userinfo, at_hash */
	json_t			*fo_claims;
	json_t			*fo_userinfo;
	json_t			*fo_old;	/* refresh: the stored identity */
	char			*fo_sealed;	/* refresh: the sealed token */
	int			 fo_groups;	/* "groups" asked downstream */
};
TAILQ_HEAD(fed_ops, fed_op);

struct fed_conn {
	TAILQ_ENTRY(fed_conn)	 fc_entry;
	char			*fc_id;
	struct upstream_conf	*fc_conf;
	struct httpc		*fc_http;
	struct upstream_jwks	 fc_jwks;
	int			 fc_have_jwks;
	int			 fc_ready;
	char			 fc_why[FED_WHY_MAX];
	struct event		*fc_retry;
	int			 fc_backoff;
	struct httpc_req	*fc_req;	/* discovery or JWKS */
	int			 fc_req_jwks;	/* fc_req fetches the JWKS */
	struct fed_ops		 fc_ops;
};
TAILQ_HEAD(fed_conns, fed_conn);

struct fed_env {
	struct privsep		*fe_ps;
	struct event_base	*fe_base;
	struct evdns_base	*fe_dns;
	struct fed_conns	 fe_conns;
	size_t			 fe_nops;
	/* back-channel logout: any client's URI, the system's roots */
	struct httpc		*fe_bc;
	char			*fe_bc_ca;
	size_t			 fe_bc_calen;
	size_t			 fe_bc_n;	/* in flight */
};

static struct fed_env	 fed;

static void	 fed_discover(struct fed_conn *);
static void	 fed_op_next(struct fed_op *);
static void	 fed_op_fail(struct fed_op *, const char *, const char *);
static void	 fed_status(void);

static const char *
jstr(const json_t *o, const char *k)
{
	return (json_string_value(json_object_get(o, k)));
}

/* Before the sandbox: DNS reads resolv.conf and /etc/hosts now. */
void
federation_init(struct privsep *ps)
{
	memset(&fed, 0, sizeof(fed));
	fed.fe_ps = ps;
	fed.fe_base = ps->ps_evbase;
	TAILQ_INIT(&fed.fe_conns);
	if ((fed.fe_dns = httpc_dns_new(ps->ps_evbase)) == NULL)
		fatalx("%s: cannot set up DNS", __func__);
}

/* Which connectors are not ready, and why, to every frontend. */
static void
fed_status(void)
{
	struct fed_conn	*fc;
	json_t		*o;
	char		*s;

	size_t		 used = 2, more = 0;
	char		 tail[64];

	if ((o = json_object()) == NULL)
		fatal("%s: json_object", __func__);
	/*
	 * Within one message even with many connectors down: ready ones
	 * may be left out (the frontends take the absent as ready), and
	 * the not-ready ones past the budget are counted instead.
	 */
	TAILQ_FOREACH(fc, &fed.fe_conns, fc_entry) {
		if (used + strlen(fc->fc_id) + FED_WHY_MAX + 8 >
		    STORE_JSON_MAX - sizeof(tail)) {
			if (!fc->fc_ready)
				more++;
			continue;
		}
		used += strlen(fc->fc_id) + strlen(fc->fc_why) + 8;
		json_object_set_new(o, fc->fc_id, json_string(fc->fc_ready ?
		    "" : fc->fc_why));
	}
	if (more > 0) {
		(void)snprintf(tail, sizeof(tail), "%zu more connectors not "
		    "ready", more);
		json_object_set_new(o, "...", json_string(tail));
	}
	if ((s = json_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("%s: json_dumps", __func__);
	json_decref(o);
	if (proc_compose(fed.fe_ps, PROC_FRONTEND, IMSG_CONN_STATUS, s,
	    strlen(s)) == -1 ||
	    proc_compose(fed.fe_ps, PROC_PARENT, IMSG_CONN_STATUS, s,
	    strlen(s)) == -1)
		fatal("%s: compose", __func__);
	free(s);
}

/*
 * Connectors: made from the config, discovered, torn down on reload.
 */

static struct fed_conn *
fed_find(const char *id)
{
	struct fed_conn	*fc;

	if (id == NULL)
		return (NULL);
	TAILQ_FOREACH(fc, &fed.fe_conns, fc_entry)
		if (strcmp(fc->fc_id, id) == 0)
			return (fc);
	return (NULL);
}

static void
fed_log_warnings(struct fed_conn *fc)
{
	size_t	i;

	for (i = 0; i < fc->fc_conf->uc_nwarnings; i++)
		log_warnx("connector %s: %s", fc->fc_id,
		    fc->fc_conf->uc_warnings[i]);
	upstream_warnings_clear(fc->fc_conf);
}

static void
fed_conn_free(struct fed_conn *fc)
{
	struct fed_op	*fo;

	while ((fo = TAILQ_FIRST(&fc->fc_ops)) != NULL)
		fed_op_fail(fo, "server_error", "The connector was "
		    "reconfigured; try again.");
	if (fc->fc_req != NULL)
		httpc_cancel(fc->fc_req);
	if (fc->fc_retry != NULL)
		event_free(fc->fc_retry);
	if (fc->fc_have_jwks)
		upstream_jwks_free(&fc->fc_jwks);
	httpc_free(fc->fc_http);
	upstream_conf_free(fc->fc_conf);
	free(fc->fc_id);
	free(fc);
}

static void
fed_retry_cb(int fd, short ev, void *arg)
{
	fed_discover(arg);
}

/* Not ready: say why, and try again later, each time later. */
static void
fed_not_ready(struct fed_conn *fc, const char *why)
{
	struct timeval	tv;

	fc->fc_ready = 0;
	(void)strlcpy(fc->fc_why, why, sizeof(fc->fc_why));
	log_warnx("connector %s: not ready: %s; next try in %d s", fc->fc_id,
	    why, fc->fc_backoff);
	timerclear(&tv);
	tv.tv_sec = fc->fc_backoff;
	evtimer_add(fc->fc_retry, &tv);
	if (fc->fc_backoff < FED_RETRY_MAX)
		fc->fc_backoff = fc->fc_backoff * 2 > FED_RETRY_MAX ?
		    FED_RETRY_MAX : fc->fc_backoff * 2;
	fed_status();
}

static int
fed_set_jwks(struct fed_conn *fc, const struct httpc_response *resp,
    char *err, size_t errlen)
{
	struct upstream_jwks	 keys;

	memset(&keys, 0, sizeof(keys));
	if (resp->status != 200) {
		(void)snprintf(err, errlen, "JWKS: HTTP status %d",
		    resp->status);
		return (-1);
	}
	if (upstream_jwks_parse(&keys, resp->body, resp->bodylen,
	    upstream_cache_max_age(httpc_header(resp, "Cache-Control")),
	    (int64_t)now_realtime(), err, errlen) == -1)
		return (-1);
	if (fc->fc_have_jwks)
		upstream_jwks_free(&fc->fc_jwks);
	fc->fc_jwks = keys;
	fc->fc_have_jwks = 1;
	return (0);
}

static void
fed_discovery_cb(struct httpc_req *r, const struct httpc_response *resp,
    const char *error, void *arg)
{
	struct fed_conn	*fc = arg;
	char		 err[UPSTREAM_ERR_MAX], why[FED_WHY_MAX];

	fc->fc_req = NULL;
	if (error != NULL) {
		(void)snprintf(why, sizeof(why), "%s: %s", fc->fc_req_jwks ?
		    "JWKS" : "discovery", error);
		fed_not_ready(fc, why);
		return;
	}
	if (fc->fc_req_jwks) {
		if (fed_set_jwks(fc, resp, err, sizeof(err)) == -1) {
			fed_not_ready(fc, err);
			return;
		}
		fc->fc_ready = 1;
		fc->fc_backoff = FED_RETRY_MIN;
		fc->fc_why[0] = '\0';
		log_info("connector %s: ready (%s, %zu key%s)", fc->fc_id,
		    fc->fc_conf->uc_issuer, fc->fc_jwks.uj_set.nkeys,
		    fc->fc_jwks.uj_set.nkeys == 1 ? "" : "s");
		fed_status();
		return;
	}
	if (resp->status != 200) {
		(void)snprintf(why, sizeof(why), "discovery: HTTP status %d "
		    "from %s", resp->status, fc->fc_conf->uc_discovery_url);
		fed_not_ready(fc, why);
		return;
	}
	if (upstream_discovery_parse(fc->fc_conf, resp->body, resp->bodylen,
	    err, sizeof(err)) == -1) {
		fed_log_warnings(fc);
		fed_not_ready(fc, err);
		return;
	}
	fed_log_warnings(fc);
	fc->fc_req_jwks = 1;
	if ((fc->fc_req = httpc_request(fc->fc_http, "GET",
	    fc->fc_conf->uc_jwks_url, NULL, NULL, 0, fed_discovery_cb,
	    fc)) == NULL)
		fed_not_ready(fc, "JWKS: bad jwks_uri");
}

/* Discovery, then the keys; oauth connectors have neither. */
static void
fed_discover(struct fed_conn *fc)
{
	const char	*hdrs[] = { "Accept: application/json", NULL };

	if (fc->fc_conf == NULL)
		return;		/* a bad config: out of service */
	if (fc->fc_conf->uc_type != UPSTREAM_OIDC) {
		fc->fc_ready = 1;
		return;
	}
	if (fc->fc_req != NULL)
		return;
	fc->fc_req_jwks = 0;
	if ((fc->fc_req = httpc_request(fc->fc_http, "GET",
	    fc->fc_conf->uc_discovery_url, hdrs, NULL, 0, fed_discovery_cb,
	    fc)) == NULL)
		fed_not_ready(fc, "discovery: bad issuer URL");
}

/*
 * A new config: the old connectors go (operations in flight get an
 * error), the new ones start their discovery.  Returns -1 with err set
 * when a connector's config is bad; the parser has checked most of it.
 */
int
federation_configure(const json_t *cfg, const char *ca, size_t calen,
    char *err, size_t errlen)
{
	struct fed_conn		*fc;
	struct httpc_config	 hc;
	const json_t		*c;
	const char		*type, *id, *capem, *sk;
	uint8_t			*key = NULL;
	size_t			 i, keylen = 0;
	char			*roots = NULL, cerr[UPSTREAM_ERR_MAX];
	int			 rv = -1;

	while ((fc = TAILQ_FIRST(&fed.fe_conns)) != NULL) {
		TAILQ_REMOVE(&fed.fe_conns, fc, fc_entry);
		fed_conn_free(fc);
	}
	/* Back-channel logout's client, made again with these roots. */
	if (fed.fe_bc_n == 0) {
		httpc_free(fed.fe_bc);
		fed.fe_bc = NULL;
	}
	free(fed.fe_bc_ca);
	fed.fe_bc_ca = NULL;
	fed.fe_bc_calen = 0;
	if (ca != NULL && calen > 0) {
		if ((fed.fe_bc_ca = malloc(calen)) == NULL)
			fatal("%s: malloc", __func__);
		memcpy(fed.fe_bc_ca, ca, calen);
		fed.fe_bc_calen = calen;
	}
	sk = jstr(cfg, "sealKey");
	if (sk != NULL && *sk != '\0' && (jose_b64url_decode(sk, strlen(sk),
	    &key, &keylen) == -1 || keylen != UPSTREAM_SEAL_KEY_LEN)) {
		(void)snprintf(err, errlen, "bad sealing key");
		goto done;
	}
	json_array_foreach(json_object_get(cfg, "connectors"), i, c) {
		type = jstr(c, "type");
		id = jstr(c, "id");
		if (type == NULL || id == NULL ||
		    (strcmp(type, "oidc") != 0 && strcmp(type, "oauth") != 0))
			continue;
		if (key == NULL) {
			(void)snprintf(err, errlen, "no sealing key");
			goto done;
		}
		if ((fc = calloc(1, sizeof(*fc))) == NULL)
			fatal("%s: calloc", __func__);
		TAILQ_INIT(&fc->fc_ops);
		fc->fc_id = xstrdup(id);
		fc->fc_backoff = FED_RETRY_MIN;
		if ((fc->fc_retry = evtimer_new(fed.fe_base, fed_retry_cb,
		    fc)) == NULL)
			fatal("%s: evtimer_new", __func__);
		TAILQ_INSERT_TAIL(&fed.fe_conns, fc, fc_entry);
		if (upstream_config_load(json_object_get(c, "config"), type,
		    id, jstr(cfg, "issuer"), &fc->fc_conf, cerr,
		    sizeof(cerr)) == -1) {
			/*
			 * The parent checked it with the same rules: this
			 * one stays out of service, the others work.
			 */
			log_warnx("connector %s: %s", id, cerr);
			(void)strlcpy(fc->fc_why, cerr, sizeof(fc->fc_why));
			continue;
		}
		upstream_set_seal_key(fc->fc_conf, key);
		fed_log_warnings(fc);

		/* The system's roots and the connector's own rootCAs. */
		capem = jstr(c, "caPEM");
		free(roots);
		if (asprintf(&roots, "%.*s\n%s", (int)calen, ca ? ca : "",
		    capem ? capem : "") == -1)
			fatal("%s: asprintf", __func__);
		memset(&hc, 0, sizeof(hc));
		hc.ca_pem = roots;
		hc.ca_len = strlen(roots);
		hc.insecure_skip_verify = fc->fc_conf->uc_insecure_skip_verify;
		hc.timeout_ms = FED_HTTP_TIMEOUT_MS;
		hc.max_body = UPSTREAM_DISCOVERY_MAX > UPSTREAM_TOKEN_RESP_MAX ?
		    UPSTREAM_DISCOVERY_MAX : UPSTREAM_TOKEN_RESP_MAX;
		if (hc.max_body < JOSE_JWKS_MAX_LEN)
			hc.max_body = JOSE_JWKS_MAX_LEN;
		if ((fc->fc_http = httpc_new(fed.fe_base, fed.fe_dns,
		    &hc)) == NULL) {
			log_warnx("connector %s: cannot set up its HTTP "
			    "client (rootCAs?)", id);
			(void)strlcpy(fc->fc_why, "cannot set up its HTTP "
			    "client (rootCAs?)", sizeof(fc->fc_why));
			upstream_conf_free(fc->fc_conf);
			fc->fc_conf = NULL;
			continue;
		}
		(void)strlcpy(fc->fc_why, "discovery in progress",
		    sizeof(fc->fc_why));
	}
	rv = 0;
 done:
	free(roots);
	freezero(key, keylen);
	return (rv);
}

/* After IMSG_CFG_DONE: discovery starts, the frontends hear who waits. */
void
federation_start(void)
{
	struct fed_conn	*fc;

	TAILQ_FOREACH(fc, &fed.fe_conns, fc_entry)
		fed_discover(fc);
	fed_status();
}

int
federation_has(const char *id)
{
	return (fed_find(id) != NULL);
}

/*
 * Operations.
 */

static void
fed_op_free(struct fed_op *fo)
{
	TAILQ_REMOVE(&fo->fo_conn->fc_ops, fo, fo_entry);
	fed.fe_nops--;
	if (fo->fo_req != NULL)
		httpc_cancel(fo->fo_req);
	if (fo->fo_timer != NULL)
		event_free(fo->fo_timer);
	freezero(fo->fo_code, fo->fo_code ? strlen(fo->fo_code) : 0);
	explicit_bzero(&fo->fo_ls, sizeof(fo->fo_ls));
	upstream_tokens_free(&fo->fo_tokens);
	free(fo->fo_id_token);
	freezero(fo->fo_access, fo->fo_access ? strlen(fo->fo_access) : 0);
	json_decref(fo->fo_claims);
	json_decref(fo->fo_userinfo);
	json_decref(fo->fo_old);
	free(fo->fo_sealed);
	free(fo);
}

static const char *
fed_kind_name(enum fed_kind k)
{
	switch (k) {
	case FED_CALLBACK:
		return ("login");
	case FED_REFRESH:
		return ("refresh");
	case FED_EXCHANGE:
		return ("token exchange");
	}
	return ("?");
}

static void
fed_op_fail(struct fed_op *fo, const char *error, const char *desc)
{
	log_info("connector %s: %s failed: %s", fo->fo_conn->fc_id,
	    fed_kind_name(fo->fo_kind), desc);
	connector_error(fo->fo_instance, fo->fo_peerid, error, desc);
	fed_op_free(fo);
}

static void
fed_op_timeout(int fd, short ev, void *arg)
{
	fed_op_fail(arg, "server_error", "The identity provider did not "
	    "answer in time.");
}

static struct fed_op *
fed_op_new(struct fed_conn *fc, enum fed_kind kind, int n, uint32_t peerid)
{
	struct fed_op	*fo;
	struct timeval	 tv;

	if (fed.fe_nops >= FED_OPS_MAX) {
		connector_error(n, peerid, "server_error", "The login service is "
		    "busy; try again later.");
		return (NULL);
	}
	if ((fo = calloc(1, sizeof(*fo))) == NULL)
		fatal("%s: calloc", __func__);
	fo->fo_conn = fc;
	fo->fo_kind = kind;
	fo->fo_instance = n;
	fo->fo_peerid = peerid;
	if ((fo->fo_timer = evtimer_new(fed.fe_base, fed_op_timeout,
	    fo)) == NULL)
		fatal("%s: evtimer_new", __func__);
	timerclear(&tv);
	tv.tv_sec = FED_OP_TIMEOUT_MS / 1000;
	tv.tv_usec = (FED_OP_TIMEOUT_MS % 1000) * 1000;
	evtimer_add(fo->fo_timer, &tv);
	TAILQ_INSERT_TAIL(&fc->fc_ops, fo, fo_entry);
	fed.fe_nops++;
	return (fo);
}

/* The identity is known: answer, and the operation is over. */
static void
fed_op_done(struct fed_op *fo)
{
	struct upstream_id_input	 in;
	enum upstream_caller		 caller;
	json_t				*id = NULL;
	char				 err[UPSTREAM_ERR_MAX];
	int				 rv;

	switch (fo->fo_kind) {
	case FED_CALLBACK:
		caller = UPSTREAM_LOGIN;
		break;
	case FED_REFRESH:
		caller = UPSTREAM_REFRESH;
		break;
	default:
		caller = fo->fo_id_token != NULL ? UPSTREAM_EXCHANGE_ID :
		    UPSTREAM_EXCHANGE_ACCESS;
		break;
	}
	memset(&in, 0, sizeof(in));
	in.ui_caller = caller;
	in.ui_id_claims = fo->fo_claims;
	in.ui_userinfo = fo->fo_userinfo;
	in.ui_access_token = fo->fo_access;
	in.ui_refresh_token = fo->fo_tokens.ut_refresh_token;
	in.ui_groups = fo->fo_groups;
	rv = upstream_identity(fo->fo_conn->fc_conf, &in, &id, err,
	    sizeof(err));
	if (rv == UPSTREAM_DENIED) {
		fed_op_fail(fo, "access_denied", err);
		return;
	}
	if (rv == -1) {
		fed_op_fail(fo, fo->fo_kind == FED_REFRESH ? "invalid_grant" :
		    "server_error", err);
		return;
	}
	if (fo->fo_kind == FED_REFRESH &&
	    upstream_refresh_merge(fo->fo_old, id, err, sizeof(err)) == -1) {
		json_decref(id);
		fed_op_fail(fo, "invalid_grant", err);
		return;
	}
	log_info("connector %s: %s of user %s", fo->fo_conn->fc_id,
	    fed_kind_name(fo->fo_kind), jstr(id, "userId"));
	connector_reply(fo->fo_instance, fo->fo_peerid, json_pack("{s:b, s:o}",
	    "ok", 1, "identity", id));
	fed_op_free(fo);
}

static void	fed_op_http_cb(struct httpc_req *,
		    const struct httpc_response *, const char *, void *);

/* Send an upstream request of upstream.c; the answer comes to fed_op_http_cb. */
static void
fed_op_send(struct fed_op *fo, enum fed_step step,
    struct upstream_request *ur)
{
	char		 auth[UPSTREAM_TOKEN_MAX + 64];
	const char	*hdrs[4];
	size_t		 nh = 0;

	fo->fo_step = step;
	hdrs[nh++] = "Accept: application/json";
	if (ur->ur_body != NULL)
		hdrs[nh++] = "Content-Type: application/x-www-form-urlencoded";
	if (ur->ur_authorization != NULL) {
		(void)snprintf(auth, sizeof(auth), "Authorization: %s",
		    ur->ur_authorization);
		hdrs[nh++] = auth;
	}
	hdrs[nh] = NULL;
	fo->fo_req = httpc_request(fo->fo_conn->fc_http, ur->ur_body ?
	    "POST" : "GET", ur->ur_url, hdrs, ur->ur_body, ur->ur_bodylen,
	    fed_op_http_cb, fo);
	explicit_bzero(auth, sizeof(auth));
	upstream_request_free(ur);
	if (fo->fo_req == NULL)
		fed_op_fail(fo, "server_error", "Cannot send a request to the "
		    "identity provider.");
}

/* The token endpoint: the code grant, or the refresh grant. */
static void
fed_op_token(struct fed_op *fo)
{
	struct upstream_request	 ur;
	char			 err[UPSTREAM_ERR_MAX];
	int			 rv;

	memset(&ur, 0, sizeof(ur));
	if (fo->fo_kind == FED_CALLBACK)
		rv = upstream_token_request(fo->fo_conn->fc_conf, fo->fo_code,
		    &fo->fo_ls, fo->fo_auth_retry, &ur, err, sizeof(err));
	else
		rv = upstream_refresh_request(fo->fo_conn->fc_conf,
		    fo->fo_sealed, fo->fo_auth_retry, &ur, err, sizeof(err));
	if (rv == -1) {
		upstream_request_free(&ur);
		fed_op_fail(fo, fo->fo_kind == FED_REFRESH ? "invalid_grant" :
		    "server_error", err);
		return;
	}
	fed_op_send(fo, FED_STEP_TOKEN, &ur);
}

static void
fed_op_userinfo(struct fed_op *fo)
{
	struct upstream_request	 ur;
	char			 err[UPSTREAM_ERR_MAX];

	memset(&ur, 0, sizeof(ur));
	if (upstream_userinfo_request(fo->fo_conn->fc_conf, fo->fo_access,
	    &ur, err, sizeof(err)) == -1) {
		upstream_request_free(&ur);
		fed_op_fail(fo, "server_error", err);
		return;
	}
	fed_op_send(fo, FED_STEP_USERINFO, &ur);
}

/*
 * The next step once the tokens are in: verify the ID token (fetching
 * the keys again when they are stale or the kid is new), then
 * userinfo when the config wants it, then the identity.
 */
static void
fed_op_next(struct fed_op *fo)
{
	struct fed_conn		*fc = fo->fo_conn;
	struct upstream_conf	*uc = fc->fc_conf;
	struct upstream_request	 ur;
	char			 err[UPSTREAM_ERR_MAX];
	int64_t			 now = (int64_t)now_realtime();
	int			 need = 0;

	if (uc->uc_type == UPSTREAM_OIDC && fo->fo_id_token != NULL &&
	    fo->fo_claims == NULL) {
		if (!fc->fc_have_jwks || (upstream_jwks_stale(&fc->fc_jwks,
		    now) && !fo->fo_refetched))
			need = 1;
		else if (upstream_id_token_verify(uc, &fc->fc_jwks,
		    fo->fo_id_token, fo->fo_kind == FED_CALLBACK ?
		    fo->fo_ls.uls_nonce : NULL, fo->fo_kind == FED_EXCHANGE ?
		    NULL : fo->fo_access, fo->fo_kind == FED_EXCHANGE, now,
		    &fo->fo_claims, &need, err, sizeof(err)) == -1) {
			if (!need || fo->fo_refetched ||
			    !upstream_jwks_may_refetch(&fc->fc_jwks, now)) {
				fed_op_fail(fo, "server_error", err);
				return;
			}
		}
		if (need) {
			fo->fo_refetched = 1;
			memset(&ur, 0, sizeof(ur));
			if ((ur.ur_url = strdup(uc->uc_jwks_url)) == NULL)
				fatal("%s: strdup", __func__);
			fed_op_send(fo, FED_STEP_JWKS, &ur);
			return;
		}
	}
	if (fo->fo_userinfo == NULL && fo->fo_access != NULL &&
	    (uc->uc_type == UPSTREAM_OAUTH || uc->uc_get_userinfo)) {
		fed_op_userinfo(fo);
		return;
	}
	fed_op_done(fo);
}

static void
fed_op_http_cb(struct httpc_req *r, const struct httpc_response *resp,
    const char *error, void *arg)
{
	struct fed_op		*fo = arg;
	struct upstream_conf	*uc = fo->fo_conn->fc_conf;
	char			 err[UPSTREAM_ERR_MAX], desc[FED_WHY_MAX];
	const char		*what;

	fo->fo_req = NULL;
	if (error != NULL) {
		what = fo->fo_step == FED_STEP_TOKEN ? "token endpoint" :
		    fo->fo_step == FED_STEP_JWKS ? "JWKS" : "userinfo";
		(void)snprintf(desc, sizeof(desc), "The identity provider "
		    "cannot be reached (%s: %s).", what, error);
		fed_op_fail(fo, "server_error", desc);
		return;
	}
	switch (fo->fo_step) {
	case FED_STEP_TOKEN:
		/* oauth: Basic first; a 401 tries the form once (Dex). */
		if (resp->status == 401 && uc->uc_auth == UPSTREAM_AUTH_AUTO &&
		    !fo->fo_auth_retry) {
			fo->fo_auth_retry = 1;
			fed_op_token(fo);
			return;
		}
		upstream_tokens_free(&fo->fo_tokens);
		if (upstream_token_response(uc, resp->status,
		    httpc_header(resp, "Content-Type"), resp->body,
		    resp->bodylen, &fo->fo_tokens, err, sizeof(err)) == -1) {
			/* A refused refresh means the grant is gone upstream. */
			fed_op_fail(fo, fo->fo_kind == FED_REFRESH &&
			    fo->fo_tokens.ut_error != NULL ? "invalid_grant" :
			    "server_error", err);
			return;
		}
		fo->fo_access = xstrdup(fo->fo_tokens.ut_access_token);
		fo->fo_id_token = xstrdup(fo->fo_tokens.ut_id_token);
		if (uc->uc_type == UPSTREAM_OIDC && fo->fo_id_token == NULL &&
		    fo->fo_kind == FED_CALLBACK) {
			fed_op_fail(fo, "server_error", "no id_token in token "
			    "response");
			return;
		}
		break;
	case FED_STEP_JWKS:
		if (fed_set_jwks(fo->fo_conn, resp, err, sizeof(err)) == -1) {
			fed_op_fail(fo, "server_error", err);
			return;
		}
		break;
	case FED_STEP_USERINFO:
		if (upstream_userinfo_parse(uc, resp->status,
		    httpc_header(resp, "Content-Type"), resp->body,
		    resp->bodylen, &fo->fo_userinfo, err, sizeof(err)) == -1) {
			fed_op_fail(fo, fo->fo_kind == FED_REFRESH &&
			    resp->status == 401 ? "invalid_grant" :
			    "server_error", err);
			return;
		}
		break;
	}
	fed_op_next(fo);
}

/* Did the downstream client ask for groups?  (oauth reads them then.) */
static int
fed_asked_groups(const json_t *req)
{
	const json_t	*s;
	size_t		 i;

	json_array_foreach(json_object_get(req, "scopes"), i, s)
		if (json_is_string(s) &&
		    strcmp(json_string_value(s), "groups") == 0)
			return (1);
	return (0);
}

/* A connector of ours that is ready, else the frontend hears why not. */
static struct fed_conn *
fed_ready(const char *id, int n, uint32_t peerid)
{
	struct fed_conn	*fc;
	char		 desc[FED_WHY_MAX + 64];

	if ((fc = fed_find(id)) == NULL) {
		connector_error(n, peerid, "server_error", "Connector not found.");
		return (NULL);
	}
	if (!fc->fc_ready) {
		(void)snprintf(desc, sizeof(desc), "The identity provider "
		    "\"%s\" is not available: %s", fc->fc_id, fc->fc_why);
		connector_error(n, peerid, "server_error", desc);
		return (NULL);
	}
	return (fc);
}

/* IMSG_CONN_LOGIN: the upstream URL, and the state to keep sealed. */
void
federation_login(const json_t *req, int n, uint32_t peerid)
{
	struct fed_conn	*fc;
	const char	*state = jstr(req, "state");
	char		*url = NULL, *cd = NULL, err[UPSTREAM_ERR_MAX];

	if ((fc = fed_ready(jstr(req, "connectorId"), n, peerid)) == NULL)
		return;
	if (state == NULL || upstream_login(fc->fc_conf, state,
	    json_is_true(json_object_get(req, "offlineAccess")), &url, &cd,
	    err, sizeof(err)) == -1) {
		connector_error(n, peerid, "server_error", state ? err :
		    "Malformed login request.");
		return;
	}
	connector_reply(n, peerid, json_pack("{s:b, s:s, s:s}", "ok", 1, "url", url,
	    "connectorData", cd));
	free(url);
	free(cd);
}

/* IMSG_CONN_CALLBACK: the upstream sent the browser back. */
void
federation_callback(const json_t *req, int n, uint32_t peerid)
{
	struct fed_conn	*fc;
	struct fed_op	*fo;
	const json_t	*params = json_object_get(req, "params");
	const char	*e, *d, *code, *cd = jstr(req, "connectorData");
	char		 desc[UPSTREAM_ERR_MAX + UPSTREAM_SHOW_MAX * 2];
	char		 err[UPSTREAM_ERR_MAX];
	size_t		 i;

	if ((fc = fed_ready(jstr(req, "connectorId"), n, peerid)) == NULL)
		return;
	if ((e = jstr(params, "error")) != NULL) {
		/* Dex: "error: error_description"; quoted, never trusted. */
		d = jstr(params, "error_description");
		(void)snprintf(desc, sizeof(desc), "%.*s%s%.*s",
		    UPSTREAM_SHOW_MAX, e, d ? ": " : "", UPSTREAM_SHOW_MAX,
		    d ? d : "");
		for (i = 0; desc[i] != '\0'; i++)
			if (desc[i] < 0x20 || desc[i] > 0x7e)
				desc[i] = '?';
		log_info("connector %s: the identity provider answered the "
		    "login with an error: %s", fc->fc_id, desc);
		connector_error(n, peerid, strcmp(e, "access_denied") == 0 ?
		    "access_denied" : "server_error", desc);
		return;
	}
	if ((code = jstr(params, "code")) == NULL || *code == '\0' ||
	    strlen(code) > UPSTREAM_CODE_MAX) {
		connector_error(n, peerid, "server_error", "The identity provider "
		    "sent no code.");
		return;
	}
	if ((fo = fed_op_new(fc, FED_CALLBACK, n, peerid)) == NULL)
		return;
	if (cd == NULL || upstream_login_state(fc->fc_conf, cd, &fo->fo_ls,
	    err, sizeof(err)) == -1) {
		fed_op_fail(fo, "server_error", cd ? err :
		    "No login state.");
		return;
	}
	fo->fo_code = xstrdup(code);
	fo->fo_groups = fed_asked_groups(req);
	fed_op_token(fo);
}

/*
 * IMSG_CONN_REFRESH of an upstream connector: refresh upstream with
 * the sealed refresh token; the user's claims follow the upstream.
 */
void
federation_refresh(const json_t *req, int n, uint32_t peerid)
{
	struct fed_conn	*fc;
	struct fed_op	*fo;
	const json_t	*old = json_object_get(req, "identity");
	const char	*sealed = jstr(old, "connectorData");

	if ((fc = fed_ready(jstr(req, "connectorId"), n, peerid)) == NULL)
		return;
	if (!fc->fc_conf->uc_refresh) {
		/* Dex keeps the identity of a connector without refresh. */
		connector_reply(n, peerid, json_pack("{s:b, s:O}", "ok", 1,
		    "identity", old));
		return;
	}
	if (sealed == NULL || *sealed == '\0') {
		/* Dex answers a 500 here (its #3059); the grant is dead. */
		connector_error(n, peerid, "invalid_grant", "No upstream refresh "
		    "token is stored for this session; log in again.");
		return;
	}
	if ((fo = fed_op_new(fc, FED_REFRESH, n, peerid)) == NULL)
		return;
	fo->fo_old = json_deep_copy(old);
	fo->fo_sealed = xstrdup(sealed);
	fo->fo_groups = fed_asked_groups(req);
	fed_op_token(fo);
}

/* IMSG_CONN_EXCHANGE: an upstream token for ours (Dex's TokenIdentity). */
void
federation_exchange(const json_t *req, int n, uint32_t peerid)
{
	struct fed_conn	*fc;
	struct fed_op	*fo;
	const char	*tok = jstr(req, "subjectToken");
	const char	*type = jstr(req, "subjectTokenType");

	if ((fc = fed_ready(jstr(req, "connectorId"), n, peerid)) == NULL)
		return;
	if (tok == NULL || type == NULL || strlen(tok) > UPSTREAM_TOKEN_MAX) {
		connector_error(n, peerid, "invalid_request", "Malformed token "
		    "exchange request.");
		return;
	}
	if (fc->fc_conf->uc_type != UPSTREAM_OIDC) {
		connector_error(n, peerid, "invalid_request", "Requested connector "
		    "does not support token exchange.");
		return;
	}
	if ((fo = fed_op_new(fc, FED_EXCHANGE, n, peerid)) == NULL)
		return;
	if (strcmp(type, OAUTH2_TOKEN_TYPE_ID) == 0)
		fo->fo_id_token = xstrdup(tok);
	else {
		/* An access token says who only through userinfo. */
		if (!fc->fc_conf->uc_get_userinfo) {
			fed_op_fail(fo, "access_denied", "getUserInfo is "
			    "required to exchange an access token");
			return;
		}
		fo->fo_access = xstrdup(tok);
	}
	fed_op_next(fo);
}

/*
 * IMSG_CONN_LOGOUT: where the user signs out of the upstream too, when
 * its discovery named an end_session_endpoint (OpenID RP-Initiated
 * Logout 1.0).  We keep no upstream ID token to hint with, so the
 * upstream hears our client_id, where to send the browser back, and the
 * frontend's state for that.
 */
void
federation_logout(const json_t *req, int n, uint32_t peerid)
{
	struct fed_conn	*fc;
	struct http_kv	 kv[3];
	const char	*back = jstr(req, "postLogoutRedirectUri");
	const char	*state = jstr(req, "state");
	char		*url;
	size_t		 nkv = 2;

	fc = fed_find(jstr(req, "connectorId") ? jstr(req, "connectorId") :
	    "");
	if (fc == NULL || !fc->fc_ready || fc->fc_conf == NULL ||
	    fc->fc_conf->uc_end_session_url == NULL || back == NULL) {
		connector_reply(n, peerid, json_pack("{s:b}", "ok", 1));
		return;
	}
	kv[0].key = "client_id";
	kv[0].value = fc->fc_conf->uc_client_id;
	kv[1].key = "post_logout_redirect_uri";
	kv[1].value = back;
	if (state != NULL) {
		kv[2].key = "state";
		kv[2].value = state;
		nkv = 3;
	}
	if ((url = oauth2_redirect(fc->fc_conf->uc_end_session_url, 0, kv,
	    nkv)) == NULL) {
		connector_reply(n, peerid, json_pack("{s:b}", "ok", 1));
		return;
	}
	connector_reply(n, peerid, json_pack("{s:b, s:s}", "ok", 1, "url",
	    url));
	free(url);
}

/*
 * Back-channel logout (OpenID Back-Channel Logout 1.0): POST the logout
 * token to a client's backchannelLogoutURI.  The frontend hears at once
 * that it is on its way; whether the client took it (200 or 204) only
 * the log says, as nobody waits for it.
 */
struct fed_bc {
	char	*fb_client;
};

static void
fed_bc_cb(struct httpc_req *r, const struct httpc_response *resp,
    const char *err, void *arg)
{
	struct fed_bc	*fb = arg;

	fed.fe_bc_n--;
	if (err != NULL)
		log_warnx("back-channel logout of client %s failed: %s",
		    fb->fb_client, err);
	else if (resp->status != 200 && resp->status != 204)
		log_warnx("back-channel logout of client %s: HTTP %d",
		    fb->fb_client, resp->status);
	else
		log_info("back-channel logout of client %s: done",
		    fb->fb_client);
	free(fb->fb_client);
	free(fb);
}

void
federation_backchannel(const json_t *req, int n, uint32_t peerid)
{
	struct httpc_config	 hc;
	struct httpc_form	 form;
	struct httpc_url	 u;
	struct fed_bc		*fb;
	const char		*client = jstr(req, "clientId");
	const char		*uri = jstr(req, "uri");
	const char		*tok = jstr(req, "logoutToken");
	const char		*hdrs[] = {
	    "Content-Type: application/x-www-form-urlencoded", NULL };

	connector_reply(n, peerid, json_pack("{s:b}", "ok", 1));
	if (client == NULL || uri == NULL || tok == NULL ||
	    strlen(uri) > HTTPC_URL_MAX || httpc_parse_url(uri, &u) == -1) {
		log_warnx("back-channel logout: a malformed request");
		return;
	}
	if (fed.fe_bc_n >= FED_BC_MAX) {
		log_warnx("back-channel logout of client %s dropped: %d in "
		    "flight", client, FED_BC_MAX);
		return;
	}
	if (fed.fe_bc == NULL) {
		memset(&hc, 0, sizeof(hc));
		hc.ca_pem = fed.fe_bc_ca;
		hc.ca_len = fed.fe_bc_calen;
		hc.timeout_ms = FED_BC_TIMEOUT_MS;
		hc.max_body = FED_BC_BODY_MAX;
		if ((fed.fe_bc = httpc_new(fed.fe_base, fed.fe_dns, &hc)) ==
		    NULL) {
			log_warnx("back-channel logout: no HTTP client");
			return;
		}
	}
	memset(&form, 0, sizeof(form));
	if (httpc_form_add(&form, "logout_token", tok) == -1) {
		httpc_form_free(&form);
		log_warnx("back-channel logout of client %s: token too long",
		    client);
		return;
	}
	if ((fb = calloc(1, sizeof(*fb))) == NULL)
		fatal("%s: calloc", __func__);
	fb->fb_client = xstrdup(client);
	if (httpc_request(fed.fe_bc, "POST", uri, hdrs, form.buf, form.len,
	    fed_bc_cb, fb) == NULL) {
		log_warnx("back-channel logout of client %s: cannot send",
		    client);
		free(fb->fb_client);
		free(fb);
	} else
		fed.fe_bc_n++;
	httpc_form_free(&form);
}
