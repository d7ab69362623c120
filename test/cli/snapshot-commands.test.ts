/**
 * The snapshot and repository commands as a user runs them against a real server: `snapshot list`
 * (human sizes, encrypted and verify columns as the web UI words them, a visible row for a
 * snapshot whose manifest is unreadable), `snapshot files`, `snapshot notes show|update`,
 * `snapshot protected show|update`, `status` and `list`.
 *
 * The tests run in order and share one server with three groups: plain, encrypted, and one whose
 * manifest was overwritten with garbage.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTime } from '../../src/core/backup-ref.ts';
import { describeCli, fastRandom, startTestServer, type CliResult, type TestServer } from '../helpers/server-fixture.ts';

const T = 1_800_000_000;
const PLAIN = `host/plain/${formatTime(T)}`;
const TIMEOUT = { timeout: 120_000 };
let srv: TestServer;

async function ok(args: readonly string[]): Promise<string> {
  const r: CliResult = await srv.cli(args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${describeCli(r)}`);
  return r.stdout;
}

before(async () => {
  srv = await startTestServer();
  const work = join(srv.dir, 'work');
  mkdirSync(work);
  writeFileSync(join(work, 'a.conf'), fastRandom(3000, 9));
  const conf = `a.conf:${join(work, 'a.conf')}`;
  const key = join(work, 'key.json');
  await ok(['key', 'create', key, '--kdf', 'none']);
  await ok(['backup', conf, '--backup-id', 'plain', '--backup-time', String(T)]);
  await ok(['backup', conf, '--backup-id', 'enc', '--backup-time', String(T), '--keyfile', key]);
  await ok(['backup', conf, '--backup-id', 'broken', '--backup-time', String(T)]);
  writeFileSync(join(srv.datastorePath(), 'host', 'broken', formatTime(T), 'index.json.blob'), 'not a blob');
}, TIMEOUT);

after(async () => {
  await srv?.close();
});

test('snapshot list shows human sizes, encryption, verify state as the web UI does, and an unreadable manifest as a row with its error', TIMEOUT, async () => {
  const text = await ok(['snapshot', 'list']);
  const row = (id: string): string => text.split('\n').find((l) => l.startsWith(`host/${id}/`)) ?? '';
  assert.match(text.split('\n')[0] ?? '', /^snapshot +size +files +encrypted +verify +protected$/);
  assert.match(row('plain'), /\d(\.\d+)? KiB +a\.conf\.blob +no +none/);
  assert.match(row('enc'), /a\.conf\.blob +yes +none/);
  assert.match(row('broken'), /error: \S+/);
  const json = JSON.parse(await ok(['snapshot', 'list', '--output-format', 'json'])) as { 'backup-id': string; size?: number }[];
  assert.equal(typeof json.find((s) => s['backup-id'] === 'plain')?.size, 'number', 'JSON keeps sizes in bytes');
});

test('snapshot files lists the manifest and the archives of a snapshot', TIMEOUT, async () => {
  const text = await ok(['snapshot', 'files', PLAIN]);
  assert.match(text, /^index\.json\.blob +none$/m);
  assert.match(text, /^a\.conf\.blob +\S+ KiB +none$/m);
});

test('snapshot notes update then show round-trips the notes', TIMEOUT, async () => {
  await ok(['snapshot', 'notes', 'update', PLAIN, 'before the upgrade']);
  assert.equal((await ok(['snapshot', 'notes', 'show', PLAIN])).trim(), 'before the upgrade');
});

test('snapshot protected update true protects from forget; show reports it', TIMEOUT, async () => {
  await ok(['snapshot', 'protected', 'update', PLAIN, 'true']);
  assert.equal((await ok(['snapshot', 'protected', 'show', PLAIN])).trim(), 'protected');
  const forget = await srv.cli(['snapshot', 'forget', PLAIN]);
  assert.equal(forget.code, 4, describeCli(forget));
  await ok(['snapshot', 'protected', 'update', PLAIN, 'false']);
  assert.equal((await ok(['snapshot', 'protected', 'show', PLAIN])).trim(), 'not protected');
});

test('status shows the datastore usage in human units; list shows the groups', TIMEOUT, async () => {
  assert.match(await ok(['status']), /^datastore default: \S+ [KMGT]?i?B used of \S+ [KMGT]?i?B \(\d+\.\d\d%\), \S+ [KMGT]?i?B available$/m);
  const status = JSON.parse(await ok(['status', '--output-format', 'json'])) as { total: number };
  assert.equal(typeof status.total, 'number');
  const groups = await ok(['list']);
  for (const id of ['broken', 'enc', 'plain']) assert.match(groups, new RegExp(`^host/${id} +${formatTime(T)} +1 +`, 'm'));
});
