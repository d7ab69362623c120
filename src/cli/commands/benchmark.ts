/**
 * `holdfast benchmark [client]`: PBS's client benchmark rows (client-bench.ts, tls-upload.ts).
 *
 * `holdfast benchmark sync-level`: what each sync level costs on this machine, measured with the
 * real server and the real client over the real protocol (see docs/benchmarks.md). Progress goes
 * to stderr, the report to stdout (text, or `--output-format json`), and the JSON, Markdown and
 * SVG files to `--out` (default bench/results/).
 */
import type { Command } from 'commander';
import { fail } from '../../core/errors.ts';
import { DEFAULT_OUT_DIR, DEFAULT_RUNS, DEFAULT_SIZES, parseBenchOptions, type RawBenchFlags } from '../benchmark/bench-options.ts';
import { renderText } from '../benchmark/render-text.ts';
import type { BenchReport } from '../benchmark/report.ts';
import { writeDailyFile, writeReportFiles } from '../benchmark/report-files.ts';
import { runSyncLevelBenchmark } from '../benchmark/sync-level-bench.ts';
import type { CliContext, OutputFormat } from '../context.ts';
import { emit, outputFormatOption } from '../render.ts';
import { addClientOptions, type ClientFlags } from '../client-options.ts';
import { cpuRows, REFERENCE_MACHINE, renderBenchText, row, type BenchRow } from '../benchmark/client-bench.ts';
import { tlsUploadMbps } from '../benchmark/tls-upload.ts';
import { parseDailyOptions, runDailyBenchmark, type DailyReport, type RawDailyFlags } from '../benchmark/daily-bench.ts';
import { renderDaily } from '../benchmark/daily-render.ts';
import { defaultDataDir } from './serve.ts';

export async function runSyncLevelCommand(ctx: CliContext, raw: RawBenchFlags, argv: readonly string[]): Promise<BenchReport> {
  const o = parseBenchOptions(raw);
  const report = await runSyncLevelBenchmark(o, { defaultDataDir: defaultDataDir(ctx), argv, log: (l) => ctx.err(l) });
  if (o.writeFiles) for (const f of await writeReportFiles(report, o.outDir)) ctx.err(`wrote ${f}`);
  ctx.out(o.outputFormat === 'json' ? JSON.stringify(report, null, 2) : renderText(report));
  const wrong = report.measurements.filter((m) => m.syncCheck?.ok === false);
  if (wrong.length > 0) {
    throw fail('INTERNAL', `the datastore's sync counters disagree with the sync level in ${wrong.length} run(s); the report above shows which`, {
      runs: wrong.map((m) => ({ level: m.column, run: m.run, counts: m.syncCounts })),
    });
  }
  return report;
}

export interface ClientBenchFlags extends ClientFlags {
  readonly seconds: string;
  readonly outputFormat: OutputFormat;
}

/**
 * PBS's client benchmark: the CPU rows always, the TLS upload row when a repository is given
 * (`--repository` or `$HOLDFAST_REPOSITORY`); each beside PBS's reference figure.
 */
export async function runClientBenchmark(ctx: CliContext, f: ClientBenchFlags): Promise<BenchRow[]> {
  const seconds = Number(f.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0) throw fail('INVALID_ARGUMENT', `--seconds '${f.seconds}' must be a positive number`, { value: f.seconds });
  const repo = f.repository ?? ctx.env['HOLDFAST_REPOSITORY'];
  const tls = repo ? row('tls', await tlsUploadMbps(ctx, f, seconds)) : row('tls', null, 'no repository given');
  const rows = [tls, ...(await cpuRows(seconds))];
  emit(ctx, f.outputFormat, { reference: REFERENCE_MACHINE, rows }, () => renderBenchText(rows));
  return rows;
}

export async function runDailyCommand(ctx: CliContext, raw: RawDailyFlags & { outputFormat?: string; out?: string; files?: boolean }): Promise<DailyReport> {
  const report = await runDailyBenchmark(parseDailyOptions(raw), (l) => ctx.err(l));
  if (raw.files !== false) ctx.err(`wrote ${await writeDailyFile(report, raw.out ?? DEFAULT_OUT_DIR)}`);
  ctx.out(raw.outputFormat === 'json' ? JSON.stringify(report, null, 2) : renderDaily(report));
  return report;
}

export function register(program: Command, ctx: CliContext): void {
  const bench = program.command('benchmark').description('measure Holdfast on this machine: the client rows of PBS (default) or the cost of each sync level');
  addClientOptions(
    bench
      .command('client', { isDefault: true })
      .description(`PBS's client benchmark: TLS upload to the server, SHA-256, zstd, chunk verify, AES-256-GCM, beside PBS's figures for a ${REFERENCE_MACHINE}`)
      .option('--seconds <n>', 'how long each row runs', '5')
      .addOption(outputFormatOption()),
  ).action(async (f: ClientBenchFlags) => {
    await runClientBenchmark(ctx, f);
  });
  bench
    .command('sync-level')
    .description('time backups at each sync level (none, filesystem, file) with the real server and client; see docs/benchmarks.md')
    .option('--sizes <list>', `sizes of generated data, comma list like 2G,8G (default ${DEFAULT_SIZES})`)
    .option('--levels <list>', 'sync levels to measure (default none,filesystem,file)')
    .option('--runs <n>', `runs per level; the median is reported (default ${DEFAULT_RUNS})`)
    .option('--data <dir>', 'back up this directory instead of generated data')
    .option('--path <dir>', 'make the datastore under this directory (default: beside the default data dir, same filesystem)')
    .option('--out <dir>', 'write JSON, Markdown and SVG results here (default bench/results/)')
    .option('--no-files', 'do not write result files')
    .option('--memory-limit <size>', 'run the server in a memory cgroup of this size (e.g. 1G), so dirty pages must be written back during the backup')
    .option('--peers <list>', 'also time restic and/or borg on the same data when installed (restic,borg)')
    .option('--fs <list>', 'also run on loop-mounted filesystems: ext4,xfs,btrfs (root)')
    .option('--seed <n>', 'seed of the generated data (default 1)')
    .option('--no-drop-caches', 'do not drop the page cache between runs')
    .option('--backend <type>', 'local (default), or s3: an S3 datastore on the endpoint in S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY (a fresh bucket), with its raw PUT/GET throughput measured in the same run')
    .addOption(outputFormatOption())
    .action(async (flags: RawBenchFlags) => {
      await runSyncLevelCommand(ctx, flags, process.argv.slice(2));
    });
  bench
    .command('daily')
    .description('time the daily cycle: first backup, unchanged re-backup, re-backup after 1% of files changed, full restore; restic and borg beside Holdfast when installed (see docs/benchmarks.md)')
    .option('--size <size>', 'size of the generated data (default 1G; ~390 files of 4 KiB..8 MiB, half random, half text)')
    .option('--files <n>', 'generate this many small files (0..8 KiB, 1,000 a directory) instead of --size of mixed files')
    .option('--data <dir>', 'use a copy of this directory instead of generated data')
    .option('--runs <n>', 'runs; the median is reported (default 3)')
    .option('--peers <list>', 'peer tools to time when installed: restic,borg (default both; none for neither)')
    .option('--path <dir>', 'work directory for the data copy, datastore and repositories (default: $TMPDIR/holdfast-bench-daily; removed after)')
    .option('--seed <n>', 'seed of the generated data and of the change (default 1)')
    .option('--no-drop-caches', 'do not drop the page cache before first backups and restores')
    .option('--out <dir>', 'write the JSON result here (default bench/results/; the web UI shows it)')
    .option('--no-files', 'do not write the result file')
    .addOption(outputFormatOption())
    .action(async (flags: RawDailyFlags & { outputFormat?: string; out?: string; files?: boolean }) => {
      await runDailyCommand(ctx, flags);
    });
}
