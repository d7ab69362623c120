/**
 * Two authenticated users with Datastore.Backup on one real server, one of them hostile (issue
 * #11): chunk poisoning (item 4) and group squatting (item 7). The hostile user's sessions end by
 * dropping the connection; the tests wait for the server to release the group lock after its
 * cleanup (an observing Locker), never for time.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryLogger } from '../../src/core/log.ts';
import { isHoldfastError } from '../../src/core/errors.ts';
import { encodeBlob } from '../../src/format/blob.ts';
import { CryptConfig } from '../../src/format/crypt-config.ts';
import { generateKey } from '../../src/format/key-file.ts';
import type { HttpClient } from '../../src/remote/http-client.ts';
import { fastRandom, ObservedLocker, startTestServer, type TestServer } from '../helpers/server-fixture.ts';
import { backupUser, chunkOf, fullBackup, json, openBackup, uploadChunk, type RawChunk } from '../helpers/raw-backup.ts';

const T0 = 1_800_000_000;
const TIMEOUT = { timeout: 60_000 };
const locker = new ObservedLocker();
const log = memoryLogger();
let srv: TestServer;
let mallory: HttpClient;
let bob: HttpClient;

before(async () => {
  srv = await startTestServer({ locker, log });
  const admin = await srv.admin();
  mallory = await backupUser(srv, admin, 'mallory@pbs');
  bob = await backupUser(srv, admin, 'bob@pbs');
});

after(async () => {
  await srv?.close();
});

const groupPath = (id: string): string => join(srv.datastorePath(), 'host', id);
const chunkFile = (digest: string): string => join(srv.datastorePath(), '.chunks', digest.slice(0, 4), digest);

/** Mallory's "encrypted" chunk under the digest of `victim`: random bytes the server cannot check. */
function poisonFor(victim: RawChunk): RawChunk {
  const blob = encodeBlob(fastRandom(3000, 99), { compress: false, crypt: new CryptConfig(generateKey()) });
  return { blob, digest: victim.digest, size: victim.size };
}

/** Opens a backup as `client`, runs `fn`, then drops the connection and waits for the cleanup. */
async function dropAfter(client: HttpClient, id: string, time: number, fn: (h2: Awaited<ReturnType<typeof openBackup>>) => Promise<void>): Promise<void> {
  const h2 = await openBackup(client, id, time);
  const released = locker.nextRelease(groupPath(id));
  try {
    await fn(h2);
  } finally {
    h2.destroy();
    await released;
  }
}

test('a poisoned encrypted chunk is replaced by a later unencrypted upload of the same digest (two users)', TIMEOUT, async () => {
  const victim = chunkOf(fastRandom(200_000, 5));
  const poison = poisonFor(victim);
  await dropAfter(mallory, 'mal', T0, async (h2) => {
    const wid = (await json(h2.request('POST', 'dynamic_index', { 'archive-name': 'x.didx' }))) as number;
    assert.equal(await json(uploadChunk(h2, wid, poison)), victim.digest);
  });
  assert.deepEqual(readFileSync(chunkFile(victim.digest)), Buffer.from(poison.blob), 'the poison is stored');

  const h2 = await openBackup(bob, 'bob', T0);
  try {
    await fullBackup(h2, 'bob', T0, [victim]);
  } finally {
    await h2.close();
  }
  assert.deepEqual(readFileSync(chunkFile(victim.digest)), Buffer.from(victim.blob), "bob's verified chunk replaced the poison");
  assert.ok(log.lines.some((l) => l.startsWith('warn:') && l.includes(victim.digest) && l.includes('encrypted')), 'the replacement is logged');

  // never the reverse: the poison cannot displace the verified chunk again
  await dropAfter(mallory, 'mal', T0 + 1, async (m) => {
    const wid = (await json(m.request('POST', 'dynamic_index', { 'archive-name': 'x.didx' }))) as number;
    await assert.rejects(uploadChunk(m, wid, poison), (e) => isHoldfastError(e, 'CORRUPT'));
  });
  assert.deepEqual(readFileSync(chunkFile(victim.digest)), Buffer.from(victim.blob));
});

test('a failed first backup of a new group leaves no group behind, so another user can take the name', TIMEOUT, async () => {
  await dropAfter(mallory, 'shared-name', T0, async (h2) => {
    await json(h2.request('POST', 'dynamic_index', { 'archive-name': 'x.didx' }));
  });
  assert.equal(existsSync(groupPath('shared-name')), false, 'the aborted backup left its group');
  const h2 = await openBackup(bob, 'shared-name', T0);
  try {
    await fullBackup(h2, 'shared-name', T0, [chunkOf(fastRandom(1000, 6))]);
  } finally {
    await h2.close();
  }
  assert.equal(readFileSync(join(groupPath('shared-name'), 'owner'), 'utf8').trim(), 'bob@pbs');
});

test('a refused manifest at finish is a 400 over the protocol and leaves no snapshot', TIMEOUT, async () => {
  const h2 = await openBackup(bob, 'liar', T0);
  const released = locker.nextRelease(groupPath('liar'));
  try {
    const c = chunkOf(fastRandom(1000, 8));
    await assert.rejects(fullBackup(h2, 'someone-else', T0, [c]), (e) => isHoldfastError(e, 'MANIFEST_MISMATCH') && e.details['status'] === 400);
  } finally {
    h2.destroy();
    await released;
  }
  assert.equal(existsSync(groupPath('liar')), false);
  const listed = (await (await srv.admin()).get('admin/datastore/default/snapshots')) as { 'backup-id': string }[];
  assert.equal(listed.filter((s) => s['backup-id'] === 'liar').length, 0);
});
