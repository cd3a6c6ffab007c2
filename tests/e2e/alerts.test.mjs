// tests/e2e/alerts.test.mjs BUILD_DIR — the console's "Alertas" list over the API's cursor and
// filters: 30 alerts show the newest 25, "Mais antigos" pages to the other 5 and "Mais recentes"
// back; the situation, person, severity and period filters narrow it; an alert's page shows its
// times (the API answers ISO 8601 with the offset) in Portuguese and English, at 390 and 1280 px,
// fitting the screen; no script error or CSP violation. Starts its own `plantao serve`
// (temporary SQLite, movable clock, no Twilio) and Debian's Chromium through playwright-core, like
// monitors.test.mjs. Screenshots 40-44 in BUILD/test-output/screenshots. Last line: "e2e: N
// passed, N failed". Run: node tests/e2e/alerts.test.mjs build
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const BUILD = path.resolve(ROOT, process.argv[2] || 'build');
const SHOTS = path.join(BUILD, 'test-output', 'screenshots');
const CHROMIUM = process.env.PLANTAO_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function until(fn, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plantao-e2e-alerts-'));
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const token = randomBytes(16).toString('hex');
const clock = path.join(tmp, 'clock');
let offset = 0;
fs.writeFileSync(clock, '0\n');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TWILIO_') && !k.startsWith('PLANTAO_')));
Object.assign(env, { PLANTAO_LISTEN: `127.0.0.1:${port}`, PLANTAO_DB: path.join(tmp, 'plantao.db'), PLANTAO_PUBLIC_URL: url,
  PLANTAO_API_TOKEN: token, PLANTAO_API_RATE: '1000', PLANTAO_CLOCK_FILE: clock });
const log = fs.openSync(path.join(tmp, 'plantao.log'), 'a');
const proc = spawn(path.join(BUILD, 'plantao'), ['serve'], { cwd: tmp, env, stdio: ['ignore', log, log] });

async function api(method, p, body) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(url + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, json: await r.json().catch(() => null) };
}

async function advance(seconds) {
  offset += seconds;
  fs.writeFileSync(`${clock}.tmp`, `${offset}\n`);
  fs.renameSync(`${clock}.tmp`, clock);
  await sleep(300);
}

const problems = [];
let passed = 0;
let failed = 0;
let browser;
let page;

async function run(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}\n  # ${String(e.stack || e).split('\n').slice(0, 14).join('\n  # ')}`);
    if (page) await page.screenshot({ path: path.join(SHOTS, 'fail-alerts.png'), fullPage: true }).catch(() => {});
  }
}


async function signIn(width, lang) {
  const ctx = await browser.newContext({ viewport: { width, height: 844 }, isMobile: width < 500, hasTouch: width < 500,
    locale: lang === 'en' ? 'en-US' : 'pt-BR', timezoneId: 'Asia/Tokyo' });
  await ctx.addInitScript((l) => localStorage.setItem('plantao.lang', l), lang);
  page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  // a fetch answered 4xx/5xx logs "Failed to load resource": expected (sign-in probe, /healthz without Twilio)
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page: ${e.message}`));
  await page.goto(url);
  const box = page.getByTestId('token-login');
  await box.waitFor();
  if (!(await box.evaluate((d) => d.open))) await box.locator('summary').click();
  await page.getByLabel(lang === 'en' ? 'API token' : 'Token da API').fill(token);
  await page.getByRole('button', { name: lang === 'en' ? 'Sign in' : 'Entrar', exact: true }).click();
  await page.locator('#nav').waitFor({ state: 'visible' });
  await page.goto(`${url}/#/alerts`);
  await page.getByTestId('alerts').waitFor();
  return ctx;
}

const rowIds = async () => page.locator('[data-testid="alerts"] tbody tr').evaluateAll(
  (trs) => trs.map((tr) => Number(tr.dataset.alert)));

async function fits(what) {
  const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(over <= 1, `${what} fits the screen width (overflow ${over}px)`);
}

try {
  await until(async () => (await fetch(`${url}/healthz?live`).catch(() => ({ ok: false }))).ok, 'plantao to start', 10000);
  fs.mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });

  // 30 alerts over two days: the oldest five two days ago; one acknowledged by Ana, one resolved
  const ana = (await api('POST', '/api/people', { name: 'Ana Beatriz Figueiredo', phone: '+5511990000001' })).json;
  const ids = [];
  for (let i = 1; i <= 30; i += 1) {
    if (i === 6) await advance(2 * 86400);
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
    await page.goto(`${url}/#/alerts/${acked}`);
    const by = page.getByTestId('acked-by');
    await by.waitFor();
    const text = await by.textContent();
    assert(!/—|Invalid/.test(text) && /\d\d:\d\d/.test(text), `acknowledged with its time: ${text}`);
    const when = await page.locator('[data-testid="timeline"] tbody tr td:first-child').allTextContents();
    assert(when.length >= 2 && when.every((w) => /\d\d:\d\d:\d\d/.test(w)), `timeline times: ${when}`);
    await fits('the alert page');
    await page.screenshot({ path: path.join(SHOTS, '42-phone-alert-en.png'), fullPage: true });
    await page.goto(`${url}/#/alerts`);
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
  failed += 1;
  console.log(`not ok - set-up: ${e.stack || e}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  proc.kill('SIGTERM');
  await sleep(300);
  if (failed) console.log(fs.readFileSync(path.join(tmp, 'plantao.log'), 'utf8').split('\n').slice(-30).join('\n'));
  else fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
