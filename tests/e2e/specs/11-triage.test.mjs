// 11. Triage (issue 4): the Greater Manchester CDAO opens a new case from the dashboard,
// triages it (in review, priority, an internal note), asks the reporter for more information;
// the reporter answers on the report page in a second browser context; the case is back in
// review and the CDAO closes it with an outcome. The demo's prescriber reported three times
// shows one match in full and one "held by the London CDAO team", whose team grants access.
// axe runs on the dashboard, the case list (filtered and in error), the case page (and in
// error), statistics and access requests.
import { after, before, describe, test } from 'node:test';
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
  visit,
} from '../lib/helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

function clickButton(page, name) {
  return navigates(page, () => page.locator('main').getByRole('button', { name, exact: true }).click());
}

async function mainText(page) {
  return page.locator('main').innerText();
}

/** Yesterday in the UK, YYYY-MM-DD. */
function yesterday() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(
    new Date(Date.now() - 24 * 3600 * 1000),
  );
}

describe('a CDAO triages a case from the dashboard to closure', () => {
  let cdao;
  let reporter;
  let caseId;
  let reference;
  const marker = `e2e-${Date.now().toString(36)}`;

  before(async () => {
    // The reporter (a second browser context) sends a new incident; the CDAO signs in once.
    reporter = await newPage(browser);
    await signIn(reporter, demoUser('reporter'));
    const drugs = await (await reporter.request.get('/api/v1/drugs?q=oxycodone')).json();
    const oxycodone = drugs.items[0].id;
    const sent = await reporter.request.post('/api/v1/incidents', {
      data: {
        occurred_on: yesterday(),
        location: 'Dispensary CD cabinet',
        categories: ['theft_or_diversion', 'stock_discrepancy'],
        drugs: [{ drug_id: oxycodone, formulation: 'tablet', strength: '40 mg', quantity: 56, unit: 'tablet', daily_dose_mg: 100 }],
        harm: 'none',
        near_miss: false,
        description: `Fifty-six oxycodone 40 mg tablets missing at the balance check (${marker}).`,
        police_informed: false,
        patient_involved: false,
      },
    });
    assert.equal(sent.status(), 201, await sent.text());
    ({ id: caseId, reference } = await sent.json());
    cdao = await newPage(browser);
    await signIn(cdao, demoUser('cdao'));
  });
  after(async () => {
    await cdao?.context().close();
    await reporter?.context().close();
  });

  test('the dashboard shows what needs the team, and the new case', async () => {
    assert.equal(pathOf(cdao), '/');
    const h1 = (await cdao.locator('h1').innerText()).trim();
    assert.equal(h1, 'Greater Manchester: case dashboard');
    const main = await mainText(cdao);
    for (const words of ['new cases', 'cases submitted this week', 'Most overdue for triage', 'Newest cases']) {
      assert.ok(main.includes(words), `"${words}" on the dashboard`);
    }
    const menu = await cdao.locator('header nav[aria-label="Menu"]').innerText();
    for (const item of ['Dashboard', 'Cases', 'Statistics', 'Access requests']) {
      assert.ok(menu.includes(item), `"${item}" in the CDAO's menu: ${menu}`);
    }
    await checkPage(cdao, '11-dashboard');
    const link = cdao.locator('#newest-cases').getByRole('link', { name: reference, exact: true });
    assert.equal(await link.count(), 1, `${reference} among the newest cases`);
    const r = await navigates(cdao, () => link.click());
    assert.equal(r.status(), 200);
    assert.equal(pathOf(cdao), `/cases/${caseId}`);
    const page = await mainText(cdao);
    assert.ok(page.includes(reference));
    assert.ok(page.includes('New'), 'the case is new');
    assert.ok(page.includes('Suggested from the report: High'), 'Schedule 2 theft suggests high priority');
    assert.ok(page.includes('150 mg a day'), 'oxycodone 100 mg a day is 150 mg OME');
    assert.ok(page.includes('High dose (≥ 120 mg a day)'));
    assert.ok(page.includes('Who has viewed this case'));
    await checkPage(cdao, '11-case-new');
  });

  test('a half-graded risk comes back with an error summary', async () => {
    await cdao.selectOption('#risk_consequence', '4');
    const r = await clickButton(cdao, 'Save triage');
    assert.equal(r.status(), 422);
    await expectErrorSummary(cdao, 'risk_consequence');
    assert.ok((await cdao.title()).startsWith('Error: '), await cdao.title());
    await checkPage(cdao, '11-case-error');
  });

  test('triage: in review, high priority, graded and with an internal note', async () => {
    await cdao.selectOption('#status', 'in_review');
    await cdao.locator('input[type="radio"][name="priority"][value="high"]').check();
    await cdao.selectOption('#risk_consequence', '3');
    await cdao.selectOption('#risk_likelihood', '4');
    await cdao.fill('#note', `Second count confirmed the shortfall; check the delivery log (${marker}).`);
    const r = await clickButton(cdao, 'Save triage');
    assert.equal(r.status(), 200);
    assert.equal(pathOf(cdao), `/cases/${caseId}`);
    const main = await mainText(cdao);
    assert.ok(main.includes('Triage saved.'), main.slice(0, 400));
    assert.ok(main.includes('In review'));
    assert.ok(main.includes('High priority'));
    assert.ok(main.includes('High: consequence 3 (moderate) × likelihood 4 (likely) = 12'));
    assert.ok(main.includes('Internal note'));
    assert.ok(main.includes('check the delivery log'));
  });

  test('the CDAO asks the reporter for more information', async () => {
    await cdao.fill('#body', 'Who held the CD keys on the day of the count?');
    await cdao.check('#request_information');
    await clickButton(cdao, 'Send message');
    const main = await mainText(cdao);
    assert.ok(main.includes('Your request for information has been sent to the reporter.'), main.slice(0, 400));
    assert.ok(main.includes('Awaiting information'));
    await checkPage(cdao, '11-case-awaiting');
  });

  test('the reporter answers on the report page (second browser context)', async () => {
    await visit(reporter, `/reports/${caseId}`);
    const main = await mainText(reporter);
    assert.ok(main.includes('Who held the CD keys'), main.slice(0, 500));
    assert.ok(!main.includes('check the delivery log'), 'internal notes stay internal');
    await reporter.fill('#body', 'The responsible pharmacist held them all day.');
    const r = await clickButton(reporter, 'Send your answer');
    assert.equal(r.status(), 200);
    assert.ok((await mainText(reporter)).includes('In review'));
  });

  test('back in review, the CDAO closes the case with an outcome', async () => {
    await visit(cdao, `/cases/${caseId}`);
    let main = await mainText(cdao);
    assert.ok(main.includes('In review'));
    assert.ok(main.includes('Message from the reporter'));
    assert.ok(main.includes('The responsible pharmacist held them all day.'));
    await cdao.locator('input[name="outcome"][value="local_learning"]').check();
    await cdao.locator('input[name="well_founded"][value="yes"]').check();
    await cdao.fill('#close_note', 'Key-holding procedure changed; learning shared with the team.');
    const r = await clickButton(cdao, 'Close case');
    assert.equal(r.status(), 200);
    main = await mainText(cdao);
    assert.ok(main.includes('The case has been closed.'), main.slice(0, 400));
    assert.ok(main.includes('Local learning'));
    assert.ok(main.includes('Reopen the case'));
    assert.equal(await cdao.getByRole('button', { name: 'Save triage' }).count(), 0, 'no triage form on a closed case');
    await checkPage(cdao, '11-case-closed');
  });

  test('the case list filters, and names a bad filter', async () => {
    await visit(cdao, '/cases');
    await checkPage(cdao, '11-cases');
    await cdao.locator('input[name="status"][value="closed"]').check();
    await cdao.fill('#q', reference);
    await clickButton(cdao, 'Apply filters');
    const list = await cdao.locator('#case-list').innerText();
    assert.ok(list.includes(reference), list);
    assert.ok((await mainText(cdao)).includes('1 case in all. 1 on the first page'));
    await checkPage(cdao, '11-cases-filtered');
    await cdao.locator('summary', { hasText: 'More filters' }).click();
    await cdao.fill('#from', '2026-13-40');
    const r = await clickButton(cdao, 'Apply filters');
    assert.equal(r.status(), 422);
    await expectErrorSummary(cdao, 'from');
    await checkPage(cdao, '11-cases-error');
  });

  test('the prescriber reported three times: one match in full, one held by London; access asked and granted', async () => {
    await visit(cdao, '/cases?kind=person_concern&q=locum');
    const links = cdao.locator('#case-list tbody th a');
    assert.equal(await links.count(), 2, 'two Greater Manchester reports about the locum');
    await navigates(cdao, () => links.first().click());
    const matches = cdao.locator('#matches-caption');
    assert.equal(await matches.count(), 1, 'a table of matches the team can see');
    const main = await mainText(cdao);
    assert.ok(main.includes('Dr Martin Keel'));
    assert.ok(main.includes('A possible match is held by the London CDAO team'), main);
    const visibleRows = cdao.locator('table:has(#matches-caption) tbody tr');
    assert.equal(await visibleRows.count(), 1);
    await checkPage(cdao, '11-case-matches');
    const casePath = pathOf(cdao);
    // Ask London for access.
    const bad = await clickButton(cdao, 'Ask the London CDAO team for access');
    assert.equal(bad.status(), 422);
    await checkPage(cdao, '11-case-matches-error');
    await cdao.locator('main textarea[name="reason"]').fill('Our two reports name the same GMC number; we need to see yours to assess the risk.');
    await clickButton(cdao, 'Ask the London CDAO team for access');
    assert.ok((await mainText(cdao)).includes('Your request has been sent to the London CDAO team.'));
    await visit(cdao, '/access-requests');
    assert.ok((await mainText(cdao)).includes('Waiting for a decision'));
    await checkPage(cdao, '11-access-requests-made');

    // The London team approves.
    const london = await newPage(browser);
    await signIn(london, demoUser('cdao.london'));
    await visit(london, '/access-requests');
    assert.ok((await mainText(london)).includes('Greater Manchester CDAO team'));
    await checkPage(london, '11-access-requests-to-decide');
    const form = london.locator('form[action$="/decide"]').first();
    await navigates(london, () => form.getByRole('button', { name: /^Approve/ }).click());
    assert.ok((await mainText(london)).includes('You approved the request'));
    await london.context().close();

    // The approval made an identified share, which waits for a second London CDAO.
    await visit(cdao, casePath);
    assert.ok((await mainText(cdao)).includes('A possible match is held by the London CDAO team'));
    const second = await newPage(browser);
    await signIn(second, demoUser('cdao2.london'));
    await visit(second, '/shares/pending');
    await checkPage(second, '11-shares-pending-team');
    // The approver checks the share's facts first (issue 11), then approves and sends.
    await navigates(second, () =>
      second.locator('main').getByRole('link', { name: /^Check and approve/ }).first().click(),
    );
    await navigates(second, () =>
      second.locator('main').getByRole('button', { name: 'Approve and send', exact: true }).click(),
    );
    await second.context().close();

    // Now the Greater Manchester team sees the London case, read-only.
    await visit(cdao, casePath);
    assert.ok(!(await mainText(cdao)).includes('A possible match is held by'));
    assert.equal(await visibleRows.count(), 2);
    const londonLink = visibleRows.filter({ hasText: 'London' }).locator('a');
    await navigates(cdao, () => londonLink.click());
    const granted = await mainText(cdao);
    assert.ok(granted.includes('This case belongs to the London CDAO team'), granted.slice(0, 600));
    assert.equal(await cdao.getByRole('button', { name: 'Save triage' }).count(), 0);
    await checkPage(cdao, '11-case-granted');
  });

  test('statistics: charts with their tables, and the quarterly returns', async () => {
    await visit(cdao, '/statistics');
    const main = await mainText(cdao);
    assert.ok(main.includes('Reports by category'));
    assert.ok(main.includes('Quarterly occurrence returns'));
    assert.ok(await cdao.locator('svg[role="img"] title').count() >= 5, 'the charts are images with titles');
    await checkPage(cdao, '11-statistics');
    const bad = await visit(cdao, '/statistics?from=yesterday', 422);
    assert.equal(bad.status(), 422);
    await expectErrorSummary(cdao, 'from');
  });
});

test('the national analyst sees statistics with small numbers suppressed', async () => {
  const page = await newPage(browser);
  await signIn(page, demoUser('analyst'));
  await visit(page, '/statistics');
  const main = await mainText(page);
  assert.ok(main.includes('England'));
  assert.ok(main.includes('fewer than 5'), 'small national numbers are suppressed');
  assert.ok(!main.includes('Quarterly occurrence returns'));
  await checkPage(page, '11-statistics-analyst');
  await page.context().close();
});
