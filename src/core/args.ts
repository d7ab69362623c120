/**
 * The one parser of request arguments, shared by the REST routes and both protocols. Arguments
 * arrive as a plain record from any of PBS's three spellings: a query string or a form body
 * (strings; a repeated key gives an array) or a JSON body (JSON numbers and booleans as such).
 * Every accessor accepts both spellings of the same value, so `wid=1` and `{"wid": 1}` mean the
 * same, and every missing or malformed value is an INVALID_ARGUMENT naming the parameter (and
 * its value), so bad input never reaches a datastore.
 *
 * Invariants: integers are exact (`1e10`, `1.5`, `0x10` and ` 7` are refused; text must be
 * decimal digits); an empty string counts as absent, as PBS's form parser sees it; a list or
 * object where one value is expected is refused, never stringified.
 */
import { checkBackupId, checkBackupTime, checkBackupType, checkNamespace, type GroupRef, type SnapshotRef } from './backup-ref.ts';
import { fail } from './errors.ts';

/** Parameters by name, as parsed from a query, a form or a JSON object. */
export type Args = Readonly<Record<string, unknown>>;

/** PBS's boolean spellings, matched case-insensitively. */
export const TRUE_WORDS = ['1', 'on', 'yes', 'true'] as const;
export const FALSE_WORDS = ['0', 'off', 'no', 'false'] as const;

/**
 * Refuses a NUL anywhere in a name or value (top level, or in a list) with INVALID_NAME (400): no
 * name may hold one, and a NUL that reached a filesystem call would be an I/O error (500).
 */
export function rejectNul(args: Args): void {
  for (const [key, value] of Object.entries(args)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (key.includes('\0') || values.some((v) => typeof v === 'string' && v.includes('\0'))) {
      throw fail('INVALID_NAME', `parameter '${key.replaceAll('\0', '\\0')}' contains a NUL character`, { param: key.replaceAll('\0', '\\0') });
    }
  }
}

/**
 * Refuses control characters (below U+0020, and DEL) in any value with INVALID_ARGUMENT: values
 * that end up in a line-based config file (section config) must not be able to start a line.
 */
export function rejectControl(args: Args): void {
  for (const [key, value] of Object.entries(args)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v === 'string' && /[\x00-\x1f\x7f]/.test(v))) throw fail('INVALID_ARGUMENT', `parameter '${key}' contains a control character`, { param: key });
  }
}

/** Decoded key/value pairs of a query or form; a key given more than once maps to an array. */
export function argsFromSearchParams(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of params) {
    rejectNul({ [key]: value });
    const prev = out[key];
    if (prev === undefined) out[key] = value;
    else out[key] = Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** `why` follows the quoted name directly, so it may start with `=value` or a space. */
function bad(name: string, value: unknown, why: string): Error {
  return fail('INVALID_ARGUMENT', `parameter '${name}'${why}`, { param: name, value });
}

/** A single text value, or undefined when absent or empty; numbers and booleans as written. */
export function text(args: Args, name: string): string | undefined {
  const v = args[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw bad(name, v, ' must be a single value');
}

export function requiredText(args: Args, name: string): string {
  const v = text(args, name);
  if (v === undefined) throw fail('INVALID_ARGUMENT', `parameter '${name}' is required`, { param: name });
  return v;
}

/** A list: repeated keys, a JSON array, or one comma-separated value (PBS's `delete`). */
export function list(args: Args, name: string): string[] {
  const v = args[name];
  if (v === undefined || v === null || v === '') return [];
  const items = Array.isArray(v) ? (v as unknown[]) : [v];
  return items.flatMap((item, i) => {
    if (typeof item !== 'string' && typeof item !== 'number') throw bad(name, item, ` item ${i} must be text`);
    return String(item).split(',').filter((s) => s !== '');
  });
}

export interface IntRange {
  readonly min?: number;
  readonly max?: number;
}

/** An exact integer within `min..max` (default 0..2^53-1), or undefined when absent. */
export function int(args: Args, name: string, range: IntRange = {}): number | undefined {
  const v = args[name];
  if (v === undefined || v === null || v === '') return undefined;
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  let n = NaN;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^-?\d{1,16}$/.test(v)) n = Number(v);
  else if (typeof v !== 'string') throw bad(name, v, ' must be a single value');
  if (!Number.isSafeInteger(n) || n < min || n > max) throw bad(name, v, `=${String(v)} is not an integer in ${min}..${max}`);
  return n;
}

export function requiredInt(args: Args, name: string, range: IntRange = {}): number {
  const n = int(args, name, range);
  if (n === undefined) throw fail('INVALID_ARGUMENT', `parameter '${name}' is required`, { param: name });
  return n;
}

/** `true`/`false` for a known spelling; undefined for an unknown one. */
export function parseBooleanWord(word: string): boolean | undefined {
  const lower = word.toLowerCase();
  if ((TRUE_WORDS as readonly string[]).includes(lower)) return true;
  if ((FALSE_WORDS as readonly string[]).includes(lower)) return false;
  return undefined;
}

/** A boolean in PBS's spellings (1/0, true/false, yes/no, on/off) or as JSON, or undefined. */
export function bool(args: Args, name: string): boolean | undefined {
  const v = args[name];
  if (typeof v === 'boolean') return v;
  const t = text(args, name);
  if (t === undefined) return undefined;
  const b = parseBooleanWord(t);
  if (b === undefined) throw bad(name, v, `=${t} is not a boolean`);
  return b;
}

/** A SHA-256 digest as 64 lowercase hex digits. */
export function digest(args: Args, name: string): string {
  const v = requiredText(args, name);
  if (!/^[0-9a-f]{64}$/.test(v)) throw bad(name, v, `=${v} is not a 64-digit lowercase hex digest`);
  return v;
}

/** A list of items, each read by `item` as a one-argument record (so errors name the list). */
function items<T>(args: Args, name: string, item: (a: Args, n: string) => T): T[] {
  const v = args[name];
  if (v === undefined || v === null) return [];
  const values = Array.isArray(v) ? (v as unknown[]) : [v];
  return values.map((value) => item({ [name]: value }, name));
}

/** A list of digests (`digest-list`): a JSON array, or repeated keys in a query or form. */
export function digestList(args: Args, name: string): string[] {
  return items(args, name, digest);
}

/** A list of integers (`offset-list`), each within `range`. */
export function intList(args: Args, name: string, range: IntRange = {}): number[] {
  return items(args, name, (a, n) => requiredInt(a, n, range));
}

/** The namespace in `name` (default `ns`); the root when absent. */
export function namespace(args: Args, name = 'ns'): string {
  return checkNamespace(text(args, name) ?? '');
}

/** `ns`, `backup-type` and `backup-id`. */
export function groupRef(args: Args): GroupRef {
  return { ns: namespace(args), type: checkBackupType(requiredText(args, 'backup-type')), id: checkBackupId(requiredText(args, 'backup-id')) };
}

/**
 * `backup-time` as PBS takes it: an integer epoch, at least 1. Holdfast's upper bound is the last
 * second its snapshot directory names can spell (9999-12-31T23:59:59Z).
 */
export function backupTime(args: Args, name = 'backup-time'): number {
  return checkBackupTime(requiredInt(args, name, { min: 1, max: 253402300799 }));
}

/** `ns`, `backup-type`, `backup-id` and `backup-time`. */
export function snapshotRef(args: Args): SnapshotRef {
  return { ...groupRef(args), time: backupTime(args) };
}
