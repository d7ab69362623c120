/**
 * `npm run bench:ingest`: end-to-end ingest speed of unique, incompressible data at sync level
 * `none`, client and server on this machine: a generated image (fixed 4 MiB chunks; or with
 * `--kind directory` a tree of files of 64 KiB..32 MiB, as a pxar archive with dynamic chunks) on
 * tmpfs is backed up by the real `holdfast backup` to the real `holdfast serve`. Prints MB/s (wall time of
 * the backup command, and the client's own session time) and the peak RSS (VmHWM) of client and
 * server. The target is 200 MB/s.
 *
 * `--profile` adds one run under `node --cpu-prof` (not counted in the MB/s) and prints where the
 * time went per process and thread group: self time per function and per source file.
 *
 * `--variant NAME:KEY=VALUE[,KEY=VALUE…]` (repeatable) compares client variants within one run:
 * the timed runs alternate between the variants (each gets `--runs` runs, interleaved, so load from
 * other processes falls on all alike), each is reported on its own, then the ratios of their MB/s
 * to the first. Example: `--variant native: --variant js:HOLDFAST_CHUNKER=js`.
 *
 * `--backend s3` measures an S3 datastore instead (the endpoint from `S3_ENDPOINT`, … as
 * `scripts/ceph-rgw-up.sh` exports them; `--bucket`, default a fresh one): the datastore's cache
 * goes where the local datastore would, and before each Holdfast run the endpoint's raw 4 MiB PUT
 * and GET throughput is probed with as many requests in flight as the datastore keeps chunk PUTs
 * pending (`put-concurrency`, DEFAULT_PUT_CONCURRENCY); ratios compare the medians (medianProbe). After each backup (of an image) the server is
 * restarted with its chunk cache emptied and the page cache dropped, and a restore of the snapshot
 * to /dev/null is timed: a cold-cache restore. The targets are ingest ≥ 0.8× the raw PUT
 * throughput and cold restore ≥ 0.8× the raw GET throughput (issue #13).
 */
import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultDataDir } from '../src/cli/commands/serve.ts';
import { processContext } from '../src/cli/context.ts';
import { countCpuList, cpuSeconds, cpusAllowed, findProcess, findProcesses, syncAndDropCaches } from '../src/cli/benchmark/environment.ts';
import { writeIncompressibleFile } from '../src/cli/benchmark/data-generator.ts';
import { createBenchDatastore, emptyDatastore, removeBenchDatastore, startBenchServer, timedBackup, timedRestore, type TimedBackup, type TimedRestore } from '../src/cli/benchmark/holdfast-runner.ts';
import { formatSize, median, parseSize } from '../src/cli/benchmark/units.ts';
import { readProfile, renderProfileSummary, summarizeProfiles, type ProfileSummary } from './cpu-profile.ts';
import { registerBackendTypes } from '../src/cli/backend-types.ts';
import { benchS3FromEnv, emptyS3Store, LOCAL_STORE_DAEMONS, medianProbe, prepareBenchS3, rawS3Throughput, removeS3Store, storeBusyShare, storeLoadText, type BenchS3, type StoreLoad } from '../src/cli/benchmark/s3-bench.ts';
import { DEFAULT_PUT_CONCURRENCY } from '../src/chunks/s3-chunk-backend.ts';
import { CHUNK_CACHE_DIR } from '../src/chunks/s3-backend-type.ts';
import type { ProbeResult } from '../src/chunks/s3-throughput-probe.ts';

registerBackendTypes();
const S3_TARGET_RATIO = 0.8;

const TARGET_MBPS = 200;
const STORE = 'ingest';

interface IngestRun extends TimedBackup {
  readonly serverPeakRss: number | undefined;
  readonly serverCpuSeconds: number | undefined;
  readonly serverMainThreadCpuSeconds: number | undefined;
  /** the cold-cache restore after the backup (S3, images only) */
  readonly restore: TimedRestore | undefined;
  /** why the page cache could not be dropped before it, if so */
  readonly restoreNote: string | undefined;
  /** what a local object store's daemons used during the backup and the restore (S3 on this machine) */
  readonly storeLoad?: StoreLoad;
  readonly restoreStoreLoad?: StoreLoad;
}

interface Workspace {
  readonly work: string;
  readonly configDir: string;
  readonly storePath: string;
  /** `NAME.img:FILE` or `NAME.pxar:DIR` */
  readonly spec: string;
  readonly kind: 'image' | 'directory';
  readonly bytes: number;
  /** set for `--backend s3` */
  readonly s3: BenchS3 | undefined;
}

/** Unique incompressible files of 64 KiB..32 MiB (sizes from a fixed sequence) under `dir`. */
async function writeIncompressibleTree(dir: string, bytes: number): Promise<void> {
  let x = 12345;
  for (let i = 0, left = bytes; left > 0; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const size = Math.min(left, 64 * 1024 + (x % (32 * 1024 * 1024)));
    const sub = join(dir, `d${String(Math.floor(i / 16)).padStart(3, '0')}`);
    await mkdir(sub, { recursive: true });
    await writeIncompressibleFile(join(sub, `f${i}.bin`), size, 1, i + 1);
    left -= size;
  }
}

interface Variant {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
}

/** `NAME:KEY=VALUE,KEY=VALUE` (the part after the colon may be empty). */
function parseVariant(text: string, all: Variant[]): Variant[] {
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  const pairs = colon < 0 ? [] : text.slice(colon + 1).split(',').filter((p) => p !== '');
  const env = Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as const));
  return [...all, { name, env }];
}

async function oneRun(ws: Workspace, run: number, nodeArgs: { server?: string[]; client?: string[] } = {}, env: Readonly<Record<string, string>> = {}, restore = true): Promise<IngestRun> {
  syncAndDropCaches(false);
  let server = await startBenchServer(ws.configDir, { nodeArgs: nodeArgs.server ?? [] });
  try {
    const before = { all: server.cpuSeconds(), main: server.cpuSeconds(true) };
    const storeWatch = ws.s3 ? watchLocalStore() : undefined;
    const b = await timedBackup(server, STORE, ws.spec, `ingest-${run}`, nodeArgs.client ?? [], env);
    const storeLoad = storeWatch?.(b.seconds);
    const delta = (a: number | undefined, z: number | undefined): number | undefined => (a === undefined || z === undefined ? undefined : z - a);
    const ingest = { ...b, serverPeakRss: server.peakRss(), serverCpuSeconds: delta(before.all, server.cpuSeconds()), serverMainThreadCpuSeconds: delta(before.main, server.cpuSeconds(true)), ...(storeLoad ? { storeLoad } : {}) };
    if (!ws.s3 || ws.kind !== 'image' || !restore) return { ...ingest, restore: undefined, restoreNote: undefined };
    await server.stop();
    await rm(join(ws.storePath, CHUNK_CACHE_DIR), { recursive: true, force: true }); // a cold chunk cache
    const restoreNote = syncAndDropCaches(true);
    server = await startBenchServer(ws.configDir);
    const [time] = await readdir(join(ws.storePath, 'host', `ingest-${run}`));
    const restoreWatch = watchLocalStore();
    const restored = await timedRestore(server, STORE, `host/ingest-${run}/${time ?? '?'}`, 'disk.img');
    const restoreStoreLoad = restoreWatch?.(restored.seconds);
    return { ...ingest, restore: restored, restoreNote, ...(restoreStoreLoad ? { restoreStoreLoad } : {}) };
  } finally {
    await server.stop();
    if (ws.s3) await emptyS3Store(ws.s3, STORE, ws.storePath);
    else await emptyDatastore(ws.storePath);
  }
}

/** Profiles of one process, grouped: its main thread and its worker threads. */
async function profileGroups(dir: string): Promise<{ main: ProfileSummary; workers: ProfileSummary | undefined }> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  // Node names them CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread.
  const thread = (f: string): number => Number(f.split('.').at(-3));
  const load = (fs: string[]): Promise<Awaited<ReturnType<typeof readProfile>>[]> => Promise.all(fs.map((f) => readProfile(join(dir, f))));
  const main = await load(files.filter((f) => thread(f) === 0));
  const workers = await load(files.filter((f) => thread(f) !== 0));
  return { main: summarizeProfiles(main), workers: workers.length > 0 ? summarizeProfiles(workers) : undefined };
}

async function profiledRun(ws: Workspace, runs: number): Promise<string> {
  const dir = join(ws.work, 'profiles');
  const args = (sub: string): string[] => ['--cpu-prof', `--cpu-prof-dir=${join(dir, sub)}`];
  await mkdir(join(dir, 'server'), { recursive: true });
  await mkdir(join(dir, 'client'), { recursive: true });
  const r = await oneRun(ws, runs + 1, { server: args('server'), client: args('client') }, {}, false);
  const out = [`profiled run (not counted): ${mbps(ws.bytes, r.seconds)} MB/s under --cpu-prof`];
  for (const who of ['client', 'server'] as const) {
    const g = await profileGroups(join(dir, who));
    out.push(renderProfileSummary(`${who} main thread`, g.main));
    if (g.workers) out.push(renderProfileSummary(`${who} worker threads`, g.workers));
  }
  return out.join('\n');
}

function mbps(bytes: number, seconds: number): string {
  return (bytes / seconds / 1e6).toFixed(1);
}

function report(ws: Workspace, runs: readonly IngestRun[], probes: { readonly median: ProbeResult; readonly all: readonly ProbeResult[] } | undefined): Record<string, unknown> {
  const raw = probes?.median;
  const wall = median(runs.map((r) => r.seconds));
  const session = median(runs.map((r) => r.clientSeconds));
  const max = (f: (r: IngestRun) => number | undefined): number | null => Math.max(...runs.map((r) => f(r) ?? 0)) || null;
  const med = (f: (r: IngestRun) => number | undefined): number | null => (runs.every((r) => f(r) !== undefined) ? median(runs.map((r) => f(r)!)) : null);
  const clientCpu = med((r) => r.clientCpuSeconds);
  const serverCpu = med((r) => r.serverCpuSeconds);
  const clientMain = med((r) => r.clientMainThreadCpuSeconds);
  const serverMain = med((r) => r.serverMainThreadCpuSeconds);
  // What the CPU work alone allows on idle cores: all threads share the cores, and no process
  // can outrun its own main thread (the JS event loop).
  const placement = cpuPlacement(ws.s3 !== undefined);
  const ceilingSeconds = clientCpu === null || serverCpu === null ? null : Math.max((clientCpu + serverCpu) / placement.holdfastCores, clientMain ?? 0, serverMain ?? 0);
  return {
    kind: ws.kind,
    bytes: ws.bytes,
    runs: runs.length,
    wallSeconds: wall,
    clientSessionSeconds: session,
    mbPerSecondWall: ws.bytes / wall / 1e6,
    mbPerSecondSession: ws.bytes / session / 1e6,
    clientPeakRss: max((r) => r.clientPeakRss),
    serverPeakRss: max((r) => r.serverPeakRss),
    clientCpuSeconds: clientCpu,
    clientMainThreadCpuSeconds: clientMain,
    serverCpuSeconds: serverCpu,
    serverMainThreadCpuSeconds: serverMain,
    cores: placement.holdfastCores,
    cpus: { holdfast: placement.holdfast ?? null, objectStore: placement.objectStore ?? null },
    cpuBoundCeilingMbPerSecond: ceilingSeconds === null ? null : ws.bytes / ceilingSeconds / 1e6,
    loadAverage: loadavg(),
    targetMbPerSecond: TARGET_MBPS,
    backend: ws.s3 ? 's3' : 'local',
    ...(raw === undefined
      ? {}
      : {
          rawPutMbPerSecond: raw.put.throughput / 1e6,
          rawGetMbPerSecond: raw.get.throughput / 1e6,
          rawConcurrency: raw.concurrency,
          rawProbes: probes!.all.map((p) => ({ putMbPerSecond: p.put.throughput / 1e6, getMbPerSecond: p.get.throughput / 1e6 })),
          ingestToRawPut: ws.bytes / wall / raw.put.throughput,
          targetRatioToRawPut: S3_TARGET_RATIO,
          ...restoreReport(ws, runs, raw),
          objectStoreLoad: medianLoad(runs.map((r) => r.storeLoad)),
          objectStoreRestoreLoad: medianLoad(runs.map((r) => r.restoreStoreLoad)),
        }),
    perRun: runs.map((r) => ({
      seconds: r.seconds,
      clientSeconds: r.clientSeconds,
      newChunks: r.newChunks,
      clientPeakRss: r.clientPeakRss ?? null,
      serverPeakRss: r.serverPeakRss ?? null,
      clientCpuSeconds: r.clientCpuSeconds ?? null,
      serverCpuSeconds: r.serverCpuSeconds ?? null,
    })),
  };
}

/**
 * Where the work ran: the CPUs this process (and so the client and server it starts) may use, and
 * those of a radosgw on this machine. Both on the same cores, the object store's CPU is taken from
 * Holdfast's and the raw yardstick's alike; `scripts/ceph-rgw-up.sh` with CEPH_CPUS and this
 * benchmark under `taskset` give each side its own (docs/benchmarks.md).
 */
function cpuPlacement(s3: boolean): { holdfast?: string; holdfastCores: number; objectStore?: string } {
  const holdfast = cpusAllowed();
  const holdfastCores = (holdfast === undefined ? undefined : countCpuList(holdfast)) ?? cpus().length;
  const rgw = s3 ? findProcess('radosgw') : undefined;
  const objectStore = rgw === undefined ? undefined : cpusAllowed(rgw);
  return { ...(holdfast === undefined ? {} : { holdfast }), holdfastCores, ...(objectStore === undefined ? {} : { objectStore }) };
}

/**
 * Starts watching the object store's daemons on this machine (undefined when none runs here): the
 * returned function gives the CPU they used since, over `wallSeconds` on the cores they may use.
 */
function watchLocalStore(): ((wallSeconds: number) => StoreLoad | undefined) | undefined {
  const pids = findProcesses(LOCAL_STORE_DAEMONS);
  if (pids.length === 0) return undefined;
  const used = (): number => pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
  const list = cpusAllowed(pids[0]);
  const cores = (list === undefined ? undefined : countCpuList(list)) ?? cpus().length;
  const start = used();
  return (wallSeconds) => ({ cpuSeconds: used() - start, wallSeconds, cores });
}

/** The run whose store was the median busy one, or null without a local store. */
function medianLoad(loads: readonly (StoreLoad | undefined)[]): StoreLoad | null {
  const known = loads.filter((l) => l !== undefined).sort((a, b) => storeBusyShare(a) - storeBusyShare(b));
  return known[Math.floor((known.length - 1) / 2)] ?? null;
}

/** The cold-cache restore figures, when the runs have them. */
function restoreReport(ws: Workspace, runs: readonly IngestRun[], raw: ProbeResult): Record<string, unknown> {
  const timed = runs.map((r) => r.restore).filter((r) => r !== undefined);
  if (timed.length === 0) return {};
  const seconds = median(timed.map((r) => r.seconds));
  return {
    coldRestoreSeconds: seconds,
    coldRestoreMbPerSecond: ws.bytes / seconds / 1e6,
    coldRestoreToRawGet: ws.bytes / seconds / raw.get.throughput,
    targetRatioToRawGet: S3_TARGET_RATIO,
    coldRestoreNote: runs.find((r) => r.restoreNote !== undefined)?.restoreNote ?? null,
  };
}

function renderReport(r: Record<string, unknown>): string {
  const n = (k: string): number => r[k] as number;
  const rss = (k: string): string => (r[k] === null ? 'unknown' : formatSize(n(k)));
  const cpu = (k: string): string => (r[k] === null ? '?' : `${n(k).toFixed(1)} s`);
  return [
    `ingest of ${formatSize(n('bytes'))} unique incompressible data (${String(r['kind'])}) at sync-level none${r['backend'] === 's3' ? ' into an S3 datastore' : ''}, median of ${n('runs')} run(s):`,
    `  end to end (holdfast backup wall time): ${n('wallSeconds').toFixed(2)} s = ${n('mbPerSecondWall').toFixed(1)} MB/s`,
    `  client session (connect to acknowledged finish): ${n('clientSessionSeconds').toFixed(2)} s = ${n('mbPerSecondSession').toFixed(1)} MB/s`,
    `  peak RSS (VmHWM): client ${rss('clientPeakRss')}, server ${rss('serverPeakRss')}`,
    `  CPU (user+sys): client ${cpu('clientCpuSeconds')} (main thread ${cpu('clientMainThreadCpuSeconds')}), server ${cpu('serverCpuSeconds')} (main thread ${cpu('serverMainThreadCpuSeconds')})`,
    `  CPU-bound ceiling on ${n('cores')} idle cores: ${r['cpuBoundCeilingMbPerSecond'] === null ? 'unknown' : `${n('cpuBoundCeilingMbPerSecond').toFixed(1)} MB/s`}; load average now ${(r['loadAverage'] as number[]).map((l) => l.toFixed(2)).join(' ')}`,
    ...(r['backend'] === 's3' ? [`  CPUs: holdfast (client, server, raw yardstick) on ${placementText(r['cpus'])}`] : []),
    r['backend'] === 's3'
      ? `  raw S3 (4 MiB objects, ${n('rawConcurrency')} in flight, same SDK, probed beside each run; median of ${rawList(r, 'putMbPerSecond')} and of ${rawList(r, 'getMbPerSecond')}): PUT ${n('rawPutMbPerSecond').toFixed(1)} MB/s, GET ${n('rawGetMbPerSecond').toFixed(1)} MB/s; ingest = ${n('ingestToRawPut').toFixed(2)}× raw PUT, target ${S3_TARGET_RATIO}×: ${n('ingestToRawPut') >= S3_TARGET_RATIO ? 'met' : 'NOT met'}`
      : `  target ${TARGET_MBPS} MB/s: ${n('mbPerSecondWall') >= TARGET_MBPS ? 'met' : 'NOT met'}`,
    ...(r['coldRestoreSeconds'] === undefined
      ? []
      : [
          `  restore from a cold cache (chunk cache emptied, page cache dropped) to /dev/null: ${n('coldRestoreSeconds').toFixed(2)} s = ${n('coldRestoreMbPerSecond').toFixed(1)} MB/s = ${n('coldRestoreToRawGet').toFixed(2)}× raw GET, target ${S3_TARGET_RATIO}×: ${n('coldRestoreToRawGet') >= S3_TARGET_RATIO ? 'met' : 'NOT met'}${r['coldRestoreNote'] === null ? '' : ` (${r['coldRestoreNote'] as string})`}`,
        ]),
    ...(r['objectStoreLoad'] ? [`  object store on this machine (${LOCAL_STORE_DAEMONS.join(', ')}), median run: ingest ${storeLoadText(r['objectStoreLoad'] as StoreLoad)}`] : []),
    ...(r['objectStoreRestoreLoad'] ? [`  object store during the cold restore: ${storeLoadText(r['objectStoreRestoreLoad'] as StoreLoad)}`] : []),
  ].join('\n');
}

/** The probes' figures of one phase, in run order: `190.2, 176.0, 181.5`. */
function rawList(r: Record<string, unknown>, key: 'putMbPerSecond' | 'getMbPerSecond'): string {
  return (r['rawProbes'] as Record<string, number>[]).map((p) => p[key]!.toFixed(1)).join(', ');
}

function placementText(cpus: unknown): string {
  const c = cpus as { holdfast: string | null; objectStore: string | null };
  const store = c.objectStore === null ? 'the object store not on this machine (or not found)' : `radosgw on ${c.objectStore}`;
  const shared = c.holdfast !== null && c.holdfast === c.objectStore ? ' (shared: each side takes CPU from the other)' : '';
  return `${c.holdfast ?? '?'}; ${store}${shared}`;
}

function renderVariants(results: readonly (Record<string, unknown> & { variant: string })[]): string {
  if (results.length === 1) return renderReport(results[0]!);
  const speed = (r: Record<string, unknown>): number => r['mbPerSecondWall'] as number;
  const ratios = results.map((r) => `${r.variant} ${(speed(r) / speed(results[0]!)).toFixed(2)}×`).join(', ');
  return [...results.map((r) => `variant ${r.variant} ${JSON.stringify(r['env'])}:\n${renderReport(r)}`), `MB/s relative to ${results[0]!.variant}: ${ratios}`].join('\n\n');
}

async function main(): Promise<void> {
  const o = new Command('bench:ingest')
    .option('--size <size>', 'data size', '2G')
    .addOption(new Option('--kind <kind>', 'an image (fixed chunks) or a directory (pxar, dynamic chunks)').choices(['image', 'directory']).default('image'))
    .option('--runs <n>', 'timed runs (median reported)', '3')
    .option('--path <dir>', 'where the datastore goes (default: beside the default data dir)')
    .option('--source-dir <dir>', 'where the generated data goes (default /dev/shm, else the temp dir)')
    .option('--profile', 'add one run under node --cpu-prof and print where the time goes')
    .option('--variant <NAME:KEY=VALUE,...>', 'a client variant to compare (repeatable; runs alternate)', parseVariant, [])
    .option('--output-format <f>', 'text or json', 'text')
    .addOption(new Option('--backend <type>', 'a local datastore, or an S3 one (endpoint from S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY)').choices(['local', 's3']).default('local'))
    .option('--bucket <name>', 'with --backend s3: the bucket (made if missing; default a fresh one)')
    .parse()
    .opts<{ size: string; kind: 'image' | 'directory'; runs: string; path?: string; sourceDir?: string; profile?: boolean; variant: Variant[]; outputFormat: string; backend: 'local' | 's3'; bucket?: string }>();
  const s3 = o.backend === 's3' ? benchS3FromEnv(process.env, o.bucket) : undefined;
  const bytes = parseSize(o.size);
  const base = o.path ?? defaultDataDir(processContext());
  await mkdir(base, { recursive: true });
  const work = await mkdtemp(join(base, 'holdfast-ingest-'));
  const source = await mkdtemp(join(o.sourceDir ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir()), 'holdfast-ingest-src-'));
  const data = join(source, o.kind === 'image' ? 'image.bin' : 'tree');
  const spec = o.kind === 'image' ? `disk.img:${data}` : `data.pxar:${data}`;
  const ws: Workspace = { work, configDir: join(work, 'config'), storePath: join(work, 'datastore'), spec, kind: o.kind, bytes, s3 };
  try {
    await mkdir(ws.configDir);
    process.stderr.write(`generating ${formatSize(bytes)} of incompressible data (${o.kind}) in ${source}\n`);
    if (o.kind === 'image') await writeIncompressibleFile(data, bytes, 1);
    else await writeIncompressibleTree(data, bytes);
    process.stderr.write(`creating the datastore at ${ws.storePath} (sync-level none${s3 ? `, S3 bucket ${s3.bucket}` : ''})\n`);
    await createBenchDatastore(ws.configDir, STORE, ws.storePath, 'none', s3 ? await prepareBenchS3(ws.configDir, s3) : undefined);
    const variants = o.variant.length > 0 ? o.variant : [{ name: '', env: {} }];
    const runs = variants.map((): IngestRun[] => []);
    const probes: ProbeResult[] = [];
    for (let i = 1, n = 1; i <= Number(o.runs); i++) {
      if (s3) {
        // the yardstick beside each run, not once after them all: the store's speed drifts
        const p = await rawS3Throughput(s3, bytes, DEFAULT_PUT_CONCURRENCY);
        process.stderr.write(`raw S3 ${i}: PUT ${mbps(p.put.bytes, p.put.seconds)} MB/s, GET ${mbps(p.get.bytes, p.get.seconds)} MB/s\n`);
        probes.push(p);
      }
      for (const [k, v] of variants.entries()) {
        const r = await oneRun(ws, n++, {}, v.env);
        process.stderr.write(`run ${i}${v.name ? ` (${v.name})` : ''}: ${r.seconds.toFixed(2)} s, ${mbps(bytes, r.seconds)} MB/s\n`);
        runs[k]!.push(r);
      }
    }
    const raw = probes.length > 0 ? { median: medianProbe(probes), all: probes } : undefined;
    const results = variants.map((v, k) => ({ variant: v.name, env: v.env, ...report(ws, runs[k]!, raw) }));
    if (o.outputFormat === 'json') process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`);
    else process.stdout.write(`${renderVariants(results)}\n`);
    if (o.profile) process.stdout.write(`\n${await profiledRun(ws, runs.length)}\n`);
    await removeBenchDatastore(ws.configDir, STORE, ws.storePath);
    if (s3) await removeS3Store(s3, STORE);
  } finally {
    await rm(work, { recursive: true, force: true });
    await rm(source, { recursive: true, force: true });
  }
}

await main();
