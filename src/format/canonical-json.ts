/**
 * JSON text exactly as PBS (Rust, serde_json) writes it, for signatures and for manifests that
 * upstream tools re-read.
 *
 * - `canonicalJson`: proxmox-serde's canonical form, which manifest signatures are computed over:
 *   object keys sorted byte-wise (UTF-8 order = code point order, not JS's UTF-16 order), no
 *   whitespace, arrays in order, and `null` anywhere is an error.
 * - `serdePrettyJson`: `serde_json::to_string_pretty` of a `Value` (2-space indent, `": "`, keys
 *   sorted because serde's default map is a BTreeMap); nulls allowed.
 *
 * Scalars follow serde_json: strings escape only `"`, `\` and control characters (as JSON.stringify
 * does); integers print as integers; other numbers use ryu's layout (`0.001`, `1e-7`, `1.5e300`).
 * JS cannot tell `1` from `1.0`, so integral numbers always print as integers, which is what serde
 * does for every number PBS itself writes. Nesting deeper than serde's limit of 128 is refused.
 */
import { fail } from '../core/errors.ts';

export const MAX_JSON_DEPTH = 128;

export function canonicalJson(value: unknown): string {
  return write(value, { pretty: false, allowNull: false }, 0, '$');
}

export function canonicalJsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

/** Pretty JSON as serde_json writes a `Value`; `level` is the indent depth of the first line's context. */
export function serdePrettyJson(value: unknown, level = 0): string {
  return write(value, { pretty: true, allowNull: true }, level, '$');
}

interface Style {
  readonly pretty: boolean;
  readonly allowNull: boolean;
}

function write(value: unknown, style: Style, level: number, path: string): string {
  if (level > MAX_JSON_DEPTH) throw fail('INVALID_ARGUMENT', `JSON nested deeper than ${MAX_JSON_DEPTH}`, { path });
  switch (typeof value) {
    case 'string':
      return jsonString(value, path);
    case 'number':
      return jsonNumber(value, path);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) {
        if (style.allowNull) return 'null';
        throw fail('INVALID_ARGUMENT', 'canonical JSON cannot contain null', { path });
      }
      if (Array.isArray(value)) return writeArray(value as readonly unknown[], style, level, path);
      if (isPlainObject(value)) return writeObject(value, style, level, path);
      break;
    default:
      break;
  }
  throw fail('INVALID_ARGUMENT', `not a JSON value (${typeof value})`, { path });
}

function writeArray(items: readonly unknown[], style: Style, level: number, path: string): string {
  const parts = items.map((v, i) => write(v, style, level + 1, `${path}[${i}]`));
  return wrap('[', ']', parts, style, level);
}

function writeObject(obj: Record<string, unknown>, style: Style, level: number, path: string): string {
  const sep = style.pretty ? ': ' : ':';
  const parts = sortKeysBytewise(Object.keys(obj)).map((k) => `${jsonString(k, path)}${sep}${write(obj[k], style, level + 1, `${path}.${k}`)}`);
  return wrap('{', '}', parts, style, level);
}

function wrap(open: string, close: string, parts: readonly string[], style: Style, level: number): string {
  if (parts.length === 0) return open + close;
  if (!style.pretty) return open + parts.join(',') + close;
  const inner = indent(level + 1);
  return `${open}\n${inner}${parts.join(`,\n${inner}`)}\n${indent(level)}${close}`;
}

export function indent(level: number): string {
  return '  '.repeat(level);
}

/** Sorts as Rust sorts `str`: by UTF-8 bytes, which differs from JS's default for astral characters. */
export function sortKeysBytewise(keys: readonly string[]): string[] {
  return keys
    .map((k) => ({ k, b: Buffer.from(k, 'utf8') }))
    .sort((x, y) => Buffer.compare(x.b, y.b))
    .map((e) => e.k);
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

export function jsonString(s: string, path = '$'): string {
  if (LONE_SURROGATE.test(s)) throw fail('INVALID_ARGUMENT', 'a JSON string holds a lone surrogate, which UTF-8 cannot encode', { path });
  return JSON.stringify(s);
}

const TWO_POW_64 = 2 ** 64;

export function jsonNumber(n: number, path = '$'): string {
  if (!Number.isFinite(n)) throw fail('INVALID_ARGUMENT', `JSON has no ${n}`, { path });
  if (Object.is(n, -0)) return '-0.0'; // serde_json reads "-0" as the float -0.0
  if (Number.isInteger(n) && Math.abs(n) < TWO_POW_64) return BigInt(n).toString();
  return ryuLayout(n);
}

/** Lays out JS's shortest round-trip digits the way the ryu crate does. */
function ryuLayout(n: number): string {
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(n.toExponential());
  if (!m) throw fail('INTERNAL', `cannot lay out ${n}`);
  const [, sign = '', first = '', rest = '', exp = '0'] = m;
  const digits = first + rest;
  const length = digits.length;
  const kk = Number(exp) + 1; // the decimal point sits after `kk` digits
  const k = kk - length;
  let body: string;
  if (k >= 0 && kk <= 16) body = `${digits}${'0'.repeat(k)}.0`;
  else if (kk > 0 && kk <= 16) body = `${digits.slice(0, kk)}.${digits.slice(kk)}`;
  else if (kk > -5 && kk <= 0) body = `0.${'0'.repeat(-kk)}${digits}`;
  else if (length === 1) body = `${digits}e${kk - 1}`;
  else body = `${digits[0] ?? ''}.${digits.slice(1)}e${kk - 1}`;
  return sign + body;
}
