/**
 * Conformance with independent PBS clients: a raw HTTP/2 client (raw-client.ts, no Holdfast client
 * code) against a real server on loopback. It sends parameters in each of PBS's spellings (query,
 * JSON body, form body), authenticates with `PBSAPIToken` in both the `id:secret`-after-space and
 * after-`=` forms, runs full backup and reader sessions, and checks PBS's permission rules and the
 * strict input rules.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256, toHex } from '../../src/core/digest.ts';
import { encodeBlob } from '../../src/format/blob.ts';
import { dynamicIndexCsum, parseDynamicIndex } from '../../src/format/dynamic-index.ts';
import { fixedIndexCsum } from '../../src/format/fixed-index.ts';
import { decodeManifestBlob, encodeManifestBlob } from '../../src/format/manifest.ts';
import type { HttpClient } from '../../src/remote/http-client.ts';
import { BACKUP_PROTOCOL, READER_PROTOCOL } from '../../src/server/h2-upgrade.ts';
import { fastRandom, startTestServer, type TestServer } from '../helpers/server-fixture.ts';
import { data, PARAM_STYLES, RawApi, tokenHeader, type ParamStyle, type RawH2, type RawResponse } from './raw-client.ts';

const T0 = 1_800_000_000;
const TIMEOUT = { timeout: 120_000 };
let srv: TestServer;
let admin: HttpClient;
const tokens = new Map<string, { tokenid: string; secret: string }>();

async function makeToken(user: string, name: string, roles: readonly [string, string][]): Promise<void> {
  if (user !== 'admin@pbs') await admin.post('access/users', { userid: user, password: `${user}-password` });
  const t = (await admin.post(`access/users/${user}/token/${name}`)) as { tokenid: string; value: string };
  for (const [path, role] of roles) {
    for (const id of user === 'admin@pbs' ? [t.tokenid] : [user, t.tokenid]) await admin.put('access/acl', { path, role, 'auth-id': id });
  }
  tokens.set(user, { tokenid: t.tokenid, secret: t.value });
}

before(async () => {
  srv = await startTestServer();
  admin = await srv.admin();
  await makeToken('admin@pbs', 'conf', [['/', 'Admin']]);
  await makeToken('alice@pbs', 'bk', [['/datastore/default', 'DatastoreBackup']]);
  await makeToken('bob@pbs', 'bk', [['/datastore/default', 'DatastoreBackup']]);
  await makeToken('nobody@pbs', 't', []);
});

after(async () => {
  await srv?.close();
});

function api(user: string, sep: ' ' | '=' = '='): RawApi {
  const t = tokens.get(user);
  if (!t) throw new Error(`no token for ${user}`);
  return new RawApi(srv.port, tokenHeader(t.tokenid, t.secret, sep));
}

function chunkOf(bytes: Uint8Array): { blob: Uint8Array; digest: string; size: number } {
  return { blob: encodeBlob(bytes, { compress: false }), digest: toHex(sha256(bytes)), size: bytes.length };
}

function expectError(r: RawResponse, status: number, code: string): void {
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status}: ${r.body.toString()}`);
  assert.equal(r.headers['x-holdfast-error-code'], code, r.body.toString());
  assert.ok(!r.body.toString().includes(srv.dir), `the answer names a server path: ${r.body.toString()}`);
}

const group = (id: string) => ({ store: 'default', 'backup-type': 'host', 'backup-id': id });

interface Uploaded {
  readonly chunks: Map<string, Uint8Array>;
  readonly didx: { size: number; csum: string };
}

/** A complete backup as an independent client makes it, parameters in `style`. */
async function fullBackup(a: RawApi, style: ParamStyle, id: string, time: number): Promise<Uploaded> {
  const h2 = await a.upgrade('backup', { ...group(id), 'backup-time': time }, BACKUP_PROTOCOL);
  try {
    const prev = data(await h2.request('GET', 'previous_backup_time'));
    assert.ok(prev === null || typeof prev === 'number');
    const chunks = new Map<string, Uint8Array>();
    // dynamic index: two chunks
    const wid = data(await h2.call('POST', 'dynamic_index', style, { 'archive-name': 'root.pxar.didx' })) as number;
    assert.equal(typeof wid, 'number');
    const parts = [chunkOf(fastRandom(3000, time)), chunkOf(fastRandom(4000, time + 1))];
    for (const c of parts) {
      assert.equal(data(await h2.upload('dynamic_chunk', { wid, digest: c.digest, size: c.size, 'encoded-size': c.blob.length }, c.blob)), c.digest);
      chunks.set(c.digest, c.blob);
    }
    assert.equal(data(await h2.call('PUT', 'dynamic_index', style, { wid, 'digest-list': parts.map((c) => c.digest), 'offset-list': [0, 3000] })), null);
    const dcsum = toHex(dynamicIndexCsum(parts.map((c, i) => ({ end: i === 0 ? 3000 : 7000, digest: Buffer.from(c.digest, 'hex') }))).csum);
    data(await h2.call('POST', 'dynamic_close', style, { wid, 'chunk-count': 2, size: 7000, csum: dcsum }));
    // fixed index: one short chunk
    const fwid = data(await h2.call('POST', 'fixed_index', style, { 'archive-name': 'disk.img.fidx', size: 5000 })) as number;
    const f = chunkOf(fastRandom(5000, time + 2));
    data(await h2.upload('fixed_chunk', { wid: fwid, digest: f.digest, size: f.size, 'encoded-size': f.blob.length }, f.blob));
    data(await h2.call('PUT', 'fixed_index', style, { wid: fwid, 'digest-list': [f.digest], 'offset-list': [0] }));
    const fcsum = toHex(fixedIndexCsum([Buffer.from(f.digest, 'hex')], 5000).csum);
    data(await h2.call('POST', 'fixed_close', style, { wid: fwid, 'chunk-count': 1, size: 5000, csum: fcsum }));
    chunks.set(f.digest, f.blob);
    const manifest = encodeManifestBlob({
      backupType: 'host',
      backupId: id,
      backupTime: time,
      files: [
        { filename: 'disk.img.fidx', cryptMode: 'none', size: 5000, csum: fcsum },
        { filename: 'root.pxar.didx', cryptMode: 'none', size: 7000, csum: dcsum },
      ],
      unprotected: {},
      signature: null,
    });
    data(await h2.upload('blob', { 'file-name': 'index.json.blob', 'encoded-size': manifest.length }, manifest));
    assert.equal(data(await h2.call('POST', 'finish', style)), null);
    return { chunks, didx: { size: 7000, csum: dcsum } };
  } finally {
    await h2.close();
  }
}

/** Reads the snapshot back through the reader protocol and checks every chunk. */
async function readBack(a: RawApi, id: string, time: number, up: Uploaded): Promise<void> {
  const h2 = await a.upgrade('reader', { ...group(id), 'backup-time': time }, READER_PROTOCOL);
  try {
    const m = decodeManifestBlob((await h2.request('GET', 'download?file-name=index.json.blob')).body);
    assert.deepEqual(m.files.map((f) => f.filename).sort(), ['disk.img.fidx', 'root.pxar.didx']);
    const idx = parseDynamicIndex((await h2.request('GET', 'download?file-name=root.pxar.didx')).body);
    assert.equal(toHex(idx.csum), up.didx.csum);
    for (const e of idx.entries) {
      const digest = toHex(e.digest);
      const r = await h2.request('GET', `chunk?digest=${digest}`);
      assert.equal(r.status, 200);
      assert.deepEqual(new Uint8Array(r.body), up.chunks.get(digest));
    }
  } finally {
    await h2.close();
  }
}

for (const [i, style] of PARAM_STYLES.entries()) {
  test(`conformance: a full backup and reader session with parameters as ${style}`, TIMEOUT, async () => {
    const a = api('admin@pbs', i % 2 === 0 ? ' ' : '=');
    const up = await fullBackup(a, style, `conf-${style}`, T0 + i);
    await readBack(a, `conf-${style}`, T0 + i, up);
  });
}

test('conformance: PBSAPIToken is accepted as `PBSAPIToken id:secret` and `PBSAPIToken=id:secret`, and a wrong secret is 401', async () => {
  for (const sep of [' ', '='] as const) assert.equal(data(await api('admin@pbs', sep).request('GET', 'version')) !== null, true);
  const t = tokens.get('admin@pbs')!;
  const wrong = new RawApi(srv.port, tokenHeader(t.tokenid, `${t.secret}x`, ' '));
  expectError(await wrong.request('GET', 'version'), 401, 'UNAUTHENTICATED');
});

test('conformance: the REST API takes parameters from the query, a JSON body (any case, with charset) and a form body', TIMEOUT, async () => {
  const a = api('admin@pbs');
  await fullBackup(a, 'query', 'rest', T0);
  const snap = { 'backup-type': 'host', 'backup-id': 'rest', 'backup-time': T0 };
  const json = (body: unknown) => ({ body: Buffer.from(JSON.stringify(body)), contentType: 'Application/JSON;Charset=UTF-8' });
  data(await a.request('PUT', 'admin/datastore/default/notes', json({ ...snap, notes: 'from JSON' })));
  assert.equal(data(await a.call('GET', 'admin/datastore/default/notes', 'query', snap)), 'from JSON');
  data(await a.call('PUT', 'admin/datastore/default/protected', 'form', { ...snap, protected: 1 }));
  assert.equal(data(await a.call('GET', 'admin/datastore/default/protected', 'query', snap)), true);
  data(await a.call('PUT', 'admin/datastore/default/protected', 'json', { ...snap, protected: false }));
  const listed = data(await a.call('GET', 'admin/datastore/default/snapshots', 'query', { 'backup-type': 'host', 'backup-id': 'rest' })) as { protected: boolean; comment?: string }[];
  assert.deepEqual(listed.map((s) => [s.protected, s.comment]), [[false, 'from JSON']]);
  data(await a.call('DELETE', 'admin/datastore/default/snapshots', 'json', snap));
  assert.deepEqual(data(await a.call('GET', 'admin/datastore/default/snapshots', 'query', { 'backup-type': 'host', 'backup-id': 'rest' })), []);
});

test('permissions: a Datastore.Backup holder lists and reads only its own groups; store lists follow privileges', TIMEOUT, async () => {
  await fullBackup(api('alice@pbs'), 'json', 'alice-host', T0);
  await fullBackup(api('bob@pbs'), 'form', 'bob-host', T0);
  const alice = api('alice@pbs');
  const groups = data(await alice.call('GET', 'admin/datastore/default/groups', 'query')) as { 'backup-id': string }[];
  assert.deepEqual(groups.map((g) => g['backup-id']), ['alice-host']);
  const snaps = data(await alice.call('GET', 'admin/datastore/default/snapshots', 'query')) as { 'backup-id': string }[];
  assert.deepEqual(snaps.map((s) => s['backup-id']), ['alice-host']);
  assert.equal(data(await alice.call('GET', 'admin/datastore/default/notes', 'query', { 'backup-type': 'host', 'backup-id': 'alice-host', 'backup-time': T0 })), '');
  expectError(await alice.call('GET', 'admin/datastore/default/notes', 'query', { 'backup-type': 'host', 'backup-id': 'bob-host', 'backup-time': T0 }), 403, 'FORBIDDEN');
  assert.deepEqual(data(await alice.call('GET', 'admin/datastore/default/snapshots', 'query', { 'backup-type': 'host', 'backup-id': 'bob-host' })), []);
  assert.equal(data(await alice.call('GET', 'admin/datastore/default/status', 'query')) !== null, true);
  expectError(await alice.call('DELETE', 'admin/datastore/default/snapshots', 'query', { 'backup-type': 'host', 'backup-id': 'alice-host', 'backup-time': T0 }), 403, 'FORBIDDEN');
  assert.deepEqual(data(await alice.request('GET', 'admin/datastore')), [{ store: 'default', comment: 'created on first start' }]);
  assert.deepEqual(data(await api('nobody@pbs').request('GET', 'admin/datastore')), []);
  assert.deepEqual(data(await api('nobody@pbs').request('GET', 'config/datastore')), []);
  expectError(await api('nobody@pbs').request('GET', 'admin/datastore/default/groups'), 403, 'FORBIDDEN');
});

test('permissions: ACL paths outside PBS templates are refused', async () => {
  expectError(await api('admin@pbs').call('PUT', 'access/acl', 'json', { path: '/etc/passwd', role: 'Admin', 'auth-id': 'alice@pbs' }), 400, 'INVALID_ARGUMENT');
  const acl = data(await api('admin@pbs').request('GET', 'access/acl')) as { path: string }[];
  assert.equal(acl.some((e) => e.path === '/etc/passwd'), false);
});

/** An open backup session of the admin token for the strict-input cases. */
async function session(id: string, time = T0): Promise<RawH2> {
  return api('admin@pbs').upgrade('backup', { ...group(id), 'backup-time': time }, BACKUP_PROTOCOL);
}

test('strict input: backup-time must be an integer epoch in range', async () => {
  for (const t of ['1e10', '1800000000.5', '0', '-1', '0x6b49d200', '253402300800']) {
    await assert.rejects(api('admin@pbs').upgrade('backup', { ...group('strict-time'), 'backup-time': t }, BACKUP_PROTOCOL), /^Error: upgrade refused: 400 .*INVALID_ARGUMENT/, t);
  }
  expectError(await api('admin@pbs').call('GET', 'admin/datastore/default/notes', 'query', { 'backup-type': 'host', 'backup-id': 'x', 'backup-time': '1e10' }), 400, 'INVALID_ARGUMENT');
});

test('strict input: PUT fixed_index only for fixed writers, PUT dynamic_index only for dynamic ones', async () => {
  const h2 = await session('strict-kind');
  try {
    const dwid = data(await h2.call('POST', 'dynamic_index', 'json', { 'archive-name': 'a.pxar.didx' })) as number;
    const fwid = data(await h2.call('POST', 'fixed_index', 'json', { 'archive-name': 'b.img.fidx', size: 10 })) as number;
    const c = chunkOf(fastRandom(10, 1));
    data(await h2.upload('dynamic_chunk', { wid: dwid, digest: c.digest, size: c.size, 'encoded-size': c.blob.length }, c.blob));
    expectError(await h2.call('PUT', 'fixed_index', 'json', { wid: dwid, 'digest-list': [c.digest], 'offset-list': [0] }), 400, 'PROTOCOL_ERROR');
    expectError(await h2.call('PUT', 'dynamic_index', 'json', { wid: fwid, 'digest-list': [c.digest], 'offset-list': [0] }), 400, 'PROTOCOL_ERROR');
  } finally {
    await h2.close();
  }
});

test('strict input: archive names are unique in a session and at most 128 characters', async () => {
  const h2 = await session('strict-names');
  try {
    data(await h2.call('POST', 'dynamic_index', 'query', { 'archive-name': 'a.pxar.didx' }));
    expectError(await h2.call('POST', 'dynamic_index', 'json', { 'archive-name': 'a.pxar.didx' }), 409, 'ALREADY_EXISTS');
    expectError(await h2.call('POST', 'dynamic_index', 'json', { 'archive-name': `${'x'.repeat(124)}.didx` }), 400, 'INVALID_NAME');
    data(await h2.call('POST', 'dynamic_index', 'json', { 'archive-name': `${'x'.repeat(123)}.didx` }));
    const blob = encodeBlob(Buffer.from('conf'), { compress: false });
    data(await h2.upload('blob', { 'file-name': 'x.conf.blob', 'encoded-size': blob.length }, blob));
    expectError(await h2.upload('blob', { 'file-name': 'x.conf.blob', 'encoded-size': blob.length }, blob), 409, 'ALREADY_EXISTS');
  } finally {
    await h2.close();
  }
});

test('strict input: a NUL in any name is a 400, and no error names a server path', TIMEOUT, async () => {
  const a = api('admin@pbs');
  const h2 = await session('strict-nul');
  try {
    expectError(await h2.call('POST', 'dynamic_index', 'query', { 'archive-name': 'a\0.didx' }), 400, 'INVALID_NAME');
    expectError(await h2.call('POST', 'dynamic_index', 'json', { 'archive-name': 'a\0.didx' }), 400, 'INVALID_NAME');
    expectError(await h2.call('GET', 'previous', 'query', { 'archive-name': 'x\0.blob' }), 400, 'INVALID_NAME');
  } finally {
    await h2.close();
  }
  expectError(await a.request('GET', 'admin/datastore/def%00ault/status'), 400, 'INVALID_NAME');
  expectError(await a.call('GET', 'admin/datastore/default/snapshots', 'query', { 'backup-type': 'host', 'backup-id': 'a\0b' }), 400, 'INVALID_NAME');
  await assert.rejects(a.upgrade('backup', { store: 'def\0ault', 'backup-type': 'host', 'backup-id': 'x', 'backup-time': T0 }, BACKUP_PROTOCOL), /upgrade refused: 400/);
  // missing files: 404 with the file's name, never its path on the server
  await fullBackup(a, 'json', 'paths', T0);
  const reader = await a.upgrade('reader', { ...group('paths'), 'backup-time': T0 }, READER_PROTOCOL);
  try {
    const r = await reader.request('GET', 'download?file-name=missing.blob');
    expectError(r, 404, 'NOT_FOUND');
    assert.match(r.body.toString(), /missing\.blob/);
  } finally {
    await reader.close();
  }
  const next = await session('paths', T0 + 1);
  try {
    expectError(await next.call('GET', 'previous', 'query', { 'archive-name': 'missing.blob' }), 404, 'NOT_FOUND');
  } finally {
    await next.close();
  }
});
