/**
 * `holdfast backup --change-detection-mode` through the real CLI and server: legacy, metadata
 * and data snapshots of one group, in mixed order, all restore identically with `holdfast
 * restore … root.pxar`; legacy uploads the catalog, split modes do not; metadata mode after a
 * legacy snapshot warns and reads everything; an unchanged metadata re-backup reads no file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { snapshotTree } from '../../src/client/pxar-test-tree.ts';
import { cliOk, startTestServer, type TestServer } from '../helpers/server-fixture.ts';
import { pseudoRandom } from '../helpers/seeded.ts';

const T0 = 1_800_000_000;
let srv: TestServer;
let src = '';
let time = T0;

before(async () => {
  srv = await startTestServer();
  src = join(srv.dir, 'src');
  mkdirSync(join(src, 'd'), { recursive: true });
  for (let i = 0; i < 8; i++) writeFileSync(join(src, 'd', `f${i}`), pseudoRandom(200_000 + i * 1000, i));
  writeFileSync(join(src, 'top.txt'), 'hello\n');
});

after(async () => {
  await srv?.close();
});

interface Report {
  readonly snapshot: string;
  readonly archives: {
    archive: string;
    size: number;
    uploadedChunks?: number;
    entries?: { files: number };
    files?: { read: number; unchanged: number };
    unreadBytes?: number;
  }[];
}

async function backup(mode?: string): Promise<{ report: Report; stderr: string }> {
  const args = ['backup', `root.pxar:${src}`, '--backup-id', 'cd', '--backup-time', String((time += 60)), '--output-format', 'json', ...(mode ? ['--change-detection-mode', mode] : [])];
  const r = cliOk(await srv.cli(args), `backup ${mode ?? '(default)'}`);
  return { report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}

async function restoresIdentically(snapshot: string): Promise<void> {
  const target = join(srv.dir, `restore-${snapshot.replace(/[/:]/g, '_')}`);
  cliOk(await srv.cli(['restore', snapshot, 'root.pxar', target]), `restore ${snapshot}`);
  assert.deepEqual(await snapshotTree(target, { skipRootOwner: true }), await snapshotTree(src, { skipRootOwner: true }));
  rmSync(target, { recursive: true, force: true });
}

test('holdfast backup --change-detection-mode: legacy, metadata and data snapshots of one group each restore identically', { timeout: 180_000 }, async () => {
  const legacy = await backup('legacy');
  assert.deepEqual(legacy.report.archives.map((a) => a.archive), ['root.pxar.didx', 'catalog.pcat1.didx']);

  const afterLegacy = await backup();
  assert.deepEqual(afterLegacy.report.archives.map((a) => a.archive), ['root.mpxar.didx', 'root.ppxar.didx']);
  assert.match(afterLegacy.stderr, /warning: root: the previous metadata archive could not be read.*reading every file/);

  const unchanged = await backup('metadata');
  assert.doesNotMatch(unchanged.stderr, /warning/);
  // from the second reuse on the archive is stable (offsets and goodbye sizes of reused files): nothing to upload
  const steady = await backup('metadata');
  for (const a of steady.report.archives) assert.equal(a.uploadedChunks, 0, `${a.archive} uploaded ${a.uploadedChunks} chunks`);
  // every file is counted, the reused ones too, and the payload archive was not read
  const [meta, payload] = steady.report.archives;
  assert.equal(meta?.entries?.files, 9);
  assert.deepEqual({ read: meta?.files?.read, unchanged: meta?.files?.unchanged }, { read: 0, unchanged: 9 });
  assert.ok(payload !== undefined && payload.unreadBytes !== undefined && payload.unreadBytes >= payload.size - 64, `payload unread: ${payload?.unreadBytes} of ${payload?.size}`);
  const text = cliOk(await srv.cli(['backup', `root.pxar:${src}`, '--backup-id', 'cd', '--backup-time', String((time += 60))]), 'text summary');
  assert.match(text.stdout, /^Files: 9, dirs: \d+ \(0 new, 0 changed or re-read, 9 unmodified and not read\)$/m);
  // what is "read" is what was encoded afresh: the payload stream's start and tail markers
  assert.match(text.stdout, /^ {2}root\.ppxar\.didx: [\d.]+ [KM]iB, \d+ B read;/m);

  const data = await backup('data');
  const legacyAgain = await backup('legacy');
  for (const s of [legacy, afterLegacy, unchanged, steady, data, legacyAgain]) await restoresIdentically(s.report.snapshot);
});

test('holdfast backup refuses an unknown --change-detection-mode', async () => {
  const r = await srv.cli(['backup', `root.pxar:${src}`, '--change-detection-mode', 'fast']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /change-detection-mode must be one of legacy, data, metadata/);
});

test('holdfast backup in metadata mode after a snapshot made with another key warns, reads every file, and exits (its early reader session closed)', { timeout: 180_000 }, async () => {
  const keyA = join(srv.dir, 'key-a.json');
  const keyB = join(srv.dir, 'key-b.json');
  cliOk(await srv.cli(['key', 'create', keyA, '--kdf', 'none']), 'key create A');
  cliOk(await srv.cli(['key', 'create', keyB, '--kdf', 'none']), 'key create B');
  const run = async (key: string): Promise<{ report: Report & { archives: { archive: string; readFiles?: number }[] }; stderr: string }> => {
    const r = cliOk(await srv.cli(['backup', `root.pxar:${src}`, '--backup-id', 'keys', '--backup-time', String((time += 60)), '--output-format', 'json', '--keyfile', key]), `backup with ${key}`);
    return { report: JSON.parse(r.stdout) as Report & { archives: { archive: string }[] }, stderr: r.stderr };
  };
  await run(keyA);
  const same = await run(keyA); // the early reader session is the one the walk uses
  assert.doesNotMatch(same.stderr, /warning/);
  // the session opened early, before the manifest shows the other key, is closed unused: a
  // session left open would keep the CLI from exiting and this test would time out
  const other = await run(keyB);
  assert.match(other.stderr, /warning: root: the previous snapshot was made with another key \(or none\); reading every file/);
  const target = join(srv.dir, 'restore-keys');
  cliOk(await srv.cli(['restore', other.report.snapshot, 'root.pxar', target, '--keyfile', keyB]), 'restore with key B');
  assert.deepEqual(await snapshotTree(target, { skipRootOwner: true }), await snapshotTree(src, { skipRootOwner: true }));
  rmSync(target, { recursive: true, force: true });
});
