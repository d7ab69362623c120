/**
 * The crash explorer's workloads: short, realistic sequences of datastore work, each run against
 * a fresh simulated disk holding an empty, durable datastore. They use the production entry points
 * only (BackupWriter over the in-process transport, Datastore, garbageCollect, verifySnapshot,
 * computePrune), so a crash at any op boundary is a crash of production code.
 *
 * Data is small on purpose (a few 32 KiB chunks per backup) so thousands of crash states stay
 * cheap; what matters is the number and order of the operations, not their size.
 */
import type { SnapshotRef } from '../../src/core/backup-ref.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { SyncLevel } from '../../src/core/sync-level.ts';
import type { BackupTestOnly } from '../../src/datastore/backup-session.ts';
import type { Datastore } from '../../src/datastore/datastore.ts';
import { garbageCollect } from '../../src/jobs/gc.ts';
import { computePrune } from '../../src/jobs/prune-policy.ts';
import { moveGroup } from '../../src/datastore/group-move.ts';
import { verifySnapshot } from '../../src/jobs/verify.ts';
import type { SimFs } from '../../src/storage/testing/sim-fs.ts';
import { backup, makeData, type BackupData, type Journal, type SimClock } from './workload-kit.ts';

export const WORKLOAD_NAMES = ['first-backup', 'incremental', 'two-groups', 'gc-prune-verify', 'level-change', 'group-move'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export interface WorkloadEnv {
  readonly store: Datastore;
  readonly fs: SimFs;
  readonly clock: SimClock;
  readonly journal: Journal;
  /** The level under test: the store's level at the end of the workload and after the reboot. */
  readonly level: SyncLevel;
  readonly testOnly?: BackupTestOnly;
}

export interface Workload {
  readonly name: WorkloadName;
  readonly describe: string;
  /** The level the store opens with (default: the level under test). */
  readonly startLevel?: (level: SyncLevel) => SyncLevel;
  run(env: WorkloadEnv): Promise<void>;
}

const T0 = 1_700_000_000;
const DAY_MS = 86_400_000;

const snap = (id: string, time: number, ns = ''): SnapshotRef => ({ ns, type: 'host', id, time });

function backupIn(env: WorkloadEnv, ref: SnapshotRef, data: BackupData): Promise<void> {
  return backup({ store: env.store, fs: env.fs, journal: env.journal, ...(env.testOnly ? { testOnly: env.testOnly } : {}) }, ref, data);
}

/** Two backups of group `a` a minute apart, the second changing `replace` pieces (and adding `extra` bytes). */
async function twoBackups(env: WorkloadEnv, seed: number, replace: readonly number[], extra = 0): Promise<void> {
  await backupIn(env, snap('a', T0), makeData(seed, 6));
  env.clock.advance(60_000);
  await backupIn(env, snap('a', T0 + 60), makeData(seed, 6, replace, extra));
}

/** GC with a one-minute cutoff on the workload's clock: chunks nothing marks really go. */
function sweep(env: WorkloadEnv): Promise<unknown> {
  return garbageCollect(env.store, { cutoffMinutes: 1, cacheCapacity: 1024, atimeSafetyCheck: true, now: env.clock.now, log: silentLogger });
}

const firstBackup: Workload = {
  name: 'first-backup',
  describe: 'one backup into an empty store',
  run: (env) => backupIn(env, snap('a', T0), makeData(1, 6)),
};

const incremental: Workload = {
  name: 'incremental',
  describe: 'a backup, then a second one of mostly the same data plus some new (reusing the first as its base)',
  run: (env) => twoBackups(env, 1, [2, 4], 20_000),
};

const twoGroups: Workload = {
  name: 'two-groups',
  describe: 'two backups to different groups at once, sharing half of their chunks',
  async run(env) {
    await Promise.all([backupIn(env, snap('a', T0), makeData(3, 6)), backupIn(env, snap('b', T0), makeData(3, 6, [0, 1, 2]))]);
  },
};

/**
 * Two backups, a day passes, then a third backup runs while prune removes the oldest snapshot, GC
 * sweeps with a one-minute cutoff (so the pruned snapshot's own chunks really go) and verify checks
 * the second snapshot, the third backup's base.
 */
const gcPruneVerify: Workload = {
  name: 'gc-prune-verify',
  describe: 'a backup running alongside prune, GC (1-minute cutoff) and verify',
  async run(env) {
    await twoBackups(env, 5, [0, 3]);
    env.clock.advance(DAY_MS);
    const third = backupIn(env, snap('a', T0 + DAY_MS / 1000), makeData(5, 6, [0, 3, 5], 9_000));
    await Promise.all([third, maintenance(env)]);
  },
};

async function maintenance(env: WorkloadEnv): Promise<void> {
  const group = { ns: '', type: 'host' as const, id: 'a' };
  const snapshots = await env.store.listSnapshots(group);
  const decisions = computePrune(
    snapshots.map((s) => ({ time: s.ref.time, finished: s.finished, protected: s.protected })),
    { keepLast: 1 },
    'UTC',
  );
  for (const d of decisions) {
    const s = snapshots.find((x) => x.ref.time === d.time);
    if (!d.keep && s?.finished === true) await env.store.deleteSnapshot(s.ref);
  }
  await sweep(env);
  await verifySnapshot(env.store, snap('a', T0 + 60), { upid: 'crash-workload', log: silentLogger });
}

/** The two other levels, then the one under test: a change into `level` from each side. */
const LEVEL_PATH: Readonly<Record<SyncLevel, readonly SyncLevel[]>> = {
  none: ['file', 'filesystem', 'none'],
  filesystem: ['file', 'none', 'filesystem'],
  file: ['filesystem', 'none', 'file'],
};

const levelChange: Workload = {
  name: 'level-change',
  describe: 'three incremental backups with setSyncLevel between them, ending at the level under test',
  startLevel: (level) => LEVEL_PATH[level][0]!,
  async run(env) {
    const path = LEVEL_PATH[env.level];
    for (const [i, level] of path.entries()) {
      await env.store.setSyncLevel(level);
      // each backup keeps the previous one's new chunk and adds one: the next level reuses what the last one wrote
      await backupIn(env, snap('a', T0 + 60 * i), makeData(7, 6, Array.from({ length: i }, (_, k) => k + 1)));
      env.clock.advance(60_000);
    }
  },
};

/**
 * A group moved to a new namespace (datastore/group-move.ts) a day after its two backups, while a
 * backup of another group that shares its chunks runs and GC sweeps with a one-minute cutoff: the
 * moved snapshots' chunks are then kept only because GC hears of the move (move-journal.ts). Then
 * a backup into the moved group, based on what it holds there. Every snapshot must be whole in one
 * of the two namespaces at every crash point; where a crash splits a snapshot's rename (posix-weak
 * only) the loss is counted as `renameSplit`, as for a manifest rewrite.
 */
const groupMove: Workload = {
  name: 'group-move',
  describe: 'a group moved to a new namespace beside a backup of another group and GC (1-minute cutoff), then a backup into it',
  async run(env) {
    await twoBackups(env, 9, [1]);
    await env.store.createNamespace('team');
    env.clock.advance(DAY_MS);
    const gc = sweep(env);
    const move = moveGroup(env.store, { ns: '', type: 'host', id: 'a' }, 'team', { merge: true, onSnapshot: (from, to) => env.journal.moved(from, to) });
    await Promise.all([move, gc, backupIn(env, snap('b', T0 + 60), makeData(9, 6, [2, 3]))]);
    env.clock.advance(60_000);
    await backupIn(env, snap('a', T0 + DAY_MS / 1000, 'team'), makeData(9, 6, [1, 4]));
  },
};

export const WORKLOADS: readonly Workload[] = [firstBackup, incremental, twoGroups, gcPruneVerify, levelChange, groupMove];

export function workloadNamed(name: string): Workload | undefined {
  return WORKLOADS.find((w) => w.name === name);
}
