// Holdfast web UI: a single page over the JSON API (the same API the CLI uses). Logs in with a
// PBS ticket, which the server sets as an HttpOnly cookie (script never sees or stores it); keeps
// the user name and CSRF token in sessionStorage and sends the token on every non-GET request.
// Logout asks the server to clear the cookie. Every value put into HTML goes through esc(), every
// value put into a URL path through encodeURIComponent.
import { esc, seg } from './html.js';

const $ = (s) => document.querySelector(s);
let session = JSON.parse(sessionStorage.getItem('holdfast') || 'null');
let current = null;

async function api(method, path, params) {
  const headers = {};
  if (session) headers['CSRFPreventionToken'] = session.CSRFPreventionToken;
  let url = `/api2/json/${path}`;
  let body;
  if (params && (method === 'GET' || method === 'DELETE')) url += `?${new URLSearchParams(params)}`;
  else if (params) { body = JSON.stringify(params); headers['content-type'] = 'application/json'; }
  const res = await fetch(url, { method, headers, body, credentials: 'same-origin' });
  const json = await res.json().catch(() => ({}));
  if (res.status === 401 && path !== 'access/ticket') { void logout(); throw new Error('session expired'); }
  if (!res.ok) throw new Error(json.message || res.statusText);
  return json.data;
}

const size = (n) => (n === undefined ? '' : n > 1 << 30 ? `${(n / (1 << 30)).toFixed(2)} GiB` : n > 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${n} B`);
const iso = (t) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');

function show() {
  $('#login-view').hidden = !!session;
  $('#app-view').hidden = !session;
  $('#logout').hidden = !session;
  $('#who').textContent = session ? session.username : '';
  if (session) loadStores().catch(alert);
}

async function logout() {
  session = null;
  sessionStorage.removeItem('holdfast');
  // the ticket cookie is HttpOnly: only the server's answer can clear it
  await fetch('/api2/json/access/ticket', { method: 'DELETE', credentials: 'same-origin' }).catch(() => undefined);
  show();
}

$('#login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    const login = await api('POST', 'access/ticket', { username: f.get('username'), password: f.get('password') });
    session = { username: login.username, CSRFPreventionToken: login.CSRFPreventionToken };
    sessionStorage.setItem('holdfast', JSON.stringify(session));
    $('#login-error').textContent = '';
    show();
  } catch (err) {
    $('#login-error').textContent = err.message;
  }
});
$('#logout').addEventListener('click', () => void logout());

async function loadStores() {
  const stores = await api('GET', 'config/datastore');
  $('#stores').innerHTML = stores.map((s) => `<li data-name="${esc(s.name)}">${esc(s.name)}<small>sync-level ${esc(s['sync-level'])}</small></li>`).join('');
  for (const li of document.querySelectorAll('#stores li')) li.addEventListener('click', () => selectStore(li.dataset.name));
  if (stores.length && !current) selectStore(stores[0].name);
  await loadTasks();
}

async function selectStore(name) {
  current = name;
  for (const li of document.querySelectorAll('#stores li')) li.classList.toggle('active', li.dataset.name === name);
  $('#store-title').textContent = name;
  $('#store-actions').hidden = false;
  const st = await api('GET', `admin/datastore/${seg(name)}/status`);
  const gc = st['gc-status'];
  $('#store-status').textContent = `${size(st.used)} used of ${size(st.total)} · sync-level ${st['sync-level']}` + (gc ? ` · last GC removed ${gc['removed-chunks']} chunks` : '');
  const snaps = await api('GET', `admin/datastore/${seg(name)}/snapshots`);
  snaps.sort((a, b) => b['backup-time'] - a['backup-time']);
  $('#snapshots tbody').innerHTML = snaps.map((s) => {
    const v = s.verification?.state ?? 'none';
    const id = `${s['backup-type']}/${s['backup-id']}/${iso(s['backup-time'])}`;
    return `<tr><td>${esc(id)}</td><td>${size(s.size)}</td><td>${esc((s.files || []).map((f) => f.filename).join(' '))}</td>` +
      `<td><span class="badge ${esc(v)}">${esc(v)}</span></td><td>${s.protected ? 'yes' : ''}</td>` +
      `<td><button data-forget='${esc(JSON.stringify({ 'backup-type': s['backup-type'], 'backup-id': s['backup-id'], 'backup-time': s['backup-time'] }))}'>Forget</button></td></tr>`;
  }).join('') || '<tr><td colspan="6">no snapshots yet</td></tr>';
  for (const b of document.querySelectorAll('[data-forget]')) {
    b.addEventListener('click', async () => {
      if (!confirm('Remove this snapshot?')) return;
      await api('DELETE', `admin/datastore/${seg(name)}/snapshots`, JSON.parse(b.dataset.forget)).catch((e) => alert(e.message));
      selectStore(name);
    });
  }
}

async function loadTasks() {
  const tasks = await api('GET', 'nodes/localhost/tasks').catch(() => []);
  $('#tasks tbody').innerHTML = tasks.slice(0, 20).map((t) => `<tr><td>${esc(t.worker_type ?? t.type)} ${esc(t.worker_id ?? t.id ?? '')}</td><td>${t.starttime ? iso(t.starttime) : ''}</td><td>${esc(t.status ?? 'running')}</td></tr>`).join('') || '<tr><td colspan="3">no tasks</td></tr>';
}

$('#gc').addEventListener('click', () => api('POST', `admin/datastore/${seg(current)}/gc`).then(loadTasks).catch((e) => alert(e.message)));
$('#verify').addEventListener('click', () => api('POST', `admin/datastore/${seg(current)}/verify`).then(loadTasks).catch((e) => alert(e.message)));
$('#refresh').addEventListener('click', () => selectStore(current));
show();
