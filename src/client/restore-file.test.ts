/**
 * restoreToFile onto devices: an image restored onto a block device (a loop device here) lands
 * byte for byte and is synced; a character device such as /dev/null takes the bytes without an
 * fsync(2), which it would refuse with EINVAL; neither is touched without `overwrite`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isHoldfastError } from '../core/errors.ts';
import { pseudoRandom } from '../../test/helpers/seeded.ts';
import { makeTempDir } from '../../test/helpers/tmp.ts';
import { restoreToFile } from './restore-file.ts';

async function* piecesOf(content: Uint8Array, size = 65_537): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < content.length; at += size) yield content.subarray(at, at + size);
}

test('restoreToFile writes an image onto /dev/null with overwrite (no fsync of a character device)', async () => {
  const content = pseudoRandom(300_000, 7);
  assert.equal(await restoreToFile('/dev/null', piecesOf(content), true), content.length);
});

test('restoreToFile refuses an existing device without overwrite, before reading a piece', async () => {
  let asked = false;
  async function* pieces(): AsyncGenerator<Uint8Array> {
    asked = true;
    yield new Uint8Array(1);
  }
  await assert.rejects(restoreToFile('/dev/null', pieces(), false), (e: unknown) => isHoldfastError(e, 'ALREADY_EXISTS'));
  assert.equal(asked, false);
});

test('restoreToFile writes an image onto a block device byte for byte (a loop device)', async (t) => {
  const dir = makeTempDir('holdfast-restore-dev-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const backing = join(dir, 'disk');
  writeFileSync(backing, Buffer.alloc(4 << 20, 0xee));
  let device: string;
  try {
    device = execFileSync('losetup', ['--find', '--show', backing], { encoding: 'utf8' }).trim();
  } catch (e) {
    t.skip(`no loop device here (${(e as Error).message.split('\n')[0]})`);
    return;
  }
  let attached = true;
  t.after(() => {
    if (attached) execFileSync('losetup', ['--detach', device]);
  });
  // zero blocks too: a device gets every byte, no holes
  const content = Buffer.concat([pseudoRandom(1 << 20, 3), Buffer.alloc(1 << 20), pseudoRandom(12_345, 4)]);
  assert.equal(await restoreToFile(device, piecesOf(content), true), content.length);
  execFileSync('losetup', ['--detach', device]);
  attached = false;
  const after = readFileSync(backing);
  assert.ok(after.subarray(0, content.length).equals(content), 'the restored bytes');
  assert.ok(after.subarray(content.length).equals(Buffer.alloc(after.length - content.length, 0xee)), 'the rest of the device untouched');
});
