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

// Cross-check of oidcd's jose.c with an independent implementation, the
// npm package `jose': the tokens and the JWKS that regress/unit/t_jose
// wrote into DIR must verify, and tampered copies must not.
//
// The other way round, `sign' writes tokens signed by jose (RS256,
// PS256, ES256, ES384, EdDSA) and their JWKS into DIR, for t_jose to
// verify when JOSE_IN_DIR is set.
//
// Usage: node jose-verify.mjs DIR | node jose-verify.mjs sign DIR
// Prints TAP lines; jose-node.sh adds the plan.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
	SignJWT, createLocalJWKSet, decodeProtectedHeader, exportJWK,
	generateKeyPair, jwtVerify
} from 'jose';

if (process.argv[2] === 'sign' && process.argv[3]) {
	const dir = process.argv[3];
	const keys = [];
	for (const alg of ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']) {
		const { publicKey, privateKey } = await generateKeyPair(alg,
		    alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
		const jwk = await exportJWK(publicKey);
		jwk.kid = `node-${alg.toLowerCase()}`;
		jwk.alg = alg;
		jwk.use = 'sig';
		keys.push(jwk);
		const token = await new SignJWT({ sub: 'CgNmb28SA2Jhcg' })
		    .setProtectedHeader({ alg, kid: jwk.kid, typ: 'JWT' })
		    .setIssuer('https://node.example').setAudience('client')
		    .setIssuedAt().setExpirationTime('1h').sign(privateKey);
		writeFileSync(join(dir, `node-${alg.toLowerCase()}.jwt`),
		    token);
	}
	writeFileSync(join(dir, 'node-jwks.json'),
	    JSON.stringify({ keys }, null, 2));
	process.exit(0);
}

const dir = process.argv[2];
if (!dir) {
	console.error('usage: node jose-verify.mjs [sign] DIR');
	process.exit(2);
}

let n = 0;
let failed = 0;

function ok(cond, what, detail) {
	n++;
	console.log(`${cond ? '' : 'not '}ok ${n} - ${what}`);
	if (!cond) {
		failed++;
		if (detail)
			console.log(`# ${detail}`);
	}
}

const opts = { issuer: 'https://issuer.example', audience: 'client' };

async function verifies(token, jwks, options) {
	try {
		const r = await jwtVerify(token, jwks, options);
		return { ok: true, r };
	} catch (e) {
		return { ok: false, err: `${e.code ?? ''} ${e.message}` };
	}
}

// Flip one bit in the middle of the decoded part `idx' of a compact JWS.
function tamper(token, idx) {
	const parts = token.split('.');
	const b = Buffer.from(parts[idx], 'base64url');
	b[b.length >> 1] ^= 0x01;
	parts[idx] = b.toString('base64url');
	return parts.join('.');
}

const text = readFileSync(join(dir, 'jwks.json'), 'utf8');
const set = JSON.parse(text);
ok(Array.isArray(set.keys) && set.keys.length === 2, 'JWKS holds 2 keys');
const jwks = createLocalJWKSet(set);

for (const [alg, file] of [['RS256', 'token-rs256.jwt'],
    ['ES256', 'token-es256.jwt']]) {
	const token = readFileSync(join(dir, file), 'utf8').trim();
	const hdr = decodeProtectedHeader(token);
	const key = set.keys.find((k) => k.kid === hdr.kid);
	ok(hdr.alg === alg && hdr.typ === 'JWT' && key !== undefined,
	    `${alg} header names alg, typ and a kid of the JWKS`,
	    JSON.stringify(hdr));

	const v = await verifies(token, jwks, { ...opts, algorithms: [alg] });
	ok(v.ok, `${alg} token verifies with jose`, v.err);
	ok(v.ok && v.r.payload.sub === 'CgNmb28SA2Jhcg' &&
	    v.r.protectedHeader.kid === hdr.kid,
	    `${alg} payload and header read back`);

	for (const [idx, what] of [[0, 'header'], [1, 'payload'],
	    [2, 'signature']]) {
		const t = await verifies(tamper(token, idx), jwks, opts);
		ok(!t.ok, `${alg} token with tampered ${what} refused`);
	}

	// The right key, the wrong algorithm list: refused.
	const other = alg === 'RS256' ? 'ES256' : 'RS256';
	const w = await verifies(token, jwks, { ...opts,
	    algorithms: [other] });
	ok(!w.ok, `${alg} token refused when only ${other} is allowed`);
}

process.exitCode = failed ? 1 : 0;
console.log(`# ${n} checks, ${failed} failed`);
