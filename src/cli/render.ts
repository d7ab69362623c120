/**
 * Output renderers shared by the commands: every listing has a human table and a JSON form
 * (`--output-format json`), and long work reports progress on a TTY only.
 */
import { Option } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import type { CliContext, OutputFormat } from './context.ts';
import { OUTPUT_FORMATS } from './context.ts';

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

/** A progress bar on a TTY (cli-progress, on stderr); silent when output is not a terminal. */
export function progressLine(ctx: CliContext, label: string): { update(done: number, total: number | undefined, unit?: string): void; end(): void } {
  let bar: SingleBar | undefined;
  return {
    update(done, total, unit = '') {
      if (!ctx.isTTY) return;
      if (!bar) {
        bar = new SingleBar(
          { format: `${label} [{bar}] {percentage}% {value}/{total}${unit}`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
          Presets.shades_classic,
        );
        bar.start(total ?? done, done);
      }
      if (total !== undefined) bar.setTotal(total);
      else if (done > bar.getTotal()) bar.setTotal(done);
      bar.update(done);
    },
    end() {
      bar?.stop();
    },
  };
}
