/**
 * Output renderers shared by the commands: every listing has a human table and a JSON form
 * (`--output-format json`), and long work reports progress on a TTY only.
 */
import { Option } from 'commander';
import type { SingleBar } from 'cli-progress';
import { createRequire } from 'node:module';
import type { CliContext, OutputFormat } from './context.ts';
import { OUTPUT_FORMATS } from './context.ts';
import { formatSize } from './benchmark/units.ts';

export function outputFormatOption(): Option {
  return new Option('--output-format <format>', 'output format').choices([...OUTPUT_FORMATS]).default('text');
}

export function renderTable(rows: readonly Readonly<Record<string, unknown>>[], columns: readonly string[]): string {
  const cell = (v: unknown): string => {
    if (v === undefined || v === null) return '';
    return typeof v === 'string' ? v : JSON.stringify(v);
  };
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line([...columns]), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}

export function emit(ctx: CliContext, format: OutputFormat, value: unknown, text: () => string): void {
  ctx.out(format === 'json' ? JSON.stringify(value, null, 2) : text());
}

/** Seconds as `1m05s`, `2h03m`, `7s`: the ETA and duration in text output. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The text after a progress bar: amount done of total, throughput since the start and the time
 * left at that pace. Pure, so its tests need no clock.
 */
export function progressStatus(done: number, total: number | undefined, elapsedSeconds: number, unit: ProgressUnit): string {
  const amount = (n: number): string => (unit === 'bytes' ? formatSize(n) : String(n));
  const parts = [total === undefined ? amount(done) : `${amount(done)}/${amount(total)}`];
  if (unit === 'bytes' && elapsedSeconds > 0) {
    const rate = done / elapsedSeconds;
    parts.push(`${formatSize(Math.round(rate))}/s`);
    if (total !== undefined && rate > 0) parts.push(`ETA ${formatDuration((total - done) / rate)}`);
  }
  return parts.join(', ');
}

export type ProgressUnit = 'bytes' | 'items';

export interface ProgressLine {
  update(done: number, total: number | undefined): void;
  /** Stops the bar and its redraw timer; a bar left running keeps the process alive. Idempotent. */
  end(): void;
}

/**
 * cli-progress, loaded on the first bar drawn: it costs 35–40 ms to load, and most runs (scripts,
 * cron, anything not on a terminal) never draw one.
 */
function loadCliProgress(): typeof import('cli-progress') {
  return createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
}

/**
 * A progress bar on a TTY (cli-progress, on stderr) with throughput and ETA; silent when output
 * is not a terminal. Every caller must `end()` it, on failure too (`finally`).
 */
export function progressLine(ctx: CliContext, label: string, unit: ProgressUnit = 'items', now: () => number = Date.now): ProgressLine {
  let bar: SingleBar | undefined;
  const started = now();
  return {
    update(done, total) {
      if (!ctx.isTTY) return;
      const status = progressStatus(done, total, (now() - started) / 1000, unit);
      if (!bar) {
        const { Presets, SingleBar: Bar } = loadCliProgress();
        bar = new Bar({ format: `${label} [{bar}] {percentage}% {status}`, stream: process.stderr, hideCursor: true, clearOnComplete: false }, Presets.shades_classic);
        bar.start(total ?? done, done, { status });
      }
      if (total !== undefined) bar.setTotal(total);
      else if (done > bar.getTotal()) bar.setTotal(done);
      bar.update(done, { status });
    },
    end() {
      bar?.stop();
      bar = undefined;
    },
  };
}
