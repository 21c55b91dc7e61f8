// 15. Fast hands, part B (issue 11): a police officer's alert (summary first, who to contact,
// who else received it, who acknowledged) and a conversation with the CDAO team, who reply from
// their side; the auditor searches by case reference, user and an action in plain words; an
// analyst reads England by region and by area, suppressed, with the table where no chart can
// show. Every page at desktop and at 375 px, axe clean, no sideways scroll.
import { after, before, describe, test } from 'node:test';
import {
  PHONE_WIDTH,
  assert,
  axeViolations,
  checkPage,
  demoUser,
  expectErrorSummary,
  formatViolations,
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

const mainText = (page) => page.locator('main').innerText();

/** checkPage at desktop, then again at 375 px (screenshot, axe, no sideways scroll). */
async function checkBoth(page, name) {
  await checkPage(page, name);
  const size = page.viewportSize();
  await page.setViewportSize({ width: PHONE_WIDTH, height: 800 });
  try {
    await checkPage(page, `${name}-375`);
    const violations = await axeViolations(page);
    assert.deepEqual(violations.map((v) => v.id), [], formatViolations(page.url(), violations));
  } finally {
    await page.setViewportSize(size);
  }
}

function yesterday() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date(Date.now() - 86_400_000));
}

describe('a police officer acts on an alert and talks with the CDAO team', () => {
  let reporter;
  let cdao;
  let member;
  let caseId;
  let reference;
  let alertPath;
  const marker = `e2e15-${Date.now().toString(36)}`;

  before(async () => {
    reporter = await newPage(browser);
    await signIn(reporter, demoUser('reporter'));
    const drugs = await (await reporter.request.get('/api/v1/drugs?q=oxycodone')).json();
    const sent = await reporter.request.post('/api/v1/incidents', {
      data: {
        occurred_on: yesterday(),
        location: 'Dispensary CD cabinet',
        categories: ['theft_or_diversion'],
        drugs: [{ drug_id: drugs.items[0].id, quantity: 28, unit: 'tablet' }],
        harm: 'none',
        near_miss: false,
        description: `Twenty-eight oxycodone tablets missing (${marker}).`,
        police_informed: false,
        patient_involved: false,
      },
    });
    assert.equal(sent.status(), 201, await sent.text());
    ({ id: caseId, reference } = await sent.json());
    cdao = await newPage(browser);
    await signIn(cdao, demoUser('cdao'));
    member = await newPage(browser);
    await signIn(member, demoUser('member'));
  });
  after(async () => {
    for (const p of [reporter, cdao, member]) await p?.context().close();
  });

  test('the CDAO shares it with the police and the regulator, with a respond-by date', async () => {
    await visit(cdao, `/cases/${caseId}/share`);
    await cdao.getByLabel('Greater Manchester Police', { exact: true }).check();
    await cdao.getByLabel('General Pharmaceutical Council (Regulator)', { exact: true }).check();
    await cdao.locator('input[name="lawful_basis"][value="preventing_detecting_unlawful_acts"]').check();
    await cdao.fill('#purpose', 'To consider a criminal investigation');
    await cdao.fill('#summary', `Oxycodone missing from a pharmacy CD cabinet: please check local intelligence (${marker}).`);
    await cdao.locator('input[name="action_required"][value="for_action"]').check();
    // The respond-by date is a date input like the others: not a real date first.
    const inAMonth = new Date(Date.now() + 30 * 86_400_000);
    await cdao.fill('#respond_by-day', '31');
    await cdao.fill('#respond_by-month', '2');
    await cdao.fill('#respond_by-year', String(inAMonth.getFullYear()));
    const bad = await clickButton(cdao, 'Preview what they will see');
    assert.equal(bad.status(), 422);
    await expectErrorSummary(cdao, 'respond_by-day');
    await checkBoth(cdao, '15-share-respond-by-error');
    await cdao.fill('#respond_by-day', String(inAMonth.getDate()));
    await cdao.fill('#respond_by-month', String(inAMonth.getMonth() + 1));
    assert.equal((await clickButton(cdao, 'Preview what they will see')).status(), 200);
    const longDate = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric' }).format(inAMonth);
    assert.ok((await mainText(cdao)).includes(longDate), `the preview says ${longDate}`);
    assert.equal((await clickButton(cdao, 'Share')).status(), 200);
  });

  test('the alert leads with the summary, who to contact and who else has it', async () => {
    await visit(member, '/alerts');
    await navigates(member, () => member.locator('main').getByRole('link', { name: reference }).click());
    alertPath = pathOf(member);
    const text = await mainText(member);
    assert.ok(text.indexOf(marker) < text.indexOf('About this alert'), 'the summary comes first');
    for (const words of ['Who to contact', 'Greater Manchester lead CDAO team', 'england.cdao.greatermanchester@nhs.net', 'General Pharmaceutical Council']) {
      assert.ok(text.includes(words), `"${words}" on the alert`);
    }
    assert.ok(text.includes(demoUser('cdao').name), 'the sharing CDAO is named');
    await clickButton(member, 'Acknowledge');
    assert.ok((await mainText(member)).includes(`${demoUser('member').name} acknowledged it`));
    await checkBoth(member, '15-alert');
  });

  test('the member asks; the CDAO team replies from its side; the member reads the reply', async () => {
    await member.fill('#body', 'Which shift noticed it, and is the CCTV kept?');
    await clickButton(member, 'Send response');
    const alertId = alertPath.split('/').pop();
    await visit(cdao, `/alerts/${alertId}/conversation`);
    assert.ok((await mainText(cdao)).includes('Which shift noticed it'));
    const empty = await clickButton(cdao, 'Send reply');
    assert.equal(empty.status(), 422);
    await expectErrorSummary(cdao, 'body');
    await checkBoth(cdao, '15-conversation-error');
    await cdao.fill('#body', 'The night shift; CCTV is kept for 30 days.');
    await clickButton(cdao, 'Send reply');
    assert.ok((await mainText(cdao)).includes('Your reply has been sent'));
    await checkBoth(cdao, '15-conversation');
    await visit(cdao, `/cases/${caseId}`);
    assert.ok((await mainText(cdao)).includes('Reply to Greater Manchester Police on its alert'));
    await visit(member, alertPath);
    const text = await mainText(member);
    assert.ok(text.includes('The night shift; CCTV is kept for 30 days.'));
    assert.ok(text.includes('CDAO team ('));
    await checkBoth(member, '15-alert-replied');
  });
});

describe('the auditor searches the trail as people speak of it', () => {
  let auditor;
  before(async () => {
    auditor = await newPage(browser);
    await signIn(auditor, demoUser('auditor'));
  });
  after(async () => {
    await auditor?.context().close();
  });

  test('by user email and an action in plain words, with names beside ids and details folded', async () => {
    await visit(auditor, '/audit');
    await auditor.fill('#user', demoUser('reporter').email);
    await auditor.selectOption('#action', { label: 'Signed in' });
    await clickButton(auditor, 'Search');
    const rows = auditor.locator('main tbody tr');
    assert.ok((await rows.count()) > 0, 'sign-ins of the reporter');
    const first = await rows.first().innerText();
    assert.ok(first.includes(demoUser('reporter').name) && first.includes('Signed in'), first);
    // The table fits its box: no horizontal scrolling inside it at desktop width.
    const region = auditor.locator('main [role="region"][aria-label="Audit events"]');
    const [scroll, client] = await region.evaluate((el) => [el.scrollWidth, el.clientWidth]);
    assert.ok(scroll <= client + 1, `the audit table is ${scroll} px in a ${client} px box`);
    await rows.first().locator('summary').click();
    assert.ok((await rows.first().innerText()).includes('auth.sign_in'));
    await checkBoth(auditor, '15-audit-search');
  });

  test('a case reference that does not exist, and a wrong date, are named', async () => {
    await visit(auditor, '/audit?case=CD-2020-999999', 422);
    await expectErrorSummary(auditor, 'case');
    await visit(auditor, '/audit?from-day=31&from-month=2&from-year=2026', 422);
    await expectErrorSummary(auditor, 'from-day');
    await checkBoth(auditor, '15-audit-error');
  });
});

test('an analyst reads England by region and by area, suppressed, with the table where no chart can show', async () => {
  const analyst = await newPage(browser);
  await signIn(analyst, demoUser('analyst'));
  await visit(analyst, '/statistics');
  const text = await mainText(analyst);
  assert.ok(text.includes('Reports by NHS England region'));
  assert.ok(text.includes('Reports by local intelligence network area'));
  const region = analyst.locator('#region-caption');
  assert.equal(await region.count(), 1, 'the region table');
  await checkBoth(analyst, '15-analyst-statistics');
  await analyst.context().close();
});
