/**
 * The real thing, driven from outside: `holdfast serve` as a child process (optionally born inside
 * a memory cgroup), datastores made and re-tuned with the same admin code as `holdfast datastore
 * create|update`, emptied between runs, the sync counters read over the status API, and `holdfast backup` as a child process timed from its
 * spawn to its exit, the moment the server's acknowledgement reached the user.
 *
 * Invariants: children get this process's environment minus every HOLDFAST_* / PBS_* variable plus
 * exactly what the run needs; readiness is read from the server's output, never waited for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BACKUP_TYPES } from '../../core/backup-ref.ts';
import { fail } from '../../core/errors.ts';
import { LocalChunkBackend } from '../../chunks/local-chunk-backend.ts';
import type { SyncLevel } from '../../core/sync-level.ts';
import { HttpClient } from '../../remote/http-client.ts';
import { DatastoreAdmin } from '../../datastore/datastore-admin.ts';
import { parseDynamicIndex } from '../../format/dynamic-index.ts';
import { parseFixedIndex } from '../../format/fixed-index.ts';
import type { SyncCounts } from '../../storage/fs-port.ts';
import { NodeFs } from '../../storage/node-fs.ts';
import { INITIAL_PASSWORD_FILE } from '../../server/holdfast-server.ts';
import { cpuSeconds, peakRss } from './environment.ts';

export const HOLDFAST_BIN = fileURLToPath(new URL('../../../bin/holdfast.js', import.meta.url));
const ADMIN = 'admin@pbs';
const STOP_GRACE_MS = 60_000;

export function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(HOLDFAST|PBS)_/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export interface BenchServer {
  readonly pid: number;
  readonly port: number;
  readonly fingerprint: string;
  readonly password: string;
  syncCounts(store: string): Promise<SyncCounts>;
  peakRss(): number | undefined;
  /** CPU seconds the server process (or its main thread) has used so far */
  cpuSeconds(mainThreadOnly?: boolean): number | undefined;
  stop(): Promise<void>;
}

function collect(proc: ChildProcess): { text(): string } {
  let text = '';
  proc.stderr?.on('data', (d: Buffer) => (text = (text + d.toString()).slice(-4000)));
  return { text: () => text };
}

function waitReady(proc: ChildProcess, stderr: { text(): string }): Promise<{ port: number; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    let port = 0;
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      const m = /listening on https:\/\/[^\s]*:(\d+)/.exec(l);
      if (m) port = Number(m[1]);
      const f = /^fingerprint: (\S+)/.exec(l);
      if (f) resolve({ port, fingerprint: f[1]! });
    });
    proc.once('exit', (code) => reject(fail('ABORTED', `holdfast serve exited (${code ?? 'signal'}) before it was ready: ${stderr.text()}`, { code })));
  });
}

export interface ServerStartOptions {
  /** `cgroup.procs` of the cgroup the server must run in */
  readonly cgroupProcs?: string | undefined;
  readonly env?: Readonly<Record<string, string>>;
  /** node flags before the script, e.g. `--cpu-prof` (not allowed in NODE_OPTIONS) */
  readonly nodeArgs?: readonly string[];
  /** a command that execs node, e.g. `ip netns exec NAME` (not with `cgroupProcs`) */
  readonly wrapper?: readonly string[];
  /** `--listen` (default 127.0.0.1:0); the status API is still asked on 127.0.0.1 */
  readonly listen?: string;
}

/**
 * Starts `holdfast serve` on a random local port. With `cgroupProcs`, a shell writes its own pid
 * there and then execs node, so the server is in the cgroup from its first instruction.
 */
export async function startBenchServer(configDir: string, o: ServerStartOptions = {}): Promise<BenchServer> {
  const { cgroupProcs } = o;
  const serve = [...(o.nodeArgs ?? []), HOLDFAST_BIN, 'serve', '--listen', o.listen ?? '127.0.0.1:0', '--no-default-datastore'];
  const argv = [...(o.wrapper ?? []), process.execPath, ...serve];
  const env = childEnv({ ...o.env, HOLDFAST_CONFIG_DIR: configDir, ...(cgroupProcs ? { HOLDFAST_BENCH_CGROUP_PROCS: cgroupProcs } : {}) });
  const proc = cgroupProcs
    ? spawn('sh', ['-c', 'echo $$ > "$HOLDFAST_BENCH_CGROUP_PROCS" && exec "$@"', 'sh', process.execPath, ...serve], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const closed = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  const stderr = collect(proc);
  const { port, fingerprint } = await waitReady(proc, stderr);
  const password = (await readFile(join(configDir, INITIAL_PASSWORD_FILE), 'utf8')).trim();
  const client = new HttpClient({ host: '127.0.0.1', port, fingerprint });
  // logged in on first use: a server in another network namespace is not reachable from here
  let login: Promise<void> | undefined;
  const loggedIn = (): Promise<void> => (login ??= client.login(ADMIN, password));
  if (o.wrapper === undefined) await loggedIn();
  return {
    pid: proc.pid!,
    port,
    fingerprint,
    password,
    syncCounts: async (store) => {
      await loggedIn();
      return syncCountsOf(await client.get(`admin/datastore/${store}/status`));
    },
    peakRss: () => peakRss(proc.pid!),
    cpuSeconds: (mainThreadOnly = false) => cpuSeconds(proc.pid!, mainThreadOnly),
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
      await closed;
      clearTimeout(timer);
    },
  };
}

/** The `sync-counts` object of a datastore status answer. */
export function syncCountsOf(status: unknown): SyncCounts {
  const c = (status as { 'sync-counts'?: Partial<Record<keyof SyncCounts, unknown>> } | null)?.['sync-counts'];
  const n = (v: unknown): number => (typeof v === 'number' ? v : NaN);
  const counts = { fsyncFile: n(c?.fsyncFile), fsyncDir: n(c?.fsyncDir), syncfs: n(c?.syncfs) };
  if (Object.values(counts).some(Number.isNaN)) throw fail('UPSTREAM_ERROR', 'datastore status has no sync-counts', { status });
  return counts;
}

export function diffCounts(after: SyncCounts, before: SyncCounts): SyncCounts {
  return { fsyncFile: after.fsyncFile - before.fsyncFile, fsyncDir: after.fsyncDir - before.fsyncDir, syncfs: after.syncfs - before.syncfs };
}

/** `backend`: the datastore's backend string (default local; s3-bench.ts makes an S3 one). */
export async function createBenchDatastore(configDir: string, name: string, path: string, level: SyncLevel, backend?: string): Promise<void> {
  await new DatastoreAdmin(new NodeFs(), configDir).create({ name, path, tuning: `sync-level=${level}`, comment: 'holdfast benchmark', ...(backend === undefined ? {} : { backend }) });
}

export async function removeBenchDatastore(configDir: string, name: string, path: string): Promise<void> {
  await new DatastoreAdmin(new NodeFs(), configDir).remove(name);
  await rm(path, { recursive: true, force: true });
}

export async function setBenchSyncLevel(configDir: string, name: string, level: SyncLevel): Promise<void> {
  await new DatastoreAdmin(new NodeFs(), configDir).update(name, { tuning: `sync-level=${level}` });
}

/** The chunk digests (hex) an index file references. */
async function indexDigests(path: string): Promise<string[]> {
  const bytes = await readFile(path);
  const digests = path.endsWith('.didx') ? parseDynamicIndex(bytes).entries.map((e) => e.digest) : parseFixedIndex(bytes).digests;
  return digests.map((d) => Buffer.from(d).toString('hex'));
}

/**
 * Returns a datastore to its freshly created state without re-creating its 65536 prefix
 * directories (tens of seconds on a busy disk): every chunk that the snapshots' indexes reference
 * is deleted, then the snapshots. Returns how many chunk files were deleted.
 */
export async function emptyDatastore(base: string): Promise<number> {
  const digests = new Set<string>();
  for (const type of BACKUP_TYPES) {
    const typeDir = join(base, type);
    for (const group of await readdir(typeDir).catch(() => [] as string[])) {
      for (const snap of await readdir(join(typeDir, group)).catch(() => [] as string[])) {
        const dir = join(typeDir, group, snap);
        for (const f of await readdir(dir).catch(() => [] as string[])) {
          if (f.endsWith('.didx') || f.endsWith('.fidx')) for (const d of await indexDigests(join(dir, f))) digests.add(d);
        }
      }
    }
  }
  const chunks = new LocalChunkBackend({ fs: new NodeFs(), base });
  for (const d of digests) await chunks.remove(d);
  for (const type of BACKUP_TYPES) await rm(join(base, type), { recursive: true, force: true });
  return digests.size;
}

export interface TimedBackup {
  /** wall time from spawning `holdfast backup` to its exit */
  readonly seconds: number;
  /** the client's own time from session start to the acknowledged finish */
  readonly clientSeconds: number;
  readonly bytes: number;
  readonly chunks: number;
  readonly newChunks: number;
  readonly uploadedCompressed: number;
  readonly clientPeakRss: number | undefined;
  /** sampled every 100 ms, so up to 0.1 s per core short */
  readonly clientCpuSeconds: number | undefined;
  readonly clientMainThreadCpuSeconds: number | undefined;
}

interface BackupJson {
  readonly seconds: number;
  readonly archives: readonly { size: number; chunks?: number; uploadedChunks?: number; uploadedCompressed?: number }[];
}

/**
 * Samples a child's VmHWM and CPU time while it runs. Both only grow, so the last sample is within
 * one interval of the final value (which /proc no longer shows once the child has exited).
 */
interface ProcessUsage {
  readonly peakRss: number | undefined;
  readonly cpuSeconds: number | undefined;
  readonly mainThreadCpuSeconds: number | undefined;
}

function sampleProcess(pid: number | undefined): { stop(): ProcessUsage } {
  let usage: ProcessUsage = { peakRss: undefined, cpuSeconds: undefined, mainThreadCpuSeconds: undefined };
  const max = (a: number | undefined, b: number | undefined): number | undefined => (b === undefined ? a : Math.max(a ?? 0, b));
  const take = (): void => {
    if (pid === undefined) return;
    usage = { peakRss: max(usage.peakRss, peakRss(pid)), cpuSeconds: max(usage.cpuSeconds, cpuSeconds(pid)), mainThreadCpuSeconds: max(usage.mainThreadCpuSeconds, cpuSeconds(pid, true)) };
  };
  const timer = setInterval(take, 100);
  return {
    stop: () => {
      clearInterval(timer);
      return usage;
    },
  };
}

/** `extraEnv` is added to the client's environment (e.g. `HOLDFAST_CHUNKER=js` to compare variants). */
export async function timedBackup(server: BenchServer, store: string, spec: string, backupId: string, nodeArgs: readonly string[] = [], extraEnv: Readonly<Record<string, string>> = {}): Promise<TimedBackup> {
  const env = childEnv({ ...extraEnv, HOLDFAST_REPOSITORY: `127.0.0.1:${server.port}:${store}`, HOLDFAST_PASSWORD: server.password, HOLDFAST_FINGERPRINT: server.fingerprint });
  const { seconds, usage, stdout } = await runSampled([...nodeArgs, HOLDFAST_BIN, 'backup', spec, '--backup-id', backupId, '--output-format', 'json'], env, 'backup');
  const r = JSON.parse(stdout) as BackupJson;
  const sum = (f: (a: BackupJson['archives'][number]) => number | undefined): number => r.archives.reduce((s, a) => s + (f(a) ?? 0), 0);
  return {
    seconds,
    clientSeconds: r.seconds,
    bytes: sum((a) => a.size),
    chunks: sum((a) => a.chunks),
    newChunks: sum((a) => a.uploadedChunks),
    uploadedCompressed: sum((a) => a.uploadedCompressed),
    clientPeakRss: usage.peakRss,
    clientCpuSeconds: usage.cpuSeconds,
    clientMainThreadCpuSeconds: usage.mainThreadCpuSeconds,
  };
}

/**
 * Runs `node argv…` to its exit, sampling its CPU and peak RSS; a non-zero exit fails with its
 * stderr. `keepStdout: false` discards stdout (a restore to `-`).
 */
async function runSampled(argv: readonly string[], env: NodeJS.ProcessEnv, what: string, keepStdout = true): Promise<{ seconds: number; usage: ProcessUsage; stdout: string }> {
  const started = performance.now();
  const proc = spawn(process.execPath, argv, { env, stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'pipe'] });
  const sampler = sampleProcess(proc.pid);
  let stdout = '';
  proc.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  const stderr = collect(proc);
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', resolve);
  });
  const seconds = (performance.now() - started) / 1000;
  const usage = sampler.stop();
  if (code !== 0) throw fail('ABORTED', `holdfast ${what} exited with ${code ?? 'a signal'}: ${stderr.text()}`, { code });
  return { seconds, usage, stdout };
}

export interface TimedRestore {
  /** wall time from spawning `holdfast restore` to its exit */
  readonly seconds: number;
  readonly clientCpuSeconds: number | undefined;
}

/**
 * Times `holdfast restore SNAPSHOT ARCHIVE -` with the image going to /dev/null, so the number is
 * the fetch (server, storage, network, decode) and not a target disk, like a raw GET.
 */
export async function timedRestore(server: BenchServer, store: string, snapshot: string, archive: string): Promise<TimedRestore> {
  const env = childEnv({ HOLDFAST_REPOSITORY: `127.0.0.1:${server.port}:${store}`, HOLDFAST_PASSWORD: server.password, HOLDFAST_FINGERPRINT: server.fingerprint });
  // the image goes to stdout, which is not kept (a 1 GiB string would be the benchmark's cost)
  const { seconds, usage } = await runSampled([HOLDFAST_BIN, 'restore', snapshot, archive, '-'], env, 'restore', false);
  return { seconds, clientCpuSeconds: usage.cpuSeconds };
}
