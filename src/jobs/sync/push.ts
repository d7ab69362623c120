/**
 * The push worker of a sync job: writes local snapshots to the remote through the backup protocol
 * (a backup session per snapshot, as a client backs up), so the remote commits each under its
 * own sync level and lists it only once `finish` succeeded.
 *
 * Per snapshot, as PBS pushes: the remote group's previous snapshot is asked for (`previous`),
 * the indexes it shares with this one are downloaded, and their chunks count as known; only the
 * other chunks are uploaded (as the stored blobs: encrypted snapshots need no key). Then each
 * index is appended and closed, blobs are uploaded, and the manifest goes last, then `finish`.
 *
 * Selection mirrors the pull: local namespaces under `ns` (max-depth) map to `remote-ns`; groups
 * pass the filter; a local snapshot is pushed when it is newer than the remote group's newest
 * (verified-only, encrypted-only and transfer-last apply to the local list). `remove-vanished`
 * deletes remote snapshots of pushed groups that are gone locally, then the groups and namespaces
 * gone locally (push-vanished.ts).
 */
import type { GroupRef, SnapshotRef } from '../../core/backup-ref.ts';
import { toHex } from '../../core/digest.ts';
import { ownerMatches } from '../../core/names.ts';
import { fail, isHoldfastError, toHoldfastError } from '../../core/errors.ts';
import { MANIFEST_NAME } from '../../datastore/layout.ts';
import { CLIENT_LOG_BLOB_NAME } from '../../core/names.ts';
import { verifyBlobCrc } from '../../format/blob.ts';
import { dynamicIndexCsum, parseDynamicIndex } from '../../format/dynamic-index.ts';
import { fixedIndexCsum, parseFixedIndex } from '../../format/fixed-index.ts';
import { applyGroupFilters } from '../../format/group-filter.ts';
import { decodeManifestBlob, encodeManifestBlob, type Manifest } from '../../format/manifest.ts';
import type { ProtocolTransport } from '../../remote/protocol-transport.ts';
import { removeVanishedOnRemote } from './push-vanished.ts';
import { inParallel, mapNamespace, selectSnapshots, type PullContext, type SyncReport } from './pull.ts';
import type { RemoteSnapshot } from './remote-api.ts';

const APPEND_BATCH = 512;

interface IndexChunks {
  readonly digests: Uint8Array[];
  readonly sizes: number[];
  readonly size: number;
  readonly csumHex: string;
}

function readIndex(name: string, bytes: Uint8Array): IndexChunks {
  if (name.endsWith('.fidx')) {
    const idx = parseFixedIndex(bytes);
    const sizes = idx.digests.map((_, i) => Math.min(idx.chunkSize, idx.size - i * idx.chunkSize));
    return { digests: [...idx.digests], sizes, size: idx.size, csumHex: toHex(fixedIndexCsum(idx.digests, idx.size).csum) };
  }
  const entries = parseDynamicIndex(bytes).entries;
  let start = 0;
  const sizes = entries.map((e) => {
    const s = e.end - start;
    start = e.end;
    return s;
  });
  return { digests: entries.map((e) => e.digest), sizes, size: start, csumHex: toHex(dynamicIndexCsum(entries).csum) };
}

/** The digests of the remote group's previous snapshot, for the archives this one shares. */
async function knownFromPrevious(t: ProtocolTransport, m: Manifest): Promise<Set<string>> {
  const known = new Set<string>();
  if (typeof (await t.call('GET', 'previous_backup_time')) !== 'number') return known;
  const prev = decodeManifestBlob(await t.download('previous', { 'archive-name': MANIFEST_NAME }));
  for (const f of m.files) {
    if (!/\.(didx|fidx)$/.test(f.filename) || !prev.files.some((p) => p.filename === f.filename)) continue;
    for (const d of readIndex(f.filename, await t.download('previous', { 'archive-name': f.filename })).digests) known.add(toHex(d));
  }
  return known;
}

async function pushIndex(c: PullContext, t: ProtocolTransport, ref: SnapshotRef, name: string, known: Set<string>): Promise<void> {
  const idx = readIndex(name, await c.store.readSnapshotFile(ref, name));
  const kind = name.endsWith('.fidx') ? 'fixed' : 'dynamic';
  const wid = (await t.call('POST', `${kind}_index`, { 'archive-name': name, ...(kind === 'fixed' ? { size: idx.size } : {}) })) as number;
  let offset = 0;
  const batch: { digest: string; offset: number }[] = [];
  const flush = async (): Promise<void> => {
    const items = batch.splice(0);
    if (items.length > 0) await t.call('PUT', `${kind}_index`, undefined, Buffer.from(JSON.stringify({ wid, 'digest-list': items.map((i) => i.digest), 'offset-list': items.map((i) => i.offset) })));
  };
  for (let i = 0; i < idx.digests.length; i++) {
    if (c.task.signal.aborted) throw fail('ABORTED', 'the sync was stopped', {});
    const hex = toHex(idx.digests[i]!);
    const size = idx.sizes[i]!;
    if (known.has(hex)) c.report.chunksReused++;
    else {
      const blob = await c.store.chunks.read(hex);
      verifyBlobCrc(blob);
      await t.call('POST', `${kind}_chunk`, { wid, digest: hex, size, 'encoded-size': blob.length }, blob);
      known.add(hex);
      c.report.chunksTransferred++;
      c.report.chunkBytes += blob.length;
    }
    batch.push({ digest: hex, offset });
    offset += size;
    if (batch.length >= APPEND_BATCH) await flush();
  }
  await flush();
  await t.call('POST', `${kind}_close`, { wid, 'chunk-count': idx.digests.length, size: idx.size, csum: idx.csumHex });
}

/** Pushes one local snapshot to `remoteRef`; resolves once the remote acknowledged `finish`. */
async function pushSnapshot(c: PullContext, ref: SnapshotRef, remoteRef: SnapshotRef): Promise<void> {
  const manifest = await c.store.readManifest(ref);
  const t = await c.remote.writer(remoteRef);
  try {
    const known = await knownFromPrevious(t, manifest);
    for (const f of manifest.files) {
      if (/\.(didx|fidx)$/.test(f.filename)) await pushIndex(c, t, ref, f.filename, known);
      else {
        const blob = await c.store.readSnapshotFile(ref, f.filename);
        await t.call('POST', 'blob', { 'file-name': f.filename, 'encoded-size': blob.length }, blob);
      }
    }
    delete manifest.unprotected['verify_state'];
    delete manifest.unprotected['chunk_upload_stats'];
    const blob = encodeManifestBlob(manifest);
    await t.call('POST', 'blob', { 'file-name': MANIFEST_NAME, 'encoded-size': blob.length }, blob);
    await t.call('POST', 'finish');
  } finally {
    await t.close().catch(() => undefined);
  }
  // the client log is outside the manifest: it follows the finished snapshot, as a pull copies it
  if ((await c.store.listSnapshotFiles(ref)).includes(CLIENT_LOG_BLOB_NAME)) {
    await c.remote.uploadClientLog(remoteRef, await c.store.readSnapshotFile(ref, CLIENT_LOG_BLOB_NAME));
  }
}

/** The local finished snapshots of a group as the selection sees them. */
async function localSnapshots(c: PullContext, g: GroupRef): Promise<RemoteSnapshot[]> {
  const out: RemoteSnapshot[] = [];
  for (const s of await c.store.listSnapshots(g)) {
    if (!s.finished) continue;
    const m = await c.store.readManifest(s.ref);
    const vs = (m.unprotected['verify_state'] as { state?: unknown } | undefined)?.state;
    const data = m.files.filter((f) => f.filename !== 'rsa-encrypted.key.blob');
    out.push({ ref: s.ref, verifyState: typeof vs === 'string' ? vs : undefined, encrypted: data.length > 0 && data.every((f) => f.cryptMode === 'encrypt'), protected: s.protected });
  }
  return out;
}

async function pushGroup(c: PullContext, g: GroupRef, remoteNs: string): Promise<void> {
  const remoteGroup: GroupRef = { ns: remoteNs, type: g.type, id: g.id };
  // a group the remote does not have yet: PBS answers NOT_FOUND, Holdfast an empty list
  const there = await c.remote.snapshots(remoteGroup).catch((e: unknown) => {
    if (isHoldfastError(e, 'NOT_FOUND')) return [];
    throw e;
  });
  const newest = Math.max(-1, ...there.map((s) => s.ref.time));
  const local = await localSnapshots(c, g);
  for (const s of selectSnapshots(local, c.job)) {
    if (s.ref.time <= newest) {
      c.report.snapshotsSkipped++;
      continue;
    }
    const remoteRef = { ...remoteGroup, time: s.ref.time };
    try {
      await pushSnapshot(c, s.ref, remoteRef);
      c.report.snapshotsSynced++;
      c.task.info(`${c.store.show(s.ref)}: pushed to ${c.remote.show(remoteRef)}`);
    } catch (e) {
      pushFailed(c.report, c, c.store.show(s.ref), e);
    }
  }
  if (!c.job.removeVanished) return;
  const here = new Set(local.map((s) => s.ref.time));
  for (const s of there) {
    if (here.has(s.ref.time) || s.protected) continue;
    try {
      await c.remote.deleteSnapshot(s.ref);
      c.report.snapshotsRemoved++;
      c.task.info(`${c.remote.show(s.ref)}: vanished locally: removed from the remote`);
    } catch (e) {
      pushFailed(c.report, c, c.remote.show(s.ref), e);
    }
  }
}

function pushFailed(report: SyncReport, c: PullContext, item: string, e: unknown): void {
  const err = toHoldfastError(e);
  report.failures.push({ item, code: err.code, message: err.message });
  c.task.warn(`${item}: push failed: [${err.code}] ${err.message}`);
}

export async function runPush(c: PullContext): Promise<void> {
  const { job, task } = c;
  task.info(`push from datastore ${c.store.name}${job.ns === '' ? '' : ` namespace '${job.ns}'`} to ${c.remote.store}${job.remoteNs === '' ? '' : ` namespace '${job.remoteNs}'`}`);
  const remoteNamespaces = new Set(await c.remote.namespaces('', undefined));
  const work: { g: GroupRef; remoteNs: string }[] = [];
  const pushed = new Map<string, Set<string>>();
  const base = job.ns === '' ? 0 : job.ns.split('/').length;
  let closed = 0;
  for (const ns of await c.store.listNamespaces(job.ns)) {
    if (job.maxDepth !== undefined && (ns === '' ? 0 : ns.split('/').length) - base > job.maxDepth) continue;
    // as its owner: Datastore.Read pushes every group, Datastore.Backup only the owner's own
    // (PBS); a namespace below where an ACL takes both away is not pushed, nor even named
    const readAll = c.ownerMay === undefined || (await c.ownerMay(ns, 'Datastore.Read'));
    if (!readAll && !(await c.ownerMay(ns, 'Datastore.Backup'))) {
      closed++;
      continue;
    }
    const remoteNs = mapNamespace(ns, job.ns, job.remoteNs);
    const parts = remoteNs === '' ? [] : remoteNs.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const sub = parts.slice(0, i).join('/');
      if (!remoteNamespaces.has(sub)) await c.remote.createNamespace(sub);
      remoteNamespaces.add(sub);
    }
    const groups: GroupRef[] = [];
    for (const g of await c.store.listGroups(ns)) if (readAll || ownerMatches((await c.store.getOwner(g)) ?? '', c.owner)) groups.push(g);
    pushed.set(remoteNs, new Set(groups.map((g) => `${g.type}/${g.id}`)));
    for (const g of groups) if (applyGroupFilters(job.groupFilter, g)) work.push({ g, remoteNs });
  }
  if (closed > 0) c.task.warn(`skipped ${closed} namespace(s) below that the job's owner ${c.owner} may not read`);
  c.report.groups = work.length;
  let done = 0;
  await inParallel(work, job.workerThreads, async (w) => {
    try {
      await pushGroup(c, w.g, w.remoteNs);
    } catch (e) {
      pushFailed(c.report, c, c.store.show(w.g), e);
    }
    task.progress(++done, work.length, 'groups');
  });
  if (job.removeVanished) await removeVanishedOnRemote(c, pushed);
  c.report.bytes = c.remote.counters.bytes;
  task.info(`pushed ${c.report.snapshotsSynced} snapshot(s), skipped ${c.report.snapshotsSkipped}, removed ${c.report.snapshotsRemoved} snapshot(s), ${c.report.groupsRemoved} group(s) and ${c.report.namespacesRemoved} namespace(s) on the remote; ${c.report.chunksTransferred} chunk(s) uploaded (${c.report.chunkBytes} bytes), ${c.report.chunksReused} known there`);
}
