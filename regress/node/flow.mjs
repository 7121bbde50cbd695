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

// The authorization code flow against a running oidcd with the npm
// package openid-client as the relying party, the way an application
// uses it: discovery, PKCE, state and nonce, the code grant with the ID
// token checked against /keys, userinfo, refresh with rotation and reuse
// detection, introspection.  Prints TAP lines without numbers.
//
// Usage:
//	node flow.mjs main ISSUER DIR	the whole flow; leaves a live
//					refresh token in DIR/refresh
//	node flow.mjs refresh ISSUER DIR ok|dead
//					refresh DIR/refresh: it works (and
//					DIR/refresh is replaced) or gives
//					invalid_grant
//	node flow.mjs expiry ISSUER	idle (3 s) and absolute (6 s)
//					refresh token expiry; reuseInterval
//					must be off
//	node flow.mjs approval ISSUER	the approval page on the way
//	node flow.mjs es256 ISSUER	the code flow signed with ES256

import { readFileSync, writeFileSync } from 'node:fs';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import {
	ADMIN_SUB, REDIRECT, ok, is, diag, finish, sleep, halfHash,
	jwtHeader, browserLogin, postForm,
} from './oplib.mjs';

const [mode, issuer, dir, expect] = process.argv.slice(2);
const SCOPE = 'openid email profile groups offline_access';

async function configure(auth = 'basic') {
	const config = await client.discovery(new URL(issuer), 'test-app',
	    'test-secret', auth === 'basic' ?
	    client.ClientSecretBasic('test-secret') :
	    client.ClientSecretPost('test-secret'),
	    { execute: [client.allowInsecureRequests] });
	// Verify every ID token's signature against jwks_uri, not only its
	// claims: openid-client skips that for a direct TLS token response.
	client.enableNonRepudiationChecks(config);
	return config;
}

// Start a login: returns the URL and the values the callback needs.
async function start(config, extra = {}) {
	const verifier = client.randomPKCECodeVerifier();
	const state = client.randomState();
	const nonce = client.randomNonce();
	const url = client.buildAuthorizationUrl(config, {
		redirect_uri: REDIRECT, scope: SCOPE, state, nonce,
		code_challenge: await client.calculatePKCECodeChallenge(
		    verifier),
		code_challenge_method: 'S256', ...extra,
	});
	return { url, verifier, state, nonce };
}

// The error code of a failed openid-client call, or "ok".
async function outcome(p) {
	try {
		return { code: 'ok', value: await p };
	} catch (e) {
		return {
			code: e.error ?? e.code ?? 'exception', status: e.status,
			description: e.error_description, e,
		};
	}
}

// Log in as admin and redeem the code; returns tokens or null.
async function loginAndRedeem(config, extra = {}) {
	const s = await start(config, extra);
	const b = await browserLogin(s.url);
	if (!ok(b.location !== null, 'login reaches the redirect_uri',
	    JSON.stringify(Object.fromEntries(Object.entries(b.steps)
	    .map(([k, v]) => [k, v && v.status !== undefined ?
	    [v.status, String(v.location)] : v])))))
		return null;
	const r = await outcome(client.authorizationCodeGrant(config,
	    b.location, {
		pkceCodeVerifier: s.verifier, expectedState: s.state,
		expectedNonce: s.nonce, idTokenExpected: true,
	}));
	if (!ok(r.code === 'ok', 'openid-client redeems the code and ' +
	    'accepts the ID token', r.e && r.e.stack))
		return null;
	return { ...s, tokens: r.value, location: b.location, steps: b.steps };
}

async function mainFlow() {
	const config = await configure('basic');
	const md = config.serverMetadata();
	is(md.issuer, issuer, 'discovery: issuer');
	is(md.token_endpoint, `${issuer}/token`, 'discovery: token_endpoint');
	ok(md.code_challenge_methods_supported.includes('S256'),
	    'discovery: S256');
	ok(md.grant_types_supported.includes('password'),
	    'discovery: password grant advertised with passwordConnector');

	const s = await start(config);
	const b = await browserLogin(s.url);
	const st = b.steps;
	is(st.auth.status, 302, 'GET /auth with one connector: 302');
	ok(st.auth.location !== null &&
	    st.auth.location.pathname === '/dex/auth/local',
	    'GET /auth goes on to /dex/auth/local', String(st.auth.location));
	ok(st.auth.location !== null &&
	    st.auth.location.searchParams.get('state') === s.state,
	    '... keeping the request parameters');
	is(st.loginPage && st.loginPage.status, 200, 'password page: 200');
	ok(st.loginPage &&
	    /^\/dex\/auth\/local\/login$/.test(new URL(st.loginPage.url)
	    .pathname), 'password page at /dex/auth/local/login',
	    st.loginPage && st.loginPage.url);
	const f = st.loginForm;
	ok(f && f.method === 'post', 'password form posts');
	ok(f && f.fields.some((x) => x.name === 'login') &&
	    f.fields.some((x) => x.name === 'password' &&
	    x.type === 'password'), 'password form: login and password');
	ok(f && Object.keys(f.hidden).some((k) => /csrf/i.test(k) &&
	    f.hidden[k].length >= 16), 'password form: a CSRF token');
	is(st.loginPost && st.loginPost.status, 303,
	    'password POST: 303 to the client (skipApprovalScreen)');
	ok(b.location !== null && b.location.origin + b.location.pathname ===
	    REDIRECT, 'redirect to the registered redirect_uri',
	    String(b.location));
	if (b.location === null) {
		diag('no code: the rest of the flow cannot run');
		return;
	}
	is(b.location.searchParams.get('state'), s.state, 'state returned');
	const code = b.location.searchParams.get('code');
	ok(code !== null && code.length >= 22, 'a code in the query');
	ok(b.location.hash === '', 'code flow: nothing in the fragment');

	const r = await outcome(client.authorizationCodeGrant(config,
	    b.location, {
		pkceCodeVerifier: s.verifier, expectedState: s.state,
		expectedNonce: s.nonce, idTokenExpected: true,
	}));
	if (!ok(r.code === 'ok', 'openid-client: code grant, ID token ' +
	    'verified against /keys', r.e && r.e.stack))
		return;
	const t = r.value;
	is(t.token_type, 'bearer', 'token_type bearer');
	ok(Number.isInteger(t.expires_in) && t.expires_in > 3600 &&
	    t.expires_in <= 86400, 'expires_in: the ID token lifetime',
	    t.expires_in);
	ok(typeof t.refresh_token === 'string' && t.refresh_token.length > 20,
	    'a refresh token with offline_access');
	const id = t.claims();
	is(id.iss, issuer, 'iss exact');
	is(id.aud, 'test-app', 'aud: a string for one audience');
	ok(!('azp' in id), 'no azp with one audience');
	is(id.sub, ADMIN_SUB, 'sub: Dex encoding of (userID, "local")');
	is(id.email, 'admin@example.com', 'email');
	is(id.email_verified, true, 'email_verified');
	is(id.name, 'admin', 'name');
	is(id.preferred_username, 'admin', 'preferred_username');
	is(id.groups, ['admins', 'devs'], 'groups');
	is(id.nonce, s.nonce, 'nonce');
	is(id.at_hash, halfHash(t.access_token), 'at_hash');
	is(id.c_hash, halfHash(code), 'c_hash on the code-flow ID token');
	ok(id.exp - id.iat === 86400, 'exp = iat + 24h', id.exp - id.iat);
	ok(Math.abs(id.iat - Date.now() / 1000) < 10, 'iat is now');
	const hdr = jwtHeader(t.id_token);
	ok(typeof hdr.kid === 'string' && hdr.kid.length > 0,
	    'ID token header has a kid');

	// The access token is a JWT of the same shape, verified by jose.
	const jwks = createRemoteJWKSet(new URL(md.jwks_uri));
	const av = await outcome(jwtVerify(t.access_token, jwks,
	    { issuer, audience: 'test-app' }));
	ok(av.code === 'ok', 'access token: a JWT that verifies against ' +
	    '/keys', av.e && av.e.message);
	if (av.code === 'ok')
		is(av.value.payload.sub, ADMIN_SUB, 'access token sub');

	// The same exchange by hand, for the headers.
	const s2 = await start(config);
	const b2 = await browserLogin(s2.url);
	if (b2.location !== null) {
		const h = await postForm(`${issuer}/token`, {
			grant_type: 'authorization_code',
			code: b2.location.searchParams.get('code'),
			redirect_uri: REDIRECT, code_verifier: s2.verifier,
		}, ['test-app', 'test-secret']);
		is(h.status, 200, 'raw code grant: 200');
		is(h.headers.get('cache-control'), 'no-store',
		    'Cache-Control: no-store');
		is(h.headers.get('pragma'), 'no-cache', 'Pragma: no-cache');
		ok(/^application\/json/.test(h.headers.get('content-type')),
		    'Content-Type: application/json');
		is(h.json && Object.keys(h.json).slice(0, 3),
		    ['access_token', 'token_type', 'expires_in'],
		    'token response keys in Dex order');
		is(h.json && h.json.token_type, 'bearer',
		    'token_type is lower-case "bearer"');
	} else {
		ok(false, 'second login for the raw exchange');
	}

	// Userinfo.
	const u = await outcome(client.fetchUserInfo(config, t.access_token,
	    ADMIN_SUB));
	ok(u.code === 'ok', 'userinfo with the access token',
	    u.e && u.e.stack);
	if (u.code === 'ok') {
		is(u.value.sub, ADMIN_SUB, 'userinfo sub');
		is(u.value.email, 'admin@example.com', 'userinfo email');
	}

	// Refresh with rotation.  Dex rotates only outside reuseInterval
	// (2 s here) of the token's last use: inside it the same token comes
	// back.  Timestamps may be whole seconds, hence the margin.
	await sleep(3200);
	const r1 = await outcome(client.refreshTokenGrant(config,
	    t.refresh_token));
	ok(r1.code === 'ok', 'refresh', r1.e && r1.e.stack);
	if (r1.code !== 'ok')
		return;
	const t1 = r1.value;
	ok(t1.refresh_token && t1.refresh_token !== t.refresh_token,
	    'rotation: a new refresh token');
	const id1 = t1.claims();
	is(id1.sub, ADMIN_SUB, 'refreshed ID token: same sub');
	is(id1.nonce, s.nonce, 'refreshed ID token: the original nonce');
	ok(!('c_hash' in id1), 'refreshed ID token: no c_hash');
	is(id1.at_hash, halfHash(t1.access_token), 'refreshed at_hash');
	is(id1.groups, ['admins', 'devs'], 'refreshed groups');

	// Within reuseInterval (2 s) the old token gives the current one:
	// two tabs refreshing at once both win (Dex's rule).
	const r2 = await outcome(client.refreshTokenGrant(config,
	    t.refresh_token));
	ok(r2.code === 'ok', 'old token inside reuseInterval: accepted',
	    r2.e && `${r2.code}: ${r2.description}`);
	if (r2.code === 'ok')
		is(r2.value.refresh_token, t1.refresh_token,
		    '... and answered with the current refresh token');

	// Narrowing the scopes is allowed, widening is not.
	const rn = await outcome(client.refreshTokenGrant(config,
	    t1.refresh_token, { scope: 'openid email' }));
	ok(rn.code === 'ok', 'refresh narrowing scope to openid email',
	    rn.e && `${rn.code}: ${rn.description}`);
	let cur = rn.code === 'ok' ? rn.value.refresh_token : t1.refresh_token;
	if (rn.code === 'ok') {
		const c = rn.value.claims();
		ok(!('groups' in c) && !('name' in c) && c.email ===
		    'admin@example.com', 'narrowed: no groups, no name');
	}

	// After reuseInterval the old token is a replay: invalid_grant, and
	// the whole family is revoked (better than Dex, which leaves the
	// current token alive).
	await sleep(3200);
	const r3 = await outcome(client.refreshTokenGrant(config,
	    t.refresh_token));
	is(r3.code, 'invalid_grant', 'replayed refresh token after ' +
	    'reuseInterval: invalid_grant');
	const r4 = await outcome(client.refreshTokenGrant(config, cur));
	is(r4.code, 'invalid_grant', 'reuse detection revoked the family: ' +
	    'the current token fails too');

	// Introspection (RFC 7662), which needs client authentication.
	const x = await loginAndRedeem(config);
	if (x === null)
		return;
	const ia = await outcome(client.tokenIntrospection(config,
	    x.tokens.access_token));
	ok(ia.code === 'ok' && ia.value.active === true,
	    'introspection: access token active', ia.e && ia.e.stack);
	if (ia.code === 'ok') {
		is(ia.value.client_id, 'test-app', 'introspection client_id');
		is(ia.value.sub, ADMIN_SUB, 'introspection sub');
		is(ia.value.token_use, 'access_token',
		    'introspection token_use access_token');
		is(ia.value.iss, issuer, 'introspection iss');
		ok(typeof ia.value.exp === 'number', 'introspection exp');
	}
	const ir = await outcome(client.tokenIntrospection(config,
	    x.tokens.refresh_token));
	ok(ir.code === 'ok' && ir.value.active === true,
	    'introspection: refresh token active', ir.e && ir.e.stack);
	if (ir.code === 'ok') {
		is(ir.value.token_use, 'refresh_token',
		    'introspection token_use refresh_token');
		ok(typeof ir.value.exp === 'number' &&
		    ir.value.exp > Date.now() / 1000,
		    'refresh token exp in the future (not Dex\'s CreatedAt bug)',
		    ir.value.exp);
	}
	const ig = await postForm(`${issuer}/token/introspect`,
	    { token: 'garbage.not-a-token' }, ['test-app', 'test-secret']);
	is([ig.status, ig.json], [200, { active: false }],
	    'introspection of garbage: 200 {"active":false}');
	const ib = await postForm(`${issuer}/token/introspect`,
	    { token: x.tokens.access_token });
	is(ib.status, 401, 'introspection without client auth: 401');
	is(ib.json && ib.json.error, 'invalid_client',
	    '... invalid_client');
	ok(!/"active"\s*:\s*true/.test(ib.text),
	    '... and nothing about the token');
	const iw = await postForm(`${issuer}/token/introspect`,
	    { token: x.tokens.access_token }, ['test-app', 'wrong']);
	is(iw.status, 401, 'introspection with a wrong secret: 401');

	// client_secret_post works as well as basic.
	const cp = await configure('post');
	const rp = await outcome(client.refreshTokenGrant(cp,
	    x.tokens.refresh_token));
	ok(rp.code === 'ok', 'refresh with client_secret_post',
	    rp.e && `${rp.code}: ${rp.description}`);

	// Audience of a trusting peer: aud is an array, azp is us.
	const pa = await loginAndRedeem(config, {
		scope: 'openid email audience:server:client_id:peer-app',
	});
	if (pa !== null) {
		const c = pa.tokens.claims();
		is(c.aud, ['peer-app', 'test-app'],
		    'cross-client: aud [peer-app, test-app]');
		is(c.azp, 'test-app', 'cross-client: azp test-app');
		ok(pa.tokens.refresh_token === undefined,
		    'no refresh token without offline_access');
	}

	// Leave a live refresh token for the restart checks.
	if (rp.code === 'ok')
		writeFileSync(`${dir}/refresh`, rp.value.refresh_token);
}

async function refreshOnly() {
	const config = await configure('basic');
	const rt = readFileSync(`${dir}/refresh`, 'utf8').trim();
	const r = await outcome(client.refreshTokenGrant(config, rt));
	if (expect === 'ok') {
		ok(r.code === 'ok', 'the saved refresh token still works',
		    r.e && `${r.code}: ${r.description}`);
		if (r.code === 'ok') {
			is(r.value.claims().sub, ADMIN_SUB,
			    '... with the same sub');
			writeFileSync(`${dir}/refresh`,
			    r.value.refresh_token);
		}
	} else {
		is(r.code, 'invalid_grant', 'the saved refresh token is gone: ' +
		    'invalid_grant');
	}
}

async function expiry() {
	const config = await configure('basic');
	// Idle: validIfNotUsedFor 3 s (reuseInterval is off on this daemon,
	// so every refresh rotates and counts as a use).  Timestamps may be
	// whole seconds: each wait has a second of margin.
	const a = await loginAndRedeem(config);
	if (a === null)
		return;
	await sleep(4500);
	const ra = await outcome(client.refreshTokenGrant(config,
	    a.tokens.refresh_token));
	is(ra.code, 'invalid_grant', 'unused for 4.5 s (idle 3 s): ' +
	    'invalid_grant');

	// Absolute: 6 s, however often it is used.
	const b = await loginAndRedeem(config);
	if (b === null)
		return;
	const t0 = Date.now();
	let rt = b.tokens.refresh_token;
	let alive = true;
	for (const at of [2000, 4000, 5500]) {
		await sleep(Math.max(0, at - (Date.now() - t0)));
		const r = await outcome(client.refreshTokenGrant(config, rt));
		if (r.code !== 'ok') {
			alive = false;
			diag(`refresh at ${Date.now() - t0} ms: ` +
			    `${r.code} ${r.description}`);
			break;
		}
		rt = r.value.refresh_token;
	}
	ok(alive, 'refreshed at 2, 4 and 5.5 s: alive (idle 3 s, ' +
	    'absolute 6 s)');
	await sleep(Math.max(0, 7600 - (Date.now() - t0)));
	const rb = await outcome(client.refreshTokenGrant(config, rt));
	is(rb.code, 'invalid_grant', 'at 7.6 s, past absoluteLifetime ' +
	    'though used 2.1 s ago: invalid_grant');
}

async function approval() {
	const config = await configure('basic');
	const s = await start(config);
	const b = await browserLogin(s.url);
	const st = b.steps;
	is(st.loginPost && st.loginPost.status, 303,
	    'password POST: 303 to the approval page');
	ok(st.loginPost && st.loginPost.location &&
	    st.loginPost.location.pathname === '/dex/approval',
	    '... /dex/approval', st.loginPost && String(st.loginPost.location));
	is(st.approvalPage && st.approvalPage.status, 200, 'approval page');
	ok(st.approvalPage && /Test App/.test(st.approvalPage.text),
	    'approval page names the client');
	// Dex posts req as a hidden field and hmac in the form's URL (the
	// form has no action); either place will do.
	const af = st.approvalForm;
	const has = (k) => af !== null && af !== undefined &&
	    (k in af.hidden || af.action.searchParams.has(k));
	ok(has('req') && has('hmac'), 'approval form: req and hmac');
	ok(af && Object.keys(af.hidden).some((k) => /csrf/i.test(k)),
	    'approval form: a CSRF token');
	is(st.approvalPost && st.approvalPost.status, 303,
	    'approve: 303 to the client');
	ok(b.location !== null && b.location.searchParams.get('state') ===
	    s.state, '... with code and state');
	if (b.location !== null) {
		const r = await outcome(client.authorizationCodeGrant(config,
		    b.location, {
			pkceCodeVerifier: s.verifier, expectedState: s.state,
			expectedNonce: s.nonce, idTokenExpected: true,
		}));
		ok(r.code === 'ok', 'the approved code redeems',
		    r.e && r.e.stack);
	}
	const s3 = await start(config);
	const b3 = await browserLogin(s3.url, { approve: 'deny' });
	ok(b3.location === null || b3.location.searchParams.get('code') ===
	    null, 'deny: no code');
	if (b3.location !== null)
		is(b3.location.searchParams.get('error'), 'access_denied',
		    'deny: access_denied to the client');
}

// A daemon signing with ES256: openid-client verifies its ID tokens
// against the P-256 JWKS, and refresh works.
async function es256() {
	const config = await configure('basic');
	is(config.serverMetadata().id_token_signing_alg_values_supported,
	    ['ES256'], 'discovery: ES256');
	const a = await loginAndRedeem(config);
	if (a === null)
		return;
	is(jwtHeader(a.tokens.id_token).alg, 'ES256', 'ID token: ES256');
	is(a.tokens.claims().at_hash, halfHash(a.tokens.access_token),
	    'ES256 at_hash (SHA-256)');
	await sleep(3200);
	const r = await outcome(client.refreshTokenGrant(config,
	    a.tokens.refresh_token));
	ok(r.code === 'ok', 'ES256 refresh, ID token verified',
	    r.e && `${r.code}: ${r.description}`);
}

try {
	if (mode === 'es256')
		await es256();
	else if (mode === 'main')
		await mainFlow();
	else if (mode === 'refresh')
		await refreshOnly();
	else if (mode === 'expiry')
		await expiry();
	else if (mode === 'approval')
		await approval();
	else
		ok(false, `unknown mode ${mode}`);
} catch (e) {
	ok(false, `flow.mjs ${mode} threw`, e.stack);
}
finish();
