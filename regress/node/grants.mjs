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

// The client_credentials grant, the clients' own grantTypes and token
// revocation (RFC 7009) against a running oidcd, with the npm package
// openid-client as the client (clientCredentialsGrant, tokenRevocation)
// and plain HTTP for what a good library never sends.  Prints TAP lines
// without numbers.
//
// Usage:
//	node grants.mjs cc ISSUER	client_credentials and grantTypes;
//					oauth2.grantTypes lists
//					client_credentials
//	node grants.mjs nocc ISSUER	oauth2.grantTypes leaves it out
//	node grants.mjs revoke ISSUER	revocation of refresh and access
//					tokens
//	node grants.mjs access ISSUER FILE
//					write a live access token of test-app
//					to FILE (for oidcctl revoke token)

import { writeFileSync } from 'node:fs';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import {
	ADMIN_SUB, REDIRECT, ok, is, diag, finish, sleep, browserLogin,
	postForm, jwtPayload,
} from './oplib.mjs';

const [mode, issuer, file] = process.argv.slice(2);

// Dex's sub for a client_credentials token: (client id, "") as protobuf.
function clientSub(id) {
	return Buffer.concat([Buffer.from([0x0a, id.length]),
	    Buffer.from(id)]).toString('base64url');
}

async function configure(id, secret, post = false) {
	return client.discovery(new URL(issuer), id, secret, post ?
	    client.ClientSecretPost(secret) : client.ClientSecretBasic(secret),
	    { execute: [client.allowInsecureRequests] });
}

async function outcome(p) {
	try {
		return { code: 'ok', value: await p };
	} catch (e) {
		return {
			code: e.error ?? e.code ?? 'exception',
			status: e.status,
			description: e.error_description, e,
		};
	}
}

function why(r) {
	return r.e ? `${r.code} ${r.status}: ${r.description ?? ''} ` +
	    (r.e.stack ?? '') : undefined;
}

async function discovery() {
	const res = await fetch(`${issuer}/.well-known/openid-configuration`);
	return res.json();
}

// Log admin in through test-app (or another client) and redeem the code.
async function login(config, scope, redirect = REDIRECT) {
	const verifier = client.randomPKCECodeVerifier();
	const state = client.randomState();
	const url = client.buildAuthorizationUrl(config, {
		redirect_uri: redirect, scope, state,
		code_challenge: await client.calculatePKCECodeChallenge(
		    verifier),
		code_challenge_method: 'S256',
	});
	const b = await browserLogin(url, { redirect });
	if (b.location === null)
		return null;
	const r = await outcome(client.authorizationCodeGrant(config,
	    b.location, { pkceCodeVerifier: verifier, expectedState: state }));
	return r.code === 'ok' ? r.value : null;
}

async function userinfoStatus(at) {
	const res = await fetch(`${issuer}/userinfo`,
	    { headers: { authorization: `Bearer ${at}` } });
	return { status: res.status, www: res.headers.get('www-authenticate'),
	    text: await res.text() };
}

async function ccMode() {
	const d = await discovery();
	ok(d.grant_types_supported.includes('client_credentials'),
	    'discovery: client_credentials when oauth2.grantTypes lists it');
	is(d.grant_types_supported, [...d.grant_types_supported].sort(),
	    'discovery: grant types sorted');
	is(d.revocation_endpoint, `${issuer}/token/revoke`,
	    'discovery: revocation_endpoint');
	const keys = Object.keys(d);
	is(keys[keys.indexOf('claims_supported') + 1], 'revocation_endpoint',
	    'discovery: revocation_endpoint after Dex\'s members');

	const cc = await configure('cc-app', 'cc-secret');
	const jwks = createRemoteJWKSet(new URL(d.jwks_uri));

	// With openid: an ID token too; never a refresh token.
	const r = await outcome(client.clientCredentialsGrant(cc,
	    { scope: 'openid profile groups email' }));
	if (ok(r.code === 'ok', 'openid-client: client_credentials for a ' +
	    'confidential client', why(r))) {
		const t = r.value;
		is(t.token_type, 'bearer', 'token_type bearer');
		ok(!('refresh_token' in t), 'no refresh token');
		ok(typeof t.id_token === 'string', 'an ID token with openid');
		ok(t.expires_in > 3600, 'expires_in', t.expires_in);
		const v = await outcome(jwtVerify(t.access_token, jwks,
		    { issuer, audience: 'cc-app' }));
		ok(v.code === 'ok', 'access token verifies against /keys',
		    why(v));
		const a = jwtPayload(t.access_token);
		is(a.sub, clientSub('cc-app'),
		    'sub: Dex\'s encoding of (client id, "")');
		is(a.aud, 'cc-app', 'aud: the client');
		is(a.groups, ['robots', 'deployers'],
		    'groups from clientCredentialsClaims');
		is(a.name, 'CC App', 'name: the client\'s name');
		is(a.preferred_username, 'CC App',
		    'preferred_username: the client\'s name');
		is(a.email_verified, false,
		    'email scope: email_verified false');
		ok(!('email' in a), 'email scope: no email');
		ok(typeof a.jti === 'string' && a.jti.length > 0, 'a jti');
		const id = jwtPayload(t.id_token);
		is(id.sub, a.sub, 'ID token: same sub');
		ok(typeof id.at_hash === 'string', 'ID token: at_hash');
		const u = await outcome(client.fetchUserInfo(cc,
		    t.access_token, clientSub('cc-app')));
		ok(u.code === 'ok', 'userinfo with the client\'s token',
		    why(u));
	}

	// Without openid: the access token alone.
	const r2 = await outcome(client.clientCredentialsGrant(cc,
	    { scope: 'groups' }));
	if (ok(r2.code === 'ok', 'client_credentials without openid',
	    why(r2))) {
		ok(!('id_token' in r2.value), '... no ID token');
		is(jwtPayload(r2.value.access_token).groups,
		    ['robots', 'deployers'], '... groups in the access token');
	}
	const r3 = await outcome(client.clientCredentialsGrant(cc));
	ok(r3.code === 'ok' && !('groups' in
	    jwtPayload(r3.value.access_token)),
	    'client_credentials without scope: no groups', why(r3));

	// A nonce, if sent, is carried as Dex master does.
	const rn = await postForm(`${issuer}/token`, {
		grant_type: 'client_credentials', scope: 'openid',
		nonce: 'n-0123',
	}, ['cc-app', 'cc-secret']);
	is(rn.status, 200, 'raw client_credentials: 200');
	is(rn.json && Object.keys(rn.json),
	    ['access_token', 'token_type', 'expires_in', 'id_token'],
	    'raw: Dex\'s members, no refresh_token');
	is(rn.json && jwtPayload(rn.json.id_token).nonce, 'n-0123',
	    'raw: nonce in the ID token');
	is(rn.headers.get('cache-control'), 'no-store', 'raw: no-store');

	// Refused scopes, as Dex master.
	const ro = await outcome(client.clientCredentialsGrant(cc,
	    { scope: 'openid offline_access' }));
	is([ro.code, ro.status], ['invalid_scope', 400],
	    'offline_access: 400 invalid_scope');
	is(ro.description, 'client_credentials grant does not support ' +
	    'offline_access scope.', '... Dex master\'s description');
	const rf = await outcome(client.clientCredentialsGrant(cc,
	    { scope: 'openid federated:id' }));
	is(rf.code, 'invalid_scope', 'federated:id: invalid_scope');
	const ru = await outcome(client.clientCredentialsGrant(cc,
	    { scope: 'openid bogus' }));
	is([ru.code, ru.description], ['invalid_scope',
	    'Unrecognized scope(s) ["bogus"]'], 'unknown scope: invalid_scope');

	// Authentication and who may use the grant.
	const bad = await configure('cc-app', 'wrong-secret');
	const rb = await outcome(client.clientCredentialsGrant(bad));
	is([rb.code, rb.status], ['invalid_client', 401],
	    'wrong secret: 401 invalid_client');
	const pub = await postForm(`${issuer}/token`, {
		grant_type: 'client_credentials', client_id: 'public-app',
	});
	is([pub.status, pub.json && pub.json.error], [400,
	    'unauthorized_client'], 'public client: 400 unauthorized_client');
	is(pub.json && pub.json.error_description, 'Public clients cannot ' +
	    'use client_credentials grant.', '... Dex master\'s description');
	const nocc = await outcome(client.clientCredentialsGrant(
	    await configure('nocc-app', 'nocc-secret')));
	is([nocc.code, nocc.status], ['unauthorized_client', 400],
	    'a client whose grantTypes omit it: 400 unauthorized_client');
	const any = await outcome(client.clientCredentialsGrant(
	    await configure('test-app', 'test-secret', true),
	    { scope: 'openid' }));
	ok(any.code === 'ok', 'a client without grantTypes may use it ' +
	    '(client_secret_post)', why(any));

	// grantTypes bind the other grants too.
	const pw = await postForm(`${issuer}/token`, {
		grant_type: 'password', username: 'admin@example.com',
		password: 'password', scope: 'openid',
	}, ['cc-app', 'cc-secret']);
	is([pw.status, pw.json && pw.json.error], [400,
	    'unauthorized_client'], 'password grant of a client without ' +
	    'it: unauthorized_client');
	const au = await fetch(`${issuer}/auth?` + new URLSearchParams({
		client_id: 'cc-app', redirect_uri: 'http://127.0.0.1:5559/cb',
		response_type: 'code', scope: 'openid', state: 'st-1',
	}), { redirect: 'manual' });
	const loc = au.headers.get('location');
	const lu = loc !== null ? new URL(loc) : null;
	ok(au.status === 303 && lu !== null &&
	    lu.searchParams.get('error') === 'unauthorized_client' &&
	    lu.searchParams.get('state') === 'st-1',
	    '/auth for a client without authorization_code: ' +
	    'unauthorized_client to its redirect_uri', `${au.status} ${loc}`);

	// A code client without refresh_token gets no refresh token.
	const nc = await configure('nocc-app', 'nocc-secret');
	const nt = await login(nc, 'openid offline_access',
	    'http://127.0.0.1:5560/cb');
	ok(nt !== null && typeof nt.refresh_token === 'string',
	    'nocc-app (authorization_code, refresh_token): a refresh token');
	const rt = await configure('norefresh-app', 'norefresh-secret');
	const tt = await login(rt, 'openid offline_access',
	    'http://127.0.0.1:5561/cb');
	ok(tt !== null && !('refresh_token' in tt), 'a client whose ' +
	    'grantTypes omit refresh_token: no refresh token',
	    tt && Object.keys(tt));
}

async function noccMode() {
	const d = await discovery();
	ok(!d.grant_types_supported.includes('client_credentials'),
	    'discovery: no client_credentials by default');
	is(d.revocation_endpoint, `${issuer}/token/revoke`,
	    'discovery: revocation_endpoint');
	const r = await outcome(client.clientCredentialsGrant(
	    await configure('test-app', 'test-secret')));
	is([r.code, r.status], ['unsupported_grant_type', 400],
	    'client_credentials not in oauth2.grantTypes: ' +
	    'unsupported_grant_type');
}

async function revokeMode() {
	const app = await configure('test-app', 'test-secret');
	const peer = await configure('peer-app', 'peer-secret');
	const scope = 'openid email offline_access';

	// A refresh token revokes its family, whichever token is shown.
	const t = await login(app, scope);
	const other = await login(app, scope);
	if (!ok(t !== null && other !== null, 'two logins of test-app'))
		return;
	await sleep(3200);	// past reuseInterval (2 s): a real rotation
	const r1 = await outcome(client.refreshTokenGrant(app,
	    t.refresh_token));
	if (!ok(r1.code === 'ok', 'refresh: rotated', why(r1)))
		return;
	const cur = r1.value.refresh_token;
	const rv = await outcome(client.tokenRevocation(app, t.refresh_token,
	    { token_type_hint: 'refresh_token' }));
	ok(rv.code === 'ok', 'openid-client: revoke the rotated-out token',
	    why(rv));
	const a1 = await outcome(client.refreshTokenGrant(app, cur));
	is(a1.code, 'invalid_grant', 'the current token of the family: ' +
	    'invalid_grant');
	const a2 = await outcome(client.refreshTokenGrant(app,
	    t.refresh_token));
	is(a2.code, 'invalid_grant', 'the revoked token: invalid_grant');
	const ix = await outcome(client.tokenIntrospection(app, cur));
	ok(ix.code === 'ok' && ix.value.active === false,
	    'introspection of the family\'s token: inactive', why(ix));
	const a3 = await outcome(client.refreshTokenGrant(app,
	    other.refresh_token));
	ok(a3.code === 'ok', 'another family of the same user lives on',
	    why(a3));
	const live = a3.code === 'ok' ? a3.value : other;

	// The hint is only a hint.
	const t2 = await login(app, scope);
	if (t2 !== null) {
		const h = await outcome(client.tokenRevocation(app,
		    t2.refresh_token, { token_type_hint: 'access_token' }));
		ok(h.code === 'ok', 'refresh token with the access_token ' +
		    'hint: 200', why(h));
		const h2 = await outcome(client.refreshTokenGrant(app,
		    t2.refresh_token));
		is(h2.code, 'invalid_grant', '... and revoked all the same');
	}

	// Another client's token: 200, and nothing happens.
	const p1 = await outcome(client.tokenRevocation(peer,
	    live.refresh_token));
	ok(p1.code === 'ok', 'peer-app revokes test-app\'s refresh token: ' +
	    '200', why(p1));
	const p2 = await outcome(client.refreshTokenGrant(app,
	    live.refresh_token));
	ok(p2.code === 'ok', '... which still works', why(p2));
	const at = p2.code === 'ok' ? p2.value.access_token :
	    live.access_token;
	const p3 = await outcome(client.tokenRevocation(peer, at,
	    { token_type_hint: 'access_token' }));
	ok(p3.code === 'ok', 'peer-app revokes test-app\'s access token: ' +
	    '200', why(p3));
	is((await userinfoStatus(at)).status, 200, '... which still works');

	// An access token: by its jti, until it expires.
	const u0 = await outcome(client.fetchUserInfo(app, at, ADMIN_SUB));
	ok(u0.code === 'ok', 'userinfo before revocation', why(u0));
	const i0 = await outcome(client.tokenIntrospection(app, at));
	ok(i0.code === 'ok' && i0.value.active === true,
	    'introspection before revocation: active', why(i0));
	const ra = await outcome(client.tokenRevocation(app, at,
	    { token_type_hint: 'access_token' }));
	ok(ra.code === 'ok', 'openid-client: revoke the access token',
	    why(ra));
	const us = await userinfoStatus(at);
	is(us.status, 401, 'userinfo with the revoked access token: 401');
	ok(us.www !== null && /invalid_token/.test(us.www),
	    '... WWW-Authenticate: Bearer error="invalid_token"', us.www);
	const u1 = await outcome(client.fetchUserInfo(app, at, ADMIN_SUB));
	ok(u1.code !== 'ok', 'openid-client: userinfo refused');
	const i1 = await outcome(client.tokenIntrospection(app, at));
	ok(i1.code === 'ok' && i1.value.active === false,
	    'introspection of the revoked access token: inactive', why(i1));
	const ra2 = await outcome(client.tokenRevocation(app, at));
	ok(ra2.code === 'ok', 'revoking it again: 200', why(ra2));
	const p4 = await outcome(client.refreshTokenGrant(app,
	    p2.code === 'ok' ? p2.value.refresh_token : live.refresh_token));
	ok(p4.code === 'ok', 'its refresh token is not revoked with it',
	    why(p4));

	// A client_credentials token revoked by its client.
	const cc = await configure('cc-app', 'cc-secret');
	const ct = await outcome(client.clientCredentialsGrant(cc));
	if (ct.code === 'ok') {
		const cr = await outcome(client.tokenRevocation(cc,
		    ct.value.access_token));
		ok(cr.code === 'ok', 'cc-app revokes its own access token',
		    why(cr));
		is((await userinfoStatus(ct.value.access_token)).status, 401,
		    '... userinfo: 401');
	} else
		ok(false, 'client_credentials token for revocation', why(ct));

	// Errors, by hand.
	const w = await outcome(client.tokenRevocation(
	    await configure('test-app', 'wrong'), 'whatever'));
	is([w.code, w.status], ['invalid_client', 401],
	    'wrong secret: 401 invalid_client');
	const n = await postForm(`${issuer}/token/revoke`, { token: 'x' });
	is([n.status, n.json && n.json.error], [401, 'invalid_client'],
	    'no client authentication: 401 invalid_client');
	const m = await postForm(`${issuer}/token/revoke`, {},
	    ['test-app', 'test-secret']);
	is([m.status, m.json && m.json.error], [400, 'invalid_request'],
	    'no token: 400 invalid_request');
	const dup = await fetch(`${issuer}/token/revoke`, {
		method: 'POST', body: 'token=a&token=b',
		headers: {
			'content-type': 'application/x-www-form-urlencoded',
			authorization: 'Basic ' + Buffer.from(
			    'test-app:test-secret').toString('base64'),
		},
	});
	is(dup.status, 400, 'a repeated parameter: 400');
	const g = await fetch(`${issuer}/token/revoke`);
	is(g.status, 405, 'GET: 405');
	const unk = await postForm(`${issuer}/token/revoke`,
	    { token: 'not-a-token-at-all', token_type_hint: 'bogus' },
	    ['test-app', 'test-secret']);
	is([unk.status, unk.text], [200, ''], 'an unknown token: 200, ' +
	    'no body');
	is(unk.headers.get('cache-control'), 'no-store', '... no-store');
	const unk2 = await postForm(`${issuer}/token/revoke`,
	    { token: 'A'.repeat(64) }, ['test-app', 'test-secret']);
	is(unk2.status, 200, 'an unknown refresh-token-shaped token: 200');
}

async function accessMode() {
	const app = await configure('test-app', 'test-secret');
	const t = await login(app, 'openid email');
	if (!ok(t !== null, 'a login for an access token'))
		return;
	writeFileSync(file, t.access_token);
	is((await userinfoStatus(t.access_token)).status, 200,
	    'userinfo with it: 200');
}

try {
	switch (mode) {
	case 'cc':
		await ccMode();
		break;
	case 'nocc':
		await noccMode();
		break;
	case 'revoke':
		await revokeMode();
		break;
	case 'access':
		await accessMode();
		break;
	default:
		diag(`unknown mode ${mode}`);
		ok(false, 'usage');
	}
} catch (e) {
	ok(false, `grants.mjs ${mode}: no exception`, e.stack);
}
finish();
