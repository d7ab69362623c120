/**
 * `holdfast benchmark daily`: the cost of the backup a user runs every day, measured in one run
 * for Holdfast (at its defaults) and, when installed, restic and borg on the same data: a first
 * backup, an unchanged re-backup, a re-backup after 1% of the files changed, and a full restore
 * of that last backup. Every step starts after a sync(1), so that no tool pays for the writeback
 * of another's writes; the page cache is also dropped before the first backup and before the
 * restore (when permitted). Each tool starts from an empty repository in every run; the median of the
 * runs is reported with ratios to restic and borg, and the client's peak RSS per step.
 * Data: generated (daily-data.ts) or a copy of `--data DIR` (the copy is what gets changed).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail } from '../../core/errors.ts';
import { DEFAULT_SYNC_LEVEL } from '../../core/sync-level.ts';
import { PEERS, type Peer } from './bench-options.ts';
import { treeBytes } from './bench-steps.ts';
import { changeFiles, generateDailyTree, generateSmallFilesTree } from './daily-data.ts';
import { holdfastTool, peerTool, type DailyTool, type Timed } from './daily-tools.ts';
import { syncAndDropCaches } from './environment.ts';
import { createBenchDatastore, emptyDatastore, HOLDFAST_BIN, startBenchServer } from './holdfast-runner.ts';
import { findPeer } from './peers.ts';
import { formatSize, median, parseChoiceList, parseSize } from './units.ts';

export const DAILY_STEPS = ['first', 'unchanged', 'changed', 'restore'] as const;
export type DailyStep = (typeof DAILY_STEPS)[number];
export const DAILY_SCHEMA = 'holdfast-benchmark-daily/1';
const CHANGED_FRACTION = 0.01;
const STORE = 'daily';

export interface DailyOptions {
  readonly bytes: number;
  /** a tree of this many small files instead of `bytes` of mixed files */
  readonly files: number | undefined;
  readonly data: string | undefined;
  readonly runs: number;
  readonly peers: readonly Peer[];
  readonly path: string;
  readonly seed: number;
  readonly dropCaches: boolean;
}

export interface RawDailyFlags {
  readonly size?: string;
  readonly smallFiles?: string;
  readonly data?: string;
  readonly runs?: string;
  readonly peers?: string;
  readonly path?: string;
  readonly seed?: string;
  readonly dropCaches?: boolean;
}

export function parseDailyOptions(raw: RawDailyFlags): DailyOptions {
  const runs = Number(raw.runs ?? 3);
  const seed = Number(raw.seed ?? 1);
  if (!Number.isInteger(runs) || runs < 1 || runs > 99) throw fail('INVALID_ARGUMENT', '--runs must be an integer in 1..99', { value: raw.runs });
  if (!Number.isSafeInteger(seed)) throw fail('INVALID_ARGUMENT', '--seed must be an integer', { value: raw.seed });
  const files = raw.smallFiles === undefined ? undefined : Number(raw.smallFiles);
  if (files !== undefined && (!Number.isInteger(files) || files < 1 || files > 10_000_000)) throw fail('INVALID_ARGUMENT', '--small-files must be an integer in 1..10000000', { value: raw.smallFiles });
  const sources = [raw.size, raw.smallFiles, raw.data].filter((x) => x !== undefined).length;
  if (sources > 1) throw fail('INVALID_ARGUMENT', 'give one of --size, --small-files and --data');
  return {
    bytes: parseSize(raw.size ?? '1G'),
    files,
    data: raw.data,
    runs,
    peers: raw.peers === undefined ? [...PEERS] : raw.peers === '' || raw.peers === 'none' ? [] : parseChoiceList(raw.peers, PEERS, '--peers'),
    path: raw.path ?? join(tmpdir(), 'holdfast-bench-daily'),
    seed,
    dropCaches: raw.dropCaches !== false,
  };
}

export interface DailyCell {
  readonly tool: string;
  readonly step: DailyStep;
  readonly seconds: number[];
  readonly median: number;
  /** Largest client peak RSS over the runs, in bytes. */
  readonly peakRss: number | undefined;
}

export interface DailyReport {
  readonly schema: typeof DAILY_SCHEMA;
  readonly startedAt: string;
  readonly data: string;
  readonly bytes: number;
  readonly runs: number;
  readonly tools: { readonly name: string; readonly version: string }[];
  readonly cells: DailyCell[];
  readonly notes: string[];
}

function holdfastVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', `file://${HOLDFAST_BIN}`), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

async function copyTree(from: string, to: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const p = spawn('cp', ['-a', `${from}/.`, to], { stdio: 'ignore' });
    p.once('error', reject);
    p.once('close', (code) => (code === 0 ? resolve() : reject(fail('IO_ERROR', `cp -a ${from} failed (${code ?? 'signal'})`, { from }))));
  });
}

export async function runDailyBenchmark(o: DailyOptions, log: (line: string) => void): Promise<DailyReport> {
  const startedAt = new Date().toISOString();
  const notes = new Set<string>();
  const note = (n: string | undefined): void => void (n !== undefined && notes.add(n));
  const peers = o.peers.flatMap((p) => {
    const found = findPeer(p);
    if (typeof found === 'string') note(found);
    return typeof found === 'string' ? [] : [found];
  });
  await rm(o.path, { recursive: true, force: true });
  const configDir = join(o.path, 'config');
  const storePath = join(o.path, 'datastore');
  await mkdir(configDir, { recursive: true });
  await createBenchDatastore(configDir, STORE, storePath, DEFAULT_SYNC_LEVEL);
  const server = await startBenchServer(configDir);
  const samples = new Map<string, { seconds: number[]; rss: (number | undefined)[] }>();
  const record = (tool: string, step: DailyStep, t: Timed): void => {
    const key = `${tool}\u0000${step}`;
    const s = samples.get(key) ?? { seconds: [], rss: [] };
    s.seconds.push(t.seconds);
    s.rss.push(t.peakRss);
    samples.set(key, s);
    log(`${tool} ${step}: ${t.seconds.toFixed(2)} s`);
  };
  let bytes = 0;
  const tools: { name: string; version: string }[] = [];
  try {
    for (let run = 1; run <= o.runs; run++) {
      const runDir = join(o.path, `run-${run}`);
      const src = join(runDir, 'src');
      await mkdir(src, { recursive: true });
      if (o.data !== undefined) await copyTree(o.data, src);
      else if (o.files !== undefined) await generateSmallFilesTree(src, o.files, o.seed);
      else await generateDailyTree(src, o.bytes, o.seed);
      bytes = await treeBytes(src);
      await emptyDatastore(storePath);
      const runTools: DailyTool[] = [holdfastTool(server, STORE, `daily-${run}`, holdfastVersion())];
      for (const p of peers) runTools.push(await peerTool(p, join(runDir, p.peer)));
      if (tools.length === 0) tools.push(...runTools.map((t) => ({ name: t.name, version: t.version })));
      for (const step of DAILY_STEPS) {
        if (step === 'changed') log(`changed ${(await changeFiles(src, CHANGED_FRACTION, o.seed + run)).length} files`);
        for (const tool of runTools) {
          // A sync before every step, dropping the page cache too before the cold ones: no tool
          // pays for the previous one's writeback (a syncfs at the end of a Holdfast backup at
          // sync-level=filesystem flushed the repository borg had just written, ~50 ms).
          const cold = step === 'first' || step === 'restore';
          const dropNote = syncAndDropCaches(cold && o.dropCaches);
          if (cold) note(dropNote);
          const target = join(runDir, `restore-${tool.name}`);
          record(tool.name, step, step === 'restore' ? await tool.restore(target) : await tool.backup(src));
          if (step === 'restore') await rm(target, { recursive: true, force: true });
        }
      }
      await rm(runDir, { recursive: true, force: true });
    }
  } finally {
    await server.stop();
    await rm(o.path, { recursive: true, force: true });
  }
  const cells: DailyCell[] = [];
  for (const t of tools) {
    for (const step of DAILY_STEPS) {
      const s = samples.get(`${t.name}\u0000${step}`);
      if (s === undefined) continue;
      const rss = s.rss.filter((r): r is number => r !== undefined);
      cells.push({ tool: t.name, step, seconds: s.seconds, median: median(s.seconds), peakRss: rss.length > 0 ? Math.max(...rss) : undefined });
    }
  }
  return { schema: DAILY_SCHEMA, startedAt, data: o.data ?? (o.files !== undefined ? `generated (${o.files} files of 0..8 KiB, seed ${o.seed})` : `generated (${formatSize(o.bytes)}, seed ${o.seed})`), bytes, runs: o.runs, tools, cells, notes: [...notes] };
}
