// 1. The sign-in page has no axe violations, also in its error states; public pages too.
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
  visit,
} from '../lib/helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('sign-in page has no axe violations, also with errors (empty, wrong password)', async () => {
  const page = await newPage(browser);
  await visit(page, '/sign-in');
  assert.equal((await page.locator('h1').innerText()).trim(), 'Sign in to CD Concerns');
  await checkPage(page, '01-sign-in');

  // Submit empty.
  const empty = await navigates(page, () =>
    page.getByRole('button', { name: 'Sign in', exact: true }).click(),
  );
  assert.equal(empty.status(), 422, 'an empty sign-in should answer 422');
  assert.equal(pathOf(page), '/sign-in');
  await expectErrorSummary(page, 'email');
  await expectErrorSummary(page, 'password');
  assert.match(await page.title(), /^Error: /, 'the title of a page with errors starts "Error: "');
  await checkPage(page, '01-sign-in-error-empty');

  // A wrong password for a real account.
  const reporter = demoUser('reporter');
  await page.fill('#email', reporter.email);
  await page.fill('#password', 'not-the-password-at-all');
  const wrong = await navigates(page, () =>
    page.getByRole('button', { name: 'Sign in', exact: true }).click(),
  );
  assert.equal(wrong.status(), 422, 'a wrong password should answer 422');
  await expectErrorSummary(page, 'email');
  assert.equal(await page.inputValue('#email'), reporter.email, 'the email is kept');
  assert.equal(await page.inputValue('#password'), '', 'the password is not echoed back');
  await checkPage(page, '01-sign-in-error-wrong-password');

  // The error summary link moves focus to the field.
  await page.locator('.nhsuk-error-summary a[href="#email"]').click();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'email');
  await page.context().close();
});

test('public pages (help, privacy, accessibility) have no axe violations', async () => {
  const page = await newPage(browser);
  for (const path of ['/help', '/privacy', '/accessibility']) {
    await visit(page, path);
    await checkPage(page, `01-public${path.replace('/', '-')}`);
  }
  await page.context().close();
});

test('public pages at 375 px wide have no axe violations and do not scroll sideways', async () => {
  const page = await newPage(browser, { viewport: { width: 375, height: 812 } });
  for (const path of ['/help', '/privacy', '/accessibility']) {
    await visit(page, path);
    await checkPage(page, `01-public-375${path.replace('/', '-')}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${path} is ${overflow} px wider than a 375 px window`);
  }
  await page.context().close();
});
