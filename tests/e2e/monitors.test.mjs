// tests/e2e/monitors.test.mjs BUILD_DIR — the console's "Monitores" page on a 390 px phone screen:
// a heartbeat created through the API and pinged by a "job" shows as up with its ping URL and
// ready-made curl lines; Pausar/Retomar work; a monitor is added with the form; a job that
// stops pinging shows down with its alert; an uptime check draws its response times; the page
// fits the screen; no script error or CSP violation. Starts its own `plantao serve` (temporary
// SQLite, movable clock, no Twilio) and Debian's Chromium through playwright-core
// (tests/e2e/lib.mjs). Last line: "e2e: N passed, N failed". Run: node tests/e2e/monitors.test.mjs build
import path from 'node:path';
import { SHOTS, Server, Suite, assert, fits, launchBrowser, openPage, screen, signInWithToken, until } from './lib.mjs';

const server = new Server({ name: 'mon' });
const api = (...a) => server.api(...a);
const problems = [];
let browser;
let page;
const suite = new Suite('monitors', () => page);
const run = (name, fn) => suite.run(name, fn);

try {
  await server.start();
  browser = await launchBrowser();
  page = await openPage(browser, problems, { ...screen(390), locale: 'pt-BR' });
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });

  const hb = (await api('POST', '/api/monitors', { kind: 'heartbeat', name: 'backup noturno', period_s: 60, grace_s: 30 })).json;
  const r = await fetch(hb.ping_url);
  assert(r.status === 200 && (await r.text()) === 'OK', 'the job pinged');

  await run('the page lists the heartbeat as up, with its ping URL and curl lines, on a phone', async () => {
    await signInWithToken(page, server.url, server.token);
    await page.getByRole('link', { name: 'Monitores' }).click();
    await page.getByRole('heading', { name: 'Monitores', level: 1 }).waitFor();
    const card = page.locator(`[data-monitor="${hb.id}"]`);
    await until(async () => (await card.getByTestId('monitor-state').textContent()) === 'no ar', 'state "no ar"');
    const help = await card.getByTestId('ping-help').textContent();
    assert(help.includes(hb.ping_url), 'ping URL shown');
    assert(help.includes(`curl -fsS -m 10 --retry 3 ${hb.ping_url}`), 'curl line shown');
    assert(help.includes(`${hb.ping_url}/$?`), 'exit-status line shown');
    await card.getByRole('button', { name: /Copiar a URL de ping/ }).click();
    assert((await page.evaluate(() => navigator.clipboard.readText())) === hb.ping_url, 'copied the ping URL');
    await fits(page, 'the page');
    await page.screenshot({ path: path.join(SHOTS, '30-phone-monitors.png'), fullPage: true });
  });

  await run('Pausar and Retomar', async () => {
    const card = page.locator(`[data-monitor="${hb.id}"]`);
    await card.getByRole('button', { name: 'Pausar' }).click();
    await until(async () => (await card.getByTestId('monitor-state').textContent()) === 'pausado', 'pausado');
    assert((await api('GET', `/api/monitors/${hb.id}`)).json.paused === true, 'paused in the API');
    await card.getByRole('button', { name: 'Retomar' }).click();
    await until(async () => (await card.getByTestId('monitor-state').textContent()) === 'no ar', 'no ar again');
  });

  await run('a job that stops pinging shows down with its alert', async () => {
    await server.advance(120);
    const card = page.locator(`[data-monitor="${hb.id}"]`);
    await until(async () => (await card.getByTestId('monitor-state').textContent()) === 'fora do ar', 'fora do ar', 20000);
    await card.getByRole('link', { name: /Alerta \d+/ }).waitFor();
  });

  await run('a monitor is added with the form', async () => {
    const form = page.getByTestId('monitor-form');
    await form.getByLabel('Nome').fill('ETL de vendas');
    await form.getByLabel(/A cada/).fill('0 6 * * 1-5');
    await form.getByRole('button', { name: 'Criar' }).click();
    await page.getByRole('heading', { name: /ETL de vendas/ }).waitFor();
    const list = (await api('GET', '/api/monitors')).json.monitors;
    const etl = list.find((m) => m.name === 'ETL de vendas');
    assert(etl && etl.schedule === '0 6 * * 1-5' && etl.state === 'new', JSON.stringify(etl));
    await page.screenshot({ path: path.join(SHOTS, '31-phone-monitors-added.png'), fullPage: true });
  });

  await run('an uptime check draws its response times (the pings carry response_ms)', async () => {
    const site = (await api('POST', '/api/monitors', { kind: 'http', name: 'o próprio plantao', url: `${server.url}/healthz?live`,
      interval_s: 60 })).json;
    assert(site && site.id, `http monitor created: ${JSON.stringify(site)}`);
    for (let i = 0; i < 3; i += 1) {
      await until(async () => (await api('GET', `/api/monitors/${site.id}/pings`)).json.pings.length > i, `check ${i + 1}`);
      await server.advance(61);
    }
    const pings = (await api('GET', `/api/monitors/${site.id}/pings`)).json.pings;
    assert(pings.every((p) => Number.isInteger(p.response_ms)), `response times in the pings: ${JSON.stringify(pings)}`);
    const card = page.locator(`[data-monitor="${site.id}"]`);
    await card.getByTestId('sparkline').waitFor();
    await page.screenshot({ path: path.join(SHOTS, '32-phone-monitors-uptime.png'), fullPage: true });
  });

  await run('no script errors or CSP violations', async () => {
    assert(problems.length === 0, problems.join('\n'));
  });
} catch (e) {
  suite.broke(e);
} finally {
  await suite.finish(server, browser);
}
