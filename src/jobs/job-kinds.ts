/**
 * Job kinds as a registry: each kind of maintenance job (GC, verify, prune of a group, prune of a
 * datastore, sync) is one `JobKind` value — its worker type, how it opens what it needs and names
 * its task, how it runs, and which instances the configuration schedules. The server's
 * `JobServices` knows no kind by name: it starts any kind as a task and asks every kind of the
 * registry for its scheduled instances, so a new kind is one more entry, not one more method and
 * one more branch.
 *
 * Invariants:
 * - `prepare` does every check that can fail before a task exists (unknown datastore, maintenance
 *   mode, bad parameters), so a bad request is a typed error, not a failed task;
 * - `run` is the task body: it logs to the task and returns the job's report;
 * - a kind reaches datastores and config only through `JobHost`, which the composition root
 *   implements; jobs never import the server.
 */
import type { ChunkChecker } from '../chunks/chunk-check.ts';
import type { Privilege } from '../format/acl-config.ts';
import type { Logger } from '../core/log.ts';
import type { DatastoreConfig } from '../datastore/datastore-config.ts';
import type { Datastore } from '../datastore/datastore.ts';
import type { DatastoreTuning } from '../format/tuning.ts';
import type { Fs } from '../storage/fs-port.ts';
import type { TaskContext } from './task-registry.ts';

/** An opened datastore with its config, as a job needs it. */
export interface OpenedStore {
  readonly store: Datastore;
  readonly cfg: DatastoreConfig;
  readonly tuning: DatastoreTuning;
}

/** What a job kind may use of the server that hosts it. */
export interface JobHost {
  readonly configDir: string;
  readonly fs: Fs;
  readonly log: Logger;
  /** ms since the epoch */
  now(): number;
  /** Opens a datastore for writing (GC, verify, prune and sync all write). */
  openStore(name: string): Promise<OpenedStore>;
  listDatastores(): Promise<readonly DatastoreConfig[]>;
  /**
   * Checks chunks off the main thread (the server's pool), for jobs that take chunks in from
   * elsewhere (a sync pull); without it they are checked inline.
   */
  readonly checker?: ChunkChecker;
  /**
   * A pool of `threads` chunk-checking workers of a job's own (a verify checks every chunk it
   * reads), which the job closes when done; absent, jobs check inline (tests, the simulator).
   */
  checkerPool?(threads: number): ChunkChecker;
  /**
   * The privileges `authId` holds on an ACL path (`/datastore/{store}/{ns}`), for jobs that act on
   * behalf of a user (a sync job, as its owner) in namespaces below the one they were allowed on,
   * where an ACL entry may take away what one above grants. Absent: no ACLs to answer to (tests).
   */
  privileges?(authId: string, path: string): Promise<ReadonlySet<Privilege>>;
}

/** A job ready to run: its task's worker id and body. */
export interface PreparedJob<R> {
  /** the task's worker id, e.g. the datastore name */
  readonly id: string;
  run(task: TaskContext): Promise<R>;
  /** When set, the job runs without a task (a prune dry run changes nothing and logs nothing). */
  readonly untracked?: () => Promise<R>;
}

/** One scheduled instance of a kind: started as SCHEDULER_AUTH_ID when `schedule` comes due. */
export interface ScheduledInstance<P> {
  /** unique among all jobs, e.g. `gc:store1` */
  readonly key: string;
  readonly schedule: string;
  readonly params: P;
}

export interface JobKind<P, R = unknown> {
  /** the task's worker type (PBS names: `garbage_collection`, `verify`, `syncjob`, …) */
  readonly workerType: string;
  prepare(host: JobHost, params: P): Promise<PreparedJob<R>>;
  /** The instances the configuration schedules; none when the kind is only started on request. */
  scheduled?(host: JobHost): Promise<readonly ScheduledInstance<P>[]>;
}

/** A kind whose parameter type is erased, for the registry list. */
export type AnyJobKind = JobKind<never, unknown> & { scheduled?(host: JobHost): Promise<readonly ScheduledInstance<unknown>[]> };

/** Erases a kind's parameter type for the registry (its own `scheduled` yields matching params). */
export function registered<P, R>(kind: JobKind<P, R>): AnyJobKind {
  return kind as unknown as AnyJobKind;
}
