// static/js/main.js — the console's shell: the token form, finding out what the token may
// do, the hash router (#/now, #/schedule, #/people, #/escalation, #/alerts[/id], #/sales),
// the language toggle. Each page module exports default async (root, ctx) that fills root.

import { api, ApiError, getToken, onUnauthorized, setToken } from './api.js';
import { clearErrors, errorText, field, formError, h, mount, showError } from './dom.js';
import { getZone, setZone } from './fmt.js';
import { applyStatic, lang, setLang, t } from './i18n.js';
import { pageTitle, session, setReadOnly } from './state.js';
import alerts from './pages/alerts.js';
import escalation from './pages/escalation.js';
import now from './pages/now.js';
import people from './pages/people.js';
import schedule from './pages/schedule.js';
import sales from './pages/sales.js';

const pages = { now, schedule, people, escalation, alerts, sales };
const main = document.getElementById('main');
let leaving = [];
let generation = 0;
let ready = false;

/*
 * What the token may do. There is no "who am I" route: GET /api/tokens answers 200 only to
 * admins; for the others, DELETE /api/overrides/0 is refused with 403 by the router before
 * any handler runs when the role may not edit, and otherwise fails harmlessly (there is no
 * override 0). 401 means the server does not know the token.
 */
async function probeRole(token) {
  try {
    await api('GET', '/api/tokens', undefined, { token });
    return 'admin';
  } catch (e) {
    if (e.status !== 403) throw e;
  }
  try {
    await api('DELETE', '/api/overrides/0', undefined, { token });
  } catch (e) {
    if (e.status === 403) return 'viewer';
    if (e.status === 401 || e.status === 0) throw e;
  }
  return 'editor';
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

async function start(token) {
  session.role = await probeRole(token);
  session.isAdmin = session.role === 'admin';
  setToken(token);
  setReadOnly(session.role === 'viewer');
  document.body.classList.add('signed-in');
  await loadZone();
  ready = true;
  route(false);
}

function showLogin(message) {
  ready = false;
  leave();
  document.body.classList.remove('signed-in', 'readonly');
  const input = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false', required: true });
  const form = h('form', { class: 'card login', novalidate: true },
    field('token', t('login.token'), input, t('login.hint')),
    formError(),
    h('button', { type: 'submit', class: 'primary' }, t('login.submit')));
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
  mount(main, pageTitle(t('login.title')), h('p', { class: 'lead' }, t('login.lead')), form);
  if (message) showError(form, Object.assign(new Error(message), { field: 'token' }));
  input.focus();
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
  document.getElementById('logout').addEventListener('click', () => {
    setToken('');
    showLogin();
  });
  window.addEventListener('hashchange', () => route(true));
  onUnauthorized(() => {
    setToken('');
    showLogin(t('login.expired'));
  });
  const token = getToken();
  if (!token) {
    showLogin();
    return;
  }
  start(token).catch((e) => {
    if (e.status === 401) {
      setToken('');
      showLogin(t('login.expired'));
    } else {
      showLogin(errorText(e));
    }
  });
}

boot();
