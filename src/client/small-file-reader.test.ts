import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../../test/helpers/tmp.ts';
import { smallFileReader } from './small-file-reader.ts';

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
