// 10. Reporting (issue 3): a pharmacist reports 28 missing morphine tablets from start to finish
// (an error and its correction, "Check your answers", the reference, "Your reports", a correction
// and evidence on the report page); a concern about a colleague diverting oxycodone, with the
// NHS number typed into the description moved into the protected details; the CD lead files a
// nil return; and the incident form without JavaScript. axe runs on every page, error and
// warning states included.
import { after, before, describe, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
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

/** An element by its id, which here may hold brackets and dots (`drugs[0].quantity`). */
const byId = (page, id) => page.locator(`[id="${id}"]`);

/** Yesterday in the UK, as the parts of a date input. */
function yesterday() {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London',
    day: 'numeric',
    month: 'numeric',
    year: 'numeric',
  }).formatToParts(new Date(Date.now() - 24 * 3600 * 1000));
  const get = (t) => parts.find((p) => p.type === t).value;
  return { day: get('day'), month: get('month'), year: get('year') };
}

async function fillDate(page, name, { day, month, year }) {
  await byId(page, `${name}-day`).fill(day);
  await byId(page, `${name}-month`).fill(month);
  await byId(page, `${name}-year`).fill(year);
}

function clickButton(page, name) {
  return navigates(page, () => page.locator('main').getByRole('button', { name, exact: true }).click());
}

/** A short description of the focused element: its id, or its tag. */
function focusedId(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    return el && el !== document.body ? el.id || el.tagName.toLowerCase() : 'body';
  });
}

const REFERENCE = /CD-\d{4}-\d{6}/;

describe('a reporter files an incident from start to finish', () => {
  let page;
  let reference;
  let reportPath;
  before(async () => {
    page = await newPage(browser);
    await signIn(page, demoUser('reporter'));
  });
  after(async () => {
    await page?.context().close();
  });

  test('choose what to report (with its error)', async () => {
    const r = await navigates(page, () =>
      page.locator('header nav').getByRole('link', { name: 'Report a concern', exact: true }).click(),
    );
    assert.equal(r.status(), 200);
    assert.equal(pathOf(page), '/reports/new');
    await checkPage(page, '10-new');
    const bad = await clickButton(page, 'Continue');
    assert.equal(bad.status(), 422);
    await expectErrorSummary(page, 'kind');
    await checkPage(page, '10-new-error');
    await page.getByLabel('An incident involving controlled drugs').check();
    await clickButton(page, 'Continue');
    assert.equal(pathOf(page), '/reports/new/incident');
    assert.equal((await page.locator('h1').innerText()).trim(), 'What happened');
    await checkPage(page, '10-incident-what');
  });

  test('the date inputs are reached with Tab, day, month and year in a row', async () => {
    await page.locator('h1').click();
    const seen = [];
    for (let i = 0; i < 40; i += 1) {
      await page.keyboard.press('Tab');
      const id = await focusedId(page);
      seen.push(id);
      if (id === 'location') break;
    }
    for (const id of ['occurred_on-day', 'occurred_on-month', 'occurred_on-year', 'discovered_on-day', 'location']) {
      assert.ok(seen.includes(id), `Tab never reached #${id}: ${seen.join(' → ')}`);
    }
    assert.ok(
      seen.indexOf('occurred_on-month') === seen.indexOf('occurred_on-day') + 1 &&
        seen.indexOf('occurred_on-year') === seen.indexOf('occurred_on-month') + 1,
      `day, month and year are not consecutive: ${seen.join(' → ')}`,
    );
  });

  test('step by step: what happened, the drugs (picked by typing), an answer missing, the police', async () => {
    await fillDate(page, 'occurred_on', yesterday());
    await byId(page, 'location').fill('Dispensary CD cabinet');
    await page.getByLabel('Lost or missing CDs', { exact: true }).check();
    await page.getByLabel('Stock or running-balance discrepancy', { exact: true }).check();
    await byId(page, 'description').fill(
      'At the weekly check the running balance of morphine sulfate 10 mg tablets was 28 short. The register entries for the last fortnight look correct.',
    );
    await byId(page, 'actions_taken').fill('Balance rechecked by two pharmacists; superintendent informed.');
    // Enter in a field continues.
    await navigates(page, () => byId(page, 'location').press('Enter'));
    assert.equal((await page.locator('h1').innerText()).trim(), 'Which controlled drugs were involved?');
    assert.equal(await byId(page, 'drugs[1].drug_id').count(), 0, 'one drug to begin with');
    assert.equal(await byId(page, 'drugs[0].name').isVisible(), false, 'the unlisted drug questions wait for "Not in the list"');
    // The drug picker filters as you type; the arrow key and Enter pick a drug.
    await byId(page, 'drugs[0].drug_id').fill('morphine sul');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    assert.equal(await byId(page, 'drugs[0].drug_id').inputValue(), 'Morphine sulfate');
    assert.notEqual(await byId(page, 'drugs[0].drug_id-select').inputValue(), '');
    await byId(page, 'drugs[0].formulation').fill('tablets');
    await byId(page, 'drugs[0].strength').fill('10 mg');
    await byId(page, 'drugs[0].quantity').fill('28');
    await byId(page, 'drugs[0].unit').fill('tablets');
    await checkPage(page, '10-incident-drugs');
    await clickButton(page, 'Continue');
    assert.equal((await page.locator('h1').innerText()).trim(), 'Harm and the people involved');
    await byId(page, 'near_miss-2').check();
    await byId(page, 'patient_involved-2').check();
    // No harm level chosen: the error summary, and what was chosen is kept.
    const r = await clickButton(page, 'Continue');
    assert.equal(r.status(), 422);
    await expectErrorSummary(page, 'harm');
    const links = await page.locator('.nhsuk-error-summary a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(links, ['#harm'], `only the harm is missing: ${links}`);
    assert.ok(await byId(page, 'near_miss-2').isChecked());
    await checkPage(page, '10-incident-error');
    await page.locator('.nhsuk-error-summary a[href="#harm"]').click();
    assert.equal(await focusedId(page), 'harm');
    await page.getByLabel('No harm', { exact: true }).check();
    await clickButton(page, 'Continue');
    assert.equal((await page.locator('h1').innerText()).trim(), 'Have the police been told?');
    // The crime reference shows only after "Yes".
    assert.equal(await byId(page, 'police_reference').isVisible(), false);
    await byId(page, 'police_informed').check();
    assert.equal(await byId(page, 'police_reference').isVisible(), true);
    await checkPage(page, '10-incident-police');
    await byId(page, 'police_informed-2').check();
    await clickButton(page, 'Continue');
  });

  test('"Check your answers", a change, and the report sent with its reference', async () => {
    assert.equal((await page.locator('h1').innerText()).trim(), 'Check your answers before sending your report');
    const main = await page.locator('main').innerText();
    for (const shown of ['Morphine sulfate', 'Schedule 2', 'Quantity: 28 tablets', 'No harm', 'Lost or missing CDs', 'Dispensary CD cabinet']) {
      assert.ok(main.includes(shown), `the check page shows "${shown}"`);
    }
    await checkPage(page, '10-incident-check');

    // Change where it happened: back to its step with everything, then straight back here.
    await clickButton(page, 'Change where it happened');
    assert.equal(pathOf(page), '/reports/new/incident');
    assert.equal(await byId(page, 'location').inputValue(), 'Dispensary CD cabinet');
    await byId(page, 'location').fill('Dispensary CD cabinet, Northbrook');
    await checkPage(page, '10-incident-change');
    await clickButton(page, 'Continue');
    const again = await page.locator('main').innerText();
    assert.ok(again.includes('Check your answers'), again.slice(0, 200));
    assert.ok(again.includes('Dispensary CD cabinet, Northbrook'));
    assert.ok(again.includes('Morphine sulfate'), 'the other answers are kept');

    const r = await clickButton(page, 'Send report');
    assert.equal(r.status(), 200);
    assert.match(pathOf(page), /^\/reports\/[0-9a-f-]{36}$/);
    reportPath = pathOf(page);
    const panel = await page.locator('.nhsuk-panel').innerText();
    assert.ok(panel.includes('Report sent'), panel);
    [reference] = panel.match(REFERENCE) ?? [];
    assert.ok(reference, `no CD-YYYY-NNNNNN reference in the panel: ${panel}`);
    await checkPage(page, '10-incident-sent');
  });

  test('the report is in "Your reports"', async () => {
    await navigates(page, () =>
      page.locator('header nav').getByRole('link', { name: /^Your reports\b/ }).click(),
    );
    await checkPage(page, '10-your-reports');
    const link = page.locator('table').getByRole('link', { name: reference, exact: true });
    assert.equal(await link.count(), 1, `${reference} is listed`);
    const row = await link.locator('xpath=ancestor::tr').innerText();
    assert.ok(row.includes('Incident') && row.includes('New'), row);
  });

  test('a correction and evidence on the report page (with their errors)', async () => {
    await visit(page, reportPath);
    assert.equal(await page.locator('.nhsuk-panel').count(), 0);
    await checkPage(page, '10-report');
    const bad = await clickButton(page, 'Add to the report');
    assert.equal(bad.status(), 422);
    await expectErrorSummary(page, 'text');
    await checkPage(page, '10-report-amend-error');
    await byId(page, 'text').fill('The count was confirmed the next morning: 28 tablets.');
    await clickButton(page, 'Add to the report');
    assert.ok((await page.locator('main').innerText()).includes('The count was confirmed the next morning'));

    const noFile = await clickButton(page, 'Add evidence');
    assert.equal(noFile.status(), 422);
    await expectErrorSummary(page, 'file');
    await checkPage(page, '10-report-evidence-error');
    // A file over 10 MB: the page again with the error on the field, not an error page.
    const big = join(tmpdir(), `scan-${Date.now()}.pdf`);
    writeFileSync(big, Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(11 * 1024 * 1024, 0x20)]));
    await byId(page, 'file').setInputFiles(big);
    const tooBig = await clickButton(page, 'Add evidence');
    assert.equal(tooBig.status(), 413);
    await expectErrorSummary(page, 'file');
    assert.ok((await page.locator('.nhsuk-error-summary').innerText()).includes('smaller than 10 MB'));
    await checkPage(page, '10-report-evidence-too-large');
    const file = join(tmpdir(), `register-${Date.now()}.txt`);
    writeFileSync(file, 'CD register, morphine sulfate 10 mg tablets: balance 112, counted 84.\n');
    await byId(page, 'file').setInputFiles(file);
    await clickButton(page, 'Add evidence');
    const main = await page.locator('main').innerText();
    assert.ok(main.includes('has been added to the report'), main);
    assert.equal(await page.locator('a[href*="/attachments/"]').count(), 1);
    await checkPage(page, '10-report-with-evidence');
  });

  test('the CDAO team asks for more information and the reporter answers on the report page', async () => {
    // The area's CDAO asks through the API, from their own signed-in session.
    const cdao = await newPage(browser);
    await signIn(cdao, demoUser('cdao'));
    const caseId = reportPath.split('/').pop();
    const asked = await cdao.request.post(`/api/v1/cases/${caseId}/messages`, {
      data: { body: 'Which shift found the shortfall, and was the CD key with the pharmacist?', request_information: true },
    });
    assert.equal(asked.status(), 201, await asked.text());
    await cdao.context().close();

    await visit(page, '/reports');
    const row = await page.locator('table').getByRole('link', { name: reference, exact: true }).locator('xpath=ancestor::tr').innerText();
    assert.ok(row.includes('Information requested'), row);
    await checkPage(page, '10-your-reports-information-requested');
    await visit(page, reportPath);
    const main = await page.locator('main').innerText();
    assert.ok(main.includes('The CDAO team needs more information'), main.slice(0, 500));
    assert.ok(main.includes('Which shift found the shortfall'));
    await checkPage(page, '10-report-information-requested');
    const bad = await clickButton(page, 'Send your answer');
    assert.equal(bad.status(), 422);
    await expectErrorSummary(page, 'body');
    await checkPage(page, '10-report-answer-error');
    await byId(page, 'body').fill('The night shift found it at the 06:00 count; the key was with the pharmacist throughout.');
    await clickButton(page, 'Send your answer');
    const after = await page.locator('main').innerText();
    assert.ok(after.includes('Your message has been sent to the CDAO team.'), after.slice(0, 500));
    assert.ok(after.includes('In review'));
    await checkPage(page, '10-report-answered');
  });
});

test('a reporter reports a concern about a colleague; the NHS number moves to the protected details', async () => {
  const page = await newPage(browser);
  await signIn(page, demoUser('reporter'));
  await visit(page, '/reports/new/person-concern');
  await checkPage(page, '10-person-form');

  const bad = await clickButton(page, 'Continue');
  assert.equal(bad.status(), 422);
  await expectErrorSummary(page, 'subject_type');
  await expectErrorSummary(page, 'person.full_name');
  await checkPage(page, '10-person-error');

  await page.getByLabel('Registered professional', { exact: true }).check();
  await byId(page, 'person.full_name').fill('Alex Example');
  await byId(page, 'person.job_role').fill('Pharmacist');
  await page.getByLabel('Diversion or theft', { exact: true }).check();
  await page.getByLabel('A colleague told me', { exact: true }).check();
  assert.ok(await byId(page, 'status').isChecked(), '"Alleged" is chosen to begin with');
  await byId(page, 'description').fill(
    'A colleague saw him take oxycodone 20 mg tablets home twice this month. His NHS number is 943 476 5919 and his GMC 1234567.',
  );
  const warned = await clickButton(page, 'Continue');
  assert.equal(warned.status(), 200);
  const warning = await page.locator('#identity-warning').innerText();
  assert.ok(warning.includes('an NHS number (943 476 5919)'), warning);
  await checkPage(page, '10-person-warning');

  await clickButton(page, 'Move them to the protected details');
  assert.equal(await byId(page, 'person.nhs_number').inputValue(), '943 476 5919');
  assert.equal(await byId(page, 'person.registrations[0].number').inputValue(), '1234567');
  assert.equal(await byId(page, 'person.registrations[0].register').inputValue(), 'gmc');
  const description = await byId(page, 'description').inputValue();
  assert.ok(!description.includes('943 476 5919'), description);
  assert.equal(await page.locator('#identity-warning').count(), 0);
  await checkPage(page, '10-person-moved');

  await clickButton(page, 'Continue');
  const check = await page.locator('main').innerText();
  assert.ok(check.includes('Check your answers'), check.slice(0, 200));
  assert.ok(check.includes('943 476 5919') && check.includes('GMC 1234567'));
  await checkPage(page, '10-person-check');

  await clickButton(page, 'Send report');
  const panel = await page.locator('.nhsuk-panel').innerText();
  assert.match(panel, REFERENCE);
  assert.ok((await page.locator('main').innerText()).includes('Protected details'));
  await checkPage(page, '10-person-sent');
  await page.context().close();
});

test('the CD lead files a nil return', async () => {
  const page = await newPage(browser);
  await signIn(page, demoUser('org_lead'));
  await navigates(page, () =>
    page.locator('header nav').getByRole('link', { name: 'Occurrence returns', exact: true }).click(),
  );
  await checkPage(page, '10-returns');
  // The last full quarter: the second row.
  const link = page.locator('table tbody tr').nth(1).locator('a');
  const quarter = (await page.locator('table tbody tr').nth(1).locator('td').first().innerText()).trim();
  await navigates(page, () => link.click());
  assert.match(pathOf(page), /^\/returns\/\d{4}\/[1-4]$/);
  await checkPage(page, '10-return-form');

  const bad = await clickButton(page, 'File the return');
  assert.equal(bad.status(), 422);
  await expectErrorSummary(page, 'nil_return');
  await expectErrorSummary(page, 'declaration');
  await checkPage(page, '10-return-error');

  await page.getByLabel('No, there were none: make a nil return', { exact: true }).check();
  await byId(page, 'declaration').check();
  await clickButton(page, 'File the return');
  assert.equal(pathOf(page), '/returns');
  const main = await page.locator('main').innerText();
  assert.ok(main.includes(`Your return for ${quarter} has been filed.`), main);
  const row = await page.locator('table tbody tr').nth(1).innerText();
  assert.ok(row.includes('Nil return'), row);
  await checkPage(page, '10-returns-filed');
  await page.context().close();
});

test('without JavaScript: the incident form in steps adds a drug, shows its errors and reaches the check page', async () => {
  const page = await newPage(browser, { javaScriptEnabled: false, bypassCSP: false });
  await signIn(page, demoUser('reporter'));
  await visit(page, '/reports/new/incident');
  const bad = await clickButton(page, 'Continue');
  assert.equal(bad.status(), 422);
  await expectErrorSummary(page, 'occurred_on-day');
  await fillDate(page, 'occurred_on', yesterday());
  await byId(page, 'location').fill('Ward 4 CD cupboard');
  await page.getByLabel('Theft or diversion (of CDs, CD keys or registers)', { exact: true }).check();
  await byId(page, 'description').fill('Two boxes of oxycodone missing after a night shift.');
  await clickButton(page, 'Continue');
  // The drugs: a plain select, the "Not in the list" questions shown and said to be for it.
  assert.equal(await byId(page, 'drugs[0].name').isVisible(), true);
  await clickButton(page, 'Add another drug');
  assert.equal(await byId(page, 'drugs[1].drug_id').count(), 1, 'a second drug row');
  assert.equal(await page.locator('.nhsuk-error-summary').count(), 0, 'adding a drug shows no errors');
  await byId(page, 'drugs[1].drug_id').selectOption({ label: 'Oxycodone hydrochloride' });
  await byId(page, 'drugs[1].quantity').fill('56');
  await byId(page, 'drugs[1].unit').fill('tablets');
  // The opioid dose is folded away (a native details element: no JavaScript needed).
  await page.getByText('Opioids: the daily dose or patch strength (optional)').nth(1).click();
  await byId(page, 'drugs[1].daily_dose_mg').fill('100');
  await clickButton(page, 'Continue');
  await page.getByLabel('No harm', { exact: true }).check();
  await byId(page, 'near_miss-2').check();
  await byId(page, 'patient_involved-2').check();
  await clickButton(page, 'Continue');
  // The police: the crime reference is on the page without JavaScript.
  assert.equal(await byId(page, 'police_reference').isVisible(), true);
  await byId(page, 'police_informed').check();
  await byId(page, 'police_reference').fill('CRI/123/26');
  // Back a step keeps every answer.
  await clickButton(page, 'Back');
  assert.ok(await page.getByLabel('No harm', { exact: true }).isChecked());
  await clickButton(page, 'Continue');
  assert.equal(await byId(page, 'police_reference').inputValue(), 'CRI/123/26', 'nothing lost going back');
  assert.ok(await byId(page, 'police_informed').isChecked());
  await clickButton(page, 'Continue');
  const main = await page.locator('main').innerText();
  assert.ok(main.includes('Check your answers'), main.slice(0, 300));
  assert.ok(main.includes('Oral morphine equivalent: 150 mg a day'), 'the OME');
  assert.ok(main.includes('High dose'), 'the high-dose flag');
  assert.ok(main.includes('Crime reference: CRI/123/26'));
  await page.context().close();
});
