import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeFs } from '../storage/node-fs.ts';
import { makeTempDir } from '../../test/helpers/tmp.ts';
import { S3_SECRETS_FILE, S3EndpointStore } from './s3-endpoint-store.ts';

const INPUT = { id: 'ceph', endpoint: 'http://127.0.0.1:7480', accessKey: 'AK1', secretKey: 'SECRET-1', pathStyle: true };

function withStore(fn: (store: S3EndpointStore, dir: string) => Promise<void>): Promise<void> {
  const dir = makeTempDir('holdfast-s3cfg-');
  return fn(new S3EndpointStore(new NodeFs(), join(dir, 'cfg')), join(dir, 'cfg')).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('S3EndpointStore.create keeps the secret out of s3.cfg, in a file readable by its owner only', () =>
  withStore(async (store, dir) => {
    await store.create(INPUT);
    const cfg = readFileSync(join(dir, 's3.cfg'), 'utf8');
    assert.doesNotMatch(cfg, /SECRET-1/);
    assert.match(cfg, /^s3-endpoint: ceph\n\tendpoint http:\/\/127\.0\.0\.1:7480\n\taccess-key AK1\n/);
    assert.equal(statSync(join(dir, S3_SECRETS_FILE)).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 's3.cfg')).mode & 0o777, 0o640);
    assert.deepEqual(await store.getWithSecret('ceph'), { id: 'ceph', endpoint: 'http://127.0.0.1:7480', accessKey: 'AK1', region: 'us-east-1', pathStyle: true, secretKey: 'SECRET-1' });
  }));

test('S3EndpointStore.create refuses a duplicate id and a bad secret key without echoing it', () =>
  withStore(async (store) => {
    await store.create(INPUT);
    await assert.rejects(store.create(INPUT), { code: 'ALREADY_EXISTS' });
    await assert.rejects(store.create({ ...INPUT, id: 'other', secretKey: 'with space' }), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && !e.message.includes('with space'));
    assert.deepEqual((await store.list()).map((e) => e.id), ['ceph']);
  }));

test('S3EndpointStore.update changes only the given fields, validates the result and can drop the fingerprint', () =>
  withStore(async (store) => {
    const fp = Array(32).fill('ab').join(':');
    await store.create({ ...INPUT, endpoint: 'https://rgw.example.com', fingerprint: fp });
    const next = await store.update('ceph', { region: 'eu-1', secretKey: 'SECRET-2' });
    assert.equal(next.fingerprint, fp);
    assert.equal(next.accessKey, 'AK1');
    assert.equal((await store.getWithSecret('ceph')).secretKey, 'SECRET-2');
    assert.equal((await store.update('ceph', { fingerprint: null })).fingerprint, undefined);
    // http to a remote host is refused on update as on create, and nothing changes
    await assert.rejects(store.update('ceph', { endpoint: 'http://rgw.example.com' }), { code: 'INVALID_ARGUMENT' });
    assert.equal((await store.get('ceph')).endpoint, 'https://rgw.example.com');
    await assert.rejects(store.update('nope', { region: 'x' }), { code: 'NOT_FOUND' });
  }));

test('S3EndpointStore.remove drops the entry and its secret, and refuses an endpoint a datastore uses', () =>
  withStore(async (store, dir) => {
    await store.create(INPUT);
    await store.create({ ...INPUT, id: 'spare', secretKey: 'SECRET-3' });
    writeFileSync(join(dir, 'datastore.cfg'), 'datastore: s1\n\tpath /tmp/cache\n\tbackend type=s3,client=ceph,bucket=b\n');
    await assert.rejects(store.remove('ceph'), (e: Error & { code?: string }) => e.code === 'LOCKED' && e.message.includes('s1'));
    await store.remove('spare');
    assert.deepEqual((await store.list()).map((e) => e.id), ['ceph']);
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(join(dir, S3_SECRETS_FILE), 'utf8')) as object), ['ceph']);
    await assert.rejects(store.remove('spare'), { code: 'NOT_FOUND' });
  }));

test('S3EndpointStore.getWithSecret reports a missing or malformed secrets file as INVALID_CONFIG', () =>
  withStore(async (store, dir) => {
    await store.create(INPUT);
    writeFileSync(join(dir, S3_SECRETS_FILE), '{"ceph": 1}');
    await assert.rejects(store.getWithSecret('ceph'), { code: 'INVALID_CONFIG' });
    writeFileSync(join(dir, S3_SECRETS_FILE), '{}');
    await assert.rejects(store.getWithSecret('ceph'), { code: 'INVALID_CONFIG' });
  }));
