// static/js/pages/now.js — "Agora": who is on call, until when, who is next, and the button
// that takes the shift (an override from now to the end of the current shift).

import { api, listOf } from '../api.js';
import { clearErrors, errorText, field, formError, h, mount, showError } from '../dom.js';
import { fmtFull, iso, toDate } from '../fmt.js';
import { t } from '../i18n.js';
import { editFailed, loadPeople, pageTitle, personChip, personOf, toast } from '../state.js';

const pick = (o, ...names) => {
  for (const n of names) if (o && o[n] !== undefined && o[n] !== null) return o[n];
  return null;
};

export const shiftStart = (s) => toDate(pick(s, 'start', 'start_at', 'from'));
export const shiftEnd = (s) => toDate(pick(s, 'end', 'end_at', 'to', 'until'));
export const isOverride = (s) => Boolean(pick(s, 'override', 'is_override', 'by_override') || pick(s, 'override_id'));

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

export default async function render(root, ctx) {
  const [people, cur] = await Promise.all([loadPeople(), oncallNow()]);
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

  mount(root, pageTitle(t('nav.now')), card, takeForm(people, who, end, ctx));
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
