/**
 * Browsing and downloading files of pxar snapshots through the API (issue #15), on a real server
 * with snapshots made by the real `holdfast backup`: one legacy archive (listed through the
 * snapshot's catalog) and one split archive (listed through its metadata archive, data read from
 * the payload archive). Downloads must equal the source bytes, folders must hold the right
 * members as zip and as tar.zst, and callers without Datastore.Read (or ownership) are refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { decompress } from 'zstd-napi';
import { formatTime } from '../../src/core/backup-ref.ts';
import { parseDynamicIndex } from '../../src/format/dynamic-index.ts';
import type { HttpClient } from '../../src/remote/http-client.ts';
import { describeCli, fastRandom, startTestServer, type TestServer } from '../helpers/server-fixture.ts';
import { parseTar, parseZip } from '../helpers/archive-parse.ts';
import { backupUser } from '../helpers/raw-backup.ts';

const T_LEGACY = 1_800_000_000;
const T_SPLIT = T_LEGACY + 3600;
const BIG = fastRandom(700_000, 5);
let srv: TestServer;
let admin: HttpClient;

before(async () => {
  srv = await startTestServer();
  admin = await srv.admin();
  const src = join(srv.dir, 'src');
  mkdirSync(join(src, 'sub', 'deep'), { recursive: true });
  writeFileSync(join(src, 'a.txt'), 'hello\n');
  writeFileSync(join(src, 'empty'), '');
  writeFileSync(join(src, 'sub', 'big.bin'), BIG);
  writeFileSync(join(src, 'sub', 'deep', 'c.txt'), 'deep file\n');
  symlinkSync('../a.txt', join(src, 'sub', 'link'));
  for (const [mode, time] of [['legacy', T_LEGACY], ['metadata', T_SPLIT]] as const) {
    const r = await srv.cli(['backup', `root.pxar:${src}`, '--backup-id', 'files', '--backup-time', String(time), '--change-detection-mode', mode]);
    assert.equal(r.code, 0, describeCli(r));
  }
});

after(async () => {
  await srv?.close();
});

const snap = (time: number) => ({ store: 'default', 'backup-type': 'host', 'backup-id': 'files', 'backup-time': time });
const b64 = (p: string): string => Buffer.from(p).toString('base64');
const ARCHIVES = [
  { what: 'legacy archive (catalog)', time: T_LEGACY, archive: 'root.pxar.didx' },
  { what: 'split archive (metadata archive)', time: T_SPLIT, archive: 'root.mpxar.didx' },
] as const;

/** A raw GET of `path` as `client` (its ticket cookie): status, headers and the body's bytes. */
function rawGet(client: HttpClient, path: string, query: Record<string, string | number>): Promise<{ status: number; type: string; body: Buffer }> {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
  const cookie = `PBSAuthCookie=${encodeURIComponent(client.ticket?.ticket ?? '')}`;
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port: srv.port, path: `/api2/json/${path}?${qs.toString()}`, rejectUnauthorized: false, headers: { cookie } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(parts) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

const download = (client: HttpClient, time: number, path: string, extra: Record<string, string | number> = {}) =>
  rawGet(client, 'admin/datastore/default/pxar-file-download', { ...snap(time), filepath: b64(path), ...extra });

for (const { what, time, archive } of ARCHIVES) {
  test(`catalog lists the snapshot's archives, then directories of the ${what}, with sizes`, async () => {
    const root = (await admin.get('admin/datastore/default/catalog', { ...snap(time), filepath: 'root' })) as { text: string; type: string }[];
    assert.ok(root.some((e) => e.text === archive && e.type === 'd'), JSON.stringify(root));
    const top = (await admin.get('admin/datastore/default/catalog', { ...snap(time), filepath: b64(`/${archive}`) })) as { text: string; type: string; leaf: boolean }[];
    assert.deepEqual(top.map((e) => [e.text, e.type, e.leaf]), [['a.txt', 'f', true], ['empty', 'f', true], ['sub', 'd', false]]);
    const sub = (await admin.get('admin/datastore/default/catalog', { ...snap(time), filepath: b64(`/${archive}/sub`) })) as { text: string; type: string; size?: number; filepath: string }[];
    assert.deepEqual(sub.map((e) => e.text), ['big.bin', 'deep', 'link']);
    assert.equal(sub.find((e) => e.text === 'big.bin')?.size, BIG.length);
    assert.equal(sub.find((e) => e.text === 'link')?.type, 'l');
    assert.equal(Buffer.from(sub[0]?.filepath ?? '', 'base64').toString(), `/${archive}/sub/big.bin`);
  });

  test(`pxar-file-download of a file in the ${what} sends its exact bytes`, async () => {
    const big = await download(admin, time, `/${archive}/sub/big.bin`);
    assert.equal(big.status, 200);
    assert.equal(big.type, 'application/octet-stream');
    assert.ok(big.body.equals(BIG), 'the downloaded bytes equal the source file');
    assert.equal((await download(admin, time, `/${archive}/a.txt`)).body.toString(), 'hello\n');
    assert.equal((await download(admin, time, `/${archive}/empty`)).body.length, 0);
  });

  test(`pxar-file-download of a folder in the ${what}: zip by default, tar.zst with tar=1, the same members`, async () => {
    const zip = await download(admin, time, `/${archive}/sub`);
    assert.equal(zip.status, 200);
    assert.equal(zip.type, 'application/zip');
    const zipped = parseZip(zip.body);
    assert.deepEqual(zipped.map((m) => m.name), ['sub/', 'sub/big.bin', 'sub/deep/', 'sub/deep/c.txt', 'sub/link']);
    assert.ok(zipped.find((m) => m.name === 'sub/big.bin')?.data.equals(BIG));
    assert.equal(zipped.find((m) => m.name === 'sub/link')?.data.toString(), '../a.txt');

    const tar = await download(admin, time, `/${archive}/sub`, { tar: 1 });
    assert.equal(tar.status, 200);
    const members = parseTar(Buffer.from(decompress(tar.body)));
    assert.deepEqual(members.map((m) => [m.name, m.type]), [['sub/', '5'], ['sub/big.bin', '0'], ['sub/deep/', '5'], ['sub/deep/c.txt', '0'], ['sub/link', '2']]);
    assert.ok(members.find((m) => m.name === 'sub/big.bin')?.data.equals(BIG));

    const whole = parseZip((await download(admin, time, `/${archive}`)).body);
    assert.equal(whole[0]?.name, 'root/');
    assert.equal(whole.find((m) => m.name === 'root/sub/deep/c.txt')?.data.toString(), 'deep file\n');
  });
}

test('pxar-file-download and catalog refuse a user without privileges (403) and an owner-less Datastore.Backup user', async () => {
  await admin.post('access/users', { userid: 'nobody@pbs', password: 'secret-password-1' });
  const nobody = srv.http();
  await nobody.login('nobody@pbs', 'secret-password-1');
  const refused = await download(nobody, T_LEGACY, '/root.pxar.didx/a.txt');
  assert.equal(refused.status, 403);
  assert.equal((JSON.parse(refused.body.toString()) as { code: string }).code, 'FORBIDDEN');
  await assert.rejects(nobody.get('admin/datastore/default/catalog', { ...snap(T_LEGACY), filepath: 'root' }), /403|FORBIDDEN|permission/i);

  const bob = await backupUser(srv, admin, 'bob@pbs');
  assert.equal((await download(bob, T_LEGACY, '/root.pxar.didx/a.txt')).status, 403, 'Datastore.Backup reads only the groups it owns');
  await admin.put('access/acl', { path: '/datastore/default', role: 'DatastoreReader', 'auth-id': 'nobody@pbs' });
  assert.equal((await download(nobody, T_LEGACY, '/root.pxar.didx/a.txt')).body.toString(), 'hello\n', 'Datastore.Read reads every group');
});

test('pxar-file-download and catalog answer bad paths with typed errors', async () => {
  const code = async (path: string, query: Record<string, string | number> = {}) => {
    const r = await rawGet(admin, 'admin/datastore/default/pxar-file-download', { ...snap(T_SPLIT), filepath: path, ...query });
    return [r.status, (JSON.parse(r.body.toString()) as { code: string }).code];
  };
  assert.deepEqual(await code(b64('/root.mpxar.didx/nope')), [404, 'NOT_FOUND']);
  assert.deepEqual(await code(b64('/root.mpxar.didx/../etc')), [400, 'INVALID_ARGUMENT']);
  assert.deepEqual(await code(b64('/index.json.blob/x')), [400, 'INVALID_ARGUMENT']);
  assert.deepEqual(await code('not base64!'), [400, 'INVALID_ARGUMENT']);
  assert.deepEqual(await code(b64('/root.mpxar.didx/sub/link')), [400, 'INVALID_ARGUMENT']);
  assert.deepEqual(await code(b64('/root.pxar.didx/a.txt')), [404, 'NOT_FOUND'], 'an archive the snapshot does not have');
  await assert.rejects(admin.get('admin/datastore/default/catalog', { ...snap(T_LEGACY), filepath: b64('/root.pxar.didx/a.txt') }), /not a directory/);
});

// last in this file: it damages the split snapshot
test('pxar-file-download cuts the connection when a payload chunk turns out missing after the headers went out, so a short file never looks complete', async () => {
  const snapDir = join(srv.datastorePath(), 'host', 'files', formatTime(T_SPLIT));
  const index = parseDynamicIndex(readFileSync(join(snapDir, 'root.ppxar.didx')));
  assert.ok(index.entries.length > 0);
  for (const e of index.entries) {
    const hex = Buffer.from(e.digest).toString('hex');
    rmSync(join(srv.datastorePath(), '.chunks', hex.slice(0, 4), hex), { force: true });
  }
  const r = await download(admin, T_SPLIT, '/root.mpxar.didx/sub/big.bin').then(
    (ok) => ({ ok }),
    (error: unknown) => ({ error }),
  );
  assert.ok('error' in r, `the client sees the download fail, not a complete file: ${JSON.stringify('ok' in r ? [r.ok.status, r.ok.body.length] : [])}`);
});
