// static/js/dom.js — building the page without innerHTML: h() makes elements with text nodes
// (so names and alert texts from the API can never become markup), svg() the chart's shapes,
// and the small form helpers that put an API error next to the field it names.

import { t, tOr } from './i18n.js';

function add(el, kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
}

/*
 * h('button', {class: 'x', onclick: fn, disabled: true}, 'text', child…)
 * Properties starting with "on" are listeners; true/false toggle boolean attributes;
 * value/checked are set as properties after the children (so a <select> finds its option).
 */
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  const late = {};
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'value' || k === 'checked' || k === 'selected') late[k] = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  add(el, kids);
  for (const [k, v] of Object.entries(late)) el[k] = v;
  if (tag === 'table' && el.classList.contains('list')) labelCells(el);
  return el;
}

/*
 * On a phone a table.list is drawn as one card per row (app.css, max-width 600px): each cell
 * then shows its column's heading in front of it, from data-label. Row headings (the card's
 * title) and columns headed only for screen readers (actions) get no label.
 */
export function labelCells(table) {
  const heads = [...table.querySelectorAll('thead th')].map((th) => (th.querySelector('.sr-only') ? '' : th.textContent.trim()));
  for (const tr of table.querySelectorAll('tbody tr')) {
    [...tr.children].forEach((cell, i) => {
      if (heads[i] && cell.getAttribute('scope') !== 'row') cell.dataset.label = heads[i];
    });
  }
}

const SVG = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  add(el, kids);
  return el;
}

let seq = 0;
export function uid(prefix) {
  seq += 1;
  return `${prefix}-${seq}`;
}

/*
 * A labelled field: label, control, optional hint and an error slot the API's message goes
 * into (aria-describedby points at both). name is the API's field name ("phone").
 */
export function field(name, label, control, hint) {
  const id = control.id || uid(`f-${name}`);
  control.id = id;
  control.dataset.field = name;
  const errId = `${id}-err`;
  const hintId = hint ? `${id}-hint` : null;
  control.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
  return h('div', { class: 'field', 'data-for': name },
    h('label', { for: id }, label),
    control,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errId, 'data-error-for': name, hidden: true }));
}

/* Clears every error shown in root. */
export function clearErrors(root) {
  root.querySelectorAll('[data-error-for], .form-error').forEach((p) => {
    p.textContent = '';
    p.hidden = true;
  });
  root.querySelectorAll('[aria-invalid]').forEach((c) => c.removeAttribute('aria-invalid'));
}

/*
 * Shows err (an ApiError or any Error) in root: next to the field it names when root has
 * one, otherwise in root's .form-error slot. Focuses the field. Returns the element used.
 */
export function showError(root, err) {
  const msg = errorText(err);
  const names = err ? [err.path, err.field].filter(Boolean) : [];
  const name = names.find((n) => root.querySelector(`[data-error-for="${CSS.escape(n)}"]`));
  const slot = name ? root.querySelector(`[data-error-for="${CSS.escape(name)}"]`) : null;
  const target = slot || root.querySelector('.form-error');
  if (!target) return null;
  target.textContent = msg;
  target.hidden = false;
  if (slot) {
    const control = root.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (control) {
      control.setAttribute('aria-invalid', 'true');
      control.focus();
    }
  }
  return target;
}

/* The sentence to show for an error. */
export function errorText(err) {
  if (!err) return '';
  if (err.status === 0) return t('err.network');
  if (err.status === 403) return t(err.method === 'GET' ? 'err.forbidden.read' : 'err.forbidden');
  if (err.status === 404 && /no route/i.test(err.message)) return t('err.notyet');
  // the API's stable code, said in the console's language with what to do about it
  if (err.code) {
    const said = tOr(`code.${err.code}`, '', { field: err.path || err.field || '' });
    if (said) return said;
  }
  return err.message || String(err);
}

/* A live region for a form's general error. */
export function formError() {
  return h('p', { class: 'form-error', role: 'alert', hidden: true });
}

/* Replaces root's children. */
export function mount(root, ...kids) {
  root.replaceChildren();
  add(root, kids);
}
