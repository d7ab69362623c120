/**
 * Parameters of protocol requests. Values are read by the one argument parser (`core/args.ts`);
 * this module adds what only the protocols need: where a request's parameters come from, and the
 * rules for the names a backup session creates.
 *
 * Where parameters come from, as in PBS: endpoints whose body is raw data (chunk and blob uploads,
 * speedtest) and GETs read the query only; every other endpoint also reads its body, as JSON
 * (`application/json`, any case, parameters after `;` ignored) or as a form, and body values win.
 * `PUT *_index` bodies are JSON unless they say they are a form: Holdfast's own client has sent
 * them as `application/octet-stream`.
 */
import type { Args } from '../../core/args.ts';
import { fail } from '../../core/errors.ts';
import { SAFE_ID } from '../../core/names.ts';
import { FORM_MEDIA_TYPE, bodyArgs, jsonArgs, mediaType } from '../body.ts';
import type { RequestBody } from './request-body.ts';

export type IndexKind = 'fixed' | 'dynamic';

/**
 * The longest archive name a session accepts. Names are PBS SAFE_IDs; 128 bytes is longer than any
 * name PBS clients write and keeps the name plus its temp-file suffix within the filesystem's
 * 255-byte limit, so a long name is a 400, not an I/O error.
 */
export const MAX_ARCHIVE_NAME_LENGTH = 128;

/** The query merged with the arguments of the body (body wins). */
export async function protocolArgs(query: Args, body: RequestBody, fallback: 'form' | 'json' = 'form'): Promise<Args> {
  const bytes = await body.bytes();
  if (bytes.length === 0) return query;
  const type = mediaType(body.contentType);
  const asJson = fallback === 'json' && type !== FORM_MEDIA_TYPE;
  return { ...query, ...(asJson ? jsonArgs(bytes) : bodyArgs(body.contentType, bytes)) };
}

/** A safe archive (or blob) name with the given extension, within MAX_ARCHIVE_NAME_LENGTH. */
export function checkArchiveName(name: string, ext: string, param = 'archive-name'): string {
  if (!name.endsWith(ext) || name.length > MAX_ARCHIVE_NAME_LENGTH || !SAFE_ID.test(name)) {
    throw fail('INVALID_NAME', `archive name '${JSON.stringify(name).slice(1, -1)}' must be a safe name of at most ${MAX_ARCHIVE_NAME_LENGTH} characters ending in ${ext}`, { value: name, param });
  }
  return name;
}

/**
 * The kinds of the index writers a session opened, and the names it used: an archive name is
 * used once per session, and `PUT fixed_index` appends only to a fixed writer (and dynamic to
 * dynamic).
 */
export class SessionNames {
  readonly #kinds = new Map<number, IndexKind>();
  readonly #names = new Set<string>();

  /** Claims `name` for this session; a second claim is ALREADY_EXISTS. */
  claim(name: string): void {
    if (this.#names.has(name)) throw fail('ALREADY_EXISTS', `archive '${name}' was already written in this session`, { value: name, param: 'archive-name' });
    this.#names.add(name);
  }

  /** Gives a claimed name back (its writer or upload failed before anything was stored). */
  release(name: string): void {
    this.#names.delete(name);
  }

  opened(wid: number, kind: IndexKind): void {
    this.#kinds.set(wid, kind);
  }

  assertKind(wid: number, kind: IndexKind): void {
    const actual = this.#kinds.get(wid);
    if (actual !== undefined && actual !== kind) throw fail('PROTOCOL_ERROR', `writer ${wid} is a ${actual} index writer, not a ${kind} one`, { wid, kind: actual });
  }
}
