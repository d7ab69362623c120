/**
 * Typed access to protocol query parameters: every missing or malformed value becomes an
 * INVALID_ARGUMENT that names the parameter and the value, so a bad request never reaches the
 * datastore.
 */
import { fail } from '../../core/errors.ts';

export type Query = URLSearchParams;

export function str(q: Query, name: string): string {
  const v = q.get(name);
  if (v === null || v === '') throw fail('INVALID_ARGUMENT', `parameter '${name}' is required`, { param: name });
  return v;
}

export function optStr(q: Query, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === '' ? undefined : v;
}

export function int(q: Query, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = str(q, name);
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw fail('INVALID_ARGUMENT', `parameter '${name}'=${raw} is not an integer in ${min}..${max}`, { param: name, value: raw });
  return n;
}

export function optInt(q: Query, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  return q.get(name) === null ? undefined : int(q, name, min, max);
}

export function digestHex(q: Query, name: string): string {
  const v = str(q, name);
  if (!/^[0-9a-f]{64}$/.test(v)) throw fail('INVALID_ARGUMENT', `parameter '${name}'=${v} is not a 64-digit lowercase hex digest`, { param: name, value: v });
  return v;
}

export function bool(q: Query, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw fail('INVALID_ARGUMENT', `parameter '${name}'=${v} is not a boolean`, { param: name, value: v });
}
