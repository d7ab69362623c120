/**
 * Backup-protocol calls made by hand over a real upgraded h2 session, for the tests that play a
 * hostile or unusual client: users with Datastore.Backup, chunk uploads with chosen bytes, and a
 * complete one-archive backup.
 */
import assert from 'node:assert/strict';
import { sha256, toHex } from '../../src/core/digest.ts';
import { encodeBlob } from '../../src/format/blob.ts';
import { dynamicIndexCsum } from '../../src/format/dynamic-index.ts';
import { encodeManifestBlob } from '../../src/format/manifest.ts';
import type { HttpClient } from '../../src/remote/http-client.ts';
import type { H2Query, H2Response, H2Session } from '../../src/remote/h2-session.ts';
import { BACKUP_PROTOCOL } from '../../src/server/h2-upgrade.ts';
import type { TestServer } from './server-fixture.ts';

export interface RawChunk {
  readonly blob: Uint8Array;
  readonly digest: string;
  readonly size: number;
}

export function chunkOf(data: Uint8Array): RawChunk {
  return { blob: encodeBlob(data, { compress: true }), digest: toHex(sha256(data)), size: data.length };
}

/** Creates `userid` with `password` and DatastoreBackup on every datastore; returns a logged-in client. */
export async function backupUser(srv: TestServer, admin: HttpClient, userid: string, password = 'secret-password-1'): Promise<HttpClient> {
  await admin.post('access/users', { userid, password });
  await admin.put('access/acl', { path: '/datastore', role: 'DatastoreBackup', 'auth-id': userid });
  const c = srv.http();
  await c.login(userid, password);
  return c;
}

export function openBackup(client: HttpClient, id: string, time: number, store = 'default'): Promise<H2Session> {
  return client.upgrade('backup', { store, 'backup-type': 'host', 'backup-id': id, 'backup-time': time }, BACKUP_PROTOCOL);
}

export async function json(p: Promise<H2Response>): Promise<unknown> {
  const r = await p;
  assert.equal(r.kind, 'json');
  return r.kind === 'json' ? r.json : undefined;
}

export function uploadChunk(h2: H2Session, wid: number, c: RawChunk, over: H2Query = {}): Promise<H2Response> {
  return h2.request('POST', 'dynamic_chunk', { wid, digest: c.digest, size: c.size, 'encoded-size': c.blob.length, ...over }, c.blob);
}

/** Uploads `chunks` as `data.didx`, closes it, uploads a matching manifest and finishes. */
export async function fullBackup(h2: H2Session, id: string, time: number, chunks: readonly RawChunk[]): Promise<void> {
  const wid = (await json(h2.request('POST', 'dynamic_index', { 'archive-name': 'data.didx' }))) as number;
  let end = 0;
  const entries: { end: number; digest: Uint8Array }[] = [];
  for (const c of chunks) {
    await uploadChunk(h2, wid, c);
    await h2.request('PUT', 'dynamic_index', {}, { json: { wid, 'digest-list': [c.digest], 'offset-list': [end] } });
    end += c.size;
    entries.push({ end, digest: Buffer.from(c.digest, 'hex') });
  }
  const csum = toHex(dynamicIndexCsum(entries).csum);
  await h2.request('POST', 'dynamic_close', { wid, 'chunk-count': chunks.length, size: end, csum });
  const manifest = encodeManifestBlob({ backupType: 'host', backupId: id, backupTime: time, files: [{ filename: 'data.didx', cryptMode: 'none', size: end, csum }], unprotected: {}, signature: null });
  await h2.request('POST', 'blob', { 'file-name': 'index.json.blob', 'encoded-size': manifest.length }, manifest);
  await h2.request('POST', 'finish');
}
