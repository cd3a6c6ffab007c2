// static/js/pages/people.js — "Pessoas": the list, and one form to add or edit a person; the
// API's validation messages ("phone: expected E.164 …") appear under the field they name.
// Phones not verified yet are marked in red; a person signed in with a code verifies their
// own phone here (POST /api/people/{id}/verify, then /verify/confirm with the code).

import { api } from '../api.js';
import { clearErrors, errorText, field, formError, h, mount, showError } from '../dom.js';
import { fmtDateTime, fmtPhone } from '../fmt.js';
import { t } from '../i18n.js';
import { editFailed, loadPeople, pageTitle, personChip, session, toast } from '../state.js';

export default async function render(root, ctx) {
  const people = await loadPeople();
  if (!ctx.alive()) return;
  const formSlot = h('div');
  const list = h('div', { class: 'table-wrap' });

  const showForm = (person) => {
    mount(formSlot, personForm(person, ctx));
    formSlot.querySelector('input').focus();
  };

  if (!people.length) {
    mount(list, h('p', { class: 'empty' }, t('people.empty')));
  } else {
    mount(list, h('table', { class: 'list', 'data-testid': 'people' },
      h('caption', { class: 'sr-only' }, t('nav.people')),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, t('people.name')),
        h('th', { scope: 'col' }, t('people.phone')),
        h('th', { scope: 'col' }, t('people.email')),
        h('th', { scope: 'col' }, 'WhatsApp'),
        h('th', { scope: 'col', class: 'edit' }, h('span', { class: 'sr-only' }, t('actions'))))),
      h('tbody', null, people.map((p) => row(p, showForm, ctx)))));
  }

  mount(root, pageTitle(t('nav.people')), verifyOwn(people, ctx), list,
    h('div', { class: 'actions edit' },
      h('button', { type: 'button', class: 'primary', 'data-testid': 'add-person', onclick: () => showForm(null) },
        t('people.add'))),
    formSlot);
  if (!people.length && session.canEdit) showForm(null);
}

/* Texts turned off: by a word the person texted, or by Twilio's 21610 refusal; calls still go. */
function optOutBadge(p) {
  if (!p.sms_opt_out) return null;
  const text = p.sms_opt_out_via === 'twilio_21610' ? t('people.optout.twilio')
    : p.sms_opt_out_via ? t('people.optout.via', { via: p.sms_opt_out_via }) : t('people.optout');
  const title = p.sms_opt_out_at ? t('people.optout.title', { when: fmtDateTime(p.sms_opt_out_at) }) : null;
  return h('span', { class: 'badge', 'data-testid': 'sms-opt-out', title }, text);
}

function row(p, showForm, ctx) {
  const status = h('span', { class: 'row-error', role: 'alert' });
  const del = h('button', { type: 'button', class: 'danger', 'aria-label': t('people.remove.label', { name: p.name }) },
    t('remove'));
  const cell = h('td', { class: 'edit row-actions' },
    h('button', { type: 'button', 'aria-label': t('people.edit.label', { name: p.name }), onclick: () => showForm(p) },
      t('edit')),
    del, status);
  del.addEventListener('click', () => confirmRemove(cell, del, p, status, ctx));
  return h('tr', { 'data-person': String(p.id) },
    h('th', { scope: 'row' }, personChip(p), optOutBadge(p),
      p.phone_verified === false
        ? h('span', { class: 'badge unverified', title: t('people.unverified.title'), 'data-testid': 'unverified' },
          t('people.unverified'))
        : null),
    h('td', null, h('a', { href: `tel:${p.phone}` }, fmtPhone(p.phone))),
    h('td', null, p.email || ''),
    h('td', null, p.whatsapp ? t('yes') : t('no')),
    cell);
}

/* Remove in two steps (no browser dialog): the button turns into "confirm" and "cancel". */
export function confirmRemove(cell, button, p, status, ctx, path = `/api/people/${p.id}`) {
  const yes = h('button', { type: 'button', class: 'danger' }, t('remove.confirm'));
  const no = h('button', { type: 'button' }, t('cancel'));
  button.hidden = true;
  cell.insertBefore(yes, status);
  cell.insertBefore(no, status);
  yes.focus();
  no.addEventListener('click', () => {
    yes.remove();
    no.remove();
    button.hidden = false;
    button.focus();
  });
  yes.addEventListener('click', async () => {
    try {
      const r = await api('DELETE', path);
      toast(r && r.archived ? t('people.archived', { name: p.name }) : t('removed', { name: p.name || '' }));
      ctx.rerender();
    } catch (e) {
      editFailed(e);
      status.textContent = errorText(e);
      yes.remove();
      no.remove();
      button.hidden = false;
    }
  });
}

function personForm(p, ctx) {
  const name = h('input', { type: 'text', required: true, maxlength: 200, autocomplete: 'name', value: p ? p.name : '' });
  const phone = h('input', { type: 'tel', required: true, autocomplete: 'tel', inputmode: 'tel', placeholder: '(11) 98765-4321', value: p ? fmtPhone(p.phone) : '' });
  const email = h('input', { type: 'email', autocomplete: 'email', value: p && p.email ? p.email : '' });
  const wa = h('input', { type: 'checkbox', checked: Boolean(p && p.whatsapp) });
  const ep = h('input', { type: 'checkbox', checked: !p || p.email_pages !== false, 'data-testid': 'email-pages' });
  const form = h('form', { class: 'card edit', 'aria-labelledby': 'person-form-h', novalidate: true, 'data-testid': 'person-form' },
    h('h2', { id: 'person-form-h' }, p ? t('people.editing', { name: p.name }) : t('people.new')),
    field('name', t('people.name'), name),
    field('phone', t('people.phone'), phone, t('people.phone.hint')),
    field('email', t('people.email'), email),
    h('div', { class: 'field check' }, h('label', null, ep, ' ', t('people.email_pages'))),
    h('div', { class: 'field check' }, h('label', null, wa, ' ', t('people.whatsapp'))),
    formError(),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, p ? t('save') : t('people.add')),
      h('button', { type: 'button', onclick: () => form.remove() }, t('cancel'))));
  wa.dataset.field = 'whatsapp';
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = { name: name.value.trim(), phone: phone.value.trim(), whatsapp: wa.checked, email_pages: ep.checked };
    const mail = email.value.trim();
    if (mail || p) body.email = mail || null;
    try {
      if (p) await api('PATCH', `/api/people/${p.id}`, body);
      else await api('POST', '/api/people', body);
      toast(p ? t('saved') : t('people.added', { name: body.name }));
      ctx.rerender();
    } catch (e) {
      editFailed(e);
      showError(form, e);
    }
  });
  return form;
}

/* The signed-in person's own phone, while it is not verified: send a code, type it back. */
function verifyOwn(people, ctx) {
  const me = session.person && people.find((p) => Number(p.id) === Number(session.person.id));
  if (!me || me.phone_verified !== false) return null;
  const slot = h('div', { class: 'card verify-own', 'data-testid': 'verify-own' });
  const start = () => {
    const go = h('button', { type: 'button', class: 'primary' }, t('me.verify'));
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
    go.addEventListener('click', async () => {
      try {
        await api('POST', `/api/people/${me.id}/verify`, { channel: 'sms' });
        confirm();
      } catch (e) {
        err.textContent = errorText(e);
        err.hidden = false;
      }
    });
    mount(slot, h('p', { class: 'warn' }, t('me.unverified')), go, err);
  };
  const confirm = () => {
    const code = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 6,
      required: true, 'data-testid': 'verify-code' });
    const form = h('form', { novalidate: true },
      h('p', { role: 'status' }, t('me.verify.sent', { phone: me.phone })),
      field('code', t('signin.code'), code, t('signin.code.hint')),
      formError(),
      h('button', { type: 'submit', class: 'primary' }, t('me.verify.confirm')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      try {
        await api('POST', `/api/people/${me.id}/verify/confirm`, { code: code.value.trim() }, { quiet: true });
        toast(t('me.verified'));
        ctx.rerender();
      } catch (e) {
        showError(form, e.status === 401 ? Object.assign(new Error(t('signin.wrong')), { field: 'code' }) : e);
      }
    });
    mount(slot, form);
    code.focus();
  };
  start();
  return slot;
}
