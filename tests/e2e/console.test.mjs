// tests/e2e/console.test.mjs BUILD_DIR — browser tests of the web console.
//
// Starts the real `BUILD_DIR/plantao serve` on a free loopback port with a temporary SQLite
// file, a bootstrap admin token and a movable clock (PLANTAO_CLOCK_FILE; no Twilio credentials:
// messages stay queued, and the tests read one-time codes from the outbox as an admin; the
// server, the browser and signing in with a token are tests/e2e/lib.mjs), then
// drives Debian's Chromium through playwright-core as a person would: sign in with a phone and
// a code on a phone-width screen, verify one's phone, sign out, paste the token, add people,
// build the rotation, add an override, acknowledge an alert, upload sales, read-only with a
// viewer token. The browser runs in another time zone (Asia/Tokyo) than the rotation
// (America/Sao_Paulo), so dates shown in the browser's zone by mistake would be caught.
//
// Tests run in order and share the server (each builds on the previous one's data). A
// screenshot of every page goes to BUILD_DIR/test-output/screenshots/. The last line printed
// is "e2e: N passed, N failed" (tests/run reads it).

import fs from 'node:fs';
import path from 'node:path';
import {
  ROOT, SHOTS, STEP_TIMEOUT, Server, assert, launchBrowser, openPage, openTokenForm, signInWithToken,
  until as untilLib,
} from './lib.mjs';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
const pending = [];

/* ------------------------------------------------------------------ helpers */

const server = new Server();
let browser;
let page; // the admin's page, shared by the tests in order
const problems = []; // console errors and uncaught exceptions of every page

async function newPage(opts = {}) {
  return openPage(browser, problems, {
    viewport: opts.viewport || { width: 1280, height: 900 },
    who: opts.who || 'admin',
    ...opts.context,
  });
}

async function shot(p, name, fullPage = true) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

/* Opens the page of hash and waits until that page has its title and has loaded. The page shown
 * before stays until the hash change is handled, and two pages can share a section's class
 * (#/alerts and #/alerts/ID): so the section shown before must have left first. */
async function go(p, hash) {
  const name = hash.replace(/^#\/?/, '').split('/')[0] || 'now';
  const before = (await p.evaluate(() => location.hash)) !== hash ? await p.$('section.page') : null;
  await p.evaluate((h) => { location.hash = h; }, hash);
  if (before) {
    await p.waitForFunction((el) => !el.isConnected, before);
    await before.dispose();
  }
  await p.locator(`section.page-${name} h1`).first().waitFor();
  await p.locator(`section.page-${name} .loading`).waitFor({ state: 'detached' });
}

async function signIn(p, token) {
  await signInWithToken(p, server.url, token);
  await p.locator('section.page h1').first().waitFor();
  await p.locator('section.page .loading').waitFor({ state: 'detached' });
}

async function text(locator) {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

/* Polls fn until it returns something truthy; an exception from fn is tried again. */
const until = (fn, what, ms = STEP_TIMEOUT) => untilLib(fn, what, ms, true);

/* ------------------------------------------------------------------ tests */

let ana;
let bruno;

test('the console is served with its CSP and asks for a token', async () => {
  const r = await fetch(`${server.url}/`);
  const csp = r.headers.get('content-security-policy') || '';
  assert(r.ok && /script-src 'self'/.test(csp), `CSP header on / (${csp})`);
  page = await newPage();
  await page.goto(`${server.url}/`);
  await page.getByLabel('Seu telefone').waitFor(); // signing in with a phone comes first
  await openTokenForm(page);
  assert(!(await page.locator('#nav').isVisible()), 'navigation hidden before sign-in');
  assert((await page.locator('html').getAttribute('lang')) === 'pt-BR', 'Portuguese by default');
  await page.getByLabel('Token da API').fill('not-a-token');
  await page.getByRole('button', { name: 'Entrar', exact: true }).click();
  await page.getByText('O servidor recusou este token.').waitFor();
  assert((await page.getByLabel('Token da API').getAttribute('aria-invalid')) === 'true', 'token field marked invalid');
  await shot(page, '01-sign-in');
  await page.getByLabel('Token da API').fill(server.token);
  await page.getByRole('button', { name: 'Entrar', exact: true }).click();
  await page.locator('#nav').waitFor({ state: 'visible' });
  assert((await text(page.locator('#role'))) === 'administrador', 'role shown as admin');
  const stored = await page.evaluate(() => localStorage.getItem('plantao.token'));
  assert(stored === server.token, 'token kept in localStorage');
  assert(!page.url().includes(server.token), 'token never in the URL');
});

test('people: the API validation message shows next to the phone field, then the person is added', async () => {
  await go(page, '#/people');
  const form = page.getByTestId('person-form');
  await form.waitFor(); // nobody yet: the form opens by itself
  await form.getByLabel('Nome').fill('Ana Souza');
  await form.getByLabel('Telefone').fill('11 9999');
  await form.getByRole('button', { name: 'Adicionar pessoa' }).click();
  const err = form.locator('[data-error-for="phone"]');
  await err.waitFor({ state: 'visible' });
  assert(/^Não reconhecemos este telefone/.test(await text(err)), `the API's code said under the phone field (${await text(err)})`);
  assert((await form.getByLabel('Telefone').getAttribute('aria-invalid')) === 'true', 'phone marked invalid');
  await shot(page, '02-people-error');
  await form.getByLabel('Telefone').fill('+55 11 99999-0001');
  await form.getByRole('button', { name: 'Adicionar pessoa' }).click();
  await page.locator('table[data-testid="people"]').getByText('Ana Souza').waitFor();

  await page.getByTestId('add-person').click();
  const f2 = page.getByTestId('person-form');
  await f2.getByLabel('Nome').fill('Bruno Lima');
  await f2.getByLabel('Telefone').fill('+5511999990002');
  await f2.getByLabel('Recebe alertas por WhatsApp').check();
  await f2.getByRole('button', { name: 'Adicionar pessoa' }).click();
  await page.locator('table[data-testid="people"]').getByText('Bruno Lima').waitFor();

  const people = (await server.api('GET', '/api/people')).json.people;
  ana = people.find((p) => p.name === 'Ana Souza');
  bruno = people.find((p) => p.name === 'Bruno Lima');
  assert(ana && ana.phone === '+5511999990001', 'Ana stored with her phone in E.164');
  assert(bruno && bruno.whatsapp === true, 'Bruno stored with WhatsApp');

  // edit: a duplicate phone is refused by the API and the message is shown
  await page.getByRole('button', { name: 'Editar Bruno Lima' }).click();
  const f3 = page.getByTestId('person-form');
  await f3.getByLabel('Telefone').fill('+5511999990001');
  await f3.getByRole('button', { name: 'Salvar' }).click();
  await until(async () => (await f3.locator('.field-error:visible, .form-error:visible').count()) > 0, 'conflict message');
  await f3.getByLabel('Telefone').fill('+5511999990002');
  await f3.getByLabel('E-mail', { exact: true }).fill('bruno@example.com');
  assert(await f3.getByTestId('email-pages').isChecked(), 'pages by e-mail are on by default');
  await f3.getByTestId('email-pages').uncheck();
  await f3.getByRole('button', { name: 'Salvar' }).click();
  await page.locator('table[data-testid="people"]').getByText('bruno@example.com').waitFor();
  const brunoNow = (await server.api('GET', '/api/people')).json.people.find((p) => p.email === 'bruno@example.com');
  assert(brunoNow && brunoNow.email_pages === false, 'Bruno chose texts only: email_pages false');

  // remove: two steps, no browser dialog
  await page.getByTestId('add-person').click();
  const f4 = page.getByTestId('person-form');
  await f4.getByLabel('Nome').fill('Carla Temporária');
  await f4.getByLabel('Telefone').fill('+5511999990003');
  await f4.getByRole('button', { name: 'Adicionar pessoa' }).click();
  const carla = page.locator('table[data-testid="people"] tr', { hasText: 'Carla Temporária' });
  await carla.waitFor();
  await carla.getByRole('button', { name: 'Remover Carla Temporária' }).click();
  await carla.getByRole('button', { name: 'Cancelar' }).click();
  await carla.getByRole('button', { name: 'Remover Carla Temporária' }).click();
  await carla.getByRole('button', { name: 'Confirmar remoção' }).click();
  await carla.waitFor({ state: 'detached' });
  assert((await server.api('GET', '/api/people')).json.people.length === 2, 'Carla removed');
  await shot(page, '03-people');
});

test('rotation: a person put in the rotation is shown as on call', async () => {
  await go(page, '#/schedule');
  const form = page.getByTestId('rotation-form');
  await form.getByLabel('Adicionar ao rodízio').selectOption({ label: 'Ana Souza' });
  await form.getByRole('button', { name: 'Adicionar', exact: true }).click();
  await form.getByLabel('Duração do turno (horas)').fill('168');
  await form.getByRole('button', { name: 'Salvar rodízio' }).click();
  await page.getByTestId('members').getByText('Ana Souza').waitFor();
  await page.getByTestId('calendar').locator('.shift', { hasText: 'Ana Souza' }).first().waitFor();
  const rot = (await server.api('GET', '/api/rotation')).json;
  assert(JSON.stringify(rot.members) === JSON.stringify([ana.id]), `rotation members saved (${JSON.stringify(rot.members)})`);
  assert(rot.shift_hours === 168 && /T09:00/.test(rot.handoff), `weekly, Monday 09:00 hand-off (${rot.handoff})`);

  await go(page, '#/now');
  const name = await text(page.getByTestId('oncall-name'));
  assert(name.includes('Ana Souza'), `Ana on call (${name})`);
  // the shift ends at a Monday 09:00 in São Paulo, shown in that zone (the browser is in Tokyo)
  const until_ = await text(page.getByTestId('oncall-until'));
  assert(/segunda-feira/.test(until_) && /09:00/.test(until_), `until Monday 09:00 São Paulo time (${until_})`);
  await shot(page, '04-now');
});

test('rotation: reorder members with the arrow buttons', async () => {
  await go(page, '#/schedule');
  const form = page.getByTestId('rotation-form');
  await form.getByLabel('Adicionar ao rodízio').selectOption({ label: 'Bruno Lima' });
  await form.getByRole('button', { name: 'Adicionar', exact: true }).click();
  await form.getByRole('button', { name: 'Subir Bruno Lima' }).click();
  const order = await page.getByTestId('members').locator('li').allInnerTexts();
  assert(order[0].includes('Bruno') && order[1].includes('Ana'), `Bruno moved up (${order})`);
  await form.getByRole('button', { name: 'Descer Bruno Lima' }).click();
  await form.getByRole('button', { name: 'Salvar rodízio' }).click();
  await until(async () => {
    const r = (await server.api('GET', '/api/rotation')).json;
    return JSON.stringify(r.members) === JSON.stringify([ana.id, bruno.id]);
  }, 'rotation [Ana, Bruno] saved');
  await page.getByTestId('calendar').locator('.shift', { hasText: 'Bruno Lima' }).first().waitFor();
  // weekly hand-off at 09:00 São Paulo time is drawn at 09:00 whatever the browser's zone
  const spans = await page.getByTestId('calendar').locator('.shift .span').allInnerTexts();
  assert(spans.some((s) => s.includes('09:00')), `hand-off drawn at 09:00 (${spans.join(' | ')})`);
  const oncall = (await server.api('GET', '/api/oncall')).json;
  assert(oncall.person.id === ana.id, 'Ana still on call: the rotation edit starts a new version now');

  // someone in the rotation cannot be removed: the API says why, in the person's row
  await go(page, '#/people');
  const row = page.locator('table[data-testid="people"] tr', { hasText: 'Ana Souza' });
  await row.getByRole('button', { name: 'Remover Ana Souza' }).click();
  await row.getByRole('button', { name: 'Confirmar remoção' }).click();
  await until(async () => (await text(row.locator('.row-error'))).length > 0, 'the reason Ana cannot be removed');
  assert((await server.api('GET', `/api/people/${ana.id}`)).status === 200, 'Ana still there');
});

test('overrides: adding one changes the calendar, removing it changes it back', async () => {
  await go(page, '#/schedule');
  const cal = page.getByTestId('calendar');
  assert((await cal.locator('.shift.ovr').count()) === 0, 'no override drawn yet');
  const form = page.getByTestId('override-form');
  await form.getByLabel('Pessoa').selectOption({ label: 'Bruno Lima' });
  await form.getByLabel('Motivo').fill('consulta médica da Ana');
  await form.getByRole('button', { name: 'Adicionar substituição' }).click();
  await cal.locator('.shift.ovr', { hasText: 'Bruno Lima' }).first().waitFor();
  await page.getByTestId('overrides').getByText('consulta médica da Ana').waitFor();
  const ovr = (await server.api('GET', '/api/overrides')).json.overrides;
  assert(ovr.length === 1 && ovr[0].person_id === bruno.id, 'override stored for Bruno');
  await shot(page, '05-schedule');

  // an end before the start is refused with the API's message next to "Fim"
  await form.getByLabel('Fim').fill('2020-01-01T00:00');
  await form.getByRole('button', { name: 'Adicionar substituição' }).click();
  await form.locator('[data-error-for="end"]').waitFor({ state: 'visible' });

  await page.getByRole('button', { name: 'Remover a substituição de Bruno Lima' }).click();
  await page.getByRole('button', { name: 'Confirmar remoção' }).click();
  await until(async () => (await cal.locator('.shift.ovr').count()) === 0, 'override gone from the calendar');
});

test('calendar feed: an admin makes a viewer token for it and the address serves iCalendar', async () => {
  await go(page, '#/schedule');
  await page.getByRole('button', { name: 'Criar um token de leitura para a agenda' }).click();
  const input = page.getByTestId('ics-url');
  // the placeholder (TOKEN_DE_LEITURA) also looks like a token: wait for a real one
  await until(async () => /token=plt_[0-9a-f]{64}$/.test(await input.inputValue()), 'the feed address with a token');
  const url = await input.inputValue();
  assert(url.startsWith(`${server.url}/api/schedule.ics?token=`), `feed address (${url})`);
  const r = await fetch(url); // no Authorization header, as a calendar app
  const body = await r.text();
  assert(r.ok && body.startsWith('BEGIN:VCALENDAR') && body.includes('Ana Souza'), `iCalendar served (${r.status})`);
  const tokens = (await server.api('GET', '/api/tokens')).json.tokens;
  assert(tokens.some((tk) => tk.role === 'viewer'), 'a viewer token was created');
  assert(!page.url().includes('token'), 'the console URL carries no token');
});

test('now: "Assumir o plantão" makes the chosen person on call until the end of the shift', async () => {
  await go(page, '#/now');
  const before = (await server.api('GET', '/api/oncall')).json;
  await page.getByLabel('Quem assume').selectOption({ label: 'Bruno Lima' });
  await page.getByRole('button', { name: 'Assumir o plantão' }).click();
  await until(async () => (await text(page.getByTestId('oncall-name'))).includes('Bruno Lima'), 'Bruno on call');
  await page.getByTestId('oncall-until').getByText('substituição').waitFor();
  const after = (await server.api('GET', '/api/oncall')).json;
  assert(after.by_override && after.person.id === bruno.id, 'Bruno on call by override');
  assert(Date.parse(after.end) === Date.parse(before.end), `override ends with the shift (${after.end} vs ${before.end})`);

  // taking it back overlaps Bruno's override: the API refuses (409) and the console offers to replace it
  await page.getByLabel('Quem assume').selectOption({ label: 'Ana Souza' });
  await page.getByRole('button', { name: 'Assumir o plantão' }).click();
  await page.getByRole('button', { name: 'Substituir a que já existe' }).click();
  await until(async () => (await text(page.getByTestId('oncall-name'))).includes('Ana Souza'), 'Ana on call again');
  const again = (await server.api('GET', '/api/oncall')).json;
  assert(again.by_override && again.person.id === ana.id, 'Ana on call by the replacing override');
  await page.getByLabel('Quem assume').selectOption({ label: 'Bruno Lima' });
  await page.getByRole('button', { name: 'Assumir o plantão' }).click();
  await page.getByRole('button', { name: 'Substituir a que já existe' }).click();
  await until(async () => (await text(page.getByTestId('oncall-name'))).includes('Bruno Lima'), 'Bruno on call again');
  await shot(page, '06-now-taken');
});

test('alerts: an alert triggered through the API appears by itself and is acknowledged with the button', async () => {
  await go(page, '#/alerts');
  await page.getByText('Nenhum alerta.').waitFor();
  const r = await server.api('POST', '/api/alerts', { summary: 'disco cheio em db1', severity: 'critical', source: 'e2e' });
  assert(r.status === 202, `alert accepted (${r.status} ${r.text})`);
  const id = r.json.id;
  const row = page.locator(`tr[data-alert="${id}"]`);
  await row.waitFor(); // the list refreshes every 5 s
  assert((await text(row.getByTestId('status'))) === 'disparado', 'shown as triggered');
  await shot(page, '07-alerts');
  await row.getByRole('button', { name: `Assumir o alerta ${id}` }).click();
  await until(async () => (await text(row.getByTestId('status'))) === 'assumido', 'shown as acknowledged');
  const a = (await server.api('GET', `/api/alerts/${id}`)).json;
  assert(a.status === 'acknowledged' && a.acked_via === 'api', `acknowledged through the API (${a.status})`);

  await row.getByRole('link', { name: 'disco cheio em db1' }).click();
  await page.getByRole('heading', { name: `Alerta ${id}: disco cheio em db1` }).waitFor();
  const tl = page.getByTestId('timeline');
  await tl.getByText('Disparado').waitFor();
  await tl.getByText('Assumido').waitFor();
  await page.getByRole('button', { name: `Resolver o alerta ${id}` }).click();
  await page.getByTestId('status').getByText('resolvido').waitFor();
  await shot(page, '08-alert-detail');
});

test('escalation: steps and rounds are edited, and a bad timeout is shown at its field', async () => {
  await go(page, '#/escalation');
  const form = page.getByTestId('escalation-form');
  await form.getByLabel('Passo 2: ligar para').selectOption({ label: 'Bruno Lima' });
  await form.getByRole('button', { name: 'Adicionar passo' }).click();
  await form.getByLabel('Esperar (segundos)').nth(0).fill('2');
  await form.getByRole('button', { name: 'Salvar' }).click();
  const err = form.locator('[data-error-for="steps[0].timeout_s"]');
  await err.waitFor({ state: 'visible' });
  assert(/timeout_s/.test(await text(err)), `message at the first step's timeout (${await text(err)})`);
  await form.getByLabel('Esperar (segundos)').nth(0).fill('45');
  await form.getByLabel('Rodadas').fill('2');
  await form.getByRole('button', { name: 'Salvar' }).click();
  await until(async () => {
    const e = (await server.api('GET', '/api/escalation')).json;
    return e.rounds === 2 && e.steps.length === 3 && e.steps[0].timeout_s === 45 && e.steps[1].target === bruno.id;
  }, 'policy saved');
  await go(page, '#/escalation');
  assert((await page.getByTestId('escalation-form').getByLabel('Rodadas').inputValue()) === '2', 'rounds shown after reload');
  await shot(page, '09-escalation');
});

test('sales: the goal and the managers are edited, a CSV upload draws the per-seller chart against the goal', async () => {
  const probe = await server.api('GET', '/api/sales/settings');
  if (probe.status === 404 || probe.status === 405) {
    await go(page, '#/sales');
    await shot(page, '10-sales');
    return 'pending: the sales API (/api/sales) is not served by this build yet';
  }
  await go(page, '#/sales');
  const settings = page.getByTestId('sales-settings');
  await settings.getByLabel('Meta mensal').fill('60000');
  await settings.getByLabel('Telefones dos gerentes').fill('+5511988887777\n123');
  await settings.getByRole('button', { name: 'Salvar' }).click();
  const err = settings.locator('[data-error-for="notify"]');
  await err.waitFor({ state: 'visible' });
  assert(/^notify\[1\]/.test(await text(err)), `message at the phones (${await text(err)})`);
  await settings.getByLabel('Telefones dos gerentes').fill('+5511988887777');
  await settings.getByRole('button', { name: 'Salvar' }).click();
  await until(async () => {
    const st = (await server.api('GET', '/api/sales/settings')).json;
    return st.target_cents === 6000000 && JSON.stringify(st.notify) === '["+5511988887777"]';
  }, 'goal R$ 60.000,00 and one manager saved');

  const csv = path.join(server.tmp, 'vendas.csv');
  fs.writeFileSync(csv, 'vendedor;valor\nCarla Dias;"R$ 61.250,00"\nDiego Alves;"R$ 12.000,50"\nEva Rocha;"R$ 55.000,01"\n');
  const period = await page.getByLabel('Mês', { exact: true }).inputValue();
  await page.getByTestId('upload-form').getByLabel('Arquivos (.xlsx, CSV ou JSON)').setInputFiles(csv);
  await page.getByRole('button', { name: 'Enviar', exact: true }).click();
  const result = page.getByTestId('upload-results').locator('li.ok').first();
  await result.waitFor();
  assert(/3 vendedores importados; 1 acima da meta; 1 avisos na fila/.test(await text(result)),
    `import summary (${await text(result)})`);
  const chart = page.locator('svg.chart');
  await chart.locator('rect.bar').nth(2).waitFor();
  assert((await chart.locator('rect.bar').count()) === 3, 'one bar per seller');
  assert((await chart.locator('rect.bar.above').count()) === 1, 'one seller above the R$ 60.000,00 goal');
  assert((await chart.locator('rect.bar.above').getAttribute('data-seller')) === 'Carla Dias', 'Carla above the goal');
  assert(((await chart.locator('.goal-lbl').textContent()) || '').includes('60.000,00'), 'the goal line is labelled');
  const rep = (await server.api('GET', `/api/sales/report?period=${period}`)).json;
  const carla = rep.sellers.find((x) => x.seller === 'Carla Dias');
  assert(carla && carla.amount_cents === 6125000 && carla.notified, 'report: Carla imported and announced');
  await shot(page, '10-sales');

  // two workbooks at once, each month read from its file name
  const fixtures = path.join(ROOT, 'tests', 'fixtures', 'sales');
  await page.getByTestId('upload-form').getByLabel('Arquivos (.xlsx, CSV ou JSON)')
    .setInputFiles([path.join(fixtures, 'janeiro 2026.xlsx'), path.join(fixtures, 'fevereiro 2026.xlsx')]);
  await page.getByLabel(/Mês pelo nome de cada arquivo/).check();
  await page.getByRole('button', { name: 'Enviar', exact: true }).click();
  await until(async () => /2026-01, 2026-02/.test(await text(page.getByTestId('upload-results'))), 'both months imported');
  assert((await page.getByLabel('Mês', { exact: true }).inputValue()) === '2026-01', 'the month shown is the first imported');
  await until(async () => (await page.locator('svg.chart rect.bar').count()) === 3, 'January drawn');
  const jan = (await server.api('GET', '/api/sales/report?period=2026-02')).json;
  assert(jan.sellers.length === 3, 'February imported from its own file');
  await shot(page, '10-sales-xlsx');
  return null;
});

test('viewer token: every page reads, no edit control is shown', async () => {
  const v = await server.api('POST', '/api/tokens', { name: 'e2e-viewer', role: 'viewer' });
  assert(v.status === 201, `viewer token created (${v.status})`);
  const vp = await newPage({ who: 'viewer' });
  await signIn(vp, v.json.token);
  assert((await text(vp.locator('#role'))) === 'somente leitura', 'role shown as read only');
  await vp.locator('#readonly-note').waitFor({ state: 'visible' });
  assert((await text(vp.getByTestId('oncall-name'))).includes('Bruno Lima'), 'viewer sees who is on call');
  assert(!(await vp.getByRole('button', { name: 'Assumir o plantão' }).isVisible()), 'no take-the-shift button');
  await go(vp, '#/people');
  await vp.locator('table[data-testid="people"]').getByText('Ana Souza').waitFor();
  assert(!(await vp.getByTestId('add-person').isVisible()), 'no add button');
  assert(!(await vp.getByRole('button', { name: 'Editar Ana Souza' }).isVisible()), 'no edit button');
  await go(vp, '#/schedule');
  await vp.getByTestId('calendar').locator('.shift').first().waitFor();
  assert(!(await vp.getByRole('button', { name: 'Salvar rodízio' }).isVisible()), 'no rotation save');
  assert(!(await vp.getByTestId('override-form').isVisible()), 'no override form');
  await shot(vp, '11-viewer-schedule');
  await go(vp, '#/escalation');
  assert(!(await vp.getByRole('button', { name: 'Salvar' }).isVisible()), 'no escalation save');
  await go(vp, '#/alerts');
  await vp.getByTestId('alerts').waitFor();
  assert((await vp.getByRole('button', { name: /Assumir o alerta|Resolver/ }).count()) === 0, 'no ack/resolve buttons');
  // the API refuses the viewer's edits anyway (the console hides, the server enforces)
  const edit = await server.api('POST', '/api/people', { name: 'X', phone: '+5511999990009' }, v.json.token);
  assert(edit.status === 403, `viewer edit refused by the API (${edit.status})`);
  // a revoked token sends the console back to the token form, saying why
  assert((await server.api('DELETE', `/api/tokens/${v.json.id}`)).status === 200, 'viewer token revoked');
  await vp.evaluate(() => { location.hash = '#/people'; });
  await vp.getByText('O token não vale mais: cole um token válido.').waitFor();
  assert(!(await vp.locator('#nav').isVisible()), 'navigation hidden again');
  assert((await vp.evaluate(() => localStorage.getItem('plantao.token'))) === null, 'revoked token forgotten');
  await vp.context().close();
});

test('editor token: edits allowed, token administration not offered', async () => {
  const e = await server.api('POST', '/api/tokens', { name: 'e2e-editor', role: 'editor' });
  assert(e.status === 201, `editor token created (${e.status})`);
  const ep = await newPage({ who: 'editor' });
  await signIn(ep, e.json.token);
  assert((await text(ep.locator('#role'))) === 'editor', 'role shown as editor');
  assert(!(await ep.locator('#readonly-note').isVisible()), 'no read-only note');
  // isVisible() does not wait: a control that is offered is waited for
  await ep.getByRole('button', { name: 'Assumir o plantão' }).waitFor({ state: 'visible' }); // take-the-shift offered
  await go(ep, '#/schedule');
  await ep.getByRole('button', { name: 'Salvar rodízio' }).waitFor({ state: 'visible' }); // rotation editable
  assert(!(await ep.getByRole('button', { name: 'Criar um token de leitura para a agenda' }).isVisible()),
    'calendar token (admin only) not offered');
  await ep.context().close();
});

test('language: the English toggle translates the console and is remembered', async () => {
  await go(page, '#/now');
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Now', level: 1 }).waitFor();
  assert((await page.locator('html').getAttribute('lang')) === 'en', 'html lang=en');
  assert((await text(page.locator('#nav'))).includes('Schedule'), 'navigation in English');
  const until_ = await text(page.getByTestId('oncall-until'));
  assert(/Monday/.test(until_), `dates in English (${until_})`);
  await page.reload();
  await page.getByRole('heading', { name: 'Now', level: 1 }).waitFor();
  await shot(page, '12-now-english');
  await page.getByRole('button', { name: 'Português' }).click();
  await page.getByRole('heading', { name: 'Agora', level: 1 }).waitFor();
});

/*
 * Everything a lead touches must be reachable on a 390 x 844 phone: the page no wider than the
 * screen, and every button, link and field of the page (nav included) with its box inside the
 * viewport, not hidden in a side-scrolling table. Checked on every page, in both languages,
 * with data in the tables: long names, alerts open and acknowledged, monitors, sales.
 */
async function reachable(p, what) {
  const r = await p.evaluate(() => {
    const vw = window.innerWidth;
    const out = [];
    for (const el of document.querySelectorAll('button, a[href], input, select, textarea, summary, .chip')) {
      const b = el.getBoundingClientRect();
      const cs = getComputedStyle(el);
      if (b.width === 0 || b.height === 0 || cs.visibility === 'hidden' || el.closest('[hidden], .sr-only, .skip')) continue;
      if (b.left < -1 || b.right > vw + 1) {
        out.push(`${el.tagName.toLowerCase()} "${(el.getAttribute('aria-label') || el.textContent || el.name || '').trim().slice(0, 30)}" ${Math.round(b.left)}..${Math.round(b.right)}`);
      }
    }
    return { over: document.documentElement.scrollWidth - vw, out };
  });
  assert(r.over <= 0, `${what}: page ${r.over} px wider than the 390 px screen`);
  assert(r.out.length === 0, `${what}: off screen: ${r.out.slice(0, 6).join('; ')}`);
}

test('phone screen: every page, state and button fits a 390 px wide screen, in Portuguese and English', async () => {
  const long = [
    ['Maria Aparecida dos Santos Figueiredo Albuquerque', '+5511970000101'],
    ['João Pedro de Oliveira Castro Vasconcellos Filho', '+5511970000102'],
  ];
  const ids = [];
  for (const [name, phone] of long) {
    const r = await server.api('POST', '/api/people', { name, phone });
    assert(r.status === 201, `${name} added (${r.text})`);
    ids.push(r.json.id);
  }
  const rot = await server.api('GET', '/api/rotation');
  const members = [...((rot.json && rot.json.members) || []).map((m) => (typeof m === 'object' ? m.id : m)), ...ids];
  const put = await server.api('PUT', '/api/rotation', { members });
  assert(put.status === 200, `long names in the rotation (${put.text})`);
  const open = await server.api('POST', '/api/alerts', { summary: 'replicação atrasada no banco principal de faturamento-produção-sp1', severity: 'critical' });
  const acked = await server.api('POST', '/api/alerts', { summary: 'certificado de www.exemplo-muito-longo.com.br vence em 5 dias', severity: 'warning' });
  assert(open.status === 202 && acked.status === 202, 'two alerts');
  await server.api('POST', `/api/alerts/${acked.json.id}/ack`);
  const mon = await server.api('POST', '/api/monitors', { kind: 'heartbeat', name: 'backup noturno do banco de faturamento', period_s: 3600, grace_s: 600 });
  assert(mon.status === 201, `a monitor (${mon.text})`);

  const pp = await newPage({ who: 'phone', viewport: { width: 390, height: 844 }, context: { isMobile: true, hasTouch: true } });
  await signIn(pp, server.token);
  const pages = ['now', 'schedule', 'people', 'escalation', 'alerts', `alerts/${open.json.id}`, 'monitors', 'sales'];
  for (const lang of ['pt', 'en']) {
    if (lang === 'en') {
      await pp.locator('#lang').click();
      await pp.locator('html[lang="en"]').waitFor({ state: 'attached' });
    }
    for (const name of pages) {
      await go(pp, `#/${name}`);
      if (name === 'people') await pp.locator('table[data-testid="people"]').waitFor();
      if (name === 'alerts') await pp.locator(`tr[data-alert="${open.json.id}"]`).waitFor();
      await reachable(pp, `${lang} #/${name}`);
      await shot(pp, `phone-${name.replace('/', '-')}-${lang}`);
    }
    // the forms that open on a click: a person's edit form, an override, the sales table
    await go(pp, '#/people');
    await pp.getByTestId('add-person').click();
    await pp.getByTestId('person-form').waitFor();
    await reachable(pp, `${lang} the person form`);
    await shot(pp, `phone-people-form-${lang}`);
  }
  await pp.locator('#lang').click();
  await pp.locator('html[lang="pt-BR"]').waitFor({ state: 'attached' });
  await pp.context().close();
  const back = await server.api('PUT', '/api/rotation', { members: members.slice(0, members.length - ids.length) });
  assert(back.status === 200, `rotation as it was (${back.text})`);
});

test('keyboard: the skip link and the navigation work without a mouse', async () => {
  await page.goto(`${server.url}/#/now`);
  await page.reload(); // a fresh load: nothing focused yet
  await page.getByTestId('oncall-name').waitFor();
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => document.activeElement.className);
  assert(/skip/.test(first), `skip link first in tab order (${first})`);
  await page.locator('#nav a[data-page="people"]').focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Pessoas', level: 1 }).waitFor();
  const focused = await page.evaluate(() => document.activeElement.id);
  assert(focused === 'page-title', `focus moved to the page title (${focused})`);
  assert((await page.locator('#nav a[aria-current="page"]').getAttribute('data-page')) === 'people', 'current page marked');
});

/* ------------------------------------------------------------------ sign-in with a code (issue 16) */

const CAROL = '+5511987654321';
let carolPage;

async function fits(p, what) {
  const over = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  const wide = over <= 0 ? [] : await p.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
    .filter((el) => !el.parentElement.closest('.table-wrap, #nav') || getComputedStyle(el).position !== 'static')
    .slice(0, 6).map((el) => `${el.tagName.toLowerCase()}.${el.className}:${Math.round(el.getBoundingClientRect().width)}`));
  assert(over <= 0, `${what} fits 390 px (scrollWidth exceeds innerWidth by ${over} px: ${wide.join(', ')})`);
}

test('sign-in: a person types their phone as usual, gets a code and is in, on a 390 px screen', async () => {
  const made = await server.api('POST', '/api/people', { name: 'Carol Dias', phone: CAROL });
  assert(made.status === 201, `person created (${made.text})`);
  const role = await server.api('PUT', `/api/people/${made.json.id}/role`, { role: 'editor' });
  assert(role.status === 200, `role given (${role.text})`);
  carolPage = await newPage({ viewport: { width: 390, height: 844 }, who: 'carol' });
  const p = carolPage;
  await p.goto(`${server.url}/`);
  await p.getByLabel('Seu telefone').fill('(11) 98765-4321');
  await fits(p, 'the sign-in form');
  await shot(p, '20-signin-phone-390');
  await p.getByRole('button', { name: 'Enviar código' }).click();
  await p.getByLabel('Código').waitFor();
  // a wrong code is said at the code field and nothing else happens
  const code = await server.lastCode(CAROL);
  await p.getByLabel('Código').fill(code === '000000' ? '111111' : '000000');
  await p.getByRole('button', { name: 'Entrar', exact: true }).click();
  await p.getByText('Código errado ou vencido.').waitFor();
  assert(!(await p.locator('#nav').isVisible()), 'still signed out after a wrong code');
  await p.getByLabel('Código').fill(code);
  await fits(p, 'the code form');
  await shot(p, '21-signin-code-390');
  await p.getByRole('button', { name: 'Entrar', exact: true }).click();
  await p.locator('#nav').waitFor({ state: 'visible' });
  await p.locator('section.page .loading').waitFor({ state: 'detached' });
  assert((await text(p.locator('#role'))) === 'editor', 'role shown as editor');
  assert((await p.evaluate(() => document.cookie)) === '', 'the session cookie is HttpOnly: no script reads it');
  assert((await p.evaluate(() => localStorage.getItem('plantao.token'))) === null, 'no token stored');
  await fits(p, 'the Now page after sign-in');
  await shot(p, '22-signed-in-390');
  const me = await p.evaluate(async () => (await fetch('/api/me', { headers: { 'X-Plantao-CSRF': '1' } })).json());
  assert(me.person && me.person.name === 'Carol Dias', `GET /api/me names Carol (${JSON.stringify(me)})`);
  // an edit through the console's session is recorded as made by the person, not "the API"
  const created = await p.evaluate(async () => (await fetch('/api/people', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Plantao-CSRF': '1' },
    body: JSON.stringify({ name: 'Davi Reis', phone: '+5511944443333' }),
  })).status);
  assert(created === 201, `person added with the session (${created})`);
  const audit = (await server.api('GET', '/api/audit')).json.audit;
  const entry = audit.find((a) => a.action === 'people.create' && a.detail && a.detail.name === 'Davi Reis');
  assert(entry && entry.actor === `person:${made.json.id} Carol Dias`, `audit actor is Carol (${entry && entry.actor})`);
});

test('verify: the person verifies their own phone; unverified phones are marked in red', async () => {
  const p = carolPage;
  await go(p, '#/people');
  const row = p.locator('tr', { hasText: 'Carol Dias' });
  await row.getByTestId('unverified').waitFor();
  const color = await row.getByTestId('unverified').evaluate((el) => getComputedStyle(el).color);
  assert(color === 'rgb(122, 12, 15)', `"não verificado" in red (${color})`);
  await server.advance(61); // one code a minute per phone: the sign-in code was just sent
  const card = p.getByTestId('verify-own');
  await card.getByRole('button', { name: 'Verificar meu telefone' }).click();
  await card.getByLabel('Código').waitFor();
  await fits(p, 'the verification form');
  await shot(p, '23-verify-own-390');
  await card.getByLabel('Código').fill(await server.lastCode(CAROL));
  await card.getByRole('button', { name: 'Confirmar' }).click();
  await p.getByTestId('verify-own').waitFor({ state: 'detached' });
  await until(async () => (await p.locator('tr', { hasText: 'Carol Dias' }).getByTestId('unverified').count()) === 0,
    'Carol no longer marked unverified');
  const carol = (await server.api('GET', '/api/people')).json.people.find((x) => x.name === 'Carol Dias');
  assert(carol.phone_verified === true, 'the API says the phone is verified');
  await fits(p, 'the People page');
  await shot(p, '24-people-verified-390');
});

test('unverified phones are marked in red on the Schedule and Escalation pages too', async () => {
  // Ana (in the rotation since the first tests) never verified her phone
  await go(page, '#/schedule');
  const chip = page.locator('.chip[data-unverified="true"]', { hasText: 'Ana Souza' }).first();
  await chip.waitFor();
  const shadow = await chip.evaluate((el) => getComputedStyle(el).boxShadow);
  assert(/rgb\(180, 35, 24\)/.test(shadow), `red mark on the schedule (${shadow})`);
  const put = await server.api('PUT', '/api/escalation', { steps: [{ target: ana.id, timeout_s: 30 }, { target: 'next', timeout_s: 30 }], rounds: 2 });
  assert(put.status === 200, `escalation with Ana as a step (${put.text})`);
  await go(page, '#/escalation');
  const note = page.getByTestId('step-unverified').first();
  await note.waitFor();
  assert((await text(note)).includes('Ana Souza'), `the step names Ana as unverified (${await text(note)})`);
  await shot(page, '26-escalation-unverified');
});

test('sign-out: the session ends on the server and the sign-in form is back', async () => {
  const p = carolPage;
  await p.getByRole('button', { name: 'Sair' }).click();
  await p.getByLabel('Seu telefone').waitFor();
  const status = await p.evaluate(async () => (await fetch('/api/me', { headers: { 'X-Plantao-CSRF': '1' } })).status);
  assert(status === 401, `the old session is refused (${status})`);
  await p.reload();
  await p.getByLabel('Seu telefone').waitFor();
  assert(!(await p.locator('#nav').isVisible()), 'still signed out after a reload');
  await fits(p, 'the sign-in form after sign-out');
  await shot(p, '25-signed-out-390');
});

/* ------------------------------------------------------------------ Portuguese all the way (issue 13, item 2) */

/* "YYYY-MM-DDTHH:MM" in São Paulo (UTC-3, no DST) of a Date: what a datetime-local field holds. */
function spLocal(d) {
  return new Date(d.getTime() - 3 * 3600e3).toISOString().slice(0, 16);
}

test('Portuguese all the way: phones as typed, errors in words, "Substituir", amounts the Brazilian way', async () => {
  // a phone typed as people write it is stored in E.164 and shown back formatted
  await go(page, '#/people');
  await page.getByTestId('add-person').click();
  let form = page.getByTestId('person-form');
  await form.getByLabel('Nome').fill('Eli Moraes');
  await form.getByLabel('Telefone').fill('(11) 98765-0042');
  await form.getByRole('button', { name: 'Adicionar pessoa' }).click();
  await page.getByText('Pessoa adicionada: Eli Moraes.').waitFor(); // no "adicionada/adicionado" guess
  const eli = (await server.api('GET', '/api/people')).json.people.find((x) => x.name === 'Eli Moraes');
  assert(eli && eli.phone === '+5511987650042', `stored in E.164 (${eli && eli.phone})`);
  await page.locator(`tr[data-person="${eli.id}"]`).getByText('+55 11 98765-0042').waitFor();

  // the same phone typed another way: the API's code said in Portuguese at the phone field
  await page.getByTestId('add-person').click();
  form = page.getByTestId('person-form');
  await form.getByLabel('Nome').fill('Outra Pessoa');
  await form.getByLabel('Telefone').fill('11 98765 0042');
  await form.getByRole('button', { name: 'Adicionar pessoa' }).click();
  const perr = form.locator('[data-error-for="phone"]');
  await perr.waitFor({ state: 'visible' });
  assert(/já está no cadastro de outra pessoa/.test(await text(perr)), `phone taken, in Portuguese (${await text(perr)})`);
  await form.getByLabel('Telefone').fill('11 9876');
  await form.getByRole('button', { name: 'Adicionar pessoa' }).click();
  await until(async () => /Não reconhecemos este telefone/.test(await text(perr)), 'a bad phone said in Portuguese');
  await shot(page, '30-people-phone-error-pt');
  await form.getByRole('button', { name: 'Cancelar' }).click();

  // an override over another: said in words, and "Substituir" replaces it
  const start = new Date(Date.now() + 40 * 86400e3);
  start.setUTCMinutes(0, 0, 0);
  const iso = (d) => `${spLocal(d)}:00-03:00`;
  const first = await server.api('POST', '/api/overrides', { person_id: ana.id, start: iso(start), end: iso(new Date(start.getTime() + 4 * 3600e3)) });
  assert(first.status === 201, `an override in the way (${first.text})`);
  await go(page, '#/schedule');
  const of = page.getByTestId('override-form');
  await of.getByLabel('Pessoa').selectOption({ label: 'Eli Moraes' });
  await of.getByLabel('Início').fill(spLocal(new Date(start.getTime() + 3600e3)));
  await of.getByLabel('Fim').fill(spLocal(new Date(start.getTime() + 2 * 3600e3)));
  await of.getByRole('button', { name: 'Adicionar substituição' }).click();
  const oerr = of.locator('[data-error-for="start"]');
  await oerr.waitFor({ state: 'visible' });
  assert(/Já há uma substituição neste horário/.test(await text(oerr)), `overlap in Portuguese (${await text(oerr)})`);
  assert(!/replace=true|overlaps/.test(await text(oerr)), 'no query parameter or English in the message');
  await shot(page, '31-override-overlap-pt');
  await of.getByRole('button', { name: 'Substituir', exact: true }).click();
  await until(async () => {
    const o = (await server.api('GET', '/api/overrides')).json.overrides;
    return o.some((x) => x.person_id === eli.id) && !o.some((x) => x.id === first.json.id && x.end_at === first.json.end_at);
  }, 'the new override replaced the one in the way');

  // amounts shown and typed the Brazilian way
  const probe = await server.api('GET', '/api/sales/settings');
  if (probe.status === 200) {
    await go(page, '#/sales');
    const settings = page.getByTestId('sales-settings');
    await settings.getByLabel('Meta mensal').fill('55.000,00');
    await settings.getByRole('button', { name: 'Salvar' }).click();
    await until(async () => (await server.api('GET', '/api/sales/settings')).json.target_cents === 5500000, 'R$ 55.000,00 saved');
    await go(page, '#/sales');
    const shown = await page.getByTestId('sales-settings').getByLabel('Meta mensal').inputValue();
    assert(shown === '55.000,00', `the goal shown as typed in Brazil (${shown})`);
    await settings.getByLabel('Meta mensal').fill('cinquenta mil');
    await page.getByTestId('sales-settings').getByRole('button', { name: 'Salvar' }).click();
    await page.getByText('Escreva o valor em reais').waitFor();
  }

  // and in English, the same code in English
  await page.getByRole('button', { name: 'English' }).click();
  await go(page, '#/people');
  await page.getByTestId('add-person').click();
  form = page.getByTestId('person-form');
  await form.getByLabel('Name').fill('Other');
  await form.getByLabel('Phone').fill('(11) 98765-0042');
  await form.getByRole('button', { name: 'Add person' }).click();
  await until(async () => /already belongs to someone else/.test(await text(form.locator('[data-error-for="phone"]'))),
    'phone taken, in English');
  await shot(page, '32-people-phone-error-en');
  await form.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Português' }).click();
  await page.locator('html[lang="pt-BR"]').waitFor({ state: 'attached' });
});

test('no script errors or CSP violations on any page', async () => {
  assert(problems.length === 0, problems.join('\n'));
});

/* ------------------------------------------------------------------ runner */

async function main() {
  let passed = 0;
  let failed = 0;
  const t0 = Date.now();
  try {
    await server.start();
    browser = await launchBrowser();
  } catch (e) {
    console.log(`not ok 0 - set-up: ${e.message}`);
    await server.stop();
    console.log('e2e: 0 passed, 1 failed');
    return 1;
  }
  for (const [i, tc] of tests.entries()) {
    const t1 = Date.now();
    try {
      const note = await tc.fn();
      if (typeof note === 'string' && note.startsWith('pending')) {
        pending.push(`${tc.name}: ${note}`);
        console.log(`ok ${i + 1} - ${tc.name} # SKIP ${note}`);
      } else {
        passed += 1;
        console.log(`ok ${i + 1} - ${tc.name} (${Date.now() - t1} ms)`);
      }
    } catch (e) {
      failed += 1;
      console.log(`not ok ${i + 1} - ${tc.name}`);
      console.log(String(e.stack || e).split('\n').slice(0, 6).map((l) => `  # ${l}`).join('\n'));
      if (page) await shot(page, `fail-${String(i + 1).padStart(2, '0')}`).catch(() => {});
    }
  }
  if (browser) await browser.close().catch(() => {});
  if (failed) console.log(`---- plantao log, last lines:\n${server.logTail()}`);
  await server.stop();
  console.log(`screenshots: ${SHOTS}`);
  console.log(`time: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  for (const p of pending) console.log(`e2e pending: ${p}`);
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  console.log(`not ok - runner: ${e.stack || e}`);
  console.log('e2e: 0 passed, 1 failed');
  process.exit(1);
});
