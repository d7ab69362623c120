/**
 * FileSink on real filesystems: the exact bytes in pieces of any size across several buffers,
 * zero blocks as holes (stat blocks), O_DIRECT really on the descriptor (tmpfs, loop-mounted
 * ext4), the fall-back to a buffered descriptor when a direct write is refused, a failed write
 * failing `finish`, and the buffer bound over many files at once. And extractPxar on a
 * filesystem that refuses O_DIRECT at open (ramfs), and on one that runs out of space while its
 * writes are in the background: the restore fails and leaves no incomplete file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants as fsc, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { kernelFlags, O_DIRECT } from '../../test/helpers/fdinfo.ts';
import { onLoopFs } from '../../test/helpers/loop-fs.ts';
import { pseudoRandom } from '../../test/helpers/seeded.ts';
import { makeTempDir } from '../../test/helpers/tmp.ts';
import { AlignedPool } from '../core/aligned-pool.ts';
import { isHoldfastError } from '../core/errors.ts';
import { createPxarStream } from './pxar-create.ts';
import { extractPxar } from './pxar-extract.ts';
import { FileSink } from './restore-sink.ts';

const MIB = 1024 * 1024;
const FLAGS = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL;
const pool = new AlignedPool(3, MIB);

/** Data, a 2 MiB + 5 zero run (holes), data across a buffer boundary, and a trailing zero run. */
const DATA_BYTES = 300_001 + 1_500_000;
function content(): Buffer {
  return Buffer.concat([pseudoRandom(300_001, 1), Buffer.alloc(2 * MIB + 5), pseudoRandom(1_500_000, 2), Buffer.alloc(MIB + 100)]);
}

const allocated = (path: string): number => statSync(path).blocks * 512;

async function writeInPieces(sink: FileSink, bytes: Uint8Array, piece: number): Promise<void> {
  for (let at = 0; at < bytes.length; at += piece) await sink.write(bytes.subarray(at, at + piece));
  await sink.finish();
  await sink.close();
}

async function sinkOn(dir: string, direct: boolean): Promise<void> {
  const path = join(dir, direct ? 'direct' : 'buffered');
  const h = await open(path, FLAGS | (direct ? fsc.O_DIRECT : 0), 0o600);
  assert.equal((kernelFlags(path) & O_DIRECT) !== 0, direct, 'O_DIRECT on the descriptor');
  const sink = new FileSink(h, Buffer.from(path), direct, pool);
  const bytes = content();
  await writeInPieces(sink, bytes, 65_537);
  assert.equal(sink.direct, direct);
  assert.equal(statSync(path).size, bytes.length);
  assert.ok(readFileSync(path).equals(bytes), 'exactly the data');
  // only the blocks that hold data (two of them partly) are allocated
  assert.ok(allocated(path) <= DATA_BYTES + 4 * 4096, `zero runs are holes: ${allocated(path)} bytes allocated of ${bytes.length}`);
}

test('FileSink writes exactly the data, zero blocks as holes, with and without O_DIRECT (tmpfs)', async () => {
  const dir = makeTempDir('sink-tmpfs-');
  await sinkOn(dir, true);
  await sinkOn(dir, false);
  assert.deepEqual(pool.stats().free, pool.stats().made, 'every buffer is back in the pool');
});

test('FileSink with O_DIRECT on a loop-mounted ext4 writes exactly the data, with holes', (t) => onLoopFs(t, 'ext4', 64, 1000, (mnt) => sinkOn(mnt, true)));

test('FileSink: sizes around a block, an empty file, and a file that is one hole', async () => {
  const dir = makeTempDir('sink-sizes-');
  for (const [i, bytes] of [Buffer.alloc(0), pseudoRandom(1, 3), pseudoRandom(4095, 4), pseudoRandom(4096, 5), pseudoRandom(4097, 6), Buffer.alloc(3 * MIB)].entries()) {
    const path = join(dir, `f${i}`);
    await writeInPieces(new FileSink(await open(path, FLAGS | fsc.O_DIRECT, 0o600), Buffer.from(path), true, pool), bytes, 1000);
    assert.ok(readFileSync(path).equals(bytes), `file ${i} (${bytes.length} bytes)`);
  }
  assert.equal(allocated(join(dir, 'f5')), 0, 'all zeros: one hole');
});

/** A real descriptor whose writes first fail as told (a fault wrapper, as the tests of the Fs port do). */
function faulty(h: FileHandle, fail: (n: number) => string | undefined): FileHandle {
  let n = 0;
  return new Proxy(h, {
    get(target, prop, receiver) {
      if (prop !== 'write') return Reflect.get(target, prop, receiver) as unknown;
      return async (...args: Parameters<FileHandle['write']>) => {
        const code = fail(++n);
        if (code !== undefined) throw Object.assign(new Error(`injected ${code}`), { code });
        return target.write(...args);
      };
    },
  });
}

test('FileSink: a direct write the filesystem refuses (EINVAL) is made again through a buffered descriptor', async () => {
  const path = join(makeTempDir('sink-einval-'), 'f');
  const h = await open(path, FLAGS | fsc.O_DIRECT, 0o600);
  const sink = new FileSink(faulty(h, () => 'EINVAL'), Buffer.from(path), true, pool);
  const bytes = content();
  await writeInPieces(sink, bytes, 1 << 20);
  assert.equal(sink.direct, false, 'every later write goes through the buffered descriptor');
  assert.ok(readFileSync(path).equals(bytes));
});

test('FileSink: a failed write fails finish and every later write, and close still closes', async () => {
  const path = join(makeTempDir('sink-eio-'), 'f');
  const h = await open(path, FLAGS, 0o600);
  const sink = new FileSink(faulty(h, (n) => (n === 2 ? 'EIO' : undefined)), Buffer.from(path), false, pool);
  const bytes = pseudoRandom(4 * MIB, 7);
  let failure: unknown;
  try {
    for (let at = 0; at < bytes.length; at += MIB) await sink.write(bytes.subarray(at, at + MIB));
    await sink.finish();
  } catch (e) {
    failure = e;
  }
  assert.equal((failure as NodeJS.ErrnoException | undefined)?.code, 'EIO', 'the write error, not success');
  await assert.rejects(sink.write(bytes.subarray(0, 10)), { code: 'EIO' });
  await sink.close();
  await assert.rejects(h.stat(), { code: 'EBADF' }, 'the descriptor is closed');
  assert.equal(pool.stats().free, pool.stats().made, 'every buffer is back in the pool');
});

test('FileSink: many files at once never hold more buffers than the pool allows', async () => {
  const dir = makeTempDir('sink-bound-');
  await Promise.all(
    Array.from({ length: 12 }, async (_, i) => {
      const path = join(dir, `f${i}`);
      await writeInPieces(new FileSink(await open(path, FLAGS | fsc.O_DIRECT, 0o600), Buffer.from(path), true, pool), pseudoRandom(2 * MIB + i, i), 300_000);
    }),
  );
  assert.ok(pool.stats().made <= pool.max);
  assert.equal(pool.stats().free, pool.stats().made);
  for (let i = 0; i < 12; i++) assert.ok(readFileSync(join(dir, `f${i}`)).equals(pseudoRandom(2 * MIB + i, i)));
});

/** A tree with large files (written around the page cache) and small ones. */
function makeTree(root: string, bigFiles: number): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  mkdirSync(join(root, 'sub'), { recursive: true });
  for (let i = 0; i < bigFiles; i++) files.set(`sub/big${i}`, pseudoRandom(3 * MIB + i * 4099, 10 + i));
  files.set('small', pseudoRandom(1000, 9));
  files.set('sub/empty', new Uint8Array(0));
  for (const [name, bytes] of files) writeFileSync(join(root, name), bytes);
  return files;
}

test('extractPxar on a filesystem that refuses O_DIRECT (ramfs) restores through the cache, exactly', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to mount ramfs');
  const dir = makeTempDir('sink-ramfs-');
  const files = makeTree(join(dir, 'src'), 3);
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'ramfs', 'ramfs', mnt]);
  try {
    await extractPxar(createPxarStream(join(dir, 'src')), join(mnt, 'out'));
    for (const [name, bytes] of files) assert.ok(readFileSync(join(mnt, 'out', name)).equals(bytes), name);
  } finally {
    execFileSync('umount', [mnt]);
  }
});

test('extractPxar: a target that fills up while writes are in the background fails the restore and leaves no incomplete file', (t) =>
  onLoopFs(t, 'ext4', 16, 1000, async (mnt) => {
    const src = join(makeTempDir('sink-enospc-'), 'src');
    makeTree(src, 8); // 24 MiB of file data for a 16 MiB filesystem
    const out = join(mnt, 'out');
    await assert.rejects(extractPxar(createPxarStream(src), out), (e: unknown) => isHoldfastError(e) && e.details['errno'] === 'ENOSPC');
    for (const name of readdirSync(join(out, 'sub'))) {
      const original = readFileSync(join(src, 'sub', name));
      assert.ok(readFileSync(join(out, 'sub', name)).equals(original), `${name} is left only if complete`);
    }
  }));
