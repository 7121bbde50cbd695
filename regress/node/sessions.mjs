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

// Browser sessions against a running oidcd, with openid-client as the
// relying party and oplib's Agent as the browser (its cookie jar): a
// first login through the password page sets the session cookie; a
// second client then gets a code without the password page; prompt,
// max_age and id_token_hint; auth_time and sid in the ID tokens.
// Prints TAP lines without numbers.
//
// Usage:
//	node sessions.mjs main ISSUER DIR	the whole browser side; leaves
//						the browser's cookies in
//						DIR/jar and its sid in DIR/sid
//	node sessions.mjs login ISSUER DIR	a new login; DIR/jar as main
//	node sessions.mjs alive ISSUER DIR	prompt=none with DIR/jar: a code
//	node sessions.mjs dead ISSUER DIR	prompt=none with DIR/jar:
//						login_required
//	node sessions.mjs secure ISSUER		over HTTPS: the cookie is Secure
//	node sessions.mjs off ISSUER		sessions.enabled false: no
//						cookie, prompt=none fails

import { readFileSync, writeFileSync } from 'node:fs';
import * as client from 'openid-client';
import {
	REDIRECT, ok, is, diag, finish, sleep, jwtPayload, Agent,
	browserLogin,
} from './oplib.mjs';

const [mode, issuer, dir] = process.argv.slice(2);
const SCOPE = 'openid email profile';
const LONELY = 'http://127.0.0.1:5557/callback';
const COOKIE = 'dex_session';

async function configure(id, secret) {
	const config = await client.discovery(new URL(issuer), id, secret,
	    client.ClientSecretBasic(secret),
	    { execute: [client.allowInsecureRequests] });
	client.enableNonRepudiationChecks(config);
	return config;
}

async function start(config, redirect, extra = {}) {
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

// Follow /auth's redirects with agent, without logging in: the last
// response, which is the password page (200), or the redirect back to
// the client (303), or anything else.
async function visit(agent, url, redirect) {
	let r = await agent.request(url);
	for (let hops = 0; (r.status === 302 || r.status === 303) &&
	    hops < 5 && !String(r.location).startsWith(redirect); hops++)
		r = await agent.request(r.location);
	if ((r.status === 302 || r.status === 303) &&
	    /\/auth\/local\/login/.test(r.location.pathname))
		r = await agent.request(r.location);
	return r;
}

function isPasswordPage(r) {
	return r.status === 200 && /name="password"/.test(r.text);
}

// Redeem a redirect back to the client; the ID token's claims, or null.
async function redeem(config, s, location) {
	try {
		const t = await client.authorizationCodeGrant(config, location, {
			pkceCodeVerifier: s.verifier, expectedState: s.state,
			expectedNonce: s.nonce, idTokenExpected: true,
		});
		return { claims: jwtPayload(t.id_token), idToken: t.id_token };
	} catch (e) {
		diag(`code redemption failed: ${e.error ?? e.message}`);
		return null;
	}
}

// A full login through the password page with agent; tokens or null.
async function login(config, agent, redirect, extra = {}, user) {
	const s = await start(config, redirect, extra);
	const b = await browserLogin(s.url, {
		agent, redirect, username: user,
	});
	if (b.location === null)
		return { s, b, t: null };
	return { s, b, t: await redeem(config, s, b.location) };
}

function saveJar(agent) {
	writeFileSync(`${dir}/jar`, JSON.stringify([...agent.cookies]));
}

function loadJar() {
	const agent = new Agent();
	agent.cookies = new Map(JSON.parse(readFileSync(`${dir}/jar`,
	    'utf8')));
	return agent;
}

// prompt=none with agent: the redirect's query, or null.
async function promptNone(config, agent, extra = {}) {
	const s = await start(config, REDIRECT, { prompt: 'none', ...extra });
	const r = await visit(agent, s.url, REDIRECT);
	if (r.status !== 303 || !String(r.location).startsWith(REDIRECT))
		return { s, r, q: null };
	return { s, r, q: r.location.searchParams };
}

async function main() {
	const app = await configure('test-app', 'test-secret');
	const lonely = await configure('lonely-app', 'lonely-secret');
	const a = new Agent();
	const t0 = Math.floor(Date.now() / 1000);

	// 1. The first login: the password page, then a session cookie.
	const first = await login(app, a, REDIRECT);
	ok(first.b.steps.loginPage && isPasswordPage(first.b.steps.loginPage),
	    'first login: the password page');
	ok(first.t !== null, 'first login: a code, redeemed');
	const set = first.b.steps.loginPost ?
	    first.b.steps.loginPost.headers.getSetCookie()
	    .filter((c) => c.startsWith(`${COOKIE}=`)) : [];
	is(set.length, 1, 'the login sets the dex_session cookie');
	const c = set[0] || '';
	ok(/^dex_session=[A-Za-z0-9_-]{43};/.test(c),
	    'its value: 32 random bytes, base64url', c);
	ok(/;\s*HttpOnly/i.test(c), 'cookie: HttpOnly', c);
	ok(/;\s*SameSite=Lax/i.test(c), 'cookie: SameSite=Lax', c);
	ok(/;\s*Path=\/dex\/(;|$)/.test(c), 'cookie: Path=/dex/', c);
	ok(!/;\s*Secure/i.test(c), 'cookie: not Secure over plain HTTP', c);
	if (first.t === null) {
		finish();
		return;
	}
	const c1 = first.t.claims;
	ok(Number.isInteger(c1.auth_time) && Math.abs(c1.auth_time - t0) < 30,
	    'ID token: auth_time, the login\'s', JSON.stringify(c1));
	ok(typeof c1.sid === 'string' && c1.sid.length >= 16,
	    'ID token: sid', JSON.stringify(c1));
	ok(!c.includes(c1.sid), 'the sid is not the cookie value');
	await sleep(1100);

	// 2. A second client: signed in from the session, no password page.
	const s2 = await start(lonely, LONELY);
	const r2 = await visit(a, s2.url, LONELY);
	ok(r2.status === 303 && String(r2.location).startsWith(LONELY),
	    'second client: straight back with a code, no password page',
	    `${r2.status} ${r2.location}`);
	const t2 = r2.status === 303 ? await redeem(lonely, s2, r2.location) :
	    null;
	ok(t2 !== null, 'second client: its code redeems');
	if (t2 !== null) {
		is(t2.claims.sub, c1.sub, 'second client: the same user');
		is(t2.claims.sid, c1.sid, 'second client: the same sid');
		is(t2.claims.auth_time, c1.auth_time,
		    'second client: auth_time of the real login');
		is(t2.claims.aud, 'lonely-app', 'second client: its audience');
	}

	// 3. prompt=none with a session: a code.
	const n1 = await promptNone(app, a);
	ok(n1.q !== null && n1.q.get('code') !== null &&
	    n1.q.get('state') === n1.s.state,
	    'prompt=none with a session: a code', String(n1.r.location));
	if (n1.q !== null && n1.q.get('code') !== null)
		ok(await redeem(app, n1.s, n1.r.location) !== null,
		    'prompt=none: the code redeems');

	// 4. prompt=none without a session: login_required, with state.
	const b = new Agent();
	const n2 = await promptNone(app, b);
	ok(n2.q !== null && n2.q.get('error') === 'login_required' &&
	    n2.q.get('state') === n2.s.state,
	    'prompt=none without a session: login_required at the ' +
	    'redirect_uri, with state', `${n2.r.status} ${n2.r.location}`);
	const n3 = await promptNone(app, b, { prompt: 'none login' });
	ok(n3.q !== null && n3.q.get('error') === 'invalid_request',
	    'prompt=none with login: invalid_request',
	    `${n3.r.status} ${n3.r.location}`);
	const n4 = await promptNone(app, a, { prompt: 'bogus' });
	ok(n4.q !== null && n4.q.get('error') === 'invalid_request',
	    'an unknown prompt value: invalid_request');

	// 5. prompt=login: the password page again, despite the session.
	let s = await start(app, REDIRECT, { prompt: 'login' });
	let r = await visit(a, s.url, REDIRECT);
	ok(isPasswordPage(r), 'prompt=login: the password page', r.status);

	// 6. max_age: 0, and 1 after 1.1 s, ask again; a large one does not.
	s = await start(app, REDIRECT, { max_age: '0' });
	r = await visit(a, s.url, REDIRECT);
	ok(isPasswordPage(r), 'max_age=0: the password page', r.status);
	s = await start(app, REDIRECT, { max_age: '1' });
	r = await visit(a, s.url, REDIRECT);
	ok(isPasswordPage(r), 'max_age=1, logged in over a second ago: ' +
	    'the password page', r.status);
	s = await start(app, REDIRECT, { max_age: '3600' });
	r = await visit(a, s.url, REDIRECT);
	ok(r.status === 303 && String(r.location).startsWith(REDIRECT),
	    'max_age=3600: no password page', r.status);
	s = await start(app, REDIRECT, { max_age: '-1' });
	r = await visit(a, s.url, REDIRECT);
	ok(r.status === 303 && r.location.searchParams.get('error') ===
	    'invalid_request', 'max_age=-1: invalid_request');
	const n5 = await promptNone(app, a, { max_age: '0' });
	ok(n5.q !== null && n5.q.get('error') === 'login_required',
	    'prompt=none with max_age=0: login_required');

	// 7. id_token_hint: ours and the user's; another user's; forged.
	const n6 = await promptNone(app, a, { id_token_hint: first.t.idToken });
	ok(n6.q !== null && n6.q.get('code') !== null,
	    'prompt=none, id_token_hint of the session\'s user: a code',
	    String(n6.r.location));
	const other = await login(app, b, REDIRECT, {}, 'other@example.com');
	ok(other.t !== null, 'another browser: other@example.com logs in');
	if (other.t !== null) {
		ok(other.t.claims.sid !== c1.sid,
		    'another session: another sid');
		const n7 = await promptNone(app, a,
		    { id_token_hint: other.t.idToken });
		ok(n7.q !== null && n7.q.get('error') === 'login_required',
		    'prompt=none, another user\'s id_token_hint: ' +
		    'login_required', String(n7.r.location));
		s = await start(app, REDIRECT,
		    { id_token_hint: other.t.idToken });
		r = await visit(a, s.url, REDIRECT);
		ok(isPasswordPage(r), 'another user\'s id_token_hint: ' +
		    'the password page', r.status);
	}
	const [h, p, sig] = first.t.idToken.split('.');
	const claims = jwtPayload(first.t.idToken);
	claims.sub = 'forged';
	const forged = [h, Buffer.from(JSON.stringify(claims))
	    .toString('base64url'), sig].join('.');
	const n8 = await promptNone(app, a, { id_token_hint: forged });
	ok(n8.q !== null && n8.q.get('error') === 'login_required',
	    'prompt=none, a forged id_token_hint: login_required');
	const badsig = [h, p, sig.slice(0, -4) + (sig.endsWith('AAAA') ?
	    'BBBB' : 'AAAA')].join('.');
	const n9 = await promptNone(app, a, { id_token_hint: badsig });
	ok(n9.q !== null && n9.q.get('error') === 'login_required',
	    'prompt=none, a bad signature on the hint: login_required');
	s = await start(app, REDIRECT, { id_token_hint: forged });
	r = await visit(a, s.url, REDIRECT);
	ok(isPasswordPage(r), 'a forged id_token_hint: the password page');

	// 8. prompt=consent: the approval page, which prompt=none never is.
	s = await start(app, REDIRECT, { prompt: 'consent' });
	r = await visit(a, s.url, REDIRECT);
	ok(r.status === 200 && /\/approval\?/.test(r.url) &&
	    /name="approval"/.test(r.text),
	    'prompt=consent: the approval page', `${r.status} ${r.url}`);

	// 9. prompt=login and a new login: the browser's old session ends.
	const d = new Agent();
	const l1 = await login(app, d, REDIRECT);
	const d2 = new Agent();
	d2.cookies = new Map(d.cookies);
	const l2 = await login(app, d2, REDIRECT, { prompt: 'login' });
	ok(l1.t !== null && l2.t !== null &&
	    isPasswordPage(l2.b.steps.loginPage),
	    'prompt=login: a new login through the password page');
	if (l1.t !== null && l2.t !== null) {
		ok(l2.t.claims.sid !== l1.t.claims.sid &&
		    d2.cookies.get(COOKIE) !== d.cookies.get(COOKIE),
		    'the new login: a new session, a new cookie');
		const o = await promptNone(app, d);
		ok(o.q !== null && o.q.get('error') === 'login_required',
		    'the old cookie: login_required', String(o.r.location));
		const o2 = await promptNone(app, d2);
		ok(o2.q !== null && o2.q.get('code') !== null,
		    'the new cookie: a code', String(o2.r.location));
	}

	saveJar(a);
	writeFileSync(`${dir}/sid`, c1.sid);
	finish();
}

async function newLogin() {
	const app = await configure('test-app', 'test-secret');
	const a = new Agent();
	const l = await login(app, a, REDIRECT);
	ok(l.t !== null && isPasswordPage(l.b.steps.loginPage),
	    'a new login through the password page');
	saveJar(a);
	finish();
}

async function check(alive) {
	const app = await configure('test-app', 'test-secret');
	const n = await promptNone(app, loadJar());
	if (alive)
		ok(n.q !== null && n.q.get('code') !== null,
		    'prompt=none with the saved cookie: a code',
		    String(n.r.location));
	else
		ok(n.q !== null && n.q.get('error') === 'login_required',
		    'prompt=none with the ended session\'s cookie: ' +
		    'login_required', String(n.r.location));
	finish();
}

// Over HTTPS the cookie is Secure (https.sh's setup).
async function secure() {
	const app = await configure('test-app', 'test-secret');
	const b = await browserLogin((await start(app, REDIRECT)).url);
	const set = b.steps.loginPost ? b.steps.loginPost.headers
	    .getSetCookie().filter((c) => c.startsWith(`${COOKIE}=`)) : [];
	ok(set.length === 1 && /;\s*Secure/i.test(set[0]),
	    'over HTTPS the session cookie is Secure', set[0]);
	finish();
}

// sessions.enabled: false: no cookie, every login a new one.
async function off() {
	const app = await configure('test-app', 'test-secret');
	const a = new Agent();
	const l = await login(app, a, REDIRECT);
	ok(l.t !== null, 'sessions off: a login works');
	ok(!a.cookies.has(COOKIE), 'sessions off: no session cookie');
	ok(l.t === null || (l.t.claims.sid === undefined &&
	    l.t.claims.auth_time === undefined),
	    'sessions off: no sid, no auth_time');
	const s = await start(app, REDIRECT);
	ok(isPasswordPage(await visit(a, s.url, REDIRECT)),
	    'sessions off: the password page again');
	const n = await promptNone(app, a);
	ok(n.q !== null && n.q.get('error') === 'login_required',
	    'sessions off: prompt=none gets login_required');
	finish();
}

if (mode === 'main')
	await main();
else if (mode === 'login')
	await newLogin();
else if (mode === 'alive' || mode === 'dead')
	await check(mode === 'alive');
else if (mode === 'secure')
	await secure();
else if (mode === 'off')
	await off();
else {
	console.error('usage: node sessions.mjs ' +
	    'main|login|alive|dead|secure|off ISSUER [DIR]');
	process.exitCode = 2;
}
