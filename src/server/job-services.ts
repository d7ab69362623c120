/**
 * JobServices: the server's maintenance jobs and tasks, wired once by the composition root.
 * It owns the task registry (`<configDir>/tasks`) and the scheduler, starts GC, verify and prune
 * as tasks on the registry's datastores, and tracks every backup session as a `backup` task. The
 * tasks and datastore-jobs routes take it as a dependency (the composition root wires them), so
 * this module imports no route.
 *
 * - Scheduled jobs come from `datastore.cfg`: `gc-schedule` starts a GC, `prune-schedule` a
 *   datastore prune with the store's `keep-*` options. They run as `root@pam`, as upstream's do.
 * - `verify-new`: once a backup finished, a verify task of its snapshot starts (after the backup's
 *   locks are released, so it never delays the acknowledgement).
 * - `close` stops the scheduler, then every running task, and waits for them.
 */
import { join } from 'node:path';
import { formatTime, type GroupRef, type SnapshotRef } from '../core/backup-ref.ts';
import { fail, toHoldfastError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { parseBoolean } from '../format/property-string.ts';
import type { DatastoreTuning } from '../format/tuning.ts';
import type { BackupSession } from '../datastore/backup-session.ts';
import { tuningOf, type DatastoreConfig } from '../datastore/datastore-config.ts';
import type { Datastore } from '../datastore/datastore.ts';
import { GC_WORKER_TYPE, runGcJob } from '../jobs/gc-job.ts';
import { describePolicy, pruneDatastore, pruneGroup, prunePolicyFrom, PRUNE_JOB_WORKER_TYPE, PRUNE_WORKER_TYPE, type PruneEntry } from '../jobs/prune.ts';
import type { PrunePolicy } from '../jobs/prune-policy.ts';
import { Scheduler, type ScheduledJob, type SetTimer } from '../jobs/scheduler.ts';
import { TaskRegistry, type RunningTask, type TaskInfo } from '../jobs/task-registry.ts';
import { runVerifyJob, VERIFY_WORKER_TYPE, type VerifyFilter, type VerifyScope } from '../jobs/verify-job.ts';
import type { Fs } from '../storage/fs-port.ts';
import type { Clock } from './clock.ts';
import type { DatastoreRegistry } from './datastores/datastore-registry.ts';

export const SCHEDULER_AUTH_ID = 'root@pam';
export const BACKUP_WORKER_TYPE = 'backup';

export interface JobServicesOptions {
  readonly configDir: string;
  readonly fs: Fs;
  readonly registry: DatastoreRegistry;
  readonly log: Logger;
  readonly clock: Clock;
  /** told of every ended task (the notifier) */
  readonly onTaskEnded?: (info: TaskInfo) => void;
  /** the scheduler's timer (default: real, unref'd timers) */
  readonly setTimer?: SetTimer;
}

/** The backup task of one backup session; `end` is idempotent. */
export interface BackupTrack {
  readonly upid: string;
  attach(session: BackupSession): void;
  requestFailed(error: unknown): void;
  /** Ends the task: OK when the session finished, else ERROR with `error` or the last failure. */
  end(session: BackupSession | undefined, error?: unknown): Promise<void>;
}

export interface PruneJobParams {
  /** undefined: the datastore's `keep-*` options */
  readonly policy: PrunePolicy | undefined;
  readonly ns: string;
  readonly dryRun: boolean;
}

export class JobServices {
  readonly tasks: TaskRegistry;
  readonly scheduler: Scheduler;
  readonly registry: DatastoreRegistry;
  readonly clock: Clock;
  readonly #log: Logger;

  private constructor(tasks: TaskRegistry, o: JobServicesOptions) {
    this.tasks = tasks;
    this.registry = o.registry;
    this.clock = o.clock;
    this.#log = o.log;
    this.scheduler = new Scheduler({ jobs: () => this.scheduledJobs(), log: o.log, now: () => o.clock.now(), ...(o.setTimer ? { setTimer: o.setTimer } : {}) });
  }

  static async start(o: JobServicesOptions): Promise<JobServices> {
    const tasks = await TaskRegistry.open({ fs: o.fs, dir: join(o.configDir, 'tasks'), now: () => o.clock.now(), log: o.log, ...(o.onTaskEnded ? { onEnded: o.onTaskEnded } : {}) });
    const jobs = new JobServices(tasks, o);
    await jobs.scheduler.start();
    return jobs;
  }

  async startGc(storeName: string, authId: string): Promise<string> {
    const { store, tuning } = await this.#open(storeName);
    return this.tasks.spawn({ type: GC_WORKER_TYPE, id: storeName, authId }, (task) => runGcJob(store, task, { tuning }));
  }

  async startVerify(storeName: string, scope: VerifyScope, filter: VerifyFilter, authId: string): Promise<string> {
    const { store, tuning } = await this.#open(storeName);
    const id = scope.kind === 'datastore' ? storeName : `${storeName}:${scope.kind === 'namespace' ? scope.ns : store.show(scope.kind === 'group' ? scope.group : scope.snapshot)}`;
    return this.tasks.spawn({ type: VERIFY_WORKER_TYPE, id, authId }, (task) => runVerifyJob(store, scope, task, { filter, tuning, now: () => this.clock.now() }));
  }

  /** Prunes one group; a dry run changes nothing and runs without a task. */
  async prune(storeName: string, group: GroupRef, policy: PrunePolicy, dryRun: boolean, authId: string): Promise<PruneEntry[]> {
    const { store } = await this.#open(storeName);
    if (dryRun) return pruneGroup(store, group, policy, { dryRun: true, log: { info: () => undefined, warn: () => undefined } });
    const spec = { type: PRUNE_WORKER_TYPE, id: `${storeName}:${store.show(group)}`, authId };
    const { result } = await this.tasks.run(spec, async (task) => {
      task.info(`prune group ${store.show(group)} of datastore ${storeName}: ${describePolicy(policy)}`);
      return pruneGroup(store, group, policy, { dryRun: false, log: task, signal: task.signal });
    });
    return result;
  }

  /** Prunes every group of a namespace (and below) as a `prunejob` task. */
  async startPruneDatastore(storeName: string, p: PruneJobParams, authId: string): Promise<string> {
    const { store, cfg } = await this.#open(storeName);
    const policy = p.policy ?? prunePolicyFrom((key) => cfg.props.get(key));
    return this.tasks.spawn({ type: PRUNE_JOB_WORKER_TYPE, id: storeName, authId }, async (task) => {
      task.info(`prune datastore ${storeName}${p.ns === '' ? '' : ` namespace '${p.ns}'`}: ${describePolicy(policy)}${p.dryRun ? ' (dry run)' : ''}`);
      const entries = await pruneDatastore(store, policy, { dryRun: p.dryRun, log: task, signal: task.signal, ns: p.ns, progress: (d, t) => task.progress(d, t, 'groups') });
      const count = (outcome: PruneEntry['outcome']): number => entries.filter((e) => e.outcome === outcome).length;
      task.info(`kept ${count('kept')}, removed ${count('removed')}, would remove ${count('would-remove')}, skipped ${count('skipped')}`);
      return { entries, kept: count('kept'), removed: count('removed'), 'would-remove': count('would-remove'), skipped: count('skipped') };
    });
  }

  /**
   * Starts the `backup` task of a backup session that is about to begin. Stopping the task aborts
   * the session (its snapshot is removed) and ends the task; the client's next request fails.
   */
  async backupStarted(storeName: string, ref: SnapshotRef, authId: string): Promise<BackupTrack> {
    let session: BackupSession | undefined;
    let lastError: unknown;
    let ending: Promise<void> | undefined;
    const group = `${ref.ns === '' ? '' : `ns/${ref.ns}/`}${ref.type}/${ref.id}`;
    const end = (s: BackupSession | undefined, error?: unknown): Promise<void> => (ending ??= this.#endBackup(task, { storeName, ref, authId }, s, error ?? lastError));
    const task = await this.tasks.begin({
      type: BACKUP_WORKER_TYPE,
      id: `${storeName}:${group}`,
      authId,
      onStop: async () => {
        await session?.abort();
        await end(session, fail('ABORTED', 'the backup was stopped', {}));
      },
    });
    task.info(`starting new backup on datastore '${storeName}': "${group}/${formatTime(ref.time)}"`);
    return {
      upid: task.upid,
      attach: (s) => {
        session = s;
        task.info(s.previous ? `previous snapshot: ${s.store.show(s.previous)}` : 'no usable previous snapshot: every chunk is uploaded');
      },
      requestFailed: (e) => {
        lastError = e;
        task.info(`request failed: ${toHoldfastError(e).message}`);
      },
      end,
    };
  }

  async #endBackup(task: RunningTask, b: { storeName: string; ref: SnapshotRef; authId: string }, s: BackupSession | undefined, error: unknown): Promise<void> {
    if (s?.state !== 'finished') {
      await task.end(error ?? fail('ABORTED', 'the backup ended before it finished', {}));
      return;
    }
    task.info(`upload statistics: ${s.stats.count} chunks (${s.stats.duplicates} duplicates, ${s.stats.repaired} repaired), ${s.stats.size} bytes`);
    task.info(`backup finished successfully (sync-level ${s.store.syncLevel})`);
    await task.end();
    await this.#verifyNew(b.storeName, b.ref, b.authId);
  }

  /** The scheduled jobs of every configured datastore. */
  async scheduledJobs(): Promise<ScheduledJob[]> {
    const out: ScheduledJob[] = [];
    for (const cfg of await this.registry.list()) {
      const gc = cfg.props.get('gc-schedule');
      if (gc) out.push({ key: `gc:${cfg.name}`, schedule: gc, run: async () => void (await this.tasks.wait(await this.startGc(cfg.name, SCHEDULER_AUTH_ID))) });
      const prune = cfg.props.get('prune-schedule');
      if (prune) {
        const params: PruneJobParams = { policy: undefined, ns: '', dryRun: false };
        out.push({ key: `prune:${cfg.name}`, schedule: prune, run: async () => void (await this.tasks.wait(await this.startPruneDatastore(cfg.name, params, SCHEDULER_AUTH_ID))) });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.scheduler.stop();
    await this.tasks.close();
  }

  async #open(storeName: string): Promise<{ store: Datastore; cfg: DatastoreConfig; tuning: DatastoreTuning }> {
    const cfg = await this.registry.config(storeName);
    return { cfg, tuning: tuningOf(cfg), store: await this.registry.get(storeName, 'write') }; // GC, verify (records its state) and prune all write
  }

  async #verifyNew(storeName: string, ref: SnapshotRef, authId: string): Promise<void> {
    try {
      const cfg = await this.registry.config(storeName);
      if (parseBoolean(cfg.props.get('verify-new') ?? '') !== true) return;
      await this.startVerify(storeName, { kind: 'snapshot', snapshot: ref }, { ignoreVerified: false }, authId);
    } catch (e) {
      this.#log.warn(`verify-new of ${storeName}: cannot start: ${toHoldfastError(e).message}`);
    }
  }
}
