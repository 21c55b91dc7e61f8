// 2. Every demo role signs in, lands on its home page (no axe violations) and signs out.
import { after, before, test } from 'node:test';
import {
  assert,
  checkPage,
  demoUser,
  expectErrorSummary,
  expectHome,
  launch,
  navigates,
  newPage,
  pathOf,
  signIn,
  signOut,
  totpAt,
} from '../lib/helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const ROLES = ['reporter', 'org_lead', 'cdao', 'member', 'admin', 'auditor', 'analyst'];
const MFA_ROLES = new Set(['cdao', 'member', 'admin', 'auditor']);

for (const role of ROLES) {
  test(`${role} signs in, sees their home page, and signs out`, async () => {
    const user = demoUser(role);
    assert.equal(user.role, role);
    const page = await newPage(browser);
    let sawMfa = false;
    await signIn(page, user, {
      onMfaPage: async (p) => {
        sawMfa = true;
        if (role !== 'cdao') return;
        await checkPage(p, '02-mfa-code');
        // A wrong code: the page again, with an error summary linking to the field.
        const valid = [-1, 0, 1].map((d) => totpAt(user.totp_secret, Math.floor(Date.now() / 30_000) + d));
        const wrong = ['123456', '654321', '111111', '222222'].find((c) => !valid.includes(c));
        await p.fill('#code', wrong);
        const r = await navigates(p, () => p.getByRole('button', { name: 'Continue', exact: true }).click());
        assert.equal(r.status(), 422, `a wrong code answered ${r.status()}`);
        assert.equal(pathOf(p), '/sign-in/mfa');
        await expectErrorSummary(p, 'code');
        await checkPage(p, '02-mfa-code-error');
      },
    });
    assert.equal(sawMfa, MFA_ROLES.has(role), `second factor asked of ${role}: ${sawMfa}`);
    if (role === 'cdao') {
      // A CDAO's home is the case dashboard of their areas.
      assert.equal((await page.locator('h1').innerText()).trim(), 'Greater Manchester: case dashboard');
    } else {
      await expectHome(page, user);
    }
    const main = await page.locator('main').innerText();
    assert.ok(role === 'cdao' || main.includes(user.name), 'the home page names the user');
    const header = await page.locator('header').innerText();
    assert.ok(header.includes(user.name), 'the header names the signed-in user');
    const menu = await page.locator('header nav[aria-label="Menu"]').innerText();
    assert.equal(/\bUsers\b/.test(menu), role === 'admin', `"Users" in ${role}'s menu: ${menu}`);
    assert.equal(/Audit trail/.test(menu), role === 'auditor', `"Audit trail" in ${role}'s menu: ${menu}`);
    await checkPage(page, `02-home-${role}`);

    await signOut(page);
    assert.equal(pathOf(page), '/sign-in', `after signing out: ${page.url()}`);
    assert.equal((await page.locator('h1').innerText()).trim(), 'Sign in to CD Concerns');
    assert.equal(
      await page.locator('header').getByRole('button', { name: 'Sign out' }).count(),
      0,
      'no "Sign out" button once signed out',
    );
    // The old session is gone: the home page sends us back to sign in.
    await page.goto('/');
    assert.equal(pathOf(page), '/sign-in', `home page after sign-out: ${page.url()}`);
    await page.context().close();
  });
}
