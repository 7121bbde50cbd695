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

// RP-initiated logout against a running oidcd (logout.sh's config:
// test-app has postLogoutRedirectURIs LOGGED_OUT, ID tokens live 3 s),
// with openid-client's buildEndSessionUrl as the relying party and
// oplib's Agent as the browser.  Prints TAP lines without numbers.
//
// Usage:	node logout.mjs main ISSUER BCPORT
//	node logout.mjs upstream ISSUER BCPORT UPSTREAM
//		a session through the oidc connector "up", whose
//		endSessionURL is the receiver's /upstream-logout
//
// BCPORT is where the back-channel logout receiver listens: test-app and
// lonely-app have backchannelLogoutURI http://127.0.0.1:BCPORT/bc/ID.

import { createServer } from 'node:http';
import * as client from 'openid-client';
import { jwtVerify, createRemoteJWKSet, decodeProtectedHeader } from 'jose';
import {
	REDIRECT, ok, is, diag, finish, sleep, jwtPayload, Agent,
	browserLogin,
} from './oplib.mjs';
import { fedLogin, describe } from './fedlib.mjs';

const [mode, issuer, bcport] = process.argv.slice(2);
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

// The back-channel receiver: every POST, by client, kept.
const received = [];
function receiver() {
	const srv = createServer((req, res) => {
		let body = '';
		req.on('data', (c) => { body += c; });
		req.on('end', () => {
			received.push({ path: req.url, method: req.method,
			    type: req.headers['content-type'],
			    form: new URLSearchParams(body) });
			res.writeHead(200, { 'cache-control': 'no-store' });
			res.end();
		});
	});
	return new Promise((resolve) => srv.listen(Number(bcport),
	    '127.0.0.1', () => resolve(srv)));
}

async function waitFor(n, ms = 5000) {
	const end = Date.now() + ms;
	while (received.length < n && Date.now() < end)
		await sleep(50);
}
const SCOPE = 'openid email profile';
const LOGGED_OUT = 'http://127.0.0.1:5555/logged-out';
const COOKIE = 'dex_session';
const LONELY = 'http://127.0.0.1:5557/callback';

async function configure(id, secret) {
	const config = await client.discovery(new URL(issuer), id, secret,
	    client.ClientSecretBasic(secret),
	    { execute: [client.allowInsecureRequests] });
	return config;
}

async function start(config, extra = {}, redirect = REDIRECT) {
	const verifier = client.randomPKCECodeVerifier();
	const state = client.randomState();
	const nonce = client.randomNonce();
	const url = client.buildAuthorizationUrl(config, {
		redirect_uri: redirect, scope: SCOPE, state, nonce,
		code_challenge: await client.calculatePKCECodeChallenge(
		    verifier),
		code_challenge_method: 'S256', ...extra,
	});
	return { url, verifier, state, nonce };
}

// A login through the password page with agent: the ID token, or null.
async function login(config, agent) {
	const s = await start(config);
	const b = await browserLogin(s.url, { agent, redirect: REDIRECT });
	if (b.location === null)
		return null;
	try {
		const t = await client.authorizationCodeGrant(config,
		    b.location, {
			pkceCodeVerifier: s.verifier, expectedState: s.state,
			expectedNonce: s.nonce, idTokenExpected: true,
		});
		return t.id_token;
	} catch (e) {
		diag(`code redemption failed: ${e.error ?? e.message}`);
		return null;
	}
}

// prompt=none for lonely-app with agent: true when a code comes back,
// the error else.
async function promptNone(config, agent) {
	const s = await start(config, { prompt: 'none' }, LONELY);
	let r = await agent.request(s.url);
	for (let hops = 0; (r.status === 302 || r.status === 303) &&
	    hops < 5 && !String(r.location).startsWith(LONELY); hops++)
		r = await agent.request(r.location);
	if (r.status !== 303 || !String(r.location).startsWith(LONELY))
		return `status ${r.status}`;
	const q = r.location.searchParams;
	return q.get('code') !== null ? true : q.get('error');
}

function cookieSet(r) {
	return r.headers.getSetCookie()
	    .filter((c) => c.startsWith(`${COOKIE}=`));
}

// The hidden fields of a sign-out confirmation page, or null.
function confirmForm(r) {
	if (r.status !== 200 || !/<form method="post">/.test(r.text))
		return null;
	const f = {};
	const un = (v) => v.replace(/&#34;/g, '"').replace(/&#39;/g, "'")
	    .replace(/&lt;/g, '<').replace(/&gt;/g, '>')
	    .replace(/&amp;/g, '&');
	for (const m of r.text.matchAll(
	    /<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
		f[m[1]] = un(m[2]);
	return f;
}

function isErrorPage(r) {
	return r.status === 400 && r.location === null &&
	    /text\/html/.test(r.headers.get('content-type') || '');
}

// Both clients of the session got a logout token, valid against /keys.
async function backchannel(idt) {
	await waitFor(2);
	is(received.map((x) => x.path).sort(), ['/bc/lonely-app',
	    '/bc/test-app'], 'back-channel: a POST to each client\'s URI');
	const jwks = createRemoteJWKSet(new URL(`${issuer}/keys`));
	const id = jwtPayload(idt);
	for (const x of received) {
		const who = x.path.slice(4);
		ok(x.method === 'POST' &&
		    /^application\/x-www-form-urlencoded/.test(x.type),
		    `back-channel ${who}: a form POST`);
		const tok = x.form.get('logout_token');
		let p = null;
		try {
			p = (await jwtVerify(tok, jwks, { issuer,
			    audience: who, maxTokenAge: 300 })).payload;
		} catch (e) {
			diag(`${who}: ${e.message}`);
		}
		ok(p !== null, `back-channel ${who}: signature, iss, aud ok`);
		if (p === null)
			continue;
		is(decodeProtectedHeader(tok).typ, 'logout+jwt',
		    `back-channel ${who}: typed logout+jwt`);
		is(p.sub, id.sub, `back-channel ${who}: sub of the user`);
		is(p.sid, id.sid, `back-channel ${who}: sid of the session`);
		ok(typeof p.jti === 'string' && p.jti.length >= 16,
		    `back-channel ${who}: a jti`);
		ok(Number.isInteger(p.exp) && p.exp > p.iat &&
		    p.exp - p.iat <= 120, `back-channel ${who}: iat, exp`);
		is(p.events, { [EVENT]: {} },
		    `back-channel ${who}: the logout event`);
		ok(!('nonce' in p), `back-channel ${who}: no nonce`);
	}
	const jtis = new Set(received.map((x) =>
	    jwtPayload(x.form.get('logout_token')).jti));
	is(jtis.size, received.length, 'back-channel: a jti per token');
	received.length = 0;
}

async function main() {
	const srv = await receiver();
	const app = await configure('test-app', 'test-secret');
	const lonely = await configure('lonely-app', 'lonely-secret');
	const meta = app.serverMetadata();
	is(meta.end_session_endpoint, `${issuer}/logout`,
	    'discovery: end_session_endpoint');

	// 1. A valid hint and a registered URI: back with state, and the
	// session is gone in storage, not only in this browser.
	const a = new Agent();
	const idt = await login(app, a);
	ok(idt !== null, 'login: an ID token');
	const old = a.cookies.get(COOKIE);
	ok(old && old.length === 43, 'login: a session cookie');
	is(await promptNone(lonely, a), true,
	    'before logout: prompt=none signs lonely-app in');
	received.length = 0;
	const url = client.buildEndSessionUrl(app, {
		id_token_hint: idt, post_logout_redirect_uri: LOGGED_OUT,
		state: 'st8 &=?',
	});
	let r = await a.request(url);
	ok(r.status === 302 && r.location !== null &&
	    `${r.location.origin}${r.location.pathname}` === LOGGED_OUT,
	    'logout: redirect to the post_logout_redirect_uri',
	    `${r.status} ${r.location}`);
	is(r.location?.searchParams.get('state'), 'st8 &=?',
	    'logout: the state comes back');
	const cl = cookieSet(r);
	ok(cl.length === 1 && /^dex_session=;/.test(cl[0]) &&
	    /Max-Age=0/.test(cl[0]) && /HttpOnly/.test(cl[0]) &&
	    /Path=\/dex\//.test(cl[0]), 'logout: the cookie is cleared',
	    cl.join(' | '));
	is(await promptNone(lonely, a), 'login_required',
	    'after logout: prompt=none gets login_required');
	const b = new Agent();
	b.cookies.set(COOKIE, old);
	is(await promptNone(lonely, b), 'login_required',
	    'the old cookie again: its session is gone in storage');
	await backchannel(idt);

	// 2. An unregistered URI: an error page, no redirect.
	const c = new Agent();
	const idt2 = await login(app, c);
	for (const bad of ['http://127.0.0.1:5555/evil',
	    'http://127.0.0.1:5555/logged-out/', REDIRECT]) {
		r = await c.request(client.buildEndSessionUrl(app, {
			id_token_hint: idt2, post_logout_redirect_uri: bad,
			state: 'x',
		}));
		ok(isErrorPage(r), `unregistered URI ${bad}: 400 page`,
		    `${r.status} ${r.location}`);
	}
	// Another client's hint does not make the URI its own.
	const lt = await login(lonely, new Agent());
	r = await c.request(client.buildEndSessionUrl(lonely, {
		id_token_hint: lt, post_logout_redirect_uri: LOGGED_OUT,
	}));
	ok(isErrorPage(r), 'lonely-app\'s hint, test-app\'s URI: 400 page',
	    `${r.status} ${r.location}`);
	r = await c.request(client.buildEndSessionUrl(app, {
		id_token_hint: idt2, client_id: 'lonely-app',
		post_logout_redirect_uri: LOGGED_OUT,
	}));
	ok(isErrorPage(r), 'client_id not the hint\'s audience: 400 page',
	    `${r.status} ${r.location}`);
	r = await c.request(`${issuer}/logout?post_logout_redirect_uri=` +
	    encodeURIComponent(LOGGED_OUT));
	ok(isErrorPage(r), 'a URI without hint or client_id: 400 page',
	    `${r.status} ${r.location}`);
	is(await promptNone(lonely, c), true,
	    'refused logouts leave the session alone');

	// 3. A forged hint: our header and claims, another signature.
	const [h, p] = idt2.split('.');
	const claims = jwtPayload(idt2);
	claims.sub = 'someone-else';
	const forged = [h, Buffer.from(JSON.stringify(claims))
	    .toString('base64url'), idt2.split('.')[2]].join('.');
	for (const [name, tok] of [['forged claims', forged],
	    ['bad signature', `${h}.${p}.${'A'.repeat(342)}`],
	    ['garbage', 'not-a-jwt']]) {
		r = await c.request(client.buildEndSessionUrl(app, {
			id_token_hint: tok,
			post_logout_redirect_uri: LOGGED_OUT,
		}));
		ok(isErrorPage(r), `${name} hint: 400 page, no redirect`,
		    `${r.status} ${r.location}`);
	}
	is(await promptNone(lonely, c), true,
	    'forged hints leave the session alone');

	// 4. POST works too, with client_id instead of a hint: without a
	// hint the user is asked first (RP-Initiated Logout 1.0 §2).
	r = await c.request(`${issuer}/logout`, { form: {
		client_id: 'test-app', post_logout_redirect_uri: LOGGED_OUT,
		state: 'posted',
	} });
	let f = confirmForm(r);
	ok(f !== null && r.location === null && /Sign out/.test(r.text),
	    'POST with client_id, no hint: the confirmation page',
	    `${r.status} ${r.location}`);
	is(await promptNone(lonely, c), true,
	    'asked, not yet answered: the session lives');
	ok(f !== null && f.client_id === 'test-app' &&
	    f.post_logout_redirect_uri === LOGGED_OUT &&
	    f.state === 'posted' && typeof f.csrf === 'string' &&
	    f.csrf.length >= 43, 'the page carries the parameters and a token');
	r = await c.request(`${issuer}/logout`, { form: { ...f,
		csrf: 'A'.repeat(43) } });
	ok(confirmForm(r) !== null, 'a wrong token: asked again');
	is(await promptNone(lonely, c), true,
	    'a wrong token: the session lives');
	r = await c.request(`${issuer}/logout`, { form: f ?? {} });
	ok(r.status === 302 &&
	    r.location?.searchParams.get('state') === 'posted',
	    'confirmed: redirect with state', `${r.status} ${r.location}`);
	is(await promptNone(lonely, c), 'login_required',
	    'confirmed: the session ended');

	// 5. An expired hint is still ours (Core 3.1.2.1): accepted.
	const e = new Agent();
	const idt3 = await login(app, e);
	const exp = jwtPayload(idt3).exp;
	while (Math.floor(Date.now() / 1000) <= exp + 1)
		await sleep(250);
	r = await e.request(client.buildEndSessionUrl(app, {
		id_token_hint: idt3, post_logout_redirect_uri: LOGGED_OUT,
		state: 'late',
	}));
	ok(r.status === 302 &&
	    r.location?.searchParams.get('state') === 'late',
	    'expired hint: accepted, redirect with state',
	    `${r.status} ${r.location}`);
	is(await promptNone(lonely, e), 'login_required',
	    'expired hint: the session ended');

	// 6. No hint: a link from anywhere only asks; the answer, a POST
	// with this session's token, ends the session.
	const n = new Agent();
	await login(app, n);
	r = await n.request(`${issuer}/logout`);
	f = confirmForm(r);
	ok(f !== null && /Sign out/.test(r.text) &&
	    cookieSet(r).length === 0, 'no hint, GET: asked, cookie kept',
	    `${r.status}`);
	ok(!/<script/i.test(r.text), 'the confirmation page has no script');
	is(await promptNone(lonely, n), true, 'no hint, GET: the session lives');
	const other = new Agent();
	await login(app, other);
	r = await other.request(`${issuer}/logout`, { form: f ?? {} });
	ok(confirmForm(r) !== null,
	    'another session\'s token: asked again');
	is(await promptNone(lonely, other), true,
	    'another session\'s token: that session lives');
	r = await n.request(`${issuer}/logout`, { form: f ?? {} });
	ok(r.status === 200 && r.location === null &&
	    /Signed out/.test(r.text), 'confirmed: the signed-out page',
	    `${r.status}`);
	ok(!/<script/i.test(r.text), 'the page has no script');
	ok(/default-src 'none'/.test(r.headers.get(
	    'content-security-policy') || ''), 'the page has the CSP');
	is(cookieSet(r).length, 1, 'no hint: the cookie is cleared');
	is(await promptNone(lonely, n), 'login_required',
	    'no hint: the session ended');
	r = await n.request(`${issuer}/logout`);
	is(r.status, 200, 'a logout without a session: the page too');
	r = await n.request(`${issuer}/logout`, { method: 'PUT' });
	is(r.status, 405, 'PUT /logout: 405');

	// 6b. A hint of another session than the browser's: asked; the
	// answer ends this browser's session, not the hint's.
	const a1 = new Agent();
	const b1 = new Agent();
	const ta = await login(app, a1);
	await login(app, b1);
	r = await b1.request(client.buildEndSessionUrl(app, {
		id_token_hint: ta, post_logout_redirect_uri: LOGGED_OUT,
		state: 'other',
	}));
	f = confirmForm(r);
	ok(f !== null && f.client_id === 'test-app' &&
	    f.post_logout_redirect_uri === LOGGED_OUT && f.state === 'other',
	    'a hint of another session: asked', `${r.status} ${r.location}`);
	is(await promptNone(lonely, b1), true,
	    'a hint of another session: this session lives');
	r = await b1.request(`${issuer}/logout`, { form: f ?? {} });
	ok(r.status === 302 &&
	    r.location?.searchParams.get('state') === 'other',
	    'answered: redirect with state', `${r.status} ${r.location}`);
	is(await promptNone(lonely, b1), 'login_required',
	    'answered: this browser\'s session ended');
	is(await promptNone(lonely, a1), true, 'the hint\'s session lives');

	// 7. /logout/callback with a state that names no registered URI.
	r = await n.request(`${issuer}/logout/callback?state=` +
	    Buffer.from(JSON.stringify({ c: 'test-app',
	    u: 'http://evil.example/', s: 'x' })).toString('base64url'));
	ok(r.status === 200 && r.location === null,
	    'callback with an unregistered URI: the page, no redirect');
	r = await n.request(`${issuer}/logout/callback?state=` +
	    Buffer.from(JSON.stringify({ c: 'test-app', u: LOGGED_OUT,
	    s: 'cb' })).toString('base64url'));
	ok(r.status === 302 && r.location?.searchParams.get('state') === 'cb',
	    'callback with a registered URI: on to it with state');

	// Refused and unanswered logouts sent no logout token; the four
	// that ended a session did, to lonely-app for the three it was
	// signed in by (6 and 6b's through prompt=none).
	await waitFor(7);
	await sleep(300);
	is(received.map((x) => x.path).sort(), ['/bc/lonely-app',
	    '/bc/lonely-app', '/bc/lonely-app', '/bc/test-app',
	    '/bc/test-app', '/bc/test-app', '/bc/test-app'],
	    'back-channel: tokens for ended sessions only, to their clients');
	ok(meta.backchannel_logout_supported === true &&
	    meta.backchannel_logout_session_supported === true,
	    'discovery: back-channel logout supported, with sid');
	srv.close();
}

// A session from an upstream with an end_session_endpoint: the browser
// goes there, then through /logout/callback back to the client.
// A hint that expired longer ago than a session can live
// (sessions.absoluteLifetime, short in this daemon) names no session:
// refused, as a forged one is, with no redirect.
async function stale() {
	const app = await configure('test-app', 'test-secret');
	const a = new Agent();
	const idt = await login(app, a);
	const exp = jwtPayload(idt).exp;
	while (Math.floor(Date.now() / 1000) <= exp + 3)
		await sleep(250);
	const r = await a.request(client.buildEndSessionUrl(app, {
		id_token_hint: idt, post_logout_redirect_uri: LOGGED_OUT,
		state: 'stale',
	}));
	ok(r.status === 400 && r.location === null,
	    'a hint expired longer ago than a session lives: 400, no redirect',
	    `${r.status} ${r.location}`);
}

async function upstream(up) {
	const srv = await receiver();
	const app = await configure('test-app', 'test-secret');
	const a = new Agent();
	const s = await start(app);
	const f = await fedLogin(s.url, { redirectUri: REDIRECT, upstream: up,
	    chooseConnector: 'up', agent: a });
	ok(f.failure === null && f.code !== null, 'upstream login',
	    describe(f));
	let idt = null;
	try {
		idt = (await client.authorizationCodeGrant(app, f.location, {
			pkceCodeVerifier: s.verifier, expectedState: s.state,
			expectedNonce: s.nonce, idTokenExpected: true,
		})).id_token;
	} catch (e) {
		diag(`code redemption failed: ${e.error ?? e.message}`);
	}
	ok(idt !== null, 'upstream login: an ID token');
	received.length = 0;
	let r = await a.request(client.buildEndSessionUrl(app, {
		id_token_hint: idt, post_logout_redirect_uri: LOGGED_OUT,
		state: 'up-state',
	}));
	const want = `http://127.0.0.1:${bcport}/upstream-logout`;
	const l = r.location;
	ok(r.status === 302 && l !== null &&
	    `${l.origin}${l.pathname}` === want,
	    'logout: on to the upstream\'s end_session_endpoint',
	    `${r.status} ${l}`);
	is(l?.searchParams.get('client_id'), 'oidcd',
	    'upstream logout: our client_id there');
	is(l?.searchParams.get('post_logout_redirect_uri'),
	    `${issuer}/logout/callback`,
	    'upstream logout: back to /logout/callback');
	ok(cookieSet(r).length === 1 && /Max-Age=0/.test(cookieSet(r)[0]),
	    'upstream logout: our cookie is cleared');
	const st = l?.searchParams.get('state');
	ok(st && !st.includes('up-state'),
	    'upstream logout: a state of ours, not the client\'s as such');
	r = await a.request(`${issuer}/logout/callback?state=` +
	    encodeURIComponent(st ?? ''));
	ok(r.status === 302 && r.location !== null &&
	    `${r.location.origin}${r.location.pathname}` === LOGGED_OUT &&
	    r.location.searchParams.get('state') === 'up-state',
	    '/logout/callback: on to the client with its state',
	    `${r.status} ${r.location}`);
	await waitFor(1);
	is(received.map((x) => x.path), ['/bc/test-app'],
	    'upstream session: back-channel logout of test-app');
	if (received.length > 0 && idt !== null)
		is(jwtPayload(received[0].form.get('logout_token')).sub,
		    jwtPayload(idt).sub, 'its sub: the upstream user\'s');
	srv.close();
}

try {
	if (mode === 'main')
		await main();
	else if (mode === 'upstream')
		await upstream(process.argv[5]);
	else if (mode === 'stale')
		await stale();
	else
		ok(false, `unknown mode ${mode}`);
} catch (e) {
	ok(false, 'no exception', e.stack);
}
finish();
