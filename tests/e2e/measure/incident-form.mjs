// Measures the incident form (issue 11): the height of each page of the journey at desktop
// (1280 px) and phone (375 px) widths, and the tab stops from the top of each page to its
// Continue / Send report button, summed over the journey to a sent report.
//
//   bash tests/e2e/run.sh measure/incident-form.mjs
//
// Prints one JSON line per page and a total; fails only if the journey does not send.
import { after, before, test } from 'node:test';
import { assert, demoUser, launch, navigates, newPage, pathOf, signIn } from '../lib/helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const byId = (page, id) => page.locator(`[id="${id}"]`);

/** Tab presses from the top of the page until the main form's submit button has focus. */
async function tabStopsTo(page, buttonName) {
  // Start from the top of the document, as a fresh page load would (blurring alone keeps
  // the browser's sequential focus starting point where the last field was).
  await page.evaluate(() => {
    document.body.setAttribute('tabindex', '-1');
    document.body.focus();
    document.body.removeAttribute('tabindex');
    window.scrollTo(0, 0);
  });
  for (let i = 1; i <= 400; i += 1) {
    await page.keyboard.press('Tab');
    const text = await page.evaluate(() => {
      const el = document.activeElement;
      return el && el.tagName === 'BUTTON' && el.closest('main') ? el.innerText.trim() : '';
    });
    if (text === buttonName) return i;
  }
  return NaN;
}

async function heights(page) {
  const desktop = await page.evaluate(() => document.documentElement.scrollHeight);
  const size = page.viewportSize();
  await page.setViewportSize({ width: 375, height: size.height });
  const phone = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize(size);
  return { desktop, phone };
}

test('the incident form: page heights and tab stops to send a report', async () => {
  const page = await newPage(browser);
  await signIn(page, demoUser('reporter'));
  await page.goto('/reports/new/incident');
  const rows = [];
  const measure = async (name, button) => {
    const h = await heights(page);
    const tabs = await tabStopsTo(page, button);
    rows.push({ page: name, path: pathOf(page), heightDesktop: h.desktop, heightPhone: h.phone, tabStops: tabs });
    console.log(JSON.stringify(rows.at(-1)));
  };
  const click = (name) => navigates(page, () => page.locator('main').getByRole('button', { name, exact: true }).click());
  const d = new Date(Date.now() - 86_400_000);
  // Whatever the form looks like (one page or steps), answer what is on the page and go on.
  for (let guard = 0; guard < 8; guard += 1) {
    const h1 = (await page.locator('h1').first().innerText()).trim();
    if (h1.startsWith('Check your answers')) {
      await measure(h1, 'Send report');
      await click('Send report');
      break;
    }
    const has = async (id) => (await byId(page, id).count()) > 0;
    if (await has('occurred_on-day')) {
      await byId(page, 'occurred_on-day').fill(String(d.getDate()));
      await byId(page, 'occurred_on-month').fill(String(d.getMonth() + 1));
      await byId(page, 'occurred_on-year').fill(String(d.getFullYear()));
      await byId(page, 'location').fill('Dispensary');
      await page.getByLabel('Lost or missing CDs', { exact: true }).check();
      await byId(page, 'description').fill('Running balance 28 short at the weekly check.');
    }
    if (await has('drugs[0].drug_id')) {
      const picker = await byId(page, 'drugs[0].drug_id').evaluate((el) => el.tagName);
      if (picker === 'SELECT') {
        await byId(page, 'drugs[0].drug_id').selectOption({ label: 'Morphine sulfate' });
      } else {
        await byId(page, 'drugs[0].drug_id').fill('Morphine sulfate');
        await byId(page, 'drugs[0].drug_id').blur();
      }
      await byId(page, 'drugs[0].quantity').fill('28');
      await byId(page, 'drugs[0].unit').fill('tablets');
    }
    if (await has('harm')) await page.getByLabel('No harm', { exact: true }).check();
    if (await has('near_miss-2')) await byId(page, 'near_miss-2').check();
    if (await has('patient_involved-2')) await byId(page, 'patient_involved-2').check();
    if (await has('police_informed-2')) await byId(page, 'police_informed-2').check();
    await measure(h1, 'Continue');
    const r = await click('Continue');
    assert.equal(r.status(), 200, `${h1}: ${r.status()}`);
  }
  assert.match(pathOf(page), /^\/reports\/[0-9a-f-]{36}$/, 'the report was sent');
  const total = rows.reduce((n, r) => n + r.tabStops, 0);
  const tallest = Math.max(...rows.map((r) => r.heightDesktop));
  const tallestPhone = Math.max(...rows.map((r) => r.heightPhone));
  console.log(JSON.stringify({ pages: rows.length, totalTabStops: total, tallestDesktop: tallest, tallestPhone }));
  await page.context().close();
});
