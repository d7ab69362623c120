/**
 * Hostile and broken clients against a real HTTPS server: each bad request gets a coded error
 * with an HTTP 4xx, the server keeps serving, and no partial snapshot ever becomes visible.
 * Protocol-level cases speak the backup/reader protocols directly (HttpClient.upgrade +
 * H2Session.request); the rest go through the real CLI.
 *
 * When a session ends without `finish`, the server removes its snapshot and then releases the
 * group lock; the tests wait for that release (seen through an observing Locker), not for time.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isHoldfastError } from '../../src/core/errors.ts';
import { sha256, toHex } from '../../src/core/digest.ts';
import { encodeBlob, MAX_CHUNK_SIZE } from '../../src/format/blob.ts';
import { dynamicIndexCsum, parseDynamicIndex } from '../../src/format/dynamic-index.ts';
import { encodeManifestBlob } from '../../src/format/manifest.ts';
import type { HttpClient } from '../../src/remote/http-client.ts';
import type { H2Query, H2Response, H2Session } from '../../src/remote/h2-session.ts';
import { BACKUP_PROTOCOL, READER_PROTOCOL } from '../../src/server/h2-upgrade.ts';
import { describeCli, fastRandom, ObservedLocker, spawnCli, startTestServer, type TestServer } from '../helpers/server-fixture.ts';

const T0 = 1_800_000_000;
const locker = new ObservedLocker();
let srv: TestServer;
let admin: HttpClient;

before(async () => {
  srv = await startTestServer({ locker });
  admin = await srv.admin();
});

after(async () => {
  await srv?.close();
});

const groupPath = (id: string, ns = ''): string => join(srv.datastorePath(), ...ns.split('/').filter(Boolean).flatMap((n) => ['ns', n]), 'host', id);

async function rejects(p: Promise<unknown>, code: string, status: number, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isHoldfastError(e), `not a HoldfastError: ${String(e)}`);
    assert.equal(e.code, code, `code of "${e.message}"`);
    assert.equal(e.details['status'], status, `status of ${code} "${e.message}"`);
    assert.ok(e.message.length > 10, `message "${e.message}" is not descriptive`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

const TIMEOUT = { timeout: 60_000 };

/** The server still answers API calls and has no visible snapshot beyond `expected`. */
async function assertServing(expected: readonly string[] = []): Promise<void> {
  assert.equal(((await admin.get('version')) as { version: string }).version, '0.1');
  const listed = (await admin.get('admin/datastore/default/snapshots')) as { 'backup-id': string; 'backup-time': number }[];
  assert.deepEqual(listed.map((s) => `${s['backup-id']}/${s['backup-time']}`).sort(), [...expected].sort());
}

interface Session {
  readonly h2: H2Session;
  /** Drops the connection and resolves once the server cleaned the session up. */
  drop(): Promise<void>;
}

async function openBackup(id: string, time: number, opts: { ns?: string; client?: HttpClient } = {}): Promise<Session> {
  const q: H2Query = { store: 'default', 'backup-type': 'host', 'backup-id': id, 'backup-time': time, ...(opts.ns ? { ns: opts.ns } : {}) };
  const h2 = await (opts.client ?? admin).upgrade('backup', q, BACKUP_PROTOCOL);
  return {
    h2,
    drop: async () => {
      // a failed or successful `finish` has released the group already
      const released = locker.isHeld(groupPath(id, opts.ns)) ? locker.nextRelease(groupPath(id, opts.ns)) : undefined;
      h2.destroy();
      await released;
    },
  };
}

function chunkOf(data: Uint8Array): { blob: Uint8Array; digest: string; size: number } {
  return { blob: encodeBlob(data, { compress: true }), digest: toHex(sha256(data)), size: data.length };
}

function uploadChunk(h2: H2Session, wid: number, c: { blob: Uint8Array; digest: string; size: number }, over: H2Query = {}): Promise<H2Response> {
  return h2.request('POST', 'dynamic_chunk', { wid, digest: c.digest, size: c.size, 'encoded-size': c.blob.length, ...over }, c.blob);
}

async function json(p: Promise<H2Response>): Promise<unknown> {
  const r = await p;
  assert.equal(r.kind, 'json');
  return r.kind === 'json' ? r.json : undefined;
}

function snapshotDirs(): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir, { withFileTypes: true })) {
      if (!name.isDirectory() || name.name.startsWith('.')) continue;
      const r = rel ? `${rel}/${name.name}` : name.name;
      if (/^\d{4}-\d\d-\d\dT/.test(name.name)) out.push(r);
      else walk(join(dir, name.name), r);
    }
  };
  walk(srv.datastorePath(), '');
  return out.sort();
}

test('a chunk over 16 MiB is refused with CHUNK_TOO_LARGE, and a body longer than its encoded-size with SIZE_MISMATCH', TIMEOUT, async () => {
  const s = await openBackup('big', T0);
  try {
    const wid = (await json(s.h2.request('POST', 'dynamic_index', { 'archive-name': 'a.pxar.didx' }))) as number;
    const huge = chunkOf(new Uint8Array(MAX_CHUNK_SIZE + 1)); // compresses to a small body
    await rejects(uploadChunk(s.h2, wid, huge), 'CHUNK_TOO_LARGE', 400);
    const body = fastRandom(MAX_CHUNK_SIZE + 256 * 1024, 3);
    await rejects(s.h2.request('POST', 'dynamic_chunk', { wid, digest: toHex(sha256(body)), size: MAX_CHUNK_SIZE, 'encoded-size': body.length }, body), 'CHUNK_TOO_LARGE', 400);
    await rejects(s.h2.request('POST', 'dynamic_chunk', { wid, digest: toHex(sha256(body)), size: 4096, 'encoded-size': 4096 + 12 }, body), 'SIZE_MISMATCH', 400, /more than the 4108 announced/);
    // the session is still usable after both refusals
    const small = chunkOf(fastRandom(1000, 4));
    assert.equal(await json(uploadChunk(s.h2, wid, small)), small.digest);
  } finally {
    await s.drop();
  }
  await assertServing();
});

test('a chunk with a wrong digest, size or encoded size is refused and never stored', TIMEOUT, async () => {
  const s = await openBackup('wrong', T0);
  try {
    const wid = (await json(s.h2.request('POST', 'dynamic_index', { 'archive-name': 'a.pxar.didx' }))) as number;
    const c = chunkOf(fastRandom(5000, 5));
    const other = toHex(sha256(Buffer.from('something else')));
    await rejects(uploadChunk(s.h2, wid, c, { digest: other }), 'DIGEST_MISMATCH', 400);
    await rejects(uploadChunk(s.h2, wid, c, { size: c.size + 1 }), 'SIZE_MISMATCH', 400);
    await rejects(uploadChunk(s.h2, wid, c, { 'encoded-size': c.blob.length - 1 }), 'SIZE_MISMATCH', 400);
    await rejects(uploadChunk(s.h2, wid, c, { digest: 'not-hex' }), 'INVALID_ARGUMENT', 400);
    for (const d of [other, c.digest]) assert.equal(existsSync(join(srv.datastorePath(), '.chunks', d.slice(0, 4), d)), false, `chunk ${d} was stored`);
    // a refused chunk is not known: an index may not reference it
    await rejects(s.h2.request('PUT', 'dynamic_index', {}, { json: { wid, 'digest-list': [other], 'offset-list': [0] } }), 'UNKNOWN_CHUNK', 400);
  } finally {
    await s.drop();
  }
  await assertServing();
});

test('an unknown wid and an index close with a wrong count, size or csum are refused; finish then fails and leaves nothing', TIMEOUT, async () => {
  const s = await openBackup('index', T0);
  try {
    const wid = (await json(s.h2.request('POST', 'dynamic_index', { 'archive-name': 'a.pxar.didx' }))) as number;
    const chunks = [chunkOf(fastRandom(3000, 6)), chunkOf(fastRandom(4000, 7))];
    for (const c of chunks) await uploadChunk(s.h2, wid, c);
    const append = { wid, 'digest-list': chunks.map((c) => c.digest), 'offset-list': [0, 3000] };
    await rejects(s.h2.request('PUT', 'dynamic_index', {}, { json: { ...append, wid: 99 } }), 'UNKNOWN_WRITER', 400);
    const stray = chunkOf(fastRandom(2000, 8));
    await rejects(uploadChunk(s.h2, 99, stray), 'UNKNOWN_WRITER', 400);
    assert.equal(existsSync(join(srv.datastorePath(), '.chunks', stray.digest.slice(0, 4), stray.digest)), false, 'a chunk for an unknown wid was stored');
    await s.h2.request('PUT', 'dynamic_index', {}, { json: append });
    const csum = toHex(dynamicIndexCsum(chunks.map((c, i) => ({ end: i === 0 ? 3000 : 7000, digest: Buffer.from(c.digest, 'hex') }))).csum);
    const close = (over: H2Query): Promise<H2Response> => s.h2.request('POST', 'dynamic_close', { wid, 'chunk-count': 2, size: 7000, csum, ...over });
    await rejects(close({ wid: 99 }), 'UNKNOWN_WRITER', 400);
    await rejects(close({ 'chunk-count': 3 }), 'INDEX_MISMATCH', 400);
    await rejects(close({ size: 7001 }), 'INDEX_MISMATCH', 400);
    await rejects(close({ csum: toHex(sha256(Buffer.from('x'))) }), 'INDEX_MISMATCH', 400);
    await rejects(s.h2.request('POST', 'finish'), 'PROTOCOL_ERROR', 400);
    assert.equal(existsSync(join(groupPath('index'), '2027-01-15T08:00:00Z')), false, 'a failed finish left the snapshot dir');
  } finally {
    await s.drop();
  }
  await assertServing();
});

test('`..`, `/` and control characters in a backup id or namespace are refused at the upgrade', TIMEOUT, async () => {
  const before = snapshotDirs();
  for (const id of ['..', '.', 'a/b', '../escape', 'tab\there', 'nl\nx', 'nul\u0000x', 'del\u007fx', '']) {
    await rejects(admin.upgrade('backup', { store: 'default', 'backup-type': 'host', 'backup-id': id, 'backup-time': T0 }, BACKUP_PROTOCOL), id === '' ? 'INVALID_ARGUMENT' : 'INVALID_NAME', 400);
  }
  for (const ns of ['..', 'a/../b', '/abs', 'a//b', 'trailing/', 'ctl\u0001', 'x/\ty']) {
    await rejects(admin.upgrade('backup', { store: 'default', 'backup-type': 'host', 'backup-id': 'ok', 'backup-time': T0, ns }, BACKUP_PROTOCOL), 'INVALID_NAME', 400);
  }
  await rejects(admin.upgrade('backup', { store: 'default', 'backup-type': 'nope', 'backup-id': 'ok', 'backup-time': T0 }, BACKUP_PROTOCOL), 'INVALID_NAME', 400);
  for (const flags of [['--backup-id', '../escape'], ['--backup-id', 'ok', '--ns', '../up']]) {
    const r = await srv.cli(['backup', `app.conf:${join(srv.configDir, 'initial-admin-password')}`, ...flags]);
    assert.equal(r.code, 2, describeCli(r));
    assert.match(r.stderr, /^error \[INVALID_NAME\]: /m);
  }
  assert.deepEqual(readdirSync(srv.datastorePath()).filter((n) => !n.startsWith('.')).sort(), ['host']);
  assert.deepEqual(snapshotDirs(), before);
  await assertServing();
});

test('a second concurrent backup of the same group is LOCKED (409)', TIMEOUT, async () => {
  const s = await openBackup('busy', T0);
  try {
    await rejects(openBackup('busy', T0 + 60), 'LOCKED', 409);
    await rejects(openBackup('busy', T0), 'LOCKED', 409);
  } finally {
    await s.drop();
  }
  assert.equal(existsSync(join(groupPath('busy'), '2027-01-15T08:00:00Z')), false);
  await assertServing();
});

let confFile = '';

test('a backup time older than (or equal to) the last snapshot is refused', TIMEOUT, async () => {
  confFile = join(srv.dir, 'app.conf');
  writeFileSync(confFile, 'setting = 1\n');
  const r = await srv.cli(['backup', `app.conf:${confFile}`, '--backup-id', 'timed', '--backup-time', String(T0)]);
  assert.equal(r.code, 0, describeCli(r));
  await rejects(openBackup('timed', T0 - 60), 'BACKUP_TIME_NOT_NEWER', 400);
  const same = openBackup('timed', T0);
  await assert.rejects(same, (e: unknown) => isHoldfastError(e) && ['BACKUP_TIME_NOT_NEWER', 'ALREADY_EXISTS'].includes(e.code) && Number(e.details['status']) >= 400 && Number(e.details['status']) < 500);
  const cli = await srv.cli(['backup', `app.conf:${confFile}`, '--backup-id', 'timed', '--backup-time', String(T0 - 1)]);
  assert.equal(cli.code, 4, describeCli(cli));
  assert.match(cli.stderr, /error \[BACKUP_TIME_NOT_NEWER\]: backup time .* is not newer/);
  await assertServing([`timed/${T0}`]);
});

test('no credentials and a wrong password are 401, for the API, the upgrade and the CLI', TIMEOUT, async () => {
  const anon = srv.http();
  await rejects(anon.get('admin/datastore/default/snapshots'), 'UNAUTHENTICATED', 401);
  await rejects(anon.upgrade('backup', { store: 'default', 'backup-type': 'host', 'backup-id': 'anon', 'backup-time': T0 }, BACKUP_PROTOCOL), 'UNAUTHENTICATED', 401);
  await rejects(anon.upgrade('reader', { store: 'default', 'backup-type': 'host', 'backup-id': 'timed', 'backup-time': T0 }, READER_PROTOCOL), 'UNAUTHENTICATED', 401);
  await rejects(srv.http().login('admin@pbs', 'wrong password'), 'UNAUTHENTICATED', 401);
  const r = await srv.cli(['backup', `app.conf:${confFile}`, '--backup-id', 'anon'], 'default', { HOLDFAST_PASSWORD: 'wrong password' });
  assert.equal(r.code, 5, describeCli(r));
  assert.match(r.stderr, /error \[UNAUTHENTICATED\]/);
  assert.equal(existsSync(groupPath('anon')), false);
  await assertServing([`timed/${T0}`]);
});

test('a token without a role is 403 even when its user may back up', TIMEOUT, async () => {
  await admin.post('access/users', { userid: 'bob@pbs', password: 'bob-password' });
  await admin.put('access/acl', { path: '/datastore/default', role: 'DatastoreBackup', 'auth-id': 'bob@pbs' });
  const t = (await admin.post('access/users/bob@pbs/token/nightly')) as { tokenid: string; value: string };
  const token = srv.http({ tokenid: t.tokenid, secret: t.value });
  await rejects(token.upgrade('backup', { store: 'default', 'backup-type': 'host', 'backup-id': 'bob', 'backup-time': T0 }, BACKUP_PROTOCOL), 'FORBIDDEN', 403);
  await rejects(token.get('admin/datastore/default/snapshots'), 'FORBIDDEN', 403);
  const r = await srv.cli(['backup', `app.conf:${confFile}`, '--backup-id', 'bob'], 'default', {
    HOLDFAST_REPOSITORY: `${t.tokenid}@127.0.0.1:${srv.port}:default`,
    HOLDFAST_PASSWORD: t.value,
  });
  assert.equal(r.code, 5, describeCli(r));
  assert.match(r.stderr, /error \[FORBIDDEN\]/);
  // the user itself may
  const user = srv.http();
  await user.login('bob@pbs', 'bob-password');
  const s = await openBackup('bob', T0, { client: user });
  await s.drop();
  await assertServing([`timed/${T0}`]);
});

test('the reader serves only chunks listed by an index downloaded in the same session', TIMEOUT, async () => {
  const dirA = join(srv.dir, 'tree-a');
  const dirB = join(srv.dir, 'tree-b');
  mkdirSync(dirA);
  mkdirSync(dirB);
  writeFileSync(join(dirA, 'a.bin'), fastRandom(300_000, 10));
  writeFileSync(join(dirB, 'b.bin'), fastRandom(300_000, 11));
  for (const [id, dir] of [['ra', dirA], ['rb', dirB]] as const) {
    const r = await srv.cli(['backup', `data.pxar:${dir}`, '--change-detection-mode', 'legacy', '--backup-id', id, '--backup-time', String(T0)]);
    assert.equal(r.code, 0, describeCli(r));
  }
  const digestsOf = (id: string): string[] =>
    parseDynamicIndex(readFileSync(join(groupPath(id), '2027-01-15T08:00:00Z', 'data.pxar.didx'))).entries.map((e) => toHex(e.digest));
  const [mine, theirs] = [digestsOf('ra'), digestsOf('rb')];
  const reader = await admin.upgrade('reader', { store: 'default', 'backup-type': 'host', 'backup-id': 'ra', 'backup-time': T0 }, READER_PROTOCOL);
  try {
    await rejects(reader.request('GET', 'chunk', { digest: mine[0]! }), 'CHUNK_NOT_ALLOWED', 403);
    await reader.request('GET', 'download', { 'file-name': 'data.pxar.didx' });
    const got = await reader.request('GET', 'chunk', { digest: mine[0]! });
    assert.equal(got.kind, 'bytes');
    await rejects(reader.request('GET', 'chunk', { digest: theirs[0]! }), 'CHUNK_NOT_ALLOWED', 403);
    await rejects(reader.request('GET', 'download', { 'file-name': '../rb/2027-01-15T08:00:00Z/data.pxar.didx' }), 'INVALID_NAME', 400);
  } finally {
    await reader.close();
  }
  await assertServing([`timed/${T0}`, `ra/${T0}`, `rb/${T0}`]);
});

test('a client that disconnects mid-backup leaves no snapshot dir (protocol and CLI)', TIMEOUT, async () => {
  // protocol level: data, an index and a manifest uploaded, then the connection drops before finish
  const s = await openBackup('cut', T0);
  const wid = (await json(s.h2.request('POST', 'dynamic_index', { 'archive-name': 'a.pxar.didx' }))) as number;
  const c = chunkOf(fastRandom(10_000, 12));
  await uploadChunk(s.h2, wid, c);
  await s.h2.request('PUT', 'dynamic_index', {}, { json: { wid, 'digest-list': [c.digest], 'offset-list': [0] } });
  await s.h2.request('POST', 'dynamic_close', { wid, 'chunk-count': 1, size: 10_000, csum: toHex(dynamicIndexCsum([{ end: 10_000, digest: Buffer.from(c.digest, 'hex') }]).csum) });
  const manifest = encodeManifestBlob({ backupType: 'host', backupId: 'cut', backupTime: T0, files: [], unprotected: {}, signature: null });
  await s.h2.request('POST', 'blob', { 'file-name': 'index.json.blob', 'encoded-size': manifest.length }, manifest);
  assert.equal(existsSync(join(groupPath('cut'), '2027-01-15T08:00:00Z')), true, 'the unfinished snapshot dir should exist while the session runs');
  await assertServing([`timed/${T0}`, `ra/${T0}`, `rb/${T0}`]);
  await s.drop();
  assert.equal(existsSync(join(groupPath('cut'), '2027-01-15T08:00:00Z')), false, 'the dropped backup left its snapshot dir');

  // CLI: killed as soon as the server has locked its snapshot
  const big = join(srv.dir, 'big.img');
  writeFileSync(big, fastRandom(48 * 1024 * 1024, 13));
  const snapLocked = locker.nextAcquire(join(groupPath('killed'), '2027-01-15T08:00:00Z'));
  const released = locker.nextRelease(groupPath('killed'));
  const cli = spawnCli(['backup', `disk.img:${big}`, '--backup-id', 'killed', '--backup-time', String(T0)], srv.env());
  await snapLocked;
  cli.child.kill('SIGKILL');
  await cli.result;
  await released;
  assert.equal(existsSync(join(groupPath('killed'), '2027-01-15T08:00:00Z')), false, 'the killed backup left its snapshot dir');
  assert.deepEqual(snapshotDirs(), [`host/ra/2027-01-15T08:00:00Z`, `host/rb/2027-01-15T08:00:00Z`, `host/timed/2027-01-15T08:00:00Z`]);
  await assertServing([`timed/${T0}`, `ra/${T0}`, `rb/${T0}`]);
  // and the group is free again: a complete backup of it works
  const r = await srv.cli(['backup', `app.conf:${confFile}`, '--backup-id', 'killed', '--backup-time', String(T0 + 1)]);
  assert.equal(r.code, 0, describeCli(r));
});
