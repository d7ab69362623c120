/**
 * Restore reuses memory on both sides: the server reads chunk files into pooled buffers
 * (ReaderProtocol.dispatchPooled) and the client receives chunk answers into pooled buffers
 * (RestoreReader). A reused buffer must never leak bytes of an earlier chunk into a later,
 * shorter one. Here an image and a tree whose compressible chunks shrink from one to the next
 * (so each later chunk lands in a buffer that held a longer one) restore byte-identical.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliOk, fastRandom, startTestServer, type TestServer } from '../helpers/server-fixture.ts';

const KIB = 1024;
const MIB = 1024 * KIB;
const T0 = 1_800_000_000;

let srv: TestServer;
let work = '';

before(async () => {
  srv = await startTestServer();
  work = join(srv.dir, 'work');
  mkdirSync(work);
});

after(async () => {
  await srv?.close();
});

/** Compressible bytes, different per `salt`, so a leaked byte of another chunk shows. */
function text(length: number, salt: number): Buffer {
  const line = Buffer.from(`line of chunk ${salt}: ${'abcdefghij'.repeat(salt % 7 + 1)}\n`);
  const out = Buffer.alloc(length);
  for (let at = 0; at < length; at += line.length) line.copy(out, at);
  return out;
}

test('image restore: a shorter chunk after longer ones in reused buffers comes back byte-identical', { timeout: 120_000 }, async () => {
  // fixed 4 MiB chunks: text, random (plain, kept by the consumer), text, then a short text tail
  const image = Buffer.concat([text(4 * MIB, 1), fastRandom(4 * MIB, 2), text(4 * MIB, 3), text(3 * MIB, 4), text(100 * KIB + 7, 5)]);
  const path = join(work, 'disk.img');
  writeFileSync(path, image);
  cliOk(await srv.cli(['backup', `disk.img:${path}`, '--backup-id', 'reuse-img', '--backup-time', String(T0)]), 'backup');
  const target = join(work, 'restored.img');
  cliOk(await srv.cli(['restore', `host/reuse-img/${T0}`, 'disk.img', target]), 'restore');
  assert.ok(readFileSync(target).equals(image), 'restored image differs');
});

test('pxar restore: files of shrinking sizes in reused buffers come back byte-identical', { timeout: 120_000 }, async () => {
  const src = join(work, 'tree');
  mkdirSync(src);
  const files = new Map<string, Buffer>();
  const sizes = [9 * MIB, 6 * MIB + 11, 3 * MIB, 2 * MIB - 5, MIB, 300 * KIB, 40 * KIB, 1];
  for (const [i, size] of sizes.entries()) files.set(`f${i}`, i === 1 ? fastRandom(size, i) : text(size, 10 + i));
  for (const [name, data] of files) writeFileSync(join(src, name), data);
  cliOk(await srv.cli(['backup', `root.pxar:${src}`, '--backup-id', 'reuse-pxar', '--backup-time', String(T0)]), 'backup');
  const target = join(work, 'restored-tree');
  cliOk(await srv.cli(['restore', `host/reuse-pxar/${T0}`, 'root.pxar', target]), 'restore');
  for (const [name, data] of files) assert.ok(readFileSync(join(target, name)).equals(data), `${name} differs`);
});
