/**
 * Request parameters: the query string, and the body of POST/PUT/DELETE as JSON or as
 * `application/x-www-form-urlencoded` (PBS clients send both). Body size is limited while reading,
 * before anything is buffered past the limit, so an oversized upload costs at most `limit` bytes.
 *
 * As in PBS, a body that is not JSON is read as a form; repeated keys become arrays.
 */
import { Readable } from 'node:stream';
import { fail } from '../core/errors.ts';

export const DEFAULT_BODY_LIMIT = 64 * 1024;

export interface BodySource extends AsyncIterable<Uint8Array> {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

function tooLarge(limit: number, size: number): Error {
  return fail('INVALID_ARGUMENT', `request body too large (more than ${limit} bytes)`, { limit, size });
}

/** Reads the whole body, failing as soon as it exceeds `limit` bytes; the stream stays usable. */
export async function readBody(req: BodySource, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit, declared);
  const parts: Uint8Array[] = [];
  let size = 0;
  // Leaving a stream's async iterator early destroys the stream by default, and with it the
  // socket the error answer must go out on; keep it open (the caller drains the rest).
  const chunks = req instanceof Readable ? (req.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>) : req;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit, size);
    parts.push(chunk);
  }
  return Buffer.concat(parts, size);
}

/**
 * Reads the whole body into `dest` and returns its length; `tooLong(room, seen)` is thrown as
 * soon as more bytes arrive than `dest` holds. The stream stays usable, as with `readBody`.
 */
export async function readBodyInto(req: BodySource, dest: Uint8Array, tooLong: (room: number, seen: number) => Error): Promise<number> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > dest.byteLength) throw tooLong(dest.byteLength, declared);
  let size = 0;
  const chunks = req instanceof Readable ? (req.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>) : req;
  for await (const chunk of chunks) {
    if (size + chunk.byteLength > dest.byteLength) throw tooLong(dest.byteLength, size + chunk.byteLength);
    dest.set(chunk, size);
    size += chunk.byteLength;
  }
  return size;
}

/** Decoded key/value pairs; a key given more than once maps to an array of its values. */
export function formArgs(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of params) {
    const prev = out[key];
    if (prev === undefined) out[key] = value;
    else out[key] = Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

export function bodyArgs(contentType: string | undefined, body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  const text = body.toString('utf8');
  if (!(contentType ?? '').toLowerCase().startsWith('application/json')) return formArgs(new URLSearchParams(text));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw fail('INVALID_ARGUMENT', 'request body is not valid JSON', {}, e);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw fail('INVALID_ARGUMENT', 'request body must be a JSON object', {});
  }
  return { ...parsed };
}

/** A string parameter, or undefined; anything else (arrays, objects) is a usage error. */
export function stringArg(args: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const v = args[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw fail('INVALID_ARGUMENT', `parameter '${name}' must be a single value`, { param: name });
}

export function requiredString(args: Readonly<Record<string, unknown>>, name: string): string {
  const v = stringArg(args, name);
  if (v === undefined || v === '') throw fail('INVALID_ARGUMENT', `missing parameter '${name}'`, { param: name });
  return v;
}

/** Booleans as PBS writes them in forms and queries: 1/0, true/false, yes/no, on/off. */
export function booleanArg(args: Readonly<Record<string, unknown>>, name: string): boolean | undefined {
  const v = args[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  const text = (stringArg(args, name) ?? '').toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(text)) return true;
  if (['0', 'false', 'no', 'off'].includes(text)) return false;
  throw fail('INVALID_ARGUMENT', `parameter '${name}' must be a boolean`, { param: name, value: v });
}

export function integerArg(args: Readonly<Record<string, unknown>>, name: string): number | undefined {
  const v = args[name];
  if (v === undefined || v === null) return undefined;
  const text = stringArg(args, name) ?? '';
  const n = typeof v === 'number' ? v : /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw fail('INVALID_ARGUMENT', `parameter '${name}' must be an integer`, { param: name, value: v });
  return n;
}
