/**
 * `npm run crash-test`: the power-loss proof (docs/durability.md). Runs the crash explorer
 * (test/crash/explorer.ts), prints the level × model × workload table and writes it as JSON.
 *
 *   npm run crash-test -- [--states N] [--seed S] [--out FILE] [--per-point K]
 *                         [--levels a,b] [--models a,b] [--workloads a,b] [--no-faults]
 *                         [--mutation manifest-before-sync]
 *
 * --states N is the number of crash states checked per level (default 2000, the CI budget).
 * Exit code 0 when no I1–I4 or fault violation was found, 1 otherwise, 2 on bad arguments.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isSyncLevel, SYNC_LEVELS, type SyncLevel } from '../src/core/sync-level.ts';
import { CRASH_MODELS, type CrashModel } from '../src/storage/testing/sim-fs.ts';
import { explore } from '../test/crash/explorer.ts';
import { formatReport, type FaultRow, type Row } from '../test/crash/report.ts';
import { WORKLOADS, workloadNamed, type Workload } from '../test/crash/workloads.ts';

function usage(message: string): never {
  process.stderr.write(`crash-test: ${message}\n`);
  process.exit(2);
}

function list<T extends string>(value: string | undefined, all: readonly T[], valid: (s: string) => boolean, what: string): T[] {
  if (value === undefined) return [...all];
  const items = value.split(',').filter((s) => s !== '');
  for (const item of items) if (!valid(item)) usage(`unknown ${what} '${item}' (known: ${all.join(', ')})`);
  return items as T[];
}

function positiveInt(value: string | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) usage(`${what} must be a positive integer, not '${value}'`);
  return n;
}

const { values } = parseArgs({
  options: {
    states: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'per-point': { type: 'string' },
    levels: { type: 'string' },
    models: { type: 'string' },
    workloads: { type: 'string' },
    'no-faults': { type: 'boolean' },
    mutation: { type: 'string' },
  },
});

if (values.mutation !== undefined && values.mutation !== 'manifest-before-sync') usage(`unknown mutation '${values.mutation}' (known: manifest-before-sync)`);
const levels: SyncLevel[] = list(values.levels, SYNC_LEVELS, isSyncLevel, 'level');
const models: CrashModel[] = list(values.models, CRASH_MODELS, (s) => (CRASH_MODELS as readonly string[]).includes(s), 'model');
const workloadNames = list(values.workloads, WORKLOADS.map((w) => w.name), (s) => workloadNamed(s) !== undefined, 'workload');
const workloads: Workload[] = workloadNames.map((n) => workloadNamed(n)!);
const seed = values.seed === undefined ? 1 : Number(values.seed);
if (!Number.isSafeInteger(seed)) usage(`--seed must be an integer, not '${values.seed}'`);
const out = resolve(values.out ?? 'crash-report.json');

const started = performance.now();
const report = await explore({
  levels,
  models,
  workloads,
  statesPerLevel: positiveInt(values.states, 2000, '--states'),
  statesPerPoint: positiveInt(values['per-point'], 3, '--per-point'),
  seed,
  faults: values['no-faults'] !== true,
  ...(values.mutation === 'manifest-before-sync' ? { testOnly: { manifestBeforeSync: true } } : {}),
  onRow: (row: Row | FaultRow) => {
    const what = row.kind === 'crash' ? `${row.level} ${row.model} ${row.workload}: ${row.states} states` : `${row.level} fault ${row.sync}: ${row.runs} runs`;
    process.stderr.write(`  ${what}\n`);
  },
});
report.elapsedMs = Math.round(performance.now() - started);
process.stdout.write(`${formatReport(report)}\n`);
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`report written to ${out}\n`);
process.exit(report.failed ? 1 : 0);
