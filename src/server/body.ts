/**
 * Request parameters: the query string, and the body of POST/PUT/DELETE as JSON or as
 * `application/x-www-form-urlencoded` (PBS clients send both). Body size is limited while reading,
 * before anything is buffered past the limit, so an oversized upload costs at most `limit` bytes.
 *
 * As in PBS, a body that is not JSON is read as a form; repeated keys become arrays. The values are
 * then read through `core/args.ts`, the one argument parser.
 */
import { Readable } from 'node:stream';
import { argsFromSearchParams, rejectNul } from '../core/args.ts';
import { fail } from '../core/errors.ts';
import { copyBytes } from '../core/byte-copy.ts';

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
    copyBytes(dest, chunk, size); // dest is an upload slot in shared memory: see byte-copy.ts
    size += chunk.byteLength;
  }
  return size;
}

/** The media type of a Content-Type header: lower-cased, without parameters (`; charset=…`). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

export const JSON_MEDIA_TYPE = 'application/json';
export const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';

/** A JSON body that must be one object: its members are the arguments. */
export function jsonArgs(body: Uint8Array): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (e) {
    throw fail('INVALID_ARGUMENT', 'request body is not valid JSON', {}, e);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw fail('INVALID_ARGUMENT', 'request body must be a JSON object', {});
  }
  rejectNul(parsed as Record<string, unknown>);
  return { ...parsed };
}

/**
 * The arguments a request body carries: JSON for `application/json` (any parameters after `;`,
 * any case), otherwise a form, as PBS reads a body without a content type. An empty body has none.
 */
export function bodyArgs(contentType: string | undefined, body: Uint8Array): Record<string, unknown> {
  if (body.length === 0) return {};
  if (mediaType(contentType) === JSON_MEDIA_TYPE) return jsonArgs(body);
  return argsFromSearchParams(new URLSearchParams(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')));
}
