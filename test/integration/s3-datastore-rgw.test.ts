/**
 * S3 datastores end to end on the real RGW (scripts/ceph-rgw-up.sh; skipped with the reason when
 * S3_ENDPOINT is unset), through the real CLI against a real server, each test run in a fresh
 * bucket: `datastore create --backend type=s3,…`; `holdfast backup` to and `holdfast restore` from
 * it byte-identical, with chunks under `<store>/.chunks/` and the snapshot under `<store>/.cnt/`;
 * GC, verify and prune there; the datastore's S3 counters in its status; a group move, whose
 * objects follow it.
 *
 * The tests of this file run in order and share the server, the bucket and the data.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { S3ObjectClient } from '../../src/chunks/s3-client.ts';
import { RawApi, tokenHeader } from '../conformance/raw-client.ts';
import { s3SkipReason, s3TestConfig } from '../helpers/s3-env.ts';
import { cliOk, describeCli, fastRandom, startTestServer, type TestServer } from '../helpers/server-fixture.ts';

const skip = s3SkipReason;
const STORE = 's3store';
const T0 = 1_800_000_000;
const MIB = 1024 * 1024;
const TIMEOUT = { timeout: 180_000 };

let srv: TestServer;
let client: S3ObjectClient;
let bucket = '';
let work = '';

async function keys(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of client.list(prefix)) out.push(o.key);
  return out;
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** `/metrics` as a token with Sys.Audit scrapes it. */
async function fetchMetrics(): Promise<string> {
  const admin = await srv.admin();
  const scraper = (await admin.post('access/users/admin@pbs/token/s3scrape')) as { tokenid: string; value: string };
  await admin.put('access/acl', { path: '/system/status', role: 'Audit', 'auth-id': scraper.tokenid, propagate: false });
  const r = await new RawApi(srv.port, tokenHeader(scraper.tokenid, scraper.value, ' ')).request('GET', '/metrics');
  assert.equal(r.status, 200, r.body.toString());
  return r.body.toString();
}

before(async () => {
  if (skip !== false) return;
  bucket = `holdfast-s3ds-${randomBytes(5).toString('hex')}`;
  const cfg = s3TestConfig(bucket);
  client = new S3ObjectClient(cfg);
  await client.createBucket();
  srv = await startTestServer();
  work = join(srv.dir, 'work');
  mkdirSync(join(work, 'src', 'sub'), { recursive: true });
  writeFileSync(join(work, 'src', 'big.bin'), fastRandom(12 * MIB, 7));
  writeFileSync(join(work, 'src', 'sub', 'small.txt'), 'hello from S3\n');
  writeFileSync(join(work, 'disk.img'), fastRandom(9 * MIB, 8));
  cliOk(await srv.cli(['s3', 'endpoint', 'create', 'rgw', '--endpoint', cfg.endpoint, '--access-key', cfg.accessKey, '--secret-key', cfg.secretKey, '--path-style', 'true', '--region', cfg.region]), 's3 endpoint create');
  cliOk(await srv.cli(['datastore', 'create', STORE, join(srv.dir, 'cache'), '--backend', `type=s3,client=rgw,bucket=${bucket},cache-size=16M`]), 'datastore create --backend');
}, TIMEOUT);

after(async () => {
  if (skip !== false) return;
  await srv?.close();
  if (client) {
    await client.deleteMany(await keys('')).catch(() => undefined);
    client.destroy();
  }
});

test('holdfast backup to an S3 datastore and restore from it are byte-identical; chunks and snapshot files are objects in the bucket', { skip, ...TIMEOUT }, async () => {
  cliOk(await srv.cli(['backup', `root.pxar:${join(work, 'src')}`, `disk.img:${join(work, 'disk.img')}`, '--backup-id', 'web', '--backup-time', String(T0)], STORE), 'backup');
  const chunkKeys = await keys(`${STORE}/.chunks/`);
  assert.ok(chunkKeys.length >= 4, chunkKeys.join('\n'));
  const cnt = await keys(`${STORE}/.cnt/host/web/`);
  assert.ok(cnt.some((k) => k.endsWith('/index.json.blob')), cnt.join('\n'));
  assert.ok(cnt.some((k) => k.endsWith('/disk.img.fidx')), cnt.join('\n'));
  const snap = `host/web/${T0}`;
  cliOk(await srv.cli(['restore', snap, 'disk.img', join(work, 'disk.out')], STORE), 'restore disk.img');
  cliOk(await srv.cli(['restore', snap, 'root.pxar', join(work, 'tree.out')], STORE), 'restore root.pxar');
  assert.equal(sha(join(work, 'disk.out')), sha(join(work, 'disk.img')));
  assert.equal(sha(join(work, 'tree.out', 'big.bin')), sha(join(work, 'src', 'big.bin')));
  assert.equal(readFileSync(join(work, 'tree.out', 'sub', 'small.txt'), 'utf8'), 'hello from S3\n');
});

test('GC, verify and prune on an S3 datastore; its status reports the S3 request and byte counters', { skip, ...TIMEOUT }, async () => {
  writeFileSync(join(work, 'disk2.img'), fastRandom(5 * MIB, 9));
  cliOk(await srv.cli(['backup', `disk.img:${join(work, 'disk2.img')}`, '--backup-id', 'web', '--backup-time', String(T0 + 3600)], STORE), 'second backup');
  cliOk(await srv.cli(['verify', STORE]), 'verify');
  cliOk(await srv.cli(['prune', 'host/web', '--keep-last', '1'], STORE), 'prune');
  const before = (await keys(`${STORE}/.chunks/`)).length;
  assert.equal((await keys(`${STORE}/.cnt/host/web/`)).filter((k) => k.endsWith('/index.json.blob')).length, 1, 'prune removed the old manifest from the bucket');
  // GC removes only chunks older than the cutoff (a day): this run marks and sweeps nothing young
  cliOk(await srv.cli(['gc', 'start', STORE]), 'gc');
  assert.equal((await keys(`${STORE}/.chunks/`)).length, before);
  cliOk(await srv.cli(['restore', `host/web/${T0 + 3600}`, 'disk.img', join(work, 'disk2.out')], STORE), 'restore after gc');
  assert.equal(sha(join(work, 'disk2.out')), sha(join(work, 'disk2.img')));
  const admin = await srv.admin();
  const status = (await admin.get(`admin/datastore/${STORE}/status`)) as { 'storage-counters'?: Record<string, number> };
  const c = status['storage-counters'];
  assert.ok(c, JSON.stringify(status));
  assert.ok((c['put'] ?? 0) > 0 && (c['uploadBytes'] ?? 0) > 14 * MIB, JSON.stringify(c));
  const metrics = await fetchMetrics();
  assert.match(metrics, new RegExp(`holdfast_datastore_storage_total\\{store="${STORE}",counter="put"\\} [1-9]`));
  assert.match(metrics, new RegExp(`holdfast_datastore_storage_total\\{store="${STORE}",counter="uploadBytes"\\} [1-9]`));
});

test('group move on an S3 datastore: the objects follow (copied first, the old ones removed) and it restores from the new namespace, then moves back', { skip, ...TIMEOUT }, async () => {
  cliOk(await srv.cli(['namespace', 'create', 'moved'], STORE), 'namespace create');
  const before = (await keys(`${STORE}/.cnt/host/web/`)).map((k) => k.slice(`${STORE}/.cnt/host/web/`.length)).sort();
  cliOk(await srv.cli(['group', 'move', 'host/web', 'moved'], STORE), 'group move');
  assert.deepEqual(await keys(`${STORE}/.cnt/host/web/`), [], 'nothing left at the old place');
  const after = (await keys(`${STORE}/.cnt/ns/moved/host/web/`)).map((k) => k.slice(`${STORE}/.cnt/ns/moved/host/web/`.length)).sort();
  assert.deepEqual(after, before, 'every object (owner, snapshot files, manifest) at the new place');
  cliOk(await srv.cli(['restore', `host/web/${T0 + 3600}`, 'disk.img', join(work, 'moved.out'), '--ns', 'moved'], STORE), 'restore from the new namespace');
  assert.equal(sha(join(work, 'moved.out')), sha(join(work, 'disk2.img')));
  cliOk(await srv.cli(['group', 'move', 'host/web', '/', '--ns', 'moved'], STORE), 'and back to the root');
  assert.deepEqual((await keys(`${STORE}/.cnt/host/web/`)).map((k) => k.slice(`${STORE}/.cnt/host/web/`.length)).sort(), before);
  assert.deepEqual(await keys(`${STORE}/.cnt/ns/moved/host/`), []);
});

test('--reuse-datastore: a new, empty cache attaches to the bucket prefix, lists its snapshots and restores them; without it the prefix is refused', { skip, ...TIMEOUT }, async () => {
  const backend = `type=s3,client=rgw,bucket=${bucket},cache-size=16M`;
  cliOk(await srv.cli(['datastore', 'remove', STORE]), 'datastore remove (config only)');
  const cache2 = join(srv.dir, 'cache2');
  const refused = await srv.cli(['datastore', 'create', STORE, cache2, '--backend', backend]);
  assert.equal(refused.code, 4, describeCli(refused));
  assert.match(refused.stderr, /ALREADY_EXISTS.*--reuse-datastore/);
  cliOk(await srv.cli(['datastore', 'create', STORE, cache2, '--backend', backend, '--reuse-datastore']), 'datastore create --reuse-datastore');
  const listed = JSON.parse(cliOk(await srv.cli(['snapshot', 'list', '--output-format', 'json'], STORE), 'snapshot list').stdout) as { 'backup-time': number }[];
  assert.deepEqual(listed.map((s) => s['backup-time']), [T0 + 3600]);
  cliOk(await srv.cli(['restore', `host/web/${T0 + 3600}`, 'disk.img', join(work, 'disk3.out')], STORE), 'restore from the re-attached store');
  assert.equal(sha(join(work, 'disk3.out')), sha(join(work, 'disk2.img')));
});
