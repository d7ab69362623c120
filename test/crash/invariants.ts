/**
 * The invariants checked on every post-crash state (crash-model.md §2.6; docs/durability.md,
 * "The power-loss proof"). A state is "rebooted" by opening a new Datastore on it, then:
 *
 * - I1 (snapshots finished at `filesystem` or `file`): every such snapshot acknowledged before the
 *   crash is listed as finished, and every such snapshot listed as finished restores
 *   byte-identically. (A snapshot whose deletion had begun is exempt: prune may be half done.)
 * - I2 (all levels): restoring a listed finished snapshot yields the original bytes or fails with a
 *   coded HoldfastError, never wrong bytes; verify then fails exactly the snapshots that did not
 *   restore, and every corrupt chunk it could reach is quarantined as `<digest>.<n>.bad`.
 * - I3 (all levels): a next backup of the same data succeeds and restores byte-identically.
 * - I4 (all levels): the store opens and `markInUse` reports the unclean shutdown; only snapshots
 *   whose manifest was written are listed as finished; `cleanupUnfinished` leaves none unfinished.
 * - I5 (`none`, reported, not a violation): acknowledged snapshots lost (not listed, or not
 *   restorable).
 *
 * One exemption, counted and reported on its own: under `posix-weak` a rename over an existing
 * name may lose the new entry and keep the removal of the old one, so a manifest verify was
 * rewriting can vanish. No layout that updates a file in place survives that, and no Linux
 * filesystem does it (rename is atomic across crashes on all of them, which `ext4-ordered` and
 * `lazyfs` model), so such an I1 failure is counted as `renameSplit`, not as a violation.
 *
 * The journal is only read here: each state is checked on its own mounted filesystem.
 */
import { join } from 'node:path';
import { isHoldfastError, toHoldfastError } from '../../src/core/errors.ts';
import { fromHex } from '../../src/core/digest.ts';
import { memoryLogger } from '../../src/core/log.ts';
import type { GroupRef, SnapshotRef } from '../../src/core/backup-ref.ts';
import type { SyncLevel } from '../../src/core/sync-level.ts';
import { decodeChunk } from '../../src/format/blob.ts';
import { Datastore } from '../../src/datastore/datastore.ts';
import { indexChunks } from '../../src/datastore/index-files.ts';
import { MANIFEST_NAME } from '../../src/datastore/layout.ts';
import { newVerifyCache, verifySnapshot } from '../../src/jobs/verify.ts';
import { MemoryLocker } from '../../src/storage/locker.ts';
import type { SimFs } from '../../src/storage/testing/sim-fs.ts';
import { backup, expectedChunks, groupKey, restore, sameData, snapshotKey, type BackupData, type Journal, type SnapshotRecord } from './workload-kit.ts';
import { chunkPath } from '../../src/chunks/chunk-path.ts';

export const INVARIANTS = ['I1', 'I2', 'I3', 'I4'] as const;
export type Invariant = (typeof INVARIANTS)[number];

export interface Violation {
  readonly invariant: Invariant;
  readonly message: string;
}

export interface StateVerdict {
  readonly violations: Violation[];
  /** I5: acknowledged snapshots made at `none` that this state lost. */
  readonly lost: number;
  /** I5's denominator: acknowledged snapshots made at `none` this state could have kept. */
  readonly ackedAtNone: number;
  /** I1 failures explained by a split rename over the snapshot's manifest (see above). */
  readonly renameSplit: number;
  /** How much damage the state held, so a clean result is not a vacuous one. */
  readonly exercised: Exercised;
}

export interface Exercised {
  /** Listed finished snapshots whose restore failed (with a code). */
  unrestorable: number;
  /** Chunks verify moved to `.bad`. */
  quarantined: number;
  /** Broken chunks the next backup replaced on insert. */
  repaired: number;
}

export interface CheckContext {
  readonly level: SyncLevel;
  readonly journal: Journal;
  /** The crash point: the state holds ops 1..crashSeq-1 at most. */
  readonly crashSeq: number;
  readonly now: () => number;
  /** Paths whose rename-over this state split (old entry removed, new one lost). */
  readonly splitRenames?: ReadonlySet<string>;
}

type Outcome = { readonly kind: 'exact' } | { readonly kind: 'coded'; readonly code: string } | { readonly kind: 'wrong'; readonly why: string };

interface Listed {
  readonly ref: SnapshotRef;
  readonly rec: SnapshotRecord | undefined;
  outcome?: Outcome;
}

const DURABLE_LEVELS: ReadonlySet<SyncLevel> = new Set(['filesystem', 'file']);

export async function checkCrashState(fs: SimFs, ctx: CheckContext): Promise<StateVerdict> {
  const v = new Verdict();
  const log = memoryLogger();
  const store = new Datastore({ name: 'crash', base: ctx.journal.base, fs, locker: new MemoryLocker(fs), log, syncLevel: ctx.level });
  try {
    if (!(await store.markInUse())) v.add('I4', 'markInUse did not report the unclean shutdown');
  } catch (e) {
    v.add('I4', `the store does not open: ${describe(e)}`);
    return v.result();
  }
  const listed = await guarded(v, 'I4', () => listFinished(store, ctx, v));
  if (listed === undefined) return v.result();
  for (const s of listed) s.outcome = await restoreOutcome(store, s);
  v.exercised.unrestorable = listed.filter((s) => s.outcome?.kind === 'coded').length;
  checkDurable(ctx, listed, v);
  countLosses(ctx, listed, v);
  await guarded(v, 'I2', () => checkVerify(store, fs, listed, v));
  await guarded(v, 'I4', () => checkCleanup(store, ctx, v));
  await guarded(v, 'I3', () => checkNextBackup(store, fs, ctx, v));
  v.exercised.repaired = log.lines.filter((l) => l.includes('found broken chunk')).length;
  return v.result();
}

class Verdict {
  readonly violations: Violation[] = [];
  lost = 0;
  ackedAtNone = 0;
  renameSplit = 0;
  readonly exercised: Exercised = { unrestorable: 0, quarantined: 0, repaired: 0 };
  add(invariant: Invariant, message: string): void {
    this.violations.push({ invariant, message });
  }
  result(): StateVerdict {
    return { violations: this.violations, lost: this.lost, ackedAtNone: this.ackedAtNone, renameSplit: this.renameSplit, exercised: this.exercised };
  }
}

async function guarded<T>(v: Verdict, invariant: Invariant, body: () => Promise<T>): Promise<T | undefined> {
  try {
    return await body();
  } catch (e) {
    v.add(invariant, `unexpected failure: ${describe(e)}`);
    return undefined;
  }
}

function describe(e: unknown): string {
  return isHoldfastError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

const before = (seq: number | undefined, p: number): boolean => seq !== undefined && seq < p;

/** Finished snapshots of every group on disk; I4: each must be one whose manifest was written. */
async function listFinished(store: Datastore, ctx: CheckContext, v: Verdict): Promise<Listed[]> {
  const out: Listed[] = [];
  for (const g of await groupsOnDisk(store)) {
    for (const info of await store.listSnapshots(g)) {
      if (!info.finished) continue;
      const rec = ctx.journal.byRef(info.ref);
      if (rec === undefined || !before(rec.manifestSeq, ctx.crashSeq)) {
        v.add('I4', `${snapshotKey(info.ref)} is listed as finished but its manifest was never written before the crash`);
      }
      out.push({ ref: info.ref, rec });
    }
  }
  return out;
}

/** I2's first half: exact bytes or a coded error. */
async function restoreOutcome(store: Datastore, s: Listed): Promise<Outcome> {
  let got: BackupData;
  try {
    got = await restore(store, s.ref);
  } catch (e) {
    if (isHoldfastError(e)) return { kind: 'coded', code: e.code };
    return { kind: 'wrong', why: `restore failed without a code: ${describe(e)}` };
  }
  if (s.rec === undefined) return { kind: 'wrong', why: 'restored a snapshot no workload made' };
  return sameData(got, s.rec.data) ? { kind: 'exact' } : { kind: 'wrong', why: 'restore returned wrong bytes' };
}

/** A snapshot whose removal had not begun at the crash, finished under a durable level. */
function promisedDurable(rec: SnapshotRecord, p: number): boolean {
  return rec.promise !== undefined && DURABLE_LEVELS.has(rec.promise) && before(rec.manifestSeq, p) && !before(rec.deleteSeq, p);
}

function checkDurable(ctx: CheckContext, listed: readonly Listed[], v: Verdict): void {
  const p = ctx.crashSeq;
  for (const s of listed) {
    if (s.outcome?.kind === 'wrong') v.add('I2', `${snapshotKey(s.ref)}: ${s.outcome.why}`);
    if (s.rec && promisedDurable(s.rec, p) && s.outcome?.kind !== 'exact') {
      v.add('I1', `${snapshotKey(s.ref)} (finished at ${s.rec.promise}) is listed as finished but does not restore: ${outcomeText(s.outcome)}`);
    }
  }
  const listedKeys = new Set(listed.map((s) => snapshotKey(s.ref)));
  for (const rec of ctx.journal.snapshots.values()) {
    if (!promisedDurable(rec, p) || !before(rec.ackSeq, p) || listedKeys.has(snapshotKey(rec.ref))) continue;
    // a manifest rewrite splits at the manifest's path, a group move at the snapshot directory's
    const split = ctx.journal.dirsOf(rec).some((dir) => ctx.splitRenames?.has(dir) === true || ctx.splitRenames?.has(join(dir, MANIFEST_NAME)) === true);
    if (split) v.renameSplit++;
    else v.add('I1', `${snapshotKey(rec.ref)} was acknowledged at op ${rec.ackSeq} (${rec.promise}) but is not listed as finished`);
  }
}

function outcomeText(o: Outcome | undefined): string {
  if (o === undefined) return 'not restored';
  return o.kind === 'exact' ? 'exact' : o.kind === 'coded' ? `error ${o.code}` : o.why;
}

/** I5: acknowledged `none` snapshots that are gone or broken (expected; reported, not a violation). */
function countLosses(ctx: CheckContext, listed: readonly Listed[], v: Verdict): void {
  const p = ctx.crashSeq;
  const exact = new Set(listed.filter((s) => s.outcome?.kind === 'exact').map((s) => snapshotKey(s.ref)));
  for (const rec of ctx.journal.snapshots.values()) {
    if (rec.promise !== 'none' || !before(rec.ackSeq, p) || before(rec.deleteSeq, p)) continue;
    v.ackedAtNone++;
    if (!exact.has(snapshotKey(rec.ref))) v.lost++;
  }
}

/**
 * I2's second half: verify every listed snapshot. A snapshot that did not restore must come out
 * `failed`, one that did must come out `ok`, and each corrupt chunk verify could reach (through an
 * index that matches its manifest) must have moved to `.bad`.
 */
async function checkVerify(store: Datastore, fs: SimFs, listed: readonly Listed[], v: Verdict): Promise<void> {
  const corruptBefore = new Map<string, string>();
  for (const s of listed) for (const [digest, state] of await reachableChunkStates(store, s)) if (state === 'corrupt') corruptBefore.set(digest, snapshotKey(s.ref));
  const cache = newVerifyCache();
  for (const s of listed) {
    const r = await verifySnapshot(store, s.ref, { upid: 'crash-explorer', log: memoryLogger(), cache });
    v.exercised.quarantined += r.quarantined.length;
    const restored = s.outcome?.kind === 'exact';
    if (restored && r.state !== 'ok') v.add('I2', `${snapshotKey(s.ref)} restores exactly but verify says ${r.state}: ${r.errors.join('; ')}`);
    if (!restored && r.state !== 'failed') v.add('I2', `${snapshotKey(s.ref)} does not restore (${outcomeText(s.outcome)}) but verify says ${r.state}`);
  }
  for (const [digest, key] of corruptBefore) {
    const path = chunkPath(store.base, digest);
    const stillThere = (await fs.stat(path)) !== undefined;
    const bad = await hasBadCopy(fs, path);
    if (stillThere || !bad) v.add('I2', `corrupt chunk ${digest} of ${key} was not quarantined (still in place: ${stillThere}, .bad copy: ${bad})`);
  }
}

type ChunkHealth = 'missing' | 'intact' | 'corrupt';

/** Health of the chunks verify can reach from a snapshot: those of indexes that match the truth. */
async function reachableChunkStates(store: Datastore, s: Listed): Promise<Map<string, ChunkHealth>> {
  const out = new Map<string, ChunkHealth>();
  if (s.rec === undefined) return out;
  try {
    await store.readManifest(s.ref);
  } catch {
    return out;
  }
  for (const [archive, truth] of expectedChunks(s.rec.data)) {
    let onDisk;
    try {
      onDisk = indexChunks(archive, await store.readSnapshotFile(s.ref, archive));
    } catch {
      continue;
    }
    // verify reads the chunks of an index only when the index matches its manifest
    const matches = onDisk.length === truth.length && onDisk.every((c, i) => c.digest === truth[i]!.digest && c.size === truth[i]!.size);
    if (!matches) continue;
    for (const c of onDisk) out.set(c.digest, await chunkHealth(store, c.digest, c.size));
  }
  return out;
}

async function chunkHealth(store: Datastore, digest: string, size: number): Promise<ChunkHealth> {
  let raw: Uint8Array;
  try {
    raw = await store.chunks.read(digest);
  } catch (e) {
    if (isHoldfastError(e, 'NOT_FOUND')) return 'missing';
    throw e;
  }
  try {
    decodeChunk(raw, { digest: fromHex(digest), size });
    return 'intact';
  } catch {
    return 'corrupt';
  }
}

async function hasBadCopy(fs: SimFs, path: string): Promise<boolean> {
  for (let n = 0; n < 10; n++) if (await fs.stat(`${path}.${n}.bad`)) return true;
  return false;
}

/** I4: after cleanupUnfinished no group holds an unfinished snapshot. */
async function checkCleanup(store: Datastore, ctx: CheckContext, v: Verdict): Promise<void> {
  for (const g of await allGroups(store, ctx)) {
    await store.cleanupUnfinished(g);
    const left = (await store.listSnapshots(g)).filter((s) => !s.finished);
    if (left.length > 0) v.add('I4', `cleanupUnfinished left ${left.length} unfinished snapshot(s) in ${groupKey(g)}`);
  }
}

async function allGroups(store: Datastore, ctx: CheckContext): Promise<GroupRef[]> {
  const seen = new Map<string, GroupRef>();
  const key = (g: GroupRef): string => `${g.ns}:${groupKey(g)}`;
  for (const g of await groupsOnDisk(store)) seen.set(key(g), g);
  for (const g of ctx.journal.groups.values()) if (await store.namespaceExists(g.ns)) seen.set(key(g), g);
  return [...seen.values()];
}

/** The groups of every namespace: a moved group is listed where the crash left it. */
async function groupsOnDisk(store: Datastore): Promise<GroupRef[]> {
  const out: GroupRef[] = [];
  for (const ns of await store.listNamespaces('')) out.push(...(await store.listGroups(ns)));
  return out;
}

/** I3: one more backup of each group's newest data, then an exact restore of it. */
async function checkNextBackup(store: Datastore, fs: SimFs, ctx: CheckContext, v: Verdict): Promise<void> {
  let time = ctx.journal.newestTime() + 3600;
  for (const [key, g] of ctx.journal.groups) {
    const data = ctx.journal.latest.get(key)!;
    const ref: SnapshotRef = { ...g, time: time++ };
    try {
      // the namespace a group was moved to may not have reached the disk: a user makes it again
      if (!(await store.namespaceExists(g.ns))) await store.createNamespace(g.ns);
      await backup({ store, fs }, ref, data);
      const got = await restore(store, ref);
      if (!sameData(got, data)) v.add('I3', `the next backup ${snapshotKey(ref)} restores wrong bytes`);
    } catch (e) {
      v.add('I3', `the next backup ${snapshotKey(ref)} failed: ${toHoldfastError(e).code}: ${describe(e)}`);
    }
  }
}
