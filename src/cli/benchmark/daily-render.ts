/**
 * Renders a daily-cycle report as a Markdown table (also the text output): one row per tool,
 * one column per step with the median time and, for Holdfast, its ratio to each peer; then the
 * client's peak RSS per step and the notes (skipped peers, caches that could not be dropped).
 */
import { DAILY_STEPS, type DailyCell, type DailyReport, type DailyStep } from './daily-bench.ts';
import { markdownTable } from './render-markdown.ts';
import { formatSize } from './units.ts';

const STEP_TITLES: Record<DailyStep, string> = {
  first: 'first backup',
  unchanged: 'unchanged re-backup',
  changed: 're-backup, 1% of files changed',
  restore: 'full restore',
};

function cellOf(r: DailyReport, tool: string, step: DailyStep): DailyCell | undefined {
  return r.cells.find((c) => c.tool === tool && c.step === step);
}

function timeText(r: DailyReport, tool: string, step: DailyStep): string {
  const c = cellOf(r, tool, step);
  if (c === undefined) return '—';
  const ratios = tool === 'holdfast'
    ? r.tools.filter((t) => t.name !== 'holdfast').flatMap((t) => {
      const peer = cellOf(r, t.name, step);
      return peer === undefined || peer.median === 0 ? [] : [`${(c.median / peer.median).toFixed(2)}× ${t.name}`];
    })
    : [];
  return `${c.median.toFixed(2)} s${ratios.length > 0 ? ` (${ratios.join(', ')})` : ''}`;
}

export function renderDaily(r: DailyReport): string {
  const header = ['tool', ...DAILY_STEPS.map((s) => STEP_TITLES[s])];
  const times = r.tools.map((t) => [`${t.name} ${t.version}`, ...DAILY_STEPS.map((s) => timeText(r, t.name, s))]);
  const rss = r.tools.map((t) => [`${t.name}`, ...DAILY_STEPS.map((s) => {
    const p = cellOf(r, t.name, s)?.peakRss;
    return p === undefined ? '—' : formatSize(p);
  })]);
  return [
    `Daily cycle on ${formatSize(r.bytes)} (${r.data}), median of ${r.runs} run${r.runs === 1 ? '' : 's'}, ${r.startedAt}`,
    '',
    markdownTable(header, times),
    '',
    'Client peak RSS:',
    '',
    markdownTable(header, rss),
    ...(r.notes.length > 0 ? ['', ...r.notes.map((n) => `- ${n}`)] : []),
  ].join('\n');
}
