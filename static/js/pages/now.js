// static/js/pages/now.js — "Agora": who is on call, until when, who is next, and the button
// that takes the shift (an override from now to the end of the current shift). Above them, a
// banner whenever /healthz says a page would not go out (or might not): the same components
// and reasons, so a team lead sees a wrong Twilio token or an empty rotation before 3 a.m.

import { api, health, listOf } from '../api.js';
import { clearErrors, errorText, field, formError, h, mount, showError } from '../dom.js';
import { fmtFull, iso, toDate } from '../fmt.js';
import { lang, t } from '../i18n.js';
import { editFailed, loadPeople, pageTitle, personChip, personOf, toast } from '../state.js';

const pick = (o, ...names) => {
  for (const n of names) if (o && o[n] !== undefined && o[n] !== null) return o[n];
  return null;
};

export const shiftStart = (s) => toDate(pick(s, 'start', 'start_at', 'from'));
export const shiftEnd = (s) => toDate(pick(s, 'end', 'end_at', 'to', 'until'));
export const isOverride = (s) => Boolean(pick(s, 'override', 'is_override', 'by_override') || pick(s, 'override_id'));

/* The stretches of [from, to) that no shift covers (a minute or longer), oldest first. */
export function gapsIn(shifts, from, to) {
  const spans = shifts.filter((x) => personOf(x)).map((x) => [shiftStart(x), shiftEnd(x)])
    .filter(([a, b]) => a && b && b > from && a < to).sort((x, y) => x[0] - y[0]);
  const gaps = [];
  let at = from;
  for (const [a, b] of spans) {
    if (a - at >= 60e3) gaps.push([at, a]);
    if (b > at) at = b;
  }
  if (to - at >= 60e3) gaps.push([at, to]);
  return gaps;
}

/* A warning when nobody is on call at some moment of the next seven days. */
async function gapWarning() {
  const from = new Date();
  const to = new Date(from.getTime() + 7 * 86400e3);
  let gaps;
  try {
    const data = await api('GET', `/api/schedule?from=${encodeURIComponent(iso(from))}&to=${encodeURIComponent(iso(to))}`);
    gaps = gapsIn(listOf(data, 'shifts'), from, to);
  } catch (e) {
    return null;
  }
  if (!gaps.length) return null;
  return h('section', { class: 'card health warning', role: 'alert', 'data-testid': 'gap-warning' },
    h('h2', null, t('now.gaps')),
    h('ul', null, gaps.map(([a, b]) => h('li', null, t('now.gap', { from: fmtFull(a), to: fmtFull(b) })))),
    h('p', null, h('a', { href: '#/schedule' }, t('nav.schedule'))));
}

async function oncallNow() {
  try {
    const r = await api('GET', '/api/oncall');
    return r && (r.oncall || r);
  } catch (e) {
    if (e.status === 404 && !/no route/i.test(e.message)) return null; // nobody on call
    throw e;
  }
}

/* The first shift after `after` whose person differs from the current one. */
async function nextShift(current) {
  const from = new Date();
  const to = new Date(from.getTime() + 62 * 86400e3);
  const data = await api('GET', `/api/schedule?from=${encodeURIComponent(iso(from))}&to=${encodeURIComponent(iso(to))}`);
  const cur = personOf(current);
  const end = current ? shiftEnd(current) : from;
  for (const s of listOf(data, 'shifts')) {
    const st = shiftStart(s);
    const p = personOf(s);
    if (!p || !st || st < end) continue;
    if (!cur || Number(p.id) !== Number(cur.id)) return s;
  }
  return null;
}

// The banner's texts (the component codes come from server/http/ops.c): [pt-BR, en].
const HEALTH_TEXT = {
  failing: ['Os alertas podem não chegar a ninguém agora', 'Pages may not reach anyone right now'],
  warning: ['Atenção: avisos podem atrasar ou não sair', 'Attention: pages may be late or not go out'],
  unknown: ['Não foi possível verificar se os alertas sairiam', 'Could not check whether pages would go out'],
  database: ['Banco de dados', 'Database'],
  twilio: ['Twilio', 'Twilio'],
  oncall: ['Plantão', 'On call'],
  outbox: ['Fila de envio', 'Outbox'],
  'database.file_replaced': ['o arquivo do banco foi apagado ou trocado; reinicie o plantao',
    'the database file was deleted or replaced; restart plantao'],
  'database.not_writable': ['o banco não aceita gravações (disco cheio ou somente leitura)',
    'the database takes no writes (disk full or read-only)'],
  'database.busy': ['o banco está travado por outro processo', 'the database is locked by another process'],
  'twilio.auth_error': ['a Twilio recusa as credenciais (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN)',
    'Twilio refuses the credentials (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN)'],
  'twilio.not_configured': ['credenciais da Twilio não configuradas: ninguém recebe SMS nem ligação',
    'Twilio credentials are not set: nobody gets texts or calls'],
  'twilio.send_errors': ['o último envio à Twilio falhou e está sendo repetido',
    'the latest send to Twilio failed and is being retried'],
  'oncall.nobody_on_call': ['sem ninguém de plantão agora', 'nobody is on call now'],
  'oncall.no_policy': ['o escalonamento não tem etapas: ninguém é chamado', 'the escalation has no steps: nobody is paged'],
  'outbox.pages_late': ['há alertas esperando para sair há tempo demais', 'pages have been waiting too long to go out'],
  'outbox.pages_undecided': ['há alertas cujo envio a Twilio não confirmou: podem não ter chegado',
    'some pages were never confirmed by Twilio: they may not have reached anyone'],
  'outbox.notices_late': ['avisos (não alertas) esperando há tempo demais', 'notices (not pages) waiting too long'],
};
const ht = (key, fallback) => {
  const e = HEALTH_TEXT[key];
  return e ? e[lang() === 'en' ? 1 : 0] : fallback;
};

/* The banner for a /healthz body, or null when every component is ok. */
export function healthBanner(hz) {
  if (!hz || hz.status === 'ok') return null;
  const failing = hz.status === 'impaired';
  const comps = hz.components || {};
  const items = ['database', 'twilio', 'oncall', 'outbox']
    .filter((c) => hz[c] && hz[c] !== 'ok')
    .map((c) => {
      const reason = (hz.reasons && hz.reasons[c]) || '';
      const level = comps[c] && comps[c].status;
      return h('p', { 'data-component': c, 'data-code': hz[c], class: level === 'failing' ? 'error' : null },
        h('strong', null, `${ht(c, c)}: `), ht(`${c}.${hz[c]}`, reason),
        reason ? h('small', { class: 'hint' }, ` (${reason})`) : null);
    });
  return h('section', { class: failing ? 'card health error' : 'banner health', role: 'alert', 'data-testid': 'health-banner',
    'data-status': hz.status },
  h('h2', null, ht(failing ? 'failing' : 'warning')), items);
}

async function healthNow() {
  try {
    return healthBanner(await health());
  } catch (e) {
    return h('section', { class: 'card health error', role: 'alert', 'data-testid': 'health-banner', 'data-status': 'unknown' },
      h('h2', null, ht('unknown')), h('p', null, errorText(e)));
  }
}

export default async function render(root, ctx) {
  const [people, cur, banner, gaps] = await Promise.all([loadPeople(), oncallNow(), healthNow(), gapWarning()]);
  if (!ctx.alive()) return;
  let next = cur && (cur.next || null);
  if (!next) {
    try {
      next = await nextShift(cur);
    } catch (e) {
      next = null;
    }
  }
  if (!ctx.alive()) return;

  const who = personOf(cur);
  const end = cur ? shiftEnd(cur) : null;
  const nextWho = personOf(next);

  const card = h('section', { class: 'card now', 'aria-labelledby': 'now-h' },
    h('h2', { id: 'now-h', class: 'kicker' }, t('now.oncall')),
    who
      ? [
        h('p', { class: 'big', 'data-testid': 'oncall-name' }, personChip(who)),
        who.phone ? h('p', null, h('a', { href: `tel:${who.phone}` }, who.phone)) : null,
        h('p', { 'data-testid': 'oncall-until' }, end ? t('now.until', { when: fmtFull(end) }) : t('now.open'),
          isOverride(cur) ? [' ', h('span', { class: 'badge ovr' }, t('override'))] : null),
      ]
      : [
        h('p', { class: 'big', 'data-testid': 'oncall-name' }, t('now.nobody')),
        h('p', null, t('now.nobody.hint'), ' ', h('a', { href: '#/schedule' }, t('nav.schedule'))),
      ],
    h('h2', { class: 'kicker' }, t('now.next')),
    nextWho
      ? h('p', { 'data-testid': 'next-name' }, personChip(nextWho), ' ',
        t('now.from', { when: fmtFull(shiftStart(next)) }))
      : h('p', { 'data-testid': 'next-name' }, t('now.nonext')));

  mount(root, pageTitle(t('nav.now')), banner, gaps, card, takeForm(people, who, end, ctx));
  // Refresh who is on call, unless the person is busy with the form.
  ctx.every(30000, () => {
    if (!root.contains(document.activeElement) || document.activeElement === root.querySelector('h1')) ctx.rerender();
  });
}

/* "Assumir o plantão": an override for the chosen person from now to the end of this shift. */
function takeForm(people, who, end, ctx) {
  const select = h('select', { required: true },
    people.map((p) => h('option', { value: String(p.id) }, p.name)));
  const others = people.filter((p) => !who || Number(p.id) !== Number(who.id));
  if (others.length) select.value = String(others[0].id);
  const endInput = end ? null : h('input', { type: 'number', min: 1, max: 720, value: '24', inputmode: 'numeric' });
  const form = h('form', { class: 'card edit', 'aria-labelledby': 'take-h', novalidate: true },
    h('h2', { id: 'take-h' }, t('take.title')),
    h('p', { class: 'hint' }, end ? t('take.hint', { when: fmtFull(end) }) : t('take.hint.noend')),
    field('person_id', t('take.who'), select),
    endInput ? field('hours', t('take.hours'), endInput) : null,
    formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('take.button'))));
  if (!people.length) {
    return h('section', { class: 'card edit' }, h('h2', null, t('take.title')),
      h('p', null, t('take.nopeople'), ' ', h('a', { href: '#/people' }, t('nav.people'))));
  }
  const submit = async (replace) => {
    clearErrors(form);
    const start = new Date();
    const until = end || new Date(start.getTime() + Number(endInput.value || 24) * 3600e3);
    const body = { person_id: Number(select.value), start: iso(start), end: iso(until), reason: t('take.reason') };
    try {
      await api('POST', `/api/overrides${replace ? '?replace=true' : ''}`, body);
      toast(t('take.done'));
      ctx.rerender();
    } catch (e) {
      editFailed(e);
      const slot = showError(form, e);
      if (e.status === 409 && !replace && slot) {
        slot.append(' ', h('button', { type: 'button', class: 'secondary', onclick: () => submit(true) }, t('take.replace')));
      }
      if (!slot) toast(errorText(e), 'bad');
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit(false);
  });
  return form;
}
