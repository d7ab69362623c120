/**
 * Removing S3 datastores and their empty namespaces on the real RGW (scripts/ceph-rgw-up.sh;
 * skipped with the reason when S3_ENDPOINT is unset), through the real CLI and API against a real
 * server. Two datastores share one bucket, so every removal is also checked to leave the other's
 * objects alone:
 * - an empty namespace is an object `<store>/.cnt/ns/…/.namespace`; deleting it removes the
 *   object; a fresh server cache attached with --reuse-datastore lists the empty namespace;
 * - `datastore remove` without --destroy-data leaves every object (the store can be attached again);
 * - `datastore remove --destroy-data` with the endpoint unreachable fails with OBJECT_STORE_ERROR
 *   and leaves the datastore configured, its cache and its objects; with the endpoint back it
 *   removes every object under `<store>/` and nothing else; so does the API's DELETE with
 *   destroy-data, which logs the count.
 *
 * The tests of this file run in order and share the server, the bucket and the data.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { S3ObjectClient } from '../../src/chunks/s3-client.ts';
import { memoryLogger } from '../../src/core/log.ts';
import { s3SkipReason, s3TestConfig } from '../helpers/s3-env.ts';
import { cliOk, describeCli, fastRandom, startTestServer, type TestServer } from '../helpers/server-fixture.ts';

const skip = s3SkipReason;
const T0 = 1_800_000_000;
const TIMEOUT = { timeout: 180_000 };

let srv: TestServer;
let client: S3ObjectClient;
let bucket = '';
let endpointUrl = '';
const log = memoryLogger();

async function keys(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of client.list(prefix)) out.push(o.key);
  return out.sort();
}

const backend = (): string => `type=s3,client=rgw,bucket=${bucket},cache-size=16M`;

async function namespaces(store: string): Promise<string[]> {
  const listed = (await (await srv.admin()).get(`admin/datastore/${store}/namespace`)) as { ns: string }[];
  return listed.map((n) => n.ns);
}

async function configured(): Promise<string[]> {
  return (JSON.parse(cliOk(await srv.cli(['datastore', 'list', '--output-format', 'json']), 'datastore list').stdout) as { name: string }[]).map((d) => d.name);
}

before(async () => {
  if (skip !== false) return;
  bucket = `holdfast-s3rm-${randomBytes(5).toString('hex')}`;
  const cfg = s3TestConfig(bucket);
  endpointUrl = cfg.endpoint;
  client = new S3ObjectClient(cfg);
  await client.createBucket();
  srv = await startTestServer({ log });
  const file = join(srv.dir, 'work', 'data.bin');
  mkdirSync(join(srv.dir, 'work'), { recursive: true });
  writeFileSync(file, fastRandom(3 * 1024 * 1024, 11));
  cliOk(await srv.cli(['s3', 'endpoint', 'create', 'rgw', '--endpoint', cfg.endpoint, '--access-key', cfg.accessKey, '--secret-key', cfg.secretKey, '--path-style', 'true', '--region', cfg.region]), 's3 endpoint create');
  for (const store of ['alpha', 'beta']) {
    cliOk(await srv.cli(['datastore', 'create', store, join(srv.dir, `cache-${store}`), '--backend', backend()]), `datastore create ${store}`);
    cliOk(await srv.cli(['backup', `data.img:${file}`, '--backup-id', 'h', '--backup-time', String(T0)], store), `backup to ${store}`);
  }
}, TIMEOUT);

after(async () => {
  if (skip !== false) return;
  await srv?.close();
  if (client) {
    await client.deleteMany(await keys('')).catch(() => undefined);
    client.destroy();
  }
});

test('an empty namespace on an S3 datastore is the object <store>/.cnt/ns/…/.namespace; deleting removes it; --reuse-datastore on a fresh cache lists it', { skip, ...TIMEOUT }, async () => {
  const admin = await srv.admin();
  await admin.post('admin/datastore/alpha/namespace', { name: 'team' });
  await admin.post('admin/datastore/alpha/namespace', { parent: 'team', name: 'web' });
  await admin.post('admin/datastore/alpha/namespace', { name: 'gone' });
  const markers = async (): Promise<string[]> => (await keys('alpha/.cnt/')).filter((k) => k.endsWith('/.namespace'));
  assert.deepEqual(await markers(), ['alpha/.cnt/ns/gone/.namespace', 'alpha/.cnt/ns/team/.namespace', 'alpha/.cnt/ns/team/ns/web/.namespace']);
  await admin.delete('admin/datastore/alpha/namespace', { ns: 'gone' });
  assert.deepEqual(await markers(), ['alpha/.cnt/ns/team/.namespace', 'alpha/.cnt/ns/team/ns/web/.namespace']);

  const before = await keys('alpha/');
  cliOk(await srv.cli(['datastore', 'remove', 'alpha']), 'datastore remove alpha (config only)');
  assert.deepEqual(await keys('alpha/'), before, 'without --destroy-data every object stays');
  cliOk(await srv.cli(['datastore', 'create', 'alpha', join(srv.dir, 'cache-alpha2'), '--backend', backend(), '--reuse-datastore']), 'datastore create --reuse-datastore');
  assert.deepEqual(await namespaces('alpha'), ['', 'team', 'team/web']);
  const listed = JSON.parse(cliOk(await srv.cli(['snapshot', 'list', '--output-format', 'json'], 'alpha'), 'snapshot list').stdout) as { 'backup-time': number }[];
  assert.deepEqual(listed.map((s) => s['backup-time']), [T0]);
});

test('datastore remove --destroy-data with the endpoint unreachable fails with OBJECT_STORE_ERROR and leaves the datastore configured, its cache and its objects', { skip, ...TIMEOUT }, async () => {
  const before = await keys('beta/');
  cliOk(await srv.cli(['s3', 'endpoint', 'update', 'rgw', '--endpoint', 'http://127.0.0.1:9']), 'endpoint to a closed port');
  try {
    const r = await srv.cli(['datastore', 'remove', 'beta', '--destroy-data']);
    assert.equal(r.code, 8, describeCli(r));
    assert.match(r.stderr, /OBJECT_STORE_ERROR.*beta/);
    assert.doesNotMatch(r.stdout, /removed/);
  } finally {
    cliOk(await srv.cli(['s3', 'endpoint', 'update', 'rgw', '--endpoint', endpointUrl]), 'endpoint back');
  }
  assert.ok((await configured()).includes('beta'));
  assert.ok(existsSync(join(srv.dir, 'cache-beta')));
  assert.deepEqual(await keys('beta/'), before);
});

test('datastore remove --destroy-data deletes every object under <store>/ and the cache; the other store in the bucket keeps all of its objects', { skip, ...TIMEOUT }, async () => {
  const alpha = await keys('alpha/');
  const beta = await keys('beta/');
  assert.ok(beta.some((k) => k.startsWith('beta/.chunks/')) && beta.some((k) => k.startsWith('beta/.cnt/')), beta.join('\n'));
  const r = cliOk(await srv.cli(['datastore', 'remove', 'beta', '--destroy-data']), 'datastore remove --destroy-data');
  assert.match(r.stdout, new RegExp(`removed datastore 'beta' and its data \\(${beta.length} objects in its bucket\\)`));
  assert.deepEqual(await keys('beta/'), []);
  assert.deepEqual(await keys('alpha/'), alpha);
  assert.ok(!existsSync(join(srv.dir, 'cache-beta')));
  assert.ok(!(await configured()).includes('beta'));
  cliOk(await srv.cli(['restore', `host/h/${T0}`, 'data.img', join(srv.dir, 'work', 'out.img')], 'alpha'), 'alpha still restores');
});

test('DELETE config/datastore/NAME?destroy-data=1 removes the S3 datastore\'s objects and logs how many', { skip, ...TIMEOUT }, async () => {
  const alpha = await keys('alpha/');
  assert.ok(alpha.length > 0);
  await (await srv.admin()).delete('config/datastore/alpha', { 'destroy-data': true });
  assert.deepEqual(await keys(''), [], 'the bucket is empty: both stores are gone');
  assert.ok(log.lines.some((l) => l.includes(`datastore alpha: removed, with ${alpha.length} objects`)), log.lines.join('\n'));
});
