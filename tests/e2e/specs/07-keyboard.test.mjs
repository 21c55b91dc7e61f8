// 7. Keyboard: the sign-in page's tab order and submitting with Enter.
import { after, before, test } from 'node:test';
import {
  assert,
  checkPage,
  demoUser,
  expectHome,
  launch,
  navigates,
  newPage,
  visit,
} from '../lib/helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** A short description of the focused element: its id, or tag.class, and its text. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { key: 'body', text: '' };
    const key = el.id
      ? `#${el.id}`
      : `${el.tagName.toLowerCase()}${el.classList.length ? `.${[...el.classList].join('.')}` : ''}`;
    return { key, tag: el.tagName.toLowerCase(), text: (el.innerText || el.value || '').trim() };
  });
}

test('sign-in page: Tab reaches the skip link first, then email, password, button; Enter submits', async () => {
  const page = await newPage(browser);
  await visit(page, '/sign-in');

  const order = [];
  for (let i = 0; i < 12; i += 1) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    order.push(f);
    if (f.tag === 'button' && f.text === 'Sign in') break;
  }
  const keys = order.map((f) => (f.tag === 'button' ? `button:${f.text}` : f.key));
  assert.ok(order[0].key.includes('nhsuk-skip-link'), `first Tab stop is ${keys[0]}, not the skip link`);
  assert.equal(order[0].text, 'Skip to main content');
  await checkPage(page, '07-skip-link-focused');
  const iEmail = keys.indexOf('#email');
  const iPassword = keys.indexOf('#password');
  const iButton = keys.indexOf('button:Sign in');
  assert.ok(iEmail > 0, `Tab never reached #email: ${keys.join(' → ')}`);
  assert.ok(iPassword > iEmail, `#password does not follow #email: ${keys.join(' → ')}`);
  assert.ok(iButton > iPassword, `the Sign in button does not follow #password: ${keys.join(' → ')}`);
  assert.equal(iPassword, iEmail + 1, `something sits between email and password: ${keys.join(' → ')}`);
  assert.equal(iButton, iPassword + 1, `something sits between password and button: ${keys.join(' → ')}`);

  // The skip link skips the header: activating it, the next Tab lands on the email field.
  await visit(page, '/sign-in');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).key, '#email', 'after the skip link, Tab goes to #email');

  // Type the credentials with the keyboard and press Enter in the password field.
  const user = demoUser('reporter');
  await page.keyboard.type(user.email);
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).key, '#password');
  await page.keyboard.type(user.password);
  const r = await navigates(page, () => page.keyboard.press('Enter'));
  assert.equal(r.status(), 200, `submitting with Enter answered ${r.status()}`);
  await expectHome(page, user);
  await checkPage(page, '07-home-after-enter');
  await page.context().close();
});
