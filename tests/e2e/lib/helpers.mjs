// Shared helpers for the browser tests: launching Chromium, signing in (with TOTP), running
// axe-core and taking screenshots. run.sh sets the environment:
//   E2E_BASE_URL      the demo server, e.g. http://127.0.0.1:41234
//   E2E_CREDENTIALS   path of <CDC_DATA_DIR>/demo-credentials.json
//   E2E_STATE_DIR     a scratch directory shared by the test processes (TOTP step bookkeeping)
//   E2E_ARTIFACTS     where screenshots go (default tests/e2e/artifacts)
//   CHROMIUM_PATH     the browser (default /usr/bin/chromium)

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function requiredEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests with tests/e2e/run.sh`);
  return v;
}

export const BASE_URL = requiredEnv('E2E_BASE_URL').replace(/\/$/, '');
const BASE_ORIGIN = new URL(BASE_URL).origin;
export const ARTIFACTS = process.env.E2E_ARTIFACTS || join(here, '..', 'artifacts');
const STATE_DIR = requiredEnv('E2E_STATE_DIR');
mkdirSync(ARTIFACTS, { recursive: true });

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'];
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// ---- demo users -------------------------------------------------------------------------------

const CREDENTIALS = JSON.parse(readFileSync(requiredEnv('E2E_CREDENTIALS'), 'utf8'));

/** A demo user by role (the first of that role) or by the local part of the email. */
export function demoUser(key) {
  const u =
    CREDENTIALS.find((c) => c.email.split('@')[0] === key) ??
    CREDENTIALS.find((c) => c.role === key);
  assert.ok(u, `no demo user "${key}" in demo-credentials.json`);
  return u;
}

// ---- browser ----------------------------------------------------------------------------------

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/**
 * A fresh context (own cookies). bypassCSP lets us inject axe: the service's CSP forbids inline
 * script, which is exactly what addScriptTag({content}) is.
 */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({
    baseURL: BASE_URL,
    bypassCSP: true,
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB',
    timezoneId: 'Europe/London',
    ...options,
  });
  // Stay on 127.0.0.1: with bypassCSP the browser would otherwise fetch what the CSP blocks (the
  // NHS font CDN named in nhsuk-frontend's CSS). Abort every request to another origin.
  await context.route((url) => url.origin !== BASE_ORIGIN, (route) => route.abort('blockedbyclient'));
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(15_000);
  const page = await context.newPage();
  if (options.javaScriptEnabled === false) withoutScript.add(page);
  return page;
}

/** Pages made with JavaScript off: nothing can be measured in them (evaluate never runs). */
const withoutScript = new WeakSet();

/**
 * The case page folds its action forms (triage, message, link, close) behind headings
 * (issue 11). The journeys that act on a case open them as a person would.
 */
export async function openCaseActions(page) {
  if (withoutScript.has(page) || !/^\/cases\/[0-9a-f-]{36}$/.test(pathOf(page))) return;
  await page.evaluate(() => {
    for (const id of ['triage', 'message', 'link', 'close']) {
      const d = document.getElementById(id);
      if (d && d.tagName === 'DETAILS') d.open = true;
    }
  });
}

/** Path of the current page, e.g. "/sign-in". */
export function pathOf(page) {
  return new URL(page.url()).pathname;
}

/**
 * Runs `action` (a click, a key press) that submits a form or follows a link, and waits for the
 * main frame's resulting document (after any redirects) to load. Returns that document's response.
 */
export async function navigates(page, action) {
  const main = page.mainFrame();
  const response = page.waitForResponse(
    (r) =>
      r.request().isNavigationRequest() &&
      r.request().frame() === main &&
      !(r.status() >= 300 && r.status() < 400),
  );
  // The response arrives before the new document commits; until then the old document (already
  // "loaded") is still current. Wait for the main frame to commit the response's URL.
  const committed = [];
  const onNavigated = (frame) => {
    if (frame === main) committed.push(frame.url().split('#')[0]);
  };
  page.on('framenavigated', onNavigated);
  let r;
  try {
    await action();
    r = await response;
    const url = r.url().split('#')[0];
    const deadline = Date.now() + 15_000;
    while (!committed.includes(url)) {
      if (Date.now() > deadline) throw new Error(`navigation to ${url} never committed`);
      await sleep(10);
    }
    await page.waitForLoadState('load');
  } finally {
    page.off('framenavigated', onNavigated);
  }
  await expectNoSideScroll(page);
  await openCaseActions(page);
  return r;
}

/** page.goto that asserts the status (200 unless told). */
export async function visit(page, path, status = 200) {
  const r = await page.goto(path);
  assert.equal(r.status(), status, `GET ${path} answered ${r.status()}, expected ${status}`);
  await expectNoSideScroll(page);
  await openCaseActions(page);
  return r;
}

// ---- phones: no sideways scroll at 375 px (issue 11) -------------------------------------------

export const PHONE_WIDTH = 375;

/**
 * Asserts the page has no sideways scroll at 375 px: document.documentElement.scrollWidth <= 375.
 * The viewport is narrowed for the measurement and restored afterwards, so every spec checks every
 * page it visits (visit(), navigates() and checkPage() call this) without changing what it tests.
 * Names the widest elements that stick out. Set E2E_PHONE_CHECK=0 to turn it off.
 */
export async function expectNoSideScroll(page, label = '') {
  if (process.env.E2E_PHONE_CHECK === '0') return;
  // With JavaScript off, page.evaluate waits for ever; the same pages are measured by the specs
  // that visit them with it on.
  if (withoutScript.has(page)) return;
  const ct = await page.evaluate(() => document.contentType).catch(() => '');
  if (ct && ct !== 'text/html') return; // a download or a JSON document
  const before = page.viewportSize();
  const narrow = before && before.width !== PHONE_WIDTH;
  if (narrow) await page.setViewportSize({ width: PHONE_WIDTH, height: before.height });
  let measured;
  const settle = () =>
    page.evaluate(
      // The header's menu folds its links on a (debounced) resize: let it run.
      () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 150)))),
    );
  const measure = (limit) =>
    page.evaluate((limit) => {
      const root = document.documentElement;
      const wide = [];
      if (root.scrollWidth > limit) {
        for (const el of document.body.querySelectorAll('*')) {
          const r = el.getBoundingClientRect();
          if (r.right > limit + 1 && r.width > 0) {
            const id = el.id ? `#${el.id}` : '';
            const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
            wide.push(`${el.tagName.toLowerCase()}${id}${cls} (right edge ${Math.round(r.right)} px)`);
          }
        }
      }
      return { width: root.scrollWidth, wide: wide.slice(-8) };
    }, limit);
  try {
    if (narrow) await settle();
    measured = await measure(PHONE_WIDTH);
    if (measured.width > PHONE_WIDTH) {
      await sleep(400);
      measured = await measure(PHONE_WIDTH);
    }
  } finally {
    if (narrow) await page.setViewportSize(before);
  }
  assert.ok(
    measured.width <= PHONE_WIDTH,
    `${label || page.url()} scrolls sideways at ${PHONE_WIDTH} px: scrollWidth ${measured.width}; ` +
      `sticking out: ${measured.wide.join(', ')}`,
  );
}

// ---- TOTP (RFC 6238 with RFC 4226 truncation; SHA-1, 30-second steps, 6 digits) ----------------

export function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = s.toUpperCase().replace(/=+$/, '').replace(/\s+/g, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const idx = alphabet.indexOf(ch);
    if (idx < 0) throw new Error(`invalid base32 character ${JSON.stringify(ch)}`);
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function totpAt(secretBase32, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(bin % 1_000_000).padStart(6, '0');
}

const STEP_MS = 30_000;

/**
 * The server accepts each TOTP step once per user, and only steps later than the last one used.
 * Test files run in parallel processes, so steps are reserved through a file under E2E_STATE_DIR
 * (guarded by a mkdir lock). If this user's current step is taken, wait for the next one.
 */
async function reserveTotpCode(user) {
  const lock = join(STATE_DIR, 'totp.lock');
  const file = join(STATE_DIR, 'totp-steps.json');
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST' || Date.now() > deadline) throw e;
      await sleep(20);
    }
  }
  let step;
  try {
    let used = {};
    try {
      used = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      used = {};
    }
    const now = Math.floor(Date.now() / STEP_MS);
    step = Math.max(now, (used[user.email] ?? -1) + 1);
    used[user.email] = step;
    writeFileSync(file, JSON.stringify(used));
  } finally {
    rmdirSync(lock);
  }
  const wait = step * STEP_MS + 250 - Date.now();
  if (wait > 0) await sleep(wait);
  return totpAt(user.totp_secret, step);
}

// ---- signing in and out -----------------------------------------------------------------------

/**
 * Signs `user` in through the sign-in page (and the second-factor page when the role has one).
 * Ends on the page the service lands on (the home page unless `next`). Options:
 *   via: 'click' (default) or 'enter' (press Enter in the password field)
 *   onMfaPage: async (page) => {}  called on the second-factor page before the code is entered
 */
export async function signIn(page, user, { next, via = 'click', onMfaPage } = {}) {
  await visit(page, next ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in');
  await page.fill('#email', user.email);
  await page.fill('#password', user.password);
  const r = await navigates(page, () =>
    via === 'enter'
      ? page.press('#password', 'Enter')
      : page.getByRole('button', { name: 'Sign in', exact: true }).click(),
  );
  assert.equal(r.status(), 200, `sign-in of ${user.email} answered ${r.status()} at ${page.url()}`);
  if (pathOf(page) === '/sign-in/mfa') {
    assert.ok(user.totp_secret, `${user.email} was asked for a code but has no TOTP secret`);
    if (onMfaPage) await onMfaPage(page);
    const code = await reserveTotpCode(user);
    await page.fill('#code', code);
    const r2 = await navigates(page, () =>
      page.getByRole('button', { name: 'Continue', exact: true }).click(),
    );
    assert.equal(r2.status(), 200, `second factor of ${user.email} answered ${r2.status()} at ${page.url()}`);
  }
  assert.notEqual(pathOf(page), '/sign-in', `${user.email} is still on the sign-in page`);
  assert.ok(!pathOf(page).startsWith('/sign-in/mfa'), `${user.email} is still on ${page.url()}`);
}

/** Presses the header's "Sign out" button. */
export async function signOut(page) {
  await navigates(page, () =>
    page.locator('header').getByRole('button', { name: 'Sign out', exact: true }).click(),
  );
}

/** Asserts the home page greets `user`. */
export async function expectHome(page, user) {
  assert.equal(pathOf(page), '/', `expected the home page, got ${page.url()}`);
  const h1 = (await page.locator('h1').first().innerText()).trim();
  assert.equal(h1, `Hello, ${user.name}`);
}

// ---- screenshots and axe ----------------------------------------------------------------------

/** Full-page screenshot into ARTIFACTS as <name>.png. */
export async function screenshot(page, name) {
  const safe = name.replace(/[^a-zA-Z0-9._-]+/g, '-').replace(/^-|-$/g, '');
  const file = join(ARTIFACTS, `${safe}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Runs axe-core (WCAG 2.0 A/AA, 2.1 AA, 2.2 AA) on the page; returns the violations. */
export async function axeViolations(page) {
  const hasAxe = await page.evaluate(() => typeof window.axe === 'object');
  if (!hasAxe) await page.addScriptTag({ content: AXE_SOURCE });
  const results = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: tags, resultTypes: ['violations'] }),
    AXE_TAGS,
  );
  return results.violations;
}

export function formatViolations(url, violations) {
  const lines = [`${violations.length} axe violation(s) on ${url}:`];
  for (const v of violations) {
    lines.push(`  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})`);
    for (const n of v.nodes) {
      lines.push(`    target: ${n.target.join(' ')}`);
      lines.push(`      html: ${n.html.replace(/\s+/g, ' ').slice(0, 200)}`);
      if (n.failureSummary) {
        lines.push(`      ${n.failureSummary.replace(/\s*\n\s*/g, ' | ').slice(0, 300)}`);
      }
    }
  }
  return lines.join('\n');
}

/**
 * Screenshots the page as `name` and fails (listing rule ids, targets and the URL) if axe finds a
 * violation.
 */
export async function checkPage(page, name) {
  await screenshot(page, name);
  await expectNoSideScroll(page, name);
  const violations = await axeViolations(page);
  assert.deepEqual(
    violations.map((v) => v.id),
    [],
    formatViolations(page.url(), violations),
  );
}

/** Asserts an NHS error summary is shown, has focusable links, and links to `#fieldId`. */
export async function expectErrorSummary(page, fieldId) {
  const summary = page.locator('.nhsuk-error-summary');
  assert.equal(await summary.count(), 1, `no .nhsuk-error-summary on ${page.url()}`);
  const hrefs = await summary.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.ok(
    hrefs.includes(`#${fieldId}`),
    `error summary on ${page.url()} links to ${JSON.stringify(hrefs)}, not #${fieldId}`,
  );
}

export { assert };
