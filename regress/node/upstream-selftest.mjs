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

// The self-test of the upstream harness, without oidcd: openid-client is
// the relying party straight against upstream.mjs, and fedlib.mjs is
// the browser.  What the broker's tests will lean on is checked here:
// the issuer with its trailing slash, the login and consent pages, the
// code grant with PKCE and nonce, the claims in the ID token signed with
// the chosen algorithm, refresh and its rotation, the admin endpoints
// (claims, revoke, stats), deny and a wrong password.  Prints TAP lines
// without numbers.
//
// Usage: node upstream-selftest.mjs MODE ISSUER ALG CLIENT_ID SECRET
//	    REDIRECT [STUB_PORT]
// full	upstream.mjs runs with its default users, --alg ALG and --client
//	CLIENT_ID:SECRET:REDIRECT,http://127.0.0.1:STUB_PORT/callback; the
//	second redirect_uri is the stand-in broker's, run here on STUB_PORT
// post	the same with --no-rotate; the client authenticates with
//	client_secret_post
// users	--users with dave (password s3cret) alone, and a public client
//	(SECRET empty)

import * as http from 'node:http';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { ok, is, diag, finish, jwtHeader, jwtPayload } from './oplib.mjs';
import { fedLogin, describe, outcome, upstreamAdmin }
    from './fedlib.mjs';

const [mode, issuer, alg, clientId, secret, redirect, stubPort] =
    process.argv.slice(2);
if (!['full', 'post', 'users'].includes(mode) || redirect === undefined ||
    (mode === 'full' && stubPort === undefined)) {
	console.error('usage: upstream-selftest.mjs full|post|users ISSUER ' +
	    'ALG CLIENT_ID SECRET REDIRECT [STUB_PORT]');
	process.exit(2);
}
const SCOPE = 'openid profile email groups offline_access';
// The test names say which run they belong to: "https ES256: ...".
const tag = `${new URL(issuer).protocol.replace(':', '')} ${alg}`;
const origin = new URL(issuer).origin;

function admin(method, what, sub, body) {
	return upstreamAdmin(origin, method, what, sub, body);
}

async function refreshCount() {
	const r = await admin('GET', 'stats');
	return r.json?.token?.refresh_token ?? 0;
}

// Start at the upstream's authorization endpoint, as a broker's
// redirect would; the login is walked by fedlib.
async function login(config, opts = {}) {
	const verifier = client.randomPKCECodeVerifier();
	const state = client.randomState();
	const nonce = client.randomNonce();
	const pkce = opts.pkce === false ? {} : {
		code_challenge:
		    await client.calculatePKCECodeChallenge(verifier),
		code_challenge_method: 'S256',
	};
	const url = client.buildAuthorizationUrl(config, {
		redirect_uri: redirect, scope: opts.scope ?? SCOPE, state,
		nonce, prompt: 'consent', ...pkce,
	});
	const r = await fedLogin(url, {
		redirectUri: redirect, upstream: issuer, ...opts,
	});
	return { r, verifier: opts.pkce === false ? undefined : verifier,
	    state, nonce };
}

async function redeem(config, l) {
	return outcome(client.authorizationCodeGrant(config, l.r.location, {
		pkceCodeVerifier: l.verifier, expectedState: l.state,
		expectedNonce: l.nonce, idTokenExpected: true,
	}));
}

async function discovery(config) {
	const md = config.serverMetadata();
	is(md.issuer, issuer, `${tag}: discovery issuer is exact`);
	ok(md.issuer.endsWith('/'), `${tag}: ... with its trailing slash`);
	const res = await fetch(`${issuer}.well-known/openid-configuration`);
	const raw = res.status === 200 ? await res.json() : null;
	ok(raw !== null && raw.issuer === issuer,
	    `${tag}: discovery served at <issuer>.well-known/` +
	    'openid-configuration', `status ${res.status}`);
	is(md.id_token_signing_alg_values_supported, [alg],
	    `${tag}: the one ID token algorithm advertised`);
	ok(md.code_challenge_methods_supported?.includes('S256'),
	    `${tag}: S256 advertised`);
	ok(['openid', 'profile', 'email', 'groups', 'offline_access']
	    .every((s) => md.scopes_supported?.includes(s)),
	    `${tag}: scopes advertised`, md.scopes_supported);
	ok(md.authorization_endpoint.startsWith(issuer) &&
	    md.token_endpoint.startsWith(issuer) &&
	    md.jwks_uri.startsWith(issuer),
	    `${tag}: endpoints under the issuer path`,
	    JSON.stringify(md));
}

// Alice through the whole flow, then refresh, claims, revoke.
async function alice(config, jwks) {
	const l = await login(config);
	const st = l.r.steps;
	if (!ok(l.r.failure === null && l.r.code !== null,
	    `${tag}: alice logs in and the code reaches the redirect_uri`,
	    describe(l.r)))
		return;
	is(st.map((s) => `${s.kind}:${s.status}`), [
		'redirect:303', 'login-page:200', 'login-post:303',
		'redirect:303', 'consent-page:200', 'consent-post:303',
		'redirect:303',
	], `${tag}: login page, then consent, each answered by 303`);
	ok(new URL(st[1].url).pathname.startsWith('/interaction/'),
	    `${tag}: the login page is at /interaction/UID`, st[1].url);
	is(l.r.location.origin + l.r.location.pathname, redirect,
	    `${tag}: the redirect goes to the registered redirect_uri`);
	is(l.r.state, l.state, `${tag}: state passed back`);
	is(l.r.iss, issuer, `${tag}: iss in the authorization response`);

	const before = await admin('GET', 'stats');
	const t = await redeem(config, l);
	if (!ok(t.code === 'ok', `${tag}: code redeemed with PKCE, ID ` +
	    'token accepted by openid-client', t.e?.stack))
		return;
	const tok = t.value;
	is(jwtHeader(tok.id_token).alg, alg, `${tag}: ID token header alg`);
	const v = await outcome(jwtVerify(tok.id_token, jwks,
	    { issuer, audience: clientId }));
	ok(v.code === 'ok', `${tag}: ID token verifies with jose against ` +
	    'jwks_uri', v.e?.message);
	const c = tok.claims();
	is([c.sub, c.email, c.email_verified, c.name, c.preferred_username,
	    c.groups], ['alice-sub', 'alice@example.com', true,
	    'Alice Liddell', 'alice', ['admins', 'devs']],
	    `${tag}: ID token claims: sub, email, email_verified, name, ` +
	    'preferred_username, groups');
	is(c.nonce, l.nonce, `${tag}: ID token nonce`);
	ok(typeof tok.refresh_token === 'string' &&
	    tok.refresh_token.length > 20,
	    `${tag}: a refresh token for offline_access`);
	ok(typeof tok.access_token === 'string',
	    `${tag}: an access token`);
	const after = await admin('GET', 'stats');
	is((after.json?.token?.authorization_code ?? 0) -
	    (before.json?.token?.authorization_code ?? 0), 1,
	    `${tag}: /admin/stats counts the code grant`);

	// Refresh: a new ID token and a new refresh token.
	let n = await refreshCount();
	const r1 = await outcome(client.refreshTokenGrant(config,
	    tok.refresh_token));
	if (!ok(r1.code === 'ok', `${tag}: refresh works`, r1.e?.stack))
		return;
	is(await refreshCount(), n + 1,
	    `${tag}: /admin/stats counts the refresh`);
	ok(typeof r1.value.id_token === 'string' &&
	    jwtPayload(r1.value.id_token).sub === 'alice-sub',
	    `${tag}: the refresh brings an ID token for alice`);
	is(r1.value.claims()?.groups, ['admins', 'devs'],
	    `${tag}: ... with her groups`);
	ok(typeof r1.value.refresh_token === 'string' &&
	    r1.value.refresh_token !== tok.refresh_token,
	    `${tag}: the refresh token rotates`);

	// Claims follow the upstream.
	const ch = await admin('POST', 'claims', 'alice-sub', {
		name: 'Alice Pleasance Liddell', groups: ['devs', 'queens'],
		email_verified: null,
	});
	is(ch.status, 200, `${tag}: POST /admin/claims: 200`);
	const r2 = await outcome(client.refreshTokenGrant(config,
	    r1.value.refresh_token));
	if (!ok(r2.code === 'ok', `${tag}: refresh after a claims change`,
	    r2.e?.stack))
		return;
	const c2 = r2.value.claims();
	is([c2?.name, c2?.groups, c2?.email_verified, c2?.email],
	    ['Alice Pleasance Liddell', ['devs', 'queens'], undefined,
	    'alice@example.com'],
	    `${tag}: the changed claims in the next ID token, a null one ` +
	    'gone, the rest kept');
	await admin('POST', 'claims', 'alice-sub', {
		name: 'Alice Liddell', groups: ['admins', 'devs'],
		email_verified: true,
	});

	// Revoke: the next refresh fails with invalid_grant.
	const rv = await admin('POST', 'revoke', 'alice-sub');
	ok(rv.status === 200 && rv.json?.grants >= 1,
	    `${tag}: POST /admin/revoke drops alice's grant`, rv.text);
	n = await refreshCount();
	const r3 = await outcome(client.refreshTokenGrant(config,
	    r2.value.refresh_token));
	is(r3.code, 'invalid_grant',
	    `${tag}: after the revoke, refresh gives invalid_grant`);
	is(await refreshCount(), n + 1,
	    `${tag}: /admin/stats counts the failed refresh too`);
}

// A spent refresh token is refused, and its reuse ends the grant.
async function reuse(config) {
	const l = await login(config, { user: 'alice' });
	const t = l.r.code === null ? null : await redeem(config, l);
	if (!ok(t !== null && t.code === 'ok', `${tag}: alice again`,
	    describe(l.r)))
		return;
	const old = t.value.refresh_token;
	const r1 = await outcome(client.refreshTokenGrant(config, old));
	ok(r1.code === 'ok', `${tag}: refresh`);
	const r2 = await outcome(client.refreshTokenGrant(config, old));
	is(r2.code, 'invalid_grant',
	    `${tag}: the spent refresh token gives invalid_grant`);
	if (r1.code === 'ok') {
		const r3 = await outcome(client.refreshTokenGrant(config,
		    r1.value.refresh_token));
		is(r3.code, 'invalid_grant',
		    `${tag}: ... and its reuse revoked the new one`);
	}
}

async function otherUsers(config) {
	let l = await login(config, { user: 'bob' });
	let t = l.r.code === null ? null : await redeem(config, l);
	if (ok(t !== null && t.code === 'ok', `${tag}: bob logs in`,
	    t?.e?.stack ?? describe(l.r))) {
		const c = t.value.claims();
		is([c.sub, c.email_verified, c.groups],
		    ['bob-sub', false, 'devs'],
		    `${tag}: bob: email not verified, groups a plain string`);
	}
	// carol by her email: the login form takes either.
	l = await login(config, { user: 'carol@example.com',
	    password: 'pw-carol' });
	t = l.r.code === null ? null : await redeem(config, l);
	if (ok(t !== null && t.code === 'ok',
	    `${tag}: carol logs in by email`, t?.e?.stack ?? describe(l.r))) {
		const c = t.value.claims();
		ok(c.sub === 'carol-sub' && !('name' in c) &&
		    !('groups' in c) && c.preferred_username === 'carol',
		    `${tag}: carol: no name claim, no groups`,
		    JSON.stringify(c));
	}
	// A confidential client need not send PKCE.
	l = await login(config, { pkce: false });
	t = l.r.code === null ? null : await redeem(config, l);
	ok(t !== null && t.code === 'ok',
	    `${tag}: a login without PKCE, for a confidential client`,
	    t?.e?.stack ?? describe(l.r));
	// Without offline_access: no refresh token.
	l = await login(config, { scope: 'openid email' });
	t = l.r.code === null ? null : await redeem(config, l);
	if (ok(t !== null && t.code === 'ok',
	    `${tag}: a login without offline_access`, describe(l.r))) {
		is(t.value.refresh_token, undefined,
		    `${tag}: ... gets no refresh token`);
		ok(!('groups' in t.value.claims()) &&
		    !('name' in t.value.claims()),
		    `${tag}: ... and only the claims of its scopes`);
	}
}

async function refusals(config) {
	const d = await login(config, { deny: true });
	ok(d.r.failure === null && d.r.location !== null,
	    `${tag}: deny reaches the redirect_uri`, describe(d.r));
	is([d.r.error, d.r.code, d.r.state],
	    ['access_denied', null, d.state],
	    `${tag}: deny gives error=access_denied with the state`);

	const w = await login(config, { password: 'pw-wrong' });
	const last = w.r.steps[w.r.steps.length - 1];
	ok(w.r.failure === null && w.r.loginRejected !== null &&
	    w.r.location === null,
	    `${tag}: a wrong password stops at the login form`,
	    describe(w.r));
	ok(last !== undefined && last.kind === 'login-rejected' &&
	    last.status === 200 && /name="password"/.test(last.text),
	    `${tag}: ... shown again with 200`);
	ok(/invalid/i.test(w.r.loginRejected ?? ''),
	    `${tag}: ... with an error message`, w.r.loginRejected);
	const u = await login(config, { user: 'nobody' });
	ok(u.r.loginRejected !== null, `${tag}: an unknown user too`);
}

async function adminErrors() {
	let r = await admin('POST', 'claims', 'nobody-sub', { a: 1 });
	is(r.status, 404, `${tag}: /admin/claims of an unknown sub: 404`);
	r = await admin('POST', 'claims', 'bob-sub', { sub: 'x' });
	is(r.status, 400, `${tag}: /admin/claims cannot change sub`);
	r = await admin('GET', 'revoke', 'bob-sub');
	is(r.status, 405, `${tag}: GET /admin/revoke: 405`);
	r = await admin('POST', 'nothing');
	is(r.status, 404, `${tag}: an unknown /admin/ endpoint: 404`);
}

// A stand-in for the broker's pages, to take fedlib through what it must
// get past besides the upstream's: a chooser page of links, a way back
// to /callback off the upstream, the broker's own approval form, and a
// stop at a client redirect_uri on yet another origin.  It is no
// broker: the code it hands on is the upstream's own, redeemed here.
const APP = 'http://127.0.0.1:9/app';

function stubBroker(config, port) {
	const stub = {
		base: `http://127.0.0.1:${port}`, approval: false,
		pending: new Map(), seen: null, server: null,
	};
	const cb = `${stub.base}/callback`;
	const send = (res, status, headers, body = '') => {
		res.writeHead(status, { 'content-length':
		    Buffer.byteLength(body), ...headers });
		res.end(body);
	};
	const toApp = (res, q) => send(res, 303, {
		location: `${APP}?${new URLSearchParams(q)}` });
	stub.server = http.createServer(async (req, res) => {
		const u = new URL(req.url, stub.base);
		const state = u.searchParams.get('state') ?? '';
		if (u.pathname === '/auth') {
			const q = `state=${encodeURIComponent(state)}`;
			// As Dex's login.html lays it out.
			send(res, 200, { 'content-type': 'text/html' },
			    '<link href="/static/main.css" rel="stylesheet">' +
			    '<div><a class="btn" href="/auth/local?' + q +
			    '" target="_self"><span class="icon"></span>' +
			    '<span>Log in with Email</span></a></div>\n' +
			    '<div><a class="btn" href=\'/auth/authentik?' +
			    `${q}'><span>Log in with Authentik</span>` +
			    '</a></div>');
		} else if (u.pathname === '/auth/local') {
			send(res, 200, { 'content-type': 'text/html' },
			    '<form method="post" action="/auth/local/login">' +
			    '<input type="text" name="login"><input ' +
			    'type="password" name="password"></form>');
		} else if (u.pathname === '/auth/authentik') {
			const p = {
				verifier: client.randomPKCECodeVerifier(),
				nonce: client.randomNonce(),
			};
			stub.pending.set(state, p);
			send(res, 302, { location: String(
			    client.buildAuthorizationUrl(config, {
				redirect_uri: cb, scope: SCOPE, state,
				nonce: p.nonce, prompt: 'consent',
				code_challenge: await client
				    .calculatePKCECodeChallenge(p.verifier),
				code_challenge_method: 'S256',
			})) });
		} else if (u.pathname === '/callback') {
			stub.seen = { url: u, ...stub.pending.get(state) };
			if (!stub.approval)
				return toApp(res, { code: 'from-stub', state });
			// Dex's approval.html: a form for each answer.
			const req = `<input type="hidden" name="req" ` +
			    `value="${encodeURIComponent(state)}">`;
			send(res, 200, { 'content-type': 'text/html' },
			    ['approve', 'rejected'].map((v) =>
			    '<form method="post" action="/approval">' + req +
			    '<input type="hidden" name="approval" ' +
			    `value="${v}"><button type="submit">${v}` +
			    '</button></form>').join('\n'));
		} else if (u.pathname === '/approval' &&
		    req.method === 'POST') {
			let body = '';
			for await (const d of req)
				body += d;
			const f = new URLSearchParams(body);
			toApp(res, f.get('approval') === 'approve' ?
			    { code: 'from-stub', state: f.get('req') } :
			    { error: 'access_denied', state: f.get('req') });
		} else {
			send(res, 404, {});
		}
	});
	return new Promise((resolve, reject) => {
		stub.server.once('error', reject);
		stub.server.listen(port, '127.0.0.1', () => resolve(stub));
	});
}

async function viaStub(config, port) {
	const stub = await stubBroker(config, port);
	try {
		await stubRuns(config, stub);
	} finally {
		stub.server.closeAllConnections();
		stub.server.close();
	}
}

async function stubRuns(config, stub) {
	const opts = { redirectUri: APP, upstream: issuer };
	let r = await fedLogin(`${stub.base}/auth?state=s1`,
	    { ...opts, chooseConnector: 'Authentik' });
	ok(r.failure === null && r.code === 'from-stub' && r.state === 's1',
	    `${tag}: fedlib: chooser by name, upstream login and consent, ` +
	    'back through /callback to the client', describe(r));
	is(r.steps.map((x) => `${x.kind}:${x.status}`), [
		'chooser:200', 'redirect:302', 'redirect:303',
		'login-page:200', 'login-post:303', 'redirect:303',
		'consent-page:200', 'consent-post:303', 'redirect:303',
		'redirect:303',
	], `${tag}: fedlib: the steps of a federated login`);
	is(r.location?.origin + r.location?.pathname, APP,
	    `${tag}: fedlib: stops at the client's redirect_uri unfetched`);
	const seen = stub.seen;
	const t = seen === null ? { code: 'none' } :
	    await outcome(client.authorizationCodeGrant(config, seen.url, {
		pkceCodeVerifier: seen.verifier, expectedState: 's1',
		expectedNonce: seen.nonce, idTokenExpected: true,
	}));
	ok(t.code === 'ok' && t.value.claims().sub === 'alice-sub',
	    `${tag}: fedlib: the code at /callback redeems for alice`,
	    t.e?.stack);

	// By id, through an approval page, the upstream found by its forms.
	stub.approval = true;
	const id = { redirectUri: APP, chooseConnector: 'authentik',
	    user: 'bob' };
	r = await fedLogin(`${stub.base}/auth?state=s2`, id);
	ok(r.failure === null && r.code === 'from-stub' && r.state === 's2',
	    `${tag}: fedlib: chooser by id, upstream found by its forms`,
	    describe(r));
	ok(r.steps.some((x) => x.kind === 'approval-page') &&
	    r.steps.some((x) => x.kind === 'approval-post'),
	    `${tag}: fedlib: the broker's approval form approved`,
	    describe(r));
	r = await fedLogin(`${stub.base}/auth?state=s3`,
	    { ...id, brokerApproval: 'deny' });
	is([r.failure, r.error, r.code, r.state],
	    [null, 'access_denied', null, 's3'],
	    `${tag}: fedlib: brokerApproval deny`);
	stub.approval = false;

	r = await fedLogin(`${stub.base}/auth?state=s4`, opts);
	ok(/chooser page .*with Email, Log in with Authentik.* no choose/
	    .test(r.failure ?? '') && r.location === null,
	    `${tag}: fedlib: a chooser page without chooseConnector fails`,
	    r.failure);
	r = await fedLogin(`${stub.base}/auth?state=s5`,
	    { ...opts, chooseConnector: 'ldap' });
	ok(/no connector "ldap"/.test(r.failure ?? ''),
	    `${tag}: fedlib: an unknown connector fails`, r.failure);
	r = await fedLogin(`${stub.base}/auth?state=s6`,
	    { ...opts, chooseConnector: 'authentik', maxSteps: 4 });
	ok(r.failure === 'more than 4 requests' && r.steps.length === 4,
	    `${tag}: fedlib: maxSteps`, r.failure);
	r = await fedLogin(`${stub.base}/auth?state=s7`,
	    { ...opts, chooseConnector: 'local' });
	ok(/broker's own password page/.test(r.failure ?? ''),
	    `${tag}: fedlib: the broker's password page is not for it`,
	    r.failure);
	r = await fedLogin(`${stub.base}/nothing`, opts);
	ok(/status 404/.test(r.failure ?? ''),
	    `${tag}: fedlib: a 404 on the way fails`, r.failure);
}

// --no-rotate, and the secret sent in the body, in the header, wrong.
async function postNoRotate(config, basic, wrong) {
	const l = await login(config);
	const t = l.r.code === null ? null : await redeem(config, l);
	if (!ok(t !== null && t.code === 'ok',
	    `${tag}: client_secret_post: code redeemed`,
	    t?.e?.stack ?? describe(l.r)))
		return;
	const old = t.value.refresh_token;
	const r1 = await outcome(client.refreshTokenGrant(config, old));
	const r2 = await outcome(client.refreshTokenGrant(config, old));
	ok(r1.code === 'ok' && r2.code === 'ok',
	    `${tag}: --no-rotate: the same refresh token works twice`,
	    r1.e?.stack ?? r2.e?.stack);
	ok(r1.code === 'ok' && (r1.value.refresh_token === undefined ||
	    r1.value.refresh_token === old),
	    `${tag}: --no-rotate: no new refresh token`);
	const r3 = await outcome(client.refreshTokenGrant(basic, old));
	ok(r3.code === 'ok',
	    `${tag}: the same client with client_secret_basic too`,
	    r3.e?.stack);
	const bad = await outcome(client.refreshTokenGrant(wrong, old));
	is(bad.code, 'invalid_client', `${tag}: a wrong secret: ` +
	    'invalid_client');
}

// --users and a public client: PKCE required, the file's users only.
async function fileUsers(config) {
	let l = await login(config, { user: 'dave', password: 's3cret' });
	const t = l.r.code === null ? null : await redeem(config, l);
	if (ok(t !== null && t.code === 'ok',
	    `${tag}: --users: dave logs in, public client redeems`,
	    t?.e?.stack ?? describe(l.r)))
		is([t.value.claims().sub, t.value.claims().name,
		    t.value.claims().groups], ['dave-sub', 'Dave', ['x']],
		    `${tag}: --users: dave's claims from the file`);
	l = await login(config, { user: 'dave' });
	ok(l.r.loginRejected !== null,
	    `${tag}: --users: the password is the file's, not pw-dave`);
	l = await login(config);
	ok(l.r.loginRejected !== null,
	    `${tag}: --users: the built-in alice is gone`);
	l = await login(config, { user: 'dave', password: 's3cret',
	    pkce: false });
	is([l.r.failure, l.r.error, l.r.code],
	    [null, 'invalid_request', null],
	    `${tag}: a public client without PKCE: invalid_request`);
}

async function main() {
	const opts = issuer.startsWith('http:') ?
	    { execute: [client.allowInsecureRequests] } : {};
	const auth = mode === 'post' ? client.ClientSecretPost(secret) :
	    mode === 'users' ? client.None() :
	    client.ClientSecretBasic(secret);
	let config;
	try {
		config = await client.discovery(new URL(issuer), clientId,
		    secret || undefined, auth, opts);
	} catch (e) {
		ok(false, `${tag}: openid-client discovery`, e.stack);
		return;
	}
	ok(true, `${tag}: openid-client discovery`);
	client.enableNonRepudiationChecks(config);
	if (mode === 'post')
		return postNoRotate(config, await client.discovery(
		    new URL(issuer), clientId, secret,
		    client.ClientSecretBasic(secret), opts),
		    await client.discovery(new URL(issuer), clientId,
		    'wrong', client.ClientSecretBasic('wrong'), opts));
	if (mode === 'users')
		return fileUsers(config);
	const jwks = createRemoteJWKSet(
	    new URL(config.serverMetadata().jwks_uri));
	await discovery(config);
	await alice(config, jwks);
	await reuse(config);
	await otherUsers(config);
	await refusals(config);
	await adminErrors();
	await viaStub(config, Number(stubPort));
}

main().catch((e) => {
	ok(false, 'no exception', e.stack);
	diag(e.stack);
}).finally(finish);
