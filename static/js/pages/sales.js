// static/js/pages/sales.js — "Vendas": upload one or more spreadsheets (.xlsx, CSV or JSON) for
// a month, the per-seller totals against the goal as a bar chart (static/js/chart.js), and the
// settings: the goal and the managers' phones that are texted when a seller beats it.

import { api, listOf } from '../api.js';
import { barChart } from '../chart.js';
import { clearErrors, errorText, field, formError, h, mount, showError } from '../dom.js';
import { fmtMoney, moneyInput, parseMoney, thisMonth } from '../fmt.js';
import { t } from '../i18n.js';
import { editFailed, pageTitle, session, toast } from '../state.js';

const TYPES = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv',
  json: 'application/json',
};

const num = (...vals) => vals.find((v) => v !== undefined && v !== null && !Number.isNaN(Number(v)));

/* Cents of an amount the API gives either as *_cents or as currency units. */
function cents(o, base) {
  const c = num(o[`${base}_cents`]);
  if (c !== undefined) return Number(c);
  const u = num(o[base]);
  return u !== undefined ? Math.round(Number(u) * 100) : undefined;
}

export default async function render(root, ctx) {
  const period = h('input', { type: 'month', required: true, value: sessionStorage.getItem('plantao.period') || thisMonth() });
  const reportSlot = h('div', { 'data-testid': 'report' });
  const settingsSlot = h('div');

  const loadReport = async () => {
    sessionStorage.setItem('plantao.period', period.value);
    try {
      const r = await api('GET', `/api/sales/report?period=${encodeURIComponent(period.value)}`);
      if (ctx.alive()) mount(reportSlot, report(r, period.value));
    } catch (e) {
      if (ctx.alive()) mount(reportSlot, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  };
  period.addEventListener('change', loadReport);

  mount(root, pageTitle(t('nav.sales')),
    h('div', { class: 'card' }, field('period', t('sales.period'), period)),
    uploadForm(period, loadReport),
    h('section', { class: 'card', 'aria-labelledby': 'rep-h' }, h('h2', { id: 'rep-h' }, t('sales.report')), reportSlot),
    settingsSlot);
  await Promise.all([loadReport(), settings(settingsSlot)]);
}

/* What an import answered (POST /api/sales), in a sentence per month. */
function importSummary(r) {
  const periods = listOf(r && r.periods, 'periods');
  const above = listOf(r && r.above_goal, 'above_goal').length;
  const queued = Number(r && r.queued) || 0;
  const sellers = periods.reduce((n, p) => n + (Number(p.sellers) || 0), 0);
  const months = periods.map((p) => p.period).filter(Boolean).join(', ');
  return `${t('sales.imported', { n: sellers, above, queued })}${months ? ` (${months})` : ''}${
    r && r.warning ? ` ${t('sales.nophones')}` : ''}`;
}

/* One line per file of the answer: "janeiro 2026.xlsx: 3 linhas, 2026-01". */
function fileLines(r) {
  return listOf(r && r.files, 'files').map((f) => `${f.filename || f.name || '?'}: ${
    t('sales.filerows', { rows: f.rows ?? '?', format: f.format || '' })}${
    listOf(f.periods, 'periods').length ? ` · ${listOf(f.periods, 'periods').join(', ')}` : ''}`);
}

function uploadForm(period, after) {
  const files = h('input', { type: 'file', multiple: true, accept: '.xlsx,.csv,.json,text/csv,application/json' });
  const byName = h('input', { type: 'checkbox' });
  const results = h('ul', { class: 'results', 'data-testid': 'upload-results', 'aria-live': 'polite' });
  const form = h('form', { class: 'card edit', novalidate: true, 'aria-labelledby': 'up-h', 'data-testid': 'upload-form' },
    h('h2', { id: 'up-h' }, t('sales.upload')),
    field('file', t('sales.files'), files, t('sales.files.hint')),
    h('div', { class: 'field check' }, h('label', null, byName, ' ', t('sales.byname'))),
    formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('sales.send'))),
    results);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    mount(results);
    if (!files.files.length) {
      showError(form, Object.assign(new Error(t('sales.nofile')), { field: 'file' }));
      return;
    }
    if (byName.checked) {
      // One multipart request: the server reads each file's month from its name.
      const fd = new FormData();
      for (const f of files.files) fd.append('file', f, f.name);
      const item = h('li', null, `${[...files.files].map((f) => f.name).join(', ')}: ${t('sales.sending')}`);
      results.append(item);
      try {
        const r = await api('POST', '/api/sales', fd);
        item.textContent = importSummary(r);
        item.className = 'ok';
        fileLines(r).forEach((line) => results.append(h('li', { class: 'ok' }, line)));
        const first = listOf(r.periods, 'periods')[0];
        if (first && first.period) period.value = first.period; // show what was just imported
      } catch (e) {
        editFailed(e);
        item.textContent = errorText(e);
        item.className = 'bad';
      }
    } else {
      for (const f of files.files) {
        const ext = (f.name.split('.').pop() || '').toLowerCase();
        const item = h('li', null, `${f.name}: ${t('sales.sending')}`);
        results.append(item);
        try {
          const r = await api('POST', `/api/sales?period=${encodeURIComponent(period.value)}`, f,
            { type: TYPES[ext] || f.type || 'text/csv' });
          item.textContent = `${f.name}: ${importSummary(r)}`;
          item.className = 'ok';
        } catch (e) {
          editFailed(e);
          item.textContent = `${f.name}: ${errorText(e)}`;
          item.className = 'bad';
        }
      }
    }
    toast(t('sales.done'));
    after();
  });
  return form;
}

function report(r, period) {
  const currency = (r && r.currency) || 'BRL';
  const goal = cents(r || {}, 'target') ?? cents(r || {}, 'goal') ?? 5500000;
  const sellers = listOf(r, 'sellers').map((s) => {
    const v = cents(s, 'amount') ?? cents(s, 'total') ?? 0;
    const above = s.above_goal ?? s.above ?? s.beat ?? v > goal;
    const notified = s.notified ?? s.notified_at ?? null;
    return { label: String(s.seller || s.name || ''), value: v, above: Boolean(above), notified };
  }).sort((a, b) => b.value - a.value);
  if (!sellers.length) return h('p', { class: 'empty' }, t('sales.empty', { period }));
  const money = (c) => fmtMoney(c, currency);
  return [
    h('p', null, t('sales.summary', { goal: money(goal), n: sellers.filter((s) => s.above).length, total: sellers.length })),
    h('figure', { class: 'chart-box' },
      barChart(sellers, goal, money, { title: t('sales.chart', { period }), goalLabel: t('sales.goal', { goal: money(goal) }) }),
      h('figcaption', { class: 'hint' }, t('sales.legend'))),
    h('details', null, h('summary', null, t('sales.table')),
      h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('sales.seller')), h('th', { scope: 'col' }, t('sales.total')),
          h('th', { scope: 'col' }, t('sales.vsgoal')), h('th', { scope: 'col' }, t('sales.notified')))),
        h('tbody', null, sellers.map((s) => h('tr', null, h('th', { scope: 'row' }, s.label),
          h('td', { class: 'num' }, money(s.value)), h('td', null, s.above ? t('sales.above') : t('sales.below')),
          h('td', null, s.notified === null ? '—' : s.notified ? t('yes') : t('no')))))))),
  ];
}

async function settings(slot) {
  let s;
  try {
    s = await api('GET', '/api/sales/settings');
  } catch (e) {
    mount(slot, h('section', { class: 'card' }, h('h2', null, t('sales.settings')),
      h('p', { class: 'error', role: 'alert' }, errorText(e))));
    return;
  }
  const inCents = s.target_cents !== undefined;
  const goalCents = cents(s, 'target') ?? 5500000;
  const target = h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', value: moneyInput(goalCents) });
  const currency = h('input', { type: 'text', maxlength: 3, pattern: '[A-Z]{3}', value: s.currency || 'BRL', autocapitalize: 'characters' });
  const phones = h('textarea', { rows: 3, placeholder: '+5511999990000', spellcheck: 'false' });
  phones.value = listOf(s.notify, 'notify').map((p) => (typeof p === 'object' ? p.phone : p)).join('\n');
  const rule = s.rule !== undefined
    ? h('select', { disabled: !session.canEdit },
      h('option', { value: 'more_than' }, t('sales.rule.more_than')),
      h('option', { value: 'at_least' }, t('sales.rule.at_least')))
    : null;
  if (rule) rule.value = s.rule;
  [target, currency, phones].forEach((c) => { c.readOnly = !session.canEdit; });
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'set-h', 'data-testid': 'sales-settings' },
    h('h2', { id: 'set-h' }, t('sales.settings')),
    h('div', { class: 'grid3' },
      field(inCents ? 'target_cents' : 'target', t('sales.target'), target),
      field('currency', t('sales.currency'), currency),
      rule ? field('rule', t('sales.rule'), rule) : null,
      field('notify', t('sales.notify'), phones, t('sales.notify.hint'))),
    formError(),
    h('div', { class: 'actions edit' }, h('button', { type: 'submit', class: 'primary' }, t('save'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const c = parseMoney(target.value);
    if (c === null) {
      showError(form, Object.assign(new Error(t('sales.amount.bad')), { field: inCents ? 'target_cents' : 'target' }));
      return;
    }
    const body = {
      currency: currency.value.trim().toUpperCase(),
      notify: phones.value.split(/[\s,;]+/).map((p) => p.replace(/[()-]/g, '')).filter(Boolean),
    };
    if (rule) body.rule = rule.value;
    if (inCents) body.target_cents = c;
    else body.target = c / 100;
    try {
      await api('PUT', '/api/sales/settings', body);
      toast(t('saved'));
      settings(slot);
    } catch (e) {
      editFailed(e);
      showError(form, e);
    }
  });
  mount(slot, form);
}
