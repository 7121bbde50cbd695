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

// Federated logins through oidcd, with openid-client as the relying
// party and oidc-provider (upstream.mjs) as the upstream: the browser
// half by fedlib.mjs, every step checked.  Modes:
//
//   flow ISSUER CLIENT SECRET REDIRECT UPSTREAM CONN [TAG]
//	the whole login, ID token against oidcd's /keys, claims mapped
//	from the upstream, refresh through to the upstream (claims
//	follow, a revoked grant fails), deny, token exchange
//   two ISSUER CLIENT SECRET REDIRECT UP1 CONN1 UP2 CONN2
//	two upstreams behind the chooser: two different subs
//   fail ISSUER CLIENT SECRET REDIRECT UPSTREAM CONN ERROR [TEXT]
//	a login that must end at the redirect_uri with ERROR (and TEXT in
//	its description)
//   callback ISSUER CLIENT SECRET REDIRECT UPSTREAM CONN
//	a bad code and a replayed callback at /callback
//   login ISSUER CLIENT SECRET REDIRECT UPSTREAM CONN TAG
//	one login, its ID token and one refresh through to the upstream
//   oauth ISSUER CLIENT SECRET REDIRECT UPSTREAM CONN
//	a login through Dex's generic OAuth2 connector (userinfo)
//
// Prints TAP lines without numbers; the shell script numbers them.

import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { ok, is, diag, finish, jwtPayload, sleep, Agent }
    from './oplib.mjs';
import { fedLogin, describe, outcome, upstreamAdmin }
    from './fedlib.mjs';

const [mode, issuer, clientId, secret, redirect, ...rest] =
    process.argv.slice(2);
const SCOPE = 'openid profile email groups offline_access';

const admin = upstreamAdmin;

async function upstreamCount(upstream, grant) {
	const r = await admin(upstream, 'GET', 'stats');
	return r.json?.token?.[grant] ?? 0;
}

async function config() {
	return client.discovery(new URL(issuer), clientId, secret,
	    client.ClientSecretBasic(secret),
	    { execute: [client.allowInsecureRequests] });
}

// The start of a login at oidcd; opts.connector as connector_id.
async function start(cfg, opts = {}) {
	const verifier = client.randomPKCECodeVerifier();
	const state = client.randomState();
	const nonce = client.randomNonce();
	const params = {
		redirect_uri: redirect, scope: opts.scope ?? SCOPE, state,
		nonce, code_challenge:
		    await client.calculatePKCECodeChallenge(verifier),
		code_challenge_method: 'S256',
	};
	if (opts.connector !== undefined)
		params.connector_id = opts.connector;
	return { url: client.buildAuthorizationUrl(cfg, params), verifier,
	    state, nonce };
}

async function login(cfg, upstream, opts = {}) {
	const s = await start(cfg, opts);
	const r = await fedLogin(s.url, {
		redirectUri: redirect, upstream, ...opts,
	});
	return { r, ...s };
}

async function redeem(cfg, l) {
	return outcome(client.authorizationCodeGrant(cfg, l.r.location, {
		pkceCodeVerifier: l.verifier, expectedState: l.state,
		expectedNonce: l.nonce, idTokenExpected: true,
	}));
}

// Dex's sub: base64url of the protobuf {1: user id, 2: connector id}.
function dexSub(userId, connId) {
	const f = (n, s) => Buffer.concat([Buffer.from([(n << 3) | 2,
	    Buffer.byteLength(s)]), Buffer.from(s)]);
	return Buffer.concat([f(1, userId), f(2, connId)])
	    .toString('base64url');
}

async function flow(upstream, conn, tag) {
	const cfg = await config();
	const jwks = createRemoteJWKSet(new URL(`${issuer}/keys`));

	const before = await upstreamCount(upstream, 'authorization_code');
	const l = await login(cfg, upstream, { connector: conn });
	if (!ok(l.r.failure === null && l.r.code !== null,
	    `${tag}: alice logs in upstream and oidcd sends a code to the ` +
	    'client', describe(l.r)))
		return;
	const kinds = l.r.steps.map((s) => s.kind);
	ok(kinds.includes('login-page') && kinds.includes('consent-page'),
	    `${tag}: the way led through the upstream's login and consent`,
	    kinds.join(' '));
	ok(l.r.steps.some((s) => new URL(s.url).pathname ===
	    `${new URL(issuer).pathname}/callback`),
	    `${tag}: and back through oidcd's /callback`);
	is(await upstreamCount(upstream, 'authorization_code'), before + 1,
	    `${tag}: oidcd redeemed the upstream code once`);
	// What oidcd sent the upstream: Dex sends neither nonce nor PKCE.
	const up = l.r.steps.map((st) => new URL(st.url)).find((u) =>
	    u.origin === new URL(upstream).origin &&
	    u.searchParams.get('client_id') !== null);
	const q = up?.searchParams;
	ok(q !== undefined && /^[A-Za-z0-9_-]{43}$/.test(q.get('nonce') ?? '') &&
	    /^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? '') &&
	    q.get('code_challenge_method') === 'S256' &&
	    /^[A-Za-z0-9_-]{22}$/.test(q.get('state') ?? '') &&
	    q.get('redirect_uri') === `${issuer}/callback` &&
	    q.get('prompt') === 'consent' &&
	    q.get('access_type') === 'offline',
	    `${tag}: the upstream got a nonce, an S256 PKCE challenge, the ` +
	    'auth request as state, prompt=consent for offline access',
	    up?.href);

	const t = await redeem(cfg, l);
	if (!ok(t.code === 'ok', `${tag}: openid-client redeems oidcd's ` +
	    'code and accepts the ID token', t.e?.stack))
		return;

	// The browser session: a second authorization in the same browser
	// gets its code without another trip to the upstream.
	const n0 = await upstreamCount(upstream, 'authorization_code');
	const l1 = await login(cfg, upstream, { connector: conn,
	    agent: l.r.agent });
	const t1 = l1.r.code !== null ? await redeem(cfg, l1) : null;
	ok(t1?.code === 'ok' && !l1.r.steps.some((st) =>
	    new URL(st.url).origin === new URL(upstream).origin) &&
	    await upstreamCount(upstream, 'authorization_code') === n0,
	    `${tag}: a second login in the same browser: a code, no trip ` +
	    'upstream', describe(l1.r));
	is(t1?.value?.claims()?.sid, t.value.claims().sid,
	    `${tag}: ... in the same session (sid)`);
	const v = await outcome(jwtVerify(t.value.id_token, jwks,
	    { issuer, audience: clientId }));
	ok(v.code === 'ok', `${tag}: the ID token verifies against ` +
	    "oidcd's /keys", v.e?.message);
	const c = t.value.claims();
	is(c.iss, issuer, `${tag}: iss is oidcd, not the upstream`);
	is(c.sub, dexSub('alice-sub', conn),
	    `${tag}: sub is Dex's encoding of the upstream sub and the ` +
	    'connector id');
	is([c.email, c.email_verified, c.name, c.preferred_username,
	    c.groups], ['alice@example.com', true, 'Alice Liddell', 'alice',
	    ['admins', 'devs']], `${tag}: email, name, preferred_username ` +
	    'and groups mapped from the upstream');
	is(c.federated_claims, undefined,
	    `${tag}: no federated_claims without federated:id`);
	ok(typeof t.value.refresh_token === 'string',
	    `${tag}: a refresh token for offline_access`);

	// Refresh goes upstream, and claims follow.
	let n = await upstreamCount(upstream, 'refresh_token');
	const r1 = await outcome(client.refreshTokenGrant(cfg,
	    t.value.refresh_token));
	if (!ok(r1.code === 'ok', `${tag}: refresh`, r1.e?.stack))
		return;
	is(await upstreamCount(upstream, 'refresh_token'), n + 1,
	    `${tag}: the downstream refresh refreshed upstream`);
	is(r1.value.claims()?.sub, c.sub, `${tag}: same sub after refresh`);
	const ch = await admin(upstream, 'POST', 'claims', 'alice-sub', {
		name: 'Alice Pleasance Liddell', groups: ['devs', 'queens'],
	});
	is(ch.status, 200, `${tag}: the upstream changes alice's claims`);
	const r2 = await outcome(client.refreshTokenGrant(cfg,
	    r1.value.refresh_token));
	if (!ok(r2.code === 'ok', `${tag}: refresh after the change`,
	    r2.e?.stack))
		return;
	is([r2.value.claims()?.name, r2.value.claims()?.groups],
	    ['Alice Pleasance Liddell', ['devs', 'queens']],
	    `${tag}: the new name and groups reach the client`);
	// The upstream rotated its refresh token twice: oidcd kept up.
	n = await upstreamCount(upstream, 'refresh_token');
	const r3 = await outcome(client.refreshTokenGrant(cfg,
	    r2.value.refresh_token));
	ok(r3.code === 'ok' &&
	    await upstreamCount(upstream, 'refresh_token') === n + 1,
	    `${tag}: a third refresh uses the upstream's newest refresh token`,
	    r3.e?.stack);

	// The upstream revokes: the next refresh fails, as it should.
	const rv = await admin(upstream, 'POST', 'revoke', 'alice-sub');
	is(rv.status, 200, `${tag}: the upstream revokes alice's grant`);
	const r4 = await outcome(client.refreshTokenGrant(cfg,
	    r3.value?.refresh_token ?? r2.value.refresh_token));
	is(r4.code, 'invalid_grant', `${tag}: refresh after the upstream ` +
	    'revoked: invalid_grant');

	// Bob: email not verified, groups as a plain string.
	const l2 = await login(cfg, upstream, { user: 'bob', connector: conn });
	const t2 = l2.r.code !== null ? await redeem(cfg, l2) : null;
	ok(t2?.code === 'ok', `${tag}: bob logs in`, describe(l2.r));
	is([t2?.value?.claims()?.email, t2?.value?.claims()?.email_verified],
	    ['bob@example.com', false], `${tag}: bob's email is not verified`);
	is(t2?.value?.claims()?.groups, ['devs'],
	    `${tag}: a plain string groups claim becomes one group`);

	// The user says no at the upstream.
	const l3 = await login(cfg, upstream, { deny: true, connector: conn });
	is([l3.r.error, l3.r.state], ['access_denied', l3.state],
	    `${tag}: denied upstream: access_denied at the client, with its ` +
	    'state', describe(l3.r));
}

async function exchange(upstream, conn, upClient, upSecret, tag) {
	const cfg = await config();
	// An upstream ID token, got from the upstream directly.
	const up = await client.discovery(new URL(upstream), upClient,
	    upSecret, client.ClientSecretBasic(upSecret),
	    { execute: [client.allowInsecureRequests] });
	const verifier = client.randomPKCECodeVerifier();
	const url = client.buildAuthorizationUrl(up, {
		redirect_uri: `${issuer}/callback`, scope: 'openid email profile',
		state: 'x'.repeat(22), code_challenge:
		    await client.calculatePKCECodeChallenge(verifier),
		code_challenge_method: 'S256',
	});
	const r = await fedLogin(url, { redirectUri: `${issuer}/callback`,
	    upstream, user: 'alice' });
	const t = r.code === null ? null : await outcome(
	    client.authorizationCodeGrant(up, r.location,
	    { pkceCodeVerifier: verifier, expectedState: 'x'.repeat(22) }));
	if (!ok(t?.code === 'ok', `${tag}: an upstream ID token for alice`,
	    describe(r)))
		return;
	const form = (o) => new URLSearchParams(o).toString();
	const post = async (o) => {
		const res = await fetch(`${issuer}/token`, {
			method: 'POST',
			headers: {
				'content-type':
				    'application/x-www-form-urlencoded',
				authorization: 'Basic ' + Buffer.from(
				    `${clientId}:${secret}`).toString('base64'),
			},
			body: form(o),
		});
		return { status: res.status, json: await res.json() };
	};
	const base = {
		grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
		subject_token: t.value.id_token,
		subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
		connector_id: conn, scope: 'openid email',
	};
	const x = await post(base);
	is([x.status, x.json.issued_token_type, x.json.token_type],
	    [200, 'urn:ietf:params:oauth:token-type:access_token', 'bearer'],
	    `${tag}: token exchange of an upstream ID token`);
	const p = typeof x.json.access_token === 'string' ?
	    jwtPayload(x.json.access_token) : {};
	is([p.iss, p.sub, p.email], [issuer, dexSub('alice-sub', conn),
	    'alice@example.com'], `${tag}: an oidcd access token for alice, ` +
	    'whose upstream token was for another client');
	const xi = await post({ ...base, requested_token_type:
	    'urn:ietf:params:oauth:token-type:id_token' });
	is([xi.status, xi.json.issued_token_type], [200,
	    'urn:ietf:params:oauth:token-type:id_token'],
	    `${tag}: token exchange asking for an ID token`);
	is(xi.json.refresh_token, undefined,
	    `${tag}: no refresh token from a token exchange (Dex)`);
	const bad = await post({ ...base, subject_token:
	    t.value.id_token.slice(0, -4) + 'AAAA' });
	is([bad.status, bad.json.error], [401, 'access_denied'],
	    `${tag}: a forged subject token: 401 access_denied`);
	const nc = await post({ ...base, connector_id: 'nope' });
	is([nc.status, nc.json.error], [400, 'invalid_request'],
	    `${tag}: an unknown connector_id: invalid_request`);
	const nt = await post({ ...base, subject_token_type: 'urn:x' });
	is([nt.status, nt.json.error], [400, 'request_not_supported'],
	    `${tag}: a bad subject_token_type: request_not_supported`);
}

async function one(upstream, conn, tag) {
	const cfg = await config();
	const jwks = createRemoteJWKSet(new URL(`${issuer}/keys`));
	const ui = (await admin(upstream, 'GET', 'stats')).json?.userinfo;
	const l = await login(cfg, upstream, { connector: conn });
	if (process.env.FED_USERINFO !== undefined)
		is((await admin(upstream, 'GET', 'stats')).json?.userinfo,
		    ui + 1, `${tag}: getUserInfo: the upstream's userinfo ` +
		    'was asked');
	const t = l.r.code !== null ? await redeem(cfg, l) : null;
	if (!ok(t?.code === 'ok', `${tag}: login through the upstream, ` +
	    'code redeemed', describe(l.r) + (t?.e?.stack ?? '')))
		return;
	const v = await outcome(jwtVerify(t.value.id_token, jwks,
	    { issuer, audience: clientId }));
	ok(v.code === 'ok', `${tag}: ID token verified against /keys`,
	    v.e?.message);
	const c = t.value.claims();
	// A flow before may have renamed her upstream: both names are hers.
	is([c.sub, c.email, /^Alice (Pleasance )?Liddell$/.test(c.name)],
	    [dexSub('alice-sub', conn), 'alice@example.com', true],
	    `${tag}: sub, email and name from the upstream`);
	let n = await upstreamCount(upstream, 'refresh_token');
	const wait = Number(process.env.FED_REUSE_INTERVAL ?? 0) * 1000;
	if (wait > 0) {
		// Dex: inside reuseInterval the token comes back unchanged
		// and the upstream is not asked.
		const r0 = await outcome(client.refreshTokenGrant(cfg,
		    t.value.refresh_token));
		ok(r0.code === 'ok' &&
		    r0.value.refresh_token === t.value.refresh_token &&
		    await upstreamCount(upstream, 'refresh_token') === n,
		    `${tag}: a refresh inside reuseInterval: the same token, ` +
		    'the upstream not asked', r0.e?.stack);
		await sleep(wait + 1000);
	}
	const r = await outcome(client.refreshTokenGrant(cfg,
	    t.value.refresh_token));
	ok(r.code === 'ok' &&
	    await upstreamCount(upstream, 'refresh_token') === n + 1,
	    `${tag}: a refresh goes through to the upstream`, r.e?.stack);
	ok(r.code === 'ok' && r.value.refresh_token !== t.value.refresh_token,
	    `${tag}: and the refresh token rotates`);
}

async function oauth(upstream, conn) {
	const cfg = await config();
	const before = (await admin(upstream, 'GET', 'stats')).json?.userinfo;
	const l = await login(cfg, upstream, { connector: conn, user: 'bob' });
	const t = l.r.code !== null ? await redeem(cfg, l) : null;
	if (!ok(t?.code === 'ok', `${conn}: login through the OAuth2 ` +
	    'connector, code redeemed', describe(l.r) + (t?.e?.stack ?? '')))
		return;
	const c = t.value.claims();
	is([c.sub, c.email, c.email_verified, c.name, c.preferred_username,
	    c.groups], [dexSub('bob-sub', conn), 'bob@example.com', false,
	    'Bob Builder', 'bob', undefined],
	    `${conn}: the identity mapped from userinfo with userIDKey and ` +
	    'claimMapping (a groups string is no list to Dex\'s oauth ' +
	    'connector)');
	is((await admin(upstream, 'GET', 'stats')).json?.userinfo,
	    before + 1, `${conn}: the upstream's userinfo was asked once`);
	is(t.value.refresh_token, undefined, `${conn}: no refresh token: ` +
	    "Dex's oauth connector cannot refresh");
}

async function two(up1, conn1, up2, conn2) {
	const cfg = await config();
	const a = await login(cfg, up1, { chooseConnector: conn1 });
	const ta = a.r.code !== null ? await redeem(cfg, a) : null;
	ok(ta?.code === 'ok', 'two upstreams: login through the chooser to ' +
	    `"${conn1}"`, describe(a.r));
	ok(a.r.steps[0].kind === 'chooser' ||
	    a.r.steps.some((s) => s.kind === 'chooser'),
	    'two upstreams: the chooser was shown',
	    a.r.steps.map((s) => s.kind).join(' '));
	const b = await login(cfg, up2, { chooseConnector: conn2,
	    agent: new Agent() });
	const tb = b.r.code !== null ? await redeem(cfg, b) : null;
	ok(tb?.code === 'ok', `two upstreams: login through "${conn2}"`,
	    describe(b.r));
	const sa = ta?.value?.claims()?.sub, sb = tb?.value?.claims()?.sub;
	ok(sa !== undefined && sb !== undefined && sa !== sb,
	    'two upstreams: the same upstream user gets two subs', `${sa} ${sb}`);
	is([sa, sb], [dexSub('alice-sub', conn1), dexSub('alice-sub', conn2)],
	    'two upstreams: each sub names its connector');
}

async function fail(upstream, conn, error, text) {
	const cfg = await config();
	const l = await login(cfg, upstream, { connector: conn });
	is(l.r.error, error, `${conn}: the client gets ${error}`,
	    describe(l.r));
	is(l.r.state, l.state, `${conn}: with the client's state`);
	if (text !== undefined)
		ok((l.r.error_description ?? '').includes(text),
		    `${conn}: the description says "${text}"`,
		    l.r.error_description);
	ok(l.r.location !== null && l.r.location.origin ===
	    new URL(redirect).origin, `${conn}: at the client's redirect_uri`);
}

async function callback(upstream, conn) {
	const cfg = await config();
	// Through oidcd to the upstream, then to the upstream's redirect
	// back to /callback, which the test sends itself, changed.
	const s = await start(cfg, { connector: conn });
	const agent = new Agent();
	let u = new URL(s.url);
	for (let i = 0; i < 5 && u.origin !== new URL(upstream).origin; i++) {
		const r = await agent.request(u);
		if (r.location === null)
			break;
		u = r.location;
	}
	const l = { r: await fedLogin(u, { redirectUri: `${issuer}/callback`,
	    upstream, agent }) };
	const back = l.r.location;
	if (!ok(back !== null && back.searchParams.get('code') !== null,
	    'callback: the upstream sends the browser to /callback',
	    describe(l.r)))
		return;
	const forged = new URL(back);
	forged.searchParams.set('code', 'not-a-code');
	const f = await agent.request(forged);
	ok(f.status === 303 && f.location !== null &&
	    f.location.href.startsWith(redirect) &&
	    f.location.searchParams.get('error') === 'server_error',
	    'callback: a bad code: server_error at the client',
	    `${f.status} ${f.location}`);
	const g = await agent.request(back);
	ok(g.status >= 300 && g.status < 500,
	    'callback: the real code after a failure: an answer, not a crash',
	    `${g.status} ${g.location}`);
	const unknown = new URL(back);
	unknown.searchParams.set('state', 'AAAAAAAAAAAAAAAAAAAAAA');
	const h = await agent.request(unknown);
	is(h.status, 400, 'callback: an unknown state: 400 page, no redirect');
}

try {
	switch (mode) {
	case 'flow':
		await flow(rest[0], rest[1], rest[2] ?? 'federation');
		if (rest[3] !== undefined)
			await exchange(rest[0], rest[1], rest[3], rest[4],
			    rest[2] ?? 'federation');
		break;
	case 'two':
		await two(rest[0], rest[1], rest[2], rest[3]);
		break;
	case 'fail':
		await fail(rest[0], rest[1], rest[2], rest[3]);
		break;
	case 'callback':
		await callback(rest[0], rest[1]);
		break;
	case 'login':
		await one(rest[0], rest[1], rest[2] ?? rest[1]);
		break;
	case 'oauth':
		await oauth(rest[0], rest[1]);
		break;
	default:
		diag(`unknown mode ${mode}`);
		ok(false, 'federation.mjs: usage');
	}
} catch (e) {
	ok(false, `federation.mjs ${mode}: no exception`, e.stack);
}
finish();
