/**
 * The durability order of a pulled snapshot, checked at the `Fs` port the way the backup path is
 * (test/datastore/backup-session.test.ts counts the same calls): the target's filesystem is
 * wrapped in a recorder of every fsync, directory fsync, syncfs and rename, and one snapshot is
 * pulled from a source store through the real reader protocol (in process, no sockets).
 *
 * At `file`: every new chunk is fsynced before it is renamed into place and its directory is
 * fsynced after; the index likewise; the manifest is renamed into place only after all of them,
 * after its own fsync, and its directory is fsynced last. At `filesystem`: one syncfs comes
 * before the manifest appears. Either way, a pulled snapshot is committed exactly as a backup is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { chunkPath } from '../../src/chunks/chunk-path.ts';
import { toHex } from '../../src/core/digest.ts';
import { IN_USE_MARKER } from '../../src/datastore/datastore.ts';
import type { SnapshotRef } from '../../src/core/backup-ref.ts';
import { pullSnapshot } from '../../src/jobs/sync/pull-snapshot.ts';
import { ReaderProtocol } from '../../src/server/protocol/reader-protocol.ts';
import { FsWrapper } from '../../src/storage/fs-wrapper.ts';
import type { FileHandle, OpenMode } from '../../src/storage/fs-port.ts';
import { NodeFs } from '../../src/storage/node-fs.ts';
import { backupChunks, pseudoRandom, sha256, tempStore } from '../helpers/datastore-fixture.ts';
import { readerTransport } from '../helpers/in-process-transport.ts';

class RecordingFs extends FsWrapper {
  readonly events: string[] = [];

  override async open(path: string, mode: OpenMode, perm?: number): Promise<FileHandle> {
    const h = await super.open(path, mode, perm);
    return { write: (d, p) => h.write(d, p), read: (p, l) => h.read(p, l), truncate: (l) => h.truncate(l), stat: () => h.stat(), startWriteback: () => h.startWriteback(), close: () => h.close(), sync: async () => (await h.sync(), void this.events.push(`fsync ${path}`)) };
  }
  override async rename(from: string, to: string): Promise<void> {
    await super.rename(from, to);
    this.events.push(`rename ${from} ${to}`);
  }
  override async fsyncDir(path: string): Promise<void> {
    await super.fsyncDir(path);
    this.events.push(`fsyncDir ${path}`);
  }
  override async syncfs(path: string): Promise<void> {
    await super.syncfs(path);
    this.events.push('syncfs');
  }
}

const ref: SnapshotRef = { ns: '', type: 'host', id: 'a', time: 1000 };
const chunks = Array.from({ length: 5 }, (_, i) => pseudoRandom(40 * 1024, i + 7));

async function pullInto(level: 'file' | 'filesystem'): Promise<{ events: string[]; chunkCount: number }> {
  const source = await tempStore('none');
  const fs = new RecordingFs(new NodeFs());
  const target = await tempStore(level, { fs });
  try {
    await backupChunks(source.store, ref, chunks);
    fs.events.length = 0;
    const t = readerTransport(await ReaderProtocol.open(source.store, ref));
    const counters = { chunksTransferred: 0, chunkBytes: 0, chunksReused: 0 };
    try {
      await pullSnapshot(target.store, ref, t, { owner: 'root@pam', recheck: false, allowOlder: false, counters });
    } finally {
      await t.close();
    }
    assert.equal((await target.store.listSnapshots(ref)).filter((s) => s.finished).length, 1);
    return { events: [...fs.events], chunkCount: counters.chunksTransferred };
  } finally {
    source.cleanup();
    target.cleanup();
  }
}

const renamedTo = (e: string): string | undefined => (e.startsWith('rename ') ? e.split(' ')[2] : undefined);

test('pullSnapshot at sync-level file: each chunk and the index are fsynced before their rename, the manifest is renamed after all of them, then its directory fsynced', async () => {
  const { events, chunkCount } = await pullInto('file');
  assert.equal(chunkCount, chunks.length);
  const manifestAt = events.findIndex((e) => renamedTo(e) !== undefined && basename(renamedTo(e)!) === 'index.json.blob');
  assert.ok(manifestAt > 0, events.join('\n'));
  const chunkRenames = events.map((e, i) => [renamedTo(e), i] as const).filter(([to]) => to?.includes('/.chunks/'));
  assert.equal(chunkRenames.length, chunks.length);
  for (const [to, i] of chunkRenames) {
    assert.ok(i < manifestAt, `chunk ${to} lands before the manifest`);
    const tmp = events[i]!.split(' ')[1]!;
    assert.ok(events.slice(0, i).includes(`fsync ${tmp}`), `chunk ${to} was fsynced before its rename`);
    assert.ok(events.slice(i, manifestAt).some((e) => e.startsWith('fsyncDir ') && to!.startsWith(e.slice('fsyncDir '.length))), `the directory of ${to} was fsynced before the manifest`);
  }
  const indexAt = events.findIndex((e) => renamedTo(e)?.endsWith('/data.didx') === true);
  assert.ok(indexAt >= 0 && indexAt < manifestAt && events.slice(0, indexAt).includes(`fsync ${events[indexAt]!.split(' ')[1]!}`), 'the index is fsynced and in place before the manifest');
  assert.ok(events.slice(0, manifestAt).includes(`fsync ${events[manifestAt]!.split(' ')[1]!}`), 'the manifest is fsynced before its rename');
  assert.ok(events.slice(manifestAt + 1).some((e) => e.startsWith('fsyncDir ') && renamedTo(events[manifestAt]!)!.startsWith(e.slice('fsyncDir '.length))), 'its directory is fsynced after');
  assert.ok(!events.includes('syncfs'), 'no syncfs at file');
});

test('pullSnapshot at sync-level filesystem: one syncfs, after every chunk and index write and before the manifest appears', async () => {
  const { events } = await pullInto('filesystem');
  const manifestAt = events.findIndex((e) => renamedTo(e) !== undefined && basename(renamedTo(e)!) === 'index.json.blob');
  const syncfsAt = events.indexOf('syncfs');
  assert.ok(syncfsAt >= 0 && syncfsAt < manifestAt, events.join('\n'));
  assert.equal(events.filter((e) => e === 'syncfs').length, 1);
  const lastDataWrite = Math.max(...events.map((e, i) => (renamedTo(e) !== undefined && i !== manifestAt ? i : -1)));
  assert.ok(lastDataWrite < syncfsAt, 'every chunk and index is in place before the barrier');
});

test('after an unclean shutdown of the target, a pull checks local chunks and fetches a broken one again instead of trusting its presence', async () => {
  const source = await tempStore('none');
  const target = await tempStore('filesystem');
  try {
    await backupChunks(source.store, ref, chunks);
    writeFileSync(join(target.store.base, IN_USE_MARKER), '1\n'); // the marker a crashed server leaves
    assert.equal(await target.store.markInUse(), true);
    const broken = toHex(sha256(chunks[2]!));
    mkdirSync(dirname(chunkPath(target.store.base, broken)), { recursive: true });
    writeFileSync(chunkPath(target.store.base, broken), ''); // what a crash leaves of an unsynced chunk
    const t = readerTransport(await ReaderProtocol.open(source.store, ref));
    const counters = { chunksTransferred: 0, chunkBytes: 0, chunksReused: 0 };
    try {
      await pullSnapshot(target.store, ref, t, { owner: 'root@pam', recheck: false, allowOlder: false, counters });
    } finally {
      await t.close();
    }
    assert.equal(counters.chunksTransferred, chunks.length, 'the empty chunk was fetched again');
    assert.equal(await target.store.chunks.state(broken), 'intact');
  } finally {
    source.cleanup();
    target.cleanup();
  }
});

test('files the listing names are fetched beside the manifest, once each; a named file the manifest lacks is never stored, and its failed download does not fail the pull', async () => {
  const source = await tempStore('none');
  const target = await tempStore('filesystem');
  try {
    await backupChunks(source.store, ref, chunks);
    const files = (await source.store.readManifest(ref)).files.map((f) => f.filename);
    const inner = readerTransport(await ReaderProtocol.open(source.store, ref));
    const asked: string[] = [];
    const t = { ...inner, download: (p: string, q?: Record<string, string | number | boolean>, into?: Uint8Array) => (p === 'download' && asked.push(String(q?.['file-name'])), inner.download(p, q, into)) };
    const counters = { chunksTransferred: 0, chunkBytes: 0, chunksReused: 0 };
    try {
      await pullSnapshot(target.store, ref, t, { owner: 'root@pam', recheck: false, allowOlder: false, counters, expectedFiles: ['not-there.blob', ...files] });
    } finally {
      await t.close();
    }
    assert.equal(asked[0], 'not-there.blob', 'hinted files are asked for before the manifest');
    for (const f of files) assert.equal(asked.filter((a) => a === f).length, 1, `${f} downloaded once`);
    assert.deepEqual((await target.store.readManifest(ref)).files.map((f) => f.filename), files);
    assert.equal((await target.store.listSnapshots(ref)).filter((s) => s.finished).length, 1);
  } finally {
    source.cleanup();
    target.cleanup();
  }
});
