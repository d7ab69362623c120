import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../../test/helpers/tmp.ts';
import { prefetchChildren, readMode, readSmall, type Prefetched } from './pxar-prefetch.ts';
import { mountLoopFs } from '../../test/helpers/loop-fs.ts';

async function fetchAll(dir: string, names: string[], directLstat: boolean): Promise<Prefetched[]> {
  const out: Prefetched[] = [];
  for await (const p of prefetchChildren(Buffer.from(dir), names.map((n) => Buffer.from(n)), { window: 4, smallLimit: 1024, directLstat })) out.push(p);
  return out;
}

const summary = (p: Prefetched): unknown => ({
  name: p.name.toString(),
  kind: p.st === undefined ? 'error' : p.st.isFile() ? 'file' : p.st.isDirectory() ? 'dir' : 'other',
  size: p.st?.size,
  ino: p.st?.ino,
  error: (p.error as NodeJS.ErrnoException | undefined)?.code,
  small: p.small?.data?.toString(),
});

test('prefetchChildren gives the same entries, in order, with direct lstats and through the thread pool', async () => {
  const dir = makeTempDir('holdfast-prefetch-');
  try {
    writeFileSync(join(dir, 'a'), 'small');
    writeFileSync(join(dir, 'big'), Buffer.alloc(4096, 1));
    mkdirSync(join(dir, 'sub'));
    symlinkSync('a', join(dir, 'link'));
    for (let i = 0; i < 10; i++) writeFileSync(join(dir, `f${i}`), `file ${i}`);
    const names = ['a', 'big', 'gone', 'link', 'sub', ...Array.from({ length: 10 }, (_, i) => `f${i}`)];
    const direct = (await fetchAll(dir, names, true)).map(summary);
    const pooled = (await fetchAll(dir, names, false)).map(summary);
    assert.deepEqual(direct, pooled);
    assert.deepEqual(direct.map((d) => (d as { name: string }).name), names);
    assert.deepEqual(direct[0], { name: 'a', kind: 'file', size: 5n, ino: (direct[0] as { ino: bigint }).ino, error: undefined, small: 'small' });
    assert.equal((direct[1] as { small?: string }).small, undefined, 'over smallLimit: not read ahead');
    assert.equal((direct[2] as { error?: string }).error, 'ENOENT', 'a vanished name is an error value, not a rejection');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prefetchChildren hints each large file to be read once, at most two ahead of the consumer, and none that skipContent marks', async () => {
  const dir = makeTempDir('holdfast-prefetch-hint-');
  try {
    const names: string[] = [];
    for (let i = 0; i < 30; i++) {
      const name = `f${String(i).padStart(2, '0')}`;
      // every third file large; among the large ones, every other one "unchanged" (skipped)
      writeFileSync(join(dir, name), i % 3 === 0 ? Buffer.alloc(2048 + i, 7) : `small ${i}`);
      names.push(name);
    }
    mkdirSync(join(dir, 'zdir'));
    names.push('zdir');
    const skipped = (n: Buffer): boolean => n.toString() === 'f06' || n.toString() === 'f18';
    const hinted: string[] = [];
    const handedOut: string[] = [];
    const opts = { window: 8, smallLimit: 1024, skipContent: skipped, hintLarge: (abs: Buffer, size: number) => hinted.push(`${abs.toString().slice(dir.length + 1)}:${size}`) };
    for await (const p of prefetchChildren(Buffer.from(dir), names.map((n) => Buffer.from(n)), opts)) {
      handedOut.push(p.name.toString());
      // the hints not yet handed out: never more than two
      const ahead = hinted.filter((h) => !handedOut.includes(h.split(':')[0]!));
      assert.ok(ahead.length <= 2, `after ${p.name.toString()}: ${ahead.join(' ')} hinted ahead`);
    }
    const expected = names.filter((n, i) => i < 30 && i % 3 === 0 && !skipped(Buffer.from(n))).map((n) => `${n}:${2048 + Number(n.slice(1))}`);
    assert.deepEqual(hinted, expected, 'each large file that will be read, in order, once; no skipped file, no directory');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readSmall reads cached files at once and, after 8 misses in one mode, sends the rest of an uncached directory straight to the thread pool', async (t) => {
  const fs = mountLoopFs('ext4', 32, 1000);
  if (typeof fs === 'string') return t.skip(fs);
  try {
    const files = Array.from({ length: 12 }, (_, i) => ({ abs: Buffer.from(join(fs.mountPoint, `f${i}`)), data: Buffer.alloc(1000 + i, i) }));
    for (const f of files) writeFileSync(f.abs, f.data);
    const cached = readMode();
    for (const f of files) assert.deepEqual(await readSmall(f.abs, f.data.length, cached), { data: f.data });
    assert.deepEqual(cached, { now: cached.now, misses: 0 }, 'nothing missed in the page cache');
    fs.remount();
    const cold = readMode();
    for (const f of files) assert.deepEqual(await readSmall(f.abs, f.data.length, cold), { data: f.data });
    if (cached.now) assert.deepEqual(cold, { now: false, misses: 8 }); // (without the addon both are off: node:fs reads)
  } finally {
    fs.cleanup();
  }
});
