/**
 * Restores keep holes, as PBS's extractor does: an image restored to a file (restoreToFile) and a
 * file in a directory archive (extractPxar), both checked with `stat` blocks and byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pseudoRandom } from '../../test/helpers/seeded.ts';
import { makeTempDir } from '../../test/helpers/tmp.ts';
import { createPxarStream } from './pxar-create.ts';
import { extractPxar } from './pxar-extract.ts';
import { restoreToFile } from './restore-file.ts';

const MIB = 1024 * 1024;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = makeTempDir('holdfast-sparse-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** 8 KiB + 1 bytes of data, a 3 MiB zero run, 100 bytes of data, then 2 MiB of zeros at the end. */
function sparseContent(): Buffer {
  return Buffer.concat([pseudoRandom(8193, 1), Buffer.alloc(3 * MIB), pseudoRandom(100, 2), Buffer.alloc(2 * MIB)]);
}

const allocated = (path: string): number => statSync(path).blocks * 512;

test('restoreToFile writes an image exactly, zero blocks as holes, a trailing one too (stat blocks)', async (t) => {
  const path = join(tempDir(t), 'disk.img');
  const content = sparseContent();
  async function* pieces(): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < content.length; at += 65_537) yield content.subarray(at, at + 65_537);
  }
  assert.equal(await restoreToFile(path, pieces(), false), content.length);
  assert.ok(readFileSync(path).equals(content));
  assert.equal(statSync(path).size, content.length);
  assert.ok(allocated(path) <= 64 * 1024, `only the data blocks are allocated: ${allocated(path)} bytes`);
});

test('extractPxar restores a sparse file with its holes (stat blocks) and its exact bytes', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  const file = join(src, 'disk.raw');
  const content = sparseContent();
  mkdirSync(src);
  writeFileSync(file, content.subarray(0, 8193));
  truncateSync(file, content.length);
  const h = await open(file, 'r+');
  await h.write(content, 8193 + 3 * MIB, 100, 8193 + 3 * MIB);
  await h.close();
  const out = join(dir, 'out');
  await extractPxar(createPxarStream(src), out);
  assert.ok(readFileSync(join(out, 'disk.raw')).equals(content));
  assert.ok(allocated(join(out, 'disk.raw')) <= 64 * 1024, `restored with holes: ${allocated(join(out, 'disk.raw'))} bytes allocated of ${content.length}`);
});
