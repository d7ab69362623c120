/**
 * The Markdown rendering of a benchmark report, ready to paste into docs/benchmarks.md or an issue:
 * the same tables as the terminal output, the environment as a list, the per-run counters.
 */
import type { BenchReport } from './report.ts';
import { cellThroughput, cellTime, countsText, describeEnvironment, describeMachine, fsTitle, memoryText, tableRows } from './render-text.ts';
import { formatMmss, formatSize } from './units.ts';

/** `|`-escaped Markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const line = (cells: readonly string[]): string => `| ${cells.map(esc).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function renderMarkdown(r: BenchReport): string {
  const out: string[] = [`## Holdfast sync-level benchmark (${r.startedAt.slice(0, 10)})`, ''];
  out.push(`Median of ${r.settings.runs} run(s); times in mm:ss.t from the start of \`holdfast backup\` to its acknowledged finish; ratio to \`none\` in brackets.`);
  if (r.settings.data) out.push(`Data: the directory \`${r.settings.data}\`.`);
  else out.push(`Data: generated, 50% incompressible + 50% text-like, seed ${r.settings.seed}.`);
  if (r.cgroup) out.push(`Server memory limited to ${formatSize(r.cgroup.limitBytes)} (cgroup v${r.cgroup.version}).`);
  for (const t of r.summary) {
    out.push('', `### ${fsTitle(t.fs)}`, '', describeEnvironment(r.environments[t.fs]), '');
    out.push(markdownTable(['size', ...t.columns], tableRows(t, cellTime)));
    out.push('', markdownTable(['throughput', ...t.columns], tableRows(t, cellThroughput)));
  }
  out.push('', '### Runs', '');
  out.push(
    markdownTable(
      ['fs', 'size', 'level', 'run', 'time', 'sync counts', 'memory'],
      r.measurements.map((m) => [m.fs, m.sizeLabel, m.column, String(m.run), formatMmss(m.seconds), countsText(m), memoryText(m)]),
    ),
  );
  out.push('', '### Environment', '');
  out.push(`- machine: ${describeMachine(r.environments['default'])}`);
  out.push(`- client start-up included in each Holdfast time: ${r.clientStartupSeconds.toFixed(2)} s`);
  for (const p of r.peers) out.push(`- ${p.version}: ${p.note}`);
  for (const n of r.notes) out.push(`- note: ${n}`);
  return `${out.join('\n')}\n`;
}
