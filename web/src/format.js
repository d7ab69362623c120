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

/** A task's status for people: `running`, `OK`, or the error text. */
export const taskState = (t) => t.status ?? t.exitstatus ?? 'running';

export const isTaskOk = (status) => status === 'OK' || (typeof status === 'string' && status.startsWith('WARNINGS'));
