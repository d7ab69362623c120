/**
 * The sync job as a registry kind (job-kinds.ts): `syncjob` tasks, started on request
 * (`POST /admin/sync/{id}/run`, `holdfast sync-job run`) or by the job's `schedule`.
 *
 * `prepare` reads the job from sync.cfg and its remote (with the password) from remote.cfg and
 * opens the local datastore, so a job that cannot run fails before a task exists. The run logs in
 * to the remote, pulls or pushes, and returns the report (SyncReport) as the task's result. When
 * some snapshot or group failed, the others are still synced and the task ends in
 * SYNC_INCOMPLETE, listing them.
 */
import { fail } from '../../core/errors.ts';
import type { SyncJob } from '../../format/sync-job-config.ts';
import { datastoreAclPath, type Privilege } from '../../format/acl-config.ts';
import type { JobHost, JobKind, ScheduledInstance } from '../job-kinds.ts';
import type { TaskContext } from '../task-registry.ts';
import { emptyReport, runPull, type SyncReport } from './pull.ts';
import { runPush } from './push.ts';
import { RemoteApi } from './remote-api.ts';
import { RemoteStore } from './remote-store.ts';
import { SyncJobStore } from './sync-job-store.ts';
import { bucketFor } from '../../core/token-bucket.ts';

export const SYNC_WORKER_TYPE = 'syncjob';
/** Who owns pulled groups when the job names no owner (PBS's default). */
export const DEFAULT_SYNC_OWNER = 'root@pam';

export interface SyncParams {
  readonly id: string;
}

function finish(task: TaskContext, report: SyncReport): SyncReport {
  task.setResult(report);
  if (report.failures.length > 0) {
    // the reasons, not just the items: the CLI and the task list show only this line
    const shown = report.failures.slice(0, 3).map((f) => `${f.item} ([${f.code}] ${f.message})`);
    const more = report.failures.length > shown.length ? `, and ${report.failures.length - shown.length} more (see the task log)` : '';
    throw fail('SYNC_INCOMPLETE', `${report.failures.length} item(s) failed to sync: ${shown.join(', ')}${more}`, { failures: report.failures });
  }
  return report;
}

export const syncKind: JobKind<SyncParams, SyncReport> = {
  workerType: SYNC_WORKER_TYPE,
  async prepare(host: JobHost, p: SyncParams) {
    const job: SyncJob = await new SyncJobStore(host.fs, host.configDir).get(p.id);
    const remote = await new RemoteStore(host.fs, host.configDir).getWithSecret(job.remote);
    const { store } = await host.openStore(job.store);
    return {
      id: job.id,
      run: async (task) => {
        const pull = job.direction === 'pull';
        const bucket = pull ? bucketFor(job.rateIn, job.burstIn) : bucketFor(job.rateOut, job.burstOut);
        const rate = pull ? job.rateIn : job.rateOut;
        if (bucket && rate !== undefined) task.info(`rate limit: ${rate} bytes/s ${pull ? 'in' : 'out'} (burst ${(pull ? job.burstIn : job.burstOut) ?? rate} bytes)`);
        const started = performance.now();
        const api = await RemoteApi.connect(remote, job.remoteStore, bucket);
        const report = emptyReport(job.direction);
        const owner = job.owner ?? DEFAULT_SYNC_OWNER;
        // root@pam is the server's own identity (no account, no ACL): a job it owns is an admin's
        const privileges = owner === DEFAULT_SYNC_OWNER ? undefined : host.privileges?.bind(host);
        // the job acts as its owner in every namespace it reaches, each checked on its own ACL path
        const ownerMay = privileges === undefined ? undefined : async (ns: string, priv: Privilege): Promise<boolean> => (await privileges(owner, datastoreAclPath(job.store, ns))).has(priv);
        const c = { job, store, remote: api, task, owner, report, ...(host.checker ? { checker: host.checker } : {}), ...(ownerMay ? { ownerMay } : {}) };
        try {
          if (pull) await runPull(c);
          else await runPush(c);
        } finally {
          api.close();
        }
        report.rateLimitedBytes = bucket?.taken ?? 0;
        report.seconds = (performance.now() - started) / 1000;
        task.info(`${report.bytes} bytes ${pull ? 'read' : 'sent'} in ${report.seconds.toFixed(2)} s (${((report.bytes / Math.max(report.seconds, 1e-3)) / 1e6).toFixed(1)} MB/s)`);
        return finish(task, report);
      },
    };
  },
  async scheduled(host): Promise<ScheduledInstance<SyncParams>[]> {
    const jobs = await new SyncJobStore(host.fs, host.configDir).list();
    return jobs.flatMap((j) => (j.schedule === undefined ? [] : [{ key: `sync:${j.id}`, schedule: j.schedule, params: { id: j.id } }]));
  },
};
