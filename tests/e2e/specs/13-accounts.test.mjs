// 13. Keeping an account: the self-service password reset journey; enrolment with the QR code
// and recovery codes; signing in with a recovery code. Every page is checked with axe.
// The people here are made by the admin in this spec, so no demo user's password changes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import {
  assert,
  checkPage,
  demoUser,
  expectErrorSummary,
  launch,
  navigates,
  newPage,
  pathOf,
  signIn,
  totpAt,
  visit,
} from '../lib/helpers.mjs';

const MAIL_DIR = process.env.E2E_MAIL_DIR;

let browser;
let admin;
before(async () => {
  browser = await launch();
  admin = await newPage(browser);
  await signIn(admin, demoUser('admin'));
});
after(async () => {
  await browser?.close();
});

/** The admin invites someone; returns the invitation path. */
async function invite(person, role, orgName) {
  await visit(admin, '/admin/users/new');
  await admin.fill('#name', person.name);
  await admin.fill('#email', person.email);
  await admin.selectOption('#role', role);
  if (orgName) {
    const org = admin.locator('#organisation_id option', { hasText: orgName });
    await admin.selectOption('#organisation_id', await org.first().getAttribute('value'));
  }
  const r = await navigates(admin, () =>
    admin.locator('main').getByRole('button', { name: 'Invite user', exact: true }).click(),
  );
  assert.ok([200, 201].includes(r.status()), `inviting answered ${r.status()}`);
  const link = (await admin.locator('#invitation code').innerText()).trim();
  return new URL(link).pathname;
}

async function setPassword(page, path, password) {
  await visit(page, path);
  await page.fill('#password', password);
  await page.fill('#confirm', password);
  const r = await navigates(page, () => page.getByRole('button', { name: 'Set password', exact: true }).click());
  assert.equal(r.status(), 200);
}

/** Waits (up to 20 s) for an email to `to` whose text matches `re`; returns the text. */
async function waitForMail(to, re) {
  assert.ok(MAIL_DIR, 'E2E_MAIL_DIR is not set: run with tests/e2e/run.sh');
  const deadline = Date.now() + 20_000;
  for (;;) {
    let names = [];
    try {
      names = readdirSync(MAIL_DIR);
    } catch {
      names = [];
    }
    for (const n of names) {
      const text = readFileSync(join(MAIL_DIR, n), 'utf8');
      if (text.startsWith(`To: ${to}\n`) && re.test(text)) return text;
    }
    if (Date.now() > deadline) throw new Error(`no email to ${to} matching ${re}`);
    await sleep(250);
  }
}

test('a person who forgot their password resets it with an emailed link', async () => {
  const stamp = Date.now().toString(36);
  const person = { name: `Sam Reset ${stamp}`, email: `sam.reset.${stamp}@example.nhs.test` };
  const first = `amber ${stamp} quarry lantern`;
  const page = await newPage(browser);
  await setPassword(page, await invite(person, 'reporter', 'Northbrook Community Pharmacy'), first);

  await visit(page, '/sign-in');
  await navigates(page, () => page.getByRole('link', { name: 'Forgotten your password?' }).click());
  assert.equal(pathOf(page), '/sign-in/forgotten');
  await checkPage(page, '13-forgotten');
  const empty = await navigates(page, () => page.getByRole('button', { name: 'Send reset link', exact: true }).click());
  assert.equal(empty.status(), 422);
  await expectErrorSummary(page, 'email');
  await checkPage(page, '13-forgotten-error');

  await page.fill('#email', person.email);
  await navigates(page, () => page.getByRole('button', { name: 'Send reset link', exact: true }).click());
  assert.equal((await page.locator('h1').innerText()).trim(), 'Check your email');
  await checkPage(page, '13-forgotten-sent');

  const mail = await waitForMail(person.email, /reset-password\//);
  const link = mail.match(/https?:\/\/\S+\/reset-password\/\S+/)[0];
  const path = new URL(link).pathname;
  await visit(page, path);
  await checkPage(page, '13-reset');
  await page.fill('#password', 'password1234');
  await page.fill('#confirm', 'password1234');
  const weak = await navigates(page, () => page.getByRole('button', { name: 'Set new password', exact: true }).click());
  assert.equal(weak.status(), 422);
  await expectErrorSummary(page, 'password');
  assert.match(await page.locator('.nhsuk-error-summary').innerText(), /too easy to guess/);
  await checkPage(page, '13-reset-weak');

  const second = `cobalt ${stamp} meadow violin`;
  await page.fill('#password', second);
  await page.fill('#confirm', second);
  await navigates(page, () => page.getByRole('button', { name: 'Set new password', exact: true }).click());
  assert.match(await page.locator('main').innerText(), /Your password has been set/);

  // The link works once; the new password signs in.
  const reused = await page.goto(path);
  assert.equal(reused.status(), 404);
  await checkPage(page, '13-reset-used');
  const fresh = await newPage(browser);
  await signIn(fresh, { ...person, password: second, role: 'reporter', totp_secret: null });
  await waitForMail(person.email, /password of your CD Concerns account was reset/);
  await page.context().close();
  await fresh.context().close();
});

test('an auditor enrols with the QR code, keeps recovery codes and signs in with one', async () => {
  const stamp = Date.now().toString(36);
  const person = { name: `Alex Audit ${stamp}`, email: `alex.audit.${stamp}@example.nhs.test` };
  const password = `saffron ${stamp} canyon pebble`;
  const page = await newPage(browser);
  await setPassword(page, await invite(person, 'auditor', null), password);

  // Signing in leads to the set-up page: a QR code, and the key as text beside it.
  await visit(page, '/sign-in');
  await page.fill('#email', person.email);
  await page.fill('#password', password);
  await navigates(page, () => page.getByRole('button', { name: 'Sign in', exact: true }).click());
  assert.equal(pathOf(page), '/sign-in/mfa/setup');
  const qr = page.locator('svg[role="img"].app-qr');
  assert.equal(await qr.count(), 1, 'a QR code');
  assert.ok((await qr.boundingBox()).width >= 150, 'the QR code is big enough to scan');
  await checkPage(page, '13-enrol-qr');
  const secret = (await page.locator('#totp-secret').innerText()).replace(/\s+/g, '');
  const step = Math.floor(Date.now() / 30_000);
  await page.fill('#code', totpAt(secret, step));
  const done = await navigates(page, () => page.getByRole('button', { name: 'Confirm and continue', exact: true }).click());
  assert.equal(done.status(), 200);
  assert.equal((await page.locator('h1').innerText()).trim(), 'Save your recovery codes');
  const codes = (await page.locator('#recovery-codes code').allInnerTexts()).map((c) => c.trim());
  assert.equal(codes.length, 10);
  await checkPage(page, '13-recovery-codes');
  await navigates(page, () => page.getByRole('button', { name: 'I have saved my codes, continue' }).click());
  assert.equal(pathOf(page), '/');

  // Later, without the phone: a recovery code instead of the 6-digit code.
  const later = await newPage(browser);
  await visit(later, '/sign-in');
  await later.fill('#email', person.email);
  await later.fill('#password', password);
  await navigates(later, () => later.getByRole('button', { name: 'Sign in', exact: true }).click());
  assert.equal(pathOf(later), '/sign-in/mfa');
  await checkPage(later, '13-mfa-with-recovery-hint');
  await later.fill('#code', codes[0]);
  await navigates(later, () => later.getByRole('button', { name: 'Continue', exact: true }).click());
  assert.equal(pathOf(later), '/account');
  assert.match(await later.locator('main').innerText(), /You have 9 recovery codes left/);
  await checkPage(later, '13-account-after-recovery-code');
  // The account page lists both sessions; this one signs the other out.
  const rows = later.locator('#sessions ~ div table tbody tr');
  assert.equal(await rows.count(), 2, 'two signed-in sessions');
  await navigates(later, () => later.getByRole('button', { name: 'Sign out everywhere else', exact: true }).click());
  assert.match(await later.locator('main').innerText(), /1 other session has been signed out/);
  await checkPage(later, '13-account-sessions');
  const gone = await page.goto('/');
  assert.equal(pathOf(page), '/sign-in', `the other session ended (got ${gone.status()} at ${page.url()})`);

  // The same recovery code does not work twice.
  const again = await newPage(browser);
  await visit(again, '/sign-in');
  await again.fill('#email', person.email);
  await again.fill('#password', password);
  await navigates(again, () => again.getByRole('button', { name: 'Sign in', exact: true }).click());
  await again.fill('#code', codes[0]);
  const refused = await navigates(again, () => again.getByRole('button', { name: 'Continue', exact: true }).click());
  assert.equal(refused.status(), 422);
  await expectErrorSummary(again, 'code');
  await waitForMail(person.email, /recovery codes was used/);
  for (const p of [page, later, again]) await p.context().close();
});
