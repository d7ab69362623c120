import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../../core/errors.ts';
import { PxarEncoder } from './encoder.ts';
import { FIXTURE_SKIP, readFixture } from './fixtures.ts';
import { plainMetadata, type PxarMetadata } from './metadata.ts';
import { concat } from './testing.ts';

const enc = new TextEncoder();
const meta = (mode: number, id = 0): PxarMetadata => plainMetadata({ mode, flags: 0n, uid: id, gid: id, mtime: { secs: 0n, nanos: 0 } });

function exampleTree(split: boolean): PxarEncoder {
  const e = new PxarEncoder(meta(0o40755), { split });
  e.beginFile(enc.encode('a'), meta(0o100644), 2);
  e.writeFileData(enc.encode('hi'));
  e.endFile();
  e.finish();
  return e;
}

test('PxarEncoder writes derived/example-v1.pxar byte for byte (pxar-format.md §7.1)', { skip: FIXTURE_SKIP }, () => {
  assert.deepEqual(concat(exampleTree(false).takeArchive()), readFixture('derived/example-v1.pxar'));
});

test('PxarEncoder in split mode writes derived/example-v2.mpxar and .ppxar byte for byte (§7.2)', { skip: FIXTURE_SKIP }, () => {
  const e = exampleTree(true);
  assert.deepEqual(concat(e.takeArchive()), readFixture('derived/example-v2.mpxar'));
  assert.deepEqual(concat(e.takePayload()), readFixture('derived/example-v2.ppxar'));
});

/** testdir/folder_{0..9}/file_{0..9}, modes 040777/0100777, uid/gid 1000, mtime 0 (upstream/VECTORS.md). */
function upstreamTree(addFile: (e: PxarEncoder, name: Uint8Array, index: number) => void, e: PxarEncoder): Uint8Array {
  for (let d = 0; d < 10; d++) {
    e.enterDirectory(enc.encode(`folder_${d}`), meta(0o40777, 1000));
    for (let f = 0; f < 10; f++) addFile(e, enc.encode(`file_${f}`), d * 10 + f);
    e.leaveDirectory();
  }
  e.finish();
  return concat(e.takeArchive());
}

test('PxarEncoder regenerates upstream backup-client-pxar-data.mpxar (100 new 1 MiB files) byte for byte', { skip: FIXTURE_SKIP }, () => {
  const zeros = new Uint8Array(1024 * 1024);
  let payloadBytes = 0;
  const e = new PxarEncoder(meta(0o40777, 1000), { split: true });
  const archive = upstreamTree((en, name) => {
    en.beginFile(name, meta(0o100777, 1000), zeros.length);
    en.writeFileData(zeros);
    en.endFile();
    payloadBytes += concat(en.takePayload()).length;
  }, e);
  payloadBytes += concat(e.takePayload()).length;
  assert.deepEqual(archive, readFixture('upstream/backup-client-pxar-data.mpxar'));
  assert.equal(payloadBytes, 104859232, 'payload stream length = last chunk end in the .ppxar.didx');
});

test('PxarEncoder regenerates upstream backup-client-pxar-expected.mpxar (reused payloads, empty prelude)', { skip: FIXTURE_SKIP }, () => {
  const e = new PxarEncoder(meta(0o40777, 1000), { split: true, prelude: new Uint8Array(0) });
  e.skipPayload(104859232); // the previous .ppxar, re-injected as whole chunks
  const archive = upstreamTree((en, name, i) => en.addFileRef(name, meta(0o100777, 1000), 32 + i * 1048592, 1048576), e);
  assert.deepEqual(archive, readFixture('upstream/backup-client-pxar-expected.mpxar'));
});

test('PxarEncoder refuses misuse with coded errors', () => {
  const code = (c: string) => (e: unknown) => isHoldfastError(e) && e.code === c;
  assert.throws(() => new PxarEncoder(meta(0o100644)), code('INVALID_ARGUMENT'));
  assert.throws(() => new PxarEncoder(meta(0o40755), { prelude: new Uint8Array(0) }), code('INVALID_ARGUMENT'));
  const e = new PxarEncoder(meta(0o40755));
  assert.throws(() => e.beginFile(enc.encode('..'), meta(0o100644), 0), code('INVALID_ARGUMENT'));
  assert.throws(() => e.beginFile(enc.encode('a/b'), meta(0o100644), 0), code('INVALID_ARGUMENT'));
  assert.throws(() => e.enterDirectory(enc.encode('d'), meta(0o100644)), code('INVALID_ARGUMENT'));
  assert.throws(() => e.addSymlink(enc.encode('s'), meta(0o120777), enc.encode('x\0y')), code('INVALID_ARGUMENT'));
  e.beginFile(enc.encode('f'), meta(0o100644), 3);
  assert.throws(() => e.writeFileData(new Uint8Array(4)), code('SIZE_MISMATCH'));
  e.writeFileData(new Uint8Array(2));
  assert.throws(() => e.endFile(), code('SIZE_MISMATCH'));
  assert.throws(() => e.finish(), code('INVALID_ARGUMENT'));
  e.writeFileData(new Uint8Array(1));
  e.endFile();
  assert.throws(() => e.leaveDirectory(), code('INVALID_ARGUMENT'));
  assert.throws(() => e.addHardlink(enc.encode('h'), enc.encode('f'), e.archivePosition), code('INVALID_ARGUMENT'));
  e.finish();
  assert.throws(() => e.beginFile(enc.encode('g'), meta(0o100644), 0), code('INVALID_ARGUMENT'));
});

test('PxarEncoder.takeArchive hands out pieces that concatenate to the whole stream, in order', () => {
  const e = new PxarEncoder(meta(0o40755));
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < 2000; i++) {
    e.beginFile(enc.encode(`f${i}`), meta(0o100644), 1);
    e.writeFileData(Uint8Array.of(i & 0xff));
    e.endFile();
    pieces.push(...e.takeArchive());
  }
  e.finish();
  pieces.push(...e.takeArchive());
  assert.equal(concat(pieces).length, e.archivePosition);
  assert.ok(pieces.every((p) => p.length <= 64 * 1024));
});
