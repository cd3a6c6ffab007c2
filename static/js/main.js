// static/js/main.js — the console's shell: signing in (phone + one-time code, or "entrar com
// token"), finding out what the caller may do, the hash router (#/now, #/schedule, #/people, #/escalation, #/alerts[/id], #/monitors, #/sales,
// the lead's #/calls, #/deliveries, #/audit, #/reports[/YYYY-MM], #/swaps),
// the language toggle. Each page module exports default async (root, ctx) that fills root.

import { api, ApiError, getToken, onUnauthorized, setToken } from './api.js';
import { clearErrors, errorText, field, formError, h, mount, showError } from './dom.js';
import { getZone, setZone } from './fmt.js';
import { applyStatic, lang, setLang, t } from './i18n.js';
import { pageTitle, session, setReadOnly } from './state.js';
import alerts from './pages/alerts.js';
import escalation from './pages/escalation.js';
import monitors from './pages/monitors.js';
import now from './pages/now.js';
import people from './pages/people.js';
import schedule from './pages/schedule.js';
import sales from './pages/sales.js';
import calls from './pages/calls.js';
import deliveries from './pages/deliveries.js';
import audit from './pages/audit.js';
import reports from './pages/reports.js';
import swaps from './pages/swaps.js';

const pages = { now, schedule, people, escalation, alerts, monitors, sales, calls, deliveries, audit, reports, swaps };
const main = document.getElementById('main');
let leaving = [];
let generation = 0;
let ready = false;

/*
 * What the token may do: GET /api/me says the role of a token that may read (401 when the server
 * does not know it). An alerts-only token may read nothing, so /api/me answers it 403 and the
 * sign-in says so; viewers read.
 */
async function probeRole(token) {
  const me = await api('GET', '/api/me', undefined, { token });
  return me && (me.role === 'admin' || me.role === 'editor') ? me.role : 'viewer';
}

async function loadZone() {
  try {
    const r = await api('GET', '/api/rotation');
    if (r && r.timezone) setZone(r.timezone);
  } catch (e) {
    /* no rotation yet, or not readable: keep the default zone */
  }
  const z = document.getElementById('zone');
  if (z) z.textContent = t('zone', { tz: getZone() });
}

/*
 * Signed in with a token (pasted) or with the session cookie (token empty): finds the role
 * and, for a session, the person (GET /api/me), then shows the page of the hash.
 */
async function start(token) {
  session.person = null;
  if (token) {
    session.role = await probeRole(token);
    setToken(token);
  } else {
    const me = await api('GET', '/api/me', undefined, { quiet: true });
    if (!me || !me.person) throw new ApiError(401, 'auth', t('signin.expired'));
    session.role = me.role;
    session.person = me.person;
  }
  session.isAdmin = session.role === 'admin';
  setReadOnly(session.role === 'viewer');
  document.body.classList.add('signed-in');
  await loadZone();
  ready = true;
  route(false);
}

/* Phone as people type it ("(11) 98765-4321"); the server makes it E.164 with the team's country. */
function phoneForm(onSent) {
  const phone = h('input', { type: 'tel', inputmode: 'tel', autocomplete: 'tel', required: true, 'data-testid': 'signin-phone' });
  const sms = h('input', { type: 'radio', name: 'channel', value: 'sms', checked: true });
  const voice = h('input', { type: 'radio', name: 'channel', value: 'voice' });
  const form = h('form', { class: 'card login', novalidate: true, 'data-testid': 'signin-form' },
    field('phone', t('signin.phone'), phone, t('signin.phone.hint')),
    h('fieldset', { class: 'field channel' },
      h('legend', null, t('signin.channel')),
      h('label', null, sms, ' ', t('signin.sms')), ' ',
      h('label', null, voice, ' ', t('signin.voice'))),
    formError(),
    h('button', { type: 'submit', class: 'primary' }, t('signin.send')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const value = phone.value.trim();
    try {
      await api('POST', '/api/auth/code', { phone: value, channel: voice.checked ? 'voice' : 'sms' }, { quiet: true });
      onSent(value);
    } catch (e) {
      const err = e.status === 422 && e.field === 'phone'
        ? Object.assign(new Error(t('signin.phone.bad')), { field: 'phone' }) : e;
      showError(form, err);
    }
  });
  return form;
}

function codeForm(phone, again) {
  const code = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]*',
    maxlength: 6, required: true, 'data-testid': 'signin-code' });
  const form = h('form', { class: 'card login', novalidate: true, 'data-testid': 'code-form' },
    h('p', { class: 'note', role: 'status' }, t('signin.sent')),
    field('code', t('signin.code'), code, t('signin.code.hint')),
    formError(),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, t('signin.verify')),
      h('button', { type: 'button', class: 'link', onclick: again }, t('signin.again'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      await api('POST', '/api/auth/verify', { phone, code: code.value.trim() }, { quiet: true });
      await start('');
    } catch (e) {
      let err = e;
      if (e.status === 401) err = Object.assign(new Error(t('signin.wrong')), { field: 'code' });
      else if (e.status === 429) {
        const min = Math.max(1, Math.ceil((Number((/in (\d+) s/.exec(e.message) || [])[1]) || 60) / 60));
        err = Object.assign(new Error(t('signin.locked', { min })), { field: 'code' });
      } else if (e.status === 422) err = Object.assign(new Error(t('signin.wrong')), { field: 'code' });
      showError(form, err);
    }
  });
  setTimeout(() => code.focus(), 0);
  return form;
}

function tokenForm() {
  const input = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false', required: true });
  const form = h('form', { class: 'login', novalidate: true },
    h('p', { class: 'hint' }, t('login.lead')),
    field('token', t('login.token'), input, t('login.hint')),
    formError(),
    h('button', { type: 'submit' }, t('login.submit')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const value = input.value.trim();
    if (!value) {
      showError(form, Object.assign(new Error(t('login.empty')), { field: 'token' }));
      return;
    }
    try {
      await start(value);
    } catch (e) {
      const err = e.status === 401 ? Object.assign(new ApiError(401, 'auth', t('login.bad')), { field: 'token' }) : e;
      showError(form, err);
    }
  });
  return form;
}

function showLogin(message) {
  ready = false;
  leave();
  session.person = null;
  document.body.classList.remove('signed-in', 'readonly');
  const slot = h('div');
  const tokenBox = h('details', { class: 'card token-login', 'data-testid': 'token-login' },
    h('summary', null, t('signin.token')), tokenForm());
  const askPhone = () => {
    mount(slot, phoneForm((phone) => mount(slot, codeForm(phone, askPhone))));
    const input = slot.querySelector('input');
    if (input) input.focus();
  };
  mount(main, pageTitle(t('login.title')), h('p', { class: 'lead' }, t('signin.lead')),
    message ? h('p', { class: 'error', role: 'alert' }, message) : null, slot, tokenBox);
  askPhone();
}

async function signOut() {
  if (!getToken()) {
    try {
      await api('POST', '/api/auth/logout', undefined, { quiet: true });
    } catch (e) {
      /* already ended: the form is what matters */
    }
  }
  setToken('');
  showLogin();
}

function leave() {
  generation += 1;
  leaving.forEach((fn) => fn());
  leaving = [];
}

/*
 * Shows the page of the current hash. focus: move keyboard focus to its title (after a
 * navigation). quiet: a refresh of the same page, built off-screen and swapped in when ready
 * (no "loading" flash, scroll position kept).
 */
async function route(focus = true, quiet = false) {
  if (!ready) return;
  leave();
  const my = generation;
  const [name, arg] = location.hash.replace(/^#\/?/, '').split('/');
  const page = pages[name] ? name : 'now';
  document.querySelectorAll('#nav a').forEach((a) => {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  const root = h('section', { class: `page page-${page}`, 'aria-labelledby': 'page-title' },
    h('p', { class: 'loading' }, t('loading')));
  if (!quiet) mount(main, root);
  document.title = `${t(`nav.${page}`)} · plantao`;
  const ctx = {
    arg: arg ? decodeURIComponent(arg) : '',
    alive: () => my === generation,
    every(ms, fn) {
      const id = setInterval(() => {
        if (my === generation && !document.hidden) fn();
      }, ms);
      leaving.push(() => clearInterval(id));
    },
    rerender: () => route(false, true),
  };
  try {
    await pages[page](root, ctx);
  } catch (e) {
    if (!ctx.alive()) return;
    console.warn(e);
    mount(root, pageTitle(t(`nav.${page}`)), h('p', { class: 'error', role: 'alert' }, errorText(e)));
  }
  if (quiet && ctx.alive()) {
    const y = window.scrollY;
    mount(main, root);
    window.scrollTo(0, y);
    // The focused control was replaced: keep keyboard users in the page, not at the top of the body.
    if (document.activeElement === document.body) {
      const h1 = root.querySelector('h1');
      if (h1) h1.focus({ preventScroll: true });
    }
  }
  if (focus && ctx.alive()) {
    const h1 = root.querySelector('h1');
    if (h1) h1.focus();
  }
}

function toggleLang() {
  setLang(lang() === 'en' ? 'pt-BR' : 'en');
  applyStatic();
  const z = document.getElementById('zone');
  if (z && ready) z.textContent = t('zone', { tz: getZone() });
  setReadOnly(!session.canEdit && ready);
  if (ready) route(false);
  else showLogin();
}

function boot() {
  applyStatic();
  document.getElementById('lang').addEventListener('click', toggleLang);
  document.getElementById('logout').addEventListener('click', signOut);
  window.addEventListener('hashchange', () => route(true));
  onUnauthorized(() => {
    const hadToken = Boolean(getToken());
    setToken('');
    showLogin(hadToken ? t('login.expired') : t('signin.expired'));
  });
  // a pasted token first; otherwise a session cookie, if the browser has one
  start(getToken()).catch((e) => {
    if (e.status === 401) {
      const hadToken = Boolean(getToken());
      setToken('');
      showLogin(hadToken ? t('login.expired') : undefined);
    } else {
      showLogin(errorText(e));
    }
  });
}

boot();
