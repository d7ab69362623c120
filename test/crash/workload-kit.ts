/**
 * The crash explorer's toolkit for driving production code on the power-loss simulator: a
 * deterministic clock, small test data, the journal of what each backup was promised, and backup /
 * restore through the real client and server protocol classes (BackupWriter → in-process transport
 * → BackupProtocol → BackupSession, and RestoreReader → ReaderProtocol), as production runs them.
 *
 * The journal is filled from the SimFs op hook, so every event carries the op sequence number it
 * happened at: a crash point taken before op p holds exactly the ops 1..p-1, so an event at seq s
 * is "before the crash" iff s < p. The acknowledgement of a backup is recorded as the last op that
 * had run when `finish` resolved (stricter than the true moment when other work interleaves).
 */
import { join } from 'node:path';
import { BackupWriter } from '../../src/remote/backup-writer.ts';
import { inlineChunkEncoder } from '../../src/remote/chunk-encoder.ts';
import { RestoreReader } from '../../src/remote/restore-reader.ts';
import { inlineChunkChecker } from '../../src/chunks/chunk-check.ts';
import { formatTime, type GroupRef, type SnapshotRef } from '../../src/core/backup-ref.ts';
import { sha256, toHex } from '../../src/core/digest.ts';
import type { SyncLevel } from '../../src/core/sync-level.ts';
import { BackupSession, type BackupTestOnly } from '../../src/datastore/backup-session.ts';
import { createDatastoreTree } from '../../src/datastore/create-datastore.ts';
import { Datastore } from '../../src/datastore/datastore.ts';
import { silentLogger } from '../../src/core/log.ts';
import { MemoryLocker } from '../../src/storage/locker.ts';
import { MANIFEST_NAME, snapshotDir } from '../../src/datastore/layout.ts';
import { BackupProtocol } from '../../src/server/protocol/backup-protocol.ts';
import { ReaderProtocol } from '../../src/server/protocol/reader-protocol.ts';
import { SimFs, type CrashState, type SimOpInfo } from '../../src/storage/testing/sim-fs.ts';
import { backupTransport, readerTransport } from '../helpers/in-process-transport.ts';
import { pseudoRandom } from '../helpers/datastore-fixture.ts';

export const OWNER = 'crash@pbs';
export const BASE = '/srv/store';
export const CLOCK_START_MS = 1_700_000_000_000;
/** The dynamic archive is cut in pieces of this size, one chunk each: many chunks, many ops. */
export const PIECE = 32 * 1024;
export const DIDX = 'data.pxar.didx';
export const FIDX = 'disk.img.fidx';
export const BLOB = 'meta.conf.blob';

/** A clock that moves only when told, so atimes and GC cutoffs are the same on every run. */
export class SimClock {
  ms: number;
  constructor(startMs: number) {
    this.ms = startMs;
  }
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

let emptyStore: Promise<CrashState> | undefined;

/**
 * An empty datastore made durable (tree, then syncfs): every run starts from a mount of it. Built
 * once per process (65,536 prefix dirs); a CrashState never changes, each mount is a fresh fork.
 */
export function emptyStoreState(): Promise<CrashState> {
  emptyStore ??= (async () => {
    const fs = new SimFs({ now: () => CLOCK_START_MS });
    await createDatastoreTree(fs, BASE);
    await fs.syncfs(BASE);
    const [state] = fs.crashStates('posix-weak', { seed: 0, max: 1 });
    return state!;
  })();
  return emptyStore;
}

export function openStore(fs: SimFs, level: SyncLevel): Datastore {
  return new Datastore({ name: 'crash', base: BASE, fs, locker: new MemoryLocker(fs), log: silentLogger, syncLevel: level });
}

/** What one backup uploads: a dynamic archive, a one-chunk image and a small blob. */
export interface BackupData {
  readonly didx: Uint8Array;
  readonly fidx: Uint8Array;
  readonly blob: Uint8Array;
}

/** `pieces` chunks of dynamic data from `seed`, with pieces listed in `replace` drawn from `seed + 1000`. */
export function makeData(seed: number, pieces: number, replace: readonly number[] = [], extra = 0): BackupData {
  const base = pseudoRandom(pieces * PIECE, seed);
  for (const i of replace) base.set(pseudoRandom(PIECE, seed * 31 + 1000 + i), i * PIECE);
  const didx = extra > 0 ? Buffer.concat([base, pseudoRandom(extra, seed * 17 + 7)]) : base;
  return { didx, fidx: pseudoRandom(16 * 1024, seed + 77), blob: Buffer.from(`seed: ${seed}\npieces: ${pieces}\n`) };
}

export interface ChunkRef {
  readonly digest: string;
  readonly size: number;
}

/** The chunks each archive of a backup of `data` references, in index order: ground truth, independent of the disk. */
export function expectedChunks(data: BackupData): ReadonlyMap<string, readonly ChunkRef[]> {
  const dynamic: ChunkRef[] = [];
  for (let o = 0; o < data.didx.length; o += PIECE) {
    const piece = data.didx.subarray(o, o + PIECE);
    dynamic.push({ digest: toHex(sha256(piece)), size: piece.length });
  }
  return new Map([
    [DIDX, dynamic],
    [FIDX, [{ digest: toHex(sha256(data.fidx)), size: data.fidx.length }]],
  ]);
}

export function sameData(a: BackupData, b: BackupData): boolean {
  return Buffer.from(a.didx).equals(b.didx) && Buffer.from(a.fidx).equals(b.fidx) && Buffer.from(a.blob).equals(b.blob);
}

/** One snapshot a workload tried to make, and the op numbers at which its fate was sealed. */
export interface SnapshotRecord {
  readonly ref: SnapshotRef;
  readonly dir: string;
  readonly data: BackupData;
  /** First rename onto the manifest path (the snapshot becomes visible as finished). */
  manifestSeq?: number;
  /** The store's sync level when the manifest was first written: the promise it was made under. */
  promise?: SyncLevel;
  /** Last op before `finish` resolved at the client. */
  ackSeq?: number;
  /** First unlink of the manifest (prune, forget, or the removal of a failed backup). */
  deleteSeq?: number;
  /** The directories a group move renamed it to, in order (its key, type/id/time, stays). */
  readonly movedTo: string[];
}

/** A snapshot's key, without its namespace: a group move leaves it the same snapshot. */
export function snapshotKey(ref: SnapshotRef): string {
  return `${ref.type}/${ref.id}/${formatTime(ref.time)}`;
}

export function groupKey(g: GroupRef): string {
  return `${g.type}/${g.id}`;
}

export class Journal {
  readonly base: string;
  readonly snapshots = new Map<string, SnapshotRecord>();
  readonly groups = new Map<string, GroupRef>();
  /** The data of the newest backup tried per group: what the post-crash backup (I3) uploads again. */
  readonly latest = new Map<string, BackupData>();
  readonly #byManifest = new Map<string, SnapshotRecord>();

  constructor(base: string) {
    this.base = base;
  }

  plan(ref: SnapshotRef, data: BackupData): SnapshotRecord {
    const dir = snapshotDir(this.base, ref);
    const rec: SnapshotRecord = { ref, dir, data, movedTo: [] };
    this.snapshots.set(snapshotKey(ref), rec);
    this.#byManifest.set(join(dir, MANIFEST_NAME), rec);
    const g = { ns: ref.ns, type: ref.type, id: ref.id };
    this.groups.set(groupKey(g), g);
    this.latest.set(groupKey(g), data);
    return rec;
  }

  /** The SimFs op hook's half: manifests appearing and disappearing. */
  observe(op: SimOpInfo, level: SyncLevel): void {
    const rec = this.#byManifest.get(op.path);
    if (rec === undefined) return;
    if (op.kind === 'rename' && rec.manifestSeq === undefined) {
      rec.manifestSeq = op.seq;
      rec.promise = level;
    }
    if (op.kind === 'unlink' && rec.deleteSeq === undefined) rec.deleteSeq = op.seq;
  }

  /** A group move put `from` at `to` (in another namespace): its manifest is watched there too. */
  moved(from: SnapshotRef, to: SnapshotRef): void {
    const rec = this.byRef(from);
    if (rec === undefined) return;
    const dir = snapshotDir(this.base, to);
    rec.movedTo.push(dir);
    this.#byManifest.set(join(dir, MANIFEST_NAME), rec);
    const g = { ns: to.ns, type: to.type, id: to.id };
    this.groups.set(groupKey(g), g);
  }

  /** Every directory the snapshot has had: where it was made, then where moves put it. */
  dirsOf(rec: SnapshotRecord): readonly string[] {
    return [rec.dir, ...rec.movedTo];
  }

  byRef(ref: SnapshotRef): SnapshotRecord | undefined {
    return this.snapshots.get(snapshotKey(ref));
  }

  newestTime(): number {
    let t = 0;
    for (const r of this.snapshots.values()) t = Math.max(t, r.ref.time);
    return t;
  }
}

async function* piecesOf(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < data.length; o += size) yield data.slice(o, o + size);
}

export interface BackupRun {
  readonly store: Datastore;
  readonly fs: SimFs;
  readonly journal?: Journal;
  readonly testOnly?: BackupTestOnly;
}

/**
 * One backup through the real protocol stack. Records the acknowledgement in the journal (when
 * given) once `finish` resolved; any failure propagates as the client would see it.
 */
export async function backup(run: BackupRun, ref: SnapshotRef, data: BackupData): Promise<void> {
  const rec = run.journal?.plan(ref, data);
  const session = await BackupSession.begin(run.store, ref, { owner: OWNER, ...(run.testOnly ? { testOnly: run.testOnly } : {}) });
  const t = backupTransport(new BackupProtocol(session, inlineChunkChecker));
  try {
    const w = await BackupWriter.start(t, { backupType: ref.type, backupId: ref.id, backupTime: ref.time, encoder: inlineChunkEncoder() });
    await w.uploadArchive(DIDX, piecesOf(data.didx, PIECE));
    await w.uploadArchive(FIDX, piecesOf(data.fidx, data.fidx.length), { size: data.fidx.length });
    await w.uploadBlob(BLOB, data.blob);
    await w.finish();
    if (rec) rec.ackSeq = run.fs.opCount;
  } finally {
    await t.close();
  }
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of stream) parts.push(p);
  return Buffer.concat(parts);
}

/** Restores everything a snapshot holds through the real reader path; throws what the client would see. */
export async function restore(store: Datastore, ref: SnapshotRef): Promise<BackupData> {
  const t = readerTransport(await ReaderProtocol.open(store, ref));
  try {
    const r = await RestoreReader.open(t);
    const didx = await collect(r.stream(DIDX));
    const fidx = await collect(r.stream(FIDX));
    const blob = await r.readBlob(BLOB);
    return { didx, fidx, blob };
  } finally {
    await t.close();
  }
}
