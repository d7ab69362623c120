/**
 * Two real servers on loopback for the sync tests: `a` and `b`, each with its `default` datastore.
 * `remoteOn(x, y)` makes `y` a remote of `x` (as admin@pbs, pinned by fingerprint); `runJob`
 * starts a sync job through the API and waits for its task. Source snapshots are written through
 * the datastore's own backup path (`backupChunks`), so they are real snapshots of real stores.
 */
import type { GroupRef, SnapshotRef } from '../../src/core/backup-ref.ts';
import { toHex } from '../../src/core/digest.ts';
import type { Datastore } from '../../src/datastore/datastore.ts';
import { parseDynamicIndex } from '../../src/format/dynamic-index.ts';
import type { TaskInfo } from '../../src/jobs/task-registry.ts';
import { backupChunks, sha256 } from './datastore-fixture.ts';
import { pseudoRandom } from './seeded.ts';
import { startTestServer, type TestServer } from './server-fixture.ts';

export const KIB = 1024;

/** Distinct chunk data: chunk `n` is 32 KiB of seeded bytes. */
export function chunk(n: number): Uint8Array {
  return pseudoRandom(32 * KIB + n, 1000 + n);
}

export function store(s: TestServer, name = 'default'): Promise<Datastore> {
  return s.hs.registry.get(name, 'write');
}

/** Writes a finished snapshot of `chunks` (by number) into `s`'s datastore. */
export async function snap(s: TestServer, g: GroupRef, time: number, chunks: readonly number[], storeName = 'default'): Promise<SnapshotRef> {
  const st = await store(s, storeName);
  if (g.ns !== '') {
    const parts = g.ns.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const ns = parts.slice(0, i).join('/');
      if (!(await st.namespaceExists(ns))) await st.createNamespace(ns);
    }
  }
  const ref = { ...g, time };
  await backupChunks(st, ref, chunks.map(chunk));
  return ref;
}

/** The two servers of a sync test (without worker threads: its stores are small). */
export async function startPair(): Promise<[TestServer, TestServer]> {
  return [await startTestServer({ workerThreads: false }), await startTestServer({ workerThreads: false })];
}

/**
 * The pair a pull (and push) test runs against: `[source, destination]`, with the remote `src` on
 * the destination naming the source and, with `push`, the remote `dst` on the source naming the
 * destination.
 */
export async function startSyncPair(o: { readonly push?: boolean } = {}): Promise<[TestServer, TestServer]> {
  const [source, destination] = await startPair();
  await remoteOn(destination, 'src', source);
  if (o.push === true) await remoteOn(source, 'dst', destination);
  return [source, destination];
}

/** Closes what `startPair` started (either may be missing when `before` failed). */
export async function closePair(...servers: readonly (TestServer | undefined)[]): Promise<void> {
  for (const s of servers) await s?.close();
}

export async function remoteOn(x: TestServer, name: string, y: TestServer): Promise<void> {
  const admin = await x.admin();
  await admin.post('config/remote', { name, host: '127.0.0.1', port: y.port, 'auth-id': 'admin@pbs', password: y.password, fingerprint: y.fingerprint });
}

export async function createJob(x: TestServer, id: string, opts: Readonly<Record<string, string | number | boolean | readonly string[]>>): Promise<void> {
  const admin = await x.admin();
  await admin.post('config/sync', { id, store: 'default', remote: 'src', 'remote-store': 'default', ...opts });
}

export async function runJob(x: TestServer, id: string): Promise<TaskInfo> {
  const admin = await x.admin();
  const upid = (await admin.post(`admin/sync/${id}/run`)) as string;
  return x.hs.jobs.tasks.wait(upid);
}

/** Finished snapshots of a datastore, as `ns/…/type/id/time` strings, sorted. */
export async function listed(s: TestServer, storeName = 'default'): Promise<string[]> {
  const st = await store(s, storeName);
  const out: string[] = [];
  for (const ns of await st.listNamespaces()) for (const g of await st.listGroups(ns)) for (const x of await st.listSnapshots(g)) if (x.finished) out.push(`${ns === '' ? '' : `${ns}:`}${g.type}/${g.id}/${x.ref.time}`);
  return out.sort();
}

/** Every snapshot directory, finished or not (a partial one would show here). */
export async function allDirs(s: TestServer, storeName = 'default'): Promise<string[]> {
  const st = await store(s, storeName);
  const out: string[] = [];
  for (const ns of await st.listNamespaces()) for (const g of await st.listGroups(ns)) for (const x of await st.listSnapshots(g)) out.push(`${ns === '' ? '' : `${ns}:`}${g.type}/${g.id}/${x.ref.time}${x.finished ? '' : ' (unfinished)'}`);
  return out.sort();
}

/** The plaintext of a snapshot's `data.didx`, read chunk by chunk from the store (checks digests). */
export async function content(s: TestServer, ref: SnapshotRef): Promise<Buffer> {
  const st = await store(s);
  const idx = parseDynamicIndex(await st.readSnapshotFile(ref, 'data.didx'));
  const { decodeChunk } = await import('../../src/format/blob.ts');
  let start = 0;
  const parts: Uint8Array[] = [];
  for (const e of idx.entries) {
    parts.push(decodeChunk(await st.chunks.read(toHex(e.digest)), { digest: e.digest, size: e.end - start }));
    start = e.end;
  }
  return Buffer.concat(parts);
}

export function expected(chunks: readonly number[]): Buffer {
  return Buffer.concat(chunks.map(chunk));
}

export function digestOf(n: number): string {
  return toHex(sha256(chunk(n)));
}
