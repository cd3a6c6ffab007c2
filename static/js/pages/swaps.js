// static/js/pages/swaps.js — "Trocas" (trocar turno): the signed-in person picks one of their
// coming shifts and a colleague; the colleague confirms or declines here or by SMS (the text
// they get asks for "ACEITO N" / "RECUSO N") before the swap expires; once both have said yes
// the time is the colleague's (an override). Lists the swaps with their state; answering is
// for the two people of a swap (POST /api/swaps, /api/swaps/{id}/confirm|decline).

import { api, listOf } from '../api.js';
import { clearErrors, field, formError, h, mount, showError } from '../dom.js';
import { fmtDateTime } from '../fmt.js';
import { loadPeople, pageTitle, session, toast } from '../state.js';
import { L } from './listing.js';

const STATES = {
  pending: ['esperando confirmação', 'waiting for confirmation'],
  accepted: ['confirmada: turno trocado', 'confirmed: shift swapped'],
  declined: ['recusada', 'declined'],
  canceled: ['cancelada', 'cancelled'],
  expired: ['vencida sem resposta', 'expired without an answer'],
};

function span(a, b) {
  return `${fmtDateTime(a)} → ${fmtDateTime(b)}`;
}

function offerForm(me, shifts, people, done) {
  const shiftSel = h('select', { 'data-testid': 'swap-shift' },
    shifts.map((s, i) => h('option', { value: String(i) }, span(s.start, s.end))));
  const whoSel = h('select', { 'data-testid': 'swap-colleague' },
    people.filter((p) => p.id !== me.id).map((p) => h('option', { value: String(p.id) }, p.name)));
  const form = h('form', { class: 'card', 'data-testid': 'swap-form' },
    h('h2', null, L('Trocar turno', 'Swap a shift')),
    field('start', L('Meu turno', 'My shift'), shiftSel),
    field('to_person_id', L('Colega que assume', 'Colleague who takes it'), whoSel),
    formError(),
    h('button', { type: 'submit' }, L('Pedir a troca', 'Ask for the swap')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const s = shifts[Number(shiftSel.value)];
    const start = s.start; // a shift running now: the server takes it from now on
    try {
      await api('POST', '/api/swaps', { to_person_id: Number(whoSel.value), start, end: s.end });
      toast(L('Pedido enviado por SMS: falta a confirmação do colega.', 'Request texted: your colleague has to confirm.'));
      done();
    } catch (err) {
      showError(form, err);
    }
  });
  return form;
}

function row(s, me, done) {
  const st = STATES[s.status] || [s.status, s.status];
  const mySide = me && ((s.from_person === me.id && !s.from_confirmed_at) || (s.to_person === me.id && !s.to_confirmed_at));
  const act = (verb) => async () => {
    try {
      await api('POST', `/api/swaps/${s.id}/${verb}`, {});
      toast(verb === 'confirm' ? L('Troca confirmada.', 'Swap confirmed.') : L('Troca recusada.', 'Swap declined.'));
      done();
    } catch (err) {
      toast(err.message, 'error');
    }
  };
  return h('tr', { 'data-testid': 'swap' },
    h('th', { scope: 'row' }, `${s.from_name} → ${s.to_name}`),
    h('td', null, span(s.start_at, s.end_at)),
    h('td', { 'data-testid': 'swap-state', title: s.status === 'pending' && s.expires_at
      ? `${L('responder até', 'answer by')} ${fmtDateTime(s.expires_at)}` : '' }, L(st[0], st[1])),
    h('td', { class: 'row-actions' }, s.status === 'pending' && mySide ? [
      h('button', { type: 'button', onclick: act('confirm') }, L('Confirmar troca', 'Confirm swap')), ' ',
      h('button', { type: 'button', class: 'secondary', onclick: act('decline') }, L('Recusar', 'Decline'))] : ''));
}

export default async function swaps(root, ctx) {
  const me = session.person;
  const people = await loadPeople();
  const list = listOf(await api('GET', `/api/swaps${me ? `?person=${me.id}` : ''}`), 'swaps');
  let form = null;
  if (me) {
    // the server's window starts now (its clock, not this browser's)
    const sched = await api('GET', '/api/schedule');
    const mine = listOf(sched, 'shifts').filter((s) => s.person && s.person.id === me.id).slice(0, 12);
    form = mine.length ? offerForm(me, mine, people, ctx.rerender)
      : h('p', { class: 'card' }, L('Você não tem turnos nas próximas semanas.', 'You have no shifts in the coming weeks.'));
  } else {
    form = h('p', { class: 'card' }, L('Entre com o seu telefone para pedir uma troca.', 'Sign in with your phone to ask for a swap.'));
  }
  mount(root, pageTitle(L('Trocas de turno', 'Shift swaps')),
    h('p', { class: 'lead' }, L('Passe parte do seu plantão para um colega: vale quando os dois confirmam, aqui ou por SMS (ACEITO N / RECUSO N), em até um dia.',
      'Give part of your on-call time to a colleague: it counts once both of you confirm, here or by text (ACCEPT N / DECLINE N), within a day.')),
    form,
    list.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'list', 'data-testid': 'swaps' },
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, L('Quem passa → quem assume', 'From → to')),
        h('th', { scope: 'col' }, L('Período', 'Period')),
        h('th', { scope: 'col' }, L('Situação', 'Status')),
        h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, L('Ações', 'Actions'))))),
      h('tbody', null, list.map((s) => row(s, me, ctx.rerender)))))
      : h('p', { class: 'empty' }, L('Nenhuma troca ainda.', 'No swaps yet.')));
}
