// static/js/pages/listing.js — what the lead's list pages (Ligações, Envios, Auditoria) share: the
// filter form (person, status, period), the pager over the API's limit/before cursor
// (next_before), and Twilio's statuses and the actors of the audit log in words.

import { api, listOf } from '../api.js';
import { h } from '../dom.js';
import { lang } from '../i18n.js';
import { loadPeople } from '../state.js';

export const PAGE_SIZE = 25;

/* This module's texts, in the console's language. */
export function L(pt, en) {
  return lang() === 'en' ? en : pt;
}

const TWILIO = {
  queued: ['na fila da Twilio', 'queued at Twilio'],
  accepted: ['aceito pela Twilio', 'accepted by Twilio'],
  sending: ['enviando', 'sending'],
  sent: ['enviado', 'sent'],
  delivered: ['entregue', 'delivered'],
  undelivered: ['não entregue', 'not delivered'],
  failed: ['falhou', 'failed'],
  read: ['lido', 'read'],
  received: ['recebido', 'received'],
  partially_delivered: ['entregue em parte', 'partly delivered'],
  pending: ['esperando para sair', 'waiting to go out'],
  retry: ['nova tentativa em breve', 'retrying soon'],
  undecided: ['sem confirmação da Twilio', 'not confirmed by Twilio'],
  canceled: ['cancelado', 'cancelled'],
  cancelled: ['cancelado', 'cancelled'],
  ringing: ['tocando', 'ringing'],
  'in-progress': ['em andamento', 'in progress'],
  completed: ['atendida', 'answered'],
  answered: ['atendida', 'answered'],
  busy: ['ocupado', 'busy'],
  'no-answer': ['não atendeu', 'no answer'],
  voicemail: ['caixa postal', 'voicemail'],
  abandoned: ['desligou antes', 'caller hung up'],
  dead: ['desistimos (tentativas esgotadas)', 'gave up (out of tries)'],
};

/* A Twilio or outbox status in words. */
export function statusWords(s) {
  const w = TWILIO[s];
  return w ? L(w[0], w[1]) : s || '—';
}

/* Who acted, from an audit row's actor_info or an alert's acked_actor. */
export function actorWords(a) {
  if (!a) return L('desconhecido', 'unknown');
  switch (a.kind) {
    case 'person': return a.name || `#${a.person_id}`;
    case 'token': return L(`token “${a.name}”`, `token “${a.name}”`);
    case 'phone': return a.name ? L(`${a.name} por SMS (${a.phone})`, `${a.name} by SMS (${a.phone})`)
      : L(`SMS de ${a.phone}`, `SMS from ${a.phone}`);
    case 'keypad': return a.name ? L(`${a.name} pelo teclado da ligação`, `${a.name} on the call's keypad`)
      : L(`teclado da ligação (${a.phone || ''})`, `call keypad (${a.phone || ''})`);
    default: return a.name === 'pager' ? L('o próprio plantao', 'plantao itself') : a.name || '—';
  }
}

/* Seconds as "3 min 20 s". */
export function duration(s) {
  if (s === null || s === undefined) return '—';
  const m = Math.floor(s / 60);
  return m ? `${m} min ${s % 60} s` : `${s} s`;
}

/*
 * A list page's state and controls. opts: {path, key, statuses: [[value, label]…], person: bool,
 * extra: [[name, label, [[value, label]…]]…], render(rows) → element}. Calls back with rows;
 * "Mais antigos" follows next_before; "Mais recentes" goes back to the first page.
 */
export async function listing(root, opts) {
  const people = opts.person === false ? [] : await loadPeople();
  const state = { before: null, pages: [] };
  const body = h('div', { 'data-testid': `${opts.key}-results` });
  const sel = (name, label, options) => h('div', { class: 'field' },
    h('label', { for: `flt-${name}` }, label),
    h('select', { id: `flt-${name}`, name, 'data-testid': `filter-${name}` },
      h('option', { value: '' }, L('todos', 'all')),
      options.map(([v, l]) => h('option', { value: String(v) }, l))));
  const date = (name, label) => h('div', { class: 'field' },
    h('label', { for: `flt-${name}` }, label),
    h('input', { id: `flt-${name}`, name, type: 'date', 'data-testid': `filter-${name}` }));
  const form = h('form', { class: 'filters', 'data-testid': `${opts.key}-filters` },
    opts.person === false ? null : sel('person', L('Pessoa', 'Person'), people.map((p) => [p.id, p.name])),
    opts.statuses ? sel('status', L('Situação', 'Status'), opts.statuses) : null,
    (opts.extra || []).map(([n, l, o]) => sel(n, l, o)),
    date('from', L('De', 'From')),
    date('to', L('Até (exclusive)', 'Until (exclusive)')),
    h('div', { class: 'field' }, h('button', { type: 'submit' }, L('Filtrar', 'Filter'))));
  const newer = h('button', { type: 'button', 'data-testid': 'newer', hidden: true }, L('« Mais recentes', '« Newer'));
  const older = h('button', { type: 'button', 'data-testid': 'older', hidden: true }, L('Mais antigos »', 'Older »'));
  const pager = h('nav', { class: 'pager', 'aria-label': L('Páginas', 'Pages') }, newer, ' ', older);

  async function load() {
    const q = new URLSearchParams();
    for (const el of form.querySelectorAll('select, input')) if (el.value) q.set(el.name, el.value);
    q.set('limit', String(opts.limit || PAGE_SIZE));
    if (state.before) q.set('before', String(state.before));
    const data = await api('GET', `${opts.path}?${q}`);
    const rows = listOf(data, opts.key === 'deliveries' ? 'outbox' : opts.key);
    body.replaceChildren(rows.length ? opts.render(rows)
      : h('p', { class: 'empty', 'data-testid': 'empty' }, L('Nada encontrado com estes filtros.', 'Nothing matches these filters.')));
    older.hidden = !data.next_before;
    older.dataset.next = data.next_before || '';
    newer.hidden = !state.before;
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    state.before = null;
    load().catch((err) => body.replaceChildren(h('p', { class: 'error', role: 'alert' }, err.message)));
  });
  older.addEventListener('click', () => {
    state.before = Number(older.dataset.next);
    load();
  });
  newer.addEventListener('click', () => {
    state.before = null;
    load();
  });
  await load();
  return [form, body, pager];
}
