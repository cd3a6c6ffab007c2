// static/js/pages/audit.js — "Auditoria": who changed what and when (GET /api/audit), newest first:
// people, rotation, overrides, escalation, monitors, acknowledgements and resolves, sign-ins, each
// with its actor (a person, a token, a phone by SMS, a call's keypad) and what changed. Filtered
// by person, kind of change and period; paged.

import { h, mount } from '../dom.js';
import { fmtDateTime } from '../fmt.js';
import { pageTitle } from '../state.js';
import { L, actorWords, listing } from './listing.js';

const GROUPS = () => [
  ['alert.', L('alertas (assumidos, resolvidos)', 'alerts (acknowledged, resolved)')],
  ['people.', L('pessoas', 'people')],
  ['rotation.', L('escala', 'rotation')],
  ['overrides.', L('substituições', 'overrides')],
  ['swaps.', L('trocas de turno', 'shift swaps')],
  ['escalation.', L('escalonamento', 'escalation')],
  ['monitors.', L('monitores', 'monitors')],
  ['auth.', L('entradas e saídas', 'sign-ins and sign-outs')],
  ['sales.', L('vendas', 'sales')],
];

const ACTIONS = {
  'alert.ack': ['assumiu o alerta', 'acknowledged the alert'],
  'alert.resolve': ['resolveu o alerta', 'resolved the alert'],
  'alert.text_skipped': ['não enviou SMS (pessoa pediu para sair)', 'skipped a text (person opted out)'],
  'people.create': ['cadastrou a pessoa', 'added the person'],
  'people.update': ['alterou a pessoa', 'changed the person'],
  'people.delete': ['removeu a pessoa', 'removed the person'],
  'people.role': ['mudou o papel de', 'changed the role of'],
  'rotation.update': ['alterou a escala', 'changed the rotation'],
  'overrides.create': ['criou uma substituição', 'created an override'],
  'overrides.delete': ['apagou uma substituição', 'deleted an override'],
  'overrides.split': ['dividiu uma substituição', 'split an override'],
  'overrides.trim': ['encurtou uma substituição', 'shortened an override'],
  'swaps.create': ['pediu uma troca de turno', 'asked for a shift swap'],
  'swaps.confirm': ['confirmou a troca de turno', 'confirmed the shift swap'],
  'swaps.decline': ['recusou a troca de turno', 'declined the shift swap'],
  'swaps.cancel': ['cancelou a troca de turno', 'canceled the shift swap'],
  'swaps.accept': ['concluiu a troca de turno', 'completed the shift swap'],
  'escalation.update': ['alterou o escalonamento', 'changed the escalation'],
  'auth.signin': ['entrou no console', 'signed in'],
  'auth.signout': ['saiu do console', 'signed out'],
};

function what(r) {
  const a = ACTIONS[r.action];
  return `${a ? L(a[0], a[1]) : r.action}${r.entity_id ? ` #${r.entity_id}` : ''}`;
}

function detail(r) {
  const d = r.detail;
  if (!d || typeof d !== 'object') return '';
  if (d.before !== undefined && d.after !== undefined && typeof d.before !== 'object') return `${d.before} → ${d.after}`;
  return Object.entries(d).filter(([, v]) => v !== null && typeof v !== 'object').slice(0, 6)
    .map(([k, v]) => `${k}: ${/_at$/.test(k) && typeof v === 'number' ? fmtDateTime(v) : v}`).join(' · ');
}

function table(rows) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'list', 'data-testid': 'audit' },
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, L('Quem', 'Who')),
      h('th', { scope: 'col' }, L('Quando', 'When')),
      h('th', { scope: 'col' }, L('O quê', 'What')),
      h('th', { scope: 'col' }, L('Detalhes', 'Details')))),
    h('tbody', null, rows.map((r) => h('tr', { 'data-testid': 'audit-row' },
      h('th', { scope: 'row' }, actorWords(r.actor_info)),
      h('td', null, fmtDateTime(r.at)),
      h('td', null, what(r)),
      h('td', { class: 'detail' }, detail(r)))))));
}

export default async function audit(root) {
  const parts = await listing(root, { path: '/api/audit', key: 'audit', extra: [['action', L('Tipo', 'Kind'), GROUPS()]], render: table });
  mount(root, pageTitle(L('Auditoria', 'Audit log')),
    h('p', { class: 'lead' }, L('Quem fez o quê: pelo console, por token, por SMS ou pelo teclado da ligação.',
      'Who did what: in the console, with a token, by text message or on a call\'s keypad.')), parts);
}
