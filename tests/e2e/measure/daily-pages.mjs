// Measures the pages a CDAO lives in (issue 11): the case page's height as served (its actions
// folded) at desktop (1280 px) and phone (375 px) widths, and the p50 and p90 time to fetch the
// dashboard and the case list (with the header's counts), 60 rounds each, interleaved so that
// both see the same machine.
//
//   bash tests/e2e/run.sh measure/daily-pages.mjs
//   CDC_BIN=/path/to/an/older/cdconcerns bash tests/e2e/run.sh measure/daily-pages.mjs
//
// The second form measures another build (an earlier commit) on the same machine, for a
// before-and-after in one sitting. Prints one FIGURES line.
import { after, before, test } from 'node:test';
import { assert, demoUser, launch, newPage, signIn } from '../lib/helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)];

async function fetchTime(page, path) {
  const t0 = performance.now();
  const r = await page.request.get(path);
  await r.body();
  assert.equal(r.status(), 200, path);
  return performance.now() - t0;
}

test('the case page, the dashboard and the case list', async () => {
  const page = await newPage(browser, { viewport: { width: 1280, height: 900 } });
  await signIn(page, demoUser('cdao'));
  // The oldest new case, as a CDAO starting their day would open it; page.goto, not visit():
  // visit() opens the case page's folded actions for the specs.
  await page.goto('/cases?status=new&sort=oldest');
  const href = await page.locator('main table a.app-reference').first().getAttribute('href');
  assert.equal((await page.goto(href)).status(), 200);
  const desktop = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: 375, height: 812 });
  const phone = await page.evaluate(() => document.documentElement.scrollHeight);
  const dashboard = [];
  const list = [];
  for (let i = 0; i < 5; i += 1) {
    await fetchTime(page, '/');
    await fetchTime(page, '/cases');
  }
  for (let i = 0; i < 60; i += 1) {
    dashboard.push(await fetchTime(page, '/'));
    list.push(await fetchTime(page, '/cases'));
  }
  const ms = (xs) => `p50 ${percentile(xs, 0.5).toFixed(1)} ms, p90 ${percentile(xs, 0.9).toFixed(1)} ms`;
  console.log(
    `FIGURES case page ${desktop} px at 1280, ${phone} px at 375; dashboard ${ms(dashboard)}; case list ${ms(list)}`,
  );
  await page.context().close();
});
