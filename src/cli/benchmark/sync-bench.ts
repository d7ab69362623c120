/**
 * `holdfast benchmark sync`: how much of a long link a pull sync uses. Two servers, each in its
 * own network namespace when root (a veth pair shaped by tbf to `--rate`), else both on loopback
 * (the link proxy then shapes the rate too); the link proxy on the target's side adds `--rtt`.
 * `--size` of unique data is backed up to the source in `--groups` groups, then, timed, on the
 * target's side of the link:
 * - raw: one TCP stream of `--size` bytes through the same link (what the link gives one flow);
 * - sync job, pull, with `--worker-threads N` and with 1: the real `holdfast sync-job run` on the
 *   target server (its own namespace), into an emptied datastore at the default sync level,
 *   timed by the job itself (its report's `seconds`: login to the last snapshot committed; the
 *   command's own wall time, with its start-up and task polling, is logged beside it);
 * - the pull probe with the same worker threads: the same chunk downloads through the reader
 *   protocol with nothing stored (pull-probe.ts), the network half of a pull alone.
 * Each row reports MB/s and the fraction of the link rate it used.
 *
 * Everything lives under the work directory and in the two namespaces, and is removed at the end,
 * also on failure: processes first, then the namespaces, then the directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fail } from '../../core/errors.ts';
import { writeIncompressibleFile } from './data-generator.ts';
import { DEFAULT_SYNC_LEVEL } from '../../core/sync-level.ts';
import { childEnv, createBenchDatastore, emptyDatastore, HOLDFAST_BIN, startBenchServer, type BenchServer } from './holdfast-runner.ts';
import { performance } from 'node:perf_hooks';
import { createNetnsPair, netnsUnavailable, type NetnsPair } from './netns.ts';
import { formatRate, formatSize, parseMillis, parseRate, parseSize } from './units.ts';
import type { PullProbeResult } from './pull-probe.ts';

export const SYNC_BENCH_SCHEMA = 'holdfast-benchmark-sync/1';
const STORE = 'bench';
const TARGET_STORE = 'target';
const REMOTE = 'source';

export interface SyncBenchOptions {
  readonly rateBitsPerSec: number;
  readonly rttMs: number;
  readonly bytes: number;
  readonly groups: number;
  readonly workers: number;
  readonly path: string;
  readonly netns: boolean;
  readonly seed: number;
}

export interface RawSyncBenchFlags {
  readonly rate?: string;
  readonly rtt?: string;
  readonly size?: string;
  readonly groups?: string;
  readonly workerThreads?: string;
  readonly path?: string;
  readonly netns?: boolean;
  readonly seed?: string;
}

function positiveInt(text: string | undefined, fallback: number, flag: string, max: number): number {
  const n = Number(text ?? fallback);
  if (!Number.isInteger(n) || n < 1 || n > max) throw fail('INVALID_ARGUMENT', `${flag} must be an integer in 1..${max}`, { value: text });
  return n;
}

export function parseSyncBenchOptions(raw: RawSyncBenchFlags): SyncBenchOptions {
  return {
    rateBitsPerSec: parseRate(raw.rate ?? '1G'),
    rttMs: parseMillis(raw.rtt ?? '100ms'),
    bytes: parseSize(raw.size ?? '1G'),
    groups: positiveInt(raw.groups, 4, '--groups', 64),
    workers: positiveInt(raw.workerThreads, 4, '--worker-threads', 32),
    path: raw.path ?? join(tmpdir(), 'holdfast-bench-sync'),
    netns: raw.netns !== false,
    seed: positiveInt(raw.seed, 1, '--seed', 2 ** 31),
  };
}

export interface SyncBenchRow {
  readonly name: string;
  readonly bytes: number;
  readonly seconds: number;
  /** 10^6 bytes per second */
  readonly mbps: number;
  /** of the link rate */
  readonly linkFraction: number;
  readonly chunks?: number;
  /** CPU seconds of the downloading process (the probe, or the target server) and of the source server during the row */
  readonly cpu?: { readonly client: number; readonly source: number | undefined };
}

export interface SyncBenchReport {
  readonly schema: typeof SYNC_BENCH_SCHEMA;
  readonly startedAt: string;
  readonly mode: 'netns' | 'loopback';
  readonly rateBitsPerSec: number;
  readonly rttMs: number;
  readonly bytes: number;
  readonly groups: number;
  readonly rows: SyncBenchRow[];
  readonly notes: string[];
}

/** A process started for the run; `stop` ends it (SIGTERM) and waits. */
interface Started {
  readonly match: RegExpExecArray;
  stop(): Promise<void>;
}

/** Spawns `argv` and resolves once a stdout line matches `ready`. */
function startUntil(argv: readonly string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<Started> {
  const proc = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const closed = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await closed;
  };
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).on('line', (l) => {
      const m = ready.exec(l);
      if (m) resolve({ match: m, stop });
    });
    proc.once('error', reject);
    proc.once('exit', (code) => reject(fail('ABORTED', `${argv.slice(0, 6).join(' ')}… exited (${code ?? 'signal'}) before it was ready: ${stderr}`, { code })));
  });
}

/** Runs `argv` to its exit; resolves with its stdout, rejects (ABORTED) on a non-zero exit. */
function runToEnd(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  const proc: ChildProcess = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', (code) => (code === 0 ? resolve(stdout) : reject(fail('ABORTED', `${argv.slice(0, 6).join(' ')}… exited (${code ?? 'signal'}): ${stderr}`, { code }))));
  });
}

/** A TCP source in the source namespace: sends N bytes to each connection, then ends it. */
const RAW_SOURCE = `
const net = require('node:net');
const total = Number(process.argv[1]);
const block = Buffer.alloc(4 << 20, 0x5a);
const server = net.createServer((c) => {
  c.on('error', () => undefined);
  let left = total;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, block.length);
      left -= n;
      if (!c.write(n === block.length ? block : block.subarray(0, n))) return void c.once('drain', pump);
    }
    c.end();
  };
  pump();
});
server.listen(0, '0.0.0.0', () => console.log('raw source on port ' + server.address().port));
process.on('SIGTERM', () => process.exit(0));
`;

/** A TCP sink: reads a connection to its end; prints bytes and seconds as JSON. */
const RAW_SINK = `
const net = require('node:net');
const started = performance.now();
let bytes = 0;
const c = net.connect(Number(process.argv[2]), process.argv[1]);
c.on('data', (d) => (bytes += d.length));
c.on('end', () => console.log(JSON.stringify({ bytes, seconds: (performance.now() - started) / 1000 })));
c.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

interface Sides {
  /** argv prefixes that run a command on the source's and on the target's side */
  readonly source: readonly string[];
  readonly target: readonly string[];
  /** the source's address as the target's side reaches it */
  readonly sourceHost: string;
  readonly pair: NetnsPair | undefined;
}

function row(name: string, bytes: number, seconds: number, rate: number, chunks?: number): SyncBenchRow {
  const r = { name, bytes, seconds, mbps: bytes / seconds / 1e6, linkFraction: (bytes * 8) / seconds / rate };
  return chunks === undefined ? r : { ...r, chunks };
}

export async function runSyncBenchmark(o: SyncBenchOptions, log: (line: string) => void): Promise<SyncBenchReport> {
  const startedAt = new Date().toISOString();
  const notes: string[] = [];
  const why = o.netns ? netnsUnavailable() : 'not asked for (--no-netns)';
  if (why !== undefined) notes.push(`both servers on loopback, the proxy shaping the rate: no network namespaces (${why})`);
  const pair = why === undefined ? createNetnsPair({ rateBitsPerSec: o.rateBitsPerSec }) : undefined;
  const sides: Sides = pair
    ? { source: pair.a.exec, target: pair.b.exec, sourceHost: pair.a.address, pair }
    : { source: [], target: [], sourceHost: '127.0.0.1', pair };
  const cleanup: (() => Promise<void>)[] = [];
  try {
    await rm(o.path, { recursive: true, force: true });
    await mkdir(join(o.path, 'data'), { recursive: true });
    const source = await startSource(o, sides, cleanup, log);
    await backUpData(o, sides, source, log);
    const proxyArgs = (port: number): string[] => [
      process.execPath, HOLDFAST_BIN, 'benchmark', 'link-proxy', '--listen', '127.0.0.1:0', '--target', `${sides.sourceHost}:${port}`, '--rtt', `${o.rttMs}ms`,
      ...(pair ? ['--sizing-rate', String(o.rateBitsPerSec)] : ['--rate', String(o.rateBitsPerSec)]),
    ];
    const ready = /^link proxy listening on \S+:(\d+)/;
    const proxy = await startUntil([...sides.target, ...proxyArgs(source.port)], childEnv(), ready);
    cleanup.push(() => proxy.stop());
    const rows = [await rawBaseline(o, sides, proxyArgs, ready, cleanup, log)];
    const target = await startTarget(o, sides, cleanup, source, Number(proxy.match[1]));
    for (const workers of [...new Set([o.workers, 1])]) rows.push(await withCpu(source, target.server, () => timedSyncJob(o, sides, target, workers, log)));
    for (const workers of [...new Set([o.workers, 1])]) {
      const cpuBefore = source.cpuSeconds();
      const r = await pullProbe(o, sides, source, Number(proxy.match[1]), workers);
      const cpuAfter = source.cpuSeconds();
      const sourceCpu = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
      log(`pull, worker-threads ${workers}: ${formatSize(r.bytes)} in ${r.seconds.toFixed(2)} s (CPU: client ${r.cpuSeconds.toFixed(1)} s, source ${sourceCpu?.toFixed(1) ?? '?'} s)`);
      rows.push({ ...row(`pull probe (worker-threads ${workers})`, r.bytes, r.seconds, o.rateBitsPerSec, r.chunks), cpu: { client: r.cpuSeconds, source: sourceCpu } });
    }
    notes.push('sync job rows: the job\'s own run time (login to the last snapshot committed, from its report); pull probe rows: the same downloads with nothing stored');
    return { schema: SYNC_BENCH_SCHEMA, startedAt, mode: pair ? 'netns' : 'loopback', rateBitsPerSec: o.rateBitsPerSec, rttMs: o.rttMs, bytes: o.bytes, groups: o.groups, rows, notes };
  } finally {
    for (const stop of cleanup.reverse()) await stop().catch(() => undefined);
    pair?.close();
    await rm(o.path, { recursive: true, force: true });
  }
}

/** The row `measure` makes, with the CPU seconds the target server and the source used meanwhile. */
async function withCpu(source: BenchServer, target: BenchServer, measure: () => Promise<SyncBenchRow>): Promise<SyncBenchRow> {
  const before = [target.cpuSeconds(), source.cpuSeconds()];
  const r = await measure();
  const after = [target.cpuSeconds(), source.cpuSeconds()];
  const used = (i: number): number | undefined => (before[i] === undefined || after[i] === undefined ? undefined : after[i] - before[i]);
  const client = used(0);
  return client === undefined ? r : { ...r, cpu: { client, source: used(1) } };
}

interface TargetSide {
  readonly server: BenchServer;
  readonly configDir: string;
  readonly storePath: string;
}

/** The target server (on the target's side) with an empty datastore and the source as a remote, reached through the proxy. */
async function startTarget(o: SyncBenchOptions, sides: Sides, cleanup: (() => Promise<void>)[], source: BenchServer, proxyPort: number): Promise<TargetSide> {
  const configDir = join(o.path, 'target', 'config');
  const storePath = join(o.path, 'target', TARGET_STORE);
  await mkdir(configDir, { recursive: true });
  await createBenchDatastore(configDir, TARGET_STORE, storePath, DEFAULT_SYNC_LEVEL);
  const server = await startBenchServer(configDir, sides.pair ? { wrapper: sides.target } : {});
  cleanup.push(() => server.stop());
  const env = childEnv({ HOLDFAST_CONFIG_DIR: configDir, HOLDFAST_REMOTE_PASSWORD: source.password });
  await runToEnd([process.execPath, HOLDFAST_BIN, 'remote', 'create', REMOTE, '--host', '127.0.0.1', '--port', String(proxyPort), '--auth-id', 'admin@pbs', '--fingerprint', source.fingerprint], env);
  return { server, configDir, storePath };
}

/** One run of a pull sync job with `workers` worker threads into the emptied target datastore. */
async function timedSyncJob(o: SyncBenchOptions, sides: Sides, target: TargetSide, workers: number, log: (line: string) => void): Promise<SyncBenchRow> {
  const id = `bench-${workers}`;
  await emptyDatastore(target.storePath);
  const config = childEnv({ HOLDFAST_CONFIG_DIR: target.configDir });
  await runToEnd([process.execPath, HOLDFAST_BIN, 'sync-job', 'create', id, '--store', TARGET_STORE, '--remote', REMOTE, '--remote-store', STORE, '--worker-threads', String(workers), '--owner', 'admin@pbs'], config);
  const env = childEnv({ HOLDFAST_REPOSITORY: `127.0.0.1:${target.server.port}:${TARGET_STORE}`, HOLDFAST_PASSWORD: target.server.password, HOLDFAST_FINGERPRINT: target.server.fingerprint });
  const started = performance.now();
  const out = JSON.parse(await runToEnd([...sides.target, process.execPath, HOLDFAST_BIN, 'sync-job', 'run', id, '--output-format', 'json'], env)) as { log?: string[]; result?: { seconds?: unknown } | null };
  const wall = (performance.now() - started) / 1000;
  const seconds = out.result?.seconds;
  if (typeof seconds !== 'number' || !(seconds > 0)) throw fail('ABORTED', `sync job ${id} reported no run time`, { result: out.result });
  const summary = (out.log ?? []).map((l) => /(\d+) chunk\(s\) downloaded \((\d+) bytes\)/.exec(l)).find((m) => m !== null);
  if (!summary) throw fail('ABORTED', `sync job ${id} printed no transfer summary`, { log: out.log });
  const [chunks, bytes] = [Number(summary[1]), Number(summary[2])];
  if (bytes < o.bytes) throw fail('ABORTED', `sync job ${id} moved ${bytes} bytes, fewer than the ${o.bytes} backed up`, { bytes });
  log(`sync job, worker-threads ${workers}: ${formatSize(bytes)} in ${seconds.toFixed(2)} s (the command: ${wall.toFixed(2)} s)`);
  return row(`sync job, pull (worker-threads ${workers})`, bytes, seconds, o.rateBitsPerSec, chunks);
}

async function startSource(o: SyncBenchOptions, sides: Sides, cleanup: (() => Promise<void>)[], log: (line: string) => void): Promise<BenchServer> {
  const configDir = join(o.path, 'source', 'config');
  await mkdir(configDir, { recursive: true });
  await createBenchDatastore(configDir, STORE, join(o.path, 'source', STORE), 'none');
  const server = await startBenchServer(configDir, sides.pair ? { wrapper: sides.source, listen: '0.0.0.0:0' } : {});
  cleanup.push(() => server.stop());
  log(`source server on port ${server.port}${sides.pair ? ` in namespace ${sides.pair.a.name}` : ''}`);
  return server;
}

/** `--size` bytes of unique data in `--groups` image backups, on the source's side (not timed). */
async function backUpData(o: SyncBenchOptions, sides: Sides, source: BenchServer, log: (line: string) => void): Promise<void> {
  const env = childEnv({ HOLDFAST_REPOSITORY: `127.0.0.1:${source.port}:${STORE}`, HOLDFAST_PASSWORD: source.password, HOLDFAST_FINGERPRINT: source.fingerprint });
  const per = Math.ceil(o.bytes / o.groups);
  for (let g = 0; g < o.groups; g++) {
    const file = join(o.path, 'data', `g${g}.img`);
    await writeIncompressibleFile(file, Math.min(per, o.bytes - g * per), o.seed, g);
    await runToEnd([...sides.source, process.execPath, HOLDFAST_BIN, 'backup', `disk.img:${file}`, '--backup-id', `g${g}`], env);
    await rm(file);
  }
  log(`backed up ${formatSize(o.bytes)} of unique data in ${o.groups} group(s)`);
}

async function rawBaseline(o: SyncBenchOptions, sides: Sides, proxyArgs: (port: number) => string[], ready: RegExp, cleanup: (() => Promise<void>)[], log: (line: string) => void): Promise<SyncBenchRow> {
  const src = await startUntil([...sides.source, process.execPath, '-e', RAW_SOURCE, String(o.bytes)], childEnv(), /^raw source on port (\d+)/);
  cleanup.push(() => src.stop());
  const proxy = await startUntil([...sides.target, ...proxyArgs(Number(src.match[1]))], childEnv(), ready);
  cleanup.push(() => proxy.stop());
  const out = JSON.parse(await runToEnd([...sides.target, process.execPath, '-e', RAW_SINK, '127.0.0.1', proxy.match[1]!], childEnv())) as { bytes: number; seconds: number };
  if (out.bytes !== o.bytes) throw fail('ABORTED', `the raw download got ${out.bytes} of ${o.bytes} bytes`, { bytes: out.bytes });
  log(`raw TCP: ${formatSize(out.bytes)} in ${out.seconds.toFixed(2)} s (${formatRate((out.bytes * 8) / out.seconds)})`);
  return row('raw TCP, one stream', out.bytes, out.seconds, o.rateBitsPerSec);
}

async function pullProbe(o: SyncBenchOptions, sides: Sides, source: BenchServer, proxyPort: number, workers: number): Promise<PullProbeResult> {
  const env = childEnv({ HOLDFAST_PASSWORD: source.password });
  const argv = [
    ...sides.target, process.execPath, HOLDFAST_BIN, 'benchmark', 'pull-probe', '--repository', `127.0.0.1:${proxyPort}:${STORE}`, '--fingerprint', source.fingerprint,
    '--worker-threads', String(workers), '--rate', String(o.rateBitsPerSec), '--rtt', `${o.rttMs}ms`, '--output-format', 'json',
  ];
  return JSON.parse(await runToEnd(argv, env)) as PullProbeResult;
}

export function renderSyncBench(r: SyncBenchReport): string {
  const how = r.mode === 'netns' ? 'two network namespaces, tbf + link proxy' : 'loopback, link proxy';
  const lines = [`sync over a ${formatRate(r.rateBitsPerSec)} link with ${r.rttMs} ms RTT (${how}), ${formatSize(r.bytes)} of unique data in ${r.groups} group(s)`, ''];
  const cpu = (x: SyncBenchRow): string => (x.cpu === undefined ? '' : `${x.cpu.client.toFixed(1)} / ${x.cpu.source?.toFixed(1) ?? '?'} s`);
  const table = [
    ['what', 'MB/s', 'of link', 'time', 'CPU puller / source'],
    ...r.rows.map((x) => [x.name, x.mbps.toFixed(1), `${(x.linkFraction * 100).toFixed(1)}%`, `${x.seconds.toFixed(2)} s`, cpu(x)]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((t) => t[i]!.length)));
  for (const t of table) lines.push(t.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
