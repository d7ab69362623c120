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
import { directSlots } from './direct-io.ts';
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
