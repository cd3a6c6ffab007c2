// static/js/pages/schedule.js — "Escala": four weeks of shifts as a calendar (coloured by
// person, overrides marked), the rotation editor (order, shift length, hand-off, zone), the
// overrides (add, remove) and the iCalendar feed's address.

import { api, listOf } from '../api.js';
import { clearErrors, errorText, field, formError, h, mount, showError } from '../dom.js';
import {
  fmtDateTime, fmtDay, fmtMonthDay, fmtTime, fromLocalInput, getZone, iso, parts, setZone, toLocalInput, zoned,
} from '../fmt.js';
import { t } from '../i18n.js';
import { editFailed, loadPeople, pageTitle, personChip, personName, personOf, session, toast, colorClass } from '../state.js';
import { confirmRemove } from './people.js';
import { gapsIn, isOverride, shiftEnd, shiftStart } from './now.js';

const WEEKS = 4;
let offsetWeeks = 0; /* the calendar's first week, counted from this week (‹ › move it) */

async function getRotation() {
  try {
    return await api('GET', '/api/rotation');
  } catch (e) {
    if (e.status === 404 && !/no route/i.test(e.message)) return null;
    throw e;
  }
}

/* Person ids of the rotation's members, whether the API lists ids or objects. */
function memberIds(rot) {
  return listOf(rot && rot.members, 'members').map((m) => Number(typeof m === 'object' ? m.id ?? m.person_id : m));
}

export default async function render(root, ctx) {
  const [people, rot] = await Promise.all([loadPeople(), getRotation()]);
  if (rot && rot.timezone) setZone(rot.timezone);
  const days = calendarDays(offsetWeeks);
  const [sched, overrides] = await Promise.all([
    api('GET', `/api/schedule?from=${encodeURIComponent(iso(days[0]))}&to=${encodeURIComponent(iso(days[days.length - 1]))}`),
    api('GET', '/api/overrides').catch((e) => {
      if (e.status === 404) return [];
      throw e;
    }),
  ]);
  if (!ctx.alive()) return;
  const shifts = listOf(sched, 'shifts');
  mount(root,
    pageTitle(t('nav.schedule')),
    calendar(days, shifts, ctx),
    rotationSection(rot, people, ctx),
    overridesSection(listOf(overrides, 'overrides'), people, ctx),
    feedSection());
}

/* 29 instants: local midnight of Monday `weeks` weeks from this one, then each following day. */
function calendarDays(weeks) {
  const p = parts(new Date());
  const out = [];
  for (let i = 0; i <= WEEKS * 7; i++) out.push(zoned(p.year, p.month, p.day - p.weekday + weeks * 7 + i));
  return out;
}

/* ‹ › by week, « » by four weeks, "Hoje" back to this week. */
function calendarNav(days, ctx) {
  const go = (n) => () => {
    offsetWeeks = n === 0 ? 0 : offsetWeeks + n;
    ctx.rerender();
  };
  const b = (id, label, text, n) => h('button', { type: 'button', class: 'secondary', 'data-testid': id, 'aria-label': label, onclick: go(n) }, text);
  return h('div', { class: 'cal-nav actions' },
    b('cal-prev-month', t('sched.prev4'), '«', -WEEKS),
    b('cal-prev-week', t('sched.prevweek'), '‹', -1),
    h('span', { class: 'cal-range', 'data-testid': 'cal-range' }, `${fmtMonthDay(days[0])} – ${fmtMonthDay(days[days.length - 2])}`),
    b('cal-next-week', t('sched.nextweek'), '›', 1),
    b('cal-next-month', t('sched.next4b'), '»', WEEKS),
    offsetWeeks ? b('cal-today', t('sched.today'), t('sched.today'), 0) : null);
}

function calendar(days, shifts, ctx) {
  const today = parts(new Date());
  // the past is history: only stretches from now on are warnings
  const gaps = gapsIn(shifts, new Date(Math.max(days[0], Date.now())), days[days.length - 1]);
  const legend = new Map();
  const rows = [];
  for (let w = 0; w < WEEKS; w++) {
    const cells = [];
    for (let d = 0; d < 7; d++) {
      const i = w * 7 + d;
      const from = days[i];
      const to = days[i + 1];
      const dp = parts(from);
      const isToday = dp.year === today.year && dp.month === today.month && dp.day === today.day;
      // Pieces shorter than a minute (a rotation edited twice in a row) are not worth a chip.
      const pieces = shifts.filter((s) => personOf(s) && shiftStart(s) < to && shiftEnd(s) > from && shiftEnd(s) - shiftStart(s) >= 60e3);
      const chips = pieces.map((s) => {
        const p = personOf(s);
        if (p) legend.set(Number(p.id), p);
        const st = shiftStart(s);
        const en = shiftEnd(s);
        const ovr = isOverride(s);
        let span = '';
        if (st > from && en < to) span = `${fmtTime(st)}–${fmtTime(en)}`;
        else if (st > from) span = `${fmtTime(st)}–`;
        else if (en < to) span = `–${fmtTime(en)}`;
        return h('li', {
          class: `shift ${p ? colorClass(p.id) : 'nobody'}${ovr ? ' ovr' : ''}`,
          title: `${p ? p.name : t('nobody')}: ${fmtDateTime(st)} – ${fmtDateTime(en)}${ovr ? ` (${t('override')})` : ''}`,
        },
        ovr ? h('span', { class: 'mark', 'aria-hidden': 'true' }, '⇄') : null,
        h('span', { class: 'who' }, p ? p.name : t('nobody')),
        ovr ? h('span', { class: 'sr-only' }, ` (${t('override')})`) : null,
        span ? h('span', { class: 'span' }, span) : null);
      });
      cells.push(h('td', { class: `day${isToday ? ' today' : ''}${to <= new Date() ? ' past' : ''}`, 'aria-current': isToday ? 'date' : null },
        h('span', { class: 'date' }, dp.day === 1 || i === 0 ? fmtMonthDay(from) : String(dp.day)),
        (() => {
          // Nobody on call: a red chip per stretch of this day that no shift covers.
          const holes = gaps.filter(([a, b]) => a < to && b > from).map(([a, b]) => h('li', { class: 'shift gap', 'data-testid': 'gap',
            title: `${t('sched.gap')}: ${fmtDateTime(a)} – ${fmtDateTime(b)}` },
          h('span', { class: 'who' }, t('sched.gap')),
          a > from || b < to ? h('span', { class: 'span' }, `${a > from ? fmtTime(a) : ''}–${b < to ? fmtTime(b) : ''}`) : null));
          const all = chips.concat(holes);
          return all.length ? h('ul', { class: 'shifts' }, all) : null;
        })()));
    }
    rows.push(h('tr', null, cells));
  }
  const heads = days.slice(0, 7).map((d) => h('th', { scope: 'col' }, fmtDay(d).split(/[ ,.]/)[0]));
  const list = h('details', { class: 'shift-list' },
    h('summary', null, t('sched.aslist')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('person')), h('th', { scope: 'col' }, t('start')),
        h('th', { scope: 'col' }, t('end')), h('th', { scope: 'col' }, t('kind')))),
      h('tbody', null, shifts.map((s) => h('tr', null,
        h('td', null, personChip(personOf(s))), h('td', null, fmtDateTime(shiftStart(s))),
        h('td', null, fmtDateTime(shiftEnd(s))), h('td', null, isOverride(s) ? t('override') : t('rotation'))))))));
  return h('section', { class: 'card', 'aria-labelledby': 'cal-h' },
    h('h2', { id: 'cal-h' }, offsetWeeks ? t('sched.weeks') : t('sched.next4')),
    calendarNav(days, ctx),
    legend.size
      ? h('ul', { class: 'legend', 'aria-label': t('sched.legend') },
        [...legend.values()].map((p) => h('li', null, personChip(p))),
        h('li', null, h('span', { class: 'chip ovr-sample' }, '⇄ ', t('override'))))
      : h('p', { class: 'empty' }, t('sched.empty')),
    h('div', { class: 'cal-wrap' }, h('table', { class: 'cal', 'data-testid': 'calendar' },
      h('caption', { class: 'sr-only' }, t('sched.next4')),
      h('thead', null, h('tr', null, heads)),
      h('tbody', null, rows))),
    list);
}

function rotationSection(rot, people, ctx) {
  let members = memberIds(rot);
  const list = h('ol', { class: 'members', 'data-testid': 'members' });
  const draw = () => {
    mount(list, members.length ? members.map((id, i) => h('li', null,
      personChip({ id, name: personName(id) }),
      h('span', { class: 'edit member-actions' },
        h('button', { type: 'button', class: 'icon', disabled: i === 0, 'aria-label': t('rot.up', { name: personName(id) }),
          onclick: () => move(i, -1) }, '↑'),
        h('button', { type: 'button', class: 'icon', disabled: i === members.length - 1,
          'aria-label': t('rot.down', { name: personName(id) }), onclick: () => move(i, 1) }, '↓'),
        h('button', { type: 'button', class: 'icon danger', 'aria-label': t('rot.remove', { name: personName(id) }),
          onclick: () => { members.splice(i, 1); draw(); } }, '✕'))))
      : h('li', { class: 'empty' }, t('rot.nomembers')));
  };
  const move = (i, by) => {
    const j = i + by;
    [members[i], members[j]] = [members[j], members[i]];
    draw();
    const btn = list.children[j] && list.children[j].querySelectorAll('button')[by < 0 ? 0 : 1];
    if (btn && !btn.disabled) btn.focus();
  };
  draw();

  const addSel = h('select', null, people.map((p) => h('option', { value: String(p.id) }, p.name)));
  const hours = h('input', { type: 'number', min: 1, max: 8784, step: 1, inputmode: 'numeric', list: 'hours-list',
    value: String(rot && rot.shift_hours ? rot.shift_hours : 168) });
  const handoff = h('input', { type: 'datetime-local', required: true,
    value: rot && rot.handoff ? String(rot.handoff).slice(0, 16) : defaultHandoff() });
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const tz = h('input', { type: 'text', list: 'tz-list', autocomplete: 'off', spellcheck: 'false',
    value: rot && rot.timezone ? rot.timezone : getZone() });
  const form = h('form', { class: 'card', 'aria-labelledby': 'rot-h', novalidate: true, 'data-testid': 'rotation-form' },
    h('h2', { id: 'rot-h' }, t('rot.title')),
    h('p', { class: 'hint' }, t('rot.hint')),
    h('div', { class: 'field', 'data-for': 'members' },
      h('span', { class: 'label', id: 'members-l' }, t('rot.members')),
      list,
      h('p', { class: 'field-error', 'data-error-for': 'members', hidden: true })),
    people.length
      ? h('div', { class: 'inline edit' },
        field('add', t('rot.addwho'), addSel),
        h('button', { type: 'button', onclick: () => { members.push(Number(addSel.value)); draw(); } }, t('rot.add')))
      : h('p', { class: 'edit' }, t('take.nopeople'), ' ', h('a', { href: '#/people' }, t('nav.people'))),
    h('div', { class: 'grid3' },
      field('shift_hours', t('rot.hours'), hours, t('rot.hours.hint')),
      field('handoff', t('rot.handoff'), handoff, t('rot.handoff.hint')),
      field('timezone', t('rot.tz'), tz)),
    h('datalist', { id: 'hours-list' }, [8, 12, 24, 48, 72, 168, 336].map((n) => h('option', { value: String(n) }))),
    h('datalist', { id: 'tz-list' }, zones.map((z) => h('option', { value: z }))),
    formError(),
    h('div', { class: 'actions edit' }, h('button', { type: 'submit', class: 'primary' }, t('rot.save'))));
  [hours, handoff, tz].forEach((c) => { c.readOnly = !session.canEdit; });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = { members, shift_hours: Number(hours.value), handoff: handoff.value, timezone: tz.value.trim() };
    try {
      await api('PUT', '/api/rotation', body);
      setZone(body.timezone);
      toast(t('rot.saved'));
      ctx.rerender();
    } catch (e) {
      editFailed(e);
      showError(form, e);
    }
  });
  return form;
}

/* The latest Monday 09:00 in the zone (as the server's default), so the first member is on call now. */
function defaultHandoff() {
  const p = parts(new Date());
  const back = p.weekday === 0 && p.hour < 9 ? 7 : 0;
  return toLocalInput(zoned(p.year, p.month, p.day - p.weekday - back, 9, 0));
}

function overridesSection(overrides, people, ctx) {
  const nowMs = Date.now();
  const current = overrides
    .filter((o) => !shiftEnd(o) || shiftEnd(o).getTime() > nowMs)
    .sort((a, b) => shiftStart(a) - shiftStart(b));
  const rows = current.map((o) => {
    const p = personOf(o);
    const status = h('span', { class: 'row-error', role: 'alert' });
    const del = h('button', { type: 'button', class: 'danger', 'aria-label': t('ovr.remove.label', { name: p ? p.name : '' }) },
      t('remove'));
    const cell = h('td', { class: 'edit row-actions' }, del, status);
    del.addEventListener('click', () => confirmRemove(cell, del, { id: o.id, name: p ? p.name : '' }, status, ctx,
      `/api/overrides/${o.id}`));
    return h('tr', { 'data-override': String(o.id) },
      h('td', null, personChip(p)),
      h('td', null, fmtDateTime(shiftStart(o))),
      h('td', null, fmtDateTime(shiftEnd(o))),
      h('td', null, o.reason || ''),
      cell);
  });

  const now = new Date();
  now.setMinutes(0, 0, 0);
  const startDefault = new Date(now.getTime() + 3600e3);
  const sel = h('select', { required: true }, people.map((p) => h('option', { value: String(p.id) }, p.name)));
  const start = h('input', { type: 'datetime-local', required: true, value: toLocalInput(startDefault) });
  const end = h('input', { type: 'datetime-local', required: true, value: toLocalInput(new Date(startDefault.getTime() + 24 * 3600e3)) });
  const reason = h('input', { type: 'text', maxlength: 500 });
  const form = h('form', { class: 'edit', novalidate: true, 'data-testid': 'override-form', 'aria-labelledby': 'ovr-add-h' },
    h('h3', { id: 'ovr-add-h' }, t('ovr.add')),
    h('div', { class: 'grid4' },
      field('person_id', t('person'), sel),
      field('start', t('start'), start),
      field('end', t('end'), end),
      field('reason', t('ovr.reason'), reason)),
    formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('ovr.addbtn'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const s = fromLocalInput(start.value);
    const e = fromLocalInput(end.value);
    if (!s) return showError(form, Object.assign(new Error(t('ovr.bad.start')), { field: 'start' }));
    if (!e) return showError(form, Object.assign(new Error(t('ovr.bad.end')), { field: 'end' }));
    const body = { person_id: Number(sel.value), start: iso(s), end: iso(e) };
    if (reason.value.trim()) body.reason = reason.value.trim();
    const send = async (replace) => {
      clearErrors(form);
      try {
        await api('POST', `/api/overrides${replace ? '?replace=true' : ''}`, body);
        toast(t('ovr.added'));
        ctx.rerender();
      } catch (err) {
        editFailed(err);
        const slot = showError(form, err);
        // the one in the way is named by the API: offer to replace it, not a query parameter
        if (err.code === 'override_overlap' && !replace && slot) {
          slot.append(' ', h('button', { type: 'button', 'data-testid': 'override-replace', onclick: () => send(true) },
            t('ovr.replace')));
        }
      }
    };
    await send(false);
    return null;
  });

  return h('section', { class: 'card', 'aria-labelledby': 'ovr-h' },
    h('h2', { id: 'ovr-h' }, t('ovr.title')),
    rows.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'list', 'data-testid': 'overrides' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('person')), h('th', { scope: 'col' }, t('start')),
          h('th', { scope: 'col' }, t('end')), h('th', { scope: 'col' }, t('ovr.reason')),
          h('th', { scope: 'col', class: 'edit' }, h('span', { class: 'sr-only' }, t('actions'))))),
        h('tbody', null, rows)))
      : h('p', { class: 'empty' }, t('ovr.none')),
    people.length ? form : null);
}

/*
 * The iCalendar feed. Calendar apps cannot send an Authorization header, so the server takes
 * ?token= there, but only a viewer token: an admin can make one here (shown once).
 */
function feedSection() {
  const base = `${location.origin}/api/schedule.ics?token=`;
  const input = h('input', { type: 'text', readonly: true, value: base + t('ics.placeholder'), 'data-testid': 'ics-url' });
  const status = h('span', { class: 'hint', role: 'status' });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(input.value);
    } catch (e) {
      input.select();
      document.execCommand('copy');
    }
    status.textContent = t('copied');
  };
  const make = h('button', { type: 'button', class: 'secondary' }, t('ics.create'));
  make.addEventListener('click', async () => {
    try {
      const r = await api('POST', '/api/tokens', { name: t('ics.tokenname'), role: 'viewer' });
      input.value = base + encodeURIComponent(r.token);
      make.remove();
      status.textContent = t('ics.created');
      input.focus();
      input.select();
    } catch (e) {
      status.textContent = errorText(e);
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'ics-h' },
    h('h2', { id: 'ics-h' }, t('ics.title')),
    h('p', { class: 'hint' }, t('ics.hint')),
    h('div', { class: 'inline' }, field('ics', t('ics.url'), input),
      h('button', { type: 'button', onclick: copy }, t('copy'))),
    session.isAdmin ? h('div', { class: 'actions' }, make) : null,
    status);
}
