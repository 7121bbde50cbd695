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

// Every error path of the OpenID Provider with its exact error code, by
// plain HTTP (no relying-party library: these are the requests a good
// library never makes).  Prints TAP lines without numbers.
//
// Usage:
//	node errors.mjs main ISSUER	everything but the lifetimes
//	node errors.mjs expired ISSUER	expiry.authRequests 2 s
//	node errors.mjs ratelimit ISSUER
//				failed password grants lock the user out;
//				run last: the per-address limit hits
//				everything else from 127.0.0.1 too

import {
	ADMIN_SUB, REDIRECT, ok, is, diag, finish, sleep, Agent,
	browserLogin, postForm, pkcePair, readForm, jwtPayload,
} from './oplib.mjs';

const [mode, issuer] = process.argv.slice(2);
const TEST_APP = ['test-app', 'test-secret'];
const STATE = 'st-0123456789';

function authUrl(over = {}, path = '/auth') {
	const p = {
		client_id: 'test-app', redirect_uri: REDIRECT,
		response_type: 'code', scope: 'openid', state: STATE, ...over,
	};
	for (const k of Object.keys(p))
		if (p[k] === undefined)
			delete p[k];
	return `${issuer}${path}?${new URLSearchParams(p)}`;
}

// Follow redirects that stay inside the issuer, at most 5: the user's
// view of an authorization request before any login.
async function follow(url, agent = new Agent()) {
	let r = await agent.request(url);
	for (let i = 0; i < 5 && r.location !== null &&
	    String(r.location).startsWith(issuer + '/') &&
	    !/\/login$/.test(r.location.pathname); i++)
		r = await agent.request(r.location);
	return r;
}

// An error page: no redirect anywhere, an HTML body, the status wanted.
function errorPage(r, status, desc) {
	is(r.status, status, `${desc}: ${status} error page`);
	ok(r.location === null, `${desc}: no redirect`, String(r.location));
	ok(/^text\/html/.test(r.headers.get('content-type') || ''),
	    `${desc}: HTML`, r.headers.get('content-type'));
}

// A redirected error: 303 to the redirect_uri with error and state, in
// the query, or in the fragment for an implicit or hybrid request (the
// RFC's place, which dex.md §10 lists as safe to do better than Dex).
function errorRedirect(r, code, desc, where = 'query') {
	const l = r.location;
	ok(r.status === 303 && l !== null &&
	    l.origin + l.pathname === REDIRECT,
	    `${desc}: 303 to the redirect_uri`,
	    `${r.status} ${String(l)}`);
	const p = l === null ? null : where === 'query' ? l.searchParams :
	    new URLSearchParams(l.hash.slice(1));
	is(p && p.get('error'), code, `${desc}: error=${code} in the ${where}`);
	is(p && p.get('state'), STATE, `${desc}: state kept`);
	ok(p === null || p.get('code') === null, `${desc}: no code`);
}

// Log in (PKCE optional) and return the code, or null.
async function code(over = {}, opts = {}) {
	const b = await browserLogin(authUrl(over), opts);
	if (b.location === null)
		return null;
	return b.location.searchParams.get('code');
}

function tokenErr(r, status, error, desc, description) {
	is(r.status, status, `${desc}: ${status}`);
	is(r.json && r.json.error, error, `${desc}: ${error}`);
	if (description !== undefined)
		is(r.json && r.json.error_description, description,
		    `${desc}: "${description}"`);
	ok(!r.json || r.json.access_token === undefined,
	    `${desc}: no token`);
}

async function authorizationErrors() {
	errorPage(await follow(authUrl({ client_id: 'nope' })), 404,
	    'unknown client');
	errorPage(await follow(authUrl({ client_id: 'nope' },
	    '/auth/local')), 404, 'unknown client at /auth/local');
	for (const bad of ['http://evil.example/callback',
	    'http://127.0.0.1:5555/callbackx',
	    'http://127.0.0.1:5555/callback/../evil',
	    'http://127.0.0.1:5555/callback?x=1',
	    'http://127.0.0.1:5556/callback'])
		errorPage(await follow(authUrl({ redirect_uri: bad })), 400,
		    `unregistered redirect_uri ${bad}`);
	errorPage(await follow(authUrl({ redirect_uri: undefined })), 400,
	    'no redirect_uri');
	errorPage(await follow(authUrl({ connector_id: 'nope' })), 400,
	    'unknown connector_id');

	errorRedirect(await follow(authUrl({ scope: 'openid bogus' })),
	    'invalid_scope', 'unknown scope');
	errorRedirect(await follow(authUrl({ scope: 'email profile' })),
	    'invalid_scope', 'missing openid');
	errorRedirect(await follow(authUrl({
		scope: 'openid audience:server:client_id:lonely-app',
	})), 'invalid_scope', 'audience of a client that does not trust us');
	errorRedirect(await follow(authUrl({ response_type: 'token',
	    nonce: 'n-1' })), 'unsupported_response_type',
	    'response_type token (not enabled)', 'fragment');
	errorRedirect(await follow(authUrl({ response_type: 'bogus' })),
	    'invalid_request', 'unknown response_type');
	errorRedirect(await follow(authUrl({ response_type: '' })),
	    'invalid_request', 'empty response_type');
	errorRedirect(await follow(authUrl({
		code_challenge: pkcePair().challenge,
		code_challenge_method: 'S512',
	})), 'invalid_request', 'unknown code_challenge_method');
	errorRedirect(await follow(authUrl({ request: 'eyJ.x.y' })),
	    'request_not_supported', 'request object');
}

async function tokenErrors() {
	const tok = `${issuer}/token`;
	// Code replay: invalid_grant, and the refresh token the first
	// redemption issued is revoked.
	let c = await code({ scope: 'openid offline_access' });
	ok(c !== null, 'login for the replay test');
	let r = await postForm(tok, {
		grant_type: 'authorization_code', code: c,
		redirect_uri: REDIRECT,
	}, TEST_APP);
	is(r.status, 200, 'first redemption: 200');
	const rt = r.json && r.json.refresh_token;
	ok(typeof rt === 'string', 'first redemption: a refresh token');
	r = await postForm(tok, {
		grant_type: 'authorization_code', code: c,
		redirect_uri: REDIRECT,
	}, TEST_APP);
	tokenErr(r, 400, 'invalid_grant', 'code replay');
	r = await postForm(tok, { grant_type: 'refresh_token',
	    refresh_token: rt }, TEST_APP);
	tokenErr(r, 400, 'invalid_grant',
	    'refresh token of a replayed code: revoked');

	// Client authentication.
	c = await code();
	r = await postForm(tok, { grant_type: 'authorization_code', code: c,
	    redirect_uri: REDIRECT }, ['test-app', 'wrong-secret']);
	tokenErr(r, 401, 'invalid_client', 'wrong client secret');
	r = await postForm(tok, { grant_type: 'authorization_code', code: c,
	    redirect_uri: REDIRECT, client_id: 'test-app',
	    client_secret: 'wrong-secret' });
	tokenErr(r, 401, 'invalid_client', 'wrong client_secret_post');
	r = await postForm(tok, { grant_type: 'authorization_code', code: c,
	    redirect_uri: REDIRECT }, ['nope', 'test-secret']);
	tokenErr(r, 401, 'invalid_client', 'unknown client');
	r = await postForm(tok, { grant_type: 'authorization_code', code: c,
	    redirect_uri: REDIRECT });
	tokenErr(r, 401, 'invalid_client', 'no client authentication');
	// The code was not spent by the failed attempts... but another
	// client cannot redeem it.
	r = await postForm(tok, { grant_type: 'authorization_code', code: c,
	    redirect_uri: REDIRECT }, ['peer-app', 'peer-secret']);
	tokenErr(r, 400, 'invalid_grant', 'code of another client');
	c = await code();
	r = await postForm(tok, { grant_type: 'authorization_code', code: c,
	    redirect_uri: 'http://127.0.0.1:5555/other' }, TEST_APP);
	is(r.status, 400, 'redirect_uri differs from /auth: 400');
	ok(r.json && ['invalid_grant', 'invalid_request']
	    .includes(r.json.error), 'redirect_uri differs: invalid_grant ' +
	    '(RFC 6749) or invalid_request (Dex)', r.text);
	r = await postForm(tok, { grant_type: 'authorization_code',
	    code: 'bogus-code', redirect_uri: REDIRECT }, TEST_APP);
	tokenErr(r, 400, 'invalid_grant', 'unknown code');

	// PKCE, with Dex's texts.
	const pk = pkcePair();
	const pkce = { code_challenge: pk.challenge,
	    code_challenge_method: 'S256' };
	c = await code(pkce);
	r = await postForm(tok, { grant_type: 'authorization_code', code: c,
	    redirect_uri: REDIRECT, code_verifier: pk.verifier + 'x' },
	    TEST_APP);
	tokenErr(r, 400, 'invalid_grant', 'PKCE verifier mismatch',
	    'Invalid code_verifier.');
	c = await code(pkce);
	r = await postForm(tok, { grant_type: 'authorization_code', code: c,
	    redirect_uri: REDIRECT }, TEST_APP);
	tokenErr(r, 400, 'invalid_grant', 'PKCE verifier missing',
	    'Expecting parameter code_verifier in PKCE flow.');
	c = await code();
	r = await postForm(tok, { grant_type: 'authorization_code', code: c,
	    redirect_uri: REDIRECT, code_verifier: pk.verifier }, TEST_APP);
	tokenErr(r, 400, 'invalid_request', 'verifier without a challenge',
	    'No PKCE flow started. Cannot check code_verifier.');
	// plain: the verifier is the challenge.
	c = await code({ code_challenge: pk.verifier,
	    code_challenge_method: 'plain' });
	r = await postForm(tok, { grant_type: 'authorization_code', code: c,
	    redirect_uri: REDIRECT, code_verifier: pk.verifier }, TEST_APP);
	is(r.status, 200, 'PKCE plain: 200');

	r = await postForm(tok, { grant_type: 'foo' }, TEST_APP);
	tokenErr(r, 400, 'unsupported_grant_type', 'grant_type foo');
	r = await postForm(tok, { grant_type: 'refresh_token',
	    refresh_token: 'bogus' }, TEST_APP);
	tokenErr(r, 400, 'invalid_grant', 'bogus refresh token');

	// A refresh token is bound to its client.
	c = await code({ scope: 'openid offline_access' });
	r = await postForm(tok, { grant_type: 'authorization_code', code: c,
	    redirect_uri: REDIRECT }, TEST_APP);
	const rt2 = r.json && r.json.refresh_token;
	r = await postForm(tok, { grant_type: 'refresh_token',
	    refresh_token: rt2 }, ['peer-app', 'peer-secret']);
	tokenErr(r, 400, 'invalid_grant', 'refresh token of another client');
	r = await postForm(tok, { grant_type: 'refresh_token',
	    refresh_token: rt2, scope: 'openid groups' }, TEST_APP);
	is(r.status, 400, 'refresh widening the scopes: 400');
	r = await postForm(tok, { grant_type: 'refresh_token',
	    refresh_token: rt2 }, TEST_APP);
	is(r.status, 200, 'the refresh token still works after the ' +
	    'refused attempts');
}

async function passwordGrant() {
	const tok = `${issuer}/token`;
	let r = await postForm(tok, { grant_type: 'password',
	    username: 'admin@example.com', password: 'password',
	    scope: 'openid email offline_access' }, TEST_APP);
	is(r.status, 200, 'password grant: 200');
	ok(r.json && typeof r.json.id_token === 'string' &&
	    typeof r.json.refresh_token === 'string',
	    'password grant: ID token and refresh token', r.text);
	if (r.json && r.json.id_token) {
		const p = jwtPayload(r.json.id_token);
		is(p.sub, ADMIN_SUB, 'password grant: sub');
		is(p.aud, 'test-app', 'password grant: aud');
		ok(!('c_hash' in p), 'password grant: no c_hash');
	}
	r = await postForm(tok, { grant_type: 'password',
	    username: 'ADMIN@Example.COM', password: 'password',
	    scope: 'openid' }, TEST_APP);
	is(r.status, 200, 'password grant: the email is case-insensitive');
	r = await postForm(tok, { grant_type: 'password',
	    username: 'admin@example.com', password: 'wrong',
	    scope: 'openid' }, TEST_APP);
	tokenErr(r, 401, 'access_denied', 'password grant, bad password',
	    'Invalid username or password');
	r = await postForm(tok, { grant_type: 'password',
	    username: 'nobody@example.com', password: 'password',
	    scope: 'openid' }, TEST_APP);
	tokenErr(r, 401, 'access_denied', 'password grant, unknown user');
	r = await postForm(tok, { grant_type: 'password',
	    username: 'admin@example.com', password: 'password',
	    scope: 'openid' }, ['test-app', 'wrong']);
	tokenErr(r, 401, 'invalid_client', 'password grant, wrong secret');
	r = await postForm(tok, { grant_type: 'password',
	    username: 'admin@example.com', password: 'password',
	    scope: 'email' }, TEST_APP);
	tokenErr(r, 400, 'invalid_request', 'password grant without openid');
	r = await postForm(tok, { grant_type: 'password',
	    username: 'admin@example.com', password: 'password',
	    scope: 'openid bogus' }, TEST_APP);
	tokenErr(r, 400, 'invalid_request',
	    'password grant, unknown scope (Dex: invalid_request)');
}

async function pages() {
	// The password POST without or with a wrong CSRF token: refused,
	// no login.
	for (const [o, d] of [[{ noCsrf: true }, 'no CSRF token'],
	    [{ badCsrf: true }, 'a wrong CSRF token']]) {
		const b = await browserLogin(authUrl(), o);
		const p = b.steps.loginPost;
		ok(p && (p.status === 403 || p.status === 400),
		    `password POST with ${d}: 403 or 400`, p && p.status);
		ok(b.location === null, `password POST with ${d}: no code`);
	}
	// A wrong password re-renders the form with 401.
	let b = await browserLogin(authUrl(), { password: 'wrong' });
	let p = b.steps.loginPost;
	is(p && p.status, 401, 'wrong password on the form: 401');
	ok(p && readForm(p.text, p.url) !== null,
	    'wrong password: the form again');
	ok(b.location === null, 'wrong password: no code');
	ok(p && !/value="wrong"/.test(p.text),
	    'wrong password: not echoed back');

	// approval_prompt=force shows the approval page; a tampered hmac
	// or request id is refused.
	for (const [k, d] of [['hmac', 'hmac'], ['req', 'request id']]) {
		const agent = new Agent();
		b = await browserLogin(authUrl({ approval_prompt: 'force' }),
		    { agent, approve: false });
		const ap = b.steps.approvalPage;
		is(ap && ap.status, 200,
		    `approval_prompt=force: approval page (${d} test)`);
		const f = b.steps.approvalForm;
		if (!f)
			continue;
		// Dex sends req in the form and hmac in the URL.
		const form = { ...f.hidden, approval: 'approve' };
		const action = new URL(f.action);
		const flip = (v) => v.replace(/^./, (ch) =>
		    ch === 'A' ? 'B' : 'A');
		if (k in form)
			form[k] = flip(form[k]);
		else if (action.searchParams.has(k))
			action.searchParams.set(k, flip(
			    action.searchParams.get(k)));
		else
			ok(false, `approval form: no ${k} to tamper with`);
		const r = await agent.request(action, { form });
		ok(r.status >= 400 && r.status < 500,
		    `approval with a tampered ${d}: 4xx`, r.status);
		ok(r.location === null || r.location.searchParams.get('code')
		    === null, `approval with a tampered ${d}: no code`);
	}

	// Public clients: loopback on any port with PKCE, only when no
	// redirect URI is registered.
	const pk = pkcePair();
	const pkce = { code_challenge: pk.challenge,
	    code_challenge_method: 'S256' };
	for (const lo of ['http://127.0.0.1:45678/cb',
	    'http://localhost:45679/x']) {
		b = await browserLogin(authUrl({ client_id: 'public-cli',
		    redirect_uri: lo, ...pkce }), { redirect: lo });
		ok(b.location !== null && String(b.location).startsWith(lo),
		    `public client, loopback ${lo}: redirected back`,
		    JSON.stringify(Object.fromEntries(Object.entries(b.steps)
		    .map(([k, v]) => [k, v && v.status]))));
		if (b.location === null)
			continue;
		const r = await postForm(`${issuer}/token`, {
			grant_type: 'authorization_code',
			code: b.location.searchParams.get('code'),
			redirect_uri: lo, code_verifier: pk.verifier,
			client_id: 'public-cli',
		});
		is(r.status, 200, `public client ${lo}: code redeemed without ` +
		    'a secret', r.text);
	}
	for (const bad of ['https://127.0.0.1:45678/cb',
	    'http://evil.example:45678/cb'])
		errorPage(await follow(authUrl({ client_id: 'public-cli',
		    redirect_uri: bad, ...pkce })), 400,
		    `public client, ${bad}`);
	errorPage(await follow(authUrl({ client_id: 'public-app',
	    redirect_uri: 'http://127.0.0.1:45678/cb', ...pkce })), 400,
	    'public client with registered URIs: loopback not allowed');

	// userinfo.
	let r = await fetch(`${issuer}/userinfo`);
	is(r.status, 401, 'userinfo without a token: 401');
	ok(/^Bearer/.test(r.headers.get('www-authenticate') || ''),
	    'userinfo without a token: WWW-Authenticate: Bearer');
	let j = await r.json().catch(() => null);
	is(j && j.error, 'access_denied', 'userinfo 401: access_denied');
	r = await fetch(`${issuer}/userinfo`,
	    { headers: { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.' +
	    'eyJzdWIiOiJ4In0.c2ln' } });
	is(r.status, 403, 'userinfo with a bad token: 403');
	j = await r.json().catch(() => null);
	is(j && j.error, 'access_denied', 'userinfo 403: access_denied');
}

async function expired() {
	// expiry.authRequests is 2 s: a login that takes longer fails.
	const agent = new Agent();
	let r = await follow(authUrl(), agent);
	if (r.location !== null)
		r = await agent.request(r.location);
	is(r.status, 200, 'password page');
	const f = readForm(r.text, r.url);
	if (f === null) {
		ok(false, 'a form on the password page');
		return;
	}
	await sleep(2600);
	r = await agent.request(f.action, { form: { ...f.hidden,
	    login: 'admin@example.com', password: 'password' } });
	ok(r.location === null || r.location.searchParams.get('code') ===
	    null, 'expired auth request: no code', String(r.location));
	is(r.status, 400, 'expired auth request: 400 page');
	ok(/expired/i.test(r.text), 'expired auth request: says expired');
}

async function ratelimit() {
	const tok = `${issuer}/token`;
	const bad = { grant_type: 'password', username: 'other@example.com',
	    password: 'wrong', scope: 'openid' };
	// The grant works for this user to begin with, and a failure is
	// an ordinary 401 access_denied: what follows is the limiter.
	let r0 = await postForm(tok, { ...bad, password: 'password' },
	    TEST_APP);
	is(r0.status, 200, 'password grant for other@example.com: 200');
	r0 = await postForm(tok, bad, TEST_APP);
	tokenErr(r0, 401, 'access_denied', 'first failure');
	let last = null;
	for (let i = 1; i < 20; i++)
		last = await postForm(tok, bad, TEST_APP);
	diag(`20th failure: ${last.status} ${last.text}`);
	const t0 = Date.now();
	const r = await postForm(tok, { ...bad, password: 'password' },
	    TEST_APP);
	diag(`right password after 20 failures: ${r.status} ${r.text} ` +
	    `(${Date.now() - t0} ms)`);
	ok(r.status !== 200 && (r.json === null || !r.json.access_token),
	    'after 20 failed password grants the right password is refused');
	ok(r.status === 429 || r.status === 401 || r.status === 400,
	    'refused with 429, 401 or 400', r.status);
}

try {
	if (mode === 'main') {
		await authorizationErrors();
		await tokenErrors();
		await passwordGrant();
		await pages();
	} else if (mode === 'expired') {
		await expired();
	} else if (mode === 'ratelimit') {
		await ratelimit();
	} else {
		ok(false, `unknown mode ${mode}`);
	}
} catch (e) {
	ok(false, `errors.mjs ${mode} threw`, e.stack);
}
finish();
