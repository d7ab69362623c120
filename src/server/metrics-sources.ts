/**
 * Where `/metrics` reads the state of each datastore (ServerMetrics's `stores()`): the status the
 * API already reports (last GC figures, dedup factor, sync counts), the snapshot count, and the
 * newest finished GC, verify and prune task from the task list. A store that fails to answer is
 * reported as an Error so the scrape goes on with the others.
 *
 * `usageFigures` is what the usage sampler records: the same status, reduced to the sampled fields.
 */
import { parseMaintenanceMode } from '../datastore/maintenance.ts';
import { GC_WORKER_TYPE } from '../jobs/gc-job.ts';
import { PRUNE_JOB_WORKER_TYPE } from '../jobs/prune.ts';
import type { TaskInfo } from '../jobs/task-registry.ts';
import { VERIFY_WORKER_TYPE } from '../jobs/verify-job.ts';
import type { StoreUsage } from '../jobs/usage-sampler.ts';
import type { UsageSample } from '../jobs/usage-series.ts';
import type { DatastoreRegistry } from './datastores/datastore-registry.ts';
import type { JobServices } from './job-services.ts';
import type { StoreFigures } from './metrics.ts';
import { storeStatus } from './routes/datastore-admin.ts';

const TASK_KINDS = [
  ['gc', GC_WORKER_TYPE],
  ['verify', VERIFY_WORKER_TYPE],
  ['prune', PRUNE_JOB_WORKER_TYPE],
] as const;

export function storeFigures(registry: DatastoreRegistry, jobs: JobServices): () => Promise<(StoreFigures | Error)[]> {
  return async () => {
    // an offline store is not touched at all (its disk may be gone); read-only ones are reported
    const configs = (await registry.list()).filter((c) => parseMaintenanceMode(c.props.get('maintenance-mode'))?.type !== 'offline');
    return Promise.all(
      configs.map(async (cfg): Promise<StoreFigures | Error> => {
        try {
          const store = await registry.get(cfg.name, 'read');
          const status = await storeStatus(store);
          const gc = status['gc-status'] as { 'disk-bytes'?: number; 'disk-chunks'?: number } | null;
          const dedup = status['deduplication-factor'];
          const lastTasks: StoreFigures['lastTasks'][number][] = [];
          for (const [kind, type] of TASK_KINDS) {
            const t = await newestEnded(jobs, type, cfg.name);
            if (t?.endTime !== undefined) lastTasks.push({ kind, ok: t.state?.kind === 'ok' || t.state?.kind === 'warnings', endTime: t.endTime });
          }
          return {
            name: cfg.name,
            syncLevel: store.syncLevel,
            diskBytes: gc?.['disk-bytes'],
            chunks: gc?.['disk-chunks'],
            dedupFactor: typeof dedup === 'number' ? dedup : undefined,
            snapshots: await store.countSnapshots(),
            syncCalls: store.syncCounts(),
            syncSeconds: store.syncSeconds(),
            storageCounters: store.storageCounters(),
            lastTasks,
          };
        } catch (e) {
          return e instanceof Error ? e : new Error(String(e));
        }
      }),
    );
  };
}

async function newestEnded(jobs: JobServices, type: string, store: string): Promise<TaskInfo | undefined> {
  const list = await jobs.tasks.list({ typeFilter: type, filter: (t) => t.endTime !== undefined && (t.task.workerId === store || (t.task.workerId ?? '').startsWith(`${store}:`)) });
  return list.reduce<TaskInfo | undefined>((a, t) => (a === undefined || (t.endTime ?? 0) > (a.endTime ?? 0) ? t : a), undefined);
}

/** What the usage sampler records of each datastore that is not offline (usage-series.ts). */
export function usageFigures(registry: DatastoreRegistry): () => Promise<StoreUsage[]> {
  return async () => {
    const configs = (await registry.list()).filter((c) => parseMaintenanceMode(c.props.get('maintenance-mode'))?.type !== 'offline');
    const out: StoreUsage[] = [];
    for (const cfg of configs) {
      const status = await storeStatus(await registry.get(cfg.name, 'read'));
      const gc = status['gc-status'] as { 'disk-bytes'?: number; 'disk-chunks'?: number } | null;
      const sample: UsageSample = {};
      const put = (field: keyof UsageSample, v: unknown): void => {
        if (typeof v === 'number' && Number.isFinite(v)) sample[field] = v;
      };
      put('used', gc?.['disk-bytes']);
      put('chunks', gc?.['disk-chunks']);
      put('dedup', status['deduplication-factor']);
      put('fs-used', status['used']);
      put('fs-total', status['total']);
      out.push({ name: cfg.name, sample });
    }
    return out;
  };
}
