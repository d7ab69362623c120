/**
 * The benchmark results the server shows (the web UI's benchmark page): the JSON reports that
 * `holdfast benchmark sync-level` and `benchmark daily` write into the results directory
 * (`bench/results/` of the install by default; src/cli/benchmark/report-files.ts writes them).
 *
 * Only the fields the tables need are passed on, each checked for its type, so a stray or
 * hand-edited file shows as less, never as an error; files of other kinds (soak runs) are
 * skipped. Bounds: the newest MAX_FILES reports by name, each at most MAX_FILE_BYTES.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isHoldfastError } from '../core/errors.ts';
import type { Fs } from '../storage/fs-port.ts';

export const DEFAULT_BENCH_RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));
export const MAX_FILES = 20;
export const MAX_FILE_BYTES = 8 * 1024 * 1024;

const SYNC_LEVEL_SCHEMA = 'holdfast-benchmark-sync-level/1';
const DAILY_SCHEMA = 'holdfast-benchmark-daily/1';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strs = (v: unknown): string[] => arr(v).filter((x): x is string => typeof x === 'string');

function syncLevel(file: string, r: Json): Json {
  const settings = obj(r['settings']);
  return {
    kind: 'sync-level',
    file,
    startedAt: str(r['startedAt']),
    settings: { sizes: strs(settings['sizes']), levels: strs(settings['levels']), runs: num(settings['runs']) },
    summary: arr(r['summary']).map((t) => ({
      fs: str(obj(t)['fs']),
      columns: strs(obj(t)['columns']),
      rows: arr(obj(t)['rows']).map((row) => ({
        sizeLabel: str(obj(row)['sizeLabel']),
        cells: arr(obj(row)['cells']).map((c) => {
          const cell = obj(c);
          return { column: str(cell['column']), medianSeconds: num(cell['medianSeconds']), ratioToNone: num(cell['ratioToNone']), mbPerSecond: num(cell['mbPerSecond']), syncOk: typeof cell['syncOk'] === 'boolean' ? cell['syncOk'] : undefined };
        }),
      })),
    })),
    notes: strs(r['notes']),
  };
}

function daily(file: string, r: Json): Json {
  return {
    kind: 'daily',
    file,
    startedAt: str(r['startedAt']),
    data: str(r['data']),
    bytes: num(r['bytes']),
    runs: num(r['runs']),
    tools: arr(r['tools']).map((t) => ({ name: str(obj(t)['name']), version: str(obj(t)['version']) })),
    cells: arr(r['cells']).map((c) => ({ tool: str(obj(c)['tool']), step: str(obj(c)['step']), median: num(obj(c)['median']), peakRss: num(obj(c)['peakRss']) })),
    notes: strs(r['notes']),
  };
}

async function readReport(fs: Fs, dir: string, file: string): Promise<Json | undefined> {
  const path = join(dir, file);
  const st = await fs.stat(path);
  if (st === undefined || st.size > MAX_FILE_BYTES) return undefined;
  let r: Json;
  try {
    r = obj(JSON.parse(Buffer.from(await fs.readFile(path)).toString('utf8')));
  } catch {
    return undefined;
  }
  if (r['schema'] === SYNC_LEVEL_SCHEMA) return syncLevel(file, r);
  if (r['schema'] === DAILY_SCHEMA) return daily(file, r);
  return undefined;
}

/** The newest sync-level and daily reports in `dir`, newest first; none when `dir` is missing. */
export async function readBenchResults(fs: Fs, dir: string): Promise<Json[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if (isHoldfastError(e, 'NOT_FOUND')) return [];
    throw e;
  }
  const stamp = (n: string): string => n.replace(/^[a-z-]+-/, '');
  const reports = names
    .filter((n) => /^(sync-level|daily)-[0-9TZ]+\.json$/.test(n))
    .sort((a, b) => stamp(b).localeCompare(stamp(a)))
    .slice(0, MAX_FILES);
  const out: Json[] = [];
  for (const name of reports) {
    const r = await readReport(fs, dir, name);
    if (r !== undefined) out.push(r);
  }
  return out;
}
