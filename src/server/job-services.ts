/**
 * JobServices: the server's jobs and tasks, wired once by the composition root. It owns the task
 * registry (`<configDir>/tasks`) and the scheduler, starts any job kind of the registry
 * (jobs/job-kinds.ts: GC, verify, prune, sync) as a task, and tracks every backup session as a
 * `backup` task. It knows no kind by name: kinds reach datastores through the `JobHost` it
 * implements. The tasks, datastore-jobs and sync routes take it as a dependency (the composition
 * root wires them), so this module imports no route.
 *
 * - Scheduled jobs are what each kind's `scheduled` finds in the config (`gc-schedule`,
 *   `prune-schedule` of datastore.cfg, `schedule` of sync.cfg). They run as `root@pam`, as
 *   upstream's do.
 * - `verify-new`: once a backup finished, a verify task of its snapshot starts (after the backup's
 *   locks are released, so it never delays the acknowledgement).
 * - `close` stops the scheduler, then every running task, and waits for them.
 */
import { join } from 'node:path';
import { formatTime, type SnapshotRef } from '../core/backup-ref.ts';
import { fail, toHoldfastError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Privilege } from '../format/acl-config.ts';
import type { ChunkChecker } from '../chunks/chunk-check.ts';
import { parseBoolean } from '../format/property-string.ts';
import type { BackupSession } from '../datastore/backup-session.ts';
import { tuningOf } from '../datastore/datastore-config.ts';
import type { AnyJobKind, JobHost, JobKind } from '../jobs/job-kinds.ts';
import { DEFAULT_JOB_KINDS } from '../jobs/registry.ts';
import { verifyKind } from '../jobs/maintenance-kinds.ts';
import { Scheduler, type ScheduledJob, type SetTimer } from '../jobs/scheduler.ts';
import { TaskRegistry, type RunningTask, type TaskInfo } from '../jobs/task-registry.ts';
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
  /** the job kinds whose scheduled instances run (default DEFAULT_JOB_KINDS) */
  readonly kinds?: readonly AnyJobKind[];
  /** the server's chunk checker, lent to jobs (JobHost.checker) */
  readonly checker?: ChunkChecker;
  /** starts a job's own checking threads (JobHost.checkerPool) */
  readonly checkerPool?: (threads: number) => ChunkChecker;
  /** the ACLs, lent to jobs that act for a user (JobHost.privileges) */
  readonly privileges?: (authId: string, path: string) => Promise<ReadonlySet<Privilege>>;
}

/** The backup task of one backup session; `end` is idempotent. */
export interface BackupTrack {
  readonly upid: string;
  attach(session: BackupSession): void;
  requestFailed(error: unknown): void;
  /** Ends the task: OK when the session finished, else ERROR with `error` or the last failure. */
  end(session: BackupSession | undefined, error?: unknown): Promise<void>;
}

export class JobServices {
  readonly tasks: TaskRegistry;
  readonly scheduler: Scheduler;
  readonly registry: DatastoreRegistry;
  readonly clock: Clock;
  readonly #log: Logger;
  readonly #kinds: readonly AnyJobKind[];
  readonly #host: JobHost;

  private constructor(tasks: TaskRegistry, o: JobServicesOptions) {
    this.tasks = tasks;
    this.registry = o.registry;
    this.clock = o.clock;
    this.#log = o.log;
    this.#kinds = o.kinds ?? DEFAULT_JOB_KINDS;
    this.#host = {
      configDir: o.configDir,
      fs: o.fs,
      log: o.log,
      now: () => o.clock.now(),
      listDatastores: () => o.registry.list(),
      ...(o.checker ? { checker: o.checker } : {}),
      ...(o.checkerPool ? { checkerPool: o.checkerPool } : {}),
      ...(o.privileges ? { privileges: o.privileges } : {}),
      openStore: async (name) => {
        const cfg = await o.registry.config(name);
        return { cfg, tuning: tuningOf(cfg), store: await o.registry.get(name, 'write') };
      },
    };
    this.scheduler = new Scheduler({ jobs: () => this.scheduledJobs(), log: o.log, now: () => o.clock.now(), ...(o.setTimer ? { setTimer: o.setTimer } : {}) });
  }

  static async start(o: JobServicesOptions): Promise<JobServices> {
    const tasks = await TaskRegistry.open({ fs: o.fs, dir: join(o.configDir, 'tasks'), now: () => o.clock.now(), log: o.log, ...(o.onTaskEnded ? { onEnded: o.onTaskEnded } : {}) });
    const jobs = new JobServices(tasks, o);
    await jobs.scheduler.start();
    return jobs;
  }

  /** Starts a job of `kind` as a task; resolves with its UPID once `prepare` succeeded. */
  async start<P>(kind: JobKind<P>, params: P, authId: string): Promise<string> {
    const job = await kind.prepare(this.#host, params);
    return this.tasks.spawn({ type: kind.workerType, id: job.id, authId }, (task) => job.run(task));
  }

  /** Runs a job of `kind` to its end and returns its report (without a task when it is untracked). */
  async run<P, R>(kind: JobKind<P, R>, params: P, authId: string): Promise<R> {
    const job = await kind.prepare(this.#host, params);
    if (job.untracked) return job.untracked();
    return (await this.tasks.run({ type: kind.workerType, id: job.id, authId }, (task) => job.run(task))).result;
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

  /** The scheduled instances of every registered kind, each started as SCHEDULER_AUTH_ID. */
  async scheduledJobs(): Promise<ScheduledJob[]> {
    const out: ScheduledJob[] = [];
    for (const kind of this.#kinds) {
      for (const inst of (await kind.scheduled?.(this.#host)) ?? []) {
        out.push({ key: inst.key, schedule: inst.schedule, run: async () => void (await this.tasks.wait(await this.start(kind, inst.params, SCHEDULER_AUTH_ID))) });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.scheduler.stop();
    await this.tasks.close();
  }

  async #verifyNew(storeName: string, ref: SnapshotRef, authId: string): Promise<void> {
    try {
      const cfg = await this.registry.config(storeName);
      if (parseBoolean(cfg.props.get('verify-new') ?? '') !== true) return;
      await this.start(verifyKind, { store: storeName, scope: { kind: 'snapshot', snapshot: ref }, filter: { ignoreVerified: false } }, authId);
    } catch (e) {
      this.#log.warn(`verify-new of ${storeName}: cannot start: ${toHoldfastError(e).message}`);
    }
  }
}
