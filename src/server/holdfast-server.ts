/**
 * Composition root of the server: auth, datastores, routes, protocols and the HTTPS listener,
 * wired once. `holdfast serve` and the integration tests both start the server through here.
 *
 * First start: generates the TLS certificate, creates `admin@pbs` with a random password (returned
 * in `firstStart`, and saved 0600 as `initial-admin-password` in the config dir so scripts and the
 * README can use it), and creates the datastore `default` when none is configured.
 */
import { join } from 'node:path';
import type { Logger } from '../core/log.ts';
import { pooledChunkChecker, inlineChunkChecker, type ChunkChecker } from '../chunks/chunk-check.ts';
import { atomicWrite } from '../storage/atomic-write.ts';
import type { Fs } from '../storage/fs-port.ts';
import { FlockLocker, type Locker } from '../storage/locker.ts';
import { NodeFs } from '../storage/node-fs.ts';
import { createApp } from './app.ts';
import { AuthService, type Sleep } from './auth/authenticator.ts';
import { bootstrapAdmin, BOOTSTRAP_ADMIN } from './auth/bootstrap.ts';
import { systemClock } from './clock.ts';
import { DatastoreRegistry } from './datastores/datastore-registry.ts';
import { JobServices } from './job-services.ts';
import { datastoreJobRoutes } from './routes/datastore-jobs.ts';
import { remoteConfigRoutes } from './routes/remote-config.ts';
import { syncJobRoutes } from './routes/sync-jobs.ts';
import { SyncJobStore } from '../jobs/sync/sync-job-store.ts';
import { taskRoutes } from './routes/tasks.ts';
import { BACKUP_PROTOCOL, READER_PROTOCOL } from './h2-upgrade.ts';
import { startServer, type RunningServer } from './listen.ts';
import { accessRoutes } from './routes/access.ts';
import { backupProtocolFactory, readerProtocolFactory } from './routes/backup-protocols.ts';
import { datastoreAdminRoutes } from './routes/datastore-admin.ts';
import { datastoreConfigRoutes } from './routes/datastore-config.ts';
import { fileBrowseRoutes } from './routes/file-browse.ts';
import { groupOwnerRoutes } from './routes/group-owner.ts';
import { versionRoute } from './routes/version.ts';
import { webRoutes } from './routes/web.ts';
import { UploadMemory } from './protocol/upload-memory.ts';
import { releaseMemory } from './release-memory.ts';
import { ServerMetrics } from './metrics.ts';
import { storeFigures, usageFigures } from './metrics-sources.ts';
import { UsageSampler } from '../jobs/usage-sampler.ts';
import type { SetTimer } from '../jobs/scheduler.ts';
import { datastoreUsageRoutes } from './routes/datastore-usage.ts';
import { s3ConfigRoutes } from './routes/s3-config.ts';
import { notificationConfigRoutes } from './routes/notification-config.ts';
import { benchmarkRoutes } from './routes/benchmarks.ts';
import { DEFAULT_BENCH_RESULTS_DIR } from './bench-results.ts';
import { NotificationConfigFile } from './notifications/notification-config.ts';
import { Notifier } from './notifications/notifier.ts';
import { nodeStatusRoutes } from './routes/node-status.ts';
import { serverLimits, type ServerLimits } from './server-limits.ts';

export interface HoldfastServerOptions {
  readonly configDir: string;
  readonly host: string;
  readonly port: number;
  /** where the `default` datastore goes on first start; undefined: create none */
  readonly defaultDatastorePath?: string;
  readonly log: Logger;
  /** check uploaded chunks on worker threads (default) or inline */
  readonly workerThreads?: boolean;
  /** the filesystem port for config and datastores (default NodeFs); tests wrap it to inject faults */
  readonly fs?: Fs;
  /** default FlockLocker; tests wrap it to observe lock releases */
  readonly locker?: Locker;
  /** how failed-login delays are waited (default a timer); tests record them instead */
  readonly loginSleep?: Sleep;
  /** protocol session bounds (docs/protocol.md, "Resource bounds"); unset ones take the defaults */
  readonly limits?: Partial<ServerLimits>;
  /** where the benchmark page reads results (default `bench/results/` of this install) */
  readonly benchResultsDir?: string;
  /** the usage sampler's clock and timer (default the real ones); tests move time themselves */
  readonly usage?: { readonly now?: () => number; readonly setTimer?: SetTimer };
  readonly extraRoutes?: (ctx: { registry: DatastoreRegistry; auth: AuthService }) => Iterable<import('./router.ts').Route>;
}

export interface FirstStart {
  readonly adminUser: string;
  readonly adminPassword: string | undefined;
  readonly createdDatastore: string | undefined;
}

export interface HoldfastServer {
  readonly server: RunningServer;
  readonly registry: DatastoreRegistry;
  readonly auth: AuthService;
  readonly jobs: JobServices;
  /** samples each datastore's usage every minute into `<configDir>/rrd/` */
  readonly usage: UsageSampler;
  readonly firstStart: FirstStart;
  close(): Promise<void>;
}

export const INITIAL_PASSWORD_FILE = 'initial-admin-password';

export async function startHoldfastServer(o: HoldfastServerOptions): Promise<HoldfastServer> {
  const limits = serverLimits(o.limits);
  const fs = o.fs ?? new NodeFs();
  const password = await bootstrapAdmin(o.configDir);
  if (password !== null) await atomicWrite(fs, join(o.configDir, INITIAL_PASSWORD_FILE), Buffer.from(`${password}\n`), { durable: true, perm: 0o600 });
  const registry = new DatastoreRegistry({ fs, configDir: o.configDir, locker: o.locker ?? new FlockLocker(), log: o.log });
  let createdDatastore: string | undefined;
  if (o.defaultDatastorePath !== undefined && (await registry.list()).length === 0) {
    o.log.info(`creating the default datastore at ${o.defaultDatastorePath} (65536 chunk directories)`);
    await registry.admin.create({ name: 'default', path: o.defaultDatastorePath, comment: 'created on first start' });
    createdDatastore = 'default';
  }
  const auth = await AuthService.open(o.configDir, systemClock, o.loginSleep ? { sleep: o.loginSleep } : {});
  // One checker thread: SHA-256 + CRC-32 of a 4 MiB chunk take ~3 ms, so it keeps up with well over
  // 1 GB/s, and the main thread (TLS, HTTP/2, file writes) uses the other core.
  const checker: ChunkChecker = o.workerThreads === false ? inlineChunkChecker : pooledChunkChecker(1);
  const notifier = new Notifier({ config: new NotificationConfigFile(fs, o.configDir), log: o.log });
  const checkerPool = o.workerThreads === false ? undefined : (threads: number): ChunkChecker => pooledChunkChecker(threads);
  const jobs = await JobServices.start({ configDir: o.configDir, fs, registry, log: o.log, clock: systemClock, checker, ...(checkerPool ? { checkerPool } : {}), privileges: (id, path) => auth.privileges(id, path), onTaskEnded: (info) => notifier.taskEnded(info) });
  const uploads = new UploadMemory(limits.uploadMemoryBytes, { onIdle: () => releaseMemory(o.log) });
  const usage = new UsageSampler({ fs, dir: join(o.configDir, 'rrd'), figures: usageFigures(registry), log: o.log, ...o.usage });
  const metrics = new ServerMetrics({ stores: storeFigures(registry, jobs), uploads: () => uploads.stats() });
  const app = createApp({
    configDir: o.configDir,
    auth,
    log: o.log,
    clock: systemClock,
    limits,
    onAnswered: (method, status, code) => metrics.httpAnswered(method, status, code),
    routes: [...webRoutes(), versionRoute(), ...accessRoutes(auth), ...datastoreAdminRoutes(registry, auth), ...groupOwnerRoutes(registry, auth), ...fileBrowseRoutes(registry, auth), ...datastoreUsageRoutes(registry, auth, usage), ...s3ConfigRoutes(fs, o.configDir), ...notificationConfigRoutes(fs, o.configDir), ...benchmarkRoutes(fs, o.benchResultsDir ?? DEFAULT_BENCH_RESULTS_DIR), ...datastoreConfigRoutes(registry, auth), ...taskRoutes(jobs, auth), ...datastoreJobRoutes(jobs, auth), ...remoteConfigRoutes(fs, o.configDir, auth), ...syncJobRoutes(jobs, auth, new SyncJobStore(fs, o.configDir)), ...nodeStatusRoutes({ node: jobs.tasks.node, uploads: () => uploads.stats(), metrics: () => metrics.render(), fingerprint: () => server.fingerprint }), ...(o.extraRoutes?.({ registry, auth }) ?? [])],
  });
  app.registerProtocol(BACKUP_PROTOCOL, backupProtocolFactory({ registry, auth, checker, jobs, uploads, metrics }));
  app.registerProtocol(READER_PROTOCOL, readerProtocolFactory({ registry, auth }));
  let server: RunningServer;
  try {
    server = await startServer({ host: o.host, port: o.port, configDir: o.configDir, app });
  } catch (e) {
    // what started before must stop, or its timers and threads keep a failed `serve` alive
    await app.close();
    await jobs.close();
    await notifier.idle();
    await registry.closeAll();
    await checker.close();
    throw e;
  }
  usage.start();
  return {
    server,
    registry,
    auth,
    jobs,
    usage,
    firstStart: { adminUser: BOOTSTRAP_ADMIN, adminPassword: password ?? undefined, createdDatastore },
    close: async () => {
      await usage.stop();
      await server.close();
      await jobs.close();
      await notifier.idle();
      await registry.closeAll();
      await checker.close();
    },
  };
}
