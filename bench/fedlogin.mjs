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

// The federated login driver of bench/federation.sh: CONC workers, each
// doing whole logins one after the other for SECONDS (after WARMUP):
// oidcd's /auth, the upstream's login and consent pages, oidcd's
// /callback, the code at oidcd's /token.  Prints one line:
//   logins N seconds S rate R p50 MS p99 MS errors E

import { createHash, randomBytes } from 'node:crypto';
import { fedLogin, describe } from '../regress/node/fedlib.mjs';

const [issuer, upstream, clientId, secret, redirect, conn, conc, seconds,
    warmup] = process.argv.slice(2);
if (warmup === undefined) {
	console.error('usage: fedlogin.mjs ISSUER UPSTREAM CLIENT SECRET ' +
	    'REDIRECT CONNECTOR CONC SECONDS WARMUP');
	process.exit(2);
}
const basic = 'Basic ' + Buffer.from(`${clientId}:${secret}`)
    .toString('base64');

async function once() {
	const verifier = randomBytes(32).toString('base64url');
	const u = new URL(`${issuer}/auth`);
	u.search = new URLSearchParams({
		client_id: clientId, redirect_uri: redirect,
		response_type: 'code', connector_id: conn,
		scope: 'openid email profile', state: randomBytes(8)
		    .toString('hex'), nonce: randomBytes(8).toString('hex'),
		code_challenge: createHash('sha256').update(verifier)
		    .digest('base64url'), code_challenge_method: 'S256',
	}).toString();
	const r = await fedLogin(u, { redirectUri: redirect, upstream });
	if (r.code === null)
		throw new Error(describe(r));
	const res = await fetch(`${issuer}/token`, {
		method: 'POST',
		headers: { authorization: basic, 'content-type':
		    'application/x-www-form-urlencoded' },
		body: new URLSearchParams({ grant_type: 'authorization_code',
		    code: r.code, redirect_uri: redirect,
		    code_verifier: verifier }).toString(),
	});
	const j = await res.json();
	if (res.status !== 200 || typeof j.id_token !== 'string')
		throw new Error(`token: ${res.status} ${JSON.stringify(j)}`);
}

const lat = [];
let errors = 0, lastError = '', counting = false;
const t0 = Date.now();
const end = t0 + (Number(warmup) + Number(seconds)) * 1000;
setTimeout(() => { counting = true; }, Number(warmup) * 1000);
let start;
async function worker() {
	while (Date.now() < end) {
		const s = process.hrtime.bigint();
		try {
			await once();
			if (counting)
				lat.push(Number(process.hrtime.bigint() - s) / 1e6);
		} catch (e) {
			if (counting) {
				errors++;
				lastError = e.message;
			}
		}
	}
}
setTimeout(() => { start = Date.now(); }, Number(warmup) * 1000);
await Promise.all(Array.from({ length: Number(conc) }, worker));
const secs = (Date.now() - start) / 1000;
lat.sort((a, b) => a - b);
const pct = (p) => lat.length ? lat[Math.min(lat.length - 1,
    Math.floor(lat.length * p))].toFixed(1) : '?';
console.log(`logins ${lat.length} seconds ${secs.toFixed(1)} rate ` +
    `${(lat.length / secs).toFixed(1)} p50 ${pct(0.5)} p99 ${pct(0.99)} ` +
    `errors ${errors}`);
if (errors > 0)
	console.error(`last error: ${lastError}`);
