import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isHoldfastError } from '../../core/errors.ts';
import { DatastoreConfigFile } from '../../datastore/datastore-config.ts';
import { describeSyncJob } from '../../format/sync-job-config.ts';
import { NodeFs } from '../../storage/node-fs.ts';
import { makeTempDir } from '../../../test/helpers/tmp.ts';
import { RemoteStore } from './remote-store.ts';
import { SyncJobStore } from './sync-job-store.ts';

/** A datastore.cfg entry only: a sync job needs its local store to be configured. */
async function addStoreConfig(dir: string, name: string): Promise<void> {
  await new DatastoreConfigFile(new NodeFs(), dir).update((list) => [...list, { name, path: join(dir, name), props: new Map() }]);
}

async function setup(fn: (jobs: SyncJobStore, dir: string) => Promise<void>): Promise<void> {
  const dir = makeTempDir('holdfast-syncjob-');
  try {
    await new RemoteStore(new NodeFs(), dir).create({ name: 'offsite', host: 'h.example', authId: 'sync@pbs', secret: 'x' });
    await addStoreConfig(dir, 'local');
    await fn(new SyncJobStore(new NodeFs(), dir), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ALL = new Map([
  ['store', 'local'],
  ['remote', 'offsite'],
  ['remote-store', 'store2'],
  ['remote-ns', 'a/b'],
  ['ns', 'mirror'],
  ['max-depth', '2'],
  ['sync-direction', 'push'],
  ['group-filter', '"type:vm","exclude:regex:^vm/1,2$"'],
  ['remove-vanished', 'true'],
  ['transfer-last', '3'],
  ['verified-only', '1'],
  ['encrypted-only', 'yes'],
  ['resync-corrupt', 'true'],
  ['rate-in', '10MiB'],
  ['burst-in', '20MiB'],
  ['rate-out', '1MB'],
  ['burst-out', '2000000'],
  ['worker-threads', '4'],
  ['schedule', 'hourly'],
  ['owner', 'sync@pbs'],
  ['comment', 'nightly'],
]);

test('SyncJobStore round-trips every option through sync.cfg', () =>
  setup(async (jobs, dir) => {
    await jobs.create('pull1', ALL);
    const [job] = await jobs.list();
    assert.ok(job);
    assert.equal(job.rateIn, 10 * 1024 * 1024);
    assert.equal(job.rateOut, 1_000_000);
    assert.deepEqual(job.groupFilter.map((f) => [f.exclude, f.kind, f.value]), [
      [false, 'type', 'vm'],
      [true, 'regex', '^vm/1,2$'],
    ]);
    const shown = describeSyncJob(job);
    assert.equal(shown['group-filter'], '"type:vm","exclude:regex:^vm/1,2$"');
    assert.equal(shown['worker-threads'], '4');
    assert.match(readFileSync(join(dir, 'sync.cfg'), 'utf8'), /^sync: pull1\n\tstore local\n/);
  }));

test('SyncJobStore.update sets and deletes keys; defaults are not stored', () =>
  setup(async (jobs) => {
    await jobs.create('pull1', new Map([['store', 'local'], ['remote', 'offsite'], ['remote-store', 'store2'], ['transfer-last', '2']]));
    const j = await jobs.update('pull1', { 'transfer-last': null, 'worker-threads': '2', 'remove-vanished': 'true' });
    assert.deepEqual(describeSyncJob(j), { id: 'pull1', store: 'local', remote: 'offsite', 'remote-store': 'store2', 'remove-vanished': 'true', 'worker-threads': '2' });
  }));

test('SyncJobStore refuses bad options with INVALID_ARGUMENT naming them, and an unknown remote with NOT_FOUND', () =>
  setup(async (jobs) => {
    const base = new Map([['store', 'local'], ['remote', 'offsite'], ['remote-store', 'store2']]);
    const cases: [string, string][] = [
      ['sync-direction', 'sideways'],
      ['group-filter', '"kind:x"'],
      ['max-depth', '9'],
      ['worker-threads', '33'],
      ['transfer-last', '0'],
      ['rate-in', 'fast'],
      ['remove-vanished', 'maybe'],
      ['owner', 'nobody'],
      ['ns', '../x'],
      ['schedule', 'every full moon'],
      ['bogus', '1'],
    ];
    for (const [k, v] of cases) {
      const param = k === 'group-filter' ? 'group-filter' : k;
      await assert.rejects(jobs.create('job1', new Map([...base, [k, v]])), (e: unknown) => isHoldfastError(e, 'INVALID_ARGUMENT') && e.details['param'] === param, `${k}=${v}`);
    }
    await assert.rejects(jobs.create('x', base), (e: unknown) => isHoldfastError(e, 'INVALID_ARGUMENT') && e.details['param'] === 'id');
    await assert.rejects(jobs.create('job1', new Map([...base, ['remote', 'elsewhere']])), (e: unknown) => isHoldfastError(e, 'NOT_FOUND'));
    await assert.rejects(jobs.create('job1', new Map([...base, ['store', 'lcoal']])), (e: unknown) => isHoldfastError(e, 'DATASTORE_NOT_FOUND') && /datastore 'lcoal' does not exist/.test(e.message));
  }));
