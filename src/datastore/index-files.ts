/**
 * Reading a snapshot's index files as chunk lists: the digests (hex) an archive references, in
 * index order. Shared by previous-snapshot checks, GC marking and verify.
 */
import { toHex } from '../core/digest.ts';
import type { SnapshotRef } from '../core/backup-ref.ts';
import { parseDynamicIndex } from '../format/dynamic-index.ts';
import { parseFixedIndex } from '../format/fixed-index.ts';
import type { Datastore } from './datastore.ts';

export interface IndexChunk {
  readonly digest: string;
  readonly size: number;
}

export function indexChunks(fileName: string, bytes: Uint8Array): IndexChunk[] {
  if (fileName.endsWith('.didx')) {
    let start = 0;
    return parseDynamicIndex(bytes).entries.map((e) => {
      const c = { digest: toHex(e.digest), size: e.end - start };
      start = e.end;
      return c;
    });
  }
  const idx = parseFixedIndex(bytes);
  return idx.digests.map((d, i) => ({ digest: toHex(d), size: Math.min(idx.chunkSize, idx.size - i * idx.chunkSize) }));
}

export async function chunkDigestsOf(store: Datastore, ref: SnapshotRef, fileName: string): Promise<string[]> {
  return indexChunks(fileName, await store.readSnapshotFile(ref, fileName)).map((c) => c.digest);
}
