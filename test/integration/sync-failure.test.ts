/**
 * A failing fsync or syncfs must fail the backup the user ran, not be swallowed: with the server's
 * filesystem port wrapped in a FaultFs, `holdfast backup` (a real subprocess) exits with the
 * SYNC_FAILED code and message, and the snapshot is neither listed nor left on disk.
 *
 * - datastore at `filesystem`: the one syncfs at the end of the backup fails;
 * - datastore at `file`: the Nth fsync after the backup started fails, for N = the first, one in
 *   the middle (a chunk) and the last one, found by counting a good backup first; and the
 *   manifest's fsync, picked by its path.
 * After a failed sync a datastore refuses every new backup until the server restarts (fsyncgate,
 * docs/durability.md), so each fault gets a fresh datastore, and one is checked across a restart.
 * Each backup uses fresh data and a fresh group, so every run makes the same sequence of syncs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaultFs, type SyncCall } from '../../src/storage/testing/fault-fs.ts';
import { NodeFs } from '../../src/storage/node-fs.ts';
import type { SyncLevel } from '../../src/core/sync-level.ts';
import { describeCli, fastRandom, ObservedLocker, startTestServer, type CliResult, type TestServer } from '../helpers/server-fixture.ts';

const MIB = 1024 * 1024;
const T0 = 1_800_000_000;
const TIME_DIR = '2027-01-15T08:00:00Z';

let armed: ((c: SyncCall) => boolean) | undefined;
const fault = new FaultFs(new NodeFs(), { failSync: (c) => armed?.(c) === true });
const locker = new ObservedLocker();
let srv: TestServer;

before(async () => {
  srv = await startTestServer({ fs: fault, locker });
});

after(async () => {
  await srv?.close();
});

/** A new datastore, opened before any fault is armed (opening writes its durable in-use marker). */
async function freshStore(name: string, level: SyncLevel): Promise<string> {
  const path = await srv.addDatastore(name, level);
  await srv.hs.registry.get(name, 'read');
  return path;
}

/**
 * A small tree and an image of fresh data (seeded), so every chunk is new to the store. The tree's
 * pxar stream stays below the chunker's minimum chunk size, so every seed makes the same number
 * of chunks, hence of fsyncs.
 */
function sources(seed: number): string[] {
  const dir = join(srv.dir, `src-${seed}`);
  mkdirSync(join(dir, 'tree'), { recursive: true });
  writeFileSync(join(dir, 'tree', 'a.bin'), fastRandom(400 * 1024, seed));
  writeFileSync(join(dir, 'tree', 'b.txt'), `seed ${seed}\n`);
  writeFileSync(join(dir, 'disk.img'), fastRandom(9 * MIB, seed + 1000));
  writeFileSync(join(dir, 'vm.conf'), `cores: ${seed}\n`);
  return [`root.pxar:${join(dir, 'tree')}`, `disk.img:${join(dir, 'disk.img')}`, `vm.conf:${join(dir, 'vm.conf')}`];
}

/** Runs a backup and, if it reached the server, resolves once the server released its group (cleanup done). */
async function backup(store: string, id: string, seed: number): Promise<CliResult> {
  const group = join(srv.datastorePath(store), 'host', id);
  let locked = false;
  void locker.nextAcquire(group).then(() => (locked = true));
  const released = locker.nextRelease(group);
  const r = await srv.cli(['backup', ...sources(seed), '--backup-id', id, '--backup-time', String(T0)], store);
  if (locked) await released;
  return r;
}

async function assertNoSnapshot(store: string, id: string, r: CliResult, failed: RegExp): Promise<void> {
  assert.equal(r.code, 7, `backup ${id} should exit 7 (sync failed): ${describeCli(r)}`);
  assert.match(r.stderr, /error \[SYNC_FAILED\]: /, describeCli(r));
  assert.match(r.stderr, failed, describeCli(r));
  assert.match(r.stderr, /EIO/);
  const list = await srv.cli(['snapshot', 'list', '--output-format', 'json'], store);
  assert.equal(list.code, 0, describeCli(list));
  const listed = (JSON.parse(list.stdout) as { 'backup-id': string }[]).map((s) => s['backup-id']);
  assert.equal(listed.includes(id), false, `${id} is listed after a failed sync`);
  assert.equal(existsSync(join(srv.datastorePath(store), 'host', id, TIME_DIR)), false, `${id}: the snapshot dir is still on disk`);
}

test('filesystem level: a failing syncfs fails `holdfast backup` with SYNC_FAILED and leaves no snapshot', { timeout: 120_000 }, async () => {
  const base = await freshStore('at-filesystem', 'filesystem');
  const before = { ...fault.counts };
  armed = (c) => c.kind === 'syncfs' && c.path.startsWith(base);
  try {
    const r = await backup('at-filesystem', 'syncfs-fails', 1);
    assert.equal(fault.counts.syncfs - before.syncfs, 1, 'the backup should have called syncfs exactly once');
    assert.equal(fault.counts.fsync - before.fsync, 0, 'no fsync may run before the syncfs at this level');
    await assertNoSnapshot('at-filesystem', 'syncfs-fails', r, /syncfs of .* failed/);
  } finally {
    armed = undefined;
  }
  // the store is fenced: even with a working disk it acknowledges nothing until a restart
  const fenced = await backup('at-filesystem', 'after-failure', 2);
  await assertNoSnapshot('at-filesystem', 'after-failure', fenced, /refused until the server restarts/);
  await srv.restart();
  const ok = await backup('at-filesystem', 'after-restart', 3);
  assert.equal(ok.code, 0, `a backup must succeed after the restart: ${describeCli(ok)}`);
});

test('file level: failing the first, a middle or the last fsync fails `holdfast backup` and leaves no snapshot', { timeout: 180_000 }, async () => {
  await freshStore('file-calibrate', 'file');
  const start = fault.counts.fsync;
  const calib = await backup('file-calibrate', 'calibrate', 10);
  assert.equal(calib.code, 0, describeCli(calib));
  const perBackup = fault.counts.fsync - start;
  assert.ok(perBackup >= 6, `a backup at file level made only ${perBackup} fsyncs`);

  const cases: { id: string; seed: number; rule: (c: SyncCall, first: number) => boolean }[] = [
    { id: 'fsync-first', seed: 11, rule: (c, first) => c.nth === first + 1 },
    { id: 'fsync-middle', seed: 12, rule: (c, first) => c.nth === first + Math.ceil(perBackup / 2) },
    { id: 'fsync-last', seed: 13, rule: (c, first) => c.nth === first + perBackup },
    { id: 'fsync-manifest', seed: 14, rule: (c) => /index\.json\.blob/.test(c.path) },
  ];
  for (const { id, seed, rule } of cases) {
    const store = `file-${id}`;
    await freshStore(store, 'file');
    const first = fault.counts.fsync;
    let failedPath = '';
    armed = (c) => {
      if (c.kind !== 'fsync' || !rule(c, first)) return false;
      failedPath = c.path;
      return true;
    };
    try {
      const r = await backup(store, id, seed);
      assert.ok(failedPath !== '', `${id}: no fsync matched (the backup made ${fault.counts.fsync - first} fsyncs, the good one ${perBackup})`);
      await assertNoSnapshot(store, id, r, /fsync of .* failed/);
    } finally {
      armed = undefined;
    }
  }
});
