import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SyncLevel } from '../core/sync-level.ts';
import { CountingFs } from '../storage/counting-fs.ts';
import type { SyncCounts } from '../storage/fs-port.ts';
import { SimFs } from '../storage/testing/sim-fs.ts';
import { Durability } from './durability.ts';

const BASE = '/store';

async function rig(level: SyncLevel, flushCoversBase = true): Promise<{ d: Durability; fs: CountingFs; flushes: () => number }> {
  const fs = new CountingFs(new SimFs());
  await fs.mkdir(`${BASE}/g`, { recursive: true });
  let flushes = 0;
  const d = new Durability({
    fs,
    base: BASE,
    level: () => level,
    flushChunks: async () => {
      flushes++;
      await fs.syncfs(BASE); // what the local backend's flush is
    },
    flushCoversBase,
  });
  return { d, fs, flushes: () => flushes };
}

async function countsOf(level: SyncLevel, op: (d: Durability) => Promise<unknown>): Promise<SyncCounts> {
  const { d, fs } = await rig(level);
  const before = fs.snapshot();
  await op(d);
  const after = fs.snapshot();
  return { fsyncFile: after.fsyncFile - before.fsyncFile, fsyncDir: after.fsyncDir - before.fsyncDir, syncfs: after.syncfs - before.syncfs };
}

const c = (fsyncFile: number, fsyncDir: number, syncfs: number): SyncCounts => ({ fsyncFile, fsyncDir, syncfs });

test('Durability makes exactly the syncs its table promises, per level', async () => {
  const ops: Record<string, (d: Durability) => Promise<unknown>> = {
    writeMetadata: (d) => d.writeMetadata(`${BASE}/g/owner`, 'x'),
    writeManifest: (d) => d.writeManifest(`${BASE}/g/index.json.blob`, new Uint8Array(3)),
    makeDirectory: (d) => d.makeDirectory(`${BASE}/g/new`),
    barrier: (d) => d.barrier(),
    metadataBarrier: (d) => d.metadataBarrier(),
    chunkRemovalsDone: (d) => d.chunkRemovalsDone(),
    syncEverything: (d) => d.syncEverything(),
  };
  const expected: Record<SyncLevel, Record<string, SyncCounts>> = {
    none: { writeMetadata: c(0, 0, 0), writeManifest: c(0, 0, 0), makeDirectory: c(0, 0, 0), barrier: c(0, 0, 0), metadataBarrier: c(0, 0, 0), chunkRemovalsDone: c(0, 0, 0), syncEverything: c(0, 0, 1) },
    filesystem: { writeMetadata: c(0, 0, 0), writeManifest: c(1, 1, 0), makeDirectory: c(0, 0, 0), barrier: c(0, 0, 1), metadataBarrier: c(0, 0, 1), chunkRemovalsDone: c(0, 0, 0), syncEverything: c(0, 0, 1) },
    file: { writeMetadata: c(1, 1, 0), writeManifest: c(1, 1, 0), makeDirectory: c(0, 1, 0), barrier: c(0, 0, 0), metadataBarrier: c(0, 0, 0), chunkRemovalsDone: c(0, 0, 1), syncEverything: c(0, 0, 1) },
  };
  for (const level of ['none', 'filesystem', 'file'] as const) {
    for (const [name, op] of Object.entries(ops)) assert.deepEqual(await countsOf(level, op), expected[level][name], `${name} at ${level}`);
  }
});

test('Durability.barrier also syncs the metadata filesystem when the chunk backend flush does not cover it', async () => {
  const { d, fs, flushes } = await rig('filesystem', false);
  await d.barrier();
  assert.equal(flushes(), 1);
  assert.equal(fs.snapshot().syncfs, 2, 'one for the chunks (here a syncfs too), one for the metadata');
});

test('Durability.removeSnapshot unlinks the manifest first and fsyncs snapshot and group dirs at file only', async () => {
  for (const [level, dirs] of [['file', 2], ['filesystem', 0]] as const) {
    const { d, fs } = await rig(level);
    await fs.mkdir(`${BASE}/g/snap`);
    await d.writeMetadata(`${BASE}/g/snap/index.json.blob`, 'm');
    await d.writeMetadata(`${BASE}/g/snap/a.didx`, 'i');
    const before = fs.snapshot().fsyncDir;
    await d.removeSnapshot(`${BASE}/g/snap`, 'index.json.blob');
    assert.equal(await fs.stat(`${BASE}/g/snap`), undefined);
    assert.equal(fs.snapshot().fsyncDir - before, dirs, level);
  }
});

test('Durability.removeTree and rmdirDurably fsync the parent dir at file only; rmdirDurably never removes content', async () => {
  for (const [level, dirs] of [['file', 1], ['filesystem', 0], ['none', 0]] as const) {
    const { d, fs } = await rig(level);
    await fs.mkdir(`${BASE}/g/grp/sub`, { recursive: true });
    await d.writeMetadata(`${BASE}/g/grp/owner`, 'o');
    await fs.mkdir(`${BASE}/g/empty`);
    await assert.rejects(d.rmdirDurably(`${BASE}/g/grp`), (e: unknown) => (e as { code?: string }).code === 'DIRECTORY_NOT_EMPTY');
    assert.ok(await fs.stat(`${BASE}/g/grp/owner`), 'nothing inside was removed');
    let before = fs.snapshot().fsyncDir;
    await d.removeTree(`${BASE}/g/grp`);
    assert.equal(await fs.stat(`${BASE}/g/grp`), undefined);
    assert.equal(fs.snapshot().fsyncDir - before, dirs, `removeTree at ${level}`);
    before = fs.snapshot().fsyncDir;
    assert.equal(await d.rmdirDurably(`${BASE}/g/empty`), true);
    assert.equal(await d.rmdirDurably(`${BASE}/g/empty`), false, 'absent: false');
    assert.equal(fs.snapshot().fsyncDir - before, dirs, `rmdirDurably at ${level}`);
  }
});
