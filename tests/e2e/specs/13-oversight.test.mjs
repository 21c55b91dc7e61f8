// 13. Oversight the regulators ask for (issue 12): a reporter gives the online prescribing
// details of an incident (revealed by its category with JavaScript, always shown without);
// the CDAO sees them on the case page, reads the opioid outcome chart of the demo's year of
// months with its improvement initiative, records another, follows the dashboard's prescriber
// reported at many addresses to the prescriber view and looks one up; a national analyst reads
// the online prescribing, CBPM, CDLO and opioid pages, suppressed. axe runs on every page.
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

/** Yesterday in the UK as the date input's day, month and year. */
function yesterdayParts() {
  const [y, m, d] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' })
    .format(new Date(Date.now() - 24 * 3600 * 1000))
    .split('-');
  return { d: String(Number(d)), m: String(Number(m)), y };
}

describe('the online prescribing questions of an incident, and the case page', () => {
  let reporter;
  let cdao;
  let reference;
  let caseId;

  before(async () => {
    reporter = await newPage(browser);
    await signIn(reporter, demoUser('hospital.reporter'));
    cdao = await newPage(browser);
    await signIn(cdao, demoUser('cdao'));
  });
  after(async () => {
    await reporter?.context().close();
    await cdao?.context().close();
  });

  test('ticking the category reveals its questions; the check page and the report keep them', async () => {
    await visit(reporter, '/reports/new/incident');
    const block = reporter.locator('#conditional-online-supply');
    assert.equal(await block.isVisible(), false, 'hidden until the category is ticked');
    await reporter.locator('input[name="categories"][value="overseas_online_prescribing"]').check();
    assert.equal(await block.isVisible(), true, 'revealed by its category');
    await checkPage(reporter, '13-incident-online-questions');
    const { d, m, y } = yesterdayParts();
    await reporter.fill('#occurred_on-day', d);
    await reporter.fill('#occurred_on-month', m);
    await reporter.fill('#occurred_on-year', y);
    await reporter.fill('#location', 'Emergency department');
    await reporter.fill('#online_supply\\.service_name', 'MedsDirect24');
    await reporter.fill('#online_supply\\.web_address', 'localhost');
    await reporter.selectOption('#online_supply\\.prescriber_country', 'IN');
    await reporter.fill('#online_supply\\.prescriber_registration', 'National Medical Commission 881122');
    await reporter.locator('input[name="online_supply.found_via"][value="social_media"]').check();
    await reporter.locator('input[name="online_supply.supplied_by"][value="post"]').check();
    await reporter.fill('#description', 'A patient took tramadol bought from a website abroad and was drowsy on arrival.');
    const bad = await clickButton(reporter, 'Continue');
    assert.equal(bad.status(), 422);
    await expectErrorSummary(reporter, 'online_supply.web_address');
    assert.equal(await block.isVisible(), true, 'the questions stay open with their error');
    await checkPage(reporter, '13-incident-online-error');
    await reporter.fill('#online_supply\\.web_address', 'https://www.meds-direct24.com/tramadol?ref=ad');
    assert.equal((await clickButton(reporter, 'Continue')).status(), 200);
    // The drugs step: the picker filters as you type.
    await reporter.fill('[id="drugs[0].drug_id"]', 'Tramadol');
    await reporter.keyboard.press('ArrowDown');
    await reporter.keyboard.press('Enter');
    await clickButton(reporter, 'Continue');
    await reporter.locator('input[name="harm"][value="low"]').check();
    await reporter.locator('input[name="near_miss"][value="no"]').check();
    await reporter.locator('input[name="patient_involved"][value="yes"]').check();
    await clickButton(reporter, 'Continue');
    await reporter.locator('input[name="police_informed"][value="no"]').check();
    const check = await clickButton(reporter, 'Continue');
    assert.equal(check.status(), 200);
    const text = await mainText(reporter);
    for (const words of ['Online prescribing from outside the UK', 'meds-direct24.com', 'India (IN)', 'National Medical Commission 881122', 'Social media', 'By post', 'Tramadol hydrochloride']) {
      assert.ok(text.includes(words), `"${words}" on the check page`);
    }
    await checkPage(reporter, '13-incident-online-check');
    const sent = await clickButton(reporter, 'Send report');
    assert.equal(sent.status(), 200);
    caseId = pathOf(reporter).split('/').pop();
    reference = (await reporter.locator('.app-reference').first().innerText()).trim();
    assert.match(reference, /^CD-\d{4}-\d{6}$/);
  });

  test('the CDAO sees the online supply on the case page', async () => {
    await visit(cdao, `/cases/${caseId}`);
    const text = await mainText(cdao);
    for (const words of ['Online service', 'MedsDirect24', 'meds-direct24.com', 'India (IN)', 'National Medical Commission 881122']) {
      assert.ok(text.includes(words), `"${words}" on the case page`);
    }
    await checkPage(cdao, '13-case-online');
  });
});

describe('the lead CDAO team: opioid outcomes and prescribers', () => {
  let cdao;

  before(async () => {
    cdao = await newPage(browser);
    await signIn(cdao, demoUser('cdao'));
  });
  after(async () => {
    await cdao?.context().close();
  });

  test('the opioid outcome chart shows the year of months and what followed the initiative', async () => {
    await visit(cdao, '/statistics');
    const r = await navigates(cdao, () => cdao.locator('main').getByRole('link', { name: /Opioid outcomes over time/ }).click());
    assert.equal(r.status(), 200);
    assert.equal(pathOf(cdao), '/statistics/opioids');
    const text = await mainText(cdao);
    assert.ok(text.includes('High-dose opioid review at hospital discharge'), text);
    assert.ok(text.includes('A signal followed'), text);
    assert.equal(await cdao.locator('main svg[role="img"] title').count(), 1);
    const rows = await cdao.locator('table:has(#spc-caption) tbody tr').count();
    assert.ok(rows >= 12, `${rows} months charted`);
    await checkPage(cdao, '13-opioids');
    await cdao.selectOption('#measure', 'opioid_harm');
    const again = await clickButton(cdao, 'Show chart');
    assert.equal(again.status(), 200);
    assert.ok((await mainText(cdao)).includes('Opioid incidents with moderate harm or worse'));
    await checkPage(cdao, '13-opioids-harm');
  });

  test('recording an initiative names what is missing, then shows it on the chart', async () => {
    await visit(cdao, '/statistics/opioids?measure=all_incidents');
    const bad = await clickButton(cdao, 'Record initiative');
    assert.equal(bad.status(), 422);
    await expectErrorSummary(cdao, 'initiative-name');
    await checkPage(cdao, '13-initiative-error');
    await cdao.fill('#initiative-name', 'Reporting week in care homes');
    await cdao.selectOption('#initiative-measure', 'all_incidents');
    await cdao.fill('#initiative-start_month', new Date().toISOString().slice(0, 7));
    await cdao.fill('#initiative-change', 'Care homes are reminded how to report controlled drug incidents.');
    const ok = await clickButton(cdao, 'Record initiative');
    assert.equal(ok.status(), 200);
    const text = await mainText(cdao);
    assert.ok(text.includes('Initiative recorded'), text);
    assert.ok(text.includes('Reporting week in care homes'), text);
  });

  test('the dashboard points at a prescriber reported at many addresses; the prescriber view', async () => {
    await visit(cdao, '/');
    const main = await mainText(cdao);
    assert.ok(main.includes('Prescribers reported at many addresses'), main);
    const r = await navigates(cdao, () => cdao.locator('main').getByRole('link', { name: /A prescriber code reported at/ }).click());
    assert.equal(r.status(), 200);
    assert.match(pathOf(cdao), /^\/prescribers\/prescriber_code\/[0-9a-f]{64}$/);
    const text = await mainText(cdao);
    for (const words of ['611203', 'Reported at many addresses', 'Pennine Hospice, Oldham', 'A possible match is held by the London CDAO team']) {
      assert.ok(text.includes(words), `"${words}" on the prescriber view`);
    }
    assert.ok(!text.includes('Thames Walk-in Centre'), 'London holds its own report');
    await checkPage(cdao, '13-prescriber');
  });

  test('looking a prescriber up: errors named, then the same view', async () => {
    await visit(cdao, '/prescribers');
    await checkPage(cdao, '13-prescriber-search');
    const bad = await clickButton(cdao, 'Look up');
    assert.equal(bad.status(), 422);
    await expectErrorSummary(cdao, 'identifier');
    await checkPage(cdao, '13-prescriber-search-error');
    await cdao.fill('#identifier', '611 203');
    const ok = await clickButton(cdao, 'Look up');
    assert.equal(ok.status(), 200);
    const found = await mainText(cdao);
    assert.ok(found.includes('2 reports from 2 organisations in your areas, giving 3 different work addresses'), found);
  });
});

describe('a national analyst reads the oversight pages, suppressed', () => {
  let analyst;

  before(async () => {
    analyst = await newPage(browser);
    await signIn(analyst, demoUser('analyst'));
  });
  after(async () => {
    await analyst?.context().close();
  });

  for (const [path, heading, words, name] of [
    ['/statistics/online-prescribing', 'Online prescribing from outside the UK', 'meds-direct24.com', '13-analyst-online'],
    ['/statistics/cbpm', 'Cannabis-based products for medicinal use (CBPM)', 'Prescribing outside guidance', '13-analyst-cbpm'],
    ['/statistics/cdlo', 'Police controlled drugs liaison officer (CDLO) cover', 'No active police user', '13-analyst-cdlo'],
    ['/statistics/opioids?measure=ost_serious_harm', 'Opioid outcomes over time', 'fewer than 5', '13-analyst-opioids'],
  ]) {
    test(`${path}: a chart, its table and national figures`, async () => {
      await visit(analyst, path);
      assert.equal((await analyst.locator('h1').innerText()).trim(), heading);
      const text = await mainText(analyst);
      assert.ok(text.includes(words), `"${words}" on ${path}`);
      assert.ok(text.includes('whole calendar months'), 'the analyst is told about months');
      assert.ok((await analyst.locator('svg[role="img"]').count()) >= 1, 'a chart');
      await checkPage(analyst, name);
    });
  }

  test('an analyst date is widened to its month, and a wrong one is named', async () => {
    await visit(analyst, '/statistics/cbpm?from=2026-01-15&to=2026-03-03');
    assert.ok((await mainText(analyst)).includes('1 January 2026 to 31 March 2026'));
    await visit(analyst, '/statistics/online-prescribing?from=someday', 422);
    await expectErrorSummary(analyst, 'from');
    await checkPage(analyst, '13-analyst-error');
  });
});

test('without JavaScript the online prescribing questions are always on the form', async () => {
  const page = await newPage(browser, { javaScriptEnabled: false, bypassCSP: false });
  await signIn(page, demoUser('hospital.reporter'));
  await visit(page, '/reports/new/incident');
  assert.equal(await page.locator('#conditional-online-supply').isVisible(), true);
  assert.equal(await page.locator('#conditional-cbpm').isVisible(), true);
  const text = await mainText(page);
  assert.ok(text.includes('Answer these only if you selected "Online prescribing from outside the UK"'));
  await page.context().close();
});
