import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isHoldfastError } from '../../core/errors.ts';
import { NodeFs } from '../../storage/node-fs.ts';
import { makeTempDir } from '../../../test/helpers/tmp.ts';
import { REMOTE_SECRETS_FILE, RemoteStore } from './remote-store.ts';
import { SyncJobStore } from './sync-job-store.ts';
import { DatastoreConfigFile } from '../../datastore/datastore-config.ts';

const FP = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16)).join(':');

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = makeTempDir('holdfast-remote-');
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('RemoteStore keeps the password apart from remote.cfg, in a 0600 file, and never lists it', () =>
  withDir(async (dir) => {
    const remotes = new RemoteStore(new NodeFs(), dir);
    await remotes.create({ name: 'offsite', host: 'pbs2.example.com:8008', authId: 'sync@pbs', secret: 's3cret!', fingerprint: FP.toUpperCase() });
    const cfg = readFileSync(join(dir, 'remote.cfg'), 'utf8');
    assert.match(cfg, /^remote: offsite\n\thost pbs2.example.com\n\tauth-id sync@pbs\n\tport 8008\n\tfingerprint /);
    assert.doesNotMatch(cfg, /s3cret/);
    assert.equal(statSync(join(dir, REMOTE_SECRETS_FILE)).mode & 0o777, 0o600);
    assert.deepEqual(await remotes.list(), [{ name: 'offsite', host: 'pbs2.example.com', port: 8008, authId: 'sync@pbs', fingerprint: FP }]);
    assert.equal((await remotes.getWithSecret('offsite')).secret, 's3cret!');
  }));

test('RemoteStore.update changes only what it names; null drops port, fingerprint and comment', () =>
  withDir(async (dir) => {
    const remotes = new RemoteStore(new NodeFs(), dir);
    await remotes.create({ name: 'offsite', host: '10.0.0.2', port: 8010, authId: 'sync@pbs', secret: 'a', comment: 'old' });
    await remotes.update('offsite', { secret: 'b', comment: null, fingerprint: FP });
    assert.deepEqual(await remotes.getWithSecret('offsite'), { name: 'offsite', host: '10.0.0.2', port: 8010, authId: 'sync@pbs', fingerprint: FP, secret: 'b' });
    await remotes.update('offsite', { host: '[::1]:9000', port: null, authId: 'sync@pbs!job' });
    assert.deepEqual(await remotes.get('offsite'), { name: 'offsite', host: '::1', port: 9000, authId: 'sync@pbs!job', fingerprint: FP });
  }));

test('RemoteStore refuses bad input with INVALID_ARGUMENT naming the parameter, duplicates with ALREADY_EXISTS', () =>
  withDir(async (dir) => {
    const remotes = new RemoteStore(new NodeFs(), dir);
    const base = { name: 'offsite', host: 'h.example', authId: 'sync@pbs', secret: 'x' };
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'a' }, 'name'],
      [{ host: 'bad host' }, 'host'],
      [{ host: 'h:99999' }, 'port'],
      [{ host: 'h:8007', port: 8008 }, 'port'],
      [{ authId: 'nouser' }, 'auth-id'],
      [{ fingerprint: 'aa:bb' }, 'fingerprint'],
      [{ secret: '' }, 'password'],
      [{ comment: 'two\nlines' }, 'comment'],
    ];
    for (const [change, param] of cases) {
      await assert.rejects(remotes.create({ ...base, ...change }), (e: unknown) => isHoldfastError(e, 'INVALID_ARGUMENT') && e.details['param'] === param, param);
    }
    await remotes.create(base);
    await assert.rejects(remotes.create(base), (e: unknown) => isHoldfastError(e, 'ALREADY_EXISTS'));
    await assert.rejects(remotes.update('nope', { comment: 'x' }), (e: unknown) => isHoldfastError(e, 'NOT_FOUND'));
  }));

test('RemoteStore.remove refuses a remote a sync job uses (LOCKED) and drops config then secret', () =>
  withDir(async (dir) => {
    const fs = new NodeFs();
    const remotes = new RemoteStore(fs, dir);
    await new DatastoreConfigFile(fs, dir).update((list) => [...list, { name: 'local', path: join(dir, 'local'), props: new Map() }]);
    const jobs = new SyncJobStore(fs, dir);
    await remotes.create({ name: 'offsite', host: 'h.example', authId: 'sync@pbs', secret: 'x' });
    await jobs.create('job1', new Map([['store', 'local'], ['remote', 'offsite'], ['remote-store', 'r']]));
    await assert.rejects(remotes.remove('offsite'), (e: unknown) => isHoldfastError(e, 'LOCKED') && (e.details['jobs'] as string[])[0] === 'job1');
    await jobs.remove('job1');
    await remotes.remove('offsite');
    assert.deepEqual(await remotes.list(), []);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, REMOTE_SECRETS_FILE), 'utf8')), {});
  }));
