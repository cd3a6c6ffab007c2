// static/js/pages/calls.js — "Ligações": the support line's calls, newest first (GET /api/calls):
// who called, whom plantao dialled in order and what each phone did, who answered and how long
// they talked, the voicemail with a player for its recording and its transcription. Filtered
// by person, situation and period; paged.

import { h, mount } from '../dom.js';
import { fmtDateTime } from '../fmt.js';
import { pageTitle } from '../state.js';
import { L, duration, listing, statusWords } from './listing.js';

function legs(c) {
  return h('ol', { class: 'legs' }, (c.legs || []).map((l) => h('li', null,
    `${l.person_name || l.phone}: ${l.accepted ? L('atendeu e aceitou', 'answered and took it') : statusWords(l.dial_status || 'ringing')}`)));
}

function voicemail(v) {
  if (!v) return '';
  // Twilio serves the recording at its URL; .mp3 asks for the compressed file browsers play
  const src = /\.(mp3|wav)$/.test(v.recording_url || '') ? v.recording_url : `${v.recording_url}.mp3`;
  return h('div', { class: 'voicemail', 'data-testid': 'voicemail' },
    v.recording_url ? h('audio', { controls: true, preload: 'none', src, 'aria-label': L('Recado', 'Voicemail') }) : null,
    h('p', null, `${duration(v.duration_s)} · ${L('para', 'for')} ${v.person_name || '—'}`),
    h('p', { class: 'transcription' }, v.transcription ? `“${v.transcription}”`
      : L('Sem transcrição (a Twilio só transcreve recados em inglês).', 'No transcription (Twilio transcribes English voicemails only).')));
}

function table(rows) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'list', 'data-testid': 'calls' },
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, L('Quem ligou', 'Caller')),
      h('th', { scope: 'col' }, L('Quando', 'When')),
      h('th', { scope: 'col' }, L('Situação', 'Status')),
      h('th', { scope: 'col' }, L('Quem atendeu', 'Answered by')),
      h('th', { scope: 'col' }, L('Duração', 'Duration')),
      h('th', { scope: 'col' }, L('Chamados', 'Dialled')),
      h('th', { scope: 'col' }, L('Recado', 'Voicemail')))),
    h('tbody', null, rows.map((c) => h('tr', { 'data-testid': 'call' },
      h('th', { scope: 'row' }, c.caller),
      h('td', null, fmtDateTime(c.created_at)),
      h('td', null, statusWords(c.status)),
      h('td', null, c.accepted_by_name || '—'),
      h('td', null, c.talk_s !== null && c.talk_s !== undefined ? duration(c.talk_s) : duration(c.total_s)),
      h('td', null, legs(c)),
      h('td', null, voicemail(c.voicemail)))))));
}

export default async function calls(root) {
  const parts = await listing(root, {
    path: '/api/calls',
    key: 'calls',
    statuses: [['answered', statusWords('answered')], ['voicemail', statusWords('voicemail')],
      ['abandoned', statusWords('abandoned')], ['ringing', statusWords('ringing')]],
    render: table,
  });
  mount(root, pageTitle(L('Ligações do suporte', 'Support calls')),
    h('p', { class: 'lead' }, L('Quem ligou para o número do suporte, quem foi chamado, quem atendeu e os recados.',
      'Who called the support number, who was dialled, who answered, and the voicemails.')), parts);
}
