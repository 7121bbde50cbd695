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
 * The OpenID Provider endpoints of the frontend (DESIGN.md §4.3, §4.4):
 * /auth, /auth/{connector}, /auth/{connector}/login, /approval,
 * /token, /userinfo, /token/introspect, and the theme's assets.
 *
 * The frontend holds no state of a login: each step asks storage,
 * the connector or the signer over imsg and answers the HTTP request
 * when the reply comes.  A flow is one HTTP request in progress; its
 * outstanding imsg requests are "asks", found again by their peerid.
 * The connection may be gone when a reply arrives: the flow is then
 * dropped without an answer.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "oidcd.h"
#include "http.h"
#include "jose.h"
#include "oauth2.h"
#include "session.h"
#include "store.h"
#include "template.h"

#define OIDC_MAX_ASKS		4096	/* requests in flight, all peers */
#define OIDC_ASK_TIMEOUT	9	/* s; under the server's 10 s */
#define OIDC_ID_BYTES		16	/* authreq id: 22 base64url chars */
#define OIDC_HMACKEY_BYTES	32
#define OIDC_CODE_LEN		43
#define OIDC_REFRESH_LEN	64
#define OIDC_BEARER_MAX		16384
#define OIDC_UPSTREAM_PARAM_MAX	4096	/* code, error, description */
#define OIDC_CSP		"default-src 'none'; style-src 'self'; " \
				"img-src 'self' data:; form-action 'self' %s; " \
				"frame-ancestors 'none'; base-uri 'none'"

struct oidc_ask {
	RB_ENTRY(oidc_ask)	 ak_node;
	TAILQ_ENTRY(oidc_ask)	 ak_entry;	/* by deadline */
	uint32_t		 ak_id;
	time_t			 ak_deadline;
	oidc_cb			 ak_cb;
	struct oidc_flow	*ak_flow;
};
RB_HEAD(oidc_asks, oidc_ask);
TAILQ_HEAD(oidc_askq, oidc_ask);

struct oidc_flow {
	uint32_t		 fl_conn;
	int			 fl_asks;	/* outstanding */
	int			 fl_head;	/* HEAD request */
	/* what the steps carry along */
	char			*fl_client;	/* client id */
	char			*fl_authreq_id;
	char			*fl_connector;
	char			*fl_username;
	char			*fl_code;
	char			*fl_refresh;
	char			*fl_access;
	char			*fl_idtoken;
	json_t			*fl_authreq;
	json_t			*fl_grant;
	int			 fl_approve;	/* approval POST: approve */
	int			 fl_post;	/* the request was a POST */
	int			 fl_reused;	/* refresh within reuseInterval */
	char			*fl_csrf;	/* what the POST carried */
	char			*fl_hmac;	/* approval: from the URL */
	char			*fl_url;	/* upstream login: where to */
	json_t			*fl_params;	/* upstream callback: its query */
	json_t			*fl_rotate;	/* refresh: the request, again */
	int			 fl_refreshed;	/* asked the upstream already */
	int			 fl_exchange;	/* token exchange: one token */
	int			 fl_exchange_id; /* ... and it is an ID token */
	json_t			*fl_data;	/* a feature file's own */
	int			 fl_prompt;	/* SESSION_PROMPT_* */
	char			*fl_raw;	/* /auth: the query, again */
	char			*fl_cookie;	/* Set-Cookie of a page */
	int			 fl_access_only; /* client_credentials only */
	json_t			*fl_claims;	/* a verified token of ours */
};

struct oidc_env {
	struct privsep		*oe_ps;
	struct oauth2_conf	*oe_conf;
	struct tmpl_set		*oe_tmpl;
	struct tmpl_funcs	 oe_funcs;
	json_t			*oe_fe;		/* the frontend: settings */
	char			*oe_prefix;	/* issuer path + "/" */
	char			*oe_csp;
	struct jose_jwks	 oe_keys;
	int			 oe_have_keys;
	struct oidc_asks	 oe_asks;
	struct oidc_askq	 oe_askq;
	size_t			 oe_nasks;
	uint32_t		 oe_nextid;
	struct event		*oe_timer;
	char			*oe_not_ready;	/* from IMSG_CONN_STATUS */
	int			 oe_have_status;
	int			 oe_sess_on;	/* browser sessions */
	char			*oe_sess_cookie; /* their cookie's name */
	int64_t			 oe_sess_maxage; /* absoluteLifetime, s */
};

static struct oidc_env	*oe;

static int	oidc_ask_cmp(struct oidc_ask *, struct oidc_ask *);
RB_GENERATE_STATIC(oidc_asks, oidc_ask, ak_node, oidc_ask_cmp);

static void	oidc_issue_code(struct oidc_flow *);
static void	oidc_sign_tokens(struct oidc_flow *, int, int);
static void	oidc_finalize(struct oidc_flow *);
static void	oidc_client_error(struct oidc_flow *, const char *,
		    const char *);
static void	oidc_login_done(struct oidc_flow *, uint32_t, json_t *,
		    const char *, size_t);
static void	oidc_upstream_url(struct oidc_flow *, uint32_t, json_t *,
		    const char *, size_t);
static int	oidc_scope_has(const json_t *, const char *);
static void	oidc_rotated(struct oidc_flow *, uint32_t, json_t *,
		    const char *, size_t);
static void	oidc_sign_id(struct oidc_flow *);
static void	oidc_auth_start(struct oidc_flow *);
static int	oidc_session_try(struct oidc_flow *, struct http_request *,
		    struct http_params *);
static int	oidc_session_chooser(struct oidc_flow *,
		    struct http_request *, struct http_params *);
static void	oidc_auth_chooser(struct oidc_flow *);
static void	oidc_session_cookie(struct oidc_flow *, char **);
static char	*oidc_session_hash(struct http_request *);
static void	oidc_session_created(struct oidc_flow *, uint32_t, json_t *,
		    const char *, size_t);
static int	oidc_client_refreshes(const struct oauth2_client *);
static int	oidc_ask_revoked(struct oidc_flow *, json_t *, oidc_cb);

static int
oidc_ask_cmp(struct oidc_ask *a, struct oidc_ask *b)
{
	return (a->ak_id < b->ak_id ? -1 : a->ak_id > b->ak_id);
}

/*
 * Flows
 */

struct oidc_flow *
oidc_flow_new(struct http_conn *c, struct http_request *req)
{
	struct oidc_flow	*fl;

	if ((fl = calloc(1, sizeof(*fl))) == NULL)
		return (NULL);
	fl->fl_conn = http_conn_id(c);
	fl->fl_head = req->method == HTTP_METHOD_HEAD;
	fl->fl_post = req->method == HTTP_METHOD_POST;
	return (fl);
}

static void
oidc_flow_free(struct oidc_flow *fl)
{
	free(fl->fl_client);
	free(fl->fl_authreq_id);
	free(fl->fl_connector);
	free(fl->fl_username);
	freezero(fl->fl_code, fl->fl_code ? strlen(fl->fl_code) : 0);
	freezero(fl->fl_refresh, fl->fl_refresh ? strlen(fl->fl_refresh) : 0);
	free(fl->fl_access);
	free(fl->fl_idtoken);
	free(fl->fl_csrf);
	free(fl->fl_hmac);
	free(fl->fl_url);
	json_decref(fl->fl_params);
	json_decref(fl->fl_rotate);
	json_decref(fl->fl_authreq);
	json_decref(fl->fl_grant);
	json_decref(fl->fl_claims);
	json_decref(fl->fl_data);
	free(fl->fl_cookie);
	free(fl->fl_raw);
	free(fl);
}

/* The connection of a flow, or NULL when the client has gone. */
static struct http_conn *
oidc_conn(struct oidc_flow *fl)
{
	return (frontend_conn(fl->fl_conn));
}

/*
 * Answers.  Each ends the flow: the flow is freed once its last ask
 * has come back (asks still out find it through their callbacks).
 */

static void
oidc_done(struct oidc_flow *fl)
{
	fl->fl_conn = 0;
	if (fl->fl_asks == 0)
		oidc_flow_free(fl);
}

static void
oidc_respond(struct oidc_flow *fl, int status, const char *ctype,
    const struct http_kv *h, size_t nh, const void *body, size_t len,
    int flags)
{
	struct http_conn	*c;

	if ((c = oidc_conn(fl)) != NULL) {
		if (fl->fl_head)
			flags |= HTTP_RESP_HEAD;
		(void)http_conn_respond(c, status, ctype, h, nh, body, len,
		    flags);
	}
	oidc_done(fl);
}

/* JSON answers are for /token, /userinfo and introspection: with CORS. */
void
oidc_json(struct oidc_flow *fl, int status, const char *body,
    struct http_kv *h, size_t nh)
{
	struct http_conn	*c;
	struct http_kv		 hh[4];
	size_t			 i, n = 0;

	for (i = 0; i < nh && n < 2; i++)
		hh[n++] = h[i];
	if ((c = oidc_conn(fl)) != NULL)
		n = frontend_cors(http_conn_request(c), hh, n);
	oidc_respond(fl, status, "application/json", hh, n, body,
	    strlen(body), HTTP_RESP_NOSTORE);
}

/* {"error","error_description"} as Dex's tokenErr writes it. */
void
oidc_json_error(struct oidc_flow *fl, int status, const char *error,
    const char *desc)
{
	char	*body;

	if ((body = oauth2_error_json(error, desc)) == NULL)
		fatalx("%s: oauth2_error_json", __func__);
	oidc_json(fl, status, body, NULL, 0);
	free(body);
}

void
oidc_redirect(struct oidc_flow *fl, int status, const char *location)
{
	struct http_kv	 h[2];
	size_t		 nh = 1;

	h[0].key = "Location";
	h[0].value = location;
	/* A login's session cookie goes out with the redirect after it. */
	if (fl->fl_cookie != NULL) {
		h[nh].key = "Set-Cookie";
		h[nh++].value = fl->fl_cookie;
	}
	oidc_respond(fl, status, "text/html; charset=utf-8", h, nh, NULL, 0,
	    HTTP_RESP_NOSTORE);
}

/* A page of the theme, with the headers every page has. */
void
oidc_page(struct oidc_flow *fl, int status, const char *name, json_t *data)
{
	struct evbuffer	*out;
	struct http_kv	 h[3];
	size_t		 len, nh = 2;

	if ((out = evbuffer_new()) == NULL)
		fatal("%s: evbuffer_new", __func__);
	json_object_set_new(data, "ReqPath", json_string(oe->oe_prefix));
	if (tmpl_render(oe->oe_tmpl, name, data, &oe->oe_funcs, out) == -1) {
		log_warnx("cannot render %s", name);
		evbuffer_drain(out, evbuffer_get_length(out));
		evbuffer_add_printf(out, "Internal Server Error\n");
		status = 500;
	}
	json_decref(data);
	h[0].key = "Content-Security-Policy";
	h[0].value = oe->oe_csp;
	h[1].key = "X-Frame-Options";
	h[1].value = "DENY";
	if (fl->fl_cookie != NULL) {
		h[nh].key = "Set-Cookie";
		h[nh++].value = fl->fl_cookie;
	}
	len = evbuffer_get_length(out);
	oidc_respond(fl, status, "text/html; charset=utf-8", h, nh,
	    evbuffer_pullup(out, len), len, HTTP_RESP_NOSTORE);
	evbuffer_free(out);
}

/* Dex's error page: ErrType is the status text, ErrMsg the message. */
void
oidc_error_page(struct oidc_flow *fl, int status, const char *msg)
{
	json_t	*data;

	data = json_pack("{s:s, s:s}", "ErrType", http_status_text(status),
	    "ErrMsg", msg);
	if (data == NULL)
		fatalx("%s: json_pack", __func__);
	oidc_page(fl, status, "error.html", data);
}

/*
 * Asks: one imsg request to storage, the connector or the signer,
 * answered by one reply with the same peerid.
 */

static int
oidc_ask(struct oidc_flow *fl, enum privsep_procid to, uint32_t type,
    const void *data, size_t len, oidc_cb cb)
{
	struct oidc_ask	*ak;

	if (oe->oe_nasks >= OIDC_MAX_ASKS) {
		log_warnx("too many requests in flight");
		return (-1);
	}
	if ((ak = calloc(1, sizeof(*ak))) == NULL)
		return (-1);
	do {
		ak->ak_id = ++oe->oe_nextid;
	} while (ak->ak_id == 0 || RB_FIND(oidc_asks, &oe->oe_asks, ak));
	if (proc_compose_imsg(oe->oe_ps, to, 0, type, ak->ak_id, -1, data,
	    len) == -1) {
		log_warn("%s: compose to %s", __func__, proc_title(to));
		free(ak);
		return (-1);
	}
	ak->ak_cb = cb;
	ak->ak_flow = fl;
	ak->ak_deadline = time(NULL) + OIDC_ASK_TIMEOUT;
	RB_INSERT(oidc_asks, &oe->oe_asks, ak);
	TAILQ_INSERT_TAIL(&oe->oe_askq, ak, ak_entry);
	oe->oe_nasks++;
	fl->fl_asks++;
	return (0);
}

/* Ask with a JSON request; the object is consumed. */
int
oidc_ask_json(struct oidc_flow *fl, enum privsep_procid to, uint32_t type,
    json_t *req, oidc_cb cb)
{
	char	*s;
	size_t	 len;
	int	 rv;

	if (req == NULL)
		fatalx("%s: json_pack", __func__);
	s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (s == NULL)
		fatalx("%s: json_dumps", __func__);
	len = strlen(s);
	rv = len > STORE_JSON_MAX ? -1 :
	    oidc_ask(fl, to, type, s, len, cb);
	freezero(s, len);
	return (rv);
}

/* An ask for a page: when it cannot be sent, the page says busy. */
static void
oidc_ask_page(struct oidc_flow *fl, enum privsep_procid to, uint32_t type,
    json_t *req, oidc_cb cb)
{
	if (oidc_ask_json(fl, to, type, req, cb) == -1)
		oidc_error_page(fl, 503, "The service is busy; try again "
		    "later.");
}

/* An ask for a JSON endpoint: when it cannot be sent, 503. */
static void
oidc_ask_api(struct oidc_flow *fl, enum privsep_procid to, uint32_t type,
    json_t *req, oidc_cb cb)
{
	if (oidc_ask_json(fl, to, type, req, cb) == -1)
		oidc_json_error(fl, 503, "server_error", "The service is "
		    "busy; try again later.");
}

/* Run the callback of an ask; NULL reply and data mean it failed. */
static void
oidc_ask_finish(struct oidc_ask *ak, uint32_t type, json_t *reply,
    const char *data, size_t len)
{
	struct oidc_flow	*fl = ak->ak_flow;

	RB_REMOVE(oidc_asks, &oe->oe_asks, ak);
	TAILQ_REMOVE(&oe->oe_askq, ak, ak_entry);
	oe->oe_nasks--;
	fl->fl_asks--;
	if (fl->fl_conn == 0) {
		/* Answered already (or the client left): nothing to do. */
		if (fl->fl_asks == 0)
			oidc_flow_free(fl);
	} else
		ak->ak_cb(fl, type, reply, data, len);
	free(ak);
}

static void
oidc_tick(int fd, short event, void *arg)
{
	struct oidc_ask	*ak;
	struct timeval	 tv;
	time_t		 now = time(NULL);

	while ((ak = TAILQ_FIRST(&oe->oe_askq)) != NULL &&
	    ak->ak_deadline <= now) {
		log_warnx("request %u timed out", ak->ak_id);
		oidc_ask_finish(ak, 0, NULL, NULL, 0);
	}
	timerclear(&tv);
	tv.tv_sec = 1;
	evtimer_add(oe->oe_timer, &tv);
}

/*
 * The connector says which upstreams are ready; /healthz/ready repeats
 * it (Dex refuses to start when an upstream is down; oidcd starts, and
 * says so here until the upstream answers).
 */
static void
oidc_conn_status(struct imsg *imsg)
{
	json_t		*st, *v;
	const char	*id;
	char		*text = NULL, *t;

	if (imsg_get_len(imsg) == 0 || imsg_get_len(imsg) > STORE_JSON_MAX ||
	    (st = jose_json_object(imsg->data, imsg_get_len(imsg))) == NULL)
		fatalx("%s: bad IMSG_CONN_STATUS", __func__);
	json_object_foreach(st, id, v) {
		if (!json_is_string(v))
			fatalx("%s: bad IMSG_CONN_STATUS", __func__);
		if (json_string_length(v) == 0)
			continue;
		if (asprintf(&t, "%snot ready: connector %s: %s\n",
		    text ? text : "", id, json_string_value(v)) == -1)
			fatal("%s: asprintf", __func__);
		free(text);
		text = t;
	}
	json_decref(st);
	free(oe->oe_not_ready);
	oe->oe_not_ready = text;
	oe->oe_have_status = 1;
}

/* NULL when every upstream connector is ready, else why not. */
const char *
oidc_not_ready(void)
{
	size_t	i;

	if (oe == NULL || oe->oe_conf == NULL)
		return (NULL);
	if (!oe->oe_have_status)
		for (i = 0; i < oe->oe_conf->nconnectors; i++)
			if (strcmp(oe->oe_conf->connectors[i].type,
			    "local") != 0)
				return ("not ready: connectors starting\n");
	return (oe->oe_not_ready);
}

/* A reply from storage, the connector or the signer. */
int
oidc_dispatch(struct privsep_proc *p, struct imsg *imsg)
{
	struct oidc_ask	 key, *ak;
	json_t		*reply = NULL;
	uint32_t	 type = imsg_get_type(imsg), len;
	const char	*data = NULL;
	size_t		 dlen = 0;

	switch (type) {
	case IMSG_STORE_RESULT:
	case IMSG_CONN_RESULT:
		if (imsg_get_len(imsg) == 0 ||
		    imsg_get_len(imsg) > STORE_JSON_MAX ||
		    (reply = jose_json_object(imsg->data,
		    imsg_get_len(imsg))) == NULL ||
		    !json_is_boolean(json_object_get(reply, "ok")))
			fatalx("%s: bad reply from %s", __func__, p->p_title);
		break;
	case IMSG_SIGN_RESULT:
		if (imsg_get_len(imsg) < sizeof(len))
			fatalx("%s: short IMSG_SIGN_RESULT", __func__);
		memcpy(&len, imsg->data, sizeof(len));
		if (len == 0 || len != imsg_get_len(imsg) - sizeof(len))
			fatalx("%s: bad IMSG_SIGN_RESULT", __func__);
		data = (const char *)imsg->data + sizeof(len);
		dlen = len;
		break;
	case IMSG_SIGN_FAIL:
		break;
	case IMSG_CONN_STATUS:
		oidc_conn_status(imsg);
		return (0);
	default:
		return (-1);
	}
	key.ak_id = imsg_get_id(imsg);
	if ((ak = RB_FIND(oidc_asks, &oe->oe_asks, &key)) == NULL) {
		/* Timed out meanwhile. */
		json_decref(reply);
		return (0);
	}
	oidc_ask_finish(ak, type, reply, data, dlen);
	json_decref(reply);
	return (0);
}

/*
 * Helpers
 */

int
oidc_b64url_ok(const char *s, size_t len)
{
	size_t	 i;

	if (s == NULL || strlen(s) != len)
		return (0);
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		    s[i] == '_'))
			return (0);
	return (1);
}

static char *
oidc_random(size_t n)
{
	uint8_t	 buf[64];
	char	*s;

	if (n > sizeof(buf))
		fatalx("%s: too long", __func__);
	arc4random_buf(buf, n);
	if ((s = jose_b64url_encode(buf, n)) == NULL)
		fatal("%s: encode", __func__);
	explicit_bzero(buf, sizeof(buf));
	return (s);
}

/*
 * HMAC-SHA256 under the authreq's key: label "approval" for the
 * approval URL's hmac (Dex's shape), "csrf" for form tokens.
 */
static char *
oidc_mac(const json_t *authreq, const char *label)
{
	const char	*id, *key64;
	uint8_t		*key = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	size_t		 keylen = 0;
	char		 msg[128];
	char		*s;

	id = json_string_value(json_object_get(authreq, "id"));
	key64 = json_string_value(json_object_get(authreq, "hmacKey"));
	if (id == NULL || key64 == NULL ||
	    jose_b64url_decode(key64, strlen(key64), &key, &keylen) == -1)
		return (NULL);
	(void)snprintf(msg, sizeof(msg), "%s:%s", label, id);
	if (HMAC(EVP_sha256(), key, keylen, (uint8_t *)msg, strlen(msg), md,
	    &mdlen) == NULL) {
		freezero(key, keylen);
		return (NULL);
	}
	freezero(key, keylen);
	s = jose_b64url_encode(md, mdlen);
	explicit_bzero(md, sizeof(md));
	return (s);
}

static int
oidc_mac_check(const json_t *authreq, const char *label, const char *given)
{
	char	*want;
	int	 ok;

	if (given == NULL || (want = oidc_mac(authreq, label)) == NULL)
		return (0);
	ok = strlen(given) == strlen(want) &&
	    timingsafe_bcmp(given, want, strlen(want)) == 0;
	free(want);
	return (ok);
}

/* The reply says ok; else the flow has been answered with an error. */
static int
oidc_reply_ok(struct oidc_flow *fl, json_t *reply, int json)
{
	const char	*err, *desc;

	if (reply == NULL) {
		if (json)
			oidc_json_error(fl, 503, "server_error",
			    "The service is busy; try again later.");
		else
			oidc_error_page(fl, 503, "The service is busy; try "
			    "again later.");
		return (0);
	}
	if (json_is_true(json_object_get(reply, "ok")))
		return (1);
	err = json_string_value(json_object_get(reply, "error"));
	desc = json_string_value(json_object_get(reply, "error_description"));
	if (err == NULL)
		err = "server_error";
	if (json)
		oidc_json_error(fl, strcmp(err, "server_error") == 0 ? 500 :
		    strcmp(err, "access_denied") == 0 ? 401 : 400, err, desc);
	else
		oidc_error_page(fl, strcmp(err, "server_error") == 0 ? 500 :
		    400, desc ? desc : err);
	return (0);
}

static const char *
jstr(const json_t *o, const char *k)
{
	return (json_string_value(json_object_get(o, k)));
}

static int
oidc_params(struct http_params *pp, const char *s, size_t len)
{
	http_params_init(pp);
	if (s == NULL)
		return (0);
	return (http_params_parse(pp, s, len) == HTTP_PARAMS_OK ? 0 : -1);
}

/*
 * /auth: the connector chooser, or straight on to the one connector
 * (Dex's handleAuthorization, but the request is checked first, so
 * that a bad one gets its error before the user logs in).
 */
static void
oidc_auth(struct http_conn *c, struct http_request *req)
{
	struct oauth2_authreq_result	 r;
	struct http_params		 pp;
	struct oidc_flow		*fl;
	const struct oauth2_connector	*cn = NULL;
	const char			*raw, *cid;
	char				*url;
	size_t				 rawlen;

	raw = req->method == HTTP_METHOD_POST ? req->body : req->query;
	rawlen = req->method == HTTP_METHOD_POST ? req->bodylen :
	    req->querylen;
	if ((fl = oidc_flow_new(c, req)) == NULL) {
		http_conn_respond_error(c, 503);
		return;
	}
	if (oidc_params(&pp, raw, rawlen) == -1) {
		oidc_error_page(fl, 400, "Invalid request: malformed or "
		    "repeated parameters.");
		http_params_free(&pp);
		return;
	}
	memset(&r, 0, sizeof(r));
	/* Dex's chooser: an unknown connector_id is a page, not a redirect. */
	cid = http_param(&pp, "connector_id");
	if (cid != NULL && *cid != '\0' &&
	    oauth2_connector_find(oe->oe_conf, cid) == NULL) {
		oidc_error_page(fl, 400, "Connector ID does not match a valid "
		    "Connector");
		goto done;
	}
	oauth2_authreq_parse(oe->oe_conf, &pp, NULL, &r);
	switch (r.outcome) {
	case OAUTH2_AUTHREQ_DISPLAY:
		oidc_error_page(fl, r.status, r.description);
		goto done;
	case OAUTH2_AUTHREQ_REDIRECT:
		oidc_redirect(fl, 303, r.redirect);
		goto done;
	default:
		break;
	}
	cid = jstr(r.authreq, "connectorId");
	if (cid != NULL && *cid != '\0')
		cn = oauth2_connector_find(oe->oe_conf, cid);
	else if (oe->oe_conf->nconnectors == 1 &&
	    !oe->oe_conf->always_show_login)
		cn = &oe->oe_conf->connectors[0];
	if (cn != NULL) {
		if (asprintf(&url, "%sauth/%s?%.*s", oe->oe_prefix, cn->id,
		    (int)rawlen, raw ? raw : "") == -1)
			fatal("%s: asprintf", __func__);
		oidc_redirect(fl, 302, url);
		free(url);
		goto done;
	}
	if ((fl->fl_raw = strndup(raw ? raw : "", rawlen)) == NULL)
		fatal("%s: strndup", __func__);
	fl->fl_authreq = json_incref(r.authreq);
	if (!oidc_session_chooser(fl, req, &pp))
		oidc_auth_chooser(fl);
 done:
	oauth2_authreq_result_free(&r);
	http_params_free(&pp);
}

/* The connector chooser, each link with the request's query. */
static void
oidc_auth_chooser(struct oidc_flow *fl)
{
	const struct oauth2_connector	*cn;
	const char			*raw = fl->fl_raw;
	json_t				*conns, *data;
	char				*url;
	size_t				 i, rawlen = strlen(fl->fl_raw);

	if ((conns = json_array()) == NULL)
		fatal("%s: json_array", __func__);
	for (i = 0; i < oe->oe_conf->nconnectors; i++) {
		cn = &oe->oe_conf->connectors[i];
		if (asprintf(&url, "%sauth/%s?%.*s", oe->oe_prefix, cn->id,
		    (int)rawlen, raw ? raw : "") == -1)
			fatal("%s: asprintf", __func__);
		json_array_append_new(conns, json_pack("{s:s, s:s, s:s, s:s}",
		    "ID", cn->id, "Name", cn->name, "URL", url,
		    "Type", cn->type));
		free(url);
	}
	/* Sorted by display name, as Dex does. */
	for (i = 1; i < json_array_size(conns); i++) {
		size_t j;

		for (j = i; j > 0 && strcmp(jstr(json_array_get(conns, j - 1),
		    "Name"), jstr(json_array_get(conns, j), "Name")) > 0;
		    j--) {
			json_t *t = json_incref(json_array_get(conns, j));

			json_array_set(conns, j, json_array_get(conns, j - 1));
			json_array_set_new(conns, j - 1, t);
		}
	}
	data = json_pack("{s:o}", "Connectors", conns);
	oidc_page(fl, 200, "login.html", data);
}

static int
oidc_is_password_connector(const char *id)
{
	const struct oauth2_connector	*cn;

	cn = oauth2_connector_find(oe->oe_conf, id);
	return (cn != NULL && strcmp(cn->type, "local") == 0);
}

static void
oidc_auth_put_done(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	char	*url;

	if (!oidc_reply_ok(fl, reply, 0))
		return;
	if (asprintf(&url, "%sauth/%s/login?state=%s", oe->oe_prefix,
	    fl->fl_connector, fl->fl_authreq_id) == -1)
		fatal("%s: asprintf", __func__);
	oidc_redirect(fl, 302, url);
	free(url);
}

/* /auth/{connector}: check the request, store it, go to the login. */
static void
oidc_auth_connector(struct http_conn *c, struct http_request *req,
    const char *connector)
{
	struct oauth2_authreq_result	 r;
	struct http_params		 pp;
	struct oidc_flow		*fl;
	char				*id, *key;

	if ((fl = oidc_flow_new(c, req)) == NULL) {
		http_conn_respond_error(c, 503);
		return;
	}
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD) {
		oidc_error_page(fl, 405, "Method not allowed.");
		return;
	}
	if (oidc_params(&pp, req->query, req->querylen) == -1) {
		oidc_error_page(fl, 400, "Invalid request: malformed or "
		    "repeated parameters.");
		http_params_free(&pp);
		return;
	}
	memset(&r, 0, sizeof(r));
	oauth2_authreq_parse(oe->oe_conf, &pp, connector, &r);
	if (r.outcome == OAUTH2_AUTHREQ_DISPLAY) {
		oidc_error_page(fl, r.status, r.description);
		goto done;
	}
	if (r.outcome == OAUTH2_AUTHREQ_REDIRECT) {
		oidc_redirect(fl, 303, r.redirect);
		goto done;
	}
	id = oidc_random(OIDC_ID_BYTES);
	key = oidc_random(OIDC_HMACKEY_BYTES);
	json_object_set_new(r.authreq, "id", json_string(id));
	json_object_set_new(r.authreq, "hmacKey", json_string(key));
	json_object_set_new(r.authreq, "connectorId", json_string(connector));
	json_object_set_new(r.authreq, "expiry", json_integer(time(NULL) +
	    oe->oe_conf->authreq_ttl));
	freezero(key, strlen(key));
	fl->fl_authreq_id = id;
	fl->fl_connector = xstrdup(connector);
	fl->fl_authreq = json_incref(r.authreq);
	if (!oidc_session_try(fl, req, &pp))
		oidc_auth_start(fl);
 done:
	http_params_free(&pp);
	oauth2_authreq_result_free(&r);
}

/* A new login: to the password page, or upstream. */
static void
oidc_auth_start(struct oidc_flow *fl)
{
	if (!oidc_is_password_connector(fl->fl_connector)) {
		/* The connector makes the upstream URL and its state. */
		oidc_ask_page(fl, PROC_CONNECTOR, IMSG_CONN_LOGIN,
		    json_pack("{s:s, s:s, s:b}", "connectorId",
		    fl->fl_connector, "state", fl->fl_authreq_id,
		    "offlineAccess", oidc_scope_has(json_object_get(
		    fl->fl_authreq, "scopes"), "offline_access")),
		    oidc_upstream_url);
		return;
	}
	oidc_ask_page(fl, PROC_STORAGE, IMSG_STORE_AUTHREQ_PUT,
	    json_pack("{s:O}", "authreq", fl->fl_authreq),
	    oidc_auth_put_done);
}

/*
 * Upstream failures go back to the client as an OAuth error, never a
 * dead end: by now the client and its redirect_uri are known good.
 */
static void
oidc_upstream_error(struct oidc_flow *fl, json_t *reply)
{
	const char	*err, *desc;

	if (reply == NULL) {
		log_warnx("connector %s: no answer in time (client %s)",
		    fl->fl_connector, jstr(fl->fl_authreq, "clientId"));
		oidc_client_error(fl, "server_error", "The identity "
		    "provider did not answer in time.");
		return;
	}
	err = jstr(reply, "error");
	desc = jstr(reply, "error_description");
	if (err == NULL || strcmp(err, "access_denied") != 0)
		err = "server_error";
	log_info("login through connector %s failed: %s: %s (client %s)",
	    fl->fl_connector, err, desc ? desc : "-",
	    jstr(fl->fl_authreq, "clientId"));
	oidc_client_error(fl, err, desc ? desc : "Login failed.");
}

static void
oidc_upstream_put_done(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	if (!oidc_reply_ok(fl, reply, 0))
		return;
	oidc_redirect(fl, 302, fl->fl_url);
}

/* The connector's upstream URL: store the authreq with its state, go. */
static void
oidc_upstream_url(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	const char	*url, *cd;

	if (reply == NULL || !json_is_true(json_object_get(reply, "ok"))) {
		oidc_upstream_error(fl, reply);
		return;
	}
	url = jstr(reply, "url");
	cd = jstr(reply, "connectorData");
	if (url == NULL || cd == NULL) {
		oidc_upstream_error(fl, NULL);
		return;
	}
	fl->fl_url = xstrdup(url);
	json_object_set_new(fl->fl_authreq, "connectorData", json_string(cd));
	oidc_ask_page(fl, PROC_STORAGE, IMSG_STORE_AUTHREQ_PUT,
	    json_pack("{s:O}", "authreq", fl->fl_authreq),
	    oidc_upstream_put_done);
}

/* The user is known: the authreq is logged in, then oidc_login_done(). */
static void
oidc_store_login(struct oidc_flow *fl, json_t *identity)
{
	struct http_conn	*c;
	json_t			*ask;
	char			*hash = NULL, *old = NULL;
	int			 rv;

	if (oe->oe_sess_on && (c = oidc_conn(fl)) != NULL) {
		old = oidc_session_hash(http_conn_request(c));
		oidc_session_cookie(fl, &hash);
	}
	if (hash != NULL) {
		/* The login starts a browser session, instead of its old. */
		if ((ask = json_pack("{s:s, s:O, s:s}", "id",
		    fl->fl_authreq_id, "identity", identity, "session",
		    hash)) == NULL)
			fatalx("%s: json_pack", __func__);
		if (old != NULL)
			json_object_set_new(ask, "replaces", json_string(old));
		rv = oidc_ask_json(fl, PROC_STORAGE, IMSG_STORE_SESSION_CREATE,
		    ask, oidc_session_created);
		free(hash);
		free(old);
	} else
		rv = oidc_ask_json(fl, PROC_STORAGE, IMSG_STORE_AUTHREQ_LOGIN,
		    json_pack("{s:s, s:O}", "id", fl->fl_authreq_id,
		    "identity", identity), oidc_login_done);
	if (rv == -1)
		oidc_error_page(fl, 503, "The service is busy; try again "
		    "later.");
}

static void
oidc_callback_done(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	json_t		*identity;
	const char	*who;

	if (reply == NULL || !json_is_true(json_object_get(reply, "ok"))) {
		oidc_upstream_error(fl, reply);
		return;
	}
	identity = json_object_get(reply, "identity");
	who = jstr(identity, "email");
	if (who == NULL || *who == '\0')
		who = jstr(identity, "username");
	fl->fl_username = xstrdup(who);
	oidc_store_login(fl, identity);
}

/* The authreq named by the upstream's state is back: on to the connector. */
static void
oidc_callback_authreq(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	const char	*conn, *cd;
	json_t		*ask;

	if (!oidc_reply_ok(fl, reply, 0))
		return;
	fl->fl_authreq = json_incref(json_object_get(reply, "authreq"));
	conn = jstr(fl->fl_authreq, "connectorId");
	cd = jstr(fl->fl_authreq, "connectorData");
	if (conn == NULL || cd == NULL || oidc_is_password_connector(conn) ||
	    oauth2_connector_find(oe->oe_conf, conn) == NULL) {
		oidc_error_page(fl, 400, "Requested resource does not exist.");
		return;
	}
	fl->fl_connector = xstrdup(conn);
	if (json_is_true(json_object_get(fl->fl_authreq, "loggedIn"))) {
		/* The browser came back twice: the login stands. */
		oidc_finalize(fl);
		return;
	}
	ask = json_pack("{s:s, s:s, s:O, s:O}", "connectorId", conn,
	    "connectorData", cd, "scopes", json_object_get(fl->fl_authreq,
	    "scopes"), "params", fl->fl_params);
	oidc_ask_page(fl, PROC_CONNECTOR, IMSG_CONN_CALLBACK, ask,
	    oidc_callback_done);
}

/* /callback?state=<authreq id>&code=... from the upstream (Dex's). */
static void
oidc_callback(struct http_conn *c, struct http_request *req)
{
	struct http_params	 pp;
	struct oidc_flow	*fl;
	const char		*state, *v, *raw;
	const char		*names[] = { "code", "error",
				    "error_description" };
	size_t			 i, rawlen;

	if ((fl = oidc_flow_new(c, req)) == NULL) {
		http_conn_respond_error(c, 503);
		return;
	}
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_POST) {
		oidc_error_page(fl, 405, "Method not allowed.");
		return;
	}
	/* response_mode=form_post answers with a POST. */
	raw = fl->fl_post ? req->body : req->query;
	rawlen = fl->fl_post ? req->bodylen : req->querylen;
	if (oidc_params(&pp, raw, rawlen) == -1 ||
	    (state = http_param(&pp, "state")) == NULL ||
	    !oidc_b64url_ok(state, 22)) {
		http_params_free(&pp);
		oidc_error_page(fl, 400, "User session error.");
		return;
	}
	fl->fl_authreq_id = xstrdup(state);
	if ((fl->fl_params = json_object()) == NULL)
		fatal("%s: json_object", __func__);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((v = http_param(&pp, names[i])) != NULL &&
		    strlen(v) <= OIDC_UPSTREAM_PARAM_MAX)
			json_object_set_new(fl->fl_params, names[i],
			    json_string(v));
	http_params_free(&pp);
	oidc_ask_page(fl, PROC_STORAGE, IMSG_STORE_AUTHREQ_GET,
	    json_pack("{s:s}", "id", fl->fl_authreq_id),
	    oidc_callback_authreq);
}

/* The password form, fresh or after a failed attempt. */
static void
oidc_password_page(struct oidc_flow *fl, int status, int invalid)
{
	json_t	*data;
	char	*post, *csrf;

	if (asprintf(&post, "%sauth/%s/login?state=%s", oe->oe_prefix,
	    fl->fl_connector, fl->fl_authreq_id) == -1)
		fatal("%s: asprintf", __func__);
	if ((csrf = oidc_mac(fl->fl_authreq, "csrf")) == NULL) {
		free(post);
		oidc_error_page(fl, 500, "Login error.");
		return;
	}
	data = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}",
	    "PostURL", post,
	    "BackLink", oe->oe_conf->nconnectors > 1 ? "" : "",
	    "Username", fl->fl_username ? fl->fl_username : "",
	    "UsernamePrompt", "Email Address",
	    "Invalid", invalid,
	    "CSRF", csrf);
	free(post);
	free(csrf);
	oidc_page(fl, status, "password.html", data);
}

/* Once the user is known: the approval page or straight to the code. */
static void
oidc_finalize(struct oidc_flow *fl)
{
	char	*mac, *url;

	if (oe->oe_conf->skip_approval &&
	    !json_is_true(json_object_get(fl->fl_authreq, "forceApproval"))) {
		oidc_issue_code(fl);
		return;
	}
	/* prompt=none never shows a page (OpenID Connect Core 3.1.2.6). */
	if (fl->fl_prompt & SESSION_PROMPT_NONE) {
		oidc_client_error(fl, "consent_required", "The user must "
		    "approve this client first.");
		return;
	}
	if ((mac = oidc_mac(fl->fl_authreq, "approval")) == NULL) {
		oidc_error_page(fl, 500, "Login error.");
		return;
	}
	if (asprintf(&url, "%sapproval?req=%s&hmac=%s", oe->oe_prefix,
	    fl->fl_authreq_id, mac) == -1)
		fatal("%s: asprintf", __func__);
	oidc_redirect(fl, 303, url);
	free(url);
	free(mac);
}

static void
oidc_login_done(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	if (!oidc_reply_ok(fl, reply, 0))
		return;
	json_decref(fl->fl_authreq);
	fl->fl_authreq = json_incref(json_object_get(reply, "authreq"));
	log_info("login successful: connector %s, user %s, client %s",
	    fl->fl_connector, fl->fl_username ? fl->fl_username : "-",
	    jstr(fl->fl_authreq, "clientId"));
	oidc_finalize(fl);
}

static void
oidc_password_done(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	json_t		*identity;
	const char	*err, *uid;

	if (reply == NULL) {
		oidc_error_page(fl, 503, "The login service is busy; try "
		    "again later.");
		return;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		err = jstr(reply, "error");
		if (err != NULL && strcmp(err, "access_denied") == 0)
			oidc_password_page(fl, 401, 1);
		else
			oidc_error_page(fl, 500, "Login error.");
		return;
	}
	identity = json_object_get(reply, "identity");
	uid = jstr(identity, "userId");
	if (uid == NULL || *uid == '\0') {
		log_warnx("user %s has no userID: cannot log in",
		    fl->fl_username);
		oidc_error_page(fl, 500, "Login error.");
		return;
	}
	oidc_store_login(fl, identity);
}

/* The authreq is back for the password page (GET) or its POST. */
static void
oidc_login_authreq(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	struct http_conn	*c;
	struct http_request	*req;
	struct http_params	 pp;
	const char		*login, *password, *conn;
	json_t			*ask;

	if (!oidc_reply_ok(fl, reply, 0))
		return;
	fl->fl_authreq = json_incref(json_object_get(reply, "authreq"));
	conn = jstr(fl->fl_authreq, "connectorId");
	if (conn == NULL || strcmp(conn, fl->fl_connector) != 0) {
		oidc_error_page(fl, 400, "Requested resource does not exist.");
		return;
	}
	if (json_is_true(json_object_get(fl->fl_authreq, "loggedIn"))) {
		oidc_finalize(fl);
		return;
	}
	if (!fl->fl_post) {
		oidc_password_page(fl, 200, 0);
		return;
	}
	if ((c = oidc_conn(fl)) == NULL) {
		oidc_done(fl);
		return;
	}
	req = http_conn_request(c);
	if (oidc_params(&pp, req->body, req->bodylen) == -1) {
		http_params_free(&pp);
		oidc_error_page(fl, 400, "Invalid request.");
		return;
	}
	if (!oidc_mac_check(fl->fl_authreq, "csrf", http_param(&pp, "csrf"))) {
		http_params_free(&pp);
		log_warnx("login form without a valid CSRF token from %s",
		    http_conn_peer_str(c));
		oidc_error_page(fl, 403, "The form has expired or was not "
		    "sent by this site; go back and try again.");
		return;
	}
	login = http_param(&pp, "login");
	password = http_param(&pp, "password");
	if (login == NULL || password == NULL || *login == '\0' ||
	    strlen(login) > OAUTH2_USERNAME_MAX ||
	    strlen(password) > OAUTH2_PASSWORD_MAX) {
		http_params_free(&pp);
		oidc_password_page(fl, 401, 1);
		return;
	}
	fl->fl_username = xstrdup(login);
	ask = json_pack("{s:s, s:s, s:s, s:s}", "connectorId",
	    fl->fl_connector, "username", login, "password", password,
	    "remoteAddr", http_conn_peer_str(c));
	http_params_free(&pp);
	oidc_ask_page(fl, PROC_CONNECTOR, IMSG_CONN_PASSWORD, ask,
	    oidc_password_done);
}

/* /auth/{connector}/login?state=<authreq id> */
static void
oidc_login(struct http_conn *c, struct http_request *req,
    const char *connector)
{
	struct http_params	 pp;
	struct oidc_flow	*fl;
	const char		*state;

	if ((fl = oidc_flow_new(c, req)) == NULL) {
		http_conn_respond_error(c, 503);
		return;
	}
	if (req->method != HTTP_METHOD_GET &&
	    req->method != HTTP_METHOD_HEAD &&
	    req->method != HTTP_METHOD_POST) {
		oidc_error_page(fl, 405, "Method not allowed.");
		return;
	}
	if (oidc_params(&pp, req->query, req->querylen) == -1 ||
	    (state = http_param(&pp, "state")) == NULL ||
	    !oidc_b64url_ok(state, 22) ||
	    !oidc_is_password_connector(connector)) {
		http_params_free(&pp);
		oidc_error_page(fl, 400, "Requested resource does not exist.");
		return;
	}
	fl->fl_authreq_id = xstrdup(state);
	fl->fl_connector = xstrdup(connector);
	http_params_free(&pp);
	oidc_ask_page(fl, PROC_STORAGE, IMSG_STORE_AUTHREQ_GET,
	    json_pack("{s:s}", "id", fl->fl_authreq_id),
	    oidc_login_authreq);
}

/* The client's redirect with an error, in the query or the fragment. */
static void
oidc_client_error(struct oidc_flow *fl, const char *error, const char *desc)
{
	struct http_kv	 kv[3];
	char		*url;
	size_t		 n = 0;

	kv[n].key = "error";
	kv[n++].value = error;
	kv[n].key = "error_description";
	kv[n++].value = desc;
	kv[n].key = "state";
	kv[n++].value = jstr(fl->fl_authreq, "state") ?
	    jstr(fl->fl_authreq, "state") : "";
	if (strcmp(jstr(fl->fl_authreq, "redirectUri"),
	    OAUTH2_REDIRECT_OOB) == 0 ||
	    (url = oauth2_redirect(jstr(fl->fl_authreq, "redirectUri"),
	    oauth2_authreq_fragment(fl->fl_authreq), kv, n)) == NULL) {
		oidc_error_page(fl, 403, desc);
		return;
	}
	oidc_redirect(fl, 303, url);
	free(url);
}

static void
oidc_approval_authreq(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	const struct oauth2_client	*cl;
	json_t				*data, *identity;
	char				*csrf;

	if (!oidc_reply_ok(fl, reply, 0))
		return;
	fl->fl_authreq = json_incref(json_object_get(reply, "authreq"));
	if (!oidc_mac_check(fl->fl_authreq, "approval", fl->fl_hmac) ||
	    !json_is_true(json_object_get(fl->fl_authreq, "loggedIn"))) {
		oidc_error_page(fl, 401, "Unauthorized request.");
		return;
	}
	if (fl->fl_post) {
		if (!oidc_mac_check(fl->fl_authreq, "csrf", fl->fl_csrf)) {
			oidc_error_page(fl, 403, "The form has expired or was "
			    "not sent by this site; go back and try again.");
			return;
		}
		if (fl->fl_approve)
			oidc_issue_code(fl);
		else
			/* Dex shows a dead end; the client hears why. */
			oidc_client_error(fl, "access_denied",
			    "The user did not grant access.");
		return;
	}
	cl = oauth2_client_find(oe->oe_conf, jstr(fl->fl_authreq, "clientId"));
	identity = json_object_get(fl->fl_authreq, "identity");
	if ((csrf = oidc_mac(fl->fl_authreq, "csrf")) == NULL) {
		oidc_error_page(fl, 500, "Login error.");
		return;
	}
	data = json_pack("{s:s, s:s, s:s, s:o, s:s}",
	    "User", jstr(identity, "username") ? jstr(identity, "username") :
	    "", "Client", cl != NULL && cl->name != NULL ? cl->name : "",
	    "AuthReqID", fl->fl_authreq_id,
	    "Scopes", oauth2_scope_descriptions(json_object_get(
	    fl->fl_authreq, "scopes")),
	    "CSRF", csrf);
	free(csrf);
	oidc_page(fl, 200, "approval.html", data);
}

/* /approval?req=<id>&hmac=<mac>; POST: approval, csrf (and req). */
static void
oidc_approval(struct http_conn *c, struct http_request *req)
{
	struct http_params	 pp, form;
	struct oidc_flow	*fl;
	const char		*id, *hmac, *v;

	if ((fl = oidc_flow_new(c, req)) == NULL) {
		http_conn_respond_error(c, 503);
		return;
	}
	http_params_init(&form);
	if (oidc_params(&pp, req->query, req->querylen) == -1 ||
	    (id = http_param(&pp, "req")) == NULL ||
	    (hmac = http_param(&pp, "hmac")) == NULL ||
	    !oidc_b64url_ok(id, 22) || strlen(hmac) > 64) {
		oidc_error_page(fl, 400, "Unauthorized request.");
		goto done;
	}
	if (req->method == HTTP_METHOD_POST) {
		if (oidc_params(&form, req->body, req->bodylen) == -1) {
			oidc_error_page(fl, 400, "Invalid request.");
			goto done;
		}
		/*
		 * Dex reads req from the form, which wins over the URL, and
		 * checks it against the URL's hmac: a different one fails.
		 */
		if ((v = http_param(&form, "req")) != NULL &&
		    strcmp(v, id) != 0) {
			oidc_error_page(fl, 401, "Unauthorized request.");
			goto done;
		}
		v = http_param(&form, "approval");
		fl->fl_approve = v != NULL && strcmp(v, "approve") == 0;
		fl->fl_csrf = xstrdup(http_param(&form, "csrf"));
	} else if (req->method != HTTP_METHOD_GET &&
	    req->method != HTTP_METHOD_HEAD) {
		oidc_error_page(fl, 405, "Method not allowed.");
		goto done;
	}
	fl->fl_authreq_id = xstrdup(id);
	fl->fl_hmac = xstrdup(hmac);
	oidc_ask_page(fl, PROC_STORAGE, IMSG_STORE_AUTHREQ_GET,
	    json_pack("{s:s}", "id", id), oidc_approval_authreq);
 done:
	http_params_free(&pp);
	http_params_free(&form);
}

/* The grant that an authreq stands for, for tokens at /auth. */
static json_t *
oidc_authreq_grant(const json_t *ar)
{
	json_t	*g;

	g = json_pack("{s:O, s:O, s:s, s:O, s:O, s:O}",
	    "clientId", json_object_get(ar, "clientId"),
	    "scopes", json_object_get(ar, "scopes"),
	    "nonce", jstr(ar, "nonce") ? jstr(ar, "nonce") : "",
	    "identity", json_object_get(ar, "identity"),
	    "connectorId", json_object_get(ar, "connectorId"),
	    "authTime", json_object_get(ar, "authTime") ?
	    json_object_get(ar, "authTime") : json_integer(0));
	if (g == NULL)
		fatalx("%s: json_pack", __func__);
	return (g);
}

static int
oidc_has_rt(const json_t *ar, const char *type)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(json_object_get(ar, "responseTypes"), i, v)
		if (strcmp(json_string_value(v), type) == 0)
			return (1);
	return (0);
}

/* The code redirect, with tokens in the fragment when asked for. */
static void
oidc_code_response(struct oidc_flow *fl)
{
	const char	*uri = jstr(fl->fl_authreq, "redirectUri");
	json_t		*data;
	char		*url;
	int		 frag, code;

	code = oidc_has_rt(fl->fl_authreq, "code");
	if (strcmp(uri, OAUTH2_REDIRECT_OOB) == 0) {
		data = json_pack("{s:s}", "Code", fl->fl_code);
		oidc_page(fl, 200, "oob.html", data);
		return;
	}
	frag = oauth2_authreq_fragment(fl->fl_authreq);
	url = oauth2_code_redirect(uri, frag, code ? fl->fl_code : NULL,
	    jstr(fl->fl_authreq, "state"), fl->fl_access, fl->fl_idtoken,
	    fl->fl_access != NULL ? oe->oe_conf->id_token_ttl : 0);
	if (url == NULL) {
		oidc_error_page(fl, 500, "Internal server error.");
		return;
	}
	oidc_redirect(fl, 303, url);
	free(url);
}

static void
oidc_code_issued(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	const char	*code;
	int		 token, idtoken;

	if (!oidc_reply_ok(fl, reply, 0))
		return;
	code = jstr(reply, "code");
	if (code == NULL || !oidc_b64url_ok(code, OIDC_CODE_LEN))
		fatalx("%s: bad code from storage", __func__);
	fl->fl_code = xstrdup(code);
	json_decref(fl->fl_authreq);
	fl->fl_authreq = json_incref(json_object_get(reply, "authreq"));
	token = oidc_has_rt(fl->fl_authreq, "token");
	idtoken = oidc_has_rt(fl->fl_authreq, "id_token");
	if (!token && !idtoken) {
		oidc_code_response(fl);
		return;
	}
	/* Implicit and hybrid: tokens now, in the fragment. */
	fl->fl_grant = oidc_authreq_grant(fl->fl_authreq);
	fl->fl_client = xstrdup(jstr(fl->fl_authreq, "clientId"));
	oidc_sign_tokens(fl, token, idtoken);
}

static void
oidc_issue_code(struct oidc_flow *fl)
{
	oidc_ask_page(fl, PROC_STORAGE, IMSG_STORE_CODE_ISSUE,
	    json_pack("{s:s}", "id", fl->fl_authreq_id),
	    oidc_code_issued);
}

/*
 * Tokens: the access token first (the ID token carries its at_hash),
 * then the ID token; each signed by the signer, which checks them.
 */

static int
oidc_sign(struct oidc_flow *fl, uint32_t kind, json_t *claims, oidc_cb cb)
{
	struct sign_req	 sr;
	char		*s, *buf;
	size_t		 len;
	int		 rv;

	if (claims == NULL)
		return (-1);
	s = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(claims);
	if (s == NULL)
		return (-1);
	len = strlen(s);
	if (len > SIGN_PAYLOAD_MAX) {
		free(s);
		return (-1);
	}
	sr.sr_type = kind;
	sr.sr_len = len;
	if ((buf = malloc(sizeof(sr) + len)) == NULL)
		fatal("%s: malloc", __func__);
	memcpy(buf, &sr, sizeof(sr));
	memcpy(buf + sizeof(sr), s, len);
	rv = oidc_ask(fl, PROC_SIGNER, IMSG_SIGN_JWT, buf, sizeof(sr) + len,
	    cb);
	free(buf);
	free(s);
	return (rv);
}

static void
oidc_tokens_done(struct oidc_flow *fl)
{
	char		*body;

	if (fl->fl_authreq != NULL) {
		/* At /auth: implicit or hybrid. */
		oidc_code_response(fl);
		return;
	}
	if (fl->fl_exchange) {
		body = oauth2_exchange_response(fl->fl_exchange_id ?
		    fl->fl_idtoken : fl->fl_access, fl->fl_exchange_id ?
		    OAUTH2_TOKEN_TYPE_ID : OAUTH2_TOKEN_TYPE_ACCESS,
		    oe->oe_conf->id_token_ttl);
		if (body == NULL)
			fatalx("%s: oauth2_exchange_response", __func__);
		oidc_json(fl, 200, body, NULL, 0);
		freezero(body, strlen(body));
		return;
	}
	body = oauth2_token_response(fl->fl_access, fl->fl_idtoken,
	    fl->fl_refresh, oe->oe_conf->id_token_ttl);
	if (body == NULL)
		fatalx("%s: oauth2_token_response", __func__);
	/* Cache-Control: no-store and Pragma: no-cache, as Dex. */
	oidc_json(fl, 200, body, NULL, 0);
	freezero(body, strlen(body));
}

/* Keep a signed token, or answer the flow when the signer refused. */
static int
oidc_take_jws(struct oidc_flow *fl, uint32_t type, const char *jws,
    size_t len, char **dst)
{
	if (type != IMSG_SIGN_RESULT) {
		if (fl->fl_authreq != NULL)
			oidc_error_page(fl, 500, "Could not sign the token.");
		else
			oidc_json_error(fl, 500, "server_error",
			    "Could not sign the token.");
		return (-1);
	}
	if ((*dst = strndup(jws, len)) == NULL)
		fatal("%s: strndup", __func__);
	return (0);
}

static void
oidc_signed_id(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *jws, size_t len)
{
	if (oidc_take_jws(fl, type, jws, len, &fl->fl_idtoken) == 0)
		oidc_tokens_done(fl);
}

static void
oidc_sign_id(struct oidc_flow *fl)
{
	char	*jti = oidc_random(16);
	int	 rv;

	/* c_hash over the code whenever one is involved (Dex). */
	rv = oidc_sign(fl, SIGN_TOKEN_ID, oauth2_id_token_claims(oe->oe_conf,
	    fl->fl_grant, fl->fl_client, time(NULL), fl->fl_access,
	    fl->fl_code, oe->oe_conf->alg, jti), oidc_signed_id);
	free(jti);
	if (rv == -1)
		oidc_json_error(fl, 500, "server_error", "Could not sign the "
		    "token.");
}

static void
oidc_signed_access(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *jws, size_t len)
{
	if (oidc_take_jws(fl, type, jws, len, &fl->fl_access) == -1)
		return;
	if ((fl->fl_authreq != NULL &&
	    !oidc_has_rt(fl->fl_authreq, "id_token")) || fl->fl_exchange ||
	    fl->fl_access_only)
		oidc_tokens_done(fl);
	else
		oidc_sign_id(fl);
}

static void
oidc_sign_tokens(struct oidc_flow *fl, int access, int id)
{
	char	*jti;
	int	 rv;

	if (!access) {
		oidc_sign_id(fl);
		return;
	}
	jti = oidc_random(16);
	rv = oidc_sign(fl, SIGN_TOKEN_ACCESS,
	    oauth2_access_token_claims(oe->oe_conf, fl->fl_grant,
	    fl->fl_client, time(NULL), oe->oe_conf->alg, jti),
	    oidc_signed_access);
	free(jti);
	if (rv == -1)
		oidc_json_error(fl, 500, "server_error", "Could not sign the "
		    "token.");
}

/* /token: the grant is in hand (and a refresh token perhaps). */
void
oidc_token_grant(struct oidc_flow *fl, json_t *reply)
{
	const char	*rt;

	fl->fl_grant = json_incref(json_object_get(reply, "grant"));
	if (fl->fl_grant == NULL) {
		oidc_json_error(fl, 500, "server_error", NULL);
		return;
	}
	if ((rt = jstr(reply, "refreshToken")) != NULL) {
		freezero(fl->fl_refresh, fl->fl_refresh ?
		    strlen(fl->fl_refresh) : 0);
		fl->fl_refresh = xstrdup(rt);
	}
	oidc_sign_tokens(fl, 1, 1);
}

static void
oidc_redeemed(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	if (!oidc_reply_ok(fl, reply, 1))
		return;
	oidc_token_grant(fl, reply);
}

static void
oidc_conn_refreshed(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	json_t	*identity;

	if (reply == NULL) {
		oidc_json_error(fl, 503, "server_error", "The service is "
		    "busy; try again later.");
		return;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		/* Dex: 500 invalid_request; §10: 400 invalid_grant. */
		oidc_json_error(fl, 400, "invalid_grant", jstr(reply,
		    "error_description"));
		return;
	}
	/*
	 * Claims follow the user; the user id does not change (Dex).  The
	 * reply is freed once this returns and nothing else holds it, so
	 * the identity is taken by reference, not copied.
	 */
	identity = json_incref(json_object_get(reply, "identity"));
	if (identity != NULL) {
		json_object_set(identity, "userId", json_object_get(
		    json_object_get(fl->fl_grant, "identity"), "userId"));
		json_object_set_new(fl->fl_grant, "identity", identity);
	}
	oidc_sign_tokens(fl, 1, 1);
}

/*
 * The upstream has answered a refresh: rotate now, storing the identity
 * it gave.  An upstream that refused (the user is gone or the grant was
 * revoked) is invalid_grant; one that could not be reached leaves the
 * token as it was, for a later try.
 */
static void
oidc_upstream_refreshed(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	const char	*err;

	if (reply == NULL) {
		oidc_json_error(fl, 503, "server_error", "The identity "
		    "provider did not answer in time.");
		return;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		err = jstr(reply, "error");
		log_info("refresh through connector %s refused: %s",
		    jstr(fl->fl_grant, "connectorId"),
		    jstr(reply, "error_description") ?
		    jstr(reply, "error_description") : "-");
		if (err != NULL && strcmp(err, "invalid_grant") == 0)
			oidc_json_error(fl, 400, "invalid_grant",
			    jstr(reply, "error_description"));
		else
			oidc_json_error(fl, 503, "server_error",
			    jstr(reply, "error_description"));
		return;
	}
	fl->fl_refreshed = 1;
	json_object_del(fl->fl_rotate, "upstreamFirst");
	json_object_set(fl->fl_rotate, "identity",
	    json_object_get(reply, "identity"));
	oidc_ask_api(fl, PROC_STORAGE, IMSG_STORE_REFRESH_ROTATE,
	    json_incref(fl->fl_rotate), oidc_rotated);
}

static void
oidc_rotated(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	const char	*rt;

	if (!oidc_reply_ok(fl, reply, 1))
		return;
	/* Taken, not copied: the reply is freed after this returns. */
	json_decref(fl->fl_grant);
	fl->fl_grant = json_incref(json_object_get(reply, "grant"));
	if (fl->fl_grant == NULL) {
		oidc_json_error(fl, 500, "server_error", NULL);
		return;
	}
	if (json_is_true(json_object_get(reply, "upstream"))) {
		/* Not rotated yet: the upstream is asked first. */
		oidc_ask_api(fl, PROC_CONNECTOR, IMSG_CONN_REFRESH,
		    json_pack("{s:O, s:O, s:O}", "connectorId",
		    json_object_get(fl->fl_grant, "connectorId"), "identity",
		    json_object_get(fl->fl_grant, "identity"), "scopes",
		    json_object_get(fl->fl_grant, "scopes")),
		    oidc_upstream_refreshed);
		return;
	}
	if ((rt = jstr(reply, "refreshToken")) != NULL) {
		freezero(fl->fl_refresh, fl->fl_refresh ?
		    strlen(fl->fl_refresh) : 0);
		fl->fl_refresh = xstrdup(rt);
	}
	/*
	 * Within reuseInterval Dex does not call the connector; after an
	 * upstream refresh the rotation stored what the upstream said;
	 * storage checks a local user in the rotation itself.
	 */
	if (json_is_true(json_object_get(reply, "reused")) ||
	    json_is_true(json_object_get(reply, "identityChecked")) ||
	    fl->fl_refreshed) {
		oidc_sign_tokens(fl, 1, 1);
		return;
	}
	oidc_ask_api(fl, PROC_CONNECTOR, IMSG_CONN_REFRESH,
	    json_pack("{s:O, s:O}", "connectorId", json_object_get(
	    fl->fl_grant, "connectorId"), "identity", json_object_get(
	    fl->fl_grant, "identity")), oidc_conn_refreshed);
}

static void
oidc_refresh_issued(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	const char	*rt;

	if (!oidc_reply_ok(fl, reply, 1))
		return;
	if ((rt = jstr(reply, "refreshToken")) != NULL)
		fl->fl_refresh = xstrdup(rt);
	oidc_sign_tokens(fl, 1, 1);
}

static int
oidc_scope_has(const json_t *scopes, const char *scope)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(scopes, i, v)
		if (strcmp(json_string_value(v), scope) == 0)
			return (1);
	return (0);
}

/* The password grant: the connector said who it is. */
static void
oidc_pwgrant_done(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	json_t		*identity;
	const char	*uid;

	if (!oidc_reply_ok(fl, reply, 1))
		return;
	identity = json_object_get(reply, "identity");
	uid = jstr(identity, "userId");
	if (uid == NULL || *uid == '\0') {
		oidc_json_error(fl, 500, "server_error", "Login error.");
		return;
	}
	json_object_set(fl->fl_grant, "identity", identity);
	json_object_set(fl->fl_grant, "connectorId",
	    json_object_get(identity, "connectorId"));
	if (!oidc_scope_has(json_object_get(fl->fl_grant, "scopes"),
	    "offline_access") ||
	    !oidc_client_refreshes(oauth2_client_find(oe->oe_conf,
	    fl->fl_client))) {
		oidc_sign_tokens(fl, 1, 1);
		return;
	}
	oidc_ask_api(fl, PROC_STORAGE, IMSG_STORE_REFRESH_ISSUE,
	    json_pack("{s:O}", "grant", fl->fl_grant),
	    oidc_refresh_issued);
}

/* Token exchange: the connector vouched for the upstream's token. */
static void
oidc_exchanged(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	if (reply == NULL) {
		oidc_json_error(fl, 503, "server_error", "The identity "
		    "provider did not answer in time.");
		return;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		/* Dex: 401 access_denied, the reason only in the log. */
		log_info("token exchange through connector %s refused: %s",
		    fl->fl_connector, jstr(reply, "error_description") ?
		    jstr(reply, "error_description") : "-");
		oidc_json_error(fl, 401, "access_denied", NULL);
		return;
	}
	json_object_set(fl->fl_grant, "identity",
	    json_object_get(reply, "identity"));
	fl->fl_exchange = 1;
	if (fl->fl_exchange_id)
		oidc_sign_id(fl);
	else
		oidc_sign_tokens(fl, 1, 0);
}

/*
 * Does a client take refresh tokens?  Ours: not when its grantTypes
 * leave refresh_token out, as it could not use them.
 */
static int
oidc_client_refreshes(const struct oauth2_client *cl)
{
	return (cl != NULL && (cl->grant_mask == 0 ||
	    (cl->grant_mask & OAUTH2_GT_REFRESH)));
}

/*
 * client_credentials: tokens for the client itself, at once; an ID
 * token only with openid, never a refresh token (Dex master).
 */
static void
oidc_client_credentials(struct oidc_flow *fl,
    const struct oauth2_token_request *tr)
{
	if ((fl->fl_grant = oauth2_client_grant(tr->client, tr->scopes,
	    tr->nonce)) == NULL) {
		oidc_json_error(fl, 500, "server_error", NULL);
		return;
	}
	fl->fl_access_only = !oidc_scope_has(tr->scopes, "openid");
	log_debug("client_credentials: tokens for client %s", tr->client->id);
	oidc_sign_tokens(fl, 1, 1);
}

/*
 * The form of a POST to /token, /token/introspect or /token/revoke:
 * 0, or -1 with the flow answered (405, or 400 for a malformed or
 * repeated parameter) and the form freed.
 */
static int
oidc_post_form(struct oidc_flow *fl, struct http_request *req,
    struct http_params *form)
{
	http_params_init(form);
	if (req->method != HTTP_METHOD_POST) {
		oidc_json_error(fl, 405, "invalid_request", "Method not "
		    "allowed.");
		return (-1);
	}
	if (oidc_params(form, req->body, req->bodylen) == -1) {
		oidc_json_error(fl, 400, "invalid_request", "Malformed or "
		    "repeated parameters.");
		http_params_free(form);
		return (-1);
	}
	return (0);
}

/* POST /token */
static void
oidc_token(struct http_conn *c, struct http_request *req)
{
	struct oauth2_token_request	 tr;
	struct http_params		 form;
	struct oidc_flow		*fl;
	json_t				*ask;
	int				 rv = 0;

	if ((fl = oidc_flow_new(c, req)) == NULL) {
		http_conn_respond_error(c, 503);
		return;
	}
	memset(&tr, 0, sizeof(tr));
	if (oidc_post_form(fl, req, &form) == -1)
		return;
	if (oauth2_token_request(oe->oe_conf, req, &form, &tr) == -1) {
		oidc_json_error(fl, tr.status, oauth2_error_name(tr.error),
		    tr.description);
		goto done;
	}
	fl->fl_client = xstrdup(tr.client->id);
	switch (tr.grant) {
	case OAUTH2_GRANT_AUTHCODE:
		/* Storage refuses malformed input outright: check it here. */
		if (!oidc_b64url_ok(tr.code, OIDC_CODE_LEN)) {
			oidc_json_error(fl, 400, "invalid_grant",
			    "Invalid or expired code parameter.");
			goto done;
		}
		fl->fl_code = xstrdup(tr.code);
		ask = json_pack("{s:s, s:s, s:s, s:b}", "code", tr.code,
		    "clientId", tr.client->id, "redirectUri", tr.redirect_uri,
		    "refresh", oidc_client_refreshes(tr.client));
		if (tr.code_verifier != NULL)
			json_object_set_new(ask, "codeVerifier",
			    json_string(tr.code_verifier));
		rv = oidc_ask_json(fl, PROC_STORAGE, IMSG_STORE_CODE_REDEEM,
		    ask, oidc_redeemed);
		break;
	case OAUTH2_GRANT_REFRESH:
		if (!oidc_b64url_ok(tr.refresh_token, OIDC_REFRESH_LEN)) {
			oidc_json_error(fl, 400, "invalid_grant",
			    "Refresh token is invalid or has already been "
			    "claimed by another client.");
			goto done;
		}
		ask = json_pack("{s:s, s:s, s:b}", "refreshToken",
		    tr.refresh_token, "clientId", tr.client->id,
		    "upstreamFirst", 1);
		if (tr.scopes != NULL)
			json_object_set(ask, "scopes", tr.scopes);
		fl->fl_rotate = json_incref(ask);
		rv = oidc_ask_json(fl, PROC_STORAGE,
		    IMSG_STORE_REFRESH_ROTATE, ask, oidc_rotated);
		break;
	case OAUTH2_GRANT_PASSWORD:
		fl->fl_grant = json_pack("{s:s, s:O, s:s, s:s, s:I}",
		    "clientId", tr.client->id, "scopes", tr.scopes,
		    "nonce", tr.nonce ? tr.nonce : "",
		    "connectorId", oe->oe_conf->password_connector,
		    "authTime", (json_int_t)time(NULL));
		rv = oidc_ask_json(fl, PROC_CONNECTOR, IMSG_CONN_PASSWORD,
		    json_pack("{s:s, s:s, s:s, s:s}", "connectorId",
		    oe->oe_conf->password_connector, "username", tr.username,
		    "password", tr.password, "remoteAddr",
		    http_conn_peer_str(c)), oidc_pwgrant_done);
		break;
	case OAUTH2_GRANT_TOKEN_EXCHANGE:
		fl->fl_connector = xstrdup(tr.connector->id);
		fl->fl_exchange_id = strcmp(tr.requested_token_type,
		    OAUTH2_TOKEN_TYPE_ID) == 0;
		fl->fl_grant = json_pack("{s:s, s:O, s:s, s:s, s:I}",
		    "clientId", tr.client->id, "scopes", tr.scopes,
		    "nonce", "", "connectorId", tr.connector->id,
		    "authTime", (json_int_t)time(NULL));
		rv = oidc_ask_json(fl, PROC_CONNECTOR, IMSG_CONN_EXCHANGE,
		    json_pack("{s:s, s:s, s:s}", "connectorId",
		    tr.connector->id, "subjectToken", tr.subject_token,
		    "subjectTokenType", tr.subject_token_type),
		    oidc_exchanged);
		break;
	case OAUTH2_GRANT_DEVICE_CODE:
		rv = device_token(fl, &tr);
		break;
	case OAUTH2_GRANT_CLIENT_CREDENTIALS:
		oidc_client_credentials(fl, &tr);
		goto done;
	default:
		oidc_json_error(fl, 400, "unsupported_grant_type", NULL);
		goto done;
	}
	if (rv == -1)
		oidc_json_error(fl, 503, "server_error", "The service is "
		    "busy; try again later.");
 done:
	oauth2_token_request_free(&tr);
	http_params_free(&form);
}

/*
 * Our own JWTs, verified here with the keys the signer published:
 * the payload when the signature, issuer and expiry hold, else NULL.
 */
static json_t *
oidc_verify_jwt_exp(const char *tok, size_t len, int expired_ok)
{
	struct jose_jws		 jws;
	const struct jose_jwk	*k;
	json_t			*claims = NULL, *exp;
	const char		*iss;

	if (!oe->oe_have_keys || len == 0 || len > OIDC_BEARER_MAX)
		return (NULL);
	memset(&jws, 0, sizeof(jws));
	if (jose_jws_parse(tok, len, &jws) == -1)
		return (NULL);
	if ((k = jose_jwks_find(&oe->oe_keys, jws.kid)) == NULL ||
	    jose_jws_verify(&jws, k->pkey, k->alg) == -1)
		goto done;
	if ((claims = jose_json_object(jws.payload, jws.payload_len)) ==
	    NULL)
		goto done;
	iss = jstr(claims, "iss");
	exp = json_object_get(claims, "exp");
	/*
	 * A hint may have expired (Core §3.1.2.1, RP-Initiated Logout §2:
	 * when its client had a recent session), but not longer ago than
	 * a browser session can live: older, it names no session.
	 */
	if (iss == NULL || strcmp(iss, oe->oe_conf->issuer) != 0 ||
	    !json_is_integer(exp) ||
	    json_integer_value(exp) + (expired_ok ? oe->oe_sess_maxage : 0) <=
	    (json_int_t)time(NULL)) {
		json_decref(claims);
		claims = NULL;
	}
 done:
	jose_jws_free(&jws);
	return (claims);
}

/*
 * Ask storage whether a verified token of ours has been revoked; the
 * flow takes the claims for cb (0).  -1, the claims still the caller's,
 * when there is nothing to ask: a token without a jti we could have
 * stored cannot have been revoked.  The flow is answered when the ask
 * fails.
 */
static int
oidc_ask_revoked(struct oidc_flow *fl, json_t *claims, oidc_cb cb)
{
	const char	*jti = jstr(claims, "jti");

	if (jti == NULL || *jti == '\0' || strlen(jti) > STORE_JTI_MAX)
		return (-1);
	fl->fl_claims = json_incref(claims);
	oidc_ask_api(fl, PROC_STORAGE, IMSG_STORE_ACCESS_CHECK,
	    json_pack("{s:s}", "jti", jti), cb);
	json_decref(claims);
	return (0);
}

/* Did storage say revoked?  Else the flow is answered already. */
static int
oidc_revoked_reply(struct oidc_flow *fl, json_t *reply, int *revoked)
{
	if (!oidc_reply_ok(fl, reply, 1))
		return (-1);
	*revoked = json_is_true(json_object_get(reply, "revoked"));
	return (0);
}

static void
oidc_userinfo_answer(struct oidc_flow *fl, json_t *claims)
{
	char	*body;

	body = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (body == NULL)
		fatalx("%s: json_dumps", __func__);
	oidc_json(fl, 200, body, NULL, 0);
	free(body);
}

/*
 * A revoked token at /userinfo: RFC 6750's 401 invalid_token (Dex has
 * no revocation, so no answer of its own to keep).
 */
static void
oidc_userinfo_checked(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	struct http_kv	 h[1];
	char		*body;
	int		 revoked;

	if (oidc_revoked_reply(fl, reply, &revoked) == -1)
		return;
	if (!revoked) {
		oidc_userinfo_answer(fl, fl->fl_claims);
		return;
	}
	h[0].key = "WWW-Authenticate";
	h[0].value = "Bearer error=\"invalid_token\", "
	    "error_description=\"The access token has been revoked.\"";
	if ((body = oauth2_error_json("invalid_token",
	    "The access token has been revoked.")) == NULL)
		fatalx("%s: oauth2_error_json", __func__);
	oidc_json(fl, 401, body, h, 1);
	free(body);
}

static json_t *
oidc_verify_jwt(const char *tok, size_t len)
{
	return (oidc_verify_jwt_exp(tok, len, 0));
}

/* /userinfo: the raw payload of a valid token of ours (Dex). */
static void
oidc_userinfo(struct http_conn *c, struct http_request *req)
{
	struct oidc_flow	*fl;
	struct http_kv		 h[1];
	json_t			*claims;
	const char		*auth;
	char			*body;

	if ((fl = oidc_flow_new(c, req)) == NULL) {
		http_conn_respond_error(c, 503);
		return;
	}
	auth = http_header(req, "Authorization");
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0) {
		h[0].key = "WWW-Authenticate";
		h[0].value = "Bearer";
		body = oauth2_error_json("access_denied",
		    "Invalid bearer token.");
		oidc_json(fl, 401, body, h, 1);
		free(body);
		return;
	}
	auth += 7;
	while (*auth == ' ')
		auth++;
	if ((claims = oidc_verify_jwt(auth, strlen(auth))) == NULL) {
		oidc_json_error(fl, 403, "access_denied",
		    "Invalid bearer token.");
		return;
	}
	/* Was it revoked?  Storage says, and the answer follows. */
	if (oidc_ask_revoked(fl, claims, oidc_userinfo_checked) == 0)
		return;
	oidc_userinfo_answer(fl, claims);
	json_decref(claims);
}

/* RFC 7662 for an access token, with Dex's members. */
static json_t *
oidc_introspect_access(json_t *claims)
{
	json_t	*o, *aud, *ext;
	const char *cid;

	aud = json_object_get(claims, "aud");
	cid = json_is_string(aud) ? json_string_value(aud) :
	    jstr(claims, "azp");
	ext = json_object();
	for (const char **k = (const char *[]){ "azp", "email",
	    "email_verified", "groups", "name", "preferred_username",
	    "federated_claims", NULL }; *k != NULL; k++)
		if (json_object_get(claims, *k) != NULL)
			json_object_set(ext, *k, json_object_get(claims, *k));
	o = json_pack("{s:b, s:s*, s:O*, s:O*, s:O*, s:O*, s:s*, s:O*, s:O*, "
	    "s:s, s:s, s:o}",
	    "active", 1, "client_id", cid,
	    "sub", json_object_get(claims, "sub"),
	    "exp", json_object_get(claims, "exp"),
	    "iat", json_object_get(claims, "iat"),
	    "nbf", json_object_get(claims, "iat"),
	    "username", jstr(claims, "preferred_username"),
	    "aud", aud, "iss", json_object_get(claims, "iss"),
	    "token_type", "Bearer", "token_use", "access_token",
	    "ext", ext);
	return (o);
}

static void
oidc_introspect_answer(struct oidc_flow *fl, json_t *claims)
{
	json_t	*o;
	char	*body;

	o = oidc_introspect_access(claims);
	if (o == NULL || (body = json_dumps(o, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL)
		fatalx("%s: json", __func__);
	json_decref(o);
	oidc_json(fl, 200, body, NULL, 0);
	free(body);
}

/* A revoked access token is inactive (RFC 7662 §2.2). */
static void
oidc_introspect_checked(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	int	 revoked;

	if (oidc_revoked_reply(fl, reply, &revoked) == -1)
		return;
	if (revoked)
		oidc_json(fl, 200, "{\"active\":false}", NULL, 0);
	else
		oidc_introspect_answer(fl, fl->fl_claims);
}

static void
oidc_introspected(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	json_t	*o, *grant, *identity;
	char	*body;

	if (!oidc_reply_ok(fl, reply, 1))
		return;
	grant = json_object_get(reply, "grant");
	if (!json_is_true(json_object_get(reply, "active")) || grant == NULL ||
	    strcmp(jstr(grant, "clientId"), fl->fl_client) != 0) {
		oidc_json(fl, 200, "{\"active\":false}", NULL, 0);
		return;
	}
	identity = json_object_get(grant, "identity");
	body = jose_dex_subject(jstr(identity, "userId"),
	    jstr(grant, "connectorId"));
	o = json_pack("{s:b, s:s, s:s*, s:O*, s:O*, s:s*, s:s, s:s, s:s}",
	    "active", 1, "client_id", jstr(grant, "clientId"),
	    "sub", body, "exp", json_object_get(reply, "exp"),
	    "iat", json_object_get(reply, "iat"),
	    "username", jstr(identity, "preferredUsername"),
	    "iss", oe->oe_conf->issuer, "token_type", "Bearer",
	    "token_use", "refresh_token");
	free(body);
	if (o == NULL || (body = json_dumps(o, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL)
		fatalx("%s: json", __func__);
	json_decref(o);
	oidc_json(fl, 200, body, NULL, 0);
	free(body);
}

/* POST /token/introspect: unlike Dex, only for authenticated clients. */
static void
oidc_introspect(struct http_conn *c, struct http_request *req)
{
	const struct oauth2_client	*cl;
	struct http_params		 form;
	struct oidc_flow		*fl;
	const char			*tok, *desc = NULL;
	json_t				*claims;
	enum oauth2_error		 err;

	if ((fl = oidc_flow_new(c, req)) == NULL) {
		http_conn_respond_error(c, 503);
		return;
	}
	if (oidc_post_form(fl, req, &form) == -1)
		return;
	if ((err = oauth2_client_auth(oe->oe_conf, req, &form, &cl, &desc)) !=
	    OAUTH2_OK) {
		oidc_json_error(fl, oauth2_error_status(err),
		    oauth2_error_name(err), desc);
		goto done;
	}
	fl->fl_client = xstrdup(cl->id);
	if ((tok = http_param(&form, "token")) == NULL || *tok == '\0') {
		oidc_json_error(fl, 400, "invalid_request", "The token "
		    "parameter is required.");
		goto done;
	}
	if ((claims = oidc_verify_jwt(tok, strlen(tok))) != NULL) {
		if (oidc_ask_revoked(fl, claims,
		    oidc_introspect_checked) == 0)
			goto done;
		oidc_introspect_answer(fl, claims);
		json_decref(claims);
		goto done;
	}
	if (!oidc_b64url_ok(tok, OIDC_REFRESH_LEN)) {
		oidc_json(fl, 200, "{\"active\":false}", NULL, 0);
		goto done;
	}
	oidc_ask_api(fl, PROC_STORAGE, IMSG_STORE_INTROSPECT,
	    json_pack("{s:s}", "refreshToken", tok), oidc_introspected);
 done:
	http_params_free(&form);
}

/*
 * Revocation (RFC 7009).
 */

/* 200 and no body: revoked, or nothing to revoke (RFC 7009 §2.2). */
static void
oidc_revoke_ok(struct oidc_flow *fl)
{
	struct http_conn	*c;
	struct http_kv		 h[2];
	size_t			 n = 0;

	if ((c = oidc_conn(fl)) != NULL)
		n = frontend_cors(http_conn_request(c), h, n);
	oidc_respond(fl, 200, NULL, h, n, NULL, 0, HTTP_RESP_NOSTORE);
}

static void
oidc_revoke_done(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	if (oidc_reply_ok(fl, reply, 1))
		oidc_revoke_ok(fl);
}

/*
 * An access token of ours (verified): remembered by its jti until it
 * expires, when it is the asking client's; another client's is left
 * alone, and the answer is 200 all the same (RFC 7009 §2.1).
 */
static void
oidc_revoke_access(struct oidc_flow *fl, json_t *claims)
{
	const char	*owner, *jti;
	json_t		*exp;

	owner = oauth2_token_client(claims);
	jti = jstr(claims, "jti");
	exp = json_object_get(claims, "exp");
	if (owner == NULL || strcmp(owner, fl->fl_client) != 0) {
		log_info("client %s asked to revoke an access token of "
		    "client %s: ignored", fl->fl_client,
		    owner != NULL ? owner : "-");
		oidc_revoke_ok(fl);
		return;
	}
	if (jti == NULL || *jti == '\0' || strlen(jti) > STORE_JTI_MAX ||
	    !json_is_integer(exp) || json_integer_value(exp) > STORE_TIME_MAX) {
		/* Not one we signed with a jti: nothing to remember it by. */
		log_warnx("client %s: an access token without a usable jti "
		    "cannot be revoked", fl->fl_client);
		oidc_revoke_ok(fl);
		return;
	}
	oidc_ask_api(fl, PROC_STORAGE, IMSG_STORE_ACCESS_REVOKE,
	    json_pack("{s:s, s:O, s:s}", "jti", jti, "exp", exp, "clientId",
	    fl->fl_client), oidc_revoke_done);
}

/*
 * POST /token/revoke: the client authenticates as at /token.  Which kind
 * of token it is shows in the token itself (a JWT of ours or a refresh
 * token's 64 characters), so token_type_hint changes nothing; an
 * unknown, expired or foreign token gets 200 (RFC 7009 §2.2).
 */
static void
oidc_revoke(struct http_conn *c, struct http_request *req)
{
	struct oauth2_revoke_request	 rr;
	struct http_params		 form;
	struct oidc_flow		*fl;
	json_t				*claims;

	if ((fl = oidc_flow_new(c, req)) == NULL) {
		http_conn_respond_error(c, 503);
		return;
	}
	if (oidc_post_form(fl, req, &form) == -1)
		return;
	if (oauth2_revoke_request(oe->oe_conf, req, &form, &rr) == -1) {
		oidc_json_error(fl, rr.status, oauth2_error_name(rr.error),
		    rr.description);
		goto done;
	}
	fl->fl_client = xstrdup(rr.client->id);
	if ((claims = oidc_verify_jwt(rr.token, strlen(rr.token))) != NULL) {
		oidc_revoke_access(fl, claims);
		json_decref(claims);
	} else if (oidc_b64url_ok(rr.token, OIDC_REFRESH_LEN)) {
		oidc_ask_api(fl, PROC_STORAGE, IMSG_STORE_REFRESH_REVOKE,
		    json_pack("{s:s, s:s}", "refreshToken", rr.token,
		    "clientId", rr.client->id), oidc_revoke_done);
	} else
		oidc_revoke_ok(fl);
 done:
	http_params_free(&form);
}

/*
 * frontend.dir's static files and theme: the set being served, and the
 * one being received from the parent, which replaces it whole once its
 * last chunk is in (so a request never sees half a set).
 */
static struct asset_set	 oidc_assets, oidc_assets_next;

/* One IMSG_CFG_ASSET chunk; -1 when it does not fit (fatal). */
int
oidc_asset_install(const struct cfg_asset *ca, const void *data, size_t len)
{
	int	 rv;

	if ((rv = asset_recv(&oidc_assets_next, ca, data, len)) == -1) {
		asset_set_free(&oidc_assets_next);
		return (-1);
	}
	if (rv == 1) {
		asset_set_free(&oidc_assets);
		oidc_assets = oidc_assets_next;
		memset(&oidc_assets_next, 0, sizeof(oidc_assets_next));
		log_debug("frontend.dir: serving %zu files, %zu bytes",
		    oidc_assets.as_n, oidc_assets.as_total);
	}
	return (0);
}

/*
 * The theme's files: static/, theme/, robots.txt; frontend.dir's before
 * the built-in ones.  Both lookups are exact matches in a table, so
 * ".." can only miss; and as no asset name needs escaping, a path
 * whose asset part came percent-encoded ("%2e%2e", "%2f") is not one.
 */
static int
oidc_asset(struct http_conn *c, struct http_request *req, const char *path)
{
	const struct web_asset	*wa;
	const struct asset	*a;
	struct http_kv		 h[2];
	const char		*inm, *etag, *type;
	const void		*data;
	size_t			 len, rawlen;
	int			 flags = 0;

	rawlen = strcspn(req->target, "?#");
	len = strlen(path);
	if (rawlen < len || memcmp(req->target + rawlen - len, path, len) != 0)
		return (0);
	if ((a = asset_find(&oidc_assets, path)) != NULL) {
		etag = a->a_etag;
		type = a->a_type;
		data = a->a_data;
		len = a->a_len;
	} else if ((wa = web_asset_find(path)) != NULL) {
		etag = wa->wa_etag;
		type = wa->wa_type;
		data = wa->wa_data;
		len = wa->wa_len;
	} else
		return (0);
	h[0].key = "ETag";
	h[0].value = etag;
	h[1].key = "Cache-Control";
	h[1].value = "max-age=3600";
	if (req->method == HTTP_METHOD_HEAD)
		flags |= HTTP_RESP_HEAD;
	if ((inm = http_header(req, "If-None-Match")) != NULL &&
	    strcmp(inm, etag) == 0)
		(void)http_conn_respond(c, 304, NULL, h, 2, NULL, 0, flags);
	else
		(void)http_conn_respond(c, 200, type, h, 2, data, len, flags);
	return (1);
}

/*
 * Route a request below the issuer path (path starts with "/").
 * Returns 0 when it is not ours.
 */
int
oidc_handle(struct http_conn *c, struct http_request *req, const char *path)
{
	static const struct {
		const char	*path;
		void		(*handler)(struct http_conn *,
				    struct http_request *);
	} oidc_routes[] = {
		{ "/approval",		oidc_approval },
		{ "/callback",		oidc_callback },
		{ "/token",		oidc_token },
		{ "/userinfo",		oidc_userinfo },
		{ "/token/introspect",	oidc_introspect },
		{ "/token/revoke",	oidc_revoke }
	};
	char		 conn[OAUTH2_ID_MAX + 1];
	const char	*p, *slash;
	size_t		 i, n;

	if (oe == NULL || oe->oe_conf == NULL)
		return (0);
	if (strcmp(path, "/auth") == 0) {
		oidc_auth(c, req);
		return (1);
	}
	if (strncmp(path, "/auth/", 6) == 0) {
		p = path + 6;
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n > OAUTH2_ID_MAX)
			return (0);
		memcpy(conn, p, n);
		conn[n] = '\0';
		if (oauth2_connector_find(oe->oe_conf, conn) == NULL)
			return (0);
		if (slash == NULL)
			oidc_auth_connector(c, req, conn);
		else if (strcmp(slash, "/login") == 0)
			oidc_login(c, req, conn);
		else
			return (0);
		return (1);
	}
	for (i = 0; i < sizeof(oidc_routes) / sizeof(oidc_routes[0]); i++)
		if (strcmp(path, oidc_routes[i].path) == 0) {
			oidc_routes[i].handler(c, req);
			return (1);
		}
	if (strncmp(path, "/device", 7) == 0 && device_handle(c, req, path))
		return (1);
	if (strncmp(path, "/logout", 7) == 0 && logout_handle(c, req, path))
		return (1);
	if ((req->method == HTTP_METHOD_GET ||
	    req->method == HTTP_METHOD_HEAD) &&
	    (strncmp(path, "/static/", 8) == 0 ||
	    strncmp(path, "/theme/", 7) == 0 ||
	    strcmp(path, "/robots.txt") == 0))
		return (oidc_asset(c, req, path + 1));
	return (0);
}

/*
 * Browser sessions (session.h, store.c): a login sets a cookie; a later
 * /auth with it signs the same user in without the password page or
 * the upstream, as prompt, max_age and id_token_hint allow.
 */

/* A new session cookie for this flow's answer; *hash for storage. */
static void
oidc_session_cookie(struct oidc_flow *fl, char **hash)
{
	struct http_conn	*c;
	char			*cookie;
	int			 secure;

	*hash = NULL;
	if ((c = oidc_conn(fl)) == NULL)
		return;
	/* Behind a TLS proxy the issuer says https where the conn is not. */
	secure = http_conn_is_tls(c) ||
	    strncmp(oe->oe_conf->issuer, "https:", 6) == 0;
	*hash = session_cookie_make(&cookie);
	free(fl->fl_cookie);
	fl->fl_cookie = session_set_cookie(oe->oe_sess_cookie, cookie,
	    oe->oe_prefix, secure, oe->oe_sess_maxage);
	freezero(cookie, strlen(cookie));
}

/* The cookie goes out only for a session that storage has. */
static void
oidc_session_created(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	if (reply == NULL || !json_is_true(json_object_get(reply, "ok"))) {
		free(fl->fl_cookie);
		fl->fl_cookie = NULL;
	}
	oidc_login_done(fl, type, reply, d, l);
}

/* The request's session cookie as its hash, or NULL. */
static char *
oidc_session_hash(struct http_request *req)
{
	char	 cookie[SESSION_COOKIE_LEN + 1], *hash;

	if (!oe->oe_sess_on || session_cookie_find(http_header(req,
	    "Cookie"), oe->oe_sess_cookie, cookie, sizeof(cookie)) == -1)
		return (NULL);
	hash = session_cookie_hash(cookie);
	explicit_bzero(cookie, sizeof(cookie));
	return (hash);
}

/* prompt into fl->fl_prompt; -1 when the flow got invalid_request. */
static int
oidc_session_prompt(struct oidc_flow *fl, struct http_params *pp)
{
	const char	*v = http_param(pp, "prompt");

	if (session_prompt_parse(v ? v : "", &fl->fl_prompt) == -1) {
		oidc_client_error(fl, "invalid_request", "Invalid prompt "
		    "value: none cannot be combined with other values.");
		return (-1);
	}
	if (fl->fl_prompt & SESSION_PROMPT_CONSENT)
		json_object_set_new(fl->fl_authreq, "forceApproval",
		    json_true());
	return (0);
}

static void
oidc_session_login_done(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	const char	*err;

	err = jstr(reply, "error");
	if (err != NULL && strcmp(err, STORE_ERR_LOGIN) == 0) {
		if (fl->fl_prompt & SESSION_PROMPT_NONE) {
			oidc_client_error(fl, "login_required", jstr(reply,
			    "error_description"));
			return;
		}
		oidc_auth_start(fl);
		return;
	}
	if (!oidc_reply_ok(fl, reply, 0))
		return;
	json_decref(fl->fl_authreq);
	fl->fl_authreq = json_incref(json_object_get(reply, "authreq"));
	log_info("login from a browser session: connector %s, user %s, "
	    "client %s", fl->fl_connector, jstr(json_object_get(
	    fl->fl_authreq, "identity"), "userId"),
	    jstr(fl->fl_authreq, "clientId"));
	oidc_finalize(fl);
}

/*
 * /auth/{connector}: 1 when a session may sign the user in (storage is
 * asked) or the flow has its answer; 0 for a new login.
 */
static int
oidc_session_try(struct oidc_flow *fl, struct http_request *req,
    struct http_params *pp)
{
	const char	*v, *sub;
	json_t		*ask, *claims = NULL;
	int64_t		 maxage = -1;
	char		*hash = NULL;

	if (oidc_session_prompt(fl, pp) == -1)
		return (1);
	if ((v = http_param(pp, "max_age")) != NULL && *v != '\0' &&
	    session_max_age_parse(v, &maxage) == -1) {
		oidc_client_error(fl, "invalid_request", "Invalid max_age "
		    "value.");
		return (1);
	}
	if ((fl->fl_prompt & (SESSION_PROMPT_LOGIN | SESSION_PROMPT_SELECT)) ||
	    (hash = oidc_session_hash(req)) == NULL)
		goto fresh;
	if ((ask = json_pack("{s:O, s:s}", "authreq", fl->fl_authreq,
	    "session", hash)) == NULL)
		fatalx("%s: json_pack", __func__);
	free(hash);
	if (maxage >= 0)
		json_object_set_new(ask, "maxAge", json_integer(maxage));
	/* One of our tokens, expired or not (Core 3.1.2.1), else none. */
	if ((v = http_param(pp, "id_token_hint")) != NULL && *v != '\0') {
		if (strlen(v) > SESSION_HINT_MAX ||
		    (claims = oidc_verify_jwt_exp(v, strlen(v), 1)) == NULL ||
		    (sub = jstr(claims, "sub")) == NULL ||
		    strlen(sub) > STORE_SUB_MAX) {
			json_decref(claims);
			json_decref(ask);
			log_info("auth request with an id_token_hint that is "
			    "not ours (client %s)", jstr(fl->fl_authreq,
			    "clientId"));
			goto fresh;
		}
		json_object_set_new(ask, "sub", json_string(sub));
		json_decref(claims);
	}
	oidc_ask_page(fl, PROC_STORAGE, IMSG_STORE_SESSION_LOGIN, ask,
	    oidc_session_login_done);
	return (1);
 fresh:
	if (fl->fl_prompt & SESSION_PROMPT_NONE) {
		oidc_client_error(fl, "login_required", "The user is not "
		    "logged in.");
		return (1);
	}
	return (0);
}

static void
oidc_session_got(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	const char	*err, *conn;
	char		*url;

	err = jstr(reply, "error");
	if (err != NULL && strcmp(err, STORE_ERR_LOGIN) == 0) {
		if (fl->fl_prompt & SESSION_PROMPT_NONE)
			oidc_client_error(fl, "login_required", "The user is "
			    "not logged in.");
		else
			oidc_auth_chooser(fl);
		return;
	}
	if (!oidc_reply_ok(fl, reply, 0))
		return;
	conn = jstr(reply, "connectorId");
	if (conn == NULL || oauth2_connector_find(oe->oe_conf, conn) == NULL) {
		oidc_auth_chooser(fl);
		return;
	}
	if (asprintf(&url, "%sauth/%s?%s", oe->oe_prefix, conn,
	    fl->fl_raw) == -1)
		fatal("%s: asprintf", __func__);
	oidc_redirect(fl, 302, url);
	free(url);
}

/*
 * /auth with a choice of connectors: the session's connector skips the
 * chooser.  1 when the flow went on or has its answer; 0: the chooser.
 */
static int
oidc_session_chooser(struct oidc_flow *fl, struct http_request *req,
    struct http_params *pp)
{
	char	*hash = NULL;

	if (oidc_session_prompt(fl, pp) == -1)
		return (1);
	if (!(fl->fl_prompt & (SESSION_PROMPT_LOGIN | SESSION_PROMPT_SELECT)) &&
	    (hash = oidc_session_hash(req)) != NULL) {
		oidc_ask_page(fl, PROC_STORAGE, IMSG_STORE_SESSION_GET,
		    json_pack("{s:s}", "session", hash),
		    oidc_session_got);
		free(hash);
		return (1);
	}
	if (fl->fl_prompt & SESSION_PROMPT_NONE) {
		oidc_client_error(fl, "login_required", "The user is not "
		    "logged in.");
		return (1);
	}
	return (0);
}

/*
 * For logout.c: one of our tokens verified (expired or not when asked),
 * the request's browser session, and the cookie that ends it.
 */
json_t *
oidc_token_verify(const char *tok, int expired_ok)
{
	return (oidc_verify_jwt_exp(tok, strlen(tok), expired_ok));
}

char *
oidc_session_of(struct http_request *req)
{
	return (oidc_session_hash(req));
}

/* A token of kind (SIGN_TOKEN_*) signed; claims are consumed. */
int
oidc_ask_sign(struct oidc_flow *fl, uint32_t kind, json_t *claims,
    oidc_cb cb)
{
	return (oidc_sign(fl, kind, claims, cb));
}

void
oidc_session_clear(struct oidc_flow *fl)
{
	struct http_conn	*c;
	int			 secure;

	if (!oe->oe_sess_on || (c = oidc_conn(fl)) == NULL)
		return;
	secure = http_conn_is_tls(c) ||
	    strncmp(oe->oe_conf->issuer, "https:", 6) == 0;
	free(fl->fl_cookie);
	fl->fl_cookie = session_set_cookie(oe->oe_sess_cookie, "",
	    oe->oe_prefix, secure, 0);
}

/*
 * The flow API of the feature files (device.c): a flow's own data, a
 * cookie for its page, and the config.
 */
json_t *
oidc_flow_data(struct oidc_flow *fl)
{
	if (fl->fl_data == NULL && (fl->fl_data = json_object()) == NULL)
		fatal("%s: json_object", __func__);
	return (fl->fl_data);
}

void
oidc_flow_cookie(struct oidc_flow *fl, const char *cookie)
{
	free(fl->fl_cookie);
	fl->fl_cookie = xstrdup(cookie);
}

const struct oauth2_conf *
oidc_conf(void)
{
	return (oe->oe_conf);
}

/* The signer's new key set, parsed once for /userinfo. */
void
oidc_jwks(const char *json, size_t len)
{
	struct jose_jwks	 keys;

	memset(&keys, 0, sizeof(keys));
	if (jose_jwks_parse(json, len, &keys) == -1) {
		log_warnx("cannot parse the signer's JWKS");
		return;
	}
	if (oe->oe_have_keys)
		jose_jwks_free(&oe->oe_keys);
	oe->oe_keys = keys;
	oe->oe_have_keys = 1;
}

/* One template of frontend.dir; the parent has parsed it already. */
int
oidc_template(const char *name, const char *text, size_t len)
{
	char	 err[256];

	if (tmpl_set_add(oe->oe_tmpl, name, text, len, err, sizeof(err)) ==
	    -1) {
		log_warnx("template %s", err);
		return (-1);
	}
	return (0);
}

/* sessions: on unless turned off; an old parent sends none: off. */
static void
oidc_sessions_configure(const json_t *s)
{
	const char	*name;

	free(oe->oe_sess_cookie);
	oe->oe_sess_cookie = NULL;
	oe->oe_sess_on = json_is_true(json_object_get(s, "enabled"));
	if ((name = jstr(s, "cookieName")) == NULL)
		name = "dex_session";
	oe->oe_sess_cookie = xstrdup(name);
	oe->oe_sess_maxage = json_integer_value(json_object_get(s,
	    "absoluteLifetime"));
	if (oe->oe_sess_maxage <= 0)
		oe->oe_sess_maxage = STORE_SESSION_ABSOLUTE;
}

/* A new config: the OAuth 2.0 settings, the template functions. */
void
oidc_configure(const json_t *cfg)
{
	struct oauth2_conf	*conf;
	const json_t		*fe;
	char			 err[256], origins[4096];
	size_t			 i, j, o;

	if ((conf = oauth2_conf_new(cfg, err, sizeof(err))) == NULL)
		fatalx("%s: %s", __func__, err);
	/* frontend.dir's templates follow in IMSG_CFG_TEMPLATE. */
	tmpl_set_free(oe->oe_tmpl);
	if ((oe->oe_tmpl = tmpl_set_new()) == NULL)
		fatalx("%s: the built-in templates do not load", __func__);
	if (oe->oe_conf != NULL)
		oauth2_conf_free(oe->oe_conf);
	oe->oe_conf = conf;
	free(oe->oe_prefix);
	if (asprintf(&oe->oe_prefix, "%s/", conf->issuer_path) == -1)
		fatal("%s: asprintf", __func__);

	json_decref(oe->oe_fe);
	fe = json_object_get(cfg, "frontend");
	oe->oe_fe = json_deep_copy(fe ? fe : json_object());
	memset(&oe->oe_funcs, 0, sizeof(oe->oe_funcs));
	oe->oe_funcs.tf_issuer = jstr(oe->oe_fe, "issuer");
	oe->oe_funcs.tf_logo = jstr(oe->oe_fe, "logoURL");
	oe->oe_funcs.tf_extra = json_object_get(oe->oe_fe, "extra");
	oe->oe_funcs.tf_prefix = oe->oe_prefix;
	if (jstr(oe->oe_fe, "theme") != NULL)
		(void)web_set_theme(jstr(oe->oe_fe, "theme"));

	/*
	 * form-action must allow the clients' redirect origins: the
	 * approval POST answers with a redirect to them.
	 */
	o = 0;
	origins[0] = '\0';
	for (i = 0; i < conf->nclients; i++) {
		for (j = 0; j < conf->clients[i].nredirect_uris; j++) {
			const char *u = conf->clients[i].redirect_uris[j];
			const char *s = strstr(u, "://");
			size_t ol;

			if (s == NULL)
				continue;
			ol = strcspn(s + 3, "/?#") + (s + 3 - u);
			if (o + ol + 2 >= sizeof(origins))
				break;
			origins[o++] = ' ';
			memcpy(origins + o, u, ol);
			o += ol;
			origins[o] = '\0';
		}
	}
	free(oe->oe_csp);
	if (asprintf(&oe->oe_csp, OIDC_CSP, origins) == -1)
		fatal("%s: asprintf", __func__);
	oidc_sessions_configure(json_object_get(cfg, "sessions"));
}

void
oidc_init(struct privsep *ps)
{
	struct timeval	 tv;

	if ((oe = calloc(1, sizeof(*oe))) == NULL)
		fatal("%s: calloc", __func__);
	oe->oe_ps = ps;
	RB_INIT(&oe->oe_asks);
	TAILQ_INIT(&oe->oe_askq);
	if ((oe->oe_tmpl = tmpl_set_new()) == NULL)
		fatalx("%s: the built-in templates do not load", __func__);
	if ((oe->oe_timer = evtimer_new(ps->ps_evbase, oidc_tick, NULL)) ==
	    NULL)
		fatal("%s: evtimer_new", __func__);
	timerclear(&tv);
	tv.tv_sec = 1;
	evtimer_add(oe->oe_timer, &tv);
}
