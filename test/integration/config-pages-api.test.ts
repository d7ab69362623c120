/**
 * The APIs behind the web UI's S3, notification and benchmark pages, on a real server: S3
 * endpoints and notification targets/matchers are listed, created and deleted over HTTPS and land
 * in the same files the CLI edits; secrets are stored (0600) and never sent back; control
 * characters cannot reach the line-based config files; the benchmark route reads the results
 * directory. A user without Sys.Audit / Sys.Modify is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/log.ts';
import { HttpClient } from '../../src/remote/http-client.ts';
import { startHoldfastServer, type HoldfastServer } from '../../src/server/holdfast-server.ts';
import { makeTempDir } from '../helpers/tmp.ts';

let dir = '';
let hs: HoldfastServer;
let admin: HttpClient;
let eve: HttpClient;
const SECRET = 'very-secret-key-123';

before(async () => {
  dir = makeTempDir();
  const results = join(dir, 'results');
  mkdirSync(results);
  copyFileSync(new URL('../../bench/results/sync-level-20261124T194604Z.json', import.meta.url), join(results, 'sync-level-20261124T194604Z.json'));
  writeFileSync(join(results, 'daily-20261201T100000Z.json'), JSON.stringify({ schema: 'holdfast-benchmark-daily/1', startedAt: '2026-12-01T10:00:00.000Z', data: 'generated', bytes: 1024, runs: 1, tools: [{ name: 'holdfast', version: '0.1.0' }], cells: [{ tool: 'holdfast', step: 'first', seconds: [1.5], median: 1.5, peakRss: 1000 }], notes: [] }));
  writeFileSync(join(results, 'soak-20261203T1254Z.json'), '{"schema":"other"}');
  hs = await startHoldfastServer({ configDir: join(dir, 'cfg'), host: '127.0.0.1', port: 0, log: silentLogger, workerThreads: false, benchResultsDir: results });
  const client = () => new HttpClient({ host: '127.0.0.1', port: hs.server.port, fingerprint: hs.server.fingerprint });
  admin = client();
  await admin.login('admin@pbs', hs.firstStart.adminPassword ?? '');
  await admin.post('access/users', { userid: 'eve@pbs', password: 'secret-password-1' });
  eve = client();
  await eve.login('eve@pbs', 'secret-password-1');
});

after(async () => {
  await hs?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('config/s3: create, list without the secret key, delete; the secret is kept 0600 and a control character is refused', async () => {
  const made = (await admin.post('config/s3', { id: 'rgw1', endpoint: 'http://127.0.0.1:7480', 'access-key': 'AKIA1', 'secret-key': SECRET, 'path-style': true })) as Record<string, unknown>;
  assert.equal(made['id'], 'rgw1');
  const listed = await admin.get('config/s3');
  assert.deepEqual(listed, [{ id: 'rgw1', endpoint: 'http://127.0.0.1:7480', 'access-key': 'AKIA1', region: 'us-east-1', 'path-style': true }]);
  assert.ok(!JSON.stringify(listed).includes(SECRET));
  const secrets = join(dir, 'cfg', 's3-secrets.json');
  assert.ok(readFileSync(secrets, 'utf8').includes(SECRET));
  assert.equal(statSync(secrets).mode & 0o777, 0o600);
  await assert.rejects(admin.post('config/s3', { id: 'rgw2', endpoint: 'http://127.0.0.1:7480', 'access-key': 'A\nB', 'secret-key': 'x' }), /control character/);
  await assert.rejects(admin.post('config/s3', { id: 'rgw1', endpoint: 'http://127.0.0.1:7480', 'access-key': 'A', 'secret-key': 'x' }), /exists already/);
  await assert.rejects(eve.get('config/s3'), /permission check failed/);
  await assert.rejects(eve.delete('config/s3/rgw1'), /permission check failed/);
  await admin.delete('config/s3/rgw1');
  assert.deepEqual(await admin.get('config/s3'), []);
});

test('config/notifications: webhook and smtp targets and a matcher are created, listed without secrets and deleted in order', async () => {
  await admin.post('config/notifications/endpoints/webhook', { name: 'ops', url: 'https://hooks.example/h', secret: `Bearer ${SECRET}` });
  await admin.post('config/notifications/endpoints/smtp', { name: 'mail', server: 'mail.example', mode: 'tls', 'from-address': 'hf@example.org', mailto: 'a@example.org,b@example.org', username: 'hf', password: SECRET });
  await admin.post('config/notifications/matchers', { name: 'failures', 'match-severity': 'warning,error', 'match-type': 'garbage_collection', target: 'ops,mail' });
  const targets = (await admin.get('config/notifications/targets')) as Record<string, unknown>[];
  assert.deepEqual(targets.map((t) => [t['name'], t['type'], t['secret-set']]), [['ops', 'webhook', true], ['mail', 'smtp', true]]);
  assert.equal(targets[1]?.['port'], 465);
  assert.ok(!JSON.stringify(targets).includes(SECRET), 'no secret is sent back');
  assert.deepEqual(await admin.get('config/notifications/matchers'), [{ name: 'failures', 'match-severity': ['warning', 'error'], 'match-type': ['garbage_collection'], target: ['ops', 'mail'] }]);
  assert.match(readFileSync(join(dir, 'cfg', 'notifications.cfg'), 'utf8'), /^matcher: failures$/m, 'the file the CLI edits');

  await assert.rejects(admin.post('config/notifications/endpoints/webhook', { name: 'x', url: 'https://a.example/', comment: 'c\nwebhook: evil' }), /control character/);
  await assert.rejects(admin.post('config/notifications/endpoints/webhook', { name: 'y', url: 'ftp://a.example/' }), /webhook url/);
  await assert.rejects(admin.post('config/notifications/matchers', { name: 'm2', target: 'nope' }), /does not exist/);
  // a task type no task has would make a matcher that never fires
  await assert.rejects(admin.post('config/notifications/matchers', { name: 'm2', 'match-type': 'garbage-collection', target: 'ops' }), /match-type 'garbage-collection' is not a task type/);
  await assert.rejects(admin.delete('config/notifications/endpoints/ops'), /named by matcher failures/);
  await assert.rejects(eve.post('config/notifications/matchers', { name: 'm3', target: 'ops' }), /permission check failed/);

  await admin.delete('config/notifications/matchers/failures');
  await admin.delete('config/notifications/endpoints/ops');
  await admin.delete('config/notifications/endpoints/mail');
  assert.deepEqual(await admin.get('config/notifications/targets'), []);
  assert.doesNotMatch(readFileSync(join(dir, 'cfg', 'notifications-secrets.json'), 'utf8'), /very-secret/);
});

test('nodes/{node}/benchmarks lists the sync-level and daily reports of the results directory, newest first, and skips other files', async () => {
  const reports = (await admin.get('nodes/localhost/benchmarks')) as Record<string, unknown>[];
  assert.deepEqual(reports.map((r) => [r['kind'], r['file']]), [['daily', 'daily-20261201T100000Z.json'], ['sync-level', 'sync-level-20261124T194604Z.json']]);
  const sync = reports.find((r) => r['kind'] === 'sync-level') as { summary: { rows: { cells: { column: string; medianSeconds: number }[] }[] }[] };
  assert.ok(sync.summary[0]?.rows[0]?.cells.some((c) => c.column === 'none' && c.medianSeconds > 0));
  const daily = reports.find((r) => r['kind'] === 'daily') as { cells: { step: string; median: number }[] };
  assert.deepEqual(daily.cells.map((c) => [c.step, c.median]), [['first', 1.5]]);
  await assert.rejects(eve.get('nodes/localhost/benchmarks'), /permission check failed/);
});
