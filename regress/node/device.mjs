// Copyright (c) 2026 The oidcd authors
//
// Permission to use, copy, modify, and distribute this software for any
// purpose with or without fee is hereby granted, provided that the above
// copyright notice and this permission notice appear in all copies.
//
// THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
// WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
// MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
// ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
// WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
// ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
// OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.

// The device authorization grant (RFC 8628) against a running oidcd:
// openid-client plays the device (initiateDeviceAuthorization,
// pollDeviceAuthorizationGrant); the browser half is done by hand with
// oplib's Agent: the verification page, its form with the CSRF token,
// the password login and the approval page.  Prints TAP lines without
// numbers.
//
// Usage:
//	node device.mjs main ISSUER DIR	the flows and their failures; the
//					device code and refresh token it
//					saw go to DIR, for the log check
//	node device.mjs expiry ISSUER	expiry.deviceRequests is 2s
//	node device.mjs off ISSUER	oauth2.grantTypes omits the grant

import { writeFileSync } from 'node:fs';
import * as client from 'openid-client';
import {
	ADMIN_SUB, ok, is, diag, finish, sleep, Agent, readForm,
	browserLogin, postForm, pkcePair,
} from './oplib.mjs';

const [mode, issuer, dir] = process.argv.slice(2);
const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const CODE_RE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;
const CALLBACK = `${issuer}/device/callback`;

async function configure(id, secret) {
	const config = await client.discovery(new URL(issuer), id, secret,
	    secret === undefined ? client.None() :
	    client.ClientSecretBasic(secret),
	    { execute: [client.allowInsecureRequests] });
	// The ID token's signature too, against jwks_uri.
	client.enableNonRepudiationChecks(config);
	return config;
}

async function outcome(p) {
	try {
		return { code: 'ok', value: await p };
	} catch (e) {
		return {
			code: e.error ?? e.code ?? 'exception',
			status: e.status, description: e.error_description, e,
		};
	}
}

function poll(deviceCode, auth, extra = {}) {
	const form = { grant_type: GRANT, device_code: deviceCode, ...extra };
	if (auth.length === 1)
		form.client_id = auth[0];
	return postForm(`${issuer}/token`, form,
	    auth.length === 2 ? auth : undefined);
}

// The browser: the verification page, its form, then on to the login
// (approve: true, false to stop at the approval page, or a value to
// send).  Returns { verify, login, callback } responses.
async function browser(url, opts = {}) {
	const agent = new Agent();
	const out = {};
	out.page = await agent.request(url);
	const form = out.page.status === 200 ?
	    readForm(out.page.text, out.page.url) : null;
	out.form = form;
	if (form === null)
		return out;
	const post = { ...form.hidden };
	post.user_code = opts.userCode ??
	    form.fields.find((f) => f.name === 'user_code')?.value ?? '';
	if (opts.noCsrf)
		delete post.csrf;
	out.verify = await agent.request(form.action, { form: post });
	if (out.verify.status !== 302 || opts.stopAtVerify)
		return out;
	out.login = await browserLogin(out.verify.location, {
		agent, redirect: CALLBACK, approve: opts.approve,
	});
	if (out.login.location === null)
		return out;
	out.callback = await agent.request(out.login.location);
	return out;
}

function steps(b) {
	return JSON.stringify({
		page: b.page?.status, verify: [b.verify?.status,
		    String(b.verify?.location)],
		login: b.login && Object.fromEntries(Object.entries(
		    b.login.steps).map(([k, v]) => [k, v &&
		    v.status !== undefined ? [v.status, String(v.location)] :
		    v])),
		callback: b.callback?.status,
	});
}

async function publicFlow() {
	const config = await configure('public-cli');
	const md = config.serverMetadata();
	is(md.device_authorization_endpoint, `${issuer}/device/code`,
	    'discovery: device_authorization_endpoint');
	ok(md.grant_types_supported.includes(GRANT),
	    'discovery: the device_code grant');

	// The answer by hand first: Dex's shape, to the byte.
	const raw = await fetch(`${issuer}/device/code`, {
		method: 'POST', body: new URLSearchParams({
			client_id: 'public-cli', scope: 'openid' }),
	});
	const text = await raw.text();
	is(raw.status, 200, '/device/code: 200');
	is(raw.headers.get('cache-control'), 'no-store',
	    '/device/code: Cache-Control: no-store');
	ok(/^application\/json/.test(raw.headers.get('content-type')),
	    '/device/code: JSON');
	const j = JSON.parse(text);
	is(Object.keys(j), ['device_code', 'user_code', 'verification_uri',
	    'verification_uri_complete', 'expires_in', 'interval'],
	    '/device/code: Dex\'s members in Dex\'s order');
	is(text, JSON.stringify(j, null, 3) + '\n',
	    '/device/code: indented by 3 spaces, a final newline');
	ok(CODE_RE.test(j.user_code), 'user code: XXXX-XXXX of Dex\'s ' +
	    'letters', j.user_code);
	is(j.verification_uri, `${issuer}/device`, 'verification_uri');
	is(j.verification_uri_complete,
	    `${issuer}/device?user_code=${j.user_code}`,
	    'verification_uri_complete');
	is([j.expires_in, j.interval], [300, 5], 'expires_in 300, interval 5');

	const r = await outcome(client.initiateDeviceAuthorization(config,
	    { scope: 'openid email profile groups offline_access' }));
	if (!ok(r.code === 'ok', 'openid-client: device authorization ' +
	    'request', r.e && r.e.stack))
		return;
	const da = r.value;
	writeFileSync(`${dir}/devcode`, da.device_code);
	const polling = outcome(client.pollDeviceAuthorizationGrant(config,
	    da));

	const b = await browser(da.verification_uri_complete);
	is(b.page.status, 200, 'verification page: 200');
	ok(/oidcd_device_csrf=[A-Za-z0-9_-]{22};.*HttpOnly.*SameSite=Strict/
	    .test(b.page.headers.get('set-cookie')),
	    'verification page: a CSRF cookie, HttpOnly, SameSite=Strict',
	    b.page.headers.get('set-cookie'));
	ok(b.form && b.form.fields.some((f) => f.name === 'user_code' &&
	    f.value === da.user_code), 'the page is filled in with the code');
	ok(b.form && b.form.hidden.csrf?.length === 22,
	    'the form carries the CSRF token');
	is(b.verify?.status, 302, 'verify_code: 302');
	const auth = b.verify?.location;
	ok(auth && auth.pathname === '/dex/auth' &&
	    auth.searchParams.get('client_id') === 'public-cli' &&
	    auth.searchParams.get('redirect_uri') === '/device/callback' &&
	    auth.searchParams.get('state') === da.user_code &&
	    auth.searchParams.get('response_type') === 'code' &&
	    auth.searchParams.get('scope') ===
	    'openid email profile groups offline_access',
	    'verify_code: on to /auth with Dex\'s parameters', String(auth));
	ok(auth && !auth.searchParams.has('client_secret'),
	    'verify_code: no client_secret in the URL');
	is(b.callback?.status, 200, 'device callback: 200', steps(b));
	ok(/Login Successful for Public CLI/.test(b.callback?.text ?? ''),
	    'device_success.html names the client');

	const t = await polling;
	if (!ok(t.code === 'ok', 'openid-client polls and gets the tokens, ' +
	    'ID token verified against /keys', t.e && t.e.stack))
		return;
	const tok = t.value;
	is(tok.token_type, 'bearer', 'token_type bearer');
	ok(typeof tok.refresh_token === 'string' &&
	    tok.refresh_token.length === 64, 'a refresh token with ' +
	    'offline_access');
	const id = tok.claims();
	is(id.sub, ADMIN_SUB, 'ID token sub: admin via local');
	is(id.aud, 'public-cli', 'ID token aud: the device\'s client');
	is(id.email, 'admin@example.com', 'ID token email');
	is(id.groups, ['admins', 'devs'], 'ID token groups');
	ok(!('nonce' in id), 'no nonce: the binding nonce stays ours');
	ok(!('c_hash' in id), 'no c_hash: the device saw no code');
	const ui = await outcome(client.fetchUserInfo(config,
	    tok.access_token, ADMIN_SUB));
	ok(ui.code === 'ok' && ui.value.email === 'admin@example.com',
	    'userinfo with the access token', ui.e && ui.e.message);
	const rt = await outcome(client.refreshTokenGrant(config,
	    tok.refresh_token));
	ok(rt.code === 'ok' && typeof rt.value.refresh_token === 'string',
	    'the refresh token works', rt.e && rt.e.message);
	writeFileSync(`${dir}/refresh`, rt.value?.refresh_token ?? '');

	// Single use; a second use revokes the refresh token it gave.
	const again = await poll(da.device_code, ['public-cli']);
	is([again.status, again.json?.error], [400, 'invalid_grant'],
	    'a used device code: 400 invalid_grant');
	if (rt.code === 'ok') {
		const dead = await outcome(client.refreshTokenGrant(config,
		    rt.value.refresh_token));
		is(dead.code, 'invalid_grant', '... and its refresh token ' +
		    'family is revoked');
	}
	const unknown = await poll('A'.repeat(43), ['public-cli']);
	is([unknown.status, unknown.json?.error], [400, 'invalid_grant'],
	    'an unknown device code: 400 invalid_grant');
	const junk = await poll('not-a-code', ['public-cli']);
	is([junk.status, junk.json?.error], [400, 'invalid_grant'],
	    'a malformed device code: 400 invalid_grant');
	const none = await poll('', ['public-cli']);
	is([none.status, none.json?.error], [400, 'invalid_request'],
	    'no device code: 400 invalid_request');
}

async function confidentialFlow() {
	// Wrong secret: at /device/code (Dex checks nothing there).
	const bad = await configure('tv-app', 'wrong-secret');
	const r0 = await outcome(client.initiateDeviceAuthorization(bad,
	    { scope: 'openid' }));
	is([r0.code, r0.status], ['invalid_client', 401],
	    'wrong client secret at /device/code: 401 invalid_client');
	const nosec = await postForm(`${issuer}/device/code`,
	    { client_id: 'tv-app', scope: 'openid' });
	is([nosec.status, nosec.json?.error], [401, 'invalid_client'],
	    'no client secret at /device/code: 401 invalid_client');
	const noreg = await postForm(`${issuer}/device/code`,
	    { scope: 'openid' }, ['test-app', 'test-secret']);
	is([noreg.status, noreg.json?.error], [400, 'unauthorized_client'],
	    'a client without /device/callback: 400 unauthorized_client');
	const badscope = await postForm(`${issuer}/device/code`,
	    { scope: 'openid bogus' }, ['tv-app', 'tv-secret']);
	is([badscope.status, badscope.json?.error], [400, 'invalid_scope'],
	    'an unknown scope: 400 invalid_scope');

	const config = await configure('tv-app', 'tv-secret');
	const pk = pkcePair();
	const r = await outcome(client.initiateDeviceAuthorization(config, {
		scope: 'openid email offline_access',
		code_challenge: pk.challenge, code_challenge_method: 'S256',
	}));
	if (!ok(r.code === 'ok', 'confidential client with PKCE: device ' +
	    'authorization request', r.e && r.e.stack))
		return;
	const da = r.value;
	const auth = ['tv-app', 'tv-secret'];

	// Polling too fast: slow_down, and the interval grows.
	const p1 = await poll(da.device_code, auth);
	is([p1.status, p1.json?.error], [400, 'authorization_pending'],
	    'first poll: 400 authorization_pending');
	const p2 = await poll(da.device_code, auth);
	is([p2.status, p2.json?.error], [400, 'slow_down'],
	    'polled again at once: 400 slow_down');
	const p3 = await poll(da.device_code, auth);
	is([p3.status, p3.json?.error], [400, 'slow_down'],
	    'and again: slow_down');
	const wrong = await poll(da.device_code, ['tv-app', 'nope']);
	is([wrong.status, wrong.json?.error], [401, 'invalid_client'],
	    'polling with a wrong secret: 401 invalid_client');
	const other = await poll(da.device_code, ['public-cli']);
	is([other.status, other.json?.error], [400, 'invalid_grant'],
	    'another client\'s device code: 400 invalid_grant');

	// The page: a wrong code, no CSRF token, a code typed loosely.
	const w = await browser(da.verification_uri,
	    { userCode: 'BBBB-BBBB', stopAtVerify: true });
	is(w.verify?.status, 400, 'a wrong user code: 400');
	ok(/Invalid or Expired User Code/.test(w.verify?.text ?? '') &&
	    readForm(w.verify?.text ?? '', w.verify?.url)?.hidden.csrf
	    ?.length === 22, '... the page again, saying so, with its form');
	const g = await browser(da.verification_uri,
	    { userCode: 'not a code!', stopAtVerify: true });
	is(g.verify?.status, 400, 'a malformed user code: 400');
	const n = await browser(da.verification_uri_complete,
	    { noCsrf: true, stopAtVerify: true });
	is(n.verify?.status, 403, 'verify_code without the CSRF token: 403');
	const plain = await fetch(`${issuer}/device/auth/verify_code`, {
		method: 'POST', redirect: 'manual',
		headers: { 'content-type':
		    'application/x-www-form-urlencoded' },
		body: new URLSearchParams({ user_code: da.user_code,
		    csrf: 'A'.repeat(22) }).toString(),
	});
	is(plain.status, 403, 'a CSRF token without its cookie: 403');
	const loose = da.user_code.replace('-', ' ').toLowerCase();
	const b = await browser(da.verification_uri,
	    { userCode: loose });
	ok(b.verify?.status === 302 &&
	    b.verify.location.searchParams.get('state') === da.user_code,
	    'a code typed in lower case with a space is taken',
	    b.verify && String(b.verify.location));
	ok(b.verify?.location.searchParams.get('redirect_uri') === CALLBACK,
	    'the registered absolute /device/callback is used');
	ok(b.login?.steps.approvalPage?.status === 200 &&
	    /TV App/.test(b.login.steps.approvalPage.text),
	    'the approval page names the client');
	is(b.callback?.status, 200, 'device callback: 200', steps(b));

	// PKCE: the verifier is checked when the tokens are collected.
	const nov = await poll(da.device_code, auth);
	is([nov.status, nov.json?.error], [400, 'invalid_grant'],
	    'complete, without the code_verifier: 400 invalid_grant');
	const badv = await poll(da.device_code, auth,
	    { code_verifier: 'x'.repeat(43) });
	is([badv.status, badv.json?.error], [400, 'invalid_grant'],
	    'a wrong code_verifier: 400 invalid_grant');
	const t = await outcome(client.pollDeviceAuthorizationGrant(config,
	    da, { code_verifier: pk.verifier }));
	if (ok(t.code === 'ok', 'openid-client gets the tokens with the ' +
	    'verifier', t.e && t.e.stack)) {
		is(t.value.claims().aud, 'tv-app', 'ID token aud tv-app');
		ok(typeof t.value.refresh_token === 'string',
		    'a refresh token');
	}
}

// A confidential client that lists Dex's literal /device/callback: the
// login keeps it under the issuer path, where the browser can reach it.
async function literalFlow() {
	const config = await configure('cli-app', 'cli-secret');
	const r = await outcome(client.initiateDeviceAuthorization(config,
	    { scope: 'openid' }));
	if (!ok(r.code === 'ok', 'client with /device/callback listed: ' +
	    'device authorization request', r.e && r.e.stack))
		return;
	const b = await browser(r.value.verification_uri_complete);
	is(b.verify?.location.searchParams.get('redirect_uri'),
	    '/device/callback', 'verify_code: Dex\'s /device/callback');
	ok(b.login?.location?.pathname === '/dex/device/callback',
	    'the login comes back under the issuer path',
	    String(b.login?.location));
	is(b.callback?.status, 200, 'device callback: 200', steps(b));
	const p = await poll(r.value.device_code, ['cli-app', 'cli-secret']);
	ok(p.status === 200 && typeof p.json?.id_token === 'string' &&
	    typeof p.json?.access_token === 'string',
	    'the first poll after the login gets the tokens', p.text);
}

// A user who says no, and a code from another login.
async function refusals() {
	const config = await configure('public-cli');
	const r = await outcome(client.initiateDeviceAuthorization(config,
	    { scope: 'openid' }));
	if (!ok(r.code === 'ok', 'device authorization request', r.e))
		return;
	const da = r.value;
	const b = await browser(da.verification_uri_complete,
	    { approve: 'deny' });
	const cb = b.login?.location;
	ok(cb && cb.pathname === '/dex/device/callback' &&
	    cb.searchParams.get('error') === 'access_denied' &&
	    cb.searchParams.get('state') === da.user_code,
	    'denial: back to /device/callback with access_denied',
	    String(cb));
	is(b.callback?.status, 403, 'denial: the page says no (403)');
	const t = await outcome(client.pollDeviceAuthorizationGrant(config,
	    da));
	is([t.code, t.status], ['access_denied', 400],
	    'openid-client: access_denied, HTTP 400');
	const again = await browser(da.verification_uri_complete,
	    { stopAtVerify: true });
	is(again.verify?.status, 400, 'a refused user code is done with');

	// The code of a login with another nonce cannot finish a request.
	const r2 = await outcome(client.initiateDeviceAuthorization(config,
	    { scope: 'openid' }));
	if (!ok(r2.code === 'ok', 'another device authorization request'))
		return;
	const da2 = r2.value;
	const url = new URL(`${issuer}/auth`);
	for (const [k, v] of Object.entries({
		client_id: 'public-cli', redirect_uri: '/device/callback',
		response_type: 'code', scope: 'openid',
		state: da2.user_code, nonce: 'chosen-by-an-attacker' }))
		url.searchParams.set(k, v);
	const l = await browserLogin(url, { redirect: CALLBACK });
	ok(l.location !== null && l.location.searchParams.has('code'),
	    'a login of our own to /device/callback', String(l.location));
	if (l.location !== null) {
		const res = await new Agent().request(l.location);
		is(res.status, 400, 'its code does not finish the device ' +
		    'request: 400');
		const p = await poll(da2.device_code, ['public-cli']);
		is(p.json?.error, 'authorization_pending',
		    '... which is still pending');
	}
}

async function expiryFlow() {
	const config = await configure('public-cli');
	const r = await outcome(client.initiateDeviceAuthorization(config,
	    { scope: 'openid' }));
	if (!ok(r.code === 'ok', 'device authorization request', r.e))
		return;
	is(r.value.expires_in, 2, 'expires_in from expiry.deviceRequests');
	await sleep(2500);
	const p = await poll(r.value.device_code, ['public-cli']);
	is([p.status, p.json?.error], [400, 'expired_token'],
	    'an expired request: 400 expired_token');
	const b = await browser(r.value.verification_uri_complete,
	    { stopAtVerify: true });
	is(b.verify?.status, 400, 'an expired user code at verify_code: 400');
	ok(/Invalid or Expired User Code/.test(b.verify?.text ?? ''),
	    '... the page says so');
}

// Wrong user codes from one address: the sixth is refused (429) before
// it is looked up, a right one too while the lockout lasts.  Last in
// its daemon: the lockout would hold for the tests after it.
async function guessing() {
	const config = await configure('public-cli');
	const r = await outcome(client.initiateDeviceAuthorization(config,
	    { scope: 'openid' }));
	if (!ok(r.code === 'ok', 'guessing: a device request'))
		return;
	// Earlier tests from this address may have counted some already.
	const st = [];
	for (let i = 0; i < 6 && !st.includes(429); i++) {
		const b = await browser(`${issuer}/device`,
		    { userCode: 'BCDF-GHJK', stopAtVerify: true });
		st.push(b.verify?.status);
	}
	ok(st.at(-1) === 429 && st.slice(0, -1).every((x) => x === 400),
	    'guessing: wrong codes get 400, and by the sixth 429',
	    JSON.stringify(st));
	const b = await browser(r.value.verification_uri_complete,
	    { stopAtVerify: true });
	is(b.verify?.status, 429, 'guessing: then even the right code is ' +
	    'refused for a while (429)');
}

async function offFlow() {
	const config = await configure('public-cli');
	const md = config.serverMetadata();
	ok(!('device_authorization_endpoint' in md),
	    'grant off: no device_authorization_endpoint in discovery');
	ok(!md.grant_types_supported.includes(GRANT),
	    'grant off: not in grant_types_supported');
	const res = await postForm(`${issuer}/device/code`,
	    { client_id: 'public-cli' });
	is(res.status, 405, 'grant off: /device/code is not served (405)');
	const page = await fetch(`${issuer}/device`);
	is(page.status, 404, 'grant off: /device is 404');
	const tok = await postForm(`${issuer}/token`, {
		grant_type: GRANT, device_code: 'A'.repeat(43),
		client_id: 'public-cli' });
	is([tok.status, tok.json?.error], [400, 'unsupported_grant_type'],
	    'grant off: unsupported_grant_type at /token');
}

try {
	switch (mode) {
	case 'main':
		await publicFlow();
		await confidentialFlow();
		await literalFlow();
		await refusals();
		await guessing();
		break;
	case 'expiry':
		await expiryFlow();
		break;
	case 'off':
		await offFlow();
		break;
	default:
		ok(false, `unknown mode ${mode}`);
	}
} catch (e) {
	ok(false, 'no exception', e.stack);
}
finish();
