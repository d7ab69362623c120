/**
 * `holdfast benchmark [client]`: PBS's client benchmark rows (client-bench.ts, tls-upload.ts).
 *
 * `holdfast benchmark sync-level`: what each sync level costs on this machine, measured with the
 * real server and the real client over the real protocol (see docs/benchmarks.md). Progress goes
 * to stderr, the report to stdout (text, or `--output-format json`), and the JSON, Markdown and
 * SVG files to `--out` (default bench/results/).
 *
 * `holdfast benchmark sync`: how much of a long link (default 1 Gbit/s, 100 ms RTT) a pull sync
 * uses, beside one raw TCP stream over the same link (sync-bench.ts). `holdfast benchmark
 * link-proxy` runs the delay-and-rate proxy it uses on its own, to try anything over a long link;
 * `pull-probe` (hidden) is the benchmark's downloader, run on the target's side of the link.
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
import { LinkProxy } from '../benchmark/link-proxy.ts';
import { runPullProbe, type PullProbeResult } from '../benchmark/pull-probe.ts';
import { parseSyncBenchOptions, renderSyncBench, runSyncBenchmark, type RawSyncBenchFlags, type SyncBenchReport } from '../benchmark/sync-bench.ts';
import { formatRate, formatSize, parseMillis, parseRate, parseSize } from '../benchmark/units.ts';
import { HttpClient } from '../../remote/http-client.ts';
import { HOLDFAST_DEFAULT_AUTH_ID, repositoryFrom } from '../../remote/connect.ts';
import { repositoryHost, repositoryPort } from '../../remote/repository.ts';

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

export async function runSyncBenchCommand(ctx: CliContext, raw: RawSyncBenchFlags & { outputFormat?: string }): Promise<SyncBenchReport> {
  const report = await runSyncBenchmark(parseSyncBenchOptions(raw), (l) => ctx.err(l));
  ctx.out(raw.outputFormat === 'json' ? JSON.stringify(report, null, 2) : renderSyncBench(report));
  return report;
}

export interface LinkProxyFlags {
  readonly listen: string;
  readonly target?: string;
  readonly rtt: string;
  readonly rate?: string;
  readonly sizingRate?: string;
  readonly buffer?: string;
}

function hostPort(text: string, flag: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw fail('INVALID_ARGUMENT', `${flag} '${text}' must be HOST:PORT`, { value: text });
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/** Runs the link proxy until SIGTERM or SIGINT. */
export async function runLinkProxy(ctx: CliContext, f: LinkProxyFlags, stopped: Promise<unknown>): Promise<void> {
  if (f.target === undefined) throw fail('INVALID_ARGUMENT', '--target HOST:PORT is required', {});
  const listen = hostPort(f.listen, '--listen');
  const rate = f.rate === undefined ? undefined : parseRate(f.rate);
  const proxy = await LinkProxy.start({
    target: hostPort(f.target, '--target'),
    listenHost: listen.host,
    listenPort: listen.port,
    delayMs: parseMillis(f.rtt) / 2,
    rateBitsPerSec: rate,
    sizingRateBitsPerSec: f.sizingRate === undefined ? undefined : parseRate(f.sizingRate),
    bufferBytes: f.buffer === undefined ? undefined : parseSize(f.buffer),
  });
  ctx.out(`link proxy listening on ${proxy.host}:${proxy.port} → ${f.target}, RTT +${parseMillis(f.rtt)} ms${rate === undefined ? '' : `, ${formatRate(rate)}`}`);
  await stopped;
  await proxy.close();
}

export interface PullProbeFlags extends ClientFlags {
  readonly workerThreads: string;
  readonly rate: string;
  readonly rtt: string;
  readonly outputFormat: OutputFormat;
}

/** The sync benchmark's downloader: logs in with $HOLDFAST_PASSWORD, windows sized for --rate × --rtt. */
export async function runPullProbeCommand(ctx: CliContext, f: PullProbeFlags): Promise<PullProbeResult> {
  const repo = repositoryFrom(f.repository, ctx.env);
  const password = ctx.env['HOLDFAST_PASSWORD'];
  if (password === undefined) throw fail('UNAUTHENTICATED', 'set HOLDFAST_PASSWORD', {});
  const link = { rateBitsPerSec: parseRate(f.rate), rttMs: parseMillis(f.rtt) };
  const fingerprint = f.fingerprint ?? ctx.env['HOLDFAST_FINGERPRINT'];
  const client = new HttpClient({ host: repositoryHost(repo), port: repositoryPort(repo), link, ...(fingerprint === undefined ? {} : { fingerprint }) });
  await client.login(repo.authId ?? HOLDFAST_DEFAULT_AUTH_ID, password);
  const r = await runPullProbe(client, repo.store, Number(f.workerThreads), link);
  emit(ctx, f.outputFormat, r, () => `${r.snapshots} snapshot(s), ${r.chunks} chunk(s), ${formatSize(r.bytes)} in ${r.seconds.toFixed(2)} s`);
  return r;
}

function untilSignal(): Promise<unknown> {
  return new Promise((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
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
    .option('--small-files <n>', 'generate this many small files (0..8 KiB, 1,000 a directory) instead of --size of mixed files')
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
  bench
    .command('sync')
    .description('how much of a long link a pull sync uses: two servers (network namespaces when root, else loopback), a link of --rate and --rtt (tbf + the link proxy), beside one raw TCP stream; see docs/benchmarks.md')
    .option('--rate <rate>', 'link rate, e.g. 1G, 500Mbit (default 1G)')
    .option('--rtt <ms>', 'round-trip time the link proxy adds, e.g. 100ms (default 100ms)')
    .option('--size <size>', 'unique data backed up to the source and pulled (default 1G)')
    .option('--groups <n>', 'backup groups the data is split into (default 4)')
    .option('--worker-threads <n>', 'groups pulled at once; a run with 1 is always added (default 4)')
    .option('--path <dir>', 'work directory for the data and datastores (default $TMPDIR/holdfast-bench-sync; removed after)')
    .option('--no-netns', 'both servers on loopback even when network namespaces are available')
    .option('--seed <n>', 'seed of the generated data (default 1)')
    .addOption(outputFormatOption())
    .action(async (flags: RawSyncBenchFlags & { outputFormat?: string }) => {
      await runSyncBenchCommand(ctx, flags);
    });
  bench
    .command('link-proxy')
    .description('a TCP proxy that makes a path look like a long link: adds half of --rtt each way and, with --rate, shapes the rate; runs until SIGTERM or Ctrl-C')
    .option('--listen <host:port>', 'where to listen', '127.0.0.1:0')
    .option('--target <host:port>', 'where to forward each connection')
    .option('--rtt <ms>', 'round-trip time to add, e.g. 100ms', '100ms')
    .option('--rate <rate>', 'shape each direction to this rate, e.g. 1G (default: no shaping)')
    .option('--sizing-rate <rate>', 'without --rate: the rate the buffer is sized for, e.g. when tbf shapes (default 10G)')
    .option('--buffer <size>', 'bytes held per connection and direction before the sender is paused (default 1.5 × rate × RTT/2 + 1 MiB)')
    .action(async (flags: LinkProxyFlags) => {
      await runLinkProxy(ctx, flags, untilSignal());
    });
  addClientOptions(
    bench
      .command('pull-probe', { hidden: true })
      .description("the sync benchmark's downloader: every chunk of every snapshot of the repository's datastore through the reader protocol, nothing stored")
      .option('--worker-threads <n>', 'snapshots downloaded at once', '4')
      .option('--rate <rate>', 'link rate the windows and read-ahead are sized for', '1G')
      .option('--rtt <ms>', 'link RTT the windows and read-ahead are sized for', '100ms')
      .addOption(outputFormatOption()),
  ).action(async (flags: PullProbeFlags) => {
    await runPullProbeCommand(ctx, flags);
  });
}
