import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../../test/helpers/tmp.ts';
import { smallFileReader, smallFileReaderNow } from './small-file-reader.ts';
import { mountLoopFs } from '../../test/helpers/loop-fs.ts';

const read = smallFileReader();
const skip = read === undefined ? 'the native addon is not built (npm run build)' : false;

test('a small file is read whole in one task; a file that shrank reads short', { skip }, async () => {
  const dir = makeTempDir('holdfast-read-');
  const file = join(dir, 'f');
  const content = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 251));
  writeFileSync(file, content);
  assert.deepEqual(await read!(Buffer.from(file), content.length), { data: content });
  const shrunk = await read!(Buffer.from(file), content.length + 100); // lstat said more than is there now
  assert.ok('data' in shrunk && shrunk.data.equals(content));
  const part = await read!(Buffer.from(file), 10); // grew since: only what lstat said is read
  assert.ok('data' in part && part.data.equals(content.subarray(0, 10)));
  assert.deepEqual(await read!(Buffer.from(join(dir, 'f')), 0), { data: Buffer.alloc(0) });
});

test('failures come back as node:fs errors: code and syscall, a final symlink never followed', { skip }, async () => {
  const dir = makeTempDir('holdfast-read-');
  const missing = await read!(Buffer.from(join(dir, 'gone')), 10);
  assert.ok('error' in missing);
  assert.equal((missing.error as NodeJS.ErrnoException).code, 'ENOENT');
  assert.equal((missing.error as NodeJS.ErrnoException).syscall, 'open');
  writeFileSync(join(dir, 'target'), 'secret');
  symlinkSync(join(dir, 'target'), join(dir, 'link'));
  const link = await read!(Buffer.from(join(dir, 'link')), 10);
  assert.ok('error' in link && (link.error as NodeJS.ErrnoException).code === 'ELOOP');
  mkdirSync(join(dir, 'sub'));
  const sub = await read!(Buffer.from(join(dir, 'sub')), 10);
  assert.ok('error' in sub && (sub.error as NodeJS.ErrnoException).code === 'EISDIR');
  assert.equal((sub.error as NodeJS.ErrnoException).syscall, 'read');
});

const readNow = smallFileReaderNow();
const skipNow = readNow === undefined ? 'the native addon is not built (npm run build)' : false;

test('readfilenow: failures are the errors readfile gives; a FIFO or a directory (no longer a regular file) is left to readfile, never waited for', { skip: skipNow }, async () => {
  const dir = makeTempDir('holdfast-readnow-');
  const missing = readNow!(Buffer.from(join(dir, 'gone')), 10);
  assert.ok(missing !== undefined && 'error' in missing);
  assert.equal((missing.error as NodeJS.ErrnoException).code, 'ENOENT');
  assert.equal((missing.error as NodeJS.ErrnoException).syscall, 'open');
  writeFileSync(join(dir, 'target'), 'secret');
  symlinkSync(join(dir, 'target'), join(dir, 'link'));
  const link = readNow!(Buffer.from(join(dir, 'link')), 10);
  assert.ok(link !== undefined && 'error' in link && (link.error as NodeJS.ErrnoException).code === 'ELOOP');
  execFileSync('mkfifo', [join(dir, 'fifo')]); // opened for reading without O_NONBLOCK, this would block until a writer came
  assert.equal(readNow!(Buffer.from(join(dir, 'fifo')), 10), undefined);
  mkdirSync(join(dir, 'sub'));
  assert.equal(readNow!(Buffer.from(join(dir, 'sub')), 10), undefined);
  const sub = await read!(Buffer.from(join(dir, 'sub')), 10);
  assert.ok('error' in sub && (sub.error as NodeJS.ErrnoException).code === 'EISDIR');
});

test('readfilenow reads a cached file at once, as readfile would, and answers undefined for one whose pages are not cached (ext4)', { skip: skipNow }, async (t) => {
  // on a disk filesystem: tmpfs, where the other tests' temp dirs live, refuses RWF_NOWAIT
  // (EOPNOTSUPP), which also answers undefined
  const fs = mountLoopFs('ext4', 32, 1000);
  if (typeof fs === 'string') return t.skip(fs);
  try {
    const file = join(fs.mountPoint, 'f');
    const content = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 251));
    writeFileSync(file, content); // just written: in the page cache
    assert.deepEqual(readNow!(Buffer.from(file), content.length), { data: content });
    const shrunk = readNow!(Buffer.from(file), content.length + 100); // lstat said more than is there now
    assert.ok(shrunk !== undefined && 'data' in shrunk && shrunk.data.equals(content));
    assert.deepEqual(readNow!(Buffer.from(file), 10), { data: content.subarray(0, 10) }); // grew since: only what lstat said
    assert.deepEqual(readNow!(Buffer.from(file), 0), { data: Buffer.alloc(0) });
    fs.remount(); // drops this filesystem's page cache, nothing else's
    assert.equal(readNow!(Buffer.from(file), content.length), undefined);
    assert.deepEqual(await read!(Buffer.from(file), content.length), { data: content });
    assert.deepEqual(readNow!(Buffer.from(file), content.length), { data: content });
  } finally {
    fs.cleanup();
  }
});
