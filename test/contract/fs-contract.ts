/**
 * The `Fs` port contract as tests (see src/storage/fs-port.ts). One suite, run against every
 * adapter and wrapper by fs-contract.test.ts, so NodeFs and the power-loss simulator cannot drift
 * apart: the crash proofs are only worth something if SimFs behaves like the real thing.
 *
 * Durability itself cannot be observed through the port (only a crash shows it); here the sync
 * calls only have to resolve. The simulator's own tests cover what they make durable.
 */
import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../../src/core/errors.ts';
import type { ErrorCode } from '../../src/core/error-codes.ts';
import type { Fs } from '../../src/storage/fs-port.ts';

export interface FsUnderTest {
  readonly fs: Fs;
  /** An existing, empty directory the tests work in. */
  readonly root: string;
  /**
   * Moves a file's atime and mtime `ms` into the past. Needed when the adapter's clock cannot be
   * driven (the real one has coarse timestamps); omit it when every call advances the clock.
   */
  readonly age?: (path: string, ms: number) => Promise<void>;
  cleanup(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function pattern(length: number, salt: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + salt) & 0xff;
  return out;
}

async function writeFile(fs: Fs, path: string, data: Uint8Array): Promise<void> {
  const h = await fs.open(path, 'w');
  try {
    await h.write(data, 0);
  } finally {
    await h.close();
  }
}

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, errno?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isHoldfastError(e, code), `expected ${code}, got ${String(e)}`);
    if (errno !== undefined) assert.equal(e.details['errno'], errno);
    return true;
  });
}

export function fsContract(name: string, make: () => Promise<FsUnderTest>): void {
  const it = (title: string, body: (t: FsUnderTest) => Promise<void>): void => {
    test(title, async () => {
      const t = await make();
      try {
        await body(t);
      } finally {
        await t.cleanup();
      }
    });
  };

  suite(`Fs contract: ${name}`, () => {
    it('FileHandle.write then read returns the same bytes, across blocks and at odd offsets', async ({ fs, root }) => {
      const h = await fs.open(`${root}/f`, 'wx');
      const a = pattern(10_000, 1);
      const b = pattern(777, 2);
      await h.write(a, 0);
      await h.write(b, 4093);
      await h.close();
      const expected = new Uint8Array(a);
      expected.set(b, 4093);
      const r = await fs.open(`${root}/f`, 'r');
      assert.deepEqual(new Uint8Array(await r.read(0, 10_000)), expected);
      assert.deepEqual(new Uint8Array(await r.read(4000, 200)), expected.subarray(4000, 4200));
      await r.close();
      assert.deepEqual(new Uint8Array(await fs.readFile(`${root}/f`)), expected);
    });

    it('readFile with `into` returns exactly the file, shorter or longer than `into`, never its old bytes', async ({ fs, root }) => {
      const into = new Uint8Array(8192).fill(0xee); // a reused buffer still holding a previous file
      for (const [name, length] of [['short', 100], ['exact', 8192], ['long', 20_000], ['empty', 0]] as const) {
        const data = pattern(length, length % 251);
        await writeFile(fs, `${root}/${name}`, data);
        assert.deepEqual(new Uint8Array(await fs.readFile(`${root}/${name}`, into)), data, name);
      }
      await rejectsWith(fs.readFile(`${root}/missing`, into), 'NOT_FOUND', 'ENOENT');
    });

    it('FileHandle.read returns fewer bytes than asked only at end of file', async ({ fs, root }) => {
      await writeFile(fs, `${root}/f`, pattern(5000, 3));
      const h = await fs.open(`${root}/f`, 'r');
      assert.equal((await h.read(0, 5000)).length, 5000);
      assert.equal((await h.read(4990, 100)).length, 10);
      assert.equal((await h.read(5000, 100)).length, 0);
      assert.equal((await h.read(9000, 100)).length, 0);
      await h.close();
    });

    it('FileHandle.write past the end leaves a zero-filled hole and grows the size', async ({ fs, root }) => {
      const h = await fs.open(`${root}/f`, 'w');
      await h.write(enc.encode('end'), 9000);
      assert.equal((await h.stat()).size, 9003);
      await h.close();
      const data = await fs.readFile(`${root}/f`);
      assert.equal(data.length, 9003);
      assert.ok(data.subarray(0, 9000).every((x) => x === 0));
      assert.equal(dec.decode(data.subarray(9000)), 'end');
    });

    it('FileHandle.truncate shrinks the file and extends it with zeros', async ({ fs, root }) => {
      const h = await fs.open(`${root}/f`, 'w');
      await h.write(pattern(6000, 4), 0);
      await h.truncate(100);
      await h.truncate(5000);
      assert.equal((await h.stat()).size, 5000);
      await h.close();
      const data = await fs.readFile(`${root}/f`);
      assert.deepEqual(new Uint8Array(data.subarray(0, 100)), pattern(100, 4));
      assert.ok(data.subarray(100).every((x) => x === 0));
    });

    it("open 'w' truncates an existing file and 'r+' keeps it", async ({ fs, root }) => {
      await writeFile(fs, `${root}/f`, enc.encode('hello world'));
      const rw = await fs.open(`${root}/f`, 'r+');
      await rw.write(enc.encode('J'), 0);
      assert.equal(dec.decode(await rw.read(0, 100)), 'Jello world');
      await rw.close();
      await writeFile(fs, `${root}/f`, enc.encode('bye'));
      assert.equal(dec.decode(await fs.readFile(`${root}/f`)), 'bye');
    });

    it("open 'wx' on an existing file fails with ALREADY_EXISTS (EEXIST)", async ({ fs, root }) => {
      await writeFile(fs, `${root}/f`, enc.encode('x'));
      await rejectsWith(fs.open(`${root}/f`, 'wx'), 'ALREADY_EXISTS', 'EEXIST');
      assert.equal(dec.decode(await fs.readFile(`${root}/f`)), 'x');
    });

    it('every call on a missing path fails with NOT_FOUND and details.errno ENOENT', async ({ fs, root }) => {
      const missing = `${root}/missing`;
      await rejectsWith(fs.open(missing, 'r'), 'NOT_FOUND', 'ENOENT');
      await rejectsWith(fs.open(missing, 'r+'), 'NOT_FOUND', 'ENOENT');
      await rejectsWith(fs.open(`${missing}/f`, 'w'), 'NOT_FOUND', 'ENOENT');
      await rejectsWith(fs.readFile(missing), 'NOT_FOUND', 'ENOENT');
      await rejectsWith(fs.unlink(missing), 'NOT_FOUND', 'ENOENT');
      await rejectsWith(fs.rename(missing, `${root}/other`), 'NOT_FOUND', 'ENOENT');
      await rejectsWith(fs.rmdir(missing), 'NOT_FOUND', 'ENOENT');
      await rejectsWith(fs.readdir(missing), 'NOT_FOUND', 'ENOENT');
      await rejectsWith(fs.mkdir(`${missing}/sub`), 'NOT_FOUND', 'ENOENT');
      await rejectsWith(fs.touchAtime(missing), 'NOT_FOUND', 'ENOENT');
      await rejectsWith(fs.fsyncDir(missing), 'NOT_FOUND', 'ENOENT');
    });

    it('a handle rejects the direction it was not opened for with IO_ERROR', async ({ fs, root }) => {
      await writeFile(fs, `${root}/f`, enc.encode('data'));
      const r = await fs.open(`${root}/f`, 'r');
      await rejectsWith(r.write(enc.encode('x'), 0), 'IO_ERROR', 'EBADF');
      await r.close();
      const w = await fs.open(`${root}/f`, 'w');
      await rejectsWith(w.read(0, 1), 'IO_ERROR', 'EBADF');
      await w.close();
    });

    it('rename replaces an existing target atomically and keeps the moved inode', async ({ fs, root }) => {
      await writeFile(fs, `${root}/target`, enc.encode('old'));
      await writeFile(fs, `${root}/tmp`, enc.encode('new'));
      const ino = (await fs.stat(`${root}/tmp`))?.ino;
      await fs.rename(`${root}/tmp`, `${root}/target`);
      assert.equal(dec.decode(await fs.readFile(`${root}/target`)), 'new');
      assert.equal((await fs.stat(`${root}/target`))?.ino, ino);
      assert.equal(await fs.stat(`${root}/tmp`), undefined);
      assert.deepEqual(await fs.readdir(root), ['target']);
    });

    it('rename moves a directory together with its entries', async ({ fs, root }) => {
      await fs.mkdir(`${root}/a/b`, { recursive: true });
      await writeFile(fs, `${root}/a/b/f`, enc.encode('inside'));
      await fs.rename(`${root}/a`, `${root}/z`);
      assert.equal(dec.decode(await fs.readFile(`${root}/z/b/f`)), 'inside');
      assert.equal(await fs.stat(`${root}/a`), undefined);
    });

    it('readdir yields each entry once, without . and ..', async ({ fs, root }) => {
      await writeFile(fs, `${root}/b`, enc.encode('1'));
      await writeFile(fs, `${root}/a`, enc.encode('2'));
      await fs.mkdir(`${root}/c`);
      await writeFile(fs, `${root}/a`, enc.encode('3'));
      assert.deepEqual((await fs.readdir(root)).sort(), ['a', 'b', 'c']);
      assert.deepEqual(await fs.readdir(`${root}/c`), []);
    });

    it('stat resolves undefined for a missing path and describes files and directories', async ({ fs, root }) => {
      assert.equal(await fs.stat(`${root}/nope`), undefined);
      await writeFile(fs, `${root}/f`, pattern(1234, 5));
      await fs.mkdir(`${root}/d`);
      const f = await fs.stat(`${root}/f`);
      const d = await fs.stat(`${root}/d`);
      assert.ok(f !== undefined && d !== undefined);
      assert.deepEqual([f.isFile, f.isDirectory, f.isSymlink, f.size], [true, false, false, 1234]);
      assert.deepEqual([d.isFile, d.isDirectory, d.isSymlink], [false, true, false]);
      assert.notEqual(f.ino, d.ino);
    });

    it('mkdir recursive creates missing parents and tolerates an existing directory', async ({ fs, root }) => {
      await fs.mkdir(`${root}/x/y/z`, { recursive: true });
      await fs.mkdir(`${root}/x/y/z`, { recursive: true });
      await fs.mkdir(`${root}/x`, { recursive: true });
      assert.equal((await fs.stat(`${root}/x/y/z`))?.isDirectory, true);
    });

    it('mkdir without recursive fails on an existing path and on a missing parent', async ({ fs, root }) => {
      await fs.mkdir(`${root}/d`);
      await rejectsWith(fs.mkdir(`${root}/d`), 'ALREADY_EXISTS', 'EEXIST');
      await rejectsWith(fs.mkdir(`${root}/no/d`), 'NOT_FOUND', 'ENOENT');
    });

    it('rmdir removes an empty directory and fails on a non-empty one with DIRECTORY_NOT_EMPTY', async ({ fs, root }) => {
      await fs.mkdir(`${root}/d/e`, { recursive: true });
      await rejectsWith(fs.rmdir(`${root}/d`), 'DIRECTORY_NOT_EMPTY', 'ENOTEMPTY');
      await fs.rmdir(`${root}/d/e`);
      await fs.rmdir(`${root}/d`);
      assert.equal(await fs.stat(`${root}/d`), undefined);
    });

    it('unlink removes a file and leaves an open handle readable', async ({ fs, root }) => {
      await writeFile(fs, `${root}/f`, enc.encode('still here'));
      const h = await fs.open(`${root}/f`, 'r');
      await fs.unlink(`${root}/f`);
      assert.equal(await fs.stat(`${root}/f`), undefined);
      assert.equal(dec.decode(await h.read(0, 100)), 'still here');
      await h.close();
    });

    it('touchAtime moves atime forward and leaves mtime alone', async ({ fs, root, age }) => {
      const path = `${root}/f`;
      await writeFile(fs, path, enc.encode('chunk'));
      if (age !== undefined) await age(path, 3_600_000);
      const before = await fs.stat(path);
      await fs.touchAtime(path);
      const after = await fs.stat(path);
      assert.ok(before !== undefined && after !== undefined);
      assert.ok(after.atimeMs > before.atimeMs, `atime ${after.atimeMs} should be after ${before.atimeMs}`);
      assert.equal(after.mtimeMs, before.mtimeMs);
    });

    it('touchAtime with a time sets exactly that atime and leaves mtime alone', async ({ fs, root }) => {
      const path = `${root}/f`;
      await writeFile(fs, path, enc.encode('chunk'));
      const before = await fs.stat(path);
      const past = Date.UTC(2020, 0, 2, 3, 4, 5, 678);
      await fs.touchAtime(path, past);
      const after = await fs.stat(path);
      assert.equal(after?.atimeMs, past);
      assert.equal(after.mtimeMs, before?.mtimeMs);
    });

    it('FileHandle.sync, fsyncDir and syncfs resolve', async ({ fs, root }) => {
      const h = await fs.open(`${root}/f`, 'wx');
      await h.write(enc.encode('durable'), 0);
      await h.sync();
      await h.close();
      await fs.fsyncDir(root);
      await fs.syncfs(root);
      assert.equal(dec.decode(await fs.readFile(`${root}/f`)), 'durable');
    });

    it("open 'wx-direct' writes exactly the content, at sizes around the 4096 alignment and over several buffers; 'wx' rules apply", async ({ fs, root }) => {
      const MIB = 1024 * 1024;
      const sizes = [0, 1, 4095, 4096, 4097, 100_000, 4 * MIB + 64 * 1024, 4 * MIB + 64 * 1024 + 1, 9 * MIB + 5];
      for (const [i, size] of sizes.entries()) {
        const data = pattern(size, i);
        const h = await fs.open(`${root}/d${i}`, 'wx-direct');
        await h.write(data, 0);
        assert.equal((await h.stat()).size, size, `size after writing ${size} bytes`);
        await h.startWriteback();
        await h.sync();
        await h.close();
        assert.ok(Buffer.from(await fs.readFile(`${root}/d${i}`)).equals(data), `content of ${size} bytes`);
      }
      await rejectsWith(fs.open(`${root}/d1`, 'wx-direct'), 'ALREADY_EXISTS', 'EEXIST');
      await rejectsWith(fs.open(`${root}/missing/x`, 'wx-direct'), 'NOT_FOUND', 'ENOENT');
    });

    it('readFile with { direct } returns exactly the file, with and without `into`, at sizes around 4096 and over several buffers', async ({ fs, root }) => {
      const MIB = 1024 * 1024;
      const sizes = [0, 1, 4095, 4096, 4097, 4 * MIB + 64 * 1024, 9 * MIB + 5];
      for (const [i, size] of sizes.entries()) {
        const data = pattern(size, i + 50);
        await writeFile(fs, `${root}/r${i}`, data);
        assert.ok(Buffer.from(await fs.readFile(`${root}/r${i}`, undefined, { direct: true })).equals(data), `${size} bytes`);
        const into = new Uint8Array(5 * MIB);
        const viaInto = await fs.readFile(`${root}/r${i}`, into, { direct: true });
        assert.ok(Buffer.from(viaInto).equals(data), `${size} bytes into a 5 MiB buffer`);
      }
      await rejectsWith(fs.readFile(`${root}/none`, undefined, { direct: true }), 'NOT_FOUND', 'ENOENT');
    });

    it("many 'wx-direct' writes at once all complete (the aligned buffers are pooled and waited for)", async ({ fs, root }) => {
      const files = Array.from({ length: 40 }, (_, i) => ({ path: `${root}/c${i}`, data: pattern(70_000 + i, i) }));
      await Promise.all(
        files.map(async (f) => {
          const h = await fs.open(f.path, 'wx-direct');
          try {
            await h.write(f.data, 0);
          } finally {
            await h.close();
          }
        }),
      );
      for (const f of files) assert.ok(Buffer.from(await fs.readFile(f.path)).equals(f.data), f.path);
    });

    it('FileHandle.startWriteback resolves and changes nothing a reader sees', async ({ fs, root }) => {
      const h = await fs.open(`${root}/f`, 'wx');
      await h.write(enc.encode('on its way'), 0);
      await h.startWriteback();
      await h.close();
      assert.equal(dec.decode(await fs.readFile(`${root}/f`)), 'on its way');
    });
  });
}
