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

// Shared pieces of the OpenID Provider tests (flow.mjs, errors.mjs):
// TAP lines without numbers (the shell script that runs us numbers
// them), a plain HTTP client that never follows redirects and keeps
// cookies, an HTML form reader, and the browser half of the login
// (/auth -> password page -> approval -> redirect_uri) done by hand, so
// that every status code and Location on the way is checked.

import { createHash } from 'node:crypto';

export const ADMIN_SUB =
    'CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs';
export const REDIRECT = 'http://127.0.0.1:5555/callback';

let failures = 0;

export function ok(cond, desc, why) {
	if (cond) {
		console.log(`ok - ${desc}`);
	} else {
		failures++;
		console.log(`not ok - ${desc}`);
		if (why !== undefined)
			for (const l of String(why).split('\n').slice(0, 20))
				console.log(`# ${l}`);
	}
	return cond;
}

export function is(got, want, desc) {
	const g = JSON.stringify(got), w = JSON.stringify(want);
	return ok(g === w, desc, `got ${g}, want ${w}`);
}

export function diag(msg) {
	for (const l of String(msg).split('\n'))
		console.log(`# ${l}`);
}

// Exit status 1 when a check failed: the shell relays our lines and
// also counts a non-zero exit.
export function finish() {
	process.exitCode = failures === 0 ? 0 : 1;
}

export function sleep(ms) {
	return new Promise((r) => setTimeout(r, ms));
}

// base64url of the left half of SHA-256 (RS256/ES256): at_hash, c_hash.
export function halfHash(s) {
	const d = createHash('sha256').update(s, 'ascii').digest();
	return d.subarray(0, d.length / 2).toString('base64url');
}

export function jwtPayload(jwt) {
	return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url')
	    .toString());
}

export function jwtHeader(jwt) {
	return JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url')
	    .toString());
}

// A browser without a browser: manual redirects and a cookie jar.
export class Agent {
	constructor() {
		this.cookies = new Map();
	}

	async request(url, opts = {}) {
		const headers = { ...(opts.headers || {}) };
		if (this.cookies.size > 0)
			headers.cookie = [...this.cookies]
			    .map(([k, v]) => `${k}=${v}`).join('; ');
		let body = opts.body;
		if (opts.form !== undefined) {
			body = new URLSearchParams(opts.form).toString();
			headers['content-type'] =
			    'application/x-www-form-urlencoded';
		}
		const res = await fetch(url, {
			method: opts.method || (body ? 'POST' : 'GET'),
			headers, body, redirect: 'manual',
		});
		// getSetCookie() is Node 19.7 and later.
		const set = typeof res.headers.getSetCookie === 'function' ?
		    res.headers.getSetCookie() :
		    (res.headers.get('set-cookie') || '').split(/,(?=[^ ])/)
		    .filter((c) => c !== '');
		for (const c of set) {
			const [nv] = c.split(';');
			const i = nv.indexOf('=');
			if (i > 0)
				this.cookies.set(nv.slice(0, i).trim(),
				    nv.slice(i + 1).trim());
		}
		const text = await res.text();
		const loc = res.headers.get('location');
		return {
			status: res.status, headers: res.headers, text,
			url: String(url),
			location: loc === null ? null : new URL(loc, url),
		};
	}
}

// The attributes of every <input> and <button> of the first form, and
// its action and method.  Regular expressions are enough for the pages
// we serve; a page that defeats them fails the test, which is right.
export function readForm(html, base) {
	const m = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
	if (m === null)
		return null;
	const attr = (s, name) => {
		const r = new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)'|` +
		    '([^\\s>]+))', 'i').exec(s);
		return r === null ? null :
		    unescapeHtml(r[2] ?? r[3] ?? r[4]);
	};
	const fields = [];
	for (const f of m[2].matchAll(/<(input|button)\b([^>]*)>/gi))
		fields.push({
			tag: f[1].toLowerCase(),
			type: (attr(f[2], 'type') || '').toLowerCase(),
			name: attr(f[2], 'name'),
			value: attr(f[2], 'value'),
		});
	const action = attr(m[1], 'action');
	return {
		action: new URL(action === null || action === '' ? base :
		    action, base),
		method: (attr(m[1], 'method') || 'get').toLowerCase(),
		fields,
		hidden: Object.fromEntries(fields
		    .filter((f) => f.type === 'hidden' && f.name !== null)
		    .map((f) => [f.name, f.value || ''])),
	};
}

export function unescapeHtml(s) {
	return s.replace(/&quot;/g, '"').replace(/&#39;/g, '\'')
	    .replace(/&#34;/g, '"').replace(/&lt;/g, '<')
	    .replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

// The browser half of a login through the local connector, from the
// authorization URL to the redirect back to the client.  Checks each
// step; returns { location (URL or null), steps } where steps holds the
// responses by name for the caller's own checks.  opts: username,
// password, approve (true: approve, a string: send that value, false:
// stop at the approval page), noCsrf, badCsrf, redirect (the client's),
// agent (to keep its cookies).
export async function browserLogin(authUrl, opts = {}) {
	const agent = opts.agent || new Agent();
	const steps = {};
	let r = await agent.request(authUrl);
	steps.auth = r;
	// /auth with one connector: straight on to /auth/local (302).
	let hops = 0;
	while ((r.status === 302 || r.status === 303) && hops < 5 &&
	    !String(r.location).startsWith(opts.redirect || REDIRECT)) {
		if (/\/auth\/local\/login/.test(r.location.pathname))
			break;
		r = await agent.request(r.location);
		hops++;
	}
	steps.connector = r;
	if (r.status === 302 || r.status === 303) {
		if (String(r.location).startsWith(opts.redirect || REDIRECT))
			return { location: r.location, steps, agent };
		r = await agent.request(r.location);
	}
	steps.loginPage = r;
	if (r.status !== 200)
		return { location: null, steps, agent };
	const form = readForm(r.text, r.url);
	steps.loginForm = form;
	if (form === null)
		return { location: null, steps, agent };
	const post = { ...form.hidden };
	if (opts.noCsrf)
		for (const k of Object.keys(post))
			if (/csrf/i.test(k))
				delete post[k];
	if (opts.badCsrf)
		for (const k of Object.keys(post))
			if (/csrf/i.test(k))
				post[k] = 'x' + post[k].slice(1);
	post.login = opts.username ?? 'admin@example.com';
	post.password = opts.password ?? 'password';
	r = await agent.request(form.action, { form: post });
	steps.loginPost = r;
	if (r.status !== 303 && r.status !== 302)
		return { location: null, steps, agent };
	if (String(r.location).startsWith(opts.redirect || REDIRECT))
		return { location: r.location, steps, agent };
	// Approval.
	r = await agent.request(r.location);
	steps.approvalPage = r;
	if (r.status !== 200)
		return { location: null, steps, agent };
	const aform = readForm(r.text, r.url);
	steps.approvalForm = aform;
	if (aform === null)
		return { location: null, steps, agent };
	if (opts.approve === false)
		return { location: null, steps, agent };
	const apost = { ...aform.hidden };
	apost.approval = opts.approve === undefined || opts.approve === true ?
	    'approve' : opts.approve;
	r = await agent.request(aform.action, { form: apost });
	steps.approvalPost = r;
	if (r.status !== 303 && r.status !== 302)
		return { location: null, steps, agent };
	return { location: r.location, steps, agent };
}

// POST a form to the token endpoint (or any), client_secret_basic when
// auth is [id, secret]; returns { status, headers, json, text }.
export async function postForm(url, form, auth) {
	const headers = {
		'content-type': 'application/x-www-form-urlencoded',
	};
	if (auth)
		headers.authorization = 'Basic ' + Buffer.from(
		    `${encodeURIComponent(auth[0])}:` +
		    `${encodeURIComponent(auth[1])}`).toString('base64');
	const res = await fetch(url, {
		method: 'POST', headers, redirect: 'manual',
		body: new URLSearchParams(form).toString(),
	});
	const text = await res.text();
	let json = null;
	try {
		json = JSON.parse(text);
	} catch {
		json = null;
	}
	return { status: res.status, headers: res.headers, json, text };
}

export function pkcePair(verifier) {
	const v = verifier ||
	    'oidcd-test-verifier-0123456789-abcdefghijklmnopqrstuvwxyz';
	return {
		verifier: v,
		challenge: createHash('sha256').update(v).digest('base64url'),
	};
}
