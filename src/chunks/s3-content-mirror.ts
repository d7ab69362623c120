/**
 * S3ContentMirror: the ContentMirror port (content-mirror.ts) on an S3 bucket. A datastore's
 * metadata file `<path>` (relative to its base) is the object `<store>/.cnt/<path>`, as PBS keys
 * it, beside the store's chunks under `<store>/.chunks/`. A write resolves only after the PUT was
 * answered 2xx (the client retries transient failures a bounded number of times and never turns
 * an unknown outcome into success), so Durability can put the manifest last and acknowledge a
 * backup only when every object it references is stored.
 */
import { fail } from '../core/errors.ts';
import type { ContentMirror, MirroredFile } from './content-mirror.ts';
import type { S3Objects } from './s3-client.ts';

export const CONTENT_DIR = '.cnt';

export class S3ContentMirror implements ContentMirror {
  readonly active = true;
  readonly #objects: S3Objects;
  readonly #prefix: string;

  constructor(deps: { readonly objects: S3Objects; readonly store: string }) {
    this.#objects = deps.objects;
    this.#prefix = `${deps.store}/${CONTENT_DIR}/`;
  }

  async fileWritten(path: string, bytes: Uint8Array): Promise<void> {
    await this.#objects.put(this.#key(path), bytes);
  }

  async fileRemoved(path: string): Promise<void> {
    await this.#objects.delete(this.#key(path));
  }

  async treeRemoved(path: string): Promise<void> {
    const keys: string[] = [];
    for await (const o of this.#objects.list(`${this.#key(path)}/`)) keys.push(o.key);
    if (keys.length > 0) await this.#objects.deleteMany(keys);
  }

  async *pull(): AsyncGenerator<MirroredFile> {
    for await (const o of this.#objects.list(this.#prefix)) {
      const path = o.key.slice(this.#prefix.length);
      if (!isSafePath(path)) continue; // not ours to restore: nothing may escape the cache dir
      const bytes = await this.#objects.get(o.key);
      if (bytes !== undefined) yield { path, bytes }; // undefined: removed since the listing
    }
  }

  #key(path: string): string {
    if (!isSafePath(path)) throw fail('INVALID_ARGUMENT', `'${path.slice(0, 200)}' is not a datastore-relative path`, { path: path.slice(0, 200) });
    return `${this.#prefix}${path}`;
  }
}

function isSafePath(path: string): boolean {
  return path !== '' && path.split('/').every((c) => c !== '' && c !== '.' && c !== '..' && !c.includes('\0'));
}
