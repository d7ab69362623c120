/**
 * The options of `holdfast benchmark sync-level`, parsed from the raw command-line strings into
 * checked values. The defaults are sized so that a plain run finishes in about five minutes on a
 * small 2-core machine; everything larger is asked for explicitly.
 */
import { fileURLToPath } from 'node:url';
import { fail } from '../../core/errors.ts';
import { SYNC_LEVELS, type SyncLevel } from '../../core/sync-level.ts';
import { OUTPUT_FORMATS, type OutputFormat } from '../context.ts';
import { parseChoiceList, parseSize } from './units.ts';

export const PEERS = ['restic', 'borg'] as const;
export type Peer = (typeof PEERS)[number];

export const LOOP_FS_TYPES = ['ext4', 'xfs', 'btrfs'] as const;
export type LoopFsType = (typeof LOOP_FS_TYPES)[number];

export const DEFAULT_SIZES = '1G';
export const DEFAULT_RUNS = 3;
export const DEFAULT_SEED = 1;
/** `bench/results/` of this source tree, wherever the command is started from. */
export const DEFAULT_OUT_DIR = fileURLToPath(new URL('../../../bench/results/', import.meta.url));

export interface SyncLevelBenchOptions {
  /** bytes of generated data per table row; ignored when `data` is given */
  readonly sizes: readonly number[];
  readonly levels: readonly SyncLevel[];
  readonly runs: number;
  /** back up this directory instead of generated data */
  readonly data: string | undefined;
  /** where datastores (and generated data) go; undefined: a temp dir beside the default data dir */
  readonly path: string | undefined;
  readonly outDir: string;
  readonly memoryLimit: number | undefined;
  readonly peers: readonly Peer[];
  readonly fs: readonly LoopFsType[];
  readonly outputFormat: OutputFormat;
  readonly seed: number;
  readonly dropCaches: boolean;
  readonly writeFiles: boolean;
  /** where the datastore keeps its chunks: a local one, or an S3 one (s3-bench.ts) */
  readonly backend: BenchBackend;
}

export const BENCH_BACKENDS = ['local', 's3'] as const;
export type BenchBackend = (typeof BENCH_BACKENDS)[number];

/** The flags as commander hands them over: strings, or undefined when not given. */
export interface RawBenchFlags {
  readonly sizes?: string;
  readonly levels?: string;
  readonly runs?: string;
  readonly data?: string;
  readonly path?: string;
  readonly out?: string;
  readonly memoryLimit?: string;
  readonly peers?: string;
  readonly fs?: string;
  readonly outputFormat?: string;
  readonly seed?: string;
  readonly dropCaches?: boolean;
  readonly files?: boolean;
  readonly backend?: string;
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) throw fail('INVALID_ARGUMENT', `${what} must be a positive integer, not '${text}'`, { value: text });
  return n;
}

function outputFormat(text: string | undefined): OutputFormat {
  const f = text ?? 'text';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(f)) throw fail('INVALID_ARGUMENT', `--output-format must be one of ${OUTPUT_FORMATS.join(', ')}`, { value: f });
  return f as OutputFormat;
}

function backendOf(text: string | undefined): BenchBackend {
  const b = text ?? 'local';
  if (!(BENCH_BACKENDS as readonly string[]).includes(b)) throw fail('INVALID_ARGUMENT', `--backend must be one of ${BENCH_BACKENDS.join(', ')}`, { value: b });
  return b as BenchBackend;
}

export function parseBenchOptions(raw: RawBenchFlags): SyncLevelBenchOptions {
  const sizes = (raw.sizes ?? DEFAULT_SIZES).split(',').map((s) => s.trim()).filter((s) => s !== '').map(parseSize);
  if (sizes.length === 0) throw fail('INVALID_ARGUMENT', '--sizes needs at least one size', { value: raw.sizes });
  const levels = parseChoiceList(raw.levels ?? SYNC_LEVELS.join(','), SYNC_LEVELS, 'sync level');
  if (levels.length === 0) throw fail('INVALID_ARGUMENT', '--levels needs at least one level', { value: raw.levels });
  return {
    sizes: [...new Set(sizes)],
    levels,
    runs: raw.runs === undefined ? DEFAULT_RUNS : positiveInt(raw.runs, '--runs'),
    data: raw.data,
    path: raw.path,
    outDir: raw.out ?? DEFAULT_OUT_DIR,
    memoryLimit: raw.memoryLimit === undefined ? undefined : parseSize(raw.memoryLimit),
    peers: parseChoiceList(raw.peers ?? '', PEERS, 'peer'),
    fs: parseChoiceList(raw.fs ?? '', LOOP_FS_TYPES, 'filesystem'),
    outputFormat: outputFormat(raw.outputFormat),
    seed: raw.seed === undefined ? DEFAULT_SEED : positiveInt(raw.seed, '--seed'),
    dropCaches: raw.dropCaches !== false,
    writeFiles: raw.files !== false,
    backend: backendOf(raw.backend),
  };
}
