// static/js/pages/reports.js — "Sobreaviso": hours on call per person in a month, split into
// weekdays, weekends and holidays (GET /api/reports/sobreaviso), the month's national holidays,
// the hours nobody was on call (in red), month by month backward and forward, and the CSV for
// payroll (Excel in Brazil reads it as it is).

import { apiText, api } from '../api.js';
import { h, mount } from '../dom.js';
import { lang } from '../i18n.js';
import { pageTitle } from '../state.js';
import { L } from './listing.js';

function hours(n) {
  return new Intl.NumberFormat(lang(), { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(n);
}

function shift(month, by) {
  const [y, m] = month.split('-').map(Number);
  const d = new Date(Date.UTC(y, m - 1 + by, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

function monthName(month) {
  const [y, m] = month.split('-').map(Number);
  return new Intl.DateTimeFormat(lang(), { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, 15)));
}

async function download(month) {
  const text = await apiText(`/api/reports/sobreaviso?month=${month}&format=csv`);
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = h('a', { href: url, download: `sobreaviso-${month}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export default async function reports(root, ctx) {
  let month = /^\d{4}-\d\d$/.test(ctx.arg || '') ? ctx.arg : null;
  const r = await api('GET', `/api/reports/sobreaviso${month ? `?month=${month}` : ''}`);
  month = r.month;
  const go = (m) => { location.hash = `#/reports/${m}`; };
  const nav = h('nav', { class: 'pager month-nav', 'aria-label': L('Meses', 'Months') },
    h('button', { type: 'button', 'data-testid': 'prev-month', onclick: () => go(shift(month, -1)) }, L('« Mês anterior', '« Previous month')),
    h('strong', { 'data-testid': 'month' }, ` ${monthName(month)} `),
    h('button', { type: 'button', 'data-testid': 'next-month', onclick: () => go(shift(month, 1)) }, L('Próximo mês »', 'Next month »')));
  const total = (o) => hours(o.total_hours);
  const table = r.people.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'list', 'data-testid': 'sobreaviso' },
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, L('Pessoa', 'Person')),
      h('th', { scope: 'col' }, L('Dias úteis (h)', 'Weekdays (h)')),
      h('th', { scope: 'col' }, L('Fins de semana (h)', 'Weekends (h)')),
      h('th', { scope: 'col' }, L('Feriados (h)', 'Holidays (h)')),
      h('th', { scope: 'col' }, L('Total (h)', 'Total (h)')))),
    h('tbody', null, r.people.map((p) => h('tr', { 'data-testid': 'sobreaviso-row' },
      h('th', { scope: 'row' }, p.name),
      h('td', null, hours(p.weekday_hours)),
      h('td', null, hours(p.weekend_hours)),
      h('td', null, hours(p.holiday_hours)),
      h('td', null, total(p)))))))
    : h('p', { class: 'empty' }, L('Ninguém esteve de plantão neste mês.', 'Nobody was on call this month.'));
  const gap = r.uncovered.total_seconds > 0
    ? h('p', { class: 'error gap-warning', role: 'note', 'data-testid': 'uncovered' },
      L(`${hours(r.uncovered.total_hours)} h sem ninguém de plantão neste mês.`, `${hours(r.uncovered.total_hours)} h with nobody on call this month.`))
    : null;
  const hol = r.holidays.length
    ? h('ul', { class: 'holidays', 'data-testid': 'holidays' }, r.holidays.map((x) => h('li', null,
      `${new Intl.DateTimeFormat(lang(), { day: 'numeric', month: 'long', weekday: 'long', timeZone: 'UTC' }).format(new Date(`${x.date}T12:00:00Z`))}: ${x.name}`)))
    : h('p', null, r.holiday_calendar ? L('Nenhum feriado nacional neste mês.', 'No national holiday this month.')
      : L(`Sem calendário de feriados para ${r.country}: só fins de semana contam à parte.`, `No holiday calendar for ${r.country}: only weekends count apart.`));
  mount(root, pageTitle(L('Sobreaviso', 'On-call hours')),
    h('p', { class: 'lead' }, L(`Horas de plantão por pessoa, em ${r.timezone}, separadas em dias úteis, fins de semana e feriados nacionais.`,
      `Hours on call per person, in ${r.timezone}, split into weekdays, weekends and national holidays.`)),
    nav, table, gap,
    h('h2', null, L('Feriados do mês', 'Holidays this month')), hol,
    h('p', null, h('button', { type: 'button', 'data-testid': 'csv', onclick: () => download(month) }, L('Baixar CSV', 'Download CSV'))));
}
