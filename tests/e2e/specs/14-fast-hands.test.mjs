// 14. Fast hands (issue 11, part A): the CDAO's header counts, the dashboard, the case list's
// summaries and total, the case page for triage (next/previous, Back keeps the filters), at
// desktop and 375 px, axe clean. Prints the figures of the closing note: the case page's height
// and the p50 time of the dashboard and case list (30 sequential requests each).
import { after, before, describe, test } from 'node:test';
import { assert, checkPage, demoUser, launch, navigates, newPage, signIn, visit } from '../lib/helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function p50(page, path, n = 30) {
  const times = [];
  for (let i = 0; i < n; i += 1) {
    const t0 = performance.now();
    const r = await page.request.get(path);
    await r.body();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(n / 2)];
}

for (const [label, viewport] of [
  ['desktop', { width: 1280, height: 900 }],
  ['375', { width: 375, height: 812 }],
]) {
  describe(`a CDAO's day at ${label}`, () => {
    let page;
    before(async () => {
      page = await newPage(browser, { viewport });
      await signIn(page, demoUser('cdao'));
    });
    after(async () => {
      await page?.context().close();
    });

    test('measures the case page, the dashboard and the case list', async () => {
      await visit(page, '/cases?status=new&sort=oldest');
      const href = await page.locator('main table a.app-reference').first().getAttribute('href');
      // As served: visit() opens the folded case actions for the other specs.
      const served = await page.goto(href);
      assert.equal(served.status(), 200);
      const height = await page.evaluate(() => document.documentElement.scrollHeight);
      const dash = await p50(page, '/');
      const list = await p50(page, '/cases');
      console.log(`FIGURES ${label}: case page height ${height} px; p50 dashboard ${dash.toFixed(1)} ms, case list ${list.toFixed(1)} ms`);
    });

    test('the header counts new cases, lists summarise, the case page keeps the list', async () => {
      await visit(page, '/');
      const cases = page.locator('header nav[aria-label="Menu"] a[href="/cases"]');
      assert.match(await cases.innerText(), /new case/);
      await checkPage(page, `14-dashboard-${label}`);
      await visit(page, '/cases?status=new&sort=oldest');
      assert.match(await page.locator('main [role=status]').first().innerText(), /in all/);
      assert.ok((await page.locator('main .app-summary-line').count()) > 0);
      const status = page.locator('main table tbody tr').first().locator('.nhsuk-tag').first();
      assert.ok(await status.isVisible());
      const box = await status.boundingBox();
      assert.ok(box.x + box.width <= viewport.width, 'the status is on screen');
      await checkPage(page, `14-case-list-${label}`);
      const href = await page.locator('main table a.app-reference').first().getAttribute('href');
      assert.match(href, /\?list=/);
      await visit(page, href);
      assert.equal(await page.locator('a.nhsuk-back-link').getAttribute('href'), '/cases?status=new&sort=oldest');
      assert.ok(await page.getByRole('link', { name: /Next case/ }).isVisible());
      await checkPage(page, `14-case-page-${label}`);
      await visit(page, '/shares/pending');
      await checkPage(page, `14-approvals-${label}`);
    });

    test('the search finds a person by name and date of birth, or by prescriber code', async () => {
      for (const words of ['Alan Price 03/09/1971', '611 203']) {
        await visit(page, '/cases');
        await page.fill('#q', words);
        await navigates(page, () => page.locator('#filters').getByRole('button', { name: 'Apply filters' }).click());
        const status = await page.locator('main [role=status]').first().innerText();
        assert.match(status, /\b2 cases\b/, `${words}: ${status}`);
      }
      await checkPage(page, `14-case-search-${label}`);
    });
  });
}
