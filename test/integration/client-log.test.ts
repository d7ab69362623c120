/**
 * A snapshot's client log (PBS's `upload-backup-log`, `proxmox-backup-client snapshot
 * upload-log`) against real servers: `holdfast snapshot upload-log` adds it once (a second upload
 * is ALREADY_EXISTS), the listing names it without making an encrypted snapshot look mixed,
 * `restore SNAPSHOT client.log -` reads it back (an encrypted log needs its key), the route
 * refuses a body that is not a blob and a caller who is not the group's owner with
 * Datastore.Backup (a datastore admin's Modify does not stand in), and sync jobs carry the log
 * both ways.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isHoldfastError } from '../../src/core/errors.ts';
import { encodeBlob } from '../../src/format/blob.ts';
import { formatTaskState } from '../../src/jobs/task-log.ts';
import { cliOk, describeCli, startTestServer, type TestServer } from '../helpers/server-fixture.ts';
import { closePair, createJob, runJob, startSyncPair } from '../helpers/sync-fixture.ts';
import { smallSource, tokenClient } from '../helpers/users-fixture.ts';

const TIMEOUT = { timeout: 120_000 };
const SNAP = { 'backup-type': 'host', 'backup-id': 'logged', 'backup-time': 1_800_000_000 };
let srv: TestServer;
let log: string;

before(async () => {
  srv = await startTestServer();
  cliOk(await srv.cli(['backup', `f.pxar:${smallSource(srv)}`, '--backup-id', 'logged', '--backup-time', '1800000000']), 'backup');
  log = join(srv.dir, 'client.log');
  writeFileSync(log, 'backup started\nbackup finished: 1 file\n'.repeat(50));
}, TIMEOUT);

after(async () => {
  await srv?.close();
});

test('upload-log adds the log once; the listing names it; restore client.log reads it back', TIMEOUT, async () => {
  const r = cliOk(await srv.cli(['snapshot', 'upload-log', 'host/logged/1800000000', log]), 'upload-log');
  assert.match(r.stdout, /as client\.log\.blob/);
  const again = await srv.cli(['snapshot', 'upload-log', 'host/logged/1800000000', log]);
  assert.notEqual(again.code, 0, describeCli(again));
  assert.match(again.stderr, /ALREADY_EXISTS.*already contains a log/);
  const files = cliOk(await srv.cli(['snapshot', 'files', 'host/logged/1800000000']), 'files');
  assert.match(files.stdout, /client\.log\.blob/);
  const list = cliOk(await srv.cli(['snapshot', 'list', '--output-format', 'json']), 'list');
  assert.ok((JSON.parse(list.stdout) as { files: { filename: string }[] }[])[0]!.files.some((f) => f.filename === 'client.log.blob'));
  const back = cliOk(await srv.cli(['restore', 'host/logged/1800000000', 'client.log', '-']), 'restore client.log');
  assert.equal(back.stdout, 'backup started\nbackup finished: 1 file\n'.repeat(50));
});

test('an encrypted log needs its key to be read back', TIMEOUT, async () => {
  cliOk(await srv.cli(['backup', `f.pxar:${smallSource(srv)}`, '--backup-id', 'enclog', '--backup-time', '1800000000']), 'backup');
  const key = join(srv.dir, 'log.key');
  const env = { HOLDFAST_ENCRYPTION_PASSWORD: 'log-key-pass' };
  cliOk(await srv.cli(['key', 'create', key], 'default', env), 'key create');
  cliOk(await srv.cli(['snapshot', 'upload-log', 'host/enclog/1800000000', log, '--keyfile', key], 'default', env), 'upload-log --keyfile');
  const without = await srv.cli(['restore', 'host/enclog/1800000000', 'client.log', '-']);
  assert.notEqual(without.code, 0);
  assert.match(without.stderr, /KEY_REQUIRED/);
  const withKey = cliOk(await srv.cli(['restore', 'host/enclog/1800000000', 'client.log', '-', '--keyfile', key], 'default', env), 'restore with key');
  assert.equal(withKey.stdout, 'backup started\nbackup finished: 1 file\n'.repeat(50));
});

test('the route takes only a blob, only from the owner with Datastore.Backup', TIMEOUT, async () => {
  cliOk(await srv.cli(['backup', `f.pxar:${smallSource(srv)}`, '--backup-id', 'guarded', '--backup-time', '1800000000']), 'backup');
  const snap = { ...SNAP, 'backup-id': 'guarded' };
  const admin = await srv.admin();
  await assert.rejects(admin.upload('admin/datastore/default/upload-backup-log', snap, new TextEncoder().encode('not a blob at all')), (e) => isHoldfastError(e, 'INVALID_ARGUMENT'));
  const damaged = encodeBlob(new TextEncoder().encode('log'), { compress: false });
  damaged[damaged.length - 1] = damaged[damaged.length - 1]! ^ 1;
  await assert.rejects(admin.upload('admin/datastore/default/upload-backup-log', snap, damaged), (e) => isHoldfastError(e, 'INVALID_ARGUMENT'));
  const blob = encodeBlob(new TextEncoder().encode('log'), { compress: true });
  // another user's token, with the right to back up but not owning the group, and a datastore
  // admin (Modify and Backup) who does not own it either: neither may add the log
  const backup = await tokenClient(srv, 'writer@pbs', [['/datastore/default', 'DatastoreBackup']]);
  await assert.rejects(backup.upload('admin/datastore/default/upload-backup-log', snap, blob), (e) => isHoldfastError(e, 'FORBIDDEN'));
  const modify = await tokenClient(srv, 'manager@pbs', [['/datastore/default', 'DatastoreAdmin']]);
  await assert.rejects(modify.upload('admin/datastore/default/upload-backup-log', snap, blob), (e) => isHoldfastError(e, 'FORBIDDEN'));
  await assert.rejects(admin.upload('admin/datastore/default/upload-backup-log', { ...snap, 'backup-time': 1_800_000_001 }, blob), (e) => isHoldfastError(e, 'NOT_FOUND'));
  await admin.upload('admin/datastore/default/upload-backup-log', snap, blob); // the owner (admin made the backup)
});

test('a pull sync brings the client log along, and a push sync takes it', TIMEOUT, async () => {
  let source: TestServer | undefined;
  let destination: TestServer | undefined;
  try {
    [source, destination] = await startSyncPair({ push: true });
    cliOk(await source.cli(['backup', `f.pxar:${smallSource(source)}`, '--backup-id', 'synced', '--backup-time', '1800000000']), 'backup');
    cliOk(await source.cli(['snapshot', 'upload-log', 'host/synced/1800000000', log]), 'upload-log');
    await createJob(destination, 'logs', {});
    const task = await runJob(destination, 'logs');
    assert.equal(formatTaskState(task.state!), 'OK', (await destination.hs.jobs.tasks.readLog(task.upid)).lines.join('\n'));
    const back = cliOk(await destination.cli(['restore', 'host/synced/1800000000', 'client.log', '-']), 'restore the pulled log');
    assert.equal(back.stdout, 'backup started\nbackup finished: 1 file\n'.repeat(50));
    // and back the other way, into a namespace of the source
    cliOk(await destination.cli(['sync-job', 'create', 'back', '--store', 'default', '--remote', 'src', '--remote-store', 'default', '--sync-direction', 'push', '--remote-ns', 'returned']), 'push job');
    cliOk(await source.cli(['namespace', 'create', 'returned']), 'namespace create');
    cliOk(await destination.cli(['sync-job', 'run', 'back']), 'push');
    const pushed = cliOk(await source.cli(['restore', 'host/synced/1800000000', 'client.log', '-', '--ns', 'returned']), 'restore the pushed log');
    assert.equal(pushed.stdout, 'backup started\nbackup finished: 1 file\n'.repeat(50));
  } finally {
    await closePair(source, destination);
  }
});
