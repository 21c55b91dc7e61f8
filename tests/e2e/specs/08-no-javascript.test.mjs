// 8. The pages work without JavaScript.
import { after, before, test } from 'node:test';
import {
  assert,
  demoUser,
  expectErrorSummary,
  expectHome,
  launch,
  navigates,
  newPage,
  pathOf,
  screenshot,
  signIn,
  signOut,
  visit,
} from '../lib/helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('without JavaScript the reporter signs in, sees the home page and signs out', async () => {
  // No bypassCSP here: nothing is injected, and the real CSP applies.
  const page = await newPage(browser, { javaScriptEnabled: false, bypassCSP: false });
  const user = demoUser('reporter');

  // A form error still works (server-side validation).
  await visit(page, '/sign-in');
  await screenshot(page, '08-nojs-sign-in');
  const bad = await navigates(page, () =>
    page.getByRole('button', { name: 'Sign in', exact: true }).click(),
  );
  assert.equal(bad.status(), 422);
  await expectErrorSummary(page, 'email');
  await screenshot(page, '08-nojs-sign-in-error');

  await signIn(page, user);
  await expectHome(page, user);
  await screenshot(page, '08-nojs-home');

  await visit(page, '/account');
  assert.equal((await page.locator('h1').innerText()).trim(), 'Your account');
  await screenshot(page, '08-nojs-account');

  await signOut(page);
  assert.equal(pathOf(page), '/sign-in');
  await page.context().close();
});
