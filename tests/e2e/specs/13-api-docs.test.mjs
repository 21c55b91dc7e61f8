// 13. The API reference (/api/docs): the vendored Swagger UI renders every operation under
// the service's Content-Security-Policy, with no CSP violation and nothing loaded from
// elsewhere.
import { after, before, test } from 'node:test';
import { BASE_URL, assert, demoUser, launch, newPage, screenshot, signIn, visit } from '../lib/helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('API reference: Swagger UI shows the document under the CSP, all from this origin', async () => {
  const page = await newPage(browser);
  const violations = [];
  const foreign = [];
  // The vendored NHS.UK frontend's stylesheet names its fonts on assets.nhs.uk; every page of
  // the service asks for them and the CSP refuses them (font-src 'self'). Not this page's doing.
  const nhsFonts = (text) => text.includes('assets.nhs.uk/fonts/');
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text()) && !nhsFonts(m.text())) {
      violations.push(m.text());
    }
  });
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== new URL(BASE_URL).origin && !nhsFonts(r.url())) {
      foreign.push(r.url());
    }
  });
  await signIn(page, demoUser('reporter'));
  await visit(page, '/api/docs');
  await page.locator('.swagger-ui .opblock').first().waitFor({ timeout: 15000 });
  const operations = await page.locator('.swagger-ui .opblock').count();
  assert.ok(operations >= 50, `only ${operations} operations shown`);
  assert.ok(
    (await page.locator('.swagger-ui').innerText()).includes('submit_incident'),
    'operation ids are shown',
  );
  await screenshot(page, '13-api-docs');
  assert.deepEqual(foreign, [], 'requests to other origins');
  assert.deepEqual(violations, [], 'CSP violations');
});
