/**
 * `holdfast benchmark sync-level`: the same data backed up at every sync level (and by peer tools)
 * on the same filesystem, into an empty datastore with a fresh server each time, runs repeated with the
 * levels interleaved and their order rotated, so slow drift of a shared machine spreads over all
 * levels instead of landing on one. The result is a `BenchReport`; rendering and files are the
 * caller's.
 *
 * Everything made here lives in one work directory (`holdfast-bench-*` under --path, or beside the
 * default data dir) and is removed at the end, also on failure or Ctrl-C; loop mounts and the
 * cgroup too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmdirSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fail } from '../../core/errors.ts';
import type { SyncLevel } from '../../core/sync-level.ts';
import type { SyncLevelBenchOptions } from './bench-options.ts';
import { measureHoldfast, measurePeer, prepareTarget, releaseTarget, treeBytes, type Source, type StepContext, type Target } from './bench-steps.ts';
import { createMemoryCgroup, type MemoryCgroup } from './cgroup.ts';
import { generateDataset } from './data-generator.ts';
import { probeEnvironment, probeFsync, type Environment } from './environment.ts';
import { HOLDFAST_BIN, childEnv } from './holdfast-runner.ts';
import { mountLoopFs } from './loop-fs.ts';
import { findPeer, type PeerTool } from './peers.ts';
import { REPORT_SCHEMA, runOrder, summarize, type BenchReport, type Column, type Measurement, type ObjectStoreFigures } from './report.ts';
import { benchS3FromEnv, rawS3Throughput, type BenchS3 } from './s3-bench.ts';
import { DEFAULT_PUT_CONCURRENCY } from '../../chunks/s3-chunk-backend.ts';
import { formatMmss, formatSize, median } from './units.ts';

export interface BenchRunContext {
  /** `holdfast serve`'s default data dir: the default --path is beside it, on its filesystem */
  readonly defaultDataDir: string;
  readonly argv: readonly string[];
  /** progress lines (stderr) */
  readonly log: (line: string) => void;
}

type Contestant = { readonly kind: 'level'; readonly level: SyncLevel } | { readonly kind: 'peer'; readonly tool: PeerTool };

const columnOf = (c: Contestant): Column => (c.kind === 'level' ? c.level : c.tool.peer);

/** Undo steps, run newest first; each is synchronous so a Ctrl-C handler can run them too. */
class Cleanups {
  readonly #steps: (() => void)[] = [];
  push(step: () => void): void {
    this.#steps.push(step);
  }
  runAll(log: (line: string) => void): void {
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        step();
      } catch (e) {
        log(`cleanup: ${e instanceof Error ? e.message : 'failed'}`);
      }
    }
  }
}

async function makeWorkDir(path: string | undefined, defaultDataDir: string, cleanups: Cleanups): Promise<string> {
  const base = path ?? defaultDataDir;
  const created = !existsSync(base);
  await mkdir(base, { recursive: true });
  if (created && path === undefined) cleanups.push(() => rmdirSync(base));
  const work = await mkdtemp(join(base, 'holdfast-bench-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  return work;
}

function setupCgroup(limit: number | undefined, cleanups: Cleanups): MemoryCgroup | undefined {
  if (limit === undefined) return undefined;
  const cg = createMemoryCgroup(limit);
  if (typeof cg === 'string') throw fail('INVALID_ARGUMENT', `cannot apply --memory-limit: ${cg}`, { limit });
  cleanups.push(() => cg.remove());
  return cg;
}

async function prepareSources(o: SyncLevelBenchOptions, work: string, log: (l: string) => void): Promise<Source[]> {
  if (o.data !== undefined) {
    const bytes = await treeBytes(o.data).catch((e: unknown) => {
      throw fail('NOT_FOUND', `--data ${o.data ?? ''} cannot be read: ${e instanceof Error ? e.message : 'error'}`, { path: o.data }, e);
    });
    return [{ label: `${basename(o.data)} (${formatSize(bytes)})`, dir: o.data, bytes }];
  }
  const sources: Source[] = [];
  for (const bytes of o.sizes) {
    const dir = join(work, 'data', String(bytes));
    log(`generating ${formatSize(bytes)} of data (seed ${o.seed}) in ${dir}`);
    await generateDataset(dir, bytes, o.seed);
    sources.push({ label: formatSize(bytes), dir, bytes });
  }
  return sources;
}

/** Median wall time of `holdfast --version`: the start-up cost inside every timed backup. */
function clientStartupSeconds(): number {
  const times = [0, 1, 2].map(() => {
    const t = performance.now();
    spawnSync(process.execPath, [HOLDFAST_BIN, '--version'], { env: childEnv(), stdio: 'ignore' });
    return (performance.now() - t) / 1000;
  });
  return median(times);
}

async function measureTarget(o: SyncLevelBenchOptions, target: Target, sources: readonly Source[], contestants: readonly Contestant[], ctx: StepContext, rc: BenchRunContext): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (let run = 1; run <= o.runs; run++) {
    for (const source of sources) {
      for (const [i, c] of runOrder(contestants, run - 1).entries()) {
        const m = c.kind === 'level' ? await measureHoldfast(ctx, target, source, c.level, run, i + 1) : await measurePeer(ctx, target, source, c.tool, run, i + 1);
        out.push(m);
        const counts = m.syncCounts ? `  fsync file/dir ${m.syncCounts.fsyncFile}/${m.syncCounts.fsyncDir}, syncfs ${m.syncCounts.syncfs}${m.syncCheck?.ok === false ? ' UNEXPECTED' : ''}` : '';
        rc.log(`[${target.fs} run ${run}/${o.runs}] ${source.label} ${columnOf(c)}: ${formatMmss(m.seconds)}${counts}`);
      }
    }
  }
  return out;
}

/** The loop filesystems asked for, each mounted only while its table runs. */
async function measureLoopFilesystems(o: SyncLevelBenchOptions, work: string, sources: readonly Source[], run: (fs: Target['fs'], dir: string) => Promise<void>, note: (t: string) => void): Promise<void> {
  const largest = Math.max(...sources.map((s) => s.bytes));
  const imageBytes = Math.ceil((largest * 1.6 + 1024 ** 3) / 1048576) * 1048576;
  for (const type of o.fs) {
    const mount = mountLoopFs(type, work, imageBytes);
    if (typeof mount === 'string') {
      note(`--fs ${type} skipped: ${mount}`);
      continue;
    }
    try {
      if (!mount.directIo) note(`loop ${type}: direct I/O not available, the loop device caches over the backing file`);
      await run(type, mount.mountPoint);
    } finally {
      for (const p of mount.cleanup()) note(`loop ${type} cleanup: ${p}`);
    }
  }
}

/**
 * The endpoint's raw 4 MiB PUT/GET throughput with as many requests in flight as the datastore keeps
 * chunk PUTs pending (put-concurrency), measured after the backups in the same run, and each level's ingest against it.
 */
async function measureRawS3(s3: BenchS3, sources: readonly Source[], ms: readonly Measurement[], note: (t: string) => void): Promise<ObjectStoreFigures> {
  const raw = await rawS3Throughput(s3, Math.max(...sources.map((s) => s.bytes)), DEFAULT_PUT_CONCURRENCY);
  const ratios: Record<string, number> = {};
  for (const level of new Set(ms.map((m) => m.column))) {
    const mine = ms.filter((m) => m.column === level);
    ratios[level] = median(mine.map((m) => m.bytes / m.seconds)) / raw.put.throughput;
  }
  const mbps = (b: number): string => (b / 1e6).toFixed(1);
  note(
    `raw S3 (4 MiB objects, ${raw.concurrency} in flight, same SDK): PUT ${mbps(raw.put.throughput)} MB/s, GET ${mbps(raw.get.throughput)} MB/s; ingest/raw PUT: ${Object.entries(ratios)
      .map(([k, v]) => `${k} ${v.toFixed(2)}×`)
      .join(', ')} (target 0.8×)`,
  );
  return { bucket: s3.bucket, endpoint: s3.endpoint, concurrency: raw.concurrency, rawPutBytesPerSecond: raw.put.throughput, rawGetBytesPerSecond: raw.get.throughput, ingestToRawPut: ratios };
}

export async function runSyncLevelBenchmark(o: SyncLevelBenchOptions, rc: BenchRunContext): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const notes = new Set<string>();
  const note = (t: string): void => {
    if (!notes.has(t)) rc.log(`note: ${t}`);
    notes.add(t);
  };
  const cleanups = new Cleanups();
  const onInterrupt = (): void => {
    rc.log('interrupted: cleaning up');
    cleanups.runAll(rc.log);
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  try {
    const work = await makeWorkDir(o.path, rc.defaultDataDir, cleanups);
    const configDir = join(work, 'config');
    await mkdir(configDir);
    const cgroup = setupCgroup(o.memoryLimit, cleanups);
    const peers: PeerTool[] = [];
    for (const p of o.peers) {
      const found = findPeer(p);
      if (typeof found === 'string') note(found);
      else peers.push(found);
    }
    const sources = await prepareSources(o, work, rc.log);
    const s3 = o.backend === 's3' ? benchS3FromEnv(process.env) : undefined;
    if (s3) rc.log(`S3 datastore in bucket ${s3.bucket} on ${s3.endpoint}; the directory is its cache`);
    const startup = clientStartupSeconds();
    const contestants: Contestant[] = [...o.levels.map((level) => ({ kind: 'level', level }) as const), ...peers.map((tool) => ({ kind: 'peer', tool }) as const)];
    const ctx: StepContext = { configDir, cgroup, dropCaches: o.dropCaches, note };
    const environments: Record<string, Environment> = {};
    const measurements: Measurement[] = [];
    const runTable = async (fs: Target['fs'], dir: string): Promise<void> => {
      const probed = probeEnvironment(dir);
      const fsync = probeFsync(dir);
      const env = fsync ? { ...probed, fsync } : probed;
      environments[fs] = env;
      rc.log(`creating the benchmark datastore on ${dir} (${env.mount?.fsType ?? 'unknown fs'})`);
      const target = await prepareTarget(configDir, fs, dir, o.levels[0] ?? 'none', s3);
      try {
        measurements.push(...(await measureTarget(o, target, sources, contestants, ctx, rc)));
      } finally {
        await releaseTarget(configDir, target);
      }
    };
    await runTable('default', work);
    await measureLoopFilesystems(o, work, sources, runTable, note);
    const objectStore = s3 ? await measureRawS3(s3, sources, measurements, note) : null;
    return {
      schema: REPORT_SCHEMA,
      startedAt,
      finishedAt: new Date().toISOString(),
      argv: rc.argv,
      settings: { sizes: sources.map((s) => s.label), levels: o.levels, runs: o.runs, data: o.data ?? null, memoryLimit: o.memoryLimit ?? null, seed: o.seed, dropCaches: o.dropCaches },
      environments,
      clientStartupSeconds: startup,
      cgroup: cgroup ? { version: cgroup.version, path: cgroup.path, limitBytes: cgroup.limitBytes } : null,
      peers,
      notes: [...notes],
      objectStore,
      measurements,
      summary: summarize(measurements, contestants.map(columnOf)),
    };
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    cleanups.runAll(rc.log);
  }
}
