/**
 * Output renderers shared by the commands: every listing has a human table and a JSON form
 * (`--output-format json`), and long work reports progress on a TTY only.
 */
import { Option } from 'commander';
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

/** A progress line that rewrites itself on a TTY and stays silent otherwise. */
export function progressLine(ctx: CliContext, label: string): { update(done: number, total: number | undefined, unit?: string): void; end(): void } {
  let last = '';
  return {
    update(done, total, unit = '') {
      if (!ctx.isTTY) return;
      const pct = total ? ` ${Math.floor((done * 100) / total)}%` : '';
      const text = `${label}:${pct} ${done}${total ? `/${total}` : ''}${unit}`;
      if (text !== last) process.stderr.write(`\r${text}`);
      last = text;
    },
    end() {
      if (ctx.isTTY && last) process.stderr.write('\n');
    },
  };
}
