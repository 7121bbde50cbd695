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
 * The device authorization grant (RFC 8628) with Dex's endpoints and
 * pages (reference/dex.md §4.10), the frontend side:
 *
 *   POST /device/code		the device asks: a device code and a user
 *				code (store.c makes both)
 *   GET  /device		the page where the user types the user code
 *   POST /device/auth/verify_code  on to the normal login at /auth, with
 *				redirect_uri /device/callback, state the
 *				user code
 *   GET  /device/callback	back from the login: storage redeems the
 *				code and keeps the grant for the device
 *   POST /token		grant_type device_code: the device polls
 *
 * Where Dex is weak (dex.md §10) this is not: the client authenticates
 * at /device/code and when it polls, and its secret never travels in a
 * URL; the login's code is bound to the device request by a nonce; the
 * form is CSRF-protected; the tokens are made once, when the device
 * collects them, and never stored.
 *
 * The form has no auth request yet to key a CSRF token to, so it uses a
 * double-submit cookie: the page sets a random value in a SameSite=Strict
 * HttpOnly cookie and in the form, and the POST must bring both, equal.
 * Any frontend can check that without storage.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "oidcd.h"
#include "http.h"
#include "jose.h"
#include "oauth2.h"
#include "passwd.h"
#include "store.h"

#define DEVICE_CSRF_COOKIE	"oidcd_device_csrf"
#define DEVICE_CSRF_BYTES	16
#define DEVICE_CSRF_LEN		22	/* base64url of the bytes */
#define DEVICE_CODE_LEN		STORE_DEVICE_CODE_LEN
#define DEVICE_AUTHCODE_LEN	STORE_CODE_LEN
#define DEVICE_ERRTEXT_MAX	256	/* of an error echoed on a page */
#define DEVICE_BUSY		"The service is busy; try again later."
#define DEVICE_RL_ENTRIES	1024	/* addresses counted, per frontend */

#define DEVICE_NORESOURCE	"Requested resource does not exist."
#define DEVICE_BADFORM		"The form has expired or was not sent by " \
				"this site; go back and try again."

/*
 * Wrong user codes, counted per client address (/64 for IPv6) with the
 * password limiter's rules: RFC 8628 §5.1 asks for a bound on guessing,
 * which the 20^8 codes alone do not give a patient guesser.
 */
static struct passwd_rl	*device_rl;

static const char *
jstr(const json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return (s != NULL ? s : "");
}

static int
device_params(struct http_params *pp, const char *s, size_t len)
{
	http_params_init(pp);
	if (s == NULL)
		return (0);
	return (http_params_parse(pp, s, len) == HTTP_PARAMS_OK ? 0 : -1);
}

/* "<issuer>/device", as Dex's verification_uri (no trailing slash). */
static char *
device_verification_uri(void)
{
	const struct oauth2_conf	*conf = oidc_conf();
	char				*s;
	size_t				 n = strlen(conf->issuer);

	if (n > 0 && conf->issuer[n - 1] == '/')
		n--;
	if (asprintf(&s, "%.*s/device", (int)n, conf->issuer) == -1)
		fatal("%s: asprintf", __func__);
	return (s);
}

/*
 * CSRF: the cookie's value, when it is one of ours; else NULL.
 */
static char *
device_csrf_cookie(struct http_request *req)
{
	const char	*h, *p, *v;
	size_t		 n, len = sizeof(DEVICE_CSRF_COOKIE) - 1;
	char		*s;

	if ((h = http_header(req, "Cookie")) == NULL)
		return (NULL);
	for (p = h; *p != '\0'; p++) {
		while (*p == ' ')
			p++;
		if (strncmp(p, DEVICE_CSRF_COOKIE, len) != 0 ||
		    p[len] != '=') {
			/* On to the next name=value. */
			p += strcspn(p, ";");
			if (*p == '\0')
				break;
			continue;
		}
		v = p + len + 1;
		n = strcspn(v, "; ");
		if (n != DEVICE_CSRF_LEN)
			return (NULL);
		if ((s = strndup(v, n)) == NULL)
			fatal("%s: strndup", __func__);
		if (!oidc_b64url_ok(s, DEVICE_CSRF_LEN)) {
			free(s);
			return (NULL);
		}
		return (s);
	}
	return (NULL);
}

/* The value for the form; a new one goes out in the page's cookie. */
static char *
device_csrf_token(struct oidc_flow *fl, struct http_request *req)
{
	const struct oauth2_conf	*conf = oidc_conf();
	uint8_t				 raw[DEVICE_CSRF_BYTES];
	char				*v, *cookie;

	if ((v = device_csrf_cookie(req)) != NULL)
		return (v);
	arc4random_buf(raw, sizeof(raw));
	if ((v = jose_b64url_encode(raw, sizeof(raw))) == NULL)
		fatal("%s: encode", __func__);
	explicit_bzero(raw, sizeof(raw));
	/* Only the device pages see it; Secure when served on TLS. */
	if (asprintf(&cookie, "%s=%s; Path=%s/device; HttpOnly; "
	    "SameSite=Strict%s", DEVICE_CSRF_COOKIE, v, conf->issuer_path,
	    strncmp(conf->issuer, "https:", 6) == 0 ? "; Secure" : "") == -1)
		fatal("%s: asprintf", __func__);
	oidc_flow_cookie(fl, cookie);
	free(cookie);
	return (v);
}

static int
device_csrf_check(struct http_request *req, const char *given)
{
	char	*want;
	int	 ok;

	if (given == NULL || (want = device_csrf_cookie(req)) == NULL)
		return (0);
	ok = strlen(given) == DEVICE_CSRF_LEN &&
	    timingsafe_bcmp(given, want, DEVICE_CSRF_LEN) == 0;
	free(want);
	return (ok);
}

/* device.html with Dex's data, and our CSRF token. */
static void
device_render(struct oidc_flow *fl, int status, const char *ucode,
    int invalid, const char *csrf)
{
	json_t	*data;
	char	*post;

	if (asprintf(&post, "%s/device/auth/verify_code",
	    oidc_conf()->issuer_path) == -1)
		fatal("%s: asprintf", __func__);
	data = json_pack("{s:s, s:s, s:b, s:s}", "PostURL", post,
	    "UserCode", ucode != NULL ? ucode : "", "Invalid", invalid,
	    "CSRF", csrf);
	free(post);
	if (data == NULL)
		fatalx("%s: json_pack", __func__);
	oidc_page(fl, status, "device.html", data);
}

/*
 * POST /device/code
 */

static void
device_created(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	const char	*err, *dcode, *ucode;
	json_t		*o;
	char		*uri, *complete, *body, *s;

	if (reply == NULL) {
		oidc_json_error(fl, 503, "server_error", DEVICE_BUSY);
		return;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		err = jstr(reply, "error");
		oidc_json_error(fl, strcmp(err, "server_error") == 0 ? 500 :
		    400, *err != '\0' ? err : "server_error",
		    jstr(reply, "error_description"));
		return;
	}
	dcode = jstr(reply, "deviceCode");
	ucode = jstr(reply, "userCode");
	if (!oidc_b64url_ok(dcode, DEVICE_CODE_LEN) ||
	    strlen(ucode) != STORE_USER_CODE_LEN)
		fatalx("%s: bad device codes from storage", __func__);
	uri = device_verification_uri();
	if (asprintf(&complete, "%s?user_code=%s", uri, ucode) == -1)
		fatal("%s: asprintf", __func__);
	/* Dex's deviceCodeResponse, members in its order. */
	o = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O}",
	    "device_code", dcode, "user_code", ucode,
	    "verification_uri", uri, "verification_uri_complete", complete,
	    "expires_in", json_object_get(reply, "expiresIn"),
	    "interval", json_object_get(reply, "interval"));
	free(uri);
	free(complete);
	if (o == NULL)
		fatalx("%s: json_pack", __func__);
	/* Go's json.Encoder with SetIndent("", "   "): a final newline. */
	s = json_dumps(o, JSON_INDENT(3) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL || asprintf(&body, "%s\n", s) == -1)
		fatal("%s: json", __func__);
	freezero(s, strlen(s));
	log_info("device code issued to client %s", jstr(oidc_flow_data(fl),
	    "clientId"));
	oidc_json(fl, 200, body, NULL, 0);
	freezero(body, strlen(body));
}

static void
device_code(struct http_conn *c, struct http_request *req)
{
	struct oauth2_device_request	 dr;
	struct http_params		 form;
	struct oidc_flow		*fl;
	const struct oauth2_conf	*conf = oidc_conf();
	char				*uri;
	json_t				*ask;

	if ((fl = oidc_flow_new(c, req)) == NULL) {
		http_conn_respond_error(c, 503);
		return;
	}
	memset(&dr, 0, sizeof(dr));
	if (req->method != HTTP_METHOD_POST) {
		oidc_json_error(fl, 405, "invalid_request", "Method not "
		    "allowed.");
		return;
	}
	if (device_params(&form, req->body, req->bodylen) == -1) {
		oidc_json_error(fl, 400, "invalid_request", "Malformed or "
		    "repeated parameters.");
		goto done;
	}
	if (oauth2_device_request(conf, req, &form, &dr) == -1) {
		oidc_json_error(fl, dr.status, oauth2_error_name(dr.error),
		    dr.description);
		goto done;
	}
	if ((uri = oauth2_device_redirect_uri(conf, dr.client, 1)) == NULL)
		fatal("%s: oauth2_device_redirect_uri", __func__);
	json_object_set_new(oidc_flow_data(fl), "clientId",
	    json_string(dr.client->id));
	ask = json_pack("{s:s, s:O, s:s, s:s, s:s}",
	    "clientId", dr.client->id, "scopes", dr.scopes,
	    "redirectUri", uri, "codeChallenge", dr.code_challenge,
	    "codeChallengeMethod", dr.code_challenge_method);
	free(uri);
	if (oidc_ask_json(fl, PROC_STORAGE, IMSG_STORE_DEVICE_CREATE, ask,
	    device_created) == -1)
		oidc_json_error(fl, 503, "server_error", DEVICE_BUSY);
 done:
	oauth2_device_request_free(&dr);
	http_params_free(&form);
}

/*
 * GET /device[?user_code=...]: Dex's handleDeviceExchange, which also
 * takes invalid=true.
 */
static void
device_page(struct http_conn *c, struct http_request *req)
{
	struct http_params	 pp;
	struct oidc_flow	*fl;
	const char		*uc, *inv;
	char			 canon[STORE_USER_CODE_LEN + 1];
	char			*csrf;

	if ((fl = oidc_flow_new(c, req)) == NULL) {
		http_conn_respond_error(c, 503);
		return;
	}
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD) {
		oidc_error_page(fl, 400, DEVICE_NORESOURCE);
		return;
	}
	if (device_params(&pp, req->query, req->querylen) == -1) {
		http_params_free(&pp);
		oidc_error_page(fl, 400, "Invalid request: malformed or "
		    "repeated parameters.");
		return;
	}
	uc = http_param(&pp, "user_code");
	if (uc != NULL && store_user_code_parse(uc, canon) == 0)
		uc = canon;
	else if (uc != NULL && strlen(uc) > STORE_USER_CODE_INPUT_MAX)
		uc = NULL;
	inv = http_param(&pp, "invalid");
	csrf = device_csrf_token(fl, req);
	device_render(fl, 200, uc, inv != NULL && (strcmp(inv, "true") == 0 ||
	    strcmp(inv, "1") == 0), csrf);
	free(csrf);
	http_params_free(&pp);
}

/*
 * POST /device/auth/verify_code
 */

static void
device_verified(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	const struct oauth2_conf	*conf = oidc_conf();
	const struct oauth2_client	*cl;
	struct http_kv			 kv[6];
	json_t				*dev, *fd = oidc_flow_data(fl), *v;
	const char			*err;
	char				*uri, *base, *scope, *t, *url;
	size_t				 i;

	if (reply == NULL) {
		oidc_error_page(fl, 503, DEVICE_BUSY);
		return;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		err = jstr(reply, "error");
		if (strcmp(err, "invalid_request") == 0) {
			passwd_rl_fail(device_rl, NULL, jstr(fd, "addr"),
			    now_monotonic_ms() / 1000);
			device_render(fl, 400, jstr(fd, "userCode"), 1,
			    jstr(fd, "csrf"));
		}
		else
			oidc_error_page(fl, 500, jstr(reply,
			    "error_description"));
		return;
	}
	dev = json_object_get(reply, "device");
	/* A reload may have taken the client away meanwhile. */
	if ((cl = oauth2_client_find(conf, jstr(dev, "clientId"))) == NULL ||
	    (uri = oauth2_device_redirect_uri(conf, cl, 0)) == NULL) {
		device_render(fl, 400, jstr(fd, "userCode"), 1,
		    jstr(fd, "csrf"));
		return;
	}
	if ((scope = strdup("")) == NULL)
		fatal("%s: strdup", __func__);
	json_array_foreach(json_object_get(dev, "scopes"), i, v) {
		if (asprintf(&t, "%s%s%s", scope, i > 0 ? " " : "",
		    json_string_value(v)) == -1)
			fatal("%s: asprintf", __func__);
		free(scope);
		scope = t;
	}
	/*
	 * Dex's verifyUserCode, in the sorted order of Go's Encode(), but
	 * without the client's secret in the URL (master's #4928), and
	 * with the request's nonce, to which the code will be bound.
	 */
	kv[0].key = "client_id";
	kv[0].value = cl->id;
	kv[1].key = "nonce";
	kv[1].value = jstr(dev, "nonce");
	kv[2].key = "redirect_uri";
	kv[2].value = uri;
	kv[3].key = "response_type";
	kv[3].value = "code";
	kv[4].key = "scope";
	kv[4].value = scope;
	kv[5].key = "state";
	kv[5].value = jstr(fd, "userCode");
	if (asprintf(&base, "%s/auth", conf->issuer_path) == -1)
		fatal("%s: asprintf", __func__);
	url = oauth2_redirect(base, 0, kv, 6);
	free(base);
	free(scope);
	free(uri);
	if (url == NULL) {
		oidc_error_page(fl, 500, "Internal server error.");
		return;
	}
	oidc_redirect(fl, 302, url);
	free(url);
}

static void
device_verify(struct http_conn *c, struct http_request *req)
{
	struct http_params	 form;
	struct oidc_flow	*fl;
	const char		*uc, *csrf;
	char			 canon[STORE_USER_CODE_LEN + 1];
	char			 shown[STORE_USER_CODE_INPUT_MAX + 1];
	char			*p;
	json_t			*fd;

	if ((fl = oidc_flow_new(c, req)) == NULL) {
		http_conn_respond_error(c, 503);
		return;
	}
	if (req->method != HTTP_METHOD_POST) {
		oidc_error_page(fl, 400, DEVICE_NORESOURCE);
		return;
	}
	if (device_params(&form, req->body, req->bodylen) == -1) {
		http_params_free(&form);
		oidc_error_page(fl, 400, "Invalid request.");
		return;
	}
	csrf = http_param(&form, "csrf");
	if (!device_csrf_check(req, csrf)) {
		log_warnx("device form without a valid CSRF token from %s",
		    http_conn_peer_str(c));
		oidc_error_page(fl, 403, DEVICE_BADFORM);
		goto done;
	}
	uc = http_param(&form, "user_code");
	if (uc == NULL || *uc == '\0') {
		oidc_error_page(fl, 400, "No user code received");
		goto done;
	}
	if (device_rl == NULL &&
	    (device_rl = passwd_rl_new(DEVICE_RL_ENTRIES)) == NULL)
		fatal("%s: passwd_rl_new", __func__);
	if (passwd_rl_check(device_rl, NULL, http_conn_peer_str(c),
	    now_monotonic_ms() / 1000) > 0) {
		log_info("device code entry from %s refused: too many wrong "
		    "codes", http_conn_peer_str(c));
		oidc_error_page(fl, 429, "Too many wrong codes; try again "
		    "later.");
		goto done;
	}
	if (store_user_code_parse(uc, canon) == -1) {
		passwd_rl_fail(device_rl, NULL, http_conn_peer_str(c),
		    now_monotonic_ms() / 1000);
		/* Shown again, upper-cased as Dex does, within bounds. */
		(void)strlcpy(shown, uc, sizeof(shown));
		for (p = shown; *p != '\0'; p++)
			if (*p >= 'a' && *p <= 'z')
				*p -= 'a' - 'A';
		device_render(fl, 400, shown, 1, csrf);
		goto done;
	}
	fd = oidc_flow_data(fl);
	json_object_set_new(fd, "userCode", json_string(canon));
	json_object_set_new(fd, "csrf", json_string(csrf));
	json_object_set_new(fd, "addr", json_string(http_conn_peer_str(c)));
	if (oidc_ask_json(fl, PROC_STORAGE, IMSG_STORE_DEVICE_GET,
	    json_pack("{s:s}", "userCode", canon), device_verified) == -1)
		oidc_error_page(fl, 503, DEVICE_BUSY);
 done:
	http_params_free(&form);
}

/*
 * GET /device/callback?code=...&state=<user code>, or with error=...
 * when the user refused or the login failed.
 */

static void
device_completed(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	const struct oauth2_client	*cl;
	const char			*cid;

	if (reply == NULL) {
		oidc_error_page(fl, 503, DEVICE_BUSY);
		return;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		oidc_error_page(fl, strcmp(jstr(reply, "error"),
		    "server_error") == 0 ? 500 : 400,
		    jstr(reply, "error_description"));
		return;
	}
	cid = jstr(reply, "clientId");
	log_info("device login complete for client %s", cid);
	cl = oauth2_client_find(oidc_conf(), cid);
	oidc_page(fl, 200, "device_success.html", json_pack("{s:s}",
	    "ClientName", cl != NULL && cl->name != NULL && *cl->name !=
	    '\0' ? cl->name : cid));
}

static void
device_denied(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	json_t	*fd = oidc_flow_data(fl);
	char	*msg;

	if (reply == NULL) {
		oidc_error_page(fl, 503, DEVICE_BUSY);
		return;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		oidc_error_page(fl, 400, jstr(reply, "error_description"));
		return;
	}
	log_info("device login refused for client %s",
	    jstr(reply, "clientId"));
	if (asprintf(&msg, "The device was not signed in: %s.",
	    *jstr(fd, "description") != '\0' ? jstr(fd, "description") :
	    jstr(fd, "error")) == -1)
		fatal("%s: asprintf", __func__);
	oidc_error_page(fl, 403, msg);
	free(msg);
}

static void
device_callback(struct http_conn *c, struct http_request *req)
{
	struct http_params	 pp;
	struct oidc_flow	*fl;
	const char		*state, *code, *err, *desc;
	char			 canon[STORE_USER_CODE_LEN + 1];
	json_t			*fd;
	int			 rv;

	if ((fl = oidc_flow_new(c, req)) == NULL) {
		http_conn_respond_error(c, 503);
		return;
	}
	if (req->method != HTTP_METHOD_GET) {
		oidc_error_page(fl, 400, DEVICE_NORESOURCE);
		return;
	}
	if (device_params(&pp, req->query, req->querylen) == -1) {
		http_params_free(&pp);
		oidc_error_page(fl, 400, "Request was missing parameters");
		return;
	}
	state = http_param(&pp, "state");
	code = http_param(&pp, "code");
	err = http_param(&pp, "error");
	if (state == NULL || store_user_code_parse(state, canon) == -1 ||
	    strcmp(state, canon) != 0 || (code == NULL && err == NULL)) {
		oidc_error_page(fl, 400, "Request was missing parameters");
		goto done;
	}
	fd = oidc_flow_data(fl);
	if (err != NULL) {
		desc = http_param(&pp, "error_description");
		json_object_set_new(fd, "error", json_stringn(err,
		    strnlen(err, DEVICE_ERRTEXT_MAX)));
		json_object_set_new(fd, "description", json_stringn(desc ?
		    desc : "", desc ? strnlen(desc, DEVICE_ERRTEXT_MAX) : 0));
		rv = oidc_ask_json(fl, PROC_STORAGE, IMSG_STORE_DEVICE_DENY,
		    json_pack("{s:s}", "userCode", canon), device_denied);
	} else if (!oidc_b64url_ok(code, DEVICE_AUTHCODE_LEN)) {
		oidc_error_page(fl, 400, "Invalid or expired auth code.");
		goto done;
	} else
		rv = oidc_ask_json(fl, PROC_STORAGE,
		    IMSG_STORE_DEVICE_COMPLETE, json_pack("{s:s, s:s}",
		    "userCode", canon, "code", code), device_completed);
	if (rv == -1)
		oidc_error_page(fl, 503, DEVICE_BUSY);
 done:
	http_params_free(&pp);
}

/*
 * The device_code grant at /token (oidc_token() has authenticated the
 * client).  0 when answered or asked, -1 when storage cannot be asked.
 */

static void
device_polled(struct oidc_flow *fl, uint32_t type, json_t *reply,
    const char *d, size_t l)
{
	const char	*err;

	if (reply == NULL) {
		oidc_json_error(fl, 503, "server_error", DEVICE_BUSY);
		return;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		/* RFC 8628 §3.5: every one of them is a 400. */
		err = jstr(reply, "error");
		oidc_json_error(fl, strcmp(err, "server_error") == 0 ? 500 :
		    400, *err != '\0' ? err : "server_error",
		    jstr(reply, "error_description"));
		return;
	}
	oidc_token_grant(fl, reply);
}

int
device_token(struct oidc_flow *fl, const struct oauth2_token_request *tr)
{
	json_t	*ask;

	if (!oidc_b64url_ok(tr->device_code, DEVICE_CODE_LEN)) {
		oidc_json_error(fl, 400, "invalid_grant",
		    "Invalid Device code.");
		return (0);
	}
	ask = json_pack("{s:s, s:s, s:b}", "deviceCode", tr->device_code,
	    "clientId", tr->client->id, "refresh", 1);
	if (tr->code_verifier != NULL)
		json_object_set_new(ask, "codeVerifier",
		    json_string(tr->code_verifier));
	return (oidc_ask_json(fl, PROC_STORAGE, IMSG_STORE_DEVICE_POLL, ask,
	    device_polled));
}

/*
 * Route /device...: 0 when it is not ours, which includes every device
 * path when oauth2.grantTypes leaves the grant out (discovery does not
 * name it then either).
 */
int
device_handle(struct http_conn *c, struct http_request *req,
    const char *path)
{
	const struct oauth2_conf	*conf = oidc_conf();

	if (conf == NULL || !(conf->grant_mask & OAUTH2_GT_DEVICECODE))
		return (0);
	if (strcmp(path, "/device/code") == 0)
		device_code(c, req);
	else if (strcmp(path, "/device") == 0)
		device_page(c, req);
	else if (strcmp(path, "/device/auth/verify_code") == 0)
		device_verify(c, req);
	else if (strcmp(path, "/device/callback") == 0)
		device_callback(c, req);
	else
		return (0);
	return (1);
}
