/**
 * Pull sync jobs between two real servers on loopback: `src` holds the snapshots, `dst` runs the
 * jobs (its remote `src` points at the other server). Counts come from the job's report (the
 * task's result): chunks that crossed the wire and chunks found locally.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chunkPath } from '../../src/chunks/chunk-path.ts';
import { encodeBlob } from '../../src/format/blob.ts';
import { groupDir, snapshotDir } from '../../src/datastore/layout.ts';
import { verifyKind } from '../../src/jobs/maintenance-kinds.ts';
import type { SyncReport } from '../../src/jobs/sync/pull.ts';
import { formatTaskState } from '../../src/jobs/task-log.ts';
import type { TaskInfo } from '../../src/jobs/task-registry.ts';
import { describeCli, fastRandom, type CliResult, type TestServer } from '../helpers/server-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import { allDirs, chunk, closePair, content, createJob, digestOf, expected, listed, runJob, snap, startSyncPair, store } from '../helpers/sync-fixture.ts';

const TIMEOUT = { timeout: 120_000 };
let src: TestServer;
let dst: TestServer;

before(async () => {
  [src, dst] = await startSyncPair();
});

after(() => closePair(dst, src));

async function report(task: TaskInfo, ok = true): Promise<SyncReport> {
  const log = (await dst.hs.jobs.tasks.readLog(task.upid)).lines.join('\n');
  assert.equal(formatTaskState(task.state!) === 'OK', ok, log);
  return task.result as SyncReport;
}

function cliOk(r: CliResult, what: string): void {
  assert.equal(r.code, 0, `${what}: ${describeCli(r)}`);
}

function flipLastByte(path: string): void {
  const b = readFileSync(path);
  b.writeUInt8(b.readUInt8(b.length - 1) ^ 0xff, b.length - 1);
  writeFileSync(path, b);
}

const host = (id: string, ns = ''): { ns: string; type: 'host'; id: string } => ({ ns, type: 'host', id });

test('a pull sync copies every group and namespace byte for byte, and an incremental run moves only the new chunks', TIMEOUT, async () => {
  await snap(src, host('a'), 1000, [1, 2, 3]);
  await snap(src, host('a'), 2000, [1, 2, 4]);
  await snap(src, { ns: '', type: 'vm', id: '100' }, 1000, [5]);
  await snap(src, host('b', 'prod'), 1000, [6]);
  await createJob(dst, 'all', {});

  const first = await report(await runJob(dst, 'all'));
  assert.equal(first.snapshotsSynced, 4);
  assert.equal(first.chunksTransferred, 6, 'each distinct chunk crossed once');
  assert.deepEqual(await listed(dst), await listed(src));
  assert.ok((await content(dst, { ...host('a'), time: 2000 })).equals(expected([1, 2, 4])));
  assert.ok((await content(dst, { ...host('b', 'prod'), time: 1000 })).equals(expected([6])));
  assert.equal(await (await store(dst)).getOwner(host('a')), 'root@pam', 'pulled groups belong to the job owner (PBS default root@pam)');

  await snap(src, host('a'), 3000, [1, 2, 4, 7]);
  const second = await report(await runJob(dst, 'all'));
  assert.deepEqual([second.snapshotsSynced, second.chunksTransferred, second.chunksReused], [1, 1, 3], 'only chunk 7 crossed the wire');
  assert.ok((await content(dst, { ...host('a'), time: 3000 })).equals(expected([1, 2, 4, 7])));
  const third = await report(await runJob(dst, 'all'));
  assert.deepEqual([third.snapshotsSynced, third.chunksTransferred], [0, 0], 'nothing new, nothing moves');
  assert.equal(third.rateLimitedBytes, 0, 'no rate-in: no bucket');

  await snap(src, host('a'), 4000, [8]);
  await (await dst.admin()).put('config/sync/all', { 'rate-in': '1GiB', 'burst-in': '64MiB', schedule: 'hourly' });
  const limited = await report(await runJob(dst, 'all'));
  assert.equal(limited.chunksTransferred, 1);
  assert.ok(limited.bytes > 32 * 1024, `${limited.bytes} bytes read`);
  assert.equal(limited.rateLimitedBytes, limited.bytes, 'with rate-in every byte read is drawn from the bucket');
  assert.ok((await dst.hs.jobs.scheduledJobs()).some((j) => j.key === 'sync:all' && j.schedule === 'hourly'), 'the schedule reaches the scheduler');
});

test('group-filter, transfer-last, remote-ns, ns, max-depth, worker-threads and owner select and place what is pulled', TIMEOUT, async () => {
  await snap(src, host('t'), 1000, [10]);
  await snap(src, host('t'), 2000, [11]);
  await snap(src, host('t'), 3000, [12]);
  await snap(src, host('skip'), 1000, [13]);
  await snap(src, { ns: '', type: 'ct', id: '200' }, 1000, [14]);
  await snap(src, { ns: 'prod', type: 'vm', id: '300' }, 1000, [15]);
  await snap(src, host('c', 'prod/deep'), 1000, [16]);

  // the job acts as its owner: sync@pbs makes the namespaces and backs up into them (PBS's rule)
  const dstAdmin = await dst.admin();
  await dstAdmin.post('access/users', { userid: 'sync@pbs', password: 'sync-secret-1' });
  await dstAdmin.put('access/acl', { path: '/datastore/default', role: 'DatastoreAdmin', 'auth-id': 'sync@pbs' });
  await createJob(dst, 'filtered', { 'group-filter': ['type:host', 'exclude:group:host/skip', 'exclude:regex:^host/a$'], 'transfer-last': 2, 'worker-threads': 3, ns: 'filtered', owner: 'sync@pbs' });
  const r = await report(await runJob(dst, 'filtered'));
  const got = (await listed(dst)).filter((s) => s.startsWith('filtered'));
  assert.deepEqual(got, ['filtered/prod/deep:host/c/1000', 'filtered/prod:host/b/1000', 'filtered:host/t/2000', 'filtered:host/t/3000']);
  assert.equal(r.snapshotsSynced, 4);
  assert.equal(await (await store(dst)).getOwner(host('t', 'filtered')), 'sync@pbs');

  await createJob(dst, 'shallow', { 'remote-ns': 'prod', ns: 'shallow', 'max-depth': 0 });
  await report(await runJob(dst, 'shallow'));
  assert.deepEqual(
    (await listed(dst)).filter((s) => s.startsWith('shallow')),
    ['shallow:host/b/1000', 'shallow:vm/300/1000'],
    'prod maps to shallow; prod/deep is below max-depth 0',
  );
});

test('remove-vanished removes snapshots and groups gone from the source, only within the group filter', TIMEOUT, async () => {
  await snap(src, host('rv1', 'rv'), 1000, [20]);
  await snap(src, host('rv1', 'rv'), 2000, [21]);
  await snap(src, host('rv2', 'rv'), 1000, [22]);
  await snap(src, { ns: 'rv', type: 'vm', id: '9' }, 1000, [23]);
  await createJob(dst, 'rv-job', { 'remote-ns': 'rv', ns: 'rv', 'remove-vanished': true, 'group-filter': ['type:host'] });
  await report(await runJob(dst, 'rv-job'));
  await snap(dst, { ns: 'rv', type: 'vm', id: 'localonly' }, 1000, [24]);

  const s = await store(src);
  await s.deleteSnapshot({ ...host('rv1', 'rv'), time: 1000 });
  rmSync(groupDir(s.base, host('rv2', 'rv')), { recursive: true });
  const r = await report(await runJob(dst, 'rv-job'));
  assert.deepEqual([r.snapshotsRemoved, r.groupsRemoved], [2, 1]);
  assert.deepEqual(
    (await listed(dst)).filter((x) => x.startsWith('rv:')),
    ['rv:host/rv1/2000', 'rv:vm/localonly/1000'],
    'the vm group is outside the filter: kept',
  );
  assert.deepEqual((await (await store(dst)).listGroups('rv')).map((g) => `${g.type}/${g.id}`), ['host/rv1', 'vm/localonly'], 'the vanished group directory is gone too');
});

test('a sync interrupted by a crash leaves no listed partial snapshot; the next run completes it and fetches only what is missing', TIMEOUT, async () => {
  const ref = await snap(src, host('crash', 'cr'), 1000, [30, 31, 32, 33]);
  // What a kill -9 mid-sync leaves on the target: the snapshot directory with an index but no
  // manifest, and the chunks stored so far.
  const d = await store(dst);
  await d.createNamespace('cr');
  const dir = snapshotDir(d.base, ref);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'data.didx'), readFileSync(join(snapshotDir((await store(src)).base, ref), 'data.didx')));
  for (const n of [30, 31]) await d.chunks.insert(digestOf(n), encodeBlob(chunk(n), { compress: true }));
  const admin = await dst.admin();
  assert.deepEqual(await admin.get('admin/datastore/default/snapshots', { ns: 'cr' }), [], 'the partial snapshot is not listed');

  await createJob(dst, 'crash', { 'remote-ns': 'cr', ns: 'cr' });
  const r = await report(await runJob(dst, 'crash'));
  assert.deepEqual([r.snapshotsSynced, r.chunksTransferred, r.chunksReused], [1, 2, 2], 'the chunks stored before the crash were not fetched again');
  assert.ok((await content(dst, ref)).equals(expected([30, 31, 32, 33])));
  assert.deepEqual((await allDirs(dst)).filter((x) => x.startsWith('cr:')), ['cr:host/crash/1000']);
});

test('a corrupt source chunk fails only its snapshot (SYNC_INCOMPLETE) and the rest syncs; resync-corrupt pulls a locally corrupt copy again', TIMEOUT, async () => {
  await snap(src, host('good', 'rc'), 1000, [40]);
  await snap(src, host('bad', 'rc'), 1000, [41, 42]);
  const path = chunkPath((await store(src)).base, digestOf(42));
  flipLastByte(path);

  await createJob(dst, 'rc-job', { 'remote-ns': 'rc', ns: 'rc' });
  const task = await runJob(dst, 'rc-job');
  assert.equal(task.errorCode, 'SYNC_INCOMPLETE');
  assert.match(task.state?.kind === 'error' ? task.state.message : '', /ns\/rc\/host\/bad\/1970-01-01T00:16:40Z \(\[[A-Z_]+\] /, 'the task status names the reason, not only the item');
  const r = await report(task, false);
  assert.deepEqual(
    r.failures.map((f) => f.item),
    ['ns/rc/host/bad/1970-01-01T00:16:40Z'],
  );
  assert.deepEqual((await allDirs(dst)).filter((x) => x.startsWith('rc:')), ['rc:host/good/1000'], 'no trace of the failed snapshot');

  // Repair the source; corrupt the target's copy of the good snapshot and let verify find it.
  flipLastByte(path);
  const d = await store(dst);
  flipLastByte(chunkPath(d.base, digestOf(40)));
  const good = { ...host('good', 'rc'), time: 1000 };
  await assert.rejects(dst.hs.jobs.run(verifyKind, { store: 'default', scope: { kind: 'snapshot', snapshot: good }, filter: { ignoreVerified: false } }, 'admin@pbs'));
  assert.equal(((await d.readManifest(good)).unprotected['verify_state'] as { state: string }).state, 'failed');

  const plain = await report(await runJob(dst, 'rc-job'));
  assert.equal(plain.snapshotsSynced, 1, 'without resync-corrupt only the missing snapshot is pulled');
  await (await dst.admin()).put('config/sync/rc-job', { 'resync-corrupt': true });
  const resync = await report(await runJob(dst, 'rc-job'));
  assert.deepEqual([resync.snapshotsSynced, resync.chunksTransferred], [1, 1], 'the failed copy was pulled again; its quarantined chunk crossed the wire');
  await dst.hs.jobs.run(verifyKind, { store: 'default', scope: { kind: 'snapshot', snapshot: good }, filter: { ignoreVerified: false } }, 'admin@pbs');
  assert.equal(((await d.readManifest(good)).unprotected['verify_state'] as { state: string }).state, 'ok', 'the re-pulled copy verifies');
  assert.ok((await content(dst, good)).equals(expected([40])));
});

test('an encrypted snapshot syncs without the key and restores with it byte-identical; encrypted-only and verified-only select', TIMEOUT, async () => {
  const work = makeTempDir('holdfast-sync-enc-');
  try {
    const keyfile = join(work, 'key.json');
    cliOk(await src.cli(['key', 'create', keyfile, '--kdf', 'none']), 'key create');
    const data = join(work, 'data');
    mkdirSync(data);
    const payload = fastRandom(3 * 1024 * 1024 + 17, 91);
    writeFileSync(join(data, 'payload.bin'), payload);
    cliOk(await src.cli(['backup', `data.pxar:${data}`, '--backup-id', 'enc', '--backup-time', '5000', '--keyfile', keyfile]), 'encrypted backup');
    await snap(src, host('plainx'), 5000, [60]);

    await createJob(dst, 'enc-job', { 'group-filter': ['regex:^host/(enc|plainx)$'], 'encrypted-only': true, 'verified-only': true, ns: 'enc' });
    assert.equal((await report(await runJob(dst, 'enc-job'))).snapshotsSynced, 0, 'verified-only: nothing is verified yet');
    for (const id of ['enc', 'plainx']) await src.hs.jobs.run(verifyKind, { store: 'default', scope: { kind: 'group', group: host(id) }, filter: { ignoreVerified: false } }, 'admin@pbs');
    const r = await report(await runJob(dst, 'enc-job'));
    assert.equal(r.snapshotsSynced, 1, 'encrypted-only: the plain snapshot stays behind');
    assert.deepEqual((await listed(dst)).filter((x) => x.startsWith('enc:')), ['enc:host/enc/5000']);

    const without = await dst.cli(['restore', 'host/enc/5000', 'data.pxar', join(work, 'nokey'), '--ns', 'enc']);
    assert.equal(without.code, 5, describeCli(without));
    cliOk(await dst.cli(['restore', 'host/enc/5000', 'data.pxar', join(work, 'out'), '--ns', 'enc', '--keyfile', keyfile]), 'restore with the key');
    assert.ok(readFileSync(join(work, 'out', 'payload.bin')).equals(payload));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('a remote may log in with an API token (auth-id user@realm!name, the secret as password)', TIMEOUT, async () => {
  await snap(src, host('tok', 'tk'), 1000, [70]);
  const srcAdmin = await src.admin();
  const token = (await srcAdmin.post('access/users/admin@pbs/token/sync')) as { tokenid: string; value: string };
  await srcAdmin.put('access/acl', { path: '/datastore/default', role: 'DatastoreReader', 'auth-id': token.tokenid });
  const admin = await dst.admin();
  await admin.post('config/remote', { name: 'srctok', host: `127.0.0.1:${src.port}`, 'auth-id': token.tokenid, password: token.value, fingerprint: src.fingerprint });
  await admin.post('config/sync', { id: 'tok-job', store: 'default', remote: 'srctok', 'remote-store': 'default', 'remote-ns': 'tk', ns: 'tk' });
  const r = await report(await runJob(dst, 'tok-job'));
  assert.equal(r.snapshotsSynced, 1);
  assert.ok((await content(dst, { ...host('tok', 'tk'), time: 1000 })).equals(expected([70])));
});
