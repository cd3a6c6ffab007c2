// tests/e2e/alerts.test.mjs BUILD_DIR — the console's "Alertas" list over the API's cursor and
// filters: 30 alerts show the newest 25, "Mais antigos" pages to the other 5 and "Mais recentes"
// back; the situation, person, severity and period filters narrow it; an alert's page shows its
// times (the API answers ISO 8601 with the offset) in Portuguese and English, at 390 and 1280 px,
// fitting the screen; no script error or CSP violation. Starts its own `plantao serve`
// (temporary SQLite, movable clock, no Twilio) and Debian's Chromium through playwright-core
// (tests/e2e/lib.mjs). Screenshots 40-44 in BUILD/test-output/screenshots. Last line: "e2e: N
// passed, N failed". Run: node tests/e2e/alerts.test.mjs build
import path from 'node:path';
import { SHOTS, Server, Suite, assert, fits as fitsPage, launchBrowser, openPage, screen, signInWithToken, until } from './lib.mjs';

const server = new Server({ name: 'alerts' });
const api = (...a) => server.api(...a);
const problems = [];
let browser;
let page;
const suite = new Suite('alerts', () => page);
const run = (name, fn) => suite.run(name, fn);

async function signIn(width, lang) {
  page = await openPage(browser, problems, { ...screen(width, 844), locale: lang === 'en' ? 'en-US' : 'pt-BR', lang });
  await signInWithToken(page, server.url, server.token, lang);
  await page.goto(`${server.url}/#/alerts`);
  await page.getByTestId('alerts').waitFor();
}

const rowIds = async () => page.locator('[data-testid="alerts"] tbody tr').evaluateAll(
  (trs) => trs.map((tr) => Number(tr.dataset.alert)));

const fits = (what) => fitsPage(page, what);

try {
  await server.start();
  browser = await launchBrowser();

  // 30 alerts over two days: the oldest five two days ago; one acknowledged by Ana, one resolved
  const ana = (await api('POST', '/api/people', { name: 'Ana Beatriz Figueiredo', phone: '+5511990000001' })).json;
  const ids = [];
  for (let i = 1; i <= 30; i += 1) {
    if (i === 6) await server.advance(2 * 86400);
    const r = await api('POST', '/api/alerts', { summary: `disco cheio no servidor de banco db${i}`, dedup_key: `db${i}`,
      severity: i % 3 === 0 ? 'critical' : 'warning' });
    assert(r.status === 202, `alert ${i}: ${JSON.stringify(r.json)}`);
    ids.push(r.json.id);
  }
  const acked = ids[20];
  assert((await api('POST', `/api/alerts/${acked}/ack`, { person_id: ana.id })).status === 200, 'acknowledged');
  assert((await api('POST', `/api/alerts/${ids[21]}/resolve`)).status === 200, 'resolved');
  const newest = [...ids].reverse();

  await run('the list shows the newest 25 and "Mais antigos" pages to the rest (390 px, pt)', async () => {
    await signIn(390, 'pt-BR');
    await until(async () => (await rowIds()).length === 25, '25 rows');
    assert(JSON.stringify(await rowIds()) === JSON.stringify(newest.slice(0, 25)), `newest first: ${await rowIds()}`);
    const created = await page.locator(`[data-alert="${ids[29]}"] td`).nth(3).textContent();
    assert(created && created !== '—' && !/Invalid/.test(created), `created shown: ${created}`);
    await fits('the first page');
    await page.screenshot({ path: path.join(SHOTS, '40-phone-alerts-pt.png'), fullPage: true });
    await page.getByTestId('older').click();
    await until(async () => (await rowIds()).length === 5, 'the last 5');
    assert(JSON.stringify(await rowIds()) === JSON.stringify(newest.slice(25)), `the oldest: ${await rowIds()}`);
    assert(await page.getByTestId('older').isHidden(), 'no page after the last');
    await page.getByTestId('newer').click();
    await until(async () => (await rowIds())[0] === ids[29], 'back to the newest');
  });

  await run('filters by situation, person, severity and period', async () => {
    await page.getByTestId('filter-status').selectOption('acknowledged');
    await page.getByRole('button', { name: 'Filtrar' }).click();
    await until(async () => JSON.stringify(await rowIds()) === JSON.stringify([acked]), 'only the acknowledged one');
    await page.getByTestId('filter-status').selectOption('');
    await page.getByTestId('filter-person').selectOption(String(ana.id));
    await page.getByRole('button', { name: 'Filtrar' }).click();
    await until(async () => JSON.stringify(await rowIds()) === JSON.stringify([acked]), "Ana's alert");
    await page.getByTestId('filter-person').selectOption('');
    await page.getByTestId('filter-severity').selectOption('critical');
    await page.getByRole('button', { name: 'Filtrar' }).click();
    await until(async () => (await rowIds()).length === 10, 'the 10 critical ones');
    await page.getByTestId('filter-severity').selectOption('');
    // the first day only: the five alerts created two days before the others
    const first = (await api('GET', `/api/alerts/${ids[0]}`)).json.created_at.slice(0, 10);
    const later = (await api('GET', `/api/alerts/${ids[29]}`)).json.created_at.slice(0, 10);
    await page.getByTestId('filter-from').fill(first);
    await page.getByTestId('filter-to').fill(later);
    await page.getByRole('button', { name: 'Filtrar' }).click();
    await until(async () => JSON.stringify(await rowIds()) === JSON.stringify(newest.slice(25)), 'the first day');
    await fits('the filtered list');
    await page.screenshot({ path: path.join(SHOTS, '41-phone-alerts-filtered-pt.png'), fullPage: true });
    await page.getByTestId('filter-to').fill('2000-01-01');
    await page.getByRole('button', { name: 'Filtrar' }).click();
    await page.getByText('Nenhum alerta com estes filtros.').waitFor();
    await page.context().close();
  });

  await run('an alert shows when it was created and acknowledged, from the ISO times (390 px, en)', async () => {
    await signIn(390, 'en');
    await page.goto(`${server.url}/#/alerts/${acked}`);
    const by = page.getByTestId('acked-by');
    await by.waitFor();
    const text = await by.textContent();
    assert(!/—|Invalid/.test(text) && /\d\d:\d\d/.test(text), `acknowledged with its time: ${text}`);
    const when = await page.locator('[data-testid="timeline"] tbody tr td:first-child').allTextContents();
    assert(when.length >= 2 && when.every((w) => /\d\d:\d\d:\d\d/.test(w)), `timeline times: ${when}`);
    await fits('the alert page');
    await page.screenshot({ path: path.join(SHOTS, '42-phone-alert-en.png'), fullPage: true });
    await page.goto(`${server.url}/#/alerts`);
    await page.getByTestId('alerts').waitFor();
    await page.getByTestId('older').click();
    await until(async () => (await rowIds()).length === 5, 'the older page in English');
    await page.getByRole('button', { name: 'Filter' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, '43-phone-alerts-older-en.png'), fullPage: true });
    await page.context().close();
  });

  await run('the list fits a desktop screen too (1280 px, pt)', async () => {
    await signIn(1280, 'pt-BR');
    await until(async () => (await rowIds()).length === 25, '25 rows');
    await fits('the desktop list');
    await page.screenshot({ path: path.join(SHOTS, '44-desktop-alerts-pt.png'), fullPage: true });
    await page.context().close();
  });

  await run('no script errors or CSP violations', async () => {
    assert(problems.length === 0, problems.join('\n'));
  });
} catch (e) {
  suite.broke(e);
} finally {
  await suite.finish(server, browser);
}
