// Pure formatting helpers of the web UI, free of DOM and framework imports so node tests can
// import them: sizes, times, URL path segments and the tuning property string.

/** Any value put into a URL path goes through this. */
export const seg = (s) => encodeURIComponent(String(s));

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function size(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '';
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${UNITS[u]}`;
}

/** Epoch seconds as ISO 8601 UTC without milliseconds (PBS's snapshot time format). */
export const iso = (t) => (typeof t === 'number' ? new Date(t * 1000).toISOString().replace('.000Z', 'Z') : '');

export const snapshotId = (s) => `${s['backup-type']}/${s['backup-id']}/${iso(s['backup-time'])}`;

/** `a=1,b=2` → Map; the datastore's `tuning` property string. */
export function parseTuning(text) {
  const m = new Map();
  for (const part of String(text || '').split(',')) {
    const [k, ...v] = part.split('=');
    if (k && k.trim()) m.set(k.trim(), v.join('=').trim());
  }
  return m;
}

export const formatTuning = (m) => [...m].map(([k, v]) => `${k}=${v}`).join(',');

/** The tuning string with one key replaced, every other key kept as it was. */
export function withTuning(text, key, value) {
  const m = parseTuning(text);
  m.set(key, value);
  return formatTuning(m);
}

/**
 * The parameters of `POST config/datastore` from the Datastores form's fields: the tuning only
 * when the sync level is not the default, and `backend` only for an object store.
 */
export function datastoreCreateParams(f) {
  const params = { name: String(f.name ?? '').trim(), path: String(f.path ?? '').trim() };
  const level = String(f['sync-level'] ?? 'filesystem');
  if (level !== 'filesystem') params.tuning = `sync-level=${level}`;
  const comment = String(f.comment ?? '').trim();
  if (comment) params.comment = comment;
  const client = String(f['s3-endpoint'] ?? '');
  if (client) params.backend = `type=s3,client=${client},bucket=${String(f.bucket ?? '').trim()}`;
  if (f['reuse-datastore'] === 'on') params['reuse-datastore'] = 1;
  return params;
}

/** A task's status for people: `running`, `OK`, or the error text. */
export const taskState = (t) => t.status ?? t.exitstatus ?? 'running';

export const isTaskOk = (status) => status === 'OK' || (typeof status === 'string' && status.startsWith('WARNINGS'));

/**
 * Geometry of a line chart of `field` over [from, to] (epoch seconds) in a w × h box: the SVG
 * path ("M x y L x y …", one segment per run of known values), the value at the top of the scale
 * (the largest value rounded up to a clean 1, 2 or 5 step; 1 when there is none), how many
 * points have the field, and each point's position (drawn as a dot, so a lone sample shows). A gap in the samples breaks the line instead of bridging it.
 */
export function chartGeometry(points, field, from, to, w, h, gapSecs) {
  const known = points.filter((p) => typeof p[field] === 'number' && p.time >= from && p.time <= to);
  const max = known.reduce((m, p) => Math.max(m, p[field]), 0);
  const mag = max > 0 ? 10 ** Math.floor(Math.log10(max)) : 1;
  const top = max > 0 ? [1, 2, 5, 10].map((k) => k * mag).find((v) => v >= max) : 1;
  const x = (t) => ((t - from) / Math.max(1, to - from)) * w;
  const y = (v) => h - (v / top) * h;
  let d = '';
  let prev;
  const dots = [];
  for (const p of known) {
    const cmd = prev === undefined || p.time - prev > gapSecs ? 'M' : 'L';
    const at = [Number(x(p.time).toFixed(1)), Number(y(p[field]).toFixed(1))];
    d += `${d ? ' ' : ''}${cmd}${at[0]} ${at[1]}`;
    dots.push(at);
    prev = p.time;
  }
  return { d, top, count: known.length, dots };
}

/**
 * The items of a list of double-quoted strings separated by commas (`"a","b \"c\""`), as a sync
 * job's `group-filter` comes from the API; backslash escapes the next character.
 */
export function parseQuotedList(text) {
  return [...String(text ?? '').matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, '$1'));
}

/** The newest task of each worker id among `tasks` (the last run of each job). */
export function lastTaskById(tasks) {
  const out = new Map();
  for (const t of tasks) if (t.worker_id != null && !(out.get(t.worker_id)?.starttime >= t.starttime)) out.set(t.worker_id, t);
  return out;
}
