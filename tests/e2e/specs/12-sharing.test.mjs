// 12. Sharing: the Greater Manchester CDAO shares a person-of-concern case, identified,
// with Greater Manchester Police; a second CDAO of the area approves it; the police member reads
// the alert (the person's name, the summary, never the reporter), acknowledges it and responds;
// the CDAO sees the acknowledgement and the response on the case. axe runs on the share form
// (and in error), the preview, the case's shares, the pending shares, the member's inbox and
// alert (and in error), the CDAO dashboard and the late alerts.
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import {
  ARTIFACTS,
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

/** The main element's text, with the line breaks of the page (CRLF as LF). */
async function mainText(page) {
  return (await page.locator('main').innerText()).replace(/\r\n/g, '\n');
}

/** Every link of the error summary points at an element of the page. */
async function expectSummaryTargets(page) {
  const missing = await page
    .locator('.nhsuk-error-summary a')
    .evaluateAll((as) =>
      as.map((a) => a.getAttribute('href')).filter((h) => !document.getElementById(h.slice(1))),
    );
  assert.deepEqual(missing, [], `error summary links to nothing on ${page.url()}`);
}

/** The case page's card for the share with Greater Manchester Police. */
function shareCard(page) {
  return page.locator('main .nhsuk-card').filter({
    has: page.locator('h3', { hasText: 'Shared with Greater Manchester Police' }),
  });
}

describe('a CDAO shares an identified case, a second CDAO approves, the member responds', () => {
  const marker = `e2e-${Date.now().toString(36)}`;
  // Two paragraphs: the pages keep the line break the CDAO wrote.
  const summaryText = `The locum GP named below is reported for prescribing oxycodone to relatives.\nPlease check your intelligence systems for him (${marker}).`;
  const purpose = 'To consider a criminal investigation';
  const responseText = `We have opened an investigation, reference GMP/INV/2291 (${marker}).`;
  // The sample concern from the pharmacy: its reporter and organisation must never reach the member.
  const reporterName = 'Priya Shah';
  const reporterOrganisation = 'Northbrook Community Pharmacy';
  const reporterWords = 'has written oxycodone prescriptions for two relatives';
  let cdao;
  let cdao2;
  let member;
  let caseId;
  let reference;
  let alertPath;

  before(async () => {
    cdao = await newPage(browser);
    await signIn(cdao, demoUser('cdao'));
  });
  after(async () => {
    await cdao?.context().close();
    await cdao2?.context().close();
    await member?.context().close();
  });

  test('the CDAO opens the share form of a person-of-concern case', async () => {
    await visit(cdao, '/cases?kind=person_concern');
    const row = cdao.locator('#case-list tbody tr').filter({ hasText: reporterOrganisation });
    assert.equal(await row.count(), 1, `one concern from ${reporterOrganisation}`);
    const link = row.locator('th a');
    reference = (await link.innerText()).trim();
    await navigates(cdao, () => link.click());
    caseId = pathOf(cdao).split('/').pop();
    assert.equal(pathOf(cdao), `/cases/${caseId}`);
    const main = await mainText(cdao);
    assert.ok(main.includes('Dr Martin Keel'));
    assert.ok(main.includes('Shared with members of the local intelligence network'), 'a shares section');
    assert.ok(main.includes('This case has not been shared.'));

    const r = await navigates(cdao, () =>
      cdao.locator('main').getByRole('link', { name: 'Share with members', exact: true }).first().click(),
    );
    assert.equal(r.status(), 200);
    assert.equal(pathOf(cdao), `/cases/${caseId}/share`);
    assert.equal((await cdao.locator('h1').innerText()).trim(), 'Share with members of the local intelligence network');
    assert.ok((await mainText(cdao)).includes(reference), 'the form names the case');
    assert.equal(await cdao.getByLabel('Greater Manchester Police', { exact: true }).count(), 1, 'the police are a member of the area');
    await checkPage(cdao, '12-share-form');
  });

  test('an empty share comes back with an error summary', async () => {
    const r = await clickButton(cdao, 'Preview what they will see');
    assert.equal(r.status(), 422);
    assert.ok((await cdao.title()).startsWith('Error: '), await cdao.title());
    for (const field of ['organisation_ids', 'lawful_basis', 'purpose', 'summary', 'action_required']) {
      await expectErrorSummary(cdao, field);
    }
    await expectSummaryTargets(cdao);
    await checkPage(cdao, '12-share-form-error');
  });

  test('the preview shows the person and says a second CDAO must approve', async () => {
    await cdao.getByLabel('Greater Manchester Police', { exact: true }).check();
    await cdao.locator('input[name="disclosure"][value="identified"]').check();
    await cdao.locator('input[name="include_patient_data"][value="no"]').check();
    await cdao.locator('input[name="lawful_basis"][value="preventing_detecting_unlawful_acts"]').check();
    await cdao.fill('#purpose', purpose);
    await cdao.fill('#summary', summaryText);
    await cdao.locator('input[name="action_required"][value="for_action"]').check();
    const r = await clickButton(cdao, 'Preview what they will see');
    assert.equal(r.status(), 200);
    assert.equal((await cdao.locator('h1').innerText()).trim(), 'Check what the members will see');
    const main = await mainText(cdao);
    assert.ok(main.includes('Greater Manchester Police'), 'names the recipients');
    assert.ok(main.includes('Dr Martin Keel'), 'an identified share shows the person');
    assert.ok(main.includes(summaryText), 'shows the summary');
    assert.ok(main.includes(purpose));
    assert.ok(main.includes('For action'));
    assert.ok(main.includes('wait for a second CDAO'), 'says a second CDAO must approve');
    assert.match(main, /Received\s+When a second CDAO approves the share/, 'says when the members receive it');
    for (const hidden of [reporterName, reporterOrganisation, reporterWords]) {
      assert.ok(!main.includes(hidden), `the preview must not show "${hidden}"`);
    }
    await checkPage(cdao, '12-share-preview');
  });

  test('shared: the case shows it waiting for a second CDAO', async () => {
    const r = await clickButton(cdao, 'Share');
    assert.equal(r.status(), 200);
    assert.equal(pathOf(cdao), `/cases/${caseId}`);
    const main = await mainText(cdao);
    assert.ok(main.includes('The share is waiting for a second CDAO'), main.slice(0, 400));
    const card = shareCard(cdao);
    assert.equal(await card.count(), 1, 'one share with Greater Manchester Police');
    const text = (await card.innerText()).replace(/\r\n/g, '\n');
    assert.ok(text.includes('Waiting for a second CDAO'), text);
    assert.ok(text.includes('Identified'), text);
    assert.ok(text.includes(summaryText), text);
    assert.ok(text.includes('Not yet sent'), `the police are not told yet: ${text}`);
    assert.equal(
      await card.getByRole('button', { name: 'Approve this share' }).count(),
      0,
      'the CDAO who shared cannot approve',
    );
    assert.equal(await card.getByRole('button', { name: 'Revoke this share' }).count(), 1);
    await checkPage(cdao, '12-case-share-pending');
    await card.screenshot({ path: join(ARTIFACTS, '12-case-share-pending-card.png') });
  });

  test('a second CDAO of the area approves it (second browser context)', async () => {
    cdao2 = await newPage(browser);
    await signIn(cdao2, demoUser('cdao2'));
    await visit(cdao2, '/shares/pending');
    assert.equal((await cdao2.locator('h1').innerText()).trim(), 'Shares waiting for approval');
    const row = cdao2.locator('main tbody tr').filter({ hasText: reference });
    assert.equal(await row.count(), 1, `the share of ${reference} waits for approval`);
    const text = await row.innerText();
    assert.ok(text.includes('Helen Marsh'), text);
    assert.ok(text.includes('Identified'), text);
    await checkPage(cdao2, '12-shares-pending');
    // The approver checks the facts first (issue 11), then approves.
    await navigates(cdao2, () => row.getByRole('link', { name: /^Check and approve/ }).click());
    await checkPage(cdao2, '12-share-approval');
    const r = await navigates(cdao2, () =>
      cdao2.locator('main').getByRole('button', { name: 'Approve and send', exact: true }).click(),
    );
    assert.equal(r.status(), 200);
    assert.equal(pathOf(cdao2), `/cases/${caseId}`);
    assert.ok((await mainText(cdao2)).includes('Approved. The members have been told'));
    const card = shareCard(cdao2);
    const cardText = await card.innerText();
    assert.ok(cardText.includes('Live'), cardText);
    assert.ok(cardText.includes('Not yet read'), cardText);
    assert.equal(await card.getByRole('button', { name: 'Approve this share' }).count(), 0);
    await checkPage(cdao2, '12-case-share-live');
    await visit(cdao2, '/shares/pending');
    assert.equal(await cdao2.locator('main tbody tr').filter({ hasText: reference }).count(), 0);
  });

  test('the member sees the alert unread, reads it, and never sees the reporter', async () => {
    member = await newPage(browser);
    await signIn(member, demoUser('member'));
    await visit(member, '/alerts');
    const h1 = (await member.locator('h1').textContent()).replace(/\s+/g, ' ').trim();
    assert.match(h1, /^Alerts \(\d+ unread\)$/, h1);
    const row = member.locator('main tbody tr').filter({ hasText: reference });
    assert.equal(await row.count(), 1, `an alert for ${reference}`);
    const rowText = await row.innerText();
    for (const words of ['Unread', 'Not acknowledged', 'Identified', 'For action']) {
      assert.ok(rowText.includes(words), `"${words}" in ${rowText}`);
    }
    await checkPage(member, '12-alerts');
    await visit(member, '/alerts?filter=unread');
    assert.equal(await member.locator('main tbody tr').filter({ hasText: reference }).count(), 1);
    assert.equal(await member.locator('main [aria-current="page"]').innerText(), 'Unread');

    const r = await navigates(member, () => member.locator('main').getByRole('link', { name: reference }).click());
    assert.equal(r.status(), 200);
    alertPath = pathOf(member);
    assert.match(alertPath, /^\/alerts\/[0-9a-f-]{36}$/);
    assert.equal((await member.locator('h1').innerText()).trim(), reference);
    const main = await mainText(member);
    assert.ok(main.includes('Dr Martin Keel'), 'the person shared');
    assert.ok(main.includes(summaryText), 'the summary');
    assert.ok(main.includes(purpose));
    assert.ok(main.includes('GMC 4123456'), 'the registration');
    for (const hidden of [reporterName, reporterOrganisation, reporterWords]) {
      assert.ok(!main.includes(hidden), `the member must not see "${hidden}"`);
    }
    await checkPage(member, '12-alert');
  });

  test('the member acknowledges the alert', async () => {
    const r = await clickButton(member, 'Acknowledge');
    assert.equal(r.status(), 200);
    assert.equal(pathOf(member), alertPath);
    const main = await mainText(member);
    assert.ok(main.includes('You have acknowledged this alert.'), main.slice(0, 400));
    assert.ok(main.includes('Your organisation acknowledged this alert on'));
    assert.equal(await member.locator('main').getByRole('button', { name: 'Acknowledge' }).count(), 0);
  });

  test('an empty response comes back with an error summary', async () => {
    const r = await clickButton(member, 'Send response');
    assert.equal(r.status(), 422);
    assert.ok((await member.title()).startsWith('Error: '), await member.title());
    await expectErrorSummary(member, 'body');
    await expectSummaryTargets(member);
    await checkPage(member, '12-alert-error');
  });

  test('the member responds with the action taken', async () => {
    await member.fill('#body', responseText);
    await member.selectOption('#action_taken', 'investigation_opened');
    const r = await clickButton(member, 'Send response');
    assert.equal(r.status(), 200);
    assert.equal(pathOf(member), alertPath);
    const main = await mainText(member);
    assert.ok(main.includes('Your response has been sent to the CDAO team.'), main.slice(0, 400));
    const responses = await member.locator('main .app-response').allInnerTexts();
    assert.equal(responses.length, 1, JSON.stringify(responses));
    assert.ok(responses[0].includes(responseText), responses[0]);
    assert.ok(responses[0].includes('Investigation opened'), responses[0]);
    await checkPage(member, '12-alert-responded');
    await visit(member, '/alerts');
    const rowText = await member.locator('main tbody tr').filter({ hasText: reference }).innerText();
    assert.ok(rowText.includes('Acknowledged'), rowText);
    assert.ok(!rowText.includes('Unread'), rowText);
  });

  test('the CDAO sees the acknowledgement and the response on the case', async () => {
    await visit(cdao, `/cases/${caseId}`);
    const card = shareCard(cdao);
    const text = await card.innerText();
    assert.ok(text.includes('Live'), text);
    assert.ok(text.includes('Acknowledged'), text);
    assert.ok(text.includes('Responses'), text);
    assert.ok(text.includes(responseText), text);
    assert.ok(text.includes('Investigation opened'), text);
    await checkPage(cdao, '12-case-share-responded');
    await card.screenshot({ path: join(ARTIFACTS, '12-case-share-responded-card.png') });
  });

  test("the case's timeline shows the member's acknowledgement and response, from the police", async () => {
    const timeline = cdao.locator('h2#timeline ~ ol').first();
    const entries = timeline.locator(':scope > li');
    const all = await timeline.innerText();
    const response = entries.filter({ hasText: responseText });
    assert.equal(await response.count(), 1, `the member's response on the timeline:\n${all}`);
    const entry = await response.innerText();
    assert.ok(entry.includes('Greater Manchester Police'), `the timeline names who responded: ${entry}`);
    assert.ok(!entry.includes('reporting organisation'), `the response is not the reporter's: ${entry}`);
    // Nothing the member did is put down to the reporting organisation.
    assert.equal(
      await entries.filter({ hasText: /acknowledged/i }).filter({ hasText: 'reporting organisation' }).count(),
      0,
      `the acknowledgement is attributed to the reporting organisation:\n${all}`,
    );
  });

  test('the dashboard shows late alerts and shares to approve; the late alerts page', async () => {
    await visit(cdao, '/');
    // Cards with nothing in them fold under "Nothing here" (issue 11): read them all.
    const cards = (await cdao.locator('main').textContent()).replace(/\s+/g, ' ');
    assert.match(cards, /(\d+|No)\s+alerts? not acknowledged in time/, cards);
    assert.match(cards, /(\d+|No)\s+shares? waiting for your approval/, cards);
    await checkPage(cdao, '12-dashboard');
    // With none late the card folds away; the page is there either way.
    const r = await visit(cdao, '/shares/late');
    assert.equal(r.status(), 200);
    assert.equal(pathOf(cdao), '/shares/late');
    assert.equal((await cdao.locator('h1').innerText()).trim(), 'Alerts not acknowledged in time');
    await checkPage(cdao, '12-shares-late');
  });
});
