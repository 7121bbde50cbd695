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

// A real upstream OpenID Provider for the integration tests: the npm
// package oidc-provider (certified), set up to look like Authentik to a
// broker: the issuer is a path with a trailing slash, logins and consent
// are plain HTML forms, refresh tokens come with offline_access and
// rotate.  Admin endpoints let a test revoke a user's grants, change a
// user's claims and count the token endpoint calls.
//
// Usage:
//	node upstream.mjs --port P [--host 127.0.0.1]
//	    [--path /application/o/dex/] [--tls-cert F --tls-key F]
//	    [--alg RS256|PS256|ES256|EdDSA]
//	    --client id:secret:redirect_uri[,redirect_uri...] (repeatable;
//	      an empty secret makes a public client; a confidential one may
//	      use client_secret_basic or client_secret_post, as in Authentik)
//	    [--no-rotate] [--users FILE.json] [--ready-file F] [--verbose]
//
// --port 0 takes a free port; the issuer then names the one taken.  On
// ready, the issuer goes to --ready-file (written whole, by rename) and
// "READY <issuer>" to stdout.  SIGTERM and SIGINT close the server and
// exit 0.
//
// Users: alice, bob and carol unless --users names a JSON file holding
// [{ "login": "x", "password": "optional, default pw-x",
//    "claims": { "sub": "...", ... } }, ...].
// Pages (outside the issuer path, as Authentik's flows are):
//	GET  /interaction/UID		login or consent form
//	POST /interaction/UID/login	login, password
//	POST /interaction/UID/confirm	decision=approve|deny
// Admin (loopback peers only):
//	POST /admin/revoke?sub=S	drop every grant and token of S
//	POST /admin/claims?sub=S	merge the JSON body into S's claims
//					(a null value deletes the claim)
//	GET  /admin/stats		{ token: { GRANT_TYPE: n }, ... }

import { randomBytes, generateKeyPairSync, timingSafeEqual, createHash }
    from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync }
    from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { parseArgs } from 'node:util';

// Limits on what comes from outside (command line, users file, requests).
const MAX_BODY = 64 * 1024;		// form or JSON body of a request
const MAX_USERS = 1000;			// entries of --users
const MAX_CLIENTS = 64;			// --client options
const MAX_STORED = 100000;		// records in the in-memory adapter
const MAX_USERS_FILE = 1024 * 1024;	// bytes of --users

const ALGS = {
	RS256: { type: 'rsa', opts: { modulusLength: 2048 } },
	PS256: { type: 'rsa', opts: { modulusLength: 2048 } },
	ES256: { type: 'ec', opts: { namedCurve: 'P-256' } },
	EdDSA: { type: 'ed25519', opts: {} },
};

function usage(msg) {
	process.stderr.write(`upstream.mjs: ${msg}\n`);
	process.exit(2);
}

const { values: opt } = (() => {
	try {
		return parseArgs({
			options: {
				port: { type: 'string' },
				host: { type: 'string', default: '127.0.0.1' },
				path: { type: 'string',
				    default: '/application/o/dex/' },
				'tls-cert': { type: 'string' },
				'tls-key': { type: 'string' },
				alg: { type: 'string', default: 'RS256' },
				client: { type: 'string', multiple: true },
				'no-rotate': { type: 'boolean',
				    default: false },
				users: { type: 'string' },
				'ready-file': { type: 'string' },
				verbose: { type: 'boolean', default: false },
			},
			strict: true,
		});
	} catch (e) {
		usage(e.message);
	}
})();

if (opt.port === undefined || !/^\d{1,5}$/.test(opt.port) ||
    Number(opt.port) > 65535)
	usage('--port 0..65535 is required');
if (!/^\/([A-Za-z0-9._~-]+\/)*$/.test(opt.path))
	usage('--path must start and end with "/"');
if (!(opt.alg in ALGS))
	usage(`--alg: one of ${Object.keys(ALGS).join(', ')}`);
if ((opt['tls-cert'] === undefined) !== (opt['tls-key'] === undefined))
	usage('--tls-cert and --tls-key go together');
if (opt.client === undefined || opt.client.length === 0)
	usage('at least one --client id:secret:redirect_uri');
if (opt.client.length > MAX_CLIENTS)
	usage(`at most ${MAX_CLIENTS} clients`);

// oidc-provider speaks its mind on the console (an unsupported runtime,
// development defaults); a test harness stays quiet unless asked.
if (!opt.verbose) {
	const quiet = (orig) => (...a) => {
		if (typeof a[0] === 'string' &&
		    a[0].startsWith('oidc-provider '))
			return;
		orig(...a);
	};
	console.info = quiet(console.info);
	console.warn = quiet(console.warn);
}
const { default: Provider } = await import('oidc-provider');

function verbose(msg) {
	if (opt.verbose)
		process.stderr.write(`upstream: ${msg}\n`);
}

// id:secret:uri[,uri...]; the URIs hold colons, the id and secret not.
function parseClient(spec) {
	const i = spec.indexOf(':');
	const j = i < 0 ? -1 : spec.indexOf(':', i + 1);
	// Not the whole spec in the message: it holds the secret.
	if (i <= 0 || j < 0)
		usage('--client: want id:secret:redirect_uri');
	const id = spec.slice(0, i), secret = spec.slice(i + 1, j);
	const uris = spec.slice(j + 1).split(',').filter((u) => u !== '');
	if (uris.length === 0)
		usage(`--client ${id}: no redirect_uri`);
	const c = {
		client_id: id,
		redirect_uris: uris,
		grant_types: ['authorization_code', 'refresh_token'],
		response_types: ['code'],
		id_token_signed_response_alg: opt.alg,
	};
	if (secret === '') {
		c.token_endpoint_auth_method = 'none';
	} else {
		c.client_secret = secret;
		// oidc-provider takes client_secret_post too.
		c.token_endpoint_auth_method = 'client_secret_basic';
	}
	return c;
}
const clients = opt.client.map(parseClient);

function defaultUsers() {
	return [{
		login: 'alice',
		claims: {
			sub: 'alice-sub', email: 'alice@example.com',
			email_verified: true, name: 'Alice Liddell',
			preferred_username: 'alice',
			groups: ['admins', 'devs'],
		},
	}, {
		// email not verified, groups as a plain string
		login: 'bob',
		claims: {
			sub: 'bob-sub', email: 'bob@example.com',
			email_verified: false, name: 'Bob Builder',
			preferred_username: 'bob', groups: 'devs',
		},
	}, {
		// no name claim (Dex's connector fails such a login), no
		// groups
		login: 'carol',
		claims: {
			sub: 'carol-sub', email: 'carol@example.com',
			email_verified: true, preferred_username: 'carol',
		},
	}];
}

function loadUsers(file) {
	let list;
	try {
		if (statSync(file).size > MAX_USERS_FILE)
			usage(`--users ${file}: larger than ${MAX_USERS_FILE}`);
		list = JSON.parse(readFileSync(file, 'utf8'));
	} catch (e) {
		usage(`--users ${file}: ${e.message}`);
	}
	if (!Array.isArray(list) || list.length > MAX_USERS)
		usage(`--users ${file}: want an array of at most ` +
		    `${MAX_USERS} users`);
	for (const u of list)
		if (u === null || typeof u.login !== 'string' ||
		    u.claims === null || typeof u.claims !== 'object' ||
		    typeof u.claims.sub !== 'string' ||
		    (u.password !== undefined &&
		    typeof u.password !== 'string'))
			usage(`--users ${file}: each user wants a login and ` +
			    'claims with a string sub');
	return list;
}

const users = new Map();	// sub -> { login, password, claims }
for (const u of opt.users === undefined ? defaultUsers() :
    loadUsers(opt.users)) {
	if (users.has(u.claims.sub))
		usage(`two users with sub ${u.claims.sub}`);
	users.set(u.claims.sub, {
		login: u.login, password: u.password ?? `pw-${u.login}`,
		claims: { ...u.claims },
	});
}

function userByLogin(login) {
	for (const u of users.values())
		if (u.login === login || u.claims.email === login)
			return u;
	return null;
}

// Compare hashes, so that the time taken says nothing of the password.
function samePassword(a, b) {
	const h = (s) => createHash('sha256').update(String(s)).digest();
	return timingSafeEqual(h(a), h(b));
}

function signingKey(alg) {
	const { privateKey } = generateKeyPairSync(ALGS[alg].type,
	    ALGS[alg].opts);
	const jwk = privateKey.export({ format: 'jwk' });
	return { ...jwk, alg, use: 'sig',
	    kid: randomBytes(8).toString('hex') };
}

// The store of oidc-provider's models.  Its own memory adapter cannot
// find a user's grants, which /admin/revoke needs.  Expired records are
// swept when the store is full.
const store = new Map();	// "Model:id" -> { payload, exp }

function sweep() {
	const now = Date.now();
	for (const [k, v] of store)
		if (v.exp !== null && v.exp <= now)
			store.delete(k);
}

class Adapter {
	constructor(name) {
		this.name = name;
	}

	key(id) {
		return `${this.name}:${id}`;
	}

	async upsert(id, payload, expiresIn) {
		if (store.size >= MAX_STORED)
			sweep();
		if (store.size >= MAX_STORED)
			throw new Error('adapter store full');
		store.set(this.key(id), {
			payload: structuredClone(payload),
			exp: expiresIn ? Date.now() + expiresIn * 1000 : null,
		});
	}

	get(key) {
		const v = store.get(key);
		if (v === undefined)
			return undefined;
		if (v.exp !== null && v.exp <= Date.now()) {
			store.delete(key);
			return undefined;
		}
		return structuredClone(v.payload);
	}

	async find(id) {
		return this.get(this.key(id));
	}

	async findByUid(uid) {
		for (const [k, v] of store)
			if (k.startsWith(`${this.name}:`) &&
			    v.payload.uid === uid)
				return this.get(k);
		return undefined;
	}

	async findByUserCode(code) {
		for (const [k, v] of store)
			if (k.startsWith(`${this.name}:`) &&
			    v.payload.userCode === code)
				return this.get(k);
		return undefined;
	}

	async consume(id) {
		const v = store.get(this.key(id));
		if (v !== undefined)
			v.payload.consumed = Math.floor(Date.now() / 1000);
	}

	async destroy(id) {
		store.delete(this.key(id));
	}

	async revokeByGrantId(grantId) {
		revokeGrant(grantId);
	}
}

function revokeGrant(grantId) {
	let n = 0;
	for (const [k, v] of store)
		if (v.payload.grantId === grantId ||
		    k === `Grant:${grantId}`) {
			store.delete(k);
			n++;
		}
	return n;
}

// Every grant of the user and all that hangs on one: codes, access and
// refresh tokens.  Sessions stay, as when an admin revokes the consents
// of a user in Authentik; the next login then asks for consent again.
function revokeAccount(sub) {
	const grants = new Set();
	for (const [k, v] of store)
		if ((k.startsWith('Grant:') || v.payload.grantId) &&
		    v.payload.accountId === sub)
			grants.add(k.startsWith('Grant:') ?
			    k.slice('Grant:'.length) : v.payload.grantId);
	let n = 0;
	for (const g of grants)
		n += revokeGrant(g);
	return { grants: grants.size, records: n };
}

const stats = {
	token: {}, tokenError: {}, authorization: 0, userinfo: 0,
	logins: 0, loginFailures: 0, consents: 0, denials: 0,
};

const GRANT_TYPES = new Set(['authorization_code', 'refresh_token',
    'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code']);

function bump(o, k) {
	o[k] = (o[k] ?? 0) + 1;
}

function html(s) {
	return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;')
	    .replace(/>/g, '&gt;').replace(/"/g, '&quot;')
	    .replace(/'/g, '&#39;');
}

function page(res, status, title, body) {
	const text = '<!DOCTYPE html>\n<html><head><meta charset="utf-8">' +
	    `<title>${html(title)}</title></head>\n<body>\n` +
	    `<h1>${html(title)}</h1>\n${body}\n</body></html>\n`;
	res.writeHead(status, {
		'content-type': 'text/html; charset=utf-8',
		'cache-control': 'no-store',
		'content-length': Buffer.byteLength(text),
	});
	res.end(text);
}

function json(res, status, obj) {
	const text = JSON.stringify(obj) + '\n';
	res.writeHead(status, {
		'content-type': 'application/json',
		'cache-control': 'no-store',
		'content-length': Buffer.byteLength(text),
	});
	res.end(text);
}

class HttpError extends Error {
	constructor(status, msg) {
		super(msg);
		this.status = status;
	}
}

function readBody(req) {
	return new Promise((resolve, reject) => {
		const parts = [];
		let len = 0;
		req.on('data', (d) => {
			len += d.length;
			if (len > MAX_BODY) {
				reject(new HttpError(413, 'body too large'));
				req.destroy();
				return;
			}
			parts.push(d);
		});
		req.on('end', () => resolve(Buffer.concat(parts).toString()));
		req.on('error', reject);
	});
}

function loginPage(res, uid, client, error, login) {
	page(res, 200, 'Sign in', `<p>to continue to ${html(client)}</p>\n` +
	    (error ? `<p class="error" role="alert">${html(error)}</p>\n` :
	    '') +
	    `<form method="post" action="/interaction/${html(uid)}/login">\n` +
	    '<input type="text" name="login" autocomplete="username" ' +
	    `value="${html(login ?? '')}">\n` +
	    '<input type="password" name="password" ' +
	    'autocomplete="current-password">\n' +
	    '<button type="submit">Sign in</button>\n</form>');
}

function consentPage(res, uid, client, account, scopes) {
	page(res, 200, 'Authorize', `<p>${html(client)} asks for access to ` +
	    `the account ${html(account)}:</p>\n<ul>\n` +
	    scopes.map((s) => `<li>${html(s)}</li>`).join('\n') + '\n</ul>\n' +
	    '<form method="post" ' +
	    `action="/interaction/${html(uid)}/confirm">\n` +
	    '<button type="submit" name="decision" value="approve">' +
	    'Approve</button>\n' +
	    '<button type="submit" name="decision" value="deny">' +
	    'Deny</button>\n</form>');
}

// The login and consent pages: the interaction is bound to the cookie
// oidc-provider set on the way here, so these forms need no token of
// their own.
async function interaction(provider, req, res, uid, action) {
	const d = await provider.interactionDetails(req, res);
	if (d.uid !== uid)
		throw new HttpError(400, 'interaction mismatch');
	const client = d.params.client_id;
	if (action === undefined && req.method === 'GET') {
		if (d.prompt.name === 'login')
			return loginPage(res, uid, client, null);
		if (d.prompt.name === 'consent')
			return consentPage(res, uid, client,
			    users.get(d.session.accountId)?.login ?? '?',
			    String(d.params.scope ?? '').split(' '));
		throw new HttpError(501, `prompt ${d.prompt.name}`);
	}
	if (req.method !== 'POST')
		throw new HttpError(405, 'method not allowed');
	const form = new URLSearchParams(await readBody(req));
	if (action === 'login') {
		if (d.prompt.name !== 'login')
			throw new HttpError(400, 'not at the login prompt');
		const login = form.get('login') ?? '';
		const u = userByLogin(login);
		if (u === null || !samePassword(form.get('password') ?? '',
		    u.password)) {
			stats.loginFailures++;
			return loginPage(res, uid, client,
			    'Invalid username or password.', login);
		}
		stats.logins++;
		return provider.interactionFinished(req, res,
		    { login: { accountId: u.claims.sub } },
		    { mergeWithLastSubmission: false });
	}
	if (action === 'confirm') {
		if (d.prompt.name !== 'consent')
			throw new HttpError(400, 'not at the consent prompt');
		const decision = form.get('decision');
		if (decision === 'deny') {
			stats.denials++;
			return provider.interactionFinished(req, res, {
				error: 'access_denied',
				error_description:
				    'the user denied the request',
			}, { mergeWithLastSubmission: false });
		}
		if (decision !== 'approve')
			throw new HttpError(400, 'decision: approve or deny');
		const det = d.prompt.details;
		const grant = d.grantId ?
		    await provider.Grant.find(d.grantId) :
		    new provider.Grant({ accountId: d.session.accountId,
		    clientId: client });
		if (det.missingOIDCScope)
			grant.addOIDCScope(det.missingOIDCScope.join(' '));
		if (det.missingOIDCClaims)
			grant.addOIDCClaims(det.missingOIDCClaims);
		if (det.missingResourceScopes)
			for (const [r, s] of
			    Object.entries(det.missingResourceScopes))
				grant.addResourceScope(r, s.join(' '));
		stats.consents++;
		return provider.interactionFinished(req, res,
		    { consent: { grantId: await grant.save() } },
		    { mergeWithLastSubmission: true });
	}
	throw new HttpError(404, 'not found');
}

function loopback(req) {
	const a = req.socket.remoteAddress ?? '';
	return a === '::1' || a.startsWith('127.') ||
	    a.startsWith('::ffff:127.');
}

async function admin(req, res, url) {
	if (!loopback(req))
		throw new HttpError(403, 'loopback only');
	const what = url.pathname.slice('/admin/'.length);
	if (what === 'stats') {
		if (req.method !== 'GET')
			throw new HttpError(405, 'GET');
		return json(res, 200, stats);
	}
	if (req.method !== 'POST')
		throw new HttpError(405, 'POST');
	const sub = url.searchParams.get('sub');
	const u = sub === null ? undefined : users.get(sub);
	if (what === 'revoke') {
		if (sub === null)
			throw new HttpError(400, 'sub= missing');
		const r = revokeAccount(sub);
		verbose(`revoked ${r.grants} grants of ${sub}`);
		return json(res, 200, { sub, ...r });
	}
	if (what === 'claims') {
		if (u === undefined)
			throw new HttpError(404, 'no such user');
		let body;
		try {
			body = JSON.parse(await readBody(req));
		} catch (e) {
			if (e instanceof HttpError)
				throw e;
			throw new HttpError(400, 'body: JSON object');
		}
		if (body === null || typeof body !== 'object' ||
		    Array.isArray(body))
			throw new HttpError(400, 'body: JSON object');
		if ('sub' in body)
			throw new HttpError(400, 'sub cannot change');
		for (const [k, v] of Object.entries(body))
			if (v === null)
				delete u.claims[k];
			else
				u.claims[k] = v;
		return json(res, 200, u.claims);
	}
	throw new HttpError(404, 'not found');
}

const tls = opt['tls-cert'] !== undefined;
const scheme = tls ? 'https' : 'http';
let provider = null;
let handle = null;

async function route(req, res) {
	// Not the Host header as base: only the path matters here.
	const url = new URL(req.url, 'http://upstream.invalid');
	const ia = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm))?$/
	    .exec(url.pathname);
	// Ours first: with --path / the provider would have them all.
	if (ia !== null)
		return interaction(provider, req, res, ia[1], ia[2]);
	if (url.pathname.startsWith('/admin/'))
		return admin(req, res, url);
	if (req.url.startsWith(opt.path)) {
		// Mounted under the issuer path the way oidc-provider
		// documents for a prefix (Express's app.use(prefix)): it
		// sees the rest of the path, and finds the prefix again in
		// originalUrl when it builds its own URLs.
		req.originalUrl = req.url;
		req.url = req.url.slice(opt.path.length - 1);
		return handle(req, res);
	}
	throw new HttpError(404, 'not found');
}

function onRequest(req, res) {
	if (provider === null) {
		page(res, 503, 'Starting', '');
		return;
	}
	if (opt.verbose)
		res.on('finish', () => verbose(`${req.method} ` +
		    `${req.originalUrl ?? req.url} ${res.statusCode}`));
	route(req, res).catch((e) => {
		const status = e instanceof HttpError ? e.status :
		    e.statusCode ?? 500;
		if (!(e instanceof HttpError))
			verbose(`error: ${e.stack ?? e}`);
		if (res.headersSent) {
			res.destroy();
			return;
		}
		page(res, status, status === 500 ? 'Error' :
		    http.STATUS_CODES[status] ?? 'Error',
		    `<p class="error">${html(e.error_description ??
		    e.message)}</p>`);
	});
}

const server = tls ? https.createServer({
	cert: readFileSync(opt['tls-cert']),
	key: readFileSync(opt['tls-key']),
}, onRequest) : http.createServer(onRequest);

await new Promise((resolve, reject) => {
	server.once('error', reject);
	server.listen(Number(opt.port), opt.host, resolve);
}).catch((e) => usage(`listen ${opt.host}:${opt.port}: ${e.message}`));

const host = opt.host.includes(':') ? `[${opt.host}]` : opt.host;
const issuer = `${scheme}://${host}:${server.address().port}${opt.path}`;

let p;
try {
	p = providerOf(issuer);
} catch (e) {
	usage(`oidc-provider: ${e.message}`);
}

function providerOf(issuer) {
	return new Provider(issuer, {
		adapter: Adapter,
		clients,
		jwks: { keys: [signingKey(opt.alg)] },
		cookies: { keys: [randomBytes(32).toString('base64url')] },
		findAccount: async (ctx, sub) => {
			const u = users.get(sub);
			if (u === undefined)
				return undefined;
			return {
				accountId: sub,
				// Read on every call, so that /admin/claims
				// shows in the next token (refresh too).
				claims: async () => ({ ...u.claims, sub }),
			};
		},
		claims: {
			openid: ['sub'],
			email: ['email', 'email_verified'],
			profile: ['name', 'preferred_username', 'given_name',
			    'family_name', 'nickname', 'groups'],
			groups: ['groups'],
		},
		scopes: ['openid', 'offline_access', 'profile', 'email',
		    'groups'],
		// All the claims of the granted scopes in the ID token, as
		// Authentik does, so that a broker needs no userinfo call.
		conformIdTokenClaims: false,
		responseTypes: ['code'],
		enabledJWA: { idTokenSigningAlgValues: [opt.alg] },
		features: {
			devInteractions: { enabled: false },
			// Authentik serves revocation; oidc-provider does
			// not unless asked.
			revocation: { enabled: true },
			userinfo: { enabled: true },
		},
		interactions: {
			url: (ctx, i) => `/interaction/${i.uid}`,
		},
		// Authentik's default lifetimes (code 1 min, access 5 min,
		// refresh 30 days); unset, oidc-provider would remind us of
		// each on every start.
		ttl: {
			AuthorizationCode: 60,
			AccessToken: 300,
			IdToken: 300,
			RefreshToken: 30 * 86400,
			Interaction: 3600,
			Session: 14 * 86400,
			Grant: 30 * 86400,
		},
		// Authentik hands out a new refresh token on every refresh;
		// the old one is spent (and reusing it revokes the grant).
		rotateRefreshToken: () => !opt['no-rotate'],
		renderError: async (ctx, out) => {
			ctx.type = 'html';
			ctx.body = '<!DOCTYPE html>\n<html><body>' +
			    '<h1>Error</h1>\n' + Object.entries(out)
			    .map(([k, v]) => `<p class="${html(k)}">` +
			    `${html(v)}</p>`).join('\n') + '\n</body></html>\n';
		},
	});
}

p.use(async (ctx, next) => {
	await next();
	const r = ctx.oidc?.route;
	if (r === 'token') {
		// Only the grant types we know: the counters are keyed by
		// what a client sent.
		const x = ctx.oidc.params?.grant_type;
		const g = GRANT_TYPES.has(x) ? x : 'other';
		bump(stats.token, g);
		if (ctx.status >= 400)
			bump(stats.tokenError, g);
	} else if (r === 'authorization') {
		stats.authorization++;
	} else if (r === 'userinfo') {
		stats.userinfo++;
	}
});
if (opt.verbose)
	for (const ev of ['server_error', 'grant.error',
	    'authorization.error'])
		p.on(ev, (ctx, e) => verbose(`${ev}: ${e.message}: ` +
		    `${e.error_detail ?? e.error_description ?? ''}`));

handle = p.callback();
provider = p;

function shutdown() {
	server.close(() => process.exit(0));
	server.closeAllConnections();
	// An open TLS handshake must not keep us alive.
	setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

if (opt['ready-file'] !== undefined) {
	const tmp = `${opt['ready-file']}.tmp`;
	writeFileSync(tmp, `${issuer}\n`);
	renameSync(tmp, opt['ready-file']);
}
process.stdout.write(`READY ${issuer}\n`);
