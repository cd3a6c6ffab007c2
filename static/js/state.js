// static/js/state.js — what every page shares: the caller's role (admin, editor or read-only),
// the people (for names and colours), the status toast, and the page title helper.

import { api, listOf } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

export const session = {
  role: '', // 'admin' | 'editor' | 'viewer'
  canEdit: false,
  isAdmin: false,
  person: null, // the signed-in person (GET /api/me) when signed in with a code, null with a token
};

/* Hides every .edit control (CSS) and says so once, after the server refused an edit (403). */
export function setReadOnly(readOnly) {
  session.canEdit = !readOnly;
  if (readOnly && session.role !== 'viewer') session.role = 'viewer';
  document.body.classList.toggle('readonly', readOnly);
  const badge = document.getElementById('role');
  if (badge) {
    badge.textContent = session.role ? t(`role.${session.role}`) : '';
    badge.hidden = !session.role;
  }
}

let people = [];
let byId = new Map();

/* Every person (GET /api/people, page after page), remembered for names and colours. */
export async function loadPeople() {
  const all = [];
  let before = null;
  for (let page = 0; page < 100; page += 1) {
    const body = await api('GET', `/api/people?limit=500${before ? `&before=${before}` : ''}`);
    all.push(...listOf(body, 'people'));
    before = body && body.next_before;
    if (!before) break;
  }
  people = all;
  byId = new Map(people.map((p) => [Number(p.id), p]));
  return people;
}

export function knownPeople() {
  return people;
}

/* The person an API object refers to: {person: {…}}, {person: id}, {person_id: id}. */
export function personOf(x) {
  if (!x) return null;
  if (x.person && typeof x.person === 'object') return x.person;
  const id = x.person_id ?? (typeof x.person === 'number' ? x.person : null);
  if (id === null || id === undefined) return null;
  return byId.get(Number(id)) || { id: Number(id), name: x.person_name || x.name || `#${id}` };
}

export function personName(id) {
  const p = byId.get(Number(id));
  return p ? p.name : `#${id}`;
}

/* The colour class of a person in the calendar (ten light tints with dark text). */
export function colorClass(id) {
  const n = Number(id) || 0;
  return `pc${((n % 10) + 10) % 10}`;
}

/* A coloured name chip; a person whose phone is not verified yet gets a red mark (and says so
 * in its title), on every page that shows people. */
export function personChip(p) {
  if (!p) return h('span', { class: 'chip nobody' }, t('nobody'));
  const known = byId.get(Number(p.id));
  const unverified = (p.phone_verified ?? (known && known.phone_verified)) === false;
  return h('span', {
    class: `chip ${colorClass(p.id)}${unverified ? ' unverified' : ''}`,
    title: unverified ? t('people.unverified.title') : null,
    'data-unverified': unverified ? 'true' : null,
  }, p.name);
}

let toastTimer = 0;
/* A short status message read out by screen readers (aria-live). */
export function toast(msg, kind = 'ok') {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = msg;
  el.className = `toast ${kind}`;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 5000);
}

/* The page's <h1>, focusable so the router can move keyboard focus to it. */
export function pageTitle(text) {
  return h('h1', { id: 'page-title', tabindex: '-1' }, text);
}

/* Handles an error of an edit: a 403 switches the console to read-only. Returns err. */
export function editFailed(err) {
  if (err && err.status === 403) setReadOnly(true);
  return err;
}
