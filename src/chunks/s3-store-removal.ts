/**
 * Removing an S3 datastore's objects from its bucket (`datastore remove --destroy-data`): every
 * key under `<store>/` (chunks, quarantined copies, the `.cnt/` metadata mirror) and nothing
 * else, since several stores may share a bucket and each owns only its prefix. Keys are listed
 * and deleted a page (1000) at a time, so a store of millions of chunks needs no memory for its
 * key list, and each page reports progress.
 *
 * The store marker (`<store>/.holdfast-chunk-store`) goes last: until the very end the prefix is
 * still recognisably a store, and a failed removal (an unreachable endpoint, a refused delete)
 * rejects with OBJECT_STORE_ERROR saying how many objects went, so the caller keeps its config
 * entry and the removal can simply be run again.
 */
import { fail, toHoldfastError } from '../core/errors.ts';
import { storeMarkerKey } from './s3-chunk-backend.ts';
import type { S3Objects } from './s3-client.ts';

/** Receives the number of objects removed so far, after each deleted page. */
export type RemovalProgress = (removed: number) => void;

const PAGE = 1000;

/** Deletes every object under `<store>/`; resolves how many there were. */
export async function removeS3Store(objects: S3Objects, store: string, onProgress: RemovalProgress = () => undefined): Promise<number> {
  if (store === '' || store.includes('/')) throw fail('INVALID_ARGUMENT', `'${store.slice(0, 80)}' cannot be an S3 store prefix`, { store: store.slice(0, 80) });
  const prefix = `${store}/`;
  const marker = storeMarkerKey(store);
  let removed = 0;
  let markerSeen = false;
  try {
    let page: string[] = [];
    for await (const o of objects.list(prefix)) {
      if (!o.key.startsWith(prefix)) continue; // the listing promises this; deleting is no place to trust it
      if (o.key === marker) markerSeen = true;
      else page.push(o.key);
      if (page.length === PAGE) {
        removed += await deletePage(objects, page, onProgress, removed);
        page = [];
      }
    }
    if (page.length > 0) removed += await deletePage(objects, page, onProgress, removed);
    if (markerSeen) removed += await deletePage(objects, [marker], onProgress, removed);
  } catch (e) {
    const cause = toHoldfastError(e);
    throw fail('OBJECT_STORE_ERROR', `removing datastore '${store}' from ${objects.location} failed after ${removed} object(s): ${cause.message}`, { store, removed }, e);
  }
  return removed;
}

async function deletePage(objects: S3Objects, keys: readonly string[], onProgress: RemovalProgress, before: number): Promise<number> {
  await objects.deleteMany(keys);
  onProgress(before + keys.length);
  return keys.length;
}
