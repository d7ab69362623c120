/**
 * One measured backup each: a Holdfast backup into an empty datastore at one sync level, or a peer
 * tool's backup into a fresh repository. Everything around the timed part (setting the level,
 * `sync` and page-cache drop, server start, warming the source) happens before the clock starts,
 * and the datastore is emptied after, so runs do not see each other's chunks or dirty pages.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import type { SyncLevel } from '../../core/sync-level.ts';
import type { LoopFsType } from './bench-options.ts';
import { memoryCgroupOf, type MemoryCgroup } from './cgroup.ts';
import { syncAndDropCaches } from './environment.ts';
import { createBenchDatastore, diffCounts, emptyDatastore, removeBenchDatastore, setBenchSyncLevel, startBenchServer, timedBackup } from './holdfast-runner.ts';
import { timedPeerBackup, type PeerTool } from './peers.ts';
import { checkSyncCounts, type Measurement } from './report.ts';
import { emptyS3Store, prepareBenchS3, removeS3Store, type BenchS3 } from './s3-bench.ts';

/** Where one table's backups go: a filesystem with one benchmark datastore on it. */
export interface Target {
  readonly fs: 'default' | LoopFsType;
  /** the datastore and the peer repositories are made in here */
  readonly dir: string;
  readonly store: string;
  /** the datastore's directory: the whole store, or an S3 store's cache */
  readonly storePath: string;
  /** set when the datastore keeps its chunks in this bucket */
  readonly s3: BenchS3 | undefined;
}

export const BENCH_STORE = 'bench';

/** Creates the target's datastore once: 65536 prefix directories are too slow to make per run. */
export async function prepareTarget(configDir: string, fs: Target['fs'], dir: string, level: SyncLevel, s3?: BenchS3): Promise<Target> {
  const target = { fs, dir, store: BENCH_STORE, storePath: join(dir, 'datastore'), s3 };
  await createBenchDatastore(configDir, target.store, target.storePath, level, s3 ? await prepareBenchS3(configDir, s3) : undefined);
  return target;
}

export async function releaseTarget(configDir: string, t: Target): Promise<void> {
  await removeBenchDatastore(configDir, t.store, t.storePath);
  if (t.s3) await removeS3Store(t.s3, t.store);
}

export interface Source {
  readonly label: string;
  readonly dir: string;
  readonly bytes: number;
}

export interface StepContext {
  readonly configDir: string;
  readonly cgroup: MemoryCgroup | undefined;
  readonly dropCaches: boolean;
  /** collects each distinct note (e.g. a cache drop that is not permitted) once */
  readonly note: (text: string) => void;
}

/** Total size of the regular files under `dir`. */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await treeBytes(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}

/** Reads every file once so the source comes from the page cache: the clock measures the write side. */
export async function warmTree(dir: string): Promise<void> {
  const buf = Buffer.alloc(4 * 1024 * 1024);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await warmTree(p);
    else if (e.isFile()) {
      const h = await open(p, 'r');
      try {
        while ((await h.read(buf, 0, buf.length, null)).bytesRead > 0);
      } finally {
        await h.close();
      }
    }
  }
}

async function prepare(ctx: StepContext, source: Source): Promise<boolean> {
  const why = syncAndDropCaches(ctx.dropCaches);
  if (why) ctx.note(why);
  if (source.bytes <= totalmem() / 2) await warmTree(source.dir);
  else ctx.note(`the source (${source.label}) is larger than half the RAM: it is read from disk during the timed backup`);
  return why === undefined;
}

export async function measureHoldfast(ctx: StepContext, target: Target, source: Source, level: SyncLevel, run: number, order: number): Promise<Measurement> {
  const store = target.store;
  await setBenchSyncLevel(ctx.configDir, store, level);
  let server: Awaited<ReturnType<typeof startBenchServer>> | undefined;
  try {
    const cacheDropped = await prepare(ctx, source);
    server = await startBenchServer(ctx.configDir, { cgroupProcs: ctx.cgroup?.procsFile });
    const before = await server.syncCounts(store);
    ctx.cgroup?.resetPeak();
    const hitsBefore = ctx.cgroup?.limitHits();
    const b = await timedBackup(server, store, `data.pxar:${source.dir}`, `bench-${level}-${run}`);
    const counts = diffCounts(await server.syncCounts(store), before);
    const cgroupPath = ctx.cgroup ? memoryCgroupOf(server.pid, ctx.cgroup.version) : undefined;
    const hitsAfter = ctx.cgroup?.limitHits();
    const peak = ctx.cgroup?.peakBytes();
    const serverPeakRss = server.peakRss();
    return {
      fs: target.fs,
      sizeLabel: source.label,
      bytes: source.bytes,
      column: level,
      run,
      order,
      seconds: b.seconds,
      clientSeconds: b.clientSeconds,
      newChunks: b.newChunks,
      chunks: b.chunks,
      uploadedCompressed: b.uploadedCompressed,
      syncCounts: counts,
      // an S3 store's local syncs are its cache's: there is no per-chunk expectation to check
      ...(target.s3 ? {} : { syncCheck: checkSyncCounts(level, counts, b.newChunks) }),
      ...(serverPeakRss !== undefined ? { serverPeakRss } : {}),
      ...(b.clientPeakRss !== undefined ? { clientPeakRss: b.clientPeakRss } : {}),
      ...(cgroupPath !== undefined ? { cgroupPath } : {}),
      ...(peak !== undefined ? { cgroupPeakBytes: peak } : {}),
      ...(hitsBefore !== undefined && hitsAfter !== undefined ? { cgroupLimitHits: hitsAfter - hitsBefore } : {}),
      cacheDropped,
    };
  } finally {
    await server?.stop();
    if (target.s3) await emptyS3Store(target.s3, target.store, target.storePath);
    else await emptyDatastore(target.storePath);
  }
}

export async function measurePeer(ctx: StepContext, target: Target, source: Source, tool: PeerTool, run: number, order: number): Promise<Measurement> {
  const cacheDropped = await prepare(ctx, source);
  ctx.cgroup?.resetPeak();
  const hitsBefore = ctx.cgroup?.limitHits();
  const { seconds } = await timedPeerBackup(tool, source.dir, join(target.dir, `peer-${tool.peer}`), ctx.cgroup?.procsFile);
  const hitsAfter = ctx.cgroup?.limitHits();
  const peak = ctx.cgroup?.peakBytes();
  return {
    fs: target.fs,
    sizeLabel: source.label,
    bytes: source.bytes,
    column: tool.peer,
    run,
    order,
    seconds,
    ...(ctx.cgroup ? { cgroupPath: ctx.cgroup.path } : {}),
    ...(peak !== undefined ? { cgroupPeakBytes: peak } : {}),
    ...(hitsBefore !== undefined && hitsAfter !== undefined ? { cgroupLimitHits: hitsAfter - hitsBefore } : {}),
    cacheDropped,
  };
}
