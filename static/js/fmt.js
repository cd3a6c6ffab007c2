// static/js/fmt.js — dates, times and money as people read them: every date is shown in the
// rotation's time zone (Intl.DateTimeFormat with timeZone), whatever the browser's zone is.
// Also the wall-clock arithmetic the calendar needs (local midnight of a day in that zone).

import { lang } from './i18n.js';

let zone = 'America/Sao_Paulo';

export function setZone(tz) {
  if (!tz) return;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    zone = tz;
  } catch (e) {
    /* unknown zone: keep the previous one */
  }
}

export function getZone() {
  return zone;
}

/* An instant from the API: Unix seconds, or ISO-8601 text. null when absent or unreadable. */
export function toDate(v) {
  if (v === null || v === undefined || v === '') return null;
  const d = typeof v === 'number' ? new Date(v * 1000) : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

const cache = new Map();
function fmt(opts) {
  const key = lang() + zone + JSON.stringify(opts);
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(lang(), { timeZone: zone, ...opts });
    cache.set(key, f);
  }
  return f;
}

export function fmtDateTime(v) {
  const d = toDate(v);
  return d ? fmt({ weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(d) : '—';
}

export function fmtFull(v) {
  const d = toDate(v);
  return d
    ? fmt({ weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(d)
    : '—';
}

export function fmtTime(v) {
  const d = toDate(v);
  return d ? fmt({ hour: '2-digit', minute: '2-digit' }).format(d) : '—';
}

export function fmtTimeSec(v) {
  const d = toDate(v);
  return d ? fmt({ day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(d) : '—';
}

export function fmtDay(v) {
  const d = toDate(v);
  return d ? fmt({ weekday: 'short', day: 'numeric', month: 'short' }).format(d) : '—';
}

export function fmtMonthDay(v) {
  const d = toDate(v);
  return d ? fmt({ day: 'numeric', month: 'short' }).format(d) : '—';
}

export function fmtWeekday(v) {
  const d = toDate(v);
  return d ? fmt({ weekday: 'short' }).format(d) : '';
}

/*
 * A phone in E.164 as people read it: "+55 11 98765-4321" (Brazil: area code, then the number
 * split before its last 4 digits), "+1 415 555 0100" (NANP); other countries: "+CC rest".
 */
export function fmtPhone(e164) {
  const s = String(e164 || '');
  let m = /^\+55(\d{2})(\d{4,5})(\d{4})$/.exec(s);
  if (m) return `+55 ${m[1]} ${m[2]}-${m[3]}`;
  m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(s);
  if (m) return `+1 ${m[1]} ${m[2]} ${m[3]}`;
  m = /^\+(\d{2,3})(\d{6,})$/.exec(s);
  return m ? `+${m[1]} ${m[2]}` : s;
}

/*
 * Cents of an amount typed the Brazilian way — "55.000,00", "55000", "R$ 55.000", "55000,5" —
 * or the English way in English ("55,000.00"); null when it is not an amount.
 */
export function parseMoney(typed, language = lang()) {
  let s = String(typed || '').replace(/[R$\s\u00a0]/g, '').replace(/^[A-Z]{3}/, '');
  if (!/^\d[\d.,]*$/.test(s)) return null;
  const dec = language === 'en' ? '.' : ',';
  const group = dec === ',' ? '.' : ',';
  const last = s.lastIndexOf(dec);
  // "55.000" in Portuguese is fifty-five thousand; a lone separator with 1 or 2 digits after it
  // is taken as the decimal one whichever it is ("55000.5" typed on an English keyboard).
  if (last < 0 && s.includes(group) && /[.,]\d{1,2}$/.test(s) && s.split(group).length === 2) {
    s = s.replace(group, dec);
  }
  const [int, frac = ''] = s.split(dec);
  if (frac.length > 2 || (s.split(dec).length > 2)) return null;
  const whole = int.split(group);
  if (whole.length > 1 && whole.slice(1).some((g) => g.length !== 3)) return null;
  return Number(whole.join('')) * 100 + Number((frac + '00').slice(0, 2));
}

/* Cents as typed back into a field: "55.000,00" (pt-BR) or "55,000.00" (en). */
export function moneyInput(cents, language = lang()) {
  return new Intl.NumberFormat(language === 'en' ? 'en-US' : 'pt-BR', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
    .format(Number(cents) / 100);
}

export function fmtMoney(cents, currency = 'BRL') {
  const n = Number(cents) / 100;
  try {
    return new Intl.NumberFormat(lang(), { style: 'currency', currency }).format(n);
  } catch (e) {
    return `${currency} ${n.toFixed(2)}`;
  }
}

/* Calendar fields of instant d in the zone: {year, month (1-12), day, hour, minute, weekday (0 = Monday)}. */
export function parts(d) {
  const p = {};
  for (const { type, value } of fmt({
    year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    weekday: 'short', hourCycle: 'h23',
  }).formatToParts(d)) p[type] = value;
  // formatToParts follows lang(); weekday is read from a fixed English formatter instead.
  const wd = new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short' }).format(d);
  return {
    year: +p.year, month: +p.month, day: +p.day, hour: +p.hour % 24, minute: +p.minute, second: +p.second,
    weekday: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(wd),
  };
}

function offsetAt(ms) {
  const p = parts(new Date(ms));
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
}

/* The instant of a wall-clock time in the zone (month 1-12; day may overflow: Date.UTC normalises). */
export function zoned(year, month, day, hour = 0, minute = 0) {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  let t = wall - offsetAt(wall);
  const t2 = wall - offsetAt(t);
  if (t2 !== t) t = Math.min(t, t2); // around a DST change: the earlier reading
  return new Date(t);
}

/* "2026-11-05T09:00" (what <input type=datetime-local> holds) of instant d in the zone. */
export function toLocalInput(d) {
  const p = parts(d);
  const z = (n) => String(n).padStart(2, '0');
  return `${p.year}-${z(p.month)}-${z(p.day)}T${z(p.hour)}:${z(p.minute)}`;
}

/* The instant of a datetime-local value read in the zone; null when empty or malformed. */
export function fromLocalInput(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(s || '');
  return m ? zoned(+m[1], +m[2], +m[3], +m[4], +m[5]) : null;
}

/* ISO-8601 UTC without fractions, the form the API's parsers accept everywhere. */
export function iso(d) {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/* YYYY-MM of now in the zone. */
export function thisMonth() {
  const p = parts(new Date());
  return `${p.year}-${String(p.month).padStart(2, '0')}`;
}
