import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHoldfastError } from '../../core/errors.ts';
import { chunkPath } from '../../chunks/chunk-path.ts';
import { encodeDynamicIndex } from '../../format/dynamic-index.ts';
import { encodeFixedIndex } from '../../format/fixed-index.ts';
import { childEnv, diffCounts, emptyDatastore, syncCountsOf } from './holdfast-runner.ts';

test('syncCountsOf reads the status answer and rejects one without counters', () => {
  assert.deepEqual(syncCountsOf({ 'sync-level': 'file', 'sync-counts': { fsyncFile: 3, fsyncDir: 2, syncfs: 0 } }), { fsyncFile: 3, fsyncDir: 2, syncfs: 0 });
  assert.throws(() => syncCountsOf({ total: 1 }), (e: unknown) => isHoldfastError(e, 'UPSTREAM_ERROR'));
  assert.throws(() => syncCountsOf(null), (e: unknown) => isHoldfastError(e, 'UPSTREAM_ERROR'));
});

test('diffCounts subtracts counter by counter', () => {
  assert.deepEqual(diffCounts({ fsyncFile: 10, fsyncDir: 5, syncfs: 2 }, { fsyncFile: 1, fsyncDir: 1, syncfs: 1 }), { fsyncFile: 9, fsyncDir: 4, syncfs: 1 });
});

test('childEnv drops HOLDFAST_* and PBS_* variables and adds the given ones', () => {
  process.env['HOLDFAST_LEAK_TEST'] = 'x';
  process.env['PBS_LEAK_TEST'] = 'y';
  try {
    const env = childEnv({ HOLDFAST_CONFIG_DIR: '/c' });
    assert.equal(env['HOLDFAST_LEAK_TEST'], undefined);
    assert.equal(env['PBS_LEAK_TEST'], undefined);
    assert.equal(env['HOLDFAST_CONFIG_DIR'], '/c');
    assert.equal(env['PATH'], process.env['PATH']);
  } finally {
    delete process.env['HOLDFAST_LEAK_TEST'];
    delete process.env['PBS_LEAK_TEST'];
  }
});

test('emptyDatastore deletes the chunks the indexes reference and the snapshots, nothing else', async () => {
  const base = mkdtempSync(join(tmpdir(), 'holdfast-empty-'));
  try {
    const digest = (i: number): Uint8Array => createHash('sha256').update(String(i)).digest();
    const hex = (d: Uint8Array): string => Buffer.from(d).toString('hex');
    for (const i of [1, 2, 3, 9]) {
      const p = chunkPath(base, hex(digest(i)));
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, 'chunk');
    }
    const snap = join(base, 'host', 'bench-file-1', '2026-11-24T15:00:00Z');
    mkdirSync(snap, { recursive: true });
    const header = { uuid: new Uint8Array(16), ctime: 0 };
    writeFileSync(join(snap, 'data.pxar.didx'), encodeDynamicIndex({ ...header, entries: [{ end: 10, digest: digest(1) }, { end: 20, digest: digest(2) }, { end: 30, digest: digest(1) }] }));
    writeFileSync(join(snap, 'disk.img.fidx'), encodeFixedIndex({ ...header, size: 4096, chunkSize: 4096, digests: [digest(3)] }));
    writeFileSync(join(snap, 'index.json.blob'), 'manifest');
    assert.equal(await emptyDatastore(base), 3);
    for (const i of [1, 2, 3]) assert.equal(existsSync(chunkPath(base, hex(digest(i)))), false);
    assert.equal(existsSync(chunkPath(base, hex(digest(9)))), true);
    assert.equal(existsSync(join(base, 'host')), false);
    assert.equal(existsSync(join(base, '.chunks', hex(digest(1)).slice(0, 4))), true);
    assert.equal(await emptyDatastore(base), 0);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
