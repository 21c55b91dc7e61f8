// 3. Every admin page has no axe violations (forms also in their error state).
// 4. An admin invites a new user; the new user sets a password and signs in.
// One admin session serves both (a second sign-in of the same user within a 30-second TOTP step
// would have to wait for the next step).
import { after, before, describe, test } from 'node:test';
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
  visit,
} from '../lib/helpers.mjs';

let browser;
let admin; // a page signed in as the admin
before(async () => {
  browser = await launch();
  admin = await newPage(browser);
  await signIn(admin, demoUser('admin'));
});
after(async () => {
  await browser?.close();
});

/** The href of the first link in the table body of the current page. */
async function firstRowHref(page, prefix) {
  const href = await page.locator(`table tbody a[href^="${prefix}"]`).first().getAttribute('href');
  assert.ok(href, `no row link starting ${prefix} on ${page.url()}`);
  return href;
}

async function submitEmpty(page, buttonName) {
  return navigates(page, () =>
    page.locator('main').getByRole('button', { name: buttonName, exact: true }).click(),
  );
}

describe('admin pages have no axe violations', () => {
  test('areas: list, new (also with errors), edit', async () => {
    await visit(admin, '/admin/areas');
    await checkPage(admin, '03-admin-areas');
    const areaHref = await firstRowHref(admin, '/admin/areas/');

    await visit(admin, '/admin/areas/new');
    await checkPage(admin, '03-admin-areas-new');
    const r = await submitEmpty(admin, 'Save');
    assert.equal(r.status(), 422, `empty new-area form answered ${r.status()}`);
    await expectErrorSummary(admin, 'name');
    await checkPage(admin, '03-admin-areas-new-error');

    await visit(admin, areaHref);
    await checkPage(admin, '03-admin-area-edit');
  });

  test('organisations: list, filter, new (also with errors), edit', async () => {
    await visit(admin, '/admin/organisations');
    await checkPage(admin, '03-admin-organisations');
    await admin.fill('#q', 'Northbrook');
    await navigates(admin, () =>
      admin.locator('main').getByRole('button', { name: 'Filter', exact: true }).click(),
    );
    assert.equal(pathOf(admin), '/admin/organisations');
    assert.ok(
      (await admin.locator('table tbody').innerText()).includes('Northbrook Community Pharmacy'),
      'filtering by "Northbrook" lists Northbrook Community Pharmacy',
    );
    await checkPage(admin, '03-admin-organisations-filtered');
    const orgHref = await firstRowHref(admin, '/admin/organisations/');

    await visit(admin, '/admin/organisations/new');
    await checkPage(admin, '03-admin-organisations-new');
    const r = await submitEmpty(admin, 'Save');
    assert.equal(r.status(), 422, `empty new-organisation form answered ${r.status()}`);
    await expectErrorSummary(admin, 'name');
    await checkPage(admin, '03-admin-organisations-new-error');

    await visit(admin, orgHref);
    await checkPage(admin, '03-admin-organisation-edit');
  });

  test('users: list, new (also with errors), edit', async () => {
    await visit(admin, '/admin/users');
    await checkPage(admin, '03-admin-users');

    await visit(admin, '/admin/users/new');
    await checkPage(admin, '03-admin-users-new');
    const r = await submitEmpty(admin, 'Invite user');
    assert.equal(r.status(), 422, `empty invite form answered ${r.status()}`);
    await expectErrorSummary(admin, 'name');
    await checkPage(admin, '03-admin-users-new-error');

    // The edit page of a demo user (not the admin: editing is only looked at, not saved).
    await visit(admin, '/admin/users?q=reporter%40demo');
    const userHref = await firstRowHref(admin, '/admin/users/');
    await visit(admin, userHref);
    await checkPage(admin, '03-admin-user-edit');
    // An active account gets no new invitation link: people reset their own password.
    assert.equal(
      await admin.locator('main').getByRole('button', { name: 'Make a new invitation link', exact: true }).count(),
      0,
      'no new invitation link for an active account',
    );
    for (const name of ['Save changes', 'Reset second factor']) {
      assert.equal(
        await admin.locator('main').getByRole('button', { name, exact: true }).count(),
        1,
        `the user edit page has a "${name}" button`,
      );
    }
  });
});

test('an admin invites a reporter who sets a password and signs in', async () => {
  const stamp = Date.now().toString(36);
  const invitee = {
    name: `Robin E2E ${stamp}`,
    email: `robin.e2e.${stamp}@example.nhs.test`,
    password: `velvet ${stamp} harbour juniper`,
  };

  // The admin invites them.
  await visit(admin, '/admin/users/new');
  await admin.fill('#name', invitee.name);
  await admin.fill('#email', invitee.email);
  await admin.selectOption('#role', 'reporter');
  // Option labels read "<name> (<kind>)".
  const org = admin.locator('#organisation_id option', { hasText: 'Northbrook Community Pharmacy' });
  assert.equal(await org.count(), 1, 'one "Northbrook Community Pharmacy" option');
  await admin.selectOption('#organisation_id', await org.getAttribute('value'));
  const r = await navigates(admin, () =>
    admin.locator('main').getByRole('button', { name: 'Invite user', exact: true }).click(),
  );
  // The page showing the new invitation link is answered 201 Created.
  assert.ok([200, 201].includes(r.status()), `inviting answered ${r.status()} at ${admin.url()}`);
  const invitation = admin.locator('#invitation');
  assert.equal(await invitation.count(), 1, `no #invitation on ${admin.url()}`);
  await checkPage(admin, '04-admin-invitation-shown');
  const link = (await invitation.locator('code').innerText()).trim();
  assert.match(link, /^https?:\/\/[^ ]+\/invitation\/[^ /]+$/, `invitation link: ${link}`);
  const invitePath = new URL(link).pathname;

  // The new user, in a separate browser context.
  const page = await newPage(browser);
  await visit(page, invitePath);
  assert.equal((await page.locator('h1').innerText()).trim(), 'Set your password');
  assert.ok((await page.locator('main').innerText()).includes(invitee.email));
  await checkPage(page, '04-invitation');

  await page.fill('#password', invitee.password);
  await page.fill('#confirm', `${invitee.password} but different`);
  const mismatch = await navigates(page, () =>
    page.getByRole('button', { name: 'Set password', exact: true }).click(),
  );
  assert.equal(mismatch.status(), 422, `mismatched passwords answered ${mismatch.status()}`);
  await expectErrorSummary(page, 'confirm');
  await checkPage(page, '04-invitation-error-mismatch');

  await page.fill('#password', invitee.password);
  await page.fill('#confirm', invitee.password);
  const set = await navigates(page, () =>
    page.getByRole('button', { name: 'Set password', exact: true }).click(),
  );
  assert.equal(set.status(), 200, `setting the password answered ${set.status()} at ${page.url()}`);
  assert.ok(
    (await page.locator('main').innerText()).includes('Your password has been set'),
    `after setting the password: ${page.url()}`,
  );
  await checkPage(page, '04-invitation-done');

  // The link works once.
  const again = await page.context().newPage();
  const reused = await again.goto(invitePath);
  assert.notEqual(reused.status(), 200, 'a used invitation link must not offer the form again');
  await again.close();

  // And they sign in (a reporter: no second factor) in a fresh context.
  const fresh = await newPage(browser);
  await signIn(fresh, { ...invitee, role: 'reporter', totp_secret: null });
  await expectHome(fresh, invitee);
  assert.ok(
    (await fresh.locator('main').innerText()).includes('Northbrook Community Pharmacy'),
    'the home page shows their organisation',
  );
  await checkPage(fresh, '04-invitee-home');
  await page.context().close();
  await fresh.context().close();
});
