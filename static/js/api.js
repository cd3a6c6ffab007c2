// static/js/api.js — the only place that talks to the server: the JSON API under /api/ with
// either the session cookie of a person who signed in with a code (HttpOnly: this script never
// sees it; every request carries X-Plantao-CSRF: 1, which the server requires of cookie-borne
// writes) or the bearer token pasted under "entrar com token" (kept in localStorage, sent only
// in the Authorization header, never in a URL). Errors arrive as {"error":{"code","message"}}; they become
// ApiError with the field the message names ("phone: expected E.164 …" → "phone").

const TOKEN_KEY = 'plantao.token';

export class ApiError extends Error {
  constructor(status, code, message, method = '') {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.method = method;
    this.code = code || '';
    // "members[2]: …" and "steps[0].timeout_s: …" name a field before the first colon.
    const m = /^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])?(?:\.[A-Za-z0-9_]+)?)?:\s/.exec(this.message);
    this.field = m ? m[1] : '';
    this.path = m ? m[1] + (m[2] || '') : '';
  }
}

export function getToken() {
  return localStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

// Listeners told when the server refuses the token (401): the app goes back to the token form.
const unauthorized = new Set();
export function onUnauthorized(fn) {
  unauthorized.add(fn);
}

/*
 * api(method, path, body?, opts?) → the parsed JSON answer (null for an empty one).
 * body: a plain object (sent as JSON), a Blob/File (sent raw with opts.type or its own type), or
 * FormData (multipart/form-data).
 * opts.token overrides the stored token (used to check a token before keeping it); opts.quiet:
 * a 401 is only thrown, the sign-in form is not shown (asking who is signed in, checking a code).
 * Throws ApiError (status 0 when the server could not be reached).
 */
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json', 'X-Plantao-CSRF': '1' };
  const token = opts.token ?? getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (body instanceof FormData) {
    payload = body; // the browser writes the multipart boundary
  } else if (body instanceof Blob) {
    payload = body;
    headers['Content-Type'] = opts.type || body.type || 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, cache: 'no-store', credentials: token ? 'omit' : 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'network', '', method);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = null;
    }
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    const e = new ApiError(res.status, err.code, err.message || text.slice(0, 200), method);
    if (err.field) { // the API names the field itself: "phone", "steps[0].timeout_s"
      e.path = err.field;
      e.field = err.field.replace(/[[.].*$/, '');
    }
    e.body = err; // conflict_id and the like
    if (res.status === 401 && !opts.token && !opts.quiet) unauthorized.forEach((fn) => fn(e));
    throw e;
  }
  return data;
}

/* Raw text (the iCalendar feed). */
export async function apiText(path) {
  const token = getToken();
  const res = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: 'no-store',
    credentials: token ? 'omit' : 'same-origin' });
  if (!res.ok) throw new ApiError(res.status, '', `HTTP ${res.status}`);
  return res.text();
}

/* A list out of an answer that is either the array itself or {key: [...]}. */
export function listOf(data, key) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data[key])) return data[key];
  return [];
}

/*
 * health() → the body of GET /healthz?verbose: whether a page would go out now, per component
 * ({status, database, twilio, oncall, outbox, reasons, components}). Public, so no token; the
 * body comes with 200 and with 503 alike. Throws ApiError when there is no JSON answer.
 */
export async function health() {
  let res;
  try {
    res = await fetch('/healthz?verbose', { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'omit' });
  } catch (e) {
    throw new ApiError(0, 'network', '', 'GET');
  }
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  if (!data || typeof data.status !== 'string') throw new ApiError(res.status, 'health', `HTTP ${res.status}`, 'GET');
  return data;
}
