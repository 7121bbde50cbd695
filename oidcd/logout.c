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
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) with Dex
 * master's endpoints (reference/dex.md §9), the frontend side:
 *
 *   GET|POST /logout		id_token_hint, post_logout_redirect_uri,
 *				state, client_id: the browser session ends
 *				(storage deletes it, the cookie is
 *				cleared), then the browser goes to the
 *				upstream's end_session_endpoint when the
 *				session's connector has one, else back to
 *				the client or to a "signed out" page
 *   GET /logout/callback	back from the upstream: on to the client
 *
 * A redirect only ever goes to a URI the client registered in
 * postLogoutRedirectURIs, compared exactly; the client is the audience
 * of the id_token_hint (one of our tokens, expired or not: Core
 * §3.1.2.1), or client_id.  Anything else is an error page, never a
 * redirect.  The session's refresh tokens live on: they belong to the
 * clients, which hear of the logout by back-channel logout.
 *
 * Without an id_token_hint, or with one of another session than the
 * browser's, the user is asked first (RP-Initiated Logout 1.0 section 2:
 * the OP MUST ask then): a page with a form that posts
 * the same parameters back with a token that only this browser's
 * session cookie yields, so that a link or a form on another site
 * cannot sign the user out.
 *
 * The trip through the upstream keeps no state here: what /logout/callback
 * needs (client, URI, state) rides in the state we give the upstream,
 * and is checked again on the way back, so a forged one can do no more
 * than a /logout with client_id could.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "oidcd.h"
#include "http.h"
#include "jose.h"
#include "oauth2.h"
#include "passwd.h"
#include "session.h"
#include "store.h"

#define LOGOUT_STATE_MAX	16384	/* our state through the upstream */
#define LOGOUT_BUSY		"The service is busy; try again later."
#define LOGOUT_BC_MAX		STORE_SESSION_CLIENTS_MAX	/* tokens */
#define LOGOUT_TOKEN_LIFETIME	120	/* s; the signer's bound */
#define LOGOUT_EVENT		"http://schemas.openid.net/event/" \
				"backchannel-logout"

static void	logout_ask(struct oidc_flow *, const char *);

static const char *
jstr(const json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return (s != NULL ? s : "");
}

/* "<issuer>/logout/callback", as the upstream's post-logout URI. */
static char *
logout_callback_uri(void)
{
	const struct oauth2_conf	*conf = oidc_conf();
	char				*s;
	size_t				 n = strlen(conf->issuer);

	if (n > 0 && conf->issuer[n - 1] == '/')
		n--;
	if (asprintf(&s, "%.*s/logout/callback", (int)n, conf->issuer) == -1)
		fatal("%s: asprintf", __func__);
	return (s);
}

/* Is uri one of the client's postLogoutRedirectURIs, exactly? */
static int
logout_uri_ok(const struct oauth2_client *cl, const char *uri)
{
	size_t	 i;

	for (i = 0; i < cl->npost_logout_uris; i++)
		if (strcmp(cl->post_logout_uris[i], uri) == 0)
			return (1);
	return (0);
}

/*
 * The client an id_token_hint was issued to: its aud, or with several
 * audiences azp, or client_id when it is one of them.  NULL when the
 * hint and client_id disagree or the hint names no single client.
 */
static const char *
logout_hint_client(const json_t *claims, const char *client_id)
{
	const json_t	*aud = json_object_get(claims, "aud"), *e;
	const char	*azp;
	size_t		 i;

	if (json_is_string(aud)) {
		if (client_id != NULL &&
		    strcmp(client_id, json_string_value(aud)) != 0)
			return (NULL);
		return (json_string_value(aud));
	}
	if (!json_is_array(aud))
		return (NULL);
	azp = json_string_value(json_object_get(claims, "azp"));
	json_array_foreach(aud, i, e) {
		if (!json_is_string(e))
			continue;
		if (client_id != NULL) {
			if (strcmp(client_id, json_string_value(e)) == 0)
				return (json_string_value(e));
		} else if (azp != NULL && strcmp(azp,
		    json_string_value(e)) == 0)
			return (json_string_value(e));
	}
	if (client_id == NULL && azp == NULL && json_array_size(aud) == 1 &&
	    json_is_string(json_array_get(aud, 0)))
		return (json_string_value(json_array_get(aud, 0)));
	return (NULL);
}

/* The end: back to the client with its state, or the signed-out page. */
static void
logout_finish(struct oidc_flow *fl)
{
	json_t		*d = oidc_flow_data(fl);
	struct http_kv	 kv[1];
	const char	*uri = jstr(d, "uri"), *state = jstr(d, "state");
	char		*url;
	size_t		 n = 0;

	if (*uri == '\0') {
		oidc_page(fl, 200, "logout.html", json_object());
		return;
	}
	if (*state != '\0') {
		kv[0].key = "state";
		kv[0].value = state;
		n = 1;
	}
	if ((url = oauth2_redirect(uri, 0, kv, n)) == NULL) {
		oidc_error_page(fl, 400, "Invalid post_logout_redirect_uri.");
		return;
	}
	oidc_redirect(fl, 302, url);
	free(url);
}

/* The connector said where the upstream signs the user out, if at all. */
static void
logout_upstream_url(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *data, size_t len)
{
	const char	*url = jstr(reply, "url");

	if (reply != NULL && json_is_true(json_object_get(reply, "ok")) &&
	    *url != '\0') {
		log_info("logout: the user is sent to the upstream's "
		    "end_session_endpoint");
		oidc_redirect(fl, 302, url);
		return;
	}
	logout_finish(fl);
}

/* Our state through the upstream: base64url of {"c", "u", "s"}. */
static char *
logout_state_make(json_t *d)
{
	json_t	*o;
	char	*js, *s;

	if ((o = json_pack("{s:s, s:s, s:s}", "c", jstr(d, "client"),
	    "u", jstr(d, "uri"), "s", jstr(d, "state"))) == NULL ||
	    (js = json_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("%s: json", __func__);
	json_decref(o);
	if ((s = jose_b64url_encode(js, strlen(js))) == NULL)
		fatalx("%s: encode", __func__);
	free(js);
	return (s);
}

/* After back-channel logout: the upstream's logout, or the end. */
static void
logout_upstream(struct oidc_flow *fl)
{
	const struct oauth2_connector	*cn;
	const char			*conn;
	char				*back, *state;
	json_t				*ask, *d = oidc_flow_data(fl);

	conn = jstr(d, "connectorId");
	cn = oauth2_connector_find(oidc_conf(), conn);
	if (cn == NULL || strcmp(conn, PASSWD_CONNECTOR_ID) == 0 ||
	    strcmp(cn->type, "oidc") != 0) {
		logout_finish(fl);
		return;
	}
	back = logout_callback_uri();
	state = logout_state_make(d);
	if ((ask = json_pack("{s:s, s:s, s:s}", "connectorId", conn,
	    "postLogoutRedirectUri", back, "state", state)) == NULL)
		fatalx("%s: json_pack", __func__);
	free(back);
	free(state);
	/* The user is signed out here: without the upstream, finish. */
	if (oidc_ask_json(fl, PROC_CONNECTOR, IMSG_CONN_LOGOUT, ask,
	    logout_upstream_url) == -1)
		logout_finish(fl);
}

/*
 * Back-channel logout (OpenID Back-Channel Logout 1.0): a logout token
 * for every client the session signed in that has a
 * backchannelLogoutURI, signed by the signer, POSTed by the connector
 * (the frontends have no network).  The connector answers at once and
 * sends in the background: a client that is down does not hold up the
 * browser, and the connector logs what failed.
 */
static void
logout_bc_sent(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *data, size_t len)
{
	/* Fire and forget: the connector logs failures. */
}

static void
logout_bc_signed(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *jws, size_t len)
{
	const struct oauth2_client	*cl = NULL;
	struct jose_jws			 p;
	json_t				*d = oidc_flow_data(fl), *claims = NULL;
	json_int_t			 left;
	char				*tok;

	/* Whose token it is, the signed payload says. */
	memset(&p, 0, sizeof(p));
	if (type == IMSG_SIGN_RESULT && jose_jws_parse(jws, len, &p) == 0 &&
	    (claims = jose_json_object(p.payload, p.payload_len)) != NULL)
		cl = oauth2_client_find(oidc_conf(), jstr(claims, "aud"));
	if (cl != NULL && cl->backchannel_uri != NULL) {
		if ((tok = strndup(jws, len)) == NULL)
			fatal("%s: strndup", __func__);
		if (oidc_ask_json(fl, PROC_CONNECTOR, IMSG_CONN_BACKCHANNEL,
		    json_pack("{s:s, s:s, s:s}", "clientId", cl->id,
		    "uri", cl->backchannel_uri, "logoutToken", tok),
		    logout_bc_sent) == -1)
			log_warnx("logout: back-channel logout of client %s "
			    "not sent: too busy", cl->id);
		free(tok);
	} else
		log_warnx("logout: a logout token was not signed");
	json_decref(claims);
	jose_jws_free(&p);
	left = json_integer_value(json_object_get(d, "bcPending")) - 1;
	json_object_set_new(d, "bcPending", json_integer(left));
	if (left <= 0)
		logout_upstream(fl);
}

/* The logout token's claims for one client; NULL when out of memory. */
static json_t *
logout_token_claims(const char *client, const char *sub, const char *sid)
{
	uint8_t		 rnd[16];
	char		*jti;
	json_t		*o;
	time_t		 now = time(NULL);

	arc4random_buf(rnd, sizeof(rnd));
	if ((jti = jose_b64url_encode(rnd, sizeof(rnd))) == NULL)
		fatalx("%s: encode", __func__);
	o = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:{s:{}}}",
	    "iss", oidc_conf()->issuer, "aud", client,
	    "iat", (json_int_t)now, "exp", (json_int_t)now +
	    LOGOUT_TOKEN_LIFETIME, "jti", jti, "sub", sub, "sid", sid,
	    "events", LOGOUT_EVENT);
	free(jti);
	return (o);
}

/* Start the signatures; the number asked for (0: none to send). */
static int
logout_backchannel(struct oidc_flow *fl, json_t *reply)
{
	const struct oauth2_client	*cl;
	json_t				*e, *d = oidc_flow_data(fl);
	char				*sub;
	size_t				 i;
	int				 n = 0;

	sub = jose_dex_subject(jstr(reply, "userId"),
	    jstr(reply, "connectorId"));
	if (sub == NULL)
		return (0);
	json_array_foreach(json_object_get(reply, "clients"), i, e) {
		if (n >= LOGOUT_BC_MAX)
			break;
		cl = oauth2_client_find(oidc_conf(), json_string_value(e));
		if (cl == NULL || cl->backchannel_uri == NULL)
			continue;
		if (oidc_ask_sign(fl, SIGN_TOKEN_LOGOUT, logout_token_claims(
		    cl->id, sub, jstr(reply, "sid")), logout_bc_signed) == -1) {
			log_warnx("logout: cannot ask for a logout token for "
			    "client %s", cl->id);
			continue;
		}
		n++;
	}
	free(sub);
	json_object_set_new(d, "bcPending", json_integer(n));
	return (n);
}

/* Storage ended the session (or had none). */
static void
logout_ended(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *data, size_t len)
{
	if (reply == NULL || !json_is_true(json_object_get(reply, "ok"))) {
		oidc_error_page(fl, 503, LOGOUT_BUSY);
		return;
	}
	if (json_is_true(json_object_get(reply, "other"))) {
		log_info("logout: the id_token_hint is of another session; "
		    "asking");
		logout_ask(fl, jstr(oidc_flow_data(fl), "csrf"));
		return;
	}
	oidc_session_clear(fl);
	if (!json_is_true(json_object_get(reply, "ended"))) {
		logout_finish(fl);
		return;
	}
	log_info("logout: browser session of user %s (connector %s) ended",
	    jstr(reply, "userId"), jstr(reply, "connectorId"));
	json_object_set_new(oidc_flow_data(fl), "connectorId",
	    json_string(jstr(reply, "connectorId")));
	if (logout_backchannel(fl, reply) == 0)
		logout_upstream(fl);
}

static int
logout_params(struct http_params *pp, const char *s, size_t len)
{
	http_params_init(pp);
	if (s == NULL)
		return (0);
	return (http_params_parse(pp, s, len) == HTTP_PARAMS_OK ? 0 : -1);
}

/*
 * The confirmation token of the session whose cookie hashes to hash:
 * the cookie is HttpOnly and never leaves this origin, so another site
 * cannot know it.
 */
static char *
logout_csrf(const char *hash)
{
	uint8_t		 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	char		 msg[256];
	char		*s;

	(void)snprintf(msg, sizeof(msg), "oidcd logout:%s", hash);
	if (jose_digest(EVP_sha256(), msg, strlen(msg), md, &mdlen) == -1 ||
	    (s = jose_b64url_encode(md, mdlen)) == NULL)
		fatalx("%s: digest", __func__);
	explicit_bzero(msg, sizeof(msg));
	return (s);
}

/* The page that asks, posting the flow's parameters back with csrf. */
static void
logout_ask(struct oidc_flow *fl, const char *csrf)
{
	json_t	*d = oidc_flow_data(fl);

	oidc_page(fl, 200, "logout.html", json_pack("{s:b, s:s, s:s, s:s, "
	    "s:s}", "Confirm", 1, "CSRF", csrf, "ClientID", jstr(d, "client"),
	    "PostLogoutRedirectURI", jstr(d, "uri"), "State",
	    jstr(d, "state")));
}

/*
 * No id_token_hint: ask, unless this is the answer.  1 when the logout
 * may go on, 0 when the page asking was sent.
 */
static int
logout_confirmed(struct oidc_flow *fl, struct http_request *req,
    struct http_params *pp, const char *hash)
{
	const char	*given = http_param(pp, "csrf");
	char		*want;
	int		 ok;

	want = logout_csrf(hash);
	ok = req->method == HTTP_METHOD_POST && given != NULL &&
	    strlen(given) == strlen(want) &&
	    timingsafe_bcmp(given, want, strlen(want)) == 0;
	if (!ok)
		logout_ask(fl, want);
	free(want);
	return (ok);
}

/* GET or POST /logout. */
static void
logout_start(struct http_conn *c, struct http_request *req)
{
	const struct oauth2_client	*cl = NULL;
	struct http_params		 pp;
	struct oidc_flow		*fl;
	json_t				*claims = NULL, *d;
	const char			*hint, *uri, *state, *cid, *raw, *sid;
	char				*hash, *csrf;
	size_t				 rawlen;

	if ((fl = oidc_flow_new(c, req)) == NULL) {
		http_conn_respond_error(c, 503);
		return;
	}
	if (req->method != HTTP_METHOD_GET &&
	    req->method != HTTP_METHOD_POST) {
		oidc_error_page(fl, 405, "Method not allowed.");
		return;
	}
	raw = req->method == HTTP_METHOD_POST ? req->body : req->query;
	rawlen = req->method == HTTP_METHOD_POST ? req->bodylen :
	    req->querylen;
	if (logout_params(&pp, raw, rawlen) == -1) {
		oidc_error_page(fl, 400, "Invalid request: malformed or "
		    "repeated parameters.");
		http_params_free(&pp);
		return;
	}
	hint = http_param(&pp, "id_token_hint");
	uri = http_param(&pp, "post_logout_redirect_uri");
	state = http_param(&pp, "state");
	cid = http_param(&pp, "client_id");
	if (hint != NULL && *hint == '\0')
		hint = NULL;
	if (uri != NULL && *uri == '\0')
		uri = NULL;
	if (cid != NULL && *cid == '\0')
		cid = NULL;
	if ((uri != NULL && strlen(uri) > OAUTH2_REDIRECT_MAX) ||
	    (state != NULL && strlen(state) > OAUTH2_STATE_MAX) ||
	    (cid != NULL && strlen(cid) > OAUTH2_ID_MAX)) {
		oidc_error_page(fl, 400, "Invalid request: a parameter is too "
		    "long.");
		goto done;
	}
	if (hint != NULL) {
		if (strlen(hint) > SESSION_HINT_MAX ||
		    (claims = oidc_token_verify(hint, 1)) == NULL) {
			log_info("logout with an id_token_hint that is not "
			    "ours");
			oidc_error_page(fl, 400, "Invalid id_token_hint.");
			goto done;
		}
		if ((cid = logout_hint_client(claims, cid)) == NULL) {
			oidc_error_page(fl, 400, "The client_id does not "
			    "match the id_token_hint.");
			goto done;
		}
	}
	if (cid != NULL && (cl = oauth2_client_find(oidc_conf(), cid)) ==
	    NULL) {
		oidc_error_page(fl, 400, "Invalid client_id.");
		goto done;
	}
	if (uri != NULL && cl == NULL) {
		oidc_error_page(fl, 400, "A post_logout_redirect_uri needs an "
		    "id_token_hint or a client_id.");
		goto done;
	}
	if (uri != NULL && !logout_uri_ok(cl, uri)) {
		log_info("logout: post_logout_redirect_uri not registered "
		    "for client %s", cl->id);
		oidc_error_page(fl, 400, "Unregistered "
		    "post_logout_redirect_uri.");
		goto done;
	}
	d = oidc_flow_data(fl);
	if (json_object_set_new(d, "client", json_string(cl ? cl->id : "")) ==
	    -1 || json_object_set_new(d, "uri", json_string(uri ? uri : "")) ==
	    -1 || json_object_set_new(d, "state", json_string(state ? state :
	    "")) == -1)
		fatalx("%s: json", __func__);
	if ((hash = oidc_session_of(req)) == NULL) {
		oidc_session_clear(fl);
		logout_finish(fl);
		goto done;
	}
	if (hint == NULL && !logout_confirmed(fl, req, &pp, hash)) {
		free(hash);
		goto done;
	}
	/*
	 * With a hint, storage ends the session only if it is the hint's
	 * (same sid); else the answer comes back as a question.
	 */
	/* Storage takes a malformed request for a broken frontend. */
	sid = json_string_value(json_object_get(claims, "sid"));
	if (!oidc_b64url_ok(sid, STORE_SID_LEN))
		sid = NULL;
	if (sid != NULL) {
		csrf = logout_csrf(hash);
		json_object_set_new(d, "csrf", json_string(csrf));
		free(csrf);
	}
	if (oidc_ask_json(fl, PROC_STORAGE, IMSG_STORE_SESSION_END,
	    json_pack("{s:s, s:s*}", "session", hash, "sid", sid),
	    logout_ended) == -1)
		oidc_error_page(fl, 503, LOGOUT_BUSY);
	free(hash);
 done:
	json_decref(claims);
	http_params_free(&pp);
}

/*
 * GET /logout/callback: the upstream signed the user out too.  The state
 * is checked as /logout checked it: a registered URI of a known client,
 * else the signed-out page.
 */
static void
logout_callback(struct http_conn *c, struct http_request *req)
{
	const struct oauth2_client	*cl;
	struct http_params		 pp;
	struct oidc_flow		*fl;
	const char			*st;
	uint8_t				*dec = NULL;
	size_t				 declen = 0;
	json_t				*o = NULL, *d;

	if ((fl = oidc_flow_new(c, req)) == NULL) {
		http_conn_respond_error(c, 503);
		return;
	}
	if (req->method != HTTP_METHOD_GET) {
		oidc_error_page(fl, 405, "Method not allowed.");
		return;
	}
	d = oidc_flow_data(fl);
	if (logout_params(&pp, req->query, req->querylen) == 0 &&
	    (st = http_param(&pp, "state")) != NULL &&
	    strlen(st) <= LOGOUT_STATE_MAX &&
	    jose_b64url_decode(st, strlen(st), &dec, &declen) == 0 &&
	    (o = json_loadb((const char *)dec, declen,
	    JSON_REJECT_DUPLICATES, NULL)) != NULL &&
	    (cl = oauth2_client_find(oidc_conf(), jstr(o, "c"))) != NULL &&
	    logout_uri_ok(cl, jstr(o, "u")) &&
	    strlen(jstr(o, "s")) <= OAUTH2_STATE_MAX) {
		if (json_object_set_new(d, "uri", json_string(jstr(o, "u"))) ==
		    -1 || json_object_set_new(d, "state",
		    json_string(jstr(o, "s"))) == -1)
			fatalx("%s: json", __func__);
	}
	free(dec);
	json_decref(o);
	http_params_free(&pp);
	logout_finish(fl);
}

/* Routes below the issuer: 1 when the request was ours. */
int
logout_handle(struct http_conn *c, struct http_request *req,
    const char *path)
{
	if (strcmp(path, "/logout") == 0) {
		logout_start(c, req);
		return (1);
	}
	if (strcmp(path, "/logout/callback") == 0) {
		logout_callback(c, req);
		return (1);
	}
	return (0);
}
