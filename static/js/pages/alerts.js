// static/js/pages/alerts.js — "Alertas": the list with status, filtered by situation, severity,
// person and period and paged over the API's limit/before cursor ("Mais antigos"), one alert's
// timeline (texts and call attempts with Twilio's status and times), acknowledge and resolve
// buttons. Both views refresh by themselves every few seconds while open, keeping keyboard focus
// in place (the list refreshes the page on screen).
// An open alert nobody could be paged for says so ("sem ninguém para avisar") with the reason.

import { api, listOf } from '../api.js';
import { errorText, h, mount } from '../dom.js';
import { fmtDateTime, fmtTimeSec, toDate } from '../fmt.js';
import { lang, t, tOr } from '../i18n.js';
import { editFailed, knownPeople, loadPeople, pageTitle, personOf, toast } from '../state.js';
import { actorWords } from './listing.js';

const REFRESH_MS = 5000;
const OPEN = new Set(['triggered', 'acknowledged']);

function L(pt, en) {
  return lang() === 'en' ? en : pt;
}

function statusBadge(status) {
  return h('span', { class: `badge st-${status}`, 'data-testid': 'status' }, tOr(`st.${status}`, status));
}

/* An open alert that pages nobody: why (nobody on call, severity info, …). */
function unpagedBadge(a) {
  if (!a.unpaged_reason || a.status !== 'triggered') return null;
  const info = /^severity info/.test(a.unpaged_reason);
  return h('span', { class: `badge ${info ? '' : 'st-exhausted '}unpaged`, 'data-testid': 'unpaged', title: a.unpaged_reason },
    info ? L('só registrado', 'recorded only') : L('sem ninguém para avisar', 'nobody to page'));
}

/* Redraws region with build() and puts focus back on the element with the same data-key. */
function redraw(region, build) {
  const active = document.activeElement;
  const key = active && region.contains(active) ? active.dataset.key : null;
  mount(region, build());
  if (key) {
    const again = region.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again) again.focus();
  }
}

function actionButtons(a, after) {
  const status = String(a.status || '');
  const out = [];
  const act = async (what, btn) => {
    btn.disabled = true;
    try {
      await api('POST', `/api/alerts/${a.id}/${what}`);
      toast(t(what === 'ack' ? 'al.acked' : 'al.resolved', { id: a.id }));
    } catch (e) {
      editFailed(e);
      toast(errorText(e), 'bad');
    }
    after();
  };
  if (status === 'triggered') {
    const b = h('button', { type: 'button', class: 'primary', 'data-key': `ack-${a.id}`,
      'aria-label': t('al.ack.label', { id: a.id }) }, t('al.ack'));
    b.addEventListener('click', () => act('ack', b));
    out.push(b);
  }
  if (OPEN.has(status)) {
    const b = h('button', { type: 'button', 'data-key': `resolve-${a.id}`,
      'aria-label': t('al.resolve.label', { id: a.id }) }, t('al.resolve'));
    b.addEventListener('click', () => act('resolve', b));
    out.push(b);
  }
  return out.length ? h('span', { class: 'edit row-actions' }, out) : null;
}

const PAGE = 25;
const STATUSES = ['triggered', 'acknowledged', 'exhausted', 'resolved'];
const SEVERITIES = {
  critical: () => L('crítico', 'critical'),
  warning: () => L('aviso', 'warning'),
  info: () => L('informativo', 'info'),
};

/* A severity in words; one plantao does not know (a label of the sender's) as it came. */
function severityWords(s) {
  return SEVERITIES[s] ? SEVERITIES[s]() : s || '';
}

/* The filters GET /api/alerts takes: situation, severity, person, period (team's dates). */
function filterForm(onSubmit) {
  const sel = (name, label, options) => h('div', { class: 'field' },
    h('label', { for: `al-${name}` }, label),
    h('select', { id: `al-${name}`, name, 'data-testid': `filter-${name}` },
      h('option', { value: '' }, L('todos', 'all')),
      options.map(([v, l]) => h('option', { value: String(v) }, l))));
  const date = (name, label) => h('div', { class: 'field' },
    h('label', { for: `al-${name}` }, label),
    h('input', { id: `al-${name}`, name, type: 'date', 'data-testid': `filter-${name}` }));
  const form = h('form', { class: 'filters', 'data-testid': 'alerts-filters' },
    sel('status', t('al.status'), STATUSES.map((s) => [s, tOr(`st.${s}`, s)])),
    sel('severity', t('al.severity'), Object.keys(SEVERITIES).map((s) => [s, severityWords(s)])),
    sel('person', L('Pessoa', 'Person'), knownPeople().map((p) => [p.id, p.name])),
    date('from', L('De', 'From')),
    date('to', L('Até (exclusive)', 'Until (exclusive)')),
    h('div', { class: 'field' }, h('button', { type: 'submit' }, L('Filtrar', 'Filter'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    onSubmit();
  });
  return form;
}

export default async function render(root, ctx) {
  await loadPeople().catch(() => []);
  if (ctx.arg) return detail(root, ctx, ctx.arg);
  const region = h('div', { class: 'table-wrap', 'aria-live': 'off' });
  const stamp = h('p', { class: 'hint', 'data-testid': 'refreshed' });
  /* the page on screen: before (null: the newest), and the next page's cursor */
  const state = { before: null, next: null };
  const newer = h('button', { type: 'button', 'data-testid': 'newer', hidden: true }, L('« Mais recentes', '« Newer'));
  const older = h('button', { type: 'button', 'data-testid': 'older', hidden: true }, L('Mais antigos »', 'Older »'));
  const pager = h('nav', { class: 'pager', 'aria-label': L('Páginas', 'Pages') }, newer, ' ', older);
  let form;
  const load = async () => {
    const q = new URLSearchParams();
    for (const el of form.querySelectorAll('select, input')) if (el.value) q.set(el.name, el.value);
    q.set('limit', String(PAGE));
    if (state.before) q.set('before', String(state.before));
    let data;
    try {
      data = await api('GET', `/api/alerts?${q}`);
    } catch (e) {
      if (!ctx.alive()) return;
      stamp.textContent = errorText(e);
      return;
    }
    if (!ctx.alive()) return;
    const alerts = listOf(data, 'alerts');
    state.next = data.next_before || null;
    older.hidden = !state.next;
    newer.hidden = !state.before;
    redraw(region, () => (alerts.length
      ? h('table', { class: 'list', 'data-testid': 'alerts' },
        h('caption', { class: 'sr-only' }, t('nav.alerts')),
        h('thead', null, h('tr', null,
          ['#', t('al.summary'), t('al.status'), t('al.severity'), t('al.created'), t('al.hits')]
            .map((c) => h('th', { scope: 'col' }, c)),
          h('th', { scope: 'col', class: 'edit' }, h('span', { class: 'sr-only' }, t('actions'))))),
        h('tbody', null, alerts.map((a) => h('tr', { 'data-alert': String(a.id), class: OPEN.has(a.status) ? 'open' : '' },
          h('td', null, String(a.id)),
          h('th', { scope: 'row' }, h('a', { href: `#/alerts/${a.id}`, 'data-key': `open-${a.id}` }, a.summary || `#${a.id}`)),
          h('td', null, statusBadge(a.status), ' ', unpagedBadge(a)),
          h('td', null, severityWords(a.severity)),
          h('td', null, fmtDateTime(a.created_at)),
          h('td', null, String(a.hits ?? 1)),
          h('td', { class: 'edit' }, actionButtons(a, load))))))
      : h('p', { class: 'empty' }, state.before || q.toString() !== `limit=${PAGE}` ? L('Nenhum alerta com estes filtros.',
        'No alert matches these filters.') : t('al.none'))));
    stamp.textContent = t('al.refreshed', { when: fmtTimeSec(new Date()) });
  };
  form = filterForm(() => {
    state.before = null;
    load();
  });
  older.addEventListener('click', () => {
    state.before = state.next;
    load();
  });
  newer.addEventListener('click', () => {
    state.before = null;
    load();
  });
  mount(root, pageTitle(t('nav.alerts')), h('p', { class: 'hint' }, t('al.auto')), form, stamp, region, pager);
  await load();
  ctx.every(REFRESH_MS, load);
  return null;
}

/*
 * The alert's timeline, oldest first: its own events (triggered, acknowledged, resolved),
 * every message and call from the outbox (GET /api/alerts/{id} "timeline", calls joined with
 * their attempt) and the call attempts that have no outbox row yet ("attempts").
 */
function timelineOf(a) {
  const rows = [];
  const seen = new Set();
  for (const e of listOf(a.timeline, 'timeline')) {
    if (e.attempt_id) seen.add(Number(e.attempt_id));
    rows.push({ kind: e.kind || 'message', e, when: toDate(e.sent_at ?? e.created_at) });
  }
  for (const c of listOf(a.attempts, 'attempts')) {
    if (seen.has(Number(c.id))) continue;
    rows.push({ kind: 'call', e: { ...c, call_status: c.status, status: null }, when: toDate(c.created_at) });
  }
  const ev = (kind, at, detail) => at && rows.push({ kind, e: { detail }, when: toDate(at) });
  ev('triggered', a.created_at, a.source ? `${t('al.source')}: ${a.source}` : '');
  const via = (v) => (v ? tOr(`al.via.${v}`, v) : '');
  ev('acknowledged', a.acked_at, a.acked_actor ? actorWords(a.acked_actor)
    : [a.acked_by_name, via(a.acked_via)].filter(Boolean).join(' '));
  ev('resolved', a.resolved_at, a.resolved_actor ? actorWords(a.resolved_actor) : via(a.resolved_via));
  rows.sort((x, y) => (x.when || 0) - (y.when || 0) || (x.kind === 'triggered' ? -1 : 0));
  return rows;
}

function kindText(kind) {
  if (kind === 'sms') return 'SMS';
  if (kind === 'whatsapp') return 'WhatsApp';
  return tOr(`al.k.${kind}`, String(kind));
}

/* Who a timeline row went to: the attempt's person, or the person with that phone. */
function recipient(e) {
  const byId = e.person_id ? personOf({ person_id: e.person_id, person_name: e.person_name }) : null;
  const phone = e.to || e.phone || '';
  const byPhone = !byId && phone ? knownPeople().find((p) => p.phone === phone) : null;
  const p = byId || byPhone;
  return [p ? p.name : '', p && phone ? ' ' : '', phone ? h('span', { class: 'sid' }, phone) : null];
}

/* Twilio's status of the row: the call's status for calls, the message's for texts. */
function twilioStatus(kind, e) {
  const out = [];
  const st = kind === 'call' ? e.call_status || e.status : e.status;
  if (st) out.push(h('span', { class: `badge tw-${st}`, title: st }, tOr(`tw.${st}`, st)));
  if (kind === 'call' && e.status && e.call_status && ['pending', 'retry', 'failed', 'sending'].includes(e.status)) {
    out.push(h('span', { class: 'badge', title: e.status }, tOr(`tw.${e.status}`, e.status)));
  }
  if (e.ended_at) out.push(h('span', { class: 'hint' }, ` → ${fmtTimeSec(e.ended_at)}`));
  if (e.sid || e.call_sid) out.push(h('span', { class: 'sid' }, ` ${e.sid || e.call_sid}`));
  return out;
}

function detailText(e) {
  return [
    e.round !== undefined && e.round !== null && e.step !== undefined && e.step !== null
      ? t('al.roundstep', { round: Number(e.round) + 1, step: Number(e.step) + 1 }) : null,
    e.outcome ? tOr(`tw.${e.outcome}`, e.outcome) : null, e.answered_by ? tOr(`tw.${e.answered_by}`, e.answered_by) : null, e.digits ? `${t('al.digits')} ${e.digits}` : null,
    e.error_code ? `${t('al.error')} ${e.error_code}${e.error_message ? `: ${e.error_message}` : ''}` : null,
    e.tries > 1 ? t('al.tries', { n: e.tries }) : null,
    e.class && e.class !== 'alert' ? tOr(`al.class.${e.class}`, e.class) : null,
    e.detail || null,
  ].filter(Boolean).join(' · ');
}

async function detail(root, ctx, id) {
  const region = h('div');
  const load = async () => {
    let data;
    try {
      data = await api('GET', `/api/alerts/${encodeURIComponent(id)}`);
    } catch (e) {
      if (!ctx.alive()) return;
      mount(region, h('p', { class: 'error', role: 'alert' }, errorText(e)));
      return;
    }
    if (!ctx.alive()) return;
    const a = data.alert || data;
    if (!a.timeline && data.timeline) a.timeline = data.timeline;
    const rows = timelineOf(a);
    redraw(region, () => [
      h('dl', { class: 'facts' },
        h('dt', null, t('al.status')), h('dd', null, statusBadge(a.status), ' ', unpagedBadge(a), ' ', actionButtons(a, load)),
        unpagedBadge(a) ? [h('dt', null, L('Por quê', 'Why')), h('dd', { 'data-testid': 'unpaged-reason' }, a.unpaged_reason)] : null,
        a.severity ? [h('dt', null, t('al.severity')), h('dd', null, severityWords(a.severity))] : null,
        a.source ? [h('dt', null, t('al.source')), h('dd', null, a.source)] : null,
        h('dt', null, t('al.created')), h('dd', null, fmtDateTime(a.created_at)),
        a.hits > 1 ? [h('dt', null, t('al.hits')), h('dd', null, String(a.hits))] : null,
        a.acked_at ? [h('dt', null, t('al.ackedby')),
          h('dd', { 'data-testid': 'acked-by' }, a.acked_actor ? [actorWords(a.acked_actor), ' · ', fmtDateTime(a.acked_at)]
            : [a.acked_by_name || (a.acked_by ? personOf({ person_id: a.acked_by }).name : ''),
              a.acked_via ? ` ${tOr(`al.via.${a.acked_via}`, `(${a.acked_via})`)}` : '', ' · ', fmtDateTime(a.acked_at)])] : null,
        a.resolved_at ? [h('dt', null, t('al.resolvedat')),
          h('dd', null, [fmtDateTime(a.resolved_at), a.resolved_actor ? ` · ${actorWords(a.resolved_actor)}`
            : a.resolved_via ? ` ${tOr(`al.via.${a.resolved_via}`, `(${a.resolved_via})`)}` : ''])] : null),
      a.details ? h('pre', { class: 'details' }, String(a.details)) : null,
      h('h2', null, t('al.timeline')),
      rows.length
        ? h('div', { class: 'table-wrap' }, h('table', { class: 'list', 'data-testid': 'timeline' },
          h('thead', null, h('tr', null, [t('al.when'), t('al.what'), t('al.to'), t('al.twilio'), t('al.detail')]
            .map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', null, rows.map(({ kind, e, when }) => h('tr', { class: `tl-${kind}` },
            h('td', null, fmtTimeSec(when)),
            h('td', null, kindText(kind)),
            h('td', null, recipient(e)),
            h('td', null, twilioStatus(kind, e)),
            h('td', null, detailText(e)))))))
        : h('p', { class: 'empty' }, t('al.notimeline')),
    ]);
    title.textContent = t('al.title', { id: a.id, summary: a.summary || '' });
  };
  const title = pageTitle(t('al.title', { id, summary: '' }));
  mount(root, h('p', null, h('a', { href: '#/alerts' }, `← ${t('al.back')}`)), title,
    h('p', { class: 'hint' }, t('al.auto')), region);
  await load();
  ctx.every(REFRESH_MS, load);
}
