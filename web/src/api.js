// The JSON API client of the web UI (the same API the CLI uses). Logging in makes the server set
// the PBS ticket as an HttpOnly cookie, which script never sees or stores; the user name and the
// CSRF token live in sessionStorage, and the token goes with every non-GET request. Logout asks
// the server to clear the cookie. A 401 anywhere ends the session and tells the listeners.
import { seg } from './format.js';

const KEY = 'holdfast';
let session = JSON.parse(sessionStorage.getItem(KEY) || 'null');
const listeners = new Set();

export const currentSession = () => session;

/** Calls `fn(session)` whenever the session changes; returns the unsubscribe function. */
export function onSession(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function setSession(next) {
  session = next;
  if (next) sessionStorage.setItem(KEY, JSON.stringify(next));
  else sessionStorage.removeItem(KEY);
  for (const fn of listeners) fn(next);
}

/** An API error: the server's message and its stable code. */
export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** `path` is relative to /api2/json; callers build it with seg() for every variable part. */
export async function api(method, path, params) {
  const headers = {};
  if (session) headers.CSRFPreventionToken = session.CSRFPreventionToken;
  let url = `/api2/json/${path}`;
  let body;
  const defined = params && Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined && v !== ''));
  if (defined && (method === 'GET' || method === 'DELETE')) url += `?${new URLSearchParams(defined)}`;
  else if (defined) {
    body = JSON.stringify(defined);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(url, { method, headers, body, credentials: 'same-origin' });
  const json = await res.json().catch(() => ({}));
  if (res.status === 401 && path !== 'access/ticket') {
    await logout(true);
    throw new ApiError(json.message || res.statusText, 401, json.code);
  }
  if (!res.ok) throw new ApiError(json.message || res.statusText, res.status, json.code);
  // the task log answers {data, total, active} unwrapped
  return path.endsWith('/log') ? json : json.data;
}

export async function login(username, password) {
  const r = await api('POST', 'access/ticket', { username, password });
  setSession({ username: r.username, CSRFPreventionToken: r.CSRFPreventionToken });
}

/** Clears the session and the HttpOnly cookie (only the server's answer can clear it). */
export async function logout(expired = false) {
  await fetch('/api2/json/access/ticket', { method: 'DELETE', credentials: 'same-origin' }).catch(() => undefined);
  setSession(null);
  if (expired) for (const fn of listeners) fn(null, 'expired');
}

export const storePath = (store, rest = '') => `admin/datastore/${seg(store)}${rest}`;
export const taskPath = (upid, rest = '') => `nodes/localhost/tasks/${seg(upid)}${rest}`;
