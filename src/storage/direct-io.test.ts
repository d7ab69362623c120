/**
 * NodeFs's 'wx-direct' on real filesystems: the kernel really has O_DIRECT set on the descriptor
 * (tmpfs, and a loop-mounted ext4 as root), the aligned buffers stay within their bound, and on a
 * filesystem that refuses O_DIRECT (ramfs: EINVAL at open, after creating the file) the write and
 * the direct read fall back to the cache and the file is still exactly the data. The content rules for every adapter are
 * in the Fs contract (test/contract/fs-contract.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelFlags, O_DIRECT } from '../../test/helpers/fdinfo.ts';
import { makeTempDir } from '../../test/helpers/tmp.ts';
import { onLoopFs } from '../../test/helpers/loop-fs.ts';
import { ALIGN, directIoStats, directSlots } from './direct-io.ts';
import { alignedBuffer } from '../core/aligned-pool.ts';
import { nativeFunction } from '../core/native-addon.ts';
import { NodeFs } from './node-fs.ts';

function data(size: number, salt: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + salt) & 0xff;
  return b;
}

async function writeAndCheck(dir: string, expectDirect: boolean): Promise<void> {
  const fs = new NodeFs();
  const path = join(dir, 'chunk');
  const h = (await fs.open(path, 'wx-direct')) as Awaited<ReturnType<NodeFs['open']>> & { readonly direct: boolean };
  assert.equal(h.direct, expectDirect);
  assert.equal((kernelFlags(path) & O_DIRECT) !== 0, expectDirect, `O_DIRECT on the descriptor of ${path}`);
  const bytes = data(4 * 1024 * 1024 + 12, 3);
  await h.write(bytes, 0);
  await h.close();
  assert.ok(readFileSync(path).equals(bytes));
  assert.ok(Buffer.from(await fs.readFile(path, new Uint8Array(8 * 1024 * 1024), { direct: true })).equals(bytes), 'read back with { direct }');
}

test("'wx-direct' on tmpfs opens with O_DIRECT and writes exactly the data", async () => {
  await writeAndCheck(makeTempDir('direct-tmpfs-'), true);
});

test("'wx-direct' on a loop-mounted ext4 opens with O_DIRECT and writes exactly the data", (t) => onLoopFs(t, 'ext4', 64, 1000, (mnt) => writeAndCheck(mnt, true)));

test("'wx-direct' and direct reads on a filesystem without O_DIRECT (ramfs) fall back to the cache; the file is exactly the data", async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to mount ramfs');
  const dir = join(makeTempDir('direct-ramfs-'), 'mnt');
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'ramfs', 'ramfs', dir]);
  try {
    await writeAndCheck(dir, false);
    assert.deepEqual(readdirSync(dir), ['chunk']);
  } finally {
    execFileSync('umount', [dir]);
  }
});

test('the aligned buffers never exceed their bound, however many direct writes run at once', async () => {
  const fs = new NodeFs();
  const dir = makeTempDir('direct-bound-');
  await Promise.all(
    Array.from({ length: 64 }, async (_, i) => {
      const h = await fs.open(join(dir, `f${i}`), 'wx-direct');
      try {
        await h.write(data(50_000 + i, i), 0);
      } finally {
        await h.close();
      }
    }),
  );
  const slots = directSlots();
  assert.ok(slots.made <= slots.max, `${slots.made} buffers made, bound ${slots.max}`);
  assert.equal(slots.free, slots.made, 'every buffer is back in the pool');
  for (let i = 0; i < 64; i++) assert.ok(readFileSync(join(dir, `f${i}`)).equals(data(50_000 + i, i)));
});

test('aligned data is written and read in place (no copy but the last partial block); other data through the pool; the files are exactly the data', async (t) => {
  if (nativeFunction('misalign') === undefined) return t.skip('the native addon is not built: addresses cannot be known (npm run build:native)');
  const fs = new NodeFs();
  const dir = makeTempDir('direct-inplace-');
  const SLOT = 4 * 1024 * 1024 + 64 * 1024;
  for (const size of [0, 100, ALIGN, 3 * ALIGN + 5, SLOT + ALIGN + 7]) {
    const room = alignedBuffer(ALIGN, Math.ceil((size + 1) / ALIGN) * ALIGN + ALIGN);
    const aligned = room.subarray(0, size);
    aligned.set(data(size, size & 0xff));
    const unaligned = room.subarray(1, 1 + Math.min(size, room.length - 1)); // starts one byte off

    const before = directIoStats();
    const path = join(dir, `a${size}`);
    const h = await fs.open(path, 'wx-direct');
    await h.write(aligned, 0);
    await h.close();
    const wrote = directIoStats();
    assert.equal(wrote.inPlaceBytes - before.inPlaceBytes, size - (size % ALIGN), `${size} bytes: whole blocks written in place`);
    assert.equal(wrote.copiedBytes - before.copiedBytes, size % ALIGN, `${size} bytes: only the tail copied`);
    assert.ok(readFileSync(path).equals(Buffer.from(aligned)), `${size} bytes: the file is the data`);

    const into = alignedBuffer(ALIGN, Math.ceil(size / ALIGN) * ALIGN + ALIGN);
    const read = await fs.readFile(path, into, { direct: true });
    const after = directIoStats();
    assert.ok(Buffer.from(read).equals(Buffer.from(aligned)), `${size} bytes read back`);
    if (size > 0) assert.equal(read.buffer, into.buffer, 'read into the given buffer');
    assert.equal(after.inPlaceBytes - wrote.inPlaceBytes, size, `${size} bytes: read in place`);
    assert.equal(after.copiedBytes, wrote.copiedBytes, 'nothing copied on the way in');

    // too little room to round the read up to a block, or not aligned: read through the pool
    if (size % ALIGN !== 0) {
      const tight = alignedBuffer(ALIGN, Math.ceil(size / ALIGN) * ALIGN).subarray(0, size);
      assert.ok(Buffer.from(await fs.readFile(path, tight, { direct: true })).equals(Buffer.from(aligned)));
      assert.equal(directIoStats().copiedBytes - after.copiedBytes, size, 'a buffer without room is filled through a copy');
    }

    const upath = join(dir, `u${size}`);
    const before2 = directIoStats();
    const u = await fs.open(upath, 'wx-direct');
    await u.write(unaligned, 0);
    await u.close();
    assert.equal(directIoStats().inPlaceBytes, before2.inPlaceBytes, 'unaligned data is never written in place');
    assert.ok(readFileSync(upath).equals(Buffer.from(unaligned)), `${unaligned.length} unaligned bytes: the file is the data`);
  }
});
