// tests/e2e/monitors.test.mjs BUILD_DIR — the console's "Monitores" page on a 390 px phone screen:
// a heartbeat created through the API and pinged by a "job" shows as up with its ping URL and
// ready-made curl lines; Pausar/Retomar work; a monitor is added with the form; a job that
// stops pinging shows down with its alert; an uptime check draws its response times; the page
// fits the screen; no script error or CSP violation. Starts its own `plantao serve` (temporary
// SQLite, movable clock, no Twilio) and Debian's Chromium through playwright-core, like
// console.test.mjs. Last line: "e2e: N passed, N failed". Run: node tests/e2e/monitors.test.mjs build
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

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plantao-e2e-mon-'));
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
    if (page) await page.screenshot({ path: path.join(SHOTS, 'fail-monitors.png'), fullPage: true }).catch(() => {});
  }
}

try {
  await until(async () => (await fetch(`${url}/healthz?live`).catch(() => ({ ok: false }))).ok, 'plantao to start', 10000);
  fs.mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
    locale: 'pt-BR', timezoneId: 'Asia/Tokyo' });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
  page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  // a fetch answered 4xx/5xx logs "Failed to load resource": expected (sign-in probe, /healthz without Twilio)
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page: ${e.message}`));

  const hb = (await api('POST', '/api/monitors', { kind: 'heartbeat', name: 'backup noturno', period_s: 60, grace_s: 30 })).json;
  const r = await fetch(hb.ping_url);
  assert(r.status === 200 && (await r.text()) === 'OK', 'the job pinged');

  await run('the page lists the heartbeat as up, with its ping URL and curl lines, on a phone', async () => {
    await page.goto(url);
    const box = page.getByTestId('token-login');
    await box.waitFor();
    if (!(await box.evaluate((d) => d.open))) await box.locator('summary').click();
    await page.getByLabel('Token da API').fill(token);
    await page.getByRole('button', { name: 'Entrar', exact: true }).click();
    await page.locator('#nav').waitFor({ state: 'visible' });
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
    const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(over <= 1, `fits the screen width (overflow ${over}px)`);
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
    await advance(120);
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
    const site = (await api('POST', '/api/monitors', { kind: 'http', name: 'o próprio plantao', url: `${url}/healthz?live`,
      interval_s: 60 })).json;
    assert(site && site.id, `http monitor created: ${JSON.stringify(site)}`);
    for (let i = 0; i < 3; i += 1) {
      await until(async () => (await api('GET', `/api/monitors/${site.id}/pings`)).json.pings.length > i, `check ${i + 1}`);
      await advance(61);
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
