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

// Verify a JWT against a running oidcd the way a relying party does:
// fetch the JWKS from jwks_uri of the discovery document, then check
// the signature, issuer and audience with the npm package `jose'.
// Prints the payload on success; exits 1 with the reason otherwise.
//
// Usage: node verify-jwt.mjs ISSUER AUDIENCE TOKENFILE

import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [issuer, audience, file] = process.argv.slice(2);
const token = readFileSync(file, 'utf8').trim();
try {
	const disco = await (await fetch(
	    `${issuer}/.well-known/openid-configuration`)).json();
	if (disco.issuer !== issuer)
		throw new Error(`discovery issuer ${disco.issuer} != ${issuer}`);
	const jwks = createRemoteJWKSet(new URL(disco.jwks_uri));
	const { payload, protectedHeader } = await jwtVerify(token, jwks,
	    { issuer, audience });
	console.log(JSON.stringify({ header: protectedHeader, payload }));
} catch (e) {
	console.error(`verify-jwt: ${e.code ?? ''} ${e.message}`);
	process.exit(1);
}
