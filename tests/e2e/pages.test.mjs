// tests/e2e/pages.test.mjs BUILD_DIR — the lead's pages of the console (issue 13, items 4–6):
// Ligações (support calls with who answered, the voicemail player and its transcription),
// Envios (every text with its status and error in words), Auditoria (who did what: an alert
// acknowledged with a token is named by the token), Sobreaviso (hours per person split into
// weekday/weekend/holiday, month by month, the CSV download), Trocas (Ana offers her shift to
// Bruno on a phone, Bruno confirms on a desktop, then he is on call). Each list is filtered and paged in
// the browser; every page is measured at 390 px (document.documentElement.scrollWidth <=
// innerWidth) and at 1280 px, in Portuguese and English, and each is saved in
// BUILD/test-output/screenshots/pages-<page>-<lang>-<width>.png. Starts its own `plantao serve`
// (temporary SQLite, clock moved to Tuesday 20 October 2026, no Twilio: texts wait in the
// outbox) and Debian's Chromium through playwright-core (tests/e2e/lib.mjs). Support calls and
// one undelivered text are written into the database as the voice webhooks and Twilio's
// callbacks would have left them. Last line: "e2e: N passed, N failed". Run: node tests/e2e/pages.test.mjs build
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SHOTS, Server, Suite, assert, fits as fitsPage, launchBrowser, openPage, screen, signInWithToken, until } from './lib.mjs';

// Tuesday 20 October 2026, 12:00 in São Paulo (-03:00)
const NOW = Date.UTC(2026, 9, 20, 15, 0) / 1000;
const server = new Server({ name: 'pages', clockOffset: Math.round(NOW - Date.now() / 1000) });
const api = (...a) => server.api(...a);

/* Rows the voice webhooks and Twilio's status callbacks would have written (SQLite, WAL: the server keeps running). */
function seed(sql) {
  execFileSync('python3', ['-c', 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1], timeout=10); c.executescript(sys.argv[2]); c.commit()',
    server.dbPath, sql]);
}

const problems = [];
let browser;
let page;
const suite = new Suite('pages', () => page);
const run = (name, fn) => suite.run(name, fn);

const fits = (what) => fitsPage(page, what, 0);

async function openBrowser(width, locale) {
  if (page) await page.context().close();
  page = await openPage(browser, problems, { ...screen(width), locale, lang: locale === 'en' ? 'en' : 'pt-BR', acceptDownloads: true });
  await signInWithToken(page, server.url, server.token, locale);
}

async function go(hash, heading) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
}

let ana;
let bruno;
let carla;
let alertId;

try {
  await server.start();
  browser = await launchBrowser();

  // the team: weekly shifts from Monday 5 October 09:00, Carla covering 20 November (a holiday)
  ana = (await api('POST', '/api/people', { name: 'Ana Souza', phone: '+5511990000001' })).json.id;
  bruno = (await api('POST', '/api/people', { name: 'Bruno Lima', phone: '+5511990000002' })).json.id;
  carla = (await api('POST', '/api/people', { name: 'Carla Dias Figueiredo de Albuquerque', phone: '+5511990000003' })).json.id;
  for (const id of [ana, bruno]) assert((await api('PUT', `/api/people/${id}/role`, { role: 'editor' })).status === 200, 'role');
  assert((await api('PUT', '/api/rotation', { members: [ana, bruno], shift_hours: 168, handoff: '2026-10-05T09:00' })).status === 200, 'rotation');
  assert((await api('POST', '/api/overrides', { person_id: carla, start: '2026-11-20T00:00', end: '2026-11-21T00:00', reason: 'troca' })).status === 201, 'override');
  assert((await api('PUT', '/api/escalation', { steps: [{ target: 'oncall', timeout_s: 30 }], rounds: 1 })).status === 200, 'escalation');
  // an alert acknowledged by a monitoring token
  const bot = (await api('POST', '/api/tokens', { name: 'grafana-ops', role: 'editor' })).json;
  alertId = (await api('POST', '/api/alerts', { summary: 'fila de pedidos parada', severity: 'warning' })).json.id;
  assert((await api('POST', `/api/alerts/${alertId}/ack`, undefined, bot.token)).status === 200, 'ack by the token');
  // thirty edits: the audit log has more than one page
  for (let i = 0; i < 30; i += 1) await api('PATCH', `/api/people/${bruno}`, { email: `bruno${i}@example.com` });
  const t = NOW - 3600;
  seed(`
    INSERT INTO support_calls (id, call_sid, caller, called, status, leg, accepted_by, accepted_at, created_at, ended_at)
      VALUES (1, 'CA${'1'.repeat(32)}', '+5521988887777', '+15005550006', 'answered', 1, ${ana}, ${t + 20}, ${t}, ${t + 320});
    INSERT INTO support_legs (call_id, leg, person_id, phone, dial_status, accepted, created_at)
      VALUES (1, 0, ${ana}, '+5511990000001', 'completed', 1, ${t});
    INSERT INTO support_calls (id, call_sid, caller, called, status, leg, created_at, ended_at)
      VALUES (2, 'CA${'2'.repeat(32)}', '+5531966665555', '+15005550006', 'voicemail', 2, ${t + 600}, ${t + 700});
    INSERT INTO support_legs (call_id, leg, person_id, phone, dial_status, accepted, created_at)
      VALUES (2, 0, ${ana}, '+5511990000001', 'no-answer', 0, ${t + 600}), (2, 1, ${bruno}, '+5511990000002', 'busy', 0, ${t + 630});
    INSERT INTO voicemails (call_sid, caller, recording_url, recording_sid, duration_s, transcription, person_id, created_at)
      VALUES ('CA${'2'.repeat(32)}', '+5531966665555', '${server.url}/recordings/RE1.mp3', 'RE${'3'.repeat(32)}', 14,
              'My order 4411 never arrived, please call me back', ${ana}, ${t + 690});
    INSERT INTO outbox (kind, class, priority, to_number, body, idem_key, status, tries, next_at_ms, sid, error_code,
                        encoding, segments, twilio_status, created_at, sent_at, updated_at)
      VALUES ('sms', 'support', 1, '+5511990000001', 'Recado de +5531966665555', 'e2e-vm-1', 'undelivered', 1, ${t * 1000},
              'SM${'4'.repeat(32)}', 30003, 'GSM-7', 1, 'undelivered', ${t + 700}, ${t + 701}, ${t + 760});
  `);

  for (const [width, locale] of [[390, 'pt-BR'], [390, 'en'], [1280, 'pt-BR'], [1280, 'en']]) {
    const en = locale === 'en';
    const tag = `${en ? 'en' : 'pt'}-${width}`;
    await run(`Ligações / Calls: who called, who answered, the voicemail player and transcription; filter (${tag})`, async () => {
      await openBrowser(width, locale);
      await go('#/calls', en ? 'Support calls' : 'Ligações do suporte');
      const rows = page.getByTestId('call');
      await until(async () => (await rows.count()) === 2, 'two calls');
      const first = await rows.nth(0).textContent();
      assert(first.includes('+5531966665555') && first.includes(en ? 'voicemail' : 'caixa postal'), first);
      assert(first.includes(en ? 'no answer' : 'não atendeu') && first.includes(en ? 'busy' : 'ocupado'), `legs in words: ${first}`);
      assert(first.includes('My order 4411'), 'transcription shown');
      const src = await rows.nth(0).locator('audio').getAttribute('src');
      assert(src === `${server.url}/recordings/RE1.mp3`, `player of the recording (${src})`);
      const second = await rows.nth(1).textContent();
      assert(second.includes('Ana Souza') && second.includes('5 min'), `answered by Ana, 5 min: ${second}`);
      await fits('the calls page');
      await page.screenshot({ path: path.join(SHOTS, `pages-calls-${tag}.png`), fullPage: true });
      await page.getByTestId('filter-status').selectOption('voicemail');
      await page.getByTestId('calls-filters').locator('button[type=submit]').click();
      await until(async () => (await rows.count()) === 1, 'one voicemail');
      await page.getByTestId('filter-status').selectOption('');
      await page.getByTestId('filter-person').selectOption(String(bruno));
      await page.getByTestId('calls-filters').locator('button[type=submit]').click();
      await until(async () => (await rows.count()) === 1 && (await rows.nth(0).textContent()).includes('+5531966665555'), 'Bruno was dialled once');
      await fits('the filtered calls page');
    });

    await run(`Envios / Deliveries: status and error in words, cost, filter by kind (${tag})`, async () => {
      await go('#/deliveries', en ? 'Deliveries' : 'Envios');
      const rows = page.getByTestId('delivery');
      await until(async () => (await rows.count()) >= 1, 'deliveries');
      const text = await page.getByTestId('deliveries').textContent();
      assert(text.includes(en ? 'not delivered' : 'não entregue'), `Twilio status in words: ${text.slice(0, 300)}`);
      assert(text.includes('30003: the phone is unreachable'), 'error code in words');
      assert(text.includes(en ? 'SMS part' : 'parte(s) de SMS'), 'cost in SMS parts');
      await fits('the deliveries page');
      await page.screenshot({ path: path.join(SHOTS, `pages-deliveries-${tag}.png`), fullPage: true });
      await page.getByTestId('filter-kind').selectOption('call');
      await page.getByTestId('deliveries-filters').locator('button[type=submit]').click();
      await page.getByTestId('empty').waitFor();
    });

    await run(`Auditoria / Audit: the token that acknowledged is named, paging with Mais antigos (${tag})`, async () => {
      // the alert's own page names the token too, never "through the API or console"
      await go(`#/alerts/${alertId}`, en ? `Alert ${alertId}` : `Alerta ${alertId}`);
      await until(async () => (await page.getByTestId('acked-by').count()) === 1, "the alert's acknowledger");
      const by = await page.getByTestId('acked-by').textContent();
      assert(by.includes('grafana-ops'), `the alert page names the token (${by})`);
      assert(!/API ou console|API or console/.test(await page.textContent('main')), 'the alert page never says "through the API or console"');
      await go('#/audit', en ? 'Audit log' : 'Auditoria');
      const rows = page.getByTestId('audit-row');
      await until(async () => (await rows.count()) === 25, 'a page of 25');
      await page.getByTestId('older').click();
      await until(async () => (await page.getByTestId('audit').textContent()).includes(en ? 'acknowledged the alert' : 'assumiu o alerta'),
        'the acknowledgement on the second page');
      const ack = page.locator('[data-testid=audit-row]', { hasText: en ? 'acknowledged the alert' : 'assumiu o alerta' });
      const who = await ack.locator('th').textContent();
      assert(who.includes('grafana-ops'), `the token is named (${who})`);
      assert(!/API ou console|API or console/.test(await page.textContent('main')), 'never "through the API or console"');
      await fits('the audit page');
      await page.screenshot({ path: path.join(SHOTS, `pages-audit-${tag}.png`), fullPage: true });
      await page.getByTestId('newer').click();
      await page.getByTestId('filter-action').selectOption('alert.');
      await page.getByTestId('audit-filters').locator('button[type=submit]').click();
      await until(async () => (await rows.count()) === 1, 'only the alert row');
    });

    await run(`Sobreaviso: November by class of day, month navigation, CSV download (${tag})`, async () => {
      await go('#/reports/2026-11', en ? 'On-call hours' : 'Sobreaviso');
      const table = page.getByTestId('sobreaviso');
      await table.waitFor();
      const text = await table.textContent();
      const n = (x) => (en ? x : x.replace('.', ','));
      assert(text.includes('Ana Souza') && text.includes(n('216.00')) && text.includes(n('327.00')), `Ana's hours: ${text}`);
      assert(text.includes(n('33.00')), `Bruno's holiday hours: ${text}`);
      const hol = await page.getByTestId('holidays').textContent();
      assert(hol.includes('Finados') && hol.includes('Consciência Negra'), hol);
      await fits('the sobreaviso page');
      await page.screenshot({ path: path.join(SHOTS, `pages-sobreaviso-${tag}.png`), fullPage: true });
      const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv').click()]);
      assert(dl.suggestedFilename() === 'sobreaviso-2026-11.csv', dl.suggestedFilename());
      const csv = fs.readFileSync(await dl.path(), 'utf8');
      assert(csv.includes('Ana Souza;216,00;96,00;15,00;327,00'), `CSV line: ${csv}`);
      await page.getByTestId('prev-month').click();
      await until(async () => (await page.getByTestId('month').textContent()).match(/outubro|October/), 'October');
      await page.getByTestId('next-month').click();
      await page.getByTestId('next-month').click();
      await until(async () => (await page.getByTestId('month').textContent()).match(/dezembro|December/), 'December');
      await fits('December');
    });
  }

  /* Signs in with the phone and the code the outbox holds (no Twilio here), in a new browser. */
  async function signInPhone(width, locale, phone) {
    if (page) await page.context().close();
    page = await openPage(browser, problems, { ...screen(width), locale, lang: locale === 'en' ? 'en' : 'pt-BR', consoleErrors: false });
    await page.goto(server.url);
    const before = new Set(((await api('GET', '/api/outbox?limit=100')).json.outbox || []).map((r) => r.id));
    await page.locator('input[type=tel], input[autocomplete=tel]').first().fill(phone);
    await page.locator('form').first().locator('button[type=submit]').click();
    const code = await until(async () => {
      const rows = (await api('GET', '/api/outbox?limit=100')).json.outbox || [];
      const m = rows.find((r) => !before.has(r.id) && r.to === phone && /\d{6}/.test(r.body || ''));
      return m && /(\d{6})/.exec(m.body)[1];
    }, `a code for ${phone}`);
    await page.locator('input[autocomplete=one-time-code], input[inputmode=numeric]').first().fill(code);
    await page.locator('form').first().locator('button[type=submit]').click();
    await page.locator('#nav').waitFor({ state: 'visible' });
  }

  let swapId;
  await run('Trocar turno: Ana offers the rest of her shift to Bruno on a phone (pt-390)', async () => {
    await signInPhone(390, 'pt-BR', '+5511990000001');
    await go('#/swaps', 'Trocas de turno');
    const form = page.getByTestId('swap-form');
    await form.waitFor();
    await page.getByTestId('swap-colleague').selectOption(String(bruno));
    await fits('the swap form');
    await page.screenshot({ path: path.join(SHOTS, 'pages-swaps-offer-pt-390.png'), fullPage: true });
    await form.locator('button[type=submit]').click();
    await until(async () => (await page.getByTestId('swap').count()) === 1, 'the swap listed');
    assert((await page.getByTestId('swap-state').textContent()) === 'esperando confirmação', 'pending');
    const list = (await api('GET', '/api/swaps')).json.swaps;
    swapId = list[0].id;
    assert(list[0].from_person === ana && list[0].to_person === bruno && list[0].from_confirmed_at, JSON.stringify(list[0]));
  });

  await run('Trocar turno: Bruno confirms on a desktop in English and is on call (en-1280)', async () => {
    await signInPhone(1280, 'en', '+5511990000002');
    await go('#/swaps', 'Shift swaps');
    const row = page.getByTestId('swap');
    await row.getByRole('button', { name: 'Confirm swap' }).click();
    await until(async () => (await page.getByTestId('swap-state').textContent()) === 'confirmed: shift swapped', 'accepted');
    await fits('the swaps page');
    await page.screenshot({ path: path.join(SHOTS, 'pages-swaps-confirmed-en-1280.png'), fullPage: true });
    const oncall = (await api('GET', '/api/oncall')).json;
    assert(oncall.person && oncall.person.id === bruno, `Bruno is on call now (${JSON.stringify(oncall)})`);
    const sw = (await api('GET', '/api/swaps')).json.swaps.find((x) => x.id === swapId);
    assert(sw.status === 'accepted' && sw.override_id, JSON.stringify(sw));
  });

  await run('Escala / Now: stretches with nobody on call in red, the calendar moves by week and month, the Now page warns (pt-390, en-1280)', async () => {
    assert((await api('PUT', '/api/rotation', { members: [] })).status === 200, 'the rotation emptied');
    try {
      for (const [width, locale] of [[390, 'pt-BR'], [1280, 'en']]) {
        const en = locale === 'en';
        await openBrowser(width, locale);
        await go('#/', en ? 'Now' : 'Agora');
        const warn = page.getByTestId('gap-warning');
        await warn.waitFor();
        assert((await warn.textContent()).includes(en ? 'Nobody on call' : 'Ninguém de plantão'), 'the Now page warns');
        await fits('the Now page with its warning');
        await page.screenshot({ path: path.join(SHOTS, `pages-now-gap-${en ? 'en' : 'pt'}-${width}.png`), fullPage: true });
        await go('#/schedule', en ? 'Schedule' : 'Escala');
        const gaps = page.getByTestId('gap');
        await until(async () => (await gaps.count()) > 0, 'red stretches with nobody on call');
        const color = await gaps.first().evaluate((e) => getComputedStyle(e).backgroundColor);
        assert(color === 'rgb(253, 226, 225)', `a gap is red (${color})`);
        const range0 = await page.getByTestId('cal-range').textContent();
        await page.getByTestId('cal-next-week').click();
        await until(async () => (await page.getByTestId('cal-range').textContent()) !== range0, 'a week later');
        const range1 = await page.getByTestId('cal-range').textContent();
        await page.getByTestId('cal-next-month').click();
        await until(async () => ![range0, range1].includes(await page.getByTestId('cal-range').textContent()), 'four weeks later');
        await page.getByTestId('cal-prev-month').click();
        await until(async () => (await page.getByTestId('cal-range').textContent()) === range1, 'back four weeks');
        await page.getByTestId('cal-prev-week').click();
        await until(async () => (await page.getByTestId('cal-range').textContent()) === range0, 'back a week');
        await page.getByTestId('cal-next-week').click();
        await page.getByTestId('cal-today').click();
        await until(async () => (await page.getByTestId('cal-range').textContent()) === range0, '"today" comes back');
        await fits('the schedule with its gaps and navigation');
        await page.screenshot({ path: path.join(SHOTS, `pages-schedule-gap-${en ? 'en' : 'pt'}-${width}.png`), fullPage: true });
      }
    } finally {
      await api('PUT', '/api/rotation', { members: [ana, bruno] });
    }
  });

  await run('no script errors or CSP violations', async () => {
    assert(problems.length === 0, problems.join('\n'));
  });
} catch (e) {
  suite.broke(e);
} finally {
  await suite.finish(server, browser);
}
