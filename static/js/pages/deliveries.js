// static/js/pages/deliveries.js — "Envios": every text and call plantao sent or is sending (GET
// /api/outbox, admins only), newest first: to whom, what kind, its Twilio status in words, the
// error code in words, what it cost in SMS parts or call seconds, the tries. Filtered by
// person, situation, kind and period; paged.

import { h, mount } from '../dom.js';
import { fmtDateTime } from '../fmt.js';
import { pageTitle } from '../state.js';
import { L, duration, listing, statusWords } from './listing.js';

const KINDS = () => [['sms', 'SMS'], ['whatsapp', 'WhatsApp'], ['call', L('ligação', 'call')], ['email', 'E-mail']];
const CLASSES = {
  alert: ['alerta', 'alert'], ack: ['aviso de assumido', 'acknowledgement notice'], support: ['linha de suporte', 'support line'],
  handoff: ['troca de plantão', 'hand-off'], sales: ['vendas', 'sales'], otp: ['código de acesso', 'sign-in code'],
  resolved: ['aviso de resolvido', 'resolved notice'], reply: ['resposta', 'reply'],
};

function cost(r) {
  if (r.kind === 'call') return r.duration_s !== null && r.duration_s !== undefined ? duration(r.duration_s) : '—';
  if (!r.segments) return '—';
  return L(`${r.segments} parte(s) de SMS (${r.encoding || '?'})`, `${r.segments} SMS part(s) (${r.encoding || '?'})`);
}

function error(r) {
  if (!r.error_code && !r.error_message) return '';
  const words = r.error_words || r.error_message || '';
  return h('span', { class: 'error-words', 'data-testid': 'error-words' }, `${r.error_code ? `${r.error_code}: ` : ''}${words}`);
}

function table(rows) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'list', 'data-testid': 'deliveries' },
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, L('Para', 'To')),
      h('th', { scope: 'col' }, L('Quando', 'When')),
      h('th', { scope: 'col' }, L('Tipo', 'Kind')),
      h('th', { scope: 'col' }, L('Situação', 'Status')),
      h('th', { scope: 'col' }, L('Erro', 'Error')),
      h('th', { scope: 'col' }, L('Custo', 'Cost')),
      h('th', { scope: 'col' }, L('Tentativas', 'Tries')))),
    h('tbody', null, rows.map((r) => {
      const cls = CLASSES[r.class];
      return h('tr', { 'data-testid': 'delivery' },
        h('th', { scope: 'row' }, r.person_name ? `${r.person_name} (${r.to})` : r.to),
        h('td', null, fmtDateTime(r.created_at)),
        h('td', null, `${r.kind === 'call' ? L('ligação', 'call') : r.kind.toUpperCase()} · ${cls ? L(cls[0], cls[1]) : r.class}`),
        h('td', null, statusWords(r.dead_letter ? 'dead' : r.twilio_status || r.status)),
        h('td', null, error(r)),
        h('td', null, cost(r)),
        h('td', null, String(r.tries ?? 0)));
    }))));
}

export default async function deliveries(root) {
  const parts = await listing(root, {
    path: '/api/outbox',
    key: 'deliveries',
    statuses: ['delivered', 'undelivered', 'failed', 'sent', 'pending', 'retry', 'undecided', 'dead'].map((s) => [s, statusWords(s)]),
    extra: [['kind', L('Tipo', 'Kind'), KINDS()]],
    render: table,
  });
  mount(root, pageTitle(L('Envios', 'Deliveries')),
    h('p', { class: 'lead' }, L('Cada SMS, WhatsApp e ligação que o plantao enviou, com o que a Twilio respondeu.',
      'Every text, WhatsApp message and call plantao sent, with what Twilio said.')), parts);
}
