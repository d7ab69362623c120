/**
 * The concurrency soak (issue #16): a real `holdfast serve` on loopback and, all at once, for a
 * set number of minutes:
 * - several backup clients, each changing its own tree between backups (files rewritten, added,
 *   removed, renamed) and backing it up into its own group;
 * - GC (with a 1-minute atime cutoff, so its sweep really races the backups), verify and
 *   `prune-job run --keep-last K` in loops;
 * - a reader restoring random acknowledged snapshots while prune removes old ones;
 * - a sync-level change (filesystem → file) half way through.
 *
 * Every client action is the real CLI in its own process. At the end, with the load stopped:
 * the whole datastore verifies; every acknowledged snapshot is either present or older than every
 * present one of its group (prune removes the oldest; anything else would be a lost backup); the
 * newest of each group restores byte-identical to the tree it was taken from; no job failed; and
 * the server's RSS after the first minute and at the end is reported (leak check: the median of the
 * last 30 s ≤ 1.2× the median of the 30 s before the one-minute mark, judged for runs of five
 * minutes or more and reported for shorter ones; one GC and one verify run before the clock starts, so both figures include what each job
 * allocates the first time).
 *
 * Allowed outcomes that are not failures: a restore of a snapshot that prune removed meanwhile
 * (NOT_FOUND, exit 3), or was removing at that moment (LOCKED: prune holds the snapshot's lock;
 * such a snapshot must then be gone at the end, else it is a failure). Everything else that exits non-zero is a failure and is reported with its
 * output.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from '../../src/remote/http-client.ts';
import { cleanEnv, fastRandom, runCli, spawnServe, type CliResult, type ServeProcess } from '../helpers/server-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';

export interface SoakOptions {
  readonly minutes: number;
  /** backup clients, one group each */
  readonly clients: number;
  readonly keepLast: number;
  /** files per client tree */
  readonly files: number;
  readonly log: (line: string) => void;
}

export const DEFAULT_SOAK: Omit<SoakOptions, 'log'> = { minutes: 2, clients: 3, keepLast: 6, files: 24 };

export interface LoopCount {
  ok: number;
  failed: number;
}

export interface SoakReport {
  readonly options: Omit<SoakOptions, 'log'>;
  readonly seconds: number;
  readonly backups: LoopCount;
  readonly gc: LoopCount;
  readonly verify: LoopCount;
  readonly prune: LoopCount;
  readonly restores: LoopCount & { vanished: number };
  readonly syncLevelChanged: boolean;
  readonly final: { readonly snapshots: number; readonly verifyOk: boolean; readonly restoredIdentical: number };
  readonly rss: { readonly oneMinuteMiB: number | null; readonly endMiB: number; readonly ratio: number | null };
  /** every failure, with the command and its output */
  readonly failures: readonly string[];
}

type Digest = Record<string, string>;

interface Acked {
  readonly time: number;
  readonly digest: Digest;
}

const EXIT_NOT_FOUND = 3;
/** The shortest run whose RSS ratio is judged (see the leak check below). */
export const LEAK_CHECK_MINUTES = 5;

/** path → sha256 and mode of each file below `root` (directories as entries too). */
export function treeDigest(root: string, rel = ''): Digest {
  const out: Digest = {};
  for (const name of readdirSync(join(root, rel)).sort()) {
    const p = join(rel, name);
    const st = statSync(join(root, p));
    if (st.isDirectory()) Object.assign(out, { [p]: 'dir' }, treeDigest(root, p));
    else out[p] = `${(st.mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(join(root, p))).digest('hex')}`;
  }
  return out;
}

function sameDigest(a: Digest, b: Digest): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A client's tree and its mutations; sizes stay small so the soak measures concurrency, not I/O. */
class ChangingTree {
  readonly root: string;
  #seed: number;
  #next = 0;

  constructor(root: string, files: number, seed: number) {
    this.root = root;
    this.#seed = seed * 7919;
    mkdirSync(join(root, 'sub'), { recursive: true });
    for (let i = 0; i < files; i++) this.#write(this.#newName());
  }

  /** Rewrites two files, adds one, removes one and renames one. */
  mutate(): void {
    const files = this.#files();
    for (const f of files.slice(0, 2)) this.#write(f);
    this.#write(this.#newName());
    if (files.length > 3) unlinkSync(join(this.root, files[files.length - 1]!));
    if (files.length > 4) renameSync(join(this.root, files[2]!), join(this.root, this.#newName()));
  }

  #files(): string[] {
    const all = [...readdirSync(this.root).filter((n) => n !== 'sub'), ...readdirSync(join(this.root, 'sub')).map((n) => join('sub', n))];
    // a different order each time, derived from the seed, so different files change
    return all.sort((a, b) => hash(a, this.#seed) - hash(b, this.#seed));
  }

  #newName(): string {
    const n = this.#next++;
    return n % 3 === 0 ? join('sub', `f${n}.dat`) : `f${n}.dat`;
  }

  #write(rel: string): void {
    this.#seed++;
    const size = 4096 + (hash(rel, this.#seed) % (192 * 1024));
    // half random, half text-like, so some chunks compress
    const data = this.#seed % 2 === 0 ? fastRandom(size, this.#seed) : Buffer.from(`line ${this.#seed} of ${rel}\n`.repeat(Math.ceil(size / 24))).subarray(0, size);
    writeFileSync(join(this.root, rel), data);
  }
}

function hash(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 2654435761) >>> 0;
  return h;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

function describe(args: readonly string[], r: CliResult): string {
  return `holdfast ${args.join(' ')} → exit ${r.code}\n${r.stdout.trim()}\n${r.stderr.trim()}`.trim();
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const dir = makeTempDir('holdfast-soak-');
  const server = await spawnServe(['--listen', '127.0.0.1:0'], cleanEnv({ HOLDFAST_CONFIG_DIR: join(dir, 'config'), HOLDFAST_DATA_DIR: join(dir, 'data') }));
  try {
    return await soakAgainst(server, dir, o);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function soakAgainst(server: ServeProcess, dir: string, o: SoakOptions): Promise<SoakReport> {
  const password = (await server.waitForLine(/^first start: user \S+, password (\S+)$/))[1]!;
  await server.waitForLine(/^created datastore 'default'$/);
  const env = cleanEnv({ HOLDFAST_REPOSITORY: `admin@pbs@127.0.0.1:${server.port}:default`, HOLDFAST_PASSWORD: password, HOLDFAST_FINGERPRINT: server.fingerprint });
  const api = new HttpClient({ host: '127.0.0.1', port: server.port, fingerprint: server.fingerprint });
  await api.login('admin@pbs', password);
  await api.call('PUT', 'config/datastore/default', { tuning: 'sync-level=filesystem,gc-atime-cutoff=1' });

  const failures: string[] = [];
  const cli = async (args: readonly string[]): Promise<CliResult> => runCli(args, env);
  const count = (): LoopCount => ({ ok: 0, failed: 0 });
  const backups = count();
  const gc = count();
  const verify = count();
  const prune = count();
  const restores = { ...count(), vanished: 0 };
  /** restores refused LOCKED: the snapshot must have been on its way out (checked at the end) */
  const lockedRestores: { id: string; time: number }[] = [];
  const acked = new Map<string, Acked[]>();
  const pid = server.child.pid!;

  // Warm-up before the clock starts: every kind of job once, so the one-minute RSS figure already
  // includes what each kind allocates the first time (GC's mark cache above all), and the leak
  // check compares like with like.
  const warmup = ['verify', 'default'];
  for (const args of [['garbage-collection', 'start', 'default'], warmup]) {
    const r = await cli(args);
    if (r.code !== 0) failures.push(`warm-up ${describe(args, r)}`);
  }

  const started = Date.now();
  const deadline = started + o.minutes * 60_000;
  const running = (): boolean => Date.now() < deadline;
  const samples: { at: number; mib: number }[] = [];
  const sampler = setInterval(() => samples.push({ at: Date.now() - started, mib: rssMiB(pid) }), 1000);
  sampler.unref();

  const record = (c: LoopCount, what: readonly string[], r: CliResult): boolean => {
    if (r.code === 0) c.ok++;
    else {
      c.failed++;
      failures.push(describe(what, r));
      o.log(`FAILED: ${describe(what, r).split('\n')[0]!}`);
    }
    return r.code === 0;
  };

  const client = async (i: number): Promise<void> => {
    const id = `g${i}`;
    const tree = new ChangingTree(join(dir, 'trees', id), o.files, i + 1);
    const list: Acked[] = [];
    acked.set(id, list);
    let last = 0;
    while (running()) {
      const digest = treeDigest(tree.root);
      const time = Math.max(Math.floor(Date.now() / 1000), last + 1);
      const args = ['backup', `data.pxar:${tree.root}`, '--backup-id', id, '--backup-time', String(time)];
      if (record(backups, args, await cli(args))) list.push({ time, digest });
      last = time;
      tree.mutate();
    }
  };

  const loop = async (c: LoopCount, args: readonly string[]): Promise<void> => {
    while (running()) record(c, args, await cli(args));
  };

  const reader = async (): Promise<void> => {
    let n = 0;
    while (running()) {
      const groups = [...acked.entries()].filter(([, l]) => l.length > 0);
      const pick = groups[n % Math.max(1, groups.length)];
      n++;
      if (!pick) {
        // nothing acknowledged yet: do a cheap read meanwhile
        record(restores, ['snapshot', 'list'], await cli(['snapshot', 'list']));
        continue;
      }
      const [id, list] = pick;
      // an older acknowledged snapshot, which prune may be removing right now
      const snap = list[hash(String(n), 17) % list.length]!;
      const target = join(dir, 'restore', `r${n}`);
      const args = ['restore', `host/${id}/${new Date(snap.time * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')}`, 'data.pxar', target];
      const r = await cli(args);
      if (r.code === EXIT_NOT_FOUND) restores.vanished++;
      else if (/\[LOCKED\]/.test(r.stderr)) {
        restores.vanished++;
        lockedRestores.push({ id, time: snap.time });
      }
      else if (record(restores, args, r) && !sameDigest(treeDigest(target), snap.digest)) {
        failures.push(`restore of ${args[1]!} differs from the tree it was taken from`);
        restores.ok--;
        restores.failed++;
      }
      rmSync(target, { recursive: true, force: true });
    }
  };

  let syncLevelChanged = false;
  const switchLevel = async (): Promise<void> => {
    await waitUntil(started + (o.minutes * 60_000) / 2);
    await api.call('PUT', 'config/datastore/default', { tuning: 'sync-level=file,gc-atime-cutoff=1' });
    syncLevelChanged = true;
    o.log('sync level changed to file');
  };

  const progress = setInterval(() => o.log(`${Math.round((Date.now() - started) / 1000)} s: backups ${backups.ok}/${backups.failed} gc ${gc.ok} verify ${verify.ok} prune ${prune.ok} restores ${restores.ok} (+${restores.vanished} vanished) failures ${failures.length}, server RSS ${rssMiB(pid).toFixed(0)} MiB`), 15_000);
  progress.unref();
  try {
    await Promise.all([
      ...Array.from({ length: o.clients }, (_, i) => client(i)),
      loop(gc, ['garbage-collection', 'start', 'default']),
      loop(verify, ['verify', 'default']),
      loop(prune, ['prune-job', 'run', 'default', '--keep-last', String(o.keepLast)]),
      reader(),
      switchLevel(),
    ]);
  } finally {
    clearInterval(progress);
    clearInterval(sampler);
  }
  const seconds = (Date.now() - started) / 1000;
  const loadEnd = Date.now() - started;
  const endMiB = rssMiB(pid);

  // Final checks, with the load stopped.
  const finalVerify = await cli(['verify', 'default']);
  if (finalVerify.code !== 0) failures.push(`final ${describe(['verify', 'default'], finalVerify)}`);
  const listed = await cli(['snapshot', 'list', '--output-format', 'json']);
  const present = new Map<string, Set<number>>();
  for (const s of JSON.parse(listed.stdout) as { 'backup-id': string; 'backup-time': number }[]) {
    present.set(s['backup-id'], (present.get(s['backup-id']) ?? new Set()).add(s['backup-time']));
  }
  let snapshots = 0;
  let restoredIdentical = 0;
  for (const [id, list] of acked) {
    const here = present.get(id) ?? new Set<number>();
    snapshots += here.size;
    const oldestPresent = Math.min(...here);
    for (const l of lockedRestores) {
      if (l.id === id && here.has(l.time)) failures.push(`a restore of host/${id} at ${l.time} failed LOCKED, but prune did not remove that snapshot`);
    }
    for (const a of list) {
      if (!here.has(a.time) && a.time > oldestPresent) failures.push(`acknowledged snapshot host/${id} at ${a.time} is missing, though newer than a snapshot prune kept`);
    }
    const newest = list.at(-1);
    if (!newest) continue;
    if (!here.has(newest.time)) {
      failures.push(`the newest acknowledged snapshot of host/${id} is missing`);
      continue;
    }
    const target = join(dir, 'final', id);
    const args = ['restore', `host/${id}/${new Date(newest.time * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')}`, 'data.pxar', target];
    const r = await cli(args);
    if (r.code !== 0) failures.push(`final ${describe(args, r)}`);
    else if (!sameDigest(treeDigest(target), newest.digest)) failures.push(`final restore of host/${id} differs from its tree`);
    else restoredIdentical++;
  }

  // Medians over half-minute windows: RSS swings with whichever job happens to run at a sample, a
  // leak shows as a level that keeps rising.
  const windowMedian = (from: number, to: number): number | null => {
    const xs = samples.filter((s) => s.at >= from && s.at <= to).map((s) => s.mib).sort((a, b) => a - b);
    return xs.length > 0 ? xs[Math.floor(xs.length / 2)]! : null;
  };
  const oneMinuteMiB = o.minutes >= 2 ? windowMedian(30_000, 60_000) : null;
  const endWindow = windowMedian(loadEnd - 30_000, loadEnd) ?? endMiB;
  const ratio = oneMinuteMiB ? endWindow / oneMinuteMiB : null;
  // In a short run the one-minute figure is taken while V8's heap is still growing towards its
  // steady size, so the ratio is reported but judged only from LEAK_CHECK_MINUTES on.
  if (ratio !== null && ratio > 1.2 && o.minutes >= LEAK_CHECK_MINUTES) failures.push(`server RSS grew from ${oneMinuteMiB!.toFixed(0)} MiB after one minute to ${endWindow.toFixed(0)} MiB at the end (${ratio.toFixed(2)}×, limit 1.2×)`);

  return {
    options: { minutes: o.minutes, clients: o.clients, keepLast: o.keepLast, files: o.files },
    seconds,
    backups,
    gc,
    verify,
    prune,
    restores,
    syncLevelChanged,
    final: { snapshots, verifyOk: finalVerify.code === 0, restoredIdentical },
    rss: { oneMinuteMiB, endMiB: endWindow, ratio },
    failures,
  };
}

/** Resolves at wall-clock time `at` (a schedule, not a synchronisation: nothing waits on it). */
function waitUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())).unref());
}

/** The report as the text the README and docs quote. */
export function formatSoakReport(r: SoakReport): string {
  const c = (x: LoopCount): string => `${x.ok} ok, ${x.failed} failed`;
  return [
    `soak: ${r.options.clients} clients, ${r.seconds.toFixed(0)} s, keep-last ${r.options.keepLast}`,
    `backups   ${c(r.backups)}`,
    `gc        ${c(r.gc)}`,
    `verify    ${c(r.verify)}`,
    `prune     ${c(r.prune)}`,
    `restores  ${c(r.restores)}, ${r.restores.vanished} of snapshots pruned meanwhile (NOT_FOUND, or LOCKED while prune removed them)`,
    `sync level changed mid-run: ${r.syncLevelChanged ? 'yes (filesystem → file)' : 'no'}`,
    `final: ${r.final.snapshots} snapshots, verify ${r.final.verifyOk ? 'ok' : 'FAILED'}, newest of each group restored identical: ${r.final.restoredIdentical}/${r.options.clients}`,
    `server RSS: ${r.rss.oneMinuteMiB === null ? 'n/a' : `${r.rss.oneMinuteMiB.toFixed(0)} MiB`} after 1 min, ${r.rss.endMiB.toFixed(0)} MiB at the end${r.rss.ratio === null ? '' : ` (${r.rss.ratio.toFixed(2)}×${r.options.minutes >= LEAK_CHECK_MINUTES ? ', limit 1.2×' : ', judged from runs of 5 minutes'})`}`,
    r.failures.length === 0 ? 'no failures' : `${r.failures.length} FAILURES:\n${r.failures.join('\n---\n')}`,
  ].join('\n');
}
