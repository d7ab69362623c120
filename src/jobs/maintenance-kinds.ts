/**
 * The datastore maintenance jobs as registry kinds (job-kinds.ts): GC, verify, prune of one group
 * and prune of a datastore. Behaviour is that of the job modules they wrap (gc-job, verify-job,
 * prune); this file only says how each is named, opened and scheduled:
 *
 * - `gc-schedule` of a datastore schedules a GC of it;
 * - `prune-schedule` schedules a datastore prune with the store's own `keep-*` options;
 * - `verify-schedule` schedules a verify of the whole datastore that skips snapshots verified
 *   less than SCHEDULED_REVERIFY_DAYS ago (PBS's verify-job defaults in its UI: skip verified,
 *   re-verify after 30 days), so each run reads what is new or due and not everything;
 * - the group prune is started on request only.
 */
import type { GroupRef } from '../core/backup-ref.ts';
import { GC_WORKER_TYPE, runGcJob } from './gc-job.ts';
import type { JobHost, JobKind, ScheduledInstance } from './job-kinds.ts';
import { describePolicy, pruneDatastore, pruneGroup, prunePolicyFrom, PRUNE_JOB_WORKER_TYPE, PRUNE_WORKER_TYPE, type PruneEntry } from './prune.ts';
import type { PrunePolicy } from './prune-policy.ts';
import { runVerifyJob, VERIFY_WORKER_TYPE, type VerifyFilter, type VerifyScope } from './verify-job.ts';

export interface StoreParams {
  readonly store: string;
}

export interface VerifyParams extends StoreParams {
  readonly scope: VerifyScope;
  readonly filter: VerifyFilter;
}

export interface PruneGroupParams extends StoreParams {
  readonly group: GroupRef;
  readonly policy: PrunePolicy;
  readonly dryRun: boolean;
}

export interface PruneJobParams extends StoreParams {
  /** undefined: the datastore's `keep-*` options */
  readonly policy: PrunePolicy | undefined;
  readonly ns: string;
  /** only these namespaces (those the caller may prune); undefined: all below `ns` */
  readonly namespaces?: readonly string[];
  readonly dryRun: boolean;
}

/** The configured datastores whose `key` property holds a schedule. */
async function storesWith(host: JobHost, key: string): Promise<{ name: string; schedule: string }[]> {
  const out: { name: string; schedule: string }[] = [];
  for (const cfg of await host.listDatastores()) {
    const schedule = cfg.props.get(key);
    if (schedule) out.push({ name: cfg.name, schedule });
  }
  return out;
}

export const gcKind: JobKind<StoreParams> = {
  workerType: GC_WORKER_TYPE,
  async prepare(host, p) {
    const { store, tuning } = await host.openStore(p.store);
    return { id: p.store, run: (task) => runGcJob(store, task, { tuning }) };
  },
  async scheduled(host): Promise<ScheduledInstance<StoreParams>[]> {
    return (await storesWith(host, 'gc-schedule')).map((s) => ({ key: `gc:${s.name}`, schedule: s.schedule, params: { store: s.name } }));
  },
};

/** A scheduled verify re-reads a snapshot whose last verification is this many days old. */
export const SCHEDULED_REVERIFY_DAYS = 30;

export const verifyKind: JobKind<VerifyParams> = {
  workerType: VERIFY_WORKER_TYPE,
  async prepare(host, p) {
    const { store, tuning } = await host.openStore(p.store);
    const s = p.scope;
    const id = s.kind === 'datastore' ? p.store : `${p.store}:${s.kind === 'namespace' ? s.ns : store.show(s.kind === 'group' ? s.group : s.snapshot)}`;
    return { id, run: (task) => runVerifyJob(store, s, task, { filter: p.filter, tuning, now: () => host.now(), ...(host.checkerPool ? { checkerPool: (n: number) => host.checkerPool!(n) } : {}) }) };
  },
  async scheduled(host): Promise<ScheduledInstance<VerifyParams>[]> {
    return (await storesWith(host, 'verify-schedule')).map((s) => ({
      key: `verify:${s.name}`,
      schedule: s.schedule,
      params: { store: s.name, scope: { kind: 'datastore' }, filter: { ignoreVerified: true, outdatedAfterDays: SCHEDULED_REVERIFY_DAYS } },
    }));
  },
};

const quiet = { info: () => undefined, warn: () => undefined };

/** Prunes one group; a dry run changes nothing and runs without a task. */
export const pruneGroupKind: JobKind<PruneGroupParams, PruneEntry[]> = {
  workerType: PRUNE_WORKER_TYPE,
  async prepare(host, p) {
    const { store } = await host.openStore(p.store);
    return {
      id: `${p.store}:${store.show(p.group)}`,
      run: async (task) => {
        task.info(`prune group ${store.show(p.group)} of datastore ${p.store}: ${describePolicy(p.policy)}`);
        return pruneGroup(store, p.group, p.policy, { dryRun: false, log: task, signal: task.signal });
      },
      ...(p.dryRun ? { untracked: () => pruneGroup(store, p.group, p.policy, { dryRun: true, log: quiet }) } : {}),
    };
  },
};

/** Prunes every group of a namespace (and below) as a `prunejob` task. */
export const pruneJobKind: JobKind<PruneJobParams> = {
  workerType: PRUNE_JOB_WORKER_TYPE,
  async prepare(host, p) {
    const { store, cfg } = await host.openStore(p.store);
    const policy = p.policy ?? prunePolicyFrom((key) => cfg.props.get(key));
    return {
      id: p.store,
      run: async (task) => {
        task.info(`prune datastore ${p.store}${p.ns === '' ? '' : ` namespace '${p.ns}'`}: ${describePolicy(policy)}${p.dryRun ? ' (dry run)' : ''}`);
        const entries = await pruneDatastore(store, policy, { dryRun: p.dryRun, log: task, signal: task.signal, ns: p.ns, ...(p.namespaces === undefined ? {} : { namespaces: p.namespaces }), progress: (d, t) => task.progress(d, t, 'groups') });
        const count = (outcome: PruneEntry['outcome']): number => entries.filter((e) => e.outcome === outcome).length;
        task.info(`kept ${count('kept')}, removed ${count('removed')}, would remove ${count('would-remove')}, skipped ${count('skipped')}`);
        return { entries, kept: count('kept'), removed: count('removed'), 'would-remove': count('would-remove'), skipped: count('skipped') };
      },
    };
  },
  async scheduled(host): Promise<ScheduledInstance<PruneJobParams>[]> {
    return (await storesWith(host, 'prune-schedule')).map((s) => ({ key: `prune:${s.name}`, schedule: s.schedule, params: { store: s.name, policy: undefined, ns: '', dryRun: false } }));
  },
};
