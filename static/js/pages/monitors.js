// static/js/pages/monitors.js — "Monitores": heartbeats (jobs that ping plantao) and uptime checks
// (sites plantao fetches). Each monitor with its state, last ping or check, response-time
// sparkline, the ping URL with a copy button and ready-made curl lines for cron, pause/resume,
// its recent history; a form to add one. Refreshes by itself every few seconds while open.

import { api, listOf } from '../api.js';
import { clearErrors, errorText, field, formError, h, mount, showError, svg } from '../dom.js';
import { fmtDateTime, fmtTimeSec } from '../fmt.js';
import { lang } from '../i18n.js';
import { editFailed, pageTitle, session, toast } from '../state.js';

const REFRESH_MS = 5000;
const PAGE = 500;
const MAX_PAGES = 20;

/* This page's own texts, in the console's language. */
function L(pt, en) {
  return lang() === 'en' ? en : pt;
}

const STATES = {
  new: ['', () => L('novo', 'new')],
  up: ['st-resolved', () => L('no ar', 'up')],
  late: ['st-acknowledged', () => L('atrasado', 'late')],
  down: ['st-triggered', () => L('fora do ar', 'down')],
  paused: ['', () => L('pausado', 'paused')],
};

function stateBadge(m) {
  const [cls, label] = STATES[m.state] || ['', () => m.state];
  return h('span', { class: `badge ${cls}`, 'data-testid': 'monitor-state' }, label());
}

function every(m) {
  if (m.kind !== 'heartbeat') return L(`verificado a cada ${m.interval_s} s`, `checked every ${m.interval_s} s`);
  if (m.schedule) return L(`agenda "${m.schedule}" (${m.tz})`, `schedule "${m.schedule}" (${m.tz})`);
  return L(`a cada ${m.period_s} s`, `every ${m.period_s} s`);
}

/* Response times (oldest first) as a small line; null when there are fewer than two. */
function sparkline(pings) {
  const pts = pings.filter((p) => p.response_ms != null).reverse();
  if (pts.length < 2) return null;
  const max = Math.max(...pts.map((p) => p.response_ms), 1);
  const w = 120;
  const hgt = 24;
  const d = pts.map((p, i) => `${((i / (pts.length - 1)) * w).toFixed(1)},${(hgt - (p.response_ms / max) * (hgt - 2) - 1).toFixed(1)}`);
  return svg('svg', { width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}`, role: 'img', 'data-testid': 'sparkline',
    'aria-label': L(`tempo de resposta, até ${max} ms`, `response time, up to ${max} ms`) },
  svg('polyline', { points: d.join(' '), fill: 'none', stroke: 'currentColor', 'stroke-width': '1.5' }));
}

/* Long URLs wrap anywhere instead of widening a phone screen (set through the CSSOM: the
 * console's CSP allows no inline style attributes). */
function wrapping(el) {
  el.style.overflowWrap = 'anywhere';
  return el;
}

function copyButton(text, label) {
  const b = h('button', { type: 'button', 'aria-label': label, title: label }, L('Copiar', 'Copy'));
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      toast(L('Copiado.', 'Copied.'));
    } catch (e) {
      toast(L('Não foi possível copiar; selecione o texto.', 'Could not copy; select the text.'), 'bad');
    }
  });
  return b;
}

function codeLine(text, label) {
  return wrapping(h('p', null, h('code', { class: 'sid' }, text), ' ', copyButton(text, label)));
}

function pingHelp(m) {
  const url = m.ping_url;
  return h('div', { 'data-testid': 'ping-help' },
    codeLine(url, L(`Copiar a URL de ping de ${m.name}`, `Copy the ping URL of ${m.name}`)),
    h('p', { class: 'hint' }, L('No fim do job, no cron:', 'At the end of the job, in cron:')),
    codeLine(`curl -fsS -m 10 --retry 3 ${url}`, L('Copiar a linha de curl', 'Copy the curl line')),
    h('p', { class: 'hint' }, L('Ou com o código de saída do job (0 ok, 1–255 falha):',
      "Or with the job's exit status (0 ok, 1–255 failure):")),
    codeLine(`job.sh; curl -fsS -m 10 --retry 3 ${url}/$?`, L('Copiar a linha com o código de saída', 'Copy the exit-status line')));
}

/* Ids of monitors whose history is unfolded, kept across refreshes. */
const unfolded = new Set();

function history(m, pings) {
  if (!pings.length) return h('p', { class: 'hint' }, L('Nenhum sinal ainda.', 'Nothing yet.'));
  const d = h('details', { open: unfolded.has(m.id) }, h('summary', null, L('Histórico', 'History')),
    h('ul', { class: 'shift-list', 'data-testid': 'history' }, pings.slice(0, 20).map((p) => h('li', null,
      `${fmtDateTime(p.at)} · ${p.kind === 'success' ? 'ok' : p.kind === 'start' ? L('início', 'start') : L('falha', 'failure')}`,
      p.exit_status != null ? ` (${p.exit_status})` : '',
      p.response_ms != null ? ` · ${p.response_ms} ms` : '',
      p.body && m.kind !== 'heartbeat' ? ` · ${p.body}` : ''))));
  d.addEventListener('toggle', () => (d.open ? unfolded.add(m.id) : unfolded.delete(m.id)));
  return d;
}

function card(m, pings, reload) {
  const last = m.last_ping_at ? fmtDateTime(m.last_ping_at) : L('nunca', 'never');
  const pause = h('button', { type: 'button', 'data-key': `pause-${m.id}` }, m.paused ? L('Retomar', 'Resume') : L('Pausar', 'Pause'));
  pause.addEventListener('click', async () => {
    pause.disabled = true;
    try {
      await api('PATCH', `/api/monitors/${m.id}`, { paused: !m.paused });
    } catch (e) {
      editFailed(e);
      toast(errorText(e), 'bad');
    }
    reload();
  });
  const del = h('button', { type: 'button', class: 'danger' }, L('Excluir', 'Delete'));
  del.addEventListener('click', async () => {
    if (!window.confirm(L(`Excluir o monitor "${m.name}"?`, `Delete monitor "${m.name}"?`))) return;
    try {
      await api('DELETE', `/api/monitors/${m.id}`);
    } catch (e) {
      editFailed(e);
      toast(errorText(e), 'bad');
    }
    reload();
  });
  return h('section', { class: 'card', 'data-monitor': String(m.id), 'aria-labelledby': `mon-${m.id}` },
    h('h2', { id: `mon-${m.id}` }, m.name, ' ', stateBadge(m), m.flapping ? h('span', { class: 'badge st-exhausted' }, L('instável', 'flapping')) : null),
    wrapping(h('p', null, m.kind === 'heartbeat' ? L('Sinal de vida', 'Heartbeat') : (m.kind === 'http' ? m.url : `TCP ${m.target}`),
      ' · ', every(m), ' · ', L(`último: ${last}`, `last: ${last}`),
      m.last_response_ms != null ? ` · ${m.last_response_ms} ms` : '',
      m.last_duration_ms ? L(` · duração ${(m.last_duration_ms / 1000).toFixed(1)} s`, ` · took ${(m.last_duration_ms / 1000).toFixed(1)} s`) : '')),
    m.last_error ? wrapping(h('p', { class: 'warn' }, m.last_error)) : null,
    m.alert_id ? h('p', null, h('a', { href: `#/alerts/${m.alert_id}` }, L(`Alerta ${m.alert_id}`, `Alert ${m.alert_id}`))) : null,
    sparkline(pings),
    m.kind === 'heartbeat' && m.ping_url ? pingHelp(m) : null,
    history(m, pings),
    session.canEdit ? h('div', { class: 'actions edit' }, pause, del) : null);
}

function addForm(reload) {
  const kind = h('select', { name: 'kind' },
    h('option', { value: 'heartbeat' }, L('Sinal de vida (o job chama a URL)', 'Heartbeat (the job calls the URL)')),
    h('option', { value: 'http' }, L('Site (HTTP/HTTPS)', 'Site (HTTP/HTTPS)')),
    h('option', { value: 'tcp' }, L('Porta TCP', 'TCP port')));
  const name = h('input', { type: 'text', required: true, maxlength: 200 });
  const period = h('input', { type: 'text', inputmode: 'numeric', value: '3600' });
  const target = h('input', { type: 'text', placeholder: 'https://exemplo.com.br/' });
  const severity = h('select', null, ['critical', 'warning', 'info'].map((s) => h('option', { value: s }, s)));
  const periodField = field('period', L('A cada (segundos) ou agenda cron', 'Every (seconds) or cron schedule'), period,
    L('Ex.: 3600, ou "0 6 * * 1-5" (dias úteis às 06:00).', 'E.g. 3600, or "0 6 * * 1-5" (weekdays at 06:00).'));
  const targetField = field('target', L('Endereço', 'Address'), target);
  const sync = () => {
    targetField.hidden = kind.value === 'heartbeat';
    period.placeholder = kind.value === 'heartbeat' ? '3600' : '60';
    target.placeholder = kind.value === 'tcp' ? 'db1.exemplo.com.br:5432' : 'https://exemplo.com.br/';
  };
  kind.addEventListener('change', sync);
  sync();
  const form = h('form', { class: 'card edit', novalidate: true, 'aria-labelledby': 'mon-add', 'data-testid': 'monitor-form' },
    h('h2', { id: 'mon-add' }, L('Novo monitor', 'New monitor')),
    field('kind', L('Tipo', 'Kind'), kind), field('name', L('Nome', 'Name'), name), periodField, targetField,
    field('severity', L('Gravidade', 'Severity'), severity), formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, L('Criar', 'Create'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = { kind: kind.value, name: name.value.trim(), severity: severity.value };
    const p = period.value.trim();
    if (kind.value === 'heartbeat') {
      if (/^\d+$/.test(p)) body.period_s = Number(p);
      else body.schedule = p;
    } else {
      if (p) body.interval_s = Number(p);
      body[kind.value === 'http' ? 'url' : 'target'] = target.value.trim();
    }
    try {
      await api('POST', '/api/monitors', body);
      toast(L('Monitor criado.', 'Monitor created.'));
      form.reset();
      sync();
      reload();
    } catch (e) {
      editFailed(e);
      showError(form, e);
    }
  });
  return form;
}

/* Every monitor, oldest first: the list pages newest first with ?before= (next_before). */
async function allMonitors() {
  const out = [];
  let before = null;
  for (let i = 0; i < MAX_PAGES; i += 1) {
    const page = await api('GET', `/api/monitors?limit=${PAGE}${before ? `&before=${before}` : ''}`);
    out.push(...listOf(page, 'monitors'));
    before = page && page.next_before;
    if (!before) break;
  }
  return out.sort((a, b) => a.id - b.id);
}

export default async function render(root, ctx) {
  const region = h('div', { 'data-testid': 'monitors' });
  const stamp = h('p', { class: 'hint' });
  const load = async () => {
    let list;
    try {
      list = await allMonitors();
      const pings = await Promise.all(list.map((m) => api('GET', `/api/monitors/${m.id}/pings?limit=30`)
        .then((r) => listOf(r, 'pings')).catch(() => [])));
      if (!ctx.alive()) return;
      mount(region, list.length ? list.map((m, i) => card(m, pings[i], load))
        : h('p', { class: 'empty' }, L('Nenhum monitor ainda.', 'No monitors yet.')));
      stamp.textContent = L(`Atualizado às ${fmtTimeSec(new Date())}`, `Refreshed at ${fmtTimeSec(new Date())}`);
    } catch (e) {
      if (ctx.alive()) stamp.textContent = errorText(e);
    }
  };
  mount(root, pageTitle(L('Monitores', 'Monitors')), h('p', { class: 'hint' },
    L('Sinais de vida de jobs (cron, ETL, backups) e verificações de sites. Um monitor fora do ar abre um alerta que segue o escalonamento.',
      'Heartbeats of jobs (cron, ETL, backups) and site checks. A monitor that goes down opens an alert that follows the escalation.')),
  stamp, region, session.canEdit ? addForm(load) : null);
  await load();
  ctx.every(REFRESH_MS, load);
  return null;
}
