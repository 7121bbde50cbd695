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

// The login pages in a real browser: Debian's chromium, headless, driven
// by playwright-core (its own browser download is not used).  Walks the
// connector chooser, the password form (a wrong password, then the right
// one), the approval page and an error page, checks what each shows and
// that none runs a script, and saves a screenshot of each in OUTDIR.
// Prints TAP lines without numbers.
//
// Usage: node pages.mjs ISSUER CHOOSER_ISSUER OUTDIR
//	ISSUER: alwaysShowLoginScreen and the approval screen on, local
//	users only; CHOOSER_ISSUER: a second connector besides local.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { REDIRECT, ok, is, diag, finish } from './oplib.mjs';

const [issuer, chooserIssuer, outdir] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STATE = 'page-state-42';

function authUrl(iss, over = {}) {
	return `${iss}/auth?` + new URLSearchParams({
		client_id: 'test-app', redirect_uri: REDIRECT,
		response_type: 'code', scope: 'openid email profile groups',
		state: STATE, ...over,
	});
}

// No script may run on our pages: the CSP forbids inline script and
// the page holds no <script> element and no on* handler attribute.
async function noScript(page, resp, name) {
	const csp = resp ? resp.headers()['content-security-policy'] : null;
	ok(typeof csp === 'string' && csp.length > 0,
	    `${name}: a Content-Security-Policy header`);
	if (typeof csp === 'string') {
		const src = /(?:^|;)\s*script-src\s+([^;]*)/.exec(csp) ||
		    /(?:^|;)\s*default-src\s+([^;]*)/.exec(csp);
		ok(src !== null && !/unsafe-inline|unsafe-eval|\*/.test(src[1]),
		    `${name}: the CSP allows no inline script`, csp);
	}
	is(await page.locator('script').count(), 0, `${name}: no <script>`);
	const html = await page.content();
	ok(!/<[^>]+\son[a-z]+\s*=/i.test(html),
	    `${name}: no on* handler attributes`);
	ok(!/javascript:/i.test(html), `${name}: no javascript: URL`);
}

async function shot(page, name) {
	const path = join(outdir, `${name}.png`);
	await page.screenshot({ path, fullPage: true });
	diag(`screenshot ${path}`);
}

async function submit(page, selector) {
	const [resp] = await Promise.all([
		page.waitForNavigation({ waitUntil: 'load' }),
		page.click(selector),
	]);
	return resp;
}

// The page's background: the body's, or the root element's.
function background() {
	return [document.body, document.documentElement].map((e) =>
	    getComputedStyle(e).backgroundColor).join(' ');
}

// The chooser with two connectors (the second one's upstream is dead:
// the page only lists it), in light and dark.
async function twoConnectors(page) {
	const resp = await page.goto(authUrl(chooserIssuer));
	is(resp && resp.status(), 200, 'chooser (two connectors): 200');
	const links = await page.locator('a[href*="/auth/"]').evaluateAll(
	    (as) => as.map((a) => [new URL(a.href).pathname,
	    a.textContent.trim()]));
	ok(links.some(([p]) => p === '/dex/auth/local') &&
	    links.some(([p]) => p === '/dex/auth/upstream'),
	    'chooser: a link to each connector', JSON.stringify(links));
	ok(links.some(([, t]) => /Upstream IdP/.test(t)),
	    'chooser: the connector name shown', JSON.stringify(links));
	await noScript(page, resp, 'chooser');
	await shot(page, 'chooser-two');
	await page.emulateMedia({ colorScheme: 'dark' });
	const darkBg = await page.evaluate(background);
	await shot(page, 'chooser-two-dark');
	await page.emulateMedia({ colorScheme: 'light' });
	const lightBg = await page.evaluate(background);
	ok(darkBg !== lightBg, 'a dark theme: another background (' +
	    'prefers-color-scheme)',
	    `${lightBg} / ${darkBg}`);
}

const profile = mkdtempSync(join(tmpdir(), 'oidcd-chromium-'));
let ctx = null;
try {
	// playwright adds --headless itself; the rest keep chromium from
	// reaching the network or writing outside the fresh profile.
	ctx = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM, headless: true,
		viewport: { width: 900, height: 700 },
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic',
		    '--no-first-run', '--disable-background-networking',
		    '--disable-component-update', '--disable-sync'],
	});
	const page = ctx.pages()[0] || await ctx.newPage();
	// The client: something must answer on its redirect_uri (a route
	// handler does not see the hop of a redirect).
	const rp = createServer((req, res) => {
		res.writeHead(200, { 'content-type': 'text/plain' });
		res.end('callback');
	});
	await new Promise((resolve, reject) => {
		rp.once('error', reject);
		const u = new URL(REDIRECT);
		rp.listen(Number(u.port), u.hostname, resolve);
	});
	rp.unref();

	if (chooserIssuer !== '-')
		await twoConnectors(page);

	// Chooser with local only (alwaysShowLoginScreen), then on.
	let resp = await page.goto(authUrl(issuer));
	is(resp && resp.status(), 200,
	    'chooser (alwaysShowLoginScreen, one connector): 200');
	await noScript(page, resp, 'chooser, one connector');
	await shot(page, 'chooser');
	const local = page.locator('a[href*="/auth/local"]').first();
	if (!ok(await local.count() === 1, 'chooser: a link to local'))
		throw new Error('no link to the local connector: cannot go on');
	resp = await Promise.all([page.waitForNavigation(), local.click()])
	    .then(([r]) => r);
	is(resp && resp.status(), 200, 'password page: 200');
	ok(/\/dex\/auth\/local\/login/.test(page.url()),
	    'password page at /dex/auth/local/login', page.url());
	is(await page.locator('form[method="post" i] input[name="login"]')
	    .count(), 1, 'password page: a login field');
	is(await page.locator('input[name="password"][type="password"]')
	    .count(), 1, 'password page: a password field');
	ok(await page.locator('input[type="hidden"][name*="csrf" i]')
	    .count() === 1, 'password page: a hidden CSRF field');
	await noScript(page, resp, 'password page');
	await shot(page, 'password');

	await page.fill('input[name="login"]', 'admin@example.com');
	await page.fill('input[name="password"]', 'not-the-password');
	resp = await submit(page, 'form [type="submit"]');
	is(resp && resp.status(), 401, 'wrong password: 401');
	ok(/invalid|incorrect|wrong/i.test(await page.locator('body')
	    .innerText()), 'wrong password: an error message shown');
	ok(!(await page.content()).includes('not-the-password'),
	    'wrong password: not echoed');
	await noScript(page, resp, 'password page after a failure');
	await shot(page, 'password-failed');

	await page.fill('input[name="login"]', 'admin@example.com');
	await page.fill('input[name="password"]', 'password');
	resp = await submit(page, 'form [type="submit"]');
	is(resp && resp.status(), 200, 'approval page: 200');
	ok(/\/dex\/approval/.test(page.url()), 'approval page at /dex/approval',
	    page.url());
	const text = await page.locator('body').innerText();
	ok(/Test App/.test(text), 'approval: the client name');
	ok(/View your email address/.test(text) &&
	    /View basic profile information/.test(text) &&
	    /View your groups/.test(text),
	    'approval: Dex\'s scope descriptions', text);
	// The approve form: approval=approve and a submit button.
	const approve = page.locator('form', { has: page.locator(
	    '[name="approval"][value="approve"]') }).locator(
	    '[type="submit"]');
	is(await approve.count(), 1, 'approval: an approve button');
	await noScript(page, resp, 'approval page');
	await shot(page, 'approval');
	await page.emulateMedia({ colorScheme: 'dark' });
	await shot(page, 'approval-dark');
	await page.emulateMedia({ colorScheme: 'light' });

	await Promise.all([page.waitForURL(`${REDIRECT}**`),
	    approve.click()]);
	const back = new URL(page.url());
	ok(back.searchParams.get('code') !== null &&
	    back.searchParams.get('state') === STATE,
	    'approve: back at the client with code and state', page.url());

	// Error page: an unknown client.
	resp = await page.goto(authUrl(issuer, { client_id: 'nope' }));
	ok(resp && resp.status() >= 400 && resp.status() < 500,
	    'error page: 4xx', resp && resp.status());
	ok(page.url().startsWith(issuer), 'error page: not redirected',
	    page.url());
	ok(/client/i.test(await page.locator('body').innerText()),
	    'error page: says what is wrong');
	await noScript(page, resp, 'error page');
	await shot(page, 'error');
} catch (e) {
	ok(false, 'pages.mjs threw', e.stack);
} finally {
	if (ctx !== null)
		await ctx.close();
	rmSync(profile, { recursive: true, force: true });
}
finish();
