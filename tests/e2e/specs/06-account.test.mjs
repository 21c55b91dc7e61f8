// 6. The account page has no axe violations; a new API token is shown once; revoking works.
import { after, before, test } from 'node:test';
import {
  BASE_URL,
  assert,
  checkPage,
  demoUser,
  launch,
  navigates,
  newPage,
  signIn,
  visit,
} from '../lib/helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('account page: create an API token (shown once) and revoke it', async () => {
  const page = await newPage(browser);
  await signIn(page, demoUser('org_lead'));

  await visit(page, '/account');
  assert.equal((await page.locator('h1').innerText()).trim(), 'Your account');
  await checkPage(page, '06-account');

  // Creating with an empty name shows the form's errors.
  const bad = await navigates(page, () =>
    page.getByRole('button', { name: 'Create token', exact: true }).click(),
  );
  assert.equal(bad.status(), 422, `an empty token form answered ${bad.status()}`);
  await checkPage(page, '06-account-token-error');

  const tokenName = `e2e token ${Date.now().toString(36)}`;
  await page.fill('#name', tokenName);
  await page.fill('#days', '7');
  // A fresh proof: the password again (an org lead has no second factor to enter).
  await page.fill('#password', demoUser('org_lead').password);
  const created = await navigates(page, () =>
    page.getByRole('button', { name: 'Create token', exact: true }).click(),
  );
  // The page showing the new token is answered 201 Created.
  assert.ok([200, 201].includes(created.status()), `creating a token answered ${created.status()}`);
  const card = page.locator('#new-token');
  assert.equal(await card.count(), 1, `no #new-token on ${page.url()}`);
  const token = (await card.locator('code').innerText()).trim();
  assert.ok(token.length >= 20, `the token looks too short: ${JSON.stringify(token)}`);
  const row = page.locator('table tbody tr', { hasText: tokenName });
  assert.equal(await row.count(), 1, 'the new token is listed');
  await checkPage(page, '06-account-token-created');

  // Shown once: a fresh load of the page does not contain it.
  await visit(page, '/account');
  assert.equal(await page.locator('#new-token').count(), 0, '#new-token shown again');
  assert.ok(!(await page.content()).includes(token), 'the token value appears again on /account');

  // It works against the API until revoked.
  const live = await fetch(`${BASE_URL}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(live.status, 200, `a new token answered ${live.status} on /api/v1/me`);

  // Revoke it.
  const revoke = page.locator('table tbody tr', { hasText: tokenName }).getByRole('button', {
    name: `Revoke ${tokenName}`,
    exact: true,
  });
  assert.equal(await revoke.count(), 1, 'the live token has a Revoke button');
  const revoked = await navigates(page, () => revoke.click());
  assert.equal(revoked.status(), 200, `revoking answered ${revoked.status()}`);
  const after = page.locator('table tbody tr', { hasText: tokenName });
  assert.equal(await after.count(), 1, 'the revoked token is still listed');
  assert.match(await after.innerText(), /revoked/i, 'the token shows as revoked');
  assert.equal(
    await after.getByRole('button', { name: /Revoke/ }).count(),
    0,
    'a revoked token has no Revoke button',
  );
  await checkPage(page, '06-account-token-revoked');

  // The revoked token no longer works against the API (fetch: no cookies, only the token).
  const api = await fetch(`${BASE_URL}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(api.status, 401, `a revoked token answered ${api.status} on /api/v1/me`);
  await page.context().close();
});
