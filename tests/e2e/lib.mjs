// tests/e2e/lib.mjs — what every browser test of the console (tests/e2e/*.test.mjs) shares: the
// build directory from the command line, starting and stopping a real `BUILD_DIR/plantao serve`
// (free loopback port, temporary SQLite, a bootstrap admin token, a movable clock through
// PLANTAO_CLOCK_FILE, no Twilio credentials: messages stay in the outbox), Debian's Chromium
// through playwright-core kept off the network, pages in another time zone (Asia/Tokyo) than
// the rotation's that record script errors and CSP violations, signing in with the token, and
// the small runner whose last line is "e2e: N passed, N failed" (tests/e2e/run.sh sums them).
// Not a *.test.mjs: run.sh does not run it by itself.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
export const BUILD = path.resolve(ROOT, process.argv[2] || 'build');
export const SHOTS = path.join(BUILD, 'test-output', 'screenshots');
export const CHROMIUM = process.env.PLANTAO_CHROMIUM || '/usr/bin/chromium';
export const STEP_TIMEOUT = 15000; // generous: other builds may share the two cores

// Flags that keep Chromium off the network (this machine has none) and quiet.
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/*
 * Polls fn every 100 ms until it returns something truthy (returned) or ms pass. An exception
 * from fn fails at once, unless retryErrors: then it is tried again and its message is the
 * "last" said in the time-out.
 */
export async function until(fn, what, ms = STEP_TIMEOUT, retryErrors = false) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      if (!retryErrors) throw e;
      last = e.message;
    }
    if (Date.now() > deadline) {
      throw new Error(retryErrors ? `timed out waiting for ${what} (last: ${last})` : `timed out waiting for ${what}`);
    }
    await sleep(100);
  }
}

/* ------------------------------------------------------------------ the server */

/*
 * One `plantao serve` of a test file. name: in the temporary directory's name; clockOffset: the
 * clock's first offset in seconds; env: more settings.
 */
export class Server {
  constructor({ name = '', clockOffset = 0, env = {} } = {}) {
    this.name = name;
    this.clockOffset = clockOffset;
    this.extraEnv = env;
  }

  async start() {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), this.name ? `plantao-e2e-${this.name}-` : 'plantao-e2e-'));
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.token = randomBytes(16).toString('hex');
    this.logPath = path.join(this.tmp, 'plantao.log');
    this.dbPath = path.join(this.tmp, 'plantao.db');
    this.clockPath = path.join(this.tmp, 'clock');
    const env = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!k.startsWith('TWILIO_') && !k.startsWith('PLANTAO_')) env[k] = v;
    }
    Object.assign(env, {
      PLANTAO_LISTEN: `127.0.0.1:${this.port}`,
      PLANTAO_DB: this.dbPath,
      PLANTAO_PUBLIC_URL: this.url,
      PLANTAO_API_TOKEN: this.token,
      PLANTAO_TZ: 'America/Sao_Paulo',
      PLANTAO_API_RATE: '1000',
      PLANTAO_CLOCK_FILE: this.clockPath,
    }, this.extraEnv);
    fs.writeFileSync(this.clockPath, `${this.clockOffset}\n`);
    if (process.env.E2E_STATIC_DIR) env.PLANTAO_STATIC_DIR = path.resolve(ROOT, process.env.E2E_STATIC_DIR);
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn(path.join(BUILD, 'plantao'), ['serve'], { cwd: this.tmp, env, stdio: ['ignore', log, log] });
    this.exited = null;
    this.proc.on('exit', (code, sig) => { this.exited = sig || code; });
    this.proc.on('error', (e) => { this.exited = e.message; }); // could not be started at all
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      if (this.exited !== null) throw new Error(`plantao exited (${this.exited}) before it was ready\n${this.logTail()}`);
      try {
        const r = await fetch(`${this.url}/healthz?live`);
        if (r.ok) return;
      } catch (e) {
        /* not listening yet */
      }
      await sleep(50);
    }
    throw new Error(`plantao not ready after 10 s\n${this.logTail()}`);
  }

  /* The JSON API, as a monitoring tool would call it: { status, json (null if none), text }. */
  async api(method, p, body, token = this.token) {
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(this.url + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (e) {
      json = null;
    }
    return { status: r.status, json, text };
  }

  /* Moves plantao's clock forward (the server re-reads the file on each tick). */
  async advance(seconds) {
    this.clockOffset += seconds;
    fs.writeFileSync(`${this.clockPath}.tmp`, `${this.clockOffset}\n`);
    fs.renameSync(`${this.clockPath}.tmp`, this.clockPath);
    await sleep(300);
  }

  /* The newest one-time code queued for phone (no Twilio here: the outbox keeps it). */
  async lastCode(phone) {
    return until(async () => {
      const r = await this.api('GET', '/api/outbox?limit=50');
      const rows = (r.json && (r.json.outbox || r.json.messages || r.json)) || [];
      const mine = rows.filter((m) => (m.to_number || m.to) === phone && /plantao: seu código é \d{6}/.test(m.body || ''))
        .sort((a, b) => b.id - a.id);
      return mine.length ? /(\d{6})/.exec(mine[0].body)[1] : null;
    }, `a code for ${phone} in the outbox`, STEP_TIMEOUT, true);
  }

  logTail(n = 30) {
    try {
      return fs.readFileSync(this.logPath, 'utf8').split('\n').slice(-n).join('\n');
    } catch (e) {
      return '';
    }
  }

  /* SIGTERM (SIGKILL after 5 s); the temporary directory goes unless keep or PLANTAO_KEEP. */
  async stop({ keep = false } = {}) {
    if (this.proc && this.exited === null) {
      this.proc.kill('SIGTERM');
      for (let i = 0; i < 50 && this.exited === null; i++) await sleep(100);
      if (this.exited === null) this.proc.kill('SIGKILL');
    }
    if (this.tmp && !keep && !process.env.PLANTAO_KEEP) fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

/* ------------------------------------------------------------------ the browser */

export async function launchBrowser() {
  fs.mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/*
 * Records p's uncaught exceptions and, unless consoleErrors is false, its console errors in
 * problems, each after who. A fetch answered 4xx/5xx logs "Failed to load resource": expected
 * (validation, the sign-in probe, /healthz without Twilio).
 */
export function watch(p, problems, who = 'page', consoleErrors = true) {
  p.on('pageerror', (e) => problems.push(`${who}: uncaught ${e.message}`));
  if (!consoleErrors) return;
  p.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`${who}: ${m.text()}`);
  });
}

/*
 * A new browser context (Asia/Tokyo; options are playwright's newContext options, viewport and
 * locale included) and its page, watched into problems. lang: the console's language stored
 * before the first load ('pt-BR' or 'en'), none when undefined.
 */
export async function openPage(browser, problems, { who, lang, consoleErrors = true, ...options } = {}) {
  const ctx = await browser.newContext({ locale: 'pt-BR', timezoneId: 'Asia/Tokyo', ...options });
  if (lang !== undefined) await ctx.addInitScript((l) => localStorage.setItem('plantao.lang', l), lang);
  const p = await ctx.newPage();
  p.setDefaultTimeout(STEP_TIMEOUT);
  watch(p, problems, who, consoleErrors);
  return p;
}

/* The viewport and phone emulation of a screen width wide (a phone below 600 px). */
export function screen(width, height = width < 600 ? 844 : 900) {
  const phone = width < 600;
  return { viewport: { width, height }, isMobile: phone, hasTouch: phone };
}

/* "Entrar com token" is folded under the phone sign-in: open it. */
export async function openTokenForm(p, lang = 'pt-BR') {
  const box = p.getByTestId('token-login');
  await box.waitFor();
  if (!(await box.evaluate((d) => d.open))) await box.locator('summary').click();
  await p.getByLabel(lang === 'en' ? 'API token' : 'Token da API').waitFor();
}

/* Signs p in at url with an API token, in the console's language lang; waits for the menu. */
export async function signInWithToken(p, url, token, lang = 'pt-BR') {
  const en = lang === 'en';
  await p.goto(`${url}/`);
  await openTokenForm(p, lang);
  await p.getByLabel(en ? 'API token' : 'Token da API').fill(token);
  await p.getByRole('button', { name: en ? 'Sign in' : 'Entrar', exact: true }).click();
  await p.locator('#nav').waitFor({ state: 'visible' });
}

/* Fails when page p is wider than its screen (more than slack px of horizontal scrolling). */
export async function fits(p, what, slack = 1) {
  const over = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(over <= slack, `${what} fits the screen width (scrollWidth exceeds innerWidth by ${over}px)`);
}

/* ------------------------------------------------------------------ the runner */

/*
 * Tests of one file run in order, each printing "ok - name" or "not ok - name" with its stack
 * and a screenshot of the current page (currentPage()) as fail-<name>.png.
 */
export class Suite {
  constructor(name, currentPage) {
    this.name = name;
    this.currentPage = currentPage;
    this.passed = 0;
    this.failed = 0;
  }

  async run(name, fn) {
    try {
      await fn();
      this.passed += 1;
      console.log(`ok - ${name}`);
    } catch (e) {
      this.failed += 1;
      console.log(`not ok - ${name}\n  # ${String(e.stack || e).split('\n').slice(0, 14).join('\n  # ')}`);
      const p = this.currentPage();
      if (p) await p.screenshot({ path: path.join(SHOTS, `fail-${this.name}.png`), fullPage: true }).catch(() => {});
    }
  }

  /* What failed outside a test (the set-up). */
  broke(e) {
    this.failed += 1;
    console.log(`not ok - set-up: ${e.stack || e}`);
  }

  /* Closes the browser, stops the server (keeping its directory and printing its log on a failure) and exits. */
  async finish(server, browser) {
    if (browser) await browser.close().catch(() => {});
    await server.stop({ keep: this.failed > 0 });
    if (this.failed) console.log(server.logTail());
    console.log(`e2e: ${this.passed} passed, ${this.failed} failed`);
    process.exit(this.failed ? 1 : 0);
  }
}
