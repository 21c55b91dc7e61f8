// 5. The auditor's audit trail and verify pages have no axe violations; the chain is intact.
import { after, before, test } from 'node:test';
import {
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
let page; // signed in as the auditor (once: a second sign-in would wait for the next TOTP step)
before(async () => {
  browser = await launch();
  page = await newPage(browser);
  await signIn(page, demoUser('auditor'));
});
after(async () => {
  await browser?.close();
});

test('auditor: /audit/verify has no axe violations and says the chain is intact', async () => {
  await visit(page, '/audit/verify');
  const result = (await page.locator('#verify-result').innerText()).trim();
  assert.match(result, /intact/i, `verify says: ${result}`);
  await checkPage(page, '05-audit-verify');
});

test('auditor: /audit (events, and a search) has no axe violations', async () => {
  await visit(page, '/audit');
  assert.equal((await page.locator('h1').innerText()).trim(), 'Audit trail');
  assert.ok((await page.locator('table tbody tr').count()) > 0, 'the audit trail lists events');
  await checkPage(page, '05-audit');

  // Search by a group of actions, chosen in plain words.
  await page.selectOption('#action', { label: 'Any: signing in and out' });
  await navigates(page, () =>
    page.locator('main').getByRole('button', { name: 'Search', exact: true }).click(),
  );
  assert.equal(new URL(page.url()).searchParams.get('action'), 'auth.');
  assert.ok((await page.locator('table tbody tr').count()) > 0, 'auth. events are listed');
  await checkPage(page, '05-audit-search');
});
