/**
 * The benchmark's result as data: every single run as a `Measurement` (what was timed, its sync
 * counters, memory), and the summary the renderers print, derived from the measurements alone
 * (median per cell, ratio to `none` of the same filesystem and size, throughput). The JSON file is
 * this object, so a result can be re-rendered or compared later without re-running anything.
 */
import type { SyncLevel } from '../../core/sync-level.ts';
import type { SyncCounts } from '../../storage/fs-port.ts';
import type { LoopFsType, Peer } from './bench-options.ts';
import type { Environment } from './environment.ts';
import type { PeerTool } from './peers.ts';
import { median } from './units.ts';

export const REPORT_SCHEMA = 'holdfast-benchmark-sync-level/1';
/** Files (not chunks) a `filesystem` backup may fsync: its manifest. */
export const NON_CHUNK_FSYNC_ALLOWANCE = 4;

export type Column = SyncLevel | Peer;

export interface SyncCheck {
  readonly ok: boolean;
  readonly expected: string;
}

export interface Measurement {
  /** `default` (the --path filesystem) or a loop filesystem type */
  readonly fs: 'default' | LoopFsType;
  readonly sizeLabel: string;
  readonly bytes: number;
  readonly column: Column;
  readonly run: number;
  /** position of this backup within its run (levels rotate between runs) */
  readonly order: number;
  readonly seconds: number;
  readonly clientSeconds?: number;
  readonly newChunks?: number;
  readonly chunks?: number;
  readonly uploadedCompressed?: number;
  readonly syncCounts?: SyncCounts;
  readonly syncCheck?: SyncCheck;
  readonly serverPeakRss?: number;
  readonly clientPeakRss?: number;
  /** the memory cgroup the server (or peer) ran in, read from /proc/PID/cgroup during the run */
  readonly cgroupPath?: string;
  readonly cgroupPeakBytes?: number;
  readonly cgroupLimitHits?: number;
  readonly cacheDropped: boolean;
}

export interface Cell {
  readonly column: Column;
  readonly runs: number;
  readonly medianSeconds: number;
  readonly minSeconds: number;
  readonly maxSeconds: number;
  /** median time / median time of `none` for the same filesystem and size */
  readonly ratioToNone: number | undefined;
  readonly mbPerSecond: number;
  readonly syncOk: boolean | undefined;
}

export interface SummaryRow {
  readonly sizeLabel: string;
  readonly bytes: number;
  readonly cells: readonly Cell[];
}

export interface SummaryTable {
  readonly fs: 'default' | LoopFsType;
  readonly columns: readonly Column[];
  readonly rows: readonly SummaryRow[];
}

export interface CgroupInfo {
  readonly version: 1 | 2;
  readonly path: string;
  readonly limitBytes: number;
}

/** `--backend s3`: the bucket and the endpoint's raw throughput measured in the same run. */
export interface ObjectStoreFigures {
  readonly bucket: string;
  readonly endpoint: string;
  readonly concurrency: number;
  readonly rawPutBytesPerSecond: number;
  readonly rawGetBytesPerSecond: number;
  /** per column: median ingest bytes/s divided by the raw PUT rate (target ≥ 0.8) */
  readonly ingestToRawPut: Readonly<Record<string, number>>;
}

export interface BenchReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly argv: readonly string[];
  readonly settings: {
    readonly sizes: readonly string[];
    readonly levels: readonly SyncLevel[];
    readonly runs: number;
    readonly data: string | null;
    readonly memoryLimit: number | null;
    readonly seed: number;
    readonly dropCaches: boolean;
  };
  /** per filesystem label: where the datastores lived */
  readonly environments: Readonly<Record<string, Environment>>;
  /** `holdfast --version` wall time: the client start-up cost inside every timed backup */
  readonly clientStartupSeconds: number;
  readonly cgroup: CgroupInfo | null;
  readonly peers: readonly PeerTool[];
  readonly notes: readonly string[];
  /** set for `--backend s3` (absent in reports made before it existed) */
  readonly objectStore?: ObjectStoreFigures | null;
  readonly measurements: readonly Measurement[];
  readonly summary: readonly SummaryTable[];
}

/** What the datastore's own counters must show for a backup at `level` that wrote `newChunks`. */
export function checkSyncCounts(level: SyncLevel, c: SyncCounts, newChunks: number): SyncCheck {
  switch (level) {
    case 'none':
      return { ok: c.fsyncFile === 0 && c.fsyncDir === 0 && c.syncfs === 0, expected: 'no fsync, no syncfs' };
    case 'filesystem':
      return { ok: c.syncfs >= 1 && c.fsyncFile <= NON_CHUNK_FSYNC_ALLOWANCE, expected: `≥ 1 syncfs, no chunk fsync (≤ ${NON_CHUNK_FSYNC_ALLOWANCE} file fsyncs)` };
    case 'file':
      return { ok: c.fsyncFile >= newChunks, expected: `≥ 1 file fsync per new chunk (${newChunks})` };
  }
}

function cellOf(column: Column, ms: readonly Measurement[], noneMedian: number | undefined, bytes: number): Cell {
  const secs = ms.map((m) => m.seconds);
  const med = median(secs);
  const checks = ms.map((m) => m.syncCheck?.ok).filter((v): v is boolean => v !== undefined);
  return {
    column,
    runs: ms.length,
    medianSeconds: med,
    minSeconds: Math.min(...secs),
    maxSeconds: Math.max(...secs),
    ratioToNone: noneMedian === undefined || noneMedian <= 0 ? undefined : med / noneMedian,
    mbPerSecond: med > 0 ? bytes / med / 1e6 : 0,
    syncOk: checks.length === 0 ? undefined : checks.every((v) => v),
  };
}

/** Groups measurements into one table per filesystem: size rows × columns, in first-seen order. */
export function summarize(measurements: readonly Measurement[], columnOrder: readonly Column[]): SummaryTable[] {
  const fsOrder = [...new Set(measurements.map((m) => m.fs))];
  return fsOrder.map((fs) => {
    const ofFs = measurements.filter((m) => m.fs === fs);
    const columns = columnOrder.filter((c) => ofFs.some((m) => m.column === c));
    const sizes = [...new Set(ofFs.map((m) => m.sizeLabel))];
    const rows = sizes.map((sizeLabel) => {
      const ofSize = ofFs.filter((m) => m.sizeLabel === sizeLabel);
      const bytes = ofSize[0]!.bytes;
      const none = ofSize.filter((m) => m.column === 'none');
      const noneMedian = none.length > 0 ? median(none.map((m) => m.seconds)) : undefined;
      const cells = columns.filter((c) => ofSize.some((m) => m.column === c)).map((c) => cellOf(c, ofSize.filter((m) => m.column === c), noneMedian, bytes));
      return { sizeLabel, bytes, cells };
    });
    return { fs, columns, rows };
  });
}

/** The run order of one run: the columns rotated by the run index, so no level always goes first. */
export function runOrder<T>(columns: readonly T[], run: number): T[] {
  const k = columns.length === 0 ? 0 : run % columns.length;
  return [...columns.slice(k), ...columns.slice(0, k)];
}
