/**
 * Test helpers: a fresh datastore in a temp dir over the real filesystem, and a tiny library-level
 * "client" that backs up byte buffers through a BackupSession exactly as the server would.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from './tmp.ts';
export { pseudoRandom } from './seeded.ts';
import { createHash } from 'node:crypto';
import type { SnapshotRef } from '../../src/core/backup-ref.ts';
import { memoryLogger } from '../../src/core/log.ts';
import type { SyncLevel } from '../../src/core/sync-level.ts';
import { encodeBlob } from '../../src/format/blob.ts';
import { dynamicIndexCsum } from '../../src/format/dynamic-index.ts';
import { encodeManifestBlob, type Manifest } from '../../src/format/manifest.ts';
import { BackupSession } from '../../src/datastore/backup-session.ts';
import { createDatastoreTree } from '../../src/datastore/create-datastore.ts';
import { Datastore, type DatastoreDeps } from '../../src/datastore/datastore.ts';
import type { Fs } from '../../src/storage/fs-port.ts';
import { FlockLocker, type Locker } from '../../src/storage/locker.ts';
import { NodeFs } from '../../src/storage/node-fs.ts';

export interface TempStore {
  readonly store: Datastore;
  readonly dir: string;
  readonly logLines: string[];
  cleanup(): void;
}

export async function tempStore(level: SyncLevel, opts: { fs?: Fs; locker?: Locker; makeBackend?: DatastoreDeps['makeBackend'] } = {}): Promise<TempStore> {
  const dir = makeTempDir('holdfast-ds-');
  const base = join(dir, 'store');
  const fs = opts.fs ?? new NodeFs();
  await createDatastoreTree(fs, base);
  const log = memoryLogger();
  const store = new Datastore({ name: 'test', base, fs, locker: opts.locker ?? new FlockLocker(), log, syncLevel: level, ...(opts.makeBackend ? { makeBackend: opts.makeBackend } : {}) });
  return { store, dir, logLines: log.lines, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function sha256(b: Uint8Array): Uint8Array {
  return createHash('sha256').update(b).digest();
}


/** Backs up `chunks` as one dynamic archive `data.didx` plus a manifest, then finishes. */
export async function backupChunks(store: Datastore, ref: SnapshotRef, chunks: readonly Uint8Array[], opts: { finish?: boolean } = {}): Promise<BackupSession> {
  const session = await BackupSession.begin(store, ref, { owner: 'test@pbs' });
  try {
    return await fillSession(session, ref, chunks, opts);
  } catch (e) {
    await session.abort(); // what the server does when the client's connection ends
    throw e;
  }
}

async function fillSession(session: BackupSession, ref: SnapshotRef, chunks: readonly Uint8Array[], opts: { finish?: boolean }): Promise<BackupSession> {
  const wid = session.createDynamicIndex('data.didx');
  let offset = 0;
  const entries: { end: number; digest: Uint8Array }[] = [];
  for (const c of chunks) {
    const digest = sha256(c);
    const hex = Buffer.from(digest).toString('hex');
    if (!session.known.has(hex)) await session.insertChunk(hex, encodeBlob(c, { compress: true }), c.length);
    session.appendToIndex(wid, [hex], [offset]);
    offset += c.length;
    entries.push({ end: offset, digest });
  }
  const csum = Buffer.from(dynamicIndexCsum(entries).csum).toString('hex');
  await session.closeIndex(wid, { chunkCount: chunks.length, size: offset, csumHex: csum });
  const manifest: Manifest = {
    backupType: ref.type,
    backupId: ref.id,
    backupTime: ref.time,
    files: [{ filename: 'data.didx', cryptMode: 'none', size: offset, csum }],
    unprotected: {},
    signature: null,
  };
  await session.writeBlob('index.json.blob', encodeManifestBlob(manifest));
  if (opts.finish !== false) await session.finish();
  return session;
}
