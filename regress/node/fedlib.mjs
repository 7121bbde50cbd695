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

// The browser half of a federated login, by hand with oplib's Agent:
// from a start URL (the broker's /auth?..., or the upstream's own
// authorization URL) through the broker's connector chooser, the
// upstream's login and consent pages (upstream.mjs) and the broker's
// /callback, up to the client's redirect_uri, which is never fetched.
// Every response is checked: a redirect must carry a Location, a page
// must be one we know how to get past, anything else ends the walk with
// a failure that names the step.
//
//	const r = await fedLogin(url, { redirectUri, upstream, user: 'bob' });
//	ok(r.failure === null && r.code !== null, 'login', describe(r));
//
// Options:
//	redirectUri	the client's redirect_uri (required): the walk
//			stops at the first URL on its origin
//	upstream	the upstream issuer or origin; pages there are the
//			login and consent forms.  Without it, a page with a
//			password field or an approve/deny pair is taken
//			for the upstream's.
//	user		login name, default "alice"
//	password	default "pw-<user>"
//	deny		press "deny" on the upstream consent page
//	chooseConnector	the name or id of the connector to pick on a
//			chooser page (a page of links); without it a
//			chooser page is a failure
//	brokerApproval	"approve" (default) or "deny" on the broker's
//			own approval page: the form whose "approval"
//			field (hidden or a button) says "approve", or the
//			one that says anything else ("rejected" in Dex's)
//	maxSteps	requests at most, default 20
//	agent		an oplib Agent, to keep cookies across logins
//
// Returns { code, state, iss, error, error_description, location,
// loginRejected, failure, steps, agent }: the query of the redirect to
// the client (location, a URL, null when the walk did not get there);
// loginRejected is the message of a login form shown again after the
// password was sent (the walk stops there); failure is null or what went
// wrong (the broker's own password page is a failure too: fedlib does
// federated logins); steps[] is { method, url, status, location, kind,
// text } for each request, kind one of get, redirect, chooser,
// login-page, login-post, login-rejected, consent-page, consent-post,
// approval-page, approval-post.
//
// oplib's Agent keeps one cookie jar for every host and port, as a
// browser does for ports: the broker and the upstream on 127.0.0.1 see
// each other's cookies, which is also what a real browser would do.

import { Agent, readForm, unescapeHtml } from './oplib.mjs';

const DEFAULT_MAX_STEPS = 20;
const MAX_STEPS = 100;		// a caller's maxSteps is capped here
const MAX_LINKS = 200;		// links read from a chooser page
const MAX_FORMS = 20;		// forms read from a page

// Plain text of an HTML fragment, for link names and error messages.
function textOf(s) {
	return unescapeHtml(s.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ')
	    .trim();
}

function links(html, base) {
	const out = [];
	const re = new RegExp(/<a\b[^>]*\bhref\s*=\s*("([^"]*)"|'([^']*)')/
	    .source + /[^>]*>([\s\S]*?)<\/a>/.source, 'gi');
	for (const m of html.matchAll(re)) {
		if (out.length >= MAX_LINKS)
			break;
		let url;
		try {
			url = new URL(unescapeHtml(m[2] ?? m[3]), base);
		} catch {
			continue;
		}
		out.push({ url, text: textOf(m[4]) });
	}
	return out;
}

// The chooser link of a connector, by its shown name (with or without
// Dex's "Log in with ") or its id (the last path segment, as in Dex's
// /auth/<id>, or a connector_id= query).
function pickLink(list, want) {
	const w = String(want).toLowerCase();
	return list.find((l) => l.text.toLowerCase() === w) ??
	    list.find((l) => l.text.toLowerCase() === `log in with ${w}`) ??
	    list.find((l) => l.url.pathname.split('/').pop() === want ||
	    l.url.searchParams.get('connector_id') === want) ?? null;
}

function hasField(form, name, type) {
	return form !== null && form.fields.some((f) => f.name === name &&
	    (type === undefined || f.type === type));
}

function button(form, name, value) {
	return form !== null && form.fields.some((f) => f.name === name &&
	    f.value === value && (f.tag === 'button' || f.type === 'submit'));
}

// Every form of a page (oplib's readForm reads the first one only; Dex's
// approval page has one form to approve and another to reject).
function forms(html, base) {
	const out = [];
	for (const m of html.matchAll(/<form\b[\s\S]*?<\/form>/gi)) {
		if (out.length >= MAX_FORMS)
			break;
		out.push(readForm(m[0], base));
	}
	return out;
}

// What a page is, and the form to send with the fields to add: its
// forms decide.  want: { user, password, deny, brokerApproval }.
function classify(list, want) {
	const login = list.find((f) => hasField(f, 'password', 'password') &&
	    hasField(f, 'login'));
	if (login !== undefined)
		return { kind: 'login', form: login,
		    add: { login: want.user, password: want.password } };
	const consent = list.find((f) => button(f, 'decision', 'approve') &&
	    button(f, 'decision', 'deny'));
	if (consent !== undefined)
		return { kind: 'consent', form: consent,
		    add: { decision: want.deny ? 'deny' : 'approve' } };
	// The broker's approval: a form whose "approval" field (hidden, or
	// the button pressed) says approve, and one that says otherwise.
	const approve = want.brokerApproval === 'approve';
	for (const f of list) {
		const a = f.fields.find((x) => x.name === 'approval' &&
		    (x.value === 'approve') === approve);
		if (a !== undefined)
			return { kind: 'approval', form: f,
			    add: { approval: a.value } };
	}
	if (list.some((f) => hasField(f, 'approval')))
		return { kind: 'approval', form: null };
	return { kind: null, form: null };
}

// The message of a re-shown form: the element marked as an alert.
function alertText(html) {
	const m = new RegExp(/<(\w+)\b[^>]*\b/.source +
	    /(?:role="alert"|class="[^"]*\berror\b[^"]*")/.source +
	    /[^>]*>([\s\S]*?)<\/\1>/.source, 'i').exec(html);
	return m === null ? '' : textOf(m[2]);
}

export function describe(r) {
	const lines = r.steps.map((s, i) => `${i + 1}. ${s.method} ${s.url} ` +
	    `-> ${s.status}${s.location ? ` ${s.location}` : ''} (${s.kind})`);
	if (r.failure !== null)
		lines.push(`failure: ${r.failure}`);
	return lines.join('\n');
}

export async function fedLogin(start, opts = {}) {
	if (opts.redirectUri === undefined)
		throw new TypeError('fedLogin: redirectUri is required');
	const agent = opts.agent ?? new Agent();
	const redirect = new URL(opts.redirectUri);
	const upOrigin = opts.upstream === undefined ? null :
	    new URL(opts.upstream).origin;
	const user = opts.user ?? 'alice';
	const password = opts.password ?? `pw-${user}`;
	const maxSteps = Math.min(opts.maxSteps ?? DEFAULT_MAX_STEPS,
	    MAX_STEPS);
	const steps = [];
	const res = {
		code: null, state: null, iss: null, error: null,
		error_description: null, location: null,
		loginRejected: null, failure: null, steps, agent,
	};
	const fail = (msg) => {
		res.failure = msg;
		return res;
	};

	let url = new URL(start);
	let form;		// the body of the next request, or undefined
	let posted = null;	// the kind of form the last request sent
	while (url.origin !== redirect.origin) {
		if (steps.length >= maxSteps)
			return fail(`more than ${maxSteps} requests`);
		const method = form === undefined ? 'GET' : 'POST';
		const r = await agent.request(url, { form });
		const step = {
			method, url: String(url), status: r.status,
			location: r.location === null ? null :
			    String(r.location),
			kind: posted === null ? 'get' : `${posted}-post`,
			text: r.text,
		};
		steps.push(step);
		form = undefined;
		const wasPost = posted;
		posted = null;

		if ([301, 302, 303, 307, 308].includes(r.status)) {
			if (r.location === null)
				return fail(`${method} ${url}: ${r.status} ` +
				    'without Location');
			if (method === 'POST' && r.status !== 303 &&
			    r.status !== 302)
				return fail(`${method} ${url}: ${r.status} ` +
				    'would post again');
			step.kind = wasPost === null ? 'redirect' :
			    step.kind;
			url = r.location;
			continue;
		}
		if (r.status !== 200)
			return fail(`${method} ${url}: status ${r.status}: ` +
			    textOf(r.text).slice(0, 200));

		const c = classify(forms(r.text, r.url), {
			user, password, deny: opts.deny,
			brokerApproval: opts.brokerApproval ?? 'approve',
		});
		const kind = c.kind;
		const onUpstream = upOrigin === null ?
		    kind === 'login' || kind === 'consent' :
		    url.origin === upOrigin;
		if (!onUpstream && kind === 'login')
			return fail(`${url}: the broker's own password page; ` +
			    'fedlib does federated logins');
		if (!onUpstream && kind !== 'approval') {
			const list = links(r.text, r.url);
			if (list.length === 0)
				return fail(`${url}: a page neither ` +
				    'chooser nor form: ' +
				    textOf(r.text).slice(0, 200));
			step.kind = 'chooser';
			if (opts.chooseConnector === undefined)
				return fail(`${url}: a chooser page (` +
				    list.map((l) => l.text).join(', ') +
				    ') and no chooseConnector');
			const l = pickLink(list, opts.chooseConnector);
			if (l === null)
				return fail(`${url}: no connector ` +
				    `"${opts.chooseConnector}" among ` +
				    list.map((x) => x.text).join(', '));
			url = l.url;
			continue;
		}
		if (kind === 'login' && wasPost === 'login') {
			// The password was refused: the upstream shows its
			// form again, with why.
			step.kind = 'login-rejected';
			res.loginRejected = alertText(r.text) ||
			    '(no message)';
			return res;
		}
		if (onUpstream && kind !== 'login' && kind !== 'consent')
			return fail(`${url}: an upstream page without a ` +
			    'login or consent form: ' +
			    textOf(r.text).slice(0, 200));
		if (c.form === null)
			return fail(`${url}: an approval page without a ` +
			    `form to ${opts.brokerApproval ?? 'approve'}`);
		if (c.form.method !== 'post')
			return fail(`${url}: the ${kind} form does not post`);
		step.kind = `${kind}-page`;
		form = { ...c.form.hidden, ...c.add };
		url = c.form.action;
		posted = kind;
	}

	res.location = url;
	const q = url.searchParams;
	for (const k of ['code', 'state', 'iss', 'error', 'error_description'])
		res[k] = q.get(k);
	return res;
}

// A promise's outcome: {code: 'ok', value} or {code: the OAuth error
// (openid-client's, or a WWW-Authenticate challenge's), e}.
export async function outcome(p) {
	try {
		return { code: 'ok', value: await p };
	} catch (e) {
		const ch = Array.isArray(e.cause) ?
		    e.cause[0]?.parameters?.error : undefined;
		return { code: e.error ?? ch ?? e.code ?? 'exception', e };
	}
}

// upstream.mjs's /admin/WHAT at the origin of url, for sub, with a JSON
// body: {status, json}.
export async function upstreamAdmin(url, method, what, sub, body) {
	const u = new URL(`/admin/${what}`, new URL(url).origin);
	if (sub !== undefined)
		u.searchParams.set('sub', sub);
	const res = await fetch(u, {
		method, body: body === undefined ? undefined :
		    JSON.stringify(body),
		headers: body === undefined ? {} :
		    { 'content-type': 'application/json' },
	});
	const text = await res.text();
	let json = null;
	try {
		json = JSON.parse(text);
	} catch {
		json = null;
	}
	return { status: res.status, json, text };
}
