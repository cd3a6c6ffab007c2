// static/js/pages/escalation.js — "Escalonamento": the steps an alert goes through (who is
// called: the person on call, the next one, or a named person; how long to wait), how many
// rounds of them before the alert is given up as exhausted, and from which severity alerts
// are called (below it: warnings are only texted, info is only recorded).

import { api, listOf } from '../api.js';
import { clearErrors, field, formError, h, mount, showError } from '../dom.js';
import { lang, t } from '../i18n.js';
import { editFailed, loadPeople, pageTitle, session, toast } from '../state.js';

/* A step's target as the select's value: "oncall", "next" or "p:<id>". */
function targetValue(s) {
  if (s.target === 'oncall' || s.target === 'next') return s.target;
  const id = s.person_id ?? (s.person && typeof s.person === 'object' ? s.person.id : s.person) ?? s.target;
  return `p:${Number(id)}`;
}

/* This page's own texts, in the console's language. */
function L(pt, en) {
  return lang() === 'en' ? en : pt;
}

const SEVERITIES = [
  ['critical', () => L('crítico (critical)', 'critical')],
  ['warning', () => L('aviso (warning)', 'warning')],
  ['info', () => L('informativo (info)', 'info')],
];

function targetJson(v) {
  return v.startsWith('p:') ? Number(v.slice(2)) : v;
}

export default async function render(root, ctx) {
  const [people, esc] = await Promise.all([loadPeople(), api('GET', '/api/escalation')]);
  if (!ctx.alive()) return;
  let steps = listOf(esc, 'steps').map((s) => ({ target: targetValue(s), timeout_s: Number(s.timeout_s) || 30 }));
  const list = h('ol', { class: 'steps', 'data-testid': 'steps' });
  const rounds = h('input', { type: 'number', min: 1, max: 20, step: 1, inputmode: 'numeric', value: String(esc.rounds ?? 3) });
  rounds.readOnly = !session.canEdit;
  const callMin = h('select', { disabled: !session.canEdit, 'data-testid': 'call-min-severity' },
    SEVERITIES.map(([v, label]) => h('option', { value: v }, label())));
  callMin.value = SEVERITIES.some(([v]) => v === esc.call_min_severity) ? esc.call_min_severity : 'critical';

  const draw = () => {
    mount(list, steps.map((s, i) => {
      const sel = h('select', { disabled: !session.canEdit },
        h('option', { value: 'oncall' }, t('esc.oncall')),
        h('option', { value: 'next' }, t('esc.next')),
        people.map((p) => h('option', { value: `p:${p.id}` }, p.name)));
      sel.value = s.target;
      // a step that calls a person whose phone is not verified says so, in red
      const note = h('p', { class: 'warn unverified-note', 'data-testid': 'step-unverified', role: 'note' });
      const mark = () => {
        const p = String(s.target).startsWith('p:')
          ? people.find((x) => `p:${x.id}` === s.target) : null;
        note.textContent = p && p.phone_verified === false ? `${p.name}: ${t('people.unverified')}` : '';
        note.hidden = !note.textContent;
      };
      mark();
      sel.addEventListener('change', () => { s.target = sel.value; mark(); });
      const timeout = h('input', { type: 'number', min: 5, max: 600, step: 1, inputmode: 'numeric', value: String(s.timeout_s) });
      timeout.readOnly = !session.canEdit;
      timeout.addEventListener('input', () => { s.timeout_s = Number(timeout.value); });
      return h('li', { class: 'step' },
        h('span', { class: 'step-n', 'aria-hidden': 'true' }, String(i + 1)),
        h('div', null, field(`steps[${i}].target`, t('esc.target', { n: i + 1 }), sel), note),
        field(`steps[${i}].timeout_s`, t('esc.timeout'), timeout),
        h('span', { class: 'edit member-actions' },
          h('button', { type: 'button', class: 'icon', disabled: i === 0, 'aria-label': t('esc.up', { n: i + 1 }),
            onclick: () => { [steps[i - 1], steps[i]] = [steps[i], steps[i - 1]]; draw(); } }, '↑'),
          h('button', { type: 'button', class: 'icon', disabled: i === steps.length - 1, 'aria-label': t('esc.down', { n: i + 1 }),
            onclick: () => { [steps[i + 1], steps[i]] = [steps[i], steps[i + 1]]; draw(); } }, '↓'),
          h('button', { type: 'button', class: 'icon danger', 'aria-label': t('esc.remove', { n: i + 1 }),
            onclick: () => { steps.splice(i, 1); draw(); } }, '✕')));
    }));
  };
  draw();

  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'esc-h', 'data-testid': 'escalation-form' },
    h('h2', { id: 'esc-h' }, t('esc.steps')),
    h('p', { class: 'hint' }, t('esc.hint')),
    list,
    h('p', { class: 'field-error', 'data-error-for': 'steps', hidden: true }),
    h('div', { class: 'actions edit' },
      h('button', { type: 'button', onclick: () => { steps.push({ target: 'next', timeout_s: 30 }); draw(); } }, t('esc.add'))),
    field('rounds', t('esc.rounds'), rounds, t('esc.rounds.hint')),
    field('call_min_severity', L('Ligar a partir da gravidade', 'Call from severity'), callMin,
      L('Desta gravidade para cima o alerta manda SMS e liga. Abaixo dela não liga: "warning" recebe só SMS, "info" só fica registrado.',
        'From this severity up an alert texts and calls. Below it nobody is called: "warning" is only texted, "info" is only recorded.')),
    formError(),
    h('div', { class: 'actions edit' }, h('button', { type: 'submit', class: 'primary' }, t('save'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = {
      steps: steps.map((s) => ({ target: targetJson(s.target), timeout_s: Number(s.timeout_s) })),
      rounds: Number(rounds.value),
      call_min_severity: callMin.value,
    };
    try {
      await api('PUT', '/api/escalation', body);
      toast(t('saved'));
      ctx.rerender();
    } catch (e) {
      editFailed(e);
      showError(form, e);
    }
  });
  mount(root, pageTitle(t('nav.escalation')), form);
}
