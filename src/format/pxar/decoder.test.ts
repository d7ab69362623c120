import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../../core/errors.ts';
import { PxarEncoder } from './encoder.ts';
import { decodePxar, listPxar } from './decoder.ts';
import { FIXTURE_SKIP, readFixture } from './fixtures.ts';
import { plainMetadata, type PxarMetadata } from './metadata.ts';
import { pathText } from './names.ts';
import { concat, describeEvents, streamOf } from './testing.ts';
import type { PxarEntry } from './entry.ts';

const enc = new TextEncoder();
const meta = (mode: number, id = 0): PxarMetadata => plainMetadata({ mode, flags: 0n, uid: id, gid: id, mtime: { secs: 0n, nanos: 0 } });
const coded = (code: string) => (e: unknown) => isHoldfastError(e) && e.code === code;

async function drain(bytes: Uint8Array, opts: Parameters<typeof decodePxar>[1] = {}): Promise<void> {
  for await (const ev of decodePxar(streamOf(bytes, 5), opts)) void ev;
}

const modeOf = (e: PxarEntry): number => ('metadata' in e ? e.metadata.stat.mode : -1);

test('decodePxar reads derived/example-v1.pxar back: root 040755, file "a" 0100644 with "hi"', { skip: FIXTURE_SKIP }, async () => {
  const events = [];
  for await (const ev of decodePxar(streamOf(readFixture('derived/example-v1.pxar'), 3))) events.push(ev);
  assert.deepEqual(events.map((e) => e.type), ['entry', 'entry', 'data', 'data', 'directory-end']);
  const entries = events.flatMap((e) => (e.type === 'entry' ? [e.entry] : []));
  assert.deepEqual(entries.map((e) => [e.kind, pathText(e.path), modeOf(e)]), [['directory', '', 0o40755], ['file', 'a', 0o100644]]);
  const data = concat(events.flatMap((e) => (e.type === 'data' ? [e.bytes] : [])));
  assert.equal(Buffer.from(data).toString(), 'hi');
});

test('decodePxar reads derived/example-v2.mpxar with its .ppxar: PAYLOAD_REF(16, 2) and data "hi"', { skip: FIXTURE_SKIP }, async () => {
  const out = await describeEvents(decodePxar(streamOf(readFixture('derived/example-v2.mpxar'), 7), { payload: streamOf(readFixture('derived/example-v2.ppxar'), 4) }));
  const file = JSON.parse(out[1] ?? '{}') as Record<string, unknown>;
  assert.equal(file['payloadOffset'], 16);
  assert.equal(file['size'], 2);
  assert.equal(file['data'], Buffer.from('hi').toString('hex'));
  const listed = await listPxar(streamOf(readFixture('derived/example-v2.mpxar')));
  assert.deepEqual(listed.map((e) => pathText(e.path)), ['', 'a']);
});

async function upstreamListing(name: string, firstOffset: number): Promise<void> {
  const preludes: Uint8Array[] = [];
  const entries: PxarEntry[] = [];
  for await (const ev of decodePxar(streamOf(readFixture(`upstream/${name}`), 4096))) {
    if (ev.type === 'prelude') preludes.push(ev.bytes);
    if (ev.type === 'entry') entries.push(ev.entry);
  }
  assert.equal(entries.length, 111);
  const [root, ...rest] = entries;
  assert.equal(root?.kind, 'directory');
  assert.equal(root && modeOf(root), 0o40777);
  const dirs = rest.filter((e) => e.kind === 'directory');
  const files = rest.filter((e) => e.kind === 'file');
  assert.deepEqual(dirs.map((d) => pathText(d.path)), Array.from({ length: 10 }, (_, i) => `folder_${i}`));
  assert.equal(files.length, 100);
  files.forEach((f, i) => {
    assert.equal(pathText(f.path), `folder_${Math.floor(i / 10)}/file_${i % 10}`);
    assert.equal(f.size, 1048576);
    assert.equal(f.payloadOffset, firstOffset + i * 1048592);
    assert.equal(f.metadata.stat.mode, 0o100777);
    assert.deepEqual([f.metadata.stat.uid, f.metadata.stat.gid, f.metadata.stat.mtime], [1000, 1000, { secs: 0n, nanos: 0 }]);
  });
  assert.equal(preludes.length, name.includes('expected') ? 1 : 0);
  assert.equal(preludes[0]?.length ?? 0, 0);
}

test('decodePxar lists upstream backup-client-pxar-data.mpxar: 10 folders × 10 files of 1 MiB, refs 16 + k·1048592', { skip: FIXTURE_SKIP }, async () => {
  await upstreamListing('backup-client-pxar-data.mpxar', 16);
});

test('decodePxar lists upstream backup-client-pxar-expected.mpxar: empty prelude, reused refs 32 + k·1048592', { skip: FIXTURE_SKIP }, async () => {
  await upstreamListing('backup-client-pxar-expected.mpxar', 32);
});

const LEGACY_HEX = [
  'ffce1c1c0a85da113000000000000000ed410000000000000000000000000000e8030000e80300000070d0f2581cda13',
  'b317390621117016190000000000000066696c652e74787400',
  'ffce1c1c0a85da113000000000000000a4810000000000000000000000000000e8030000e80300000070d0f2581cda13',
  '251a7c0b1b7a14282b0000000000000054686973206973206120736d616c6c20746578742066696c652e0a',
  '1d73d542a64fec2f4000000000000000', '14dac330f6647796', '3000000000000000', '1b00000000000000',
  '55153e755bed5eef', 'a400000000000000', '1800000000000000',
].join('');

test('decodePxar reads the legacy ENTRY_V1 archive of upstream tests/compat.rs (VECTORS.md §2.5)', async () => {
  const legacy = Buffer.from(LEGACY_HEX, 'hex');
  assert.equal(legacy.length, 228);
  const out = await describeEvents(decodePxar(streamOf(legacy), { verifyGoodbye: false }));
  const [root, file] = out.map((s) => (s.startsWith('{') ? (JSON.parse(s) as Record<string, unknown>) : {}));
  assert.deepEqual(root?.['metadata'], { stat: { mode: 0o40755, flags: '0n', uid: 1000, gid: 1000, mtime: { secs: '1430487000n', nanos: 0 } }, xattrs: [], acl: { users: [], groups: [], defaultUsers: [], defaultGroups: [] } });
  assert.equal(file?.['kind'], 'file');
  assert.equal(file?.['size'], 27);
  assert.equal(Buffer.from(String(file?.['data']), 'hex').toString(), 'This is a small text file.\n');
  // Its goodbye values are deliberately non-standard, so the default verification rejects it.
  await assert.rejects(drain(legacy), coded('CORRUPT'));
});

test('decodePxar rejects empty input as TRUNCATED and foreign bytes as BAD_MAGIC', async () => {
  await assert.rejects(drain(new Uint8Array(0)), coded('TRUNCATED'));
  await assert.rejects(drain(Uint8Array.of(0x42, 0xab, 0x38, 0x07, 0xbe, 0x83, 0x70, 0xa1, 16, 0, 0, 0, 0, 0, 0, 0)), coded('BAD_MAGIC'));
});

test('decodePxar rejects every strict prefix of an archive as TRUNCATED and a trailing byte as CORRUPT', { skip: FIXTURE_SKIP }, async () => {
  const archive = readFixture('derived/example-v1.pxar');
  for (let cut = 1; cut < archive.length; cut++) await assert.rejects(drain(archive.subarray(0, cut)), coded('TRUNCATED'), `cut ${cut}`);
  await assert.rejects(drain(concat([archive, Uint8Array.of(0)])), coded('CORRUPT'));
});

function archiveWithNames(names: readonly string[]): Uint8Array {
  const e = new PxarEncoder(meta(0o40755));
  for (const n of names) {
    e.beginFile(enc.encode(n), meta(0o100644), 0);
    e.endFile();
  }
  e.finish();
  return concat(e.takeArchive());
}

test('decodePxar refuses names that are ".", "..", contain "/" or are duplicated (path traversal) with CORRUPT', async () => {
  const original = archiveWithNames(['xy']);
  for (const bad of ['..', 'a/', '/a', 'x\0']) {
    const patched = Buffer.from(original);
    patched.set(enc.encode(bad), patched.indexOf('xy'));
    await assert.rejects(drain(patched), (e) => isHoldfastError(e, 'CORRUPT'), bad);
  }
  const dotdot = Buffer.from(original);
  dotdot.set(enc.encode('..'), dotdot.indexOf('xy'));
  await assert.rejects(drain(dotdot), (e) => isHoldfastError(e, 'CORRUPT') && e.details['reason'] === 'unsafe-name');
  await assert.rejects(drain(archiveWithNames(['a', 'a'])), (e) => isHoldfastError(e, 'CORRUPT') && /duplicate/.test(e.message));
});

test('decodePxar refuses an empty name (FILENAME holding only its NUL) with CORRUPT', async () => {
  const original = Buffer.from(archiveWithNames(['x']));
  const at = original.indexOf('x\0') - 16; // FILENAME header: full_size 18 → 17, then drop the 'x'
  const patched = Buffer.concat([original.subarray(0, at + 8), Buffer.from([17, 0, 0, 0, 0, 0, 0, 0]), original.subarray(at + 16 + 1)]);
  await assert.rejects(drain(patched), coded('CORRUPT'));
});

test('decodePxar refuses an entry whose mode disagrees with its kind, and split items in a unified archive', async () => {
  const e = new PxarEncoder(meta(0o40755));
  e.addSymlink(enc.encode('s'), meta(0o120777), enc.encode('target'));
  e.finish();
  const archive = Buffer.from(concat(e.takeArchive()));
  const modeAt = 56 + 18 + 16; // root ENTRY, FILENAME "s", ENTRY header
  archive.writeUInt32LE(0o100644, modeAt);
  await assert.rejects(drain(archive), coded('CORRUPT'));
  const split = new PxarEncoder(meta(0o40755), { split: true });
  split.beginFile(enc.encode('f'), meta(0o100644), 1);
  split.writeFileData(Uint8Array.of(1));
  split.endFile();
  split.finish();
  const withoutVersion = concat(split.takeArchive()).subarray(24);
  await assert.rejects(drain(withoutVersion), (err) => isHoldfastError(err, 'CORRUPT') && /PAYLOAD_REF in a unified/.test(err.message));
});

test('decodePxar checks the payload stream: missing start marker is BAD_MAGIC, a wrong reference CORRUPT', { skip: FIXTURE_SKIP }, async () => {
  const mpxar = readFixture('derived/example-v2.mpxar');
  const ppxar = readFixture('derived/example-v2.ppxar');
  await assert.rejects(drain(mpxar, { payload: streamOf(ppxar.subarray(16)) }), coded('BAD_MAGIC'));
  const shifted = concat([ppxar.subarray(0, 16), new Uint8Array(1), ppxar.subarray(16)]);
  await assert.rejects(drain(mpxar, { payload: streamOf(shifted) }), coded('CORRUPT'));
  await assert.rejects(drain(mpxar, { payload: streamOf(ppxar.subarray(0, 30)) }), coded('TRUNCATED'));
});
