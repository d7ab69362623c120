/**
 * Request parameters: the query string, and the body of POST/PUT/DELETE as JSON or as
 * `application/x-www-form-urlencoded` (PBS clients send both). Body size is limited while reading,
 * before anything is buffered past the limit, so an oversized upload costs at most `limit` bytes.
 *
 * As in PBS, a body that is not JSON is read as a form; repeated keys become arrays. The values are
 * then read through `core/args.ts`, the one argument parser.
 */
import { Readable, finished } from 'node:stream';
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
  await eachPiece(req, (chunk) => {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit, size);
    parts.push(chunk);
  });
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
  await eachPiece(req, (chunk) => {
    if (size + chunk.byteLength > dest.byteLength) throw tooLong(dest.byteLength, size + chunk.byteLength);
    copyBytes(dest, chunk, size); // dest is an upload slot in shared memory: see byte-copy.ts
    size += chunk.byteLength;
  });
  return size;
}

/**
 * Hands each piece of the body to `take`, in order, until the body ends; an error `take` throws
 * stops the reading and rejects with it. A stream's end, error or premature close settles it.
 *
 * Why 'data' events and not the stream's async iterator: an HTTP/2 body arrives in TLS records of
 * at most 16 KiB, each its own piece, 65,536 per GiB uploaded, and the iterator's promise round
 * per piece cost the server 0.3 s of CPU per GiB more (measured: an upload of 256 × 4 MiB over
 * TLS, 2.0 against 1.7 CPU-s for both ends). Leaving early does not destroy the stream: the socket
 * is still needed for the error answer, and the caller discards the rest of the body (resume).
 */
function eachPiece(req: BodySource, take: (piece: Uint8Array) => void): Promise<void> {
  if (!(req instanceof Readable)) {
    return (async () => {
      for await (const piece of req) take(piece);
    })();
  }
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (e?: Error): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      stop();
      if (e === undefined) resolve();
      else reject(e);
    };
    const onData = (piece: Uint8Array): void => {
      if (settled) return;
      try {
        take(piece);
      } catch (e) {
        settle(e instanceof Error ? e : new Error(String(e)));
      }
    };
    // only the readable side: a server stream's writable side (the answer) is still to come
    const stop = finished(req, { writable: false }, (e) => settle(e ?? undefined));
    req.on('data', onData);
    req.resume(); // also when an earlier reader paused it
  });
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
