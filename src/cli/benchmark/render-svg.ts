/**
 * A self-contained SVG bar chart of a benchmark report: one group of bars per (filesystem, size),
 * one bar per level or peer, height = median seconds, labelled with mm:ss and the ratio to `none`.
 * No fonts or scripts are referenced, so the file renders the same on GitHub and in a browser.
 */
import type { BenchReport, Column } from './report.ts';
import { formatMmss, formatRatio, formatSize } from './units.ts';

const COLORS: Record<Column, string> = { none: '#4e79a7', filesystem: '#f28e2b', file: '#e15759', restic: '#76b7b2', borg: '#59a14f' };
const BAR = 34;
const BAR_GAP = 4;
const GROUP_GAP = 36;
const LEFT = 64;
const TOP = 48;
const PLOT_HEIGHT = 240;
const BOTTOM = 56;
const LEGEND_STEP = 90;
const MIN_WIDTH = 480;

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A round axis step (1, 2 or 5 × 10^k) giving about five ticks up to `max`. */
export function niceStep(max: number): number {
  if (!(max > 0)) return 1;
  const raw = max / 5;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
}

interface Group {
  readonly label: string;
  readonly bars: readonly { column: Column; seconds: number; ratio: number | undefined }[];
}

function groupsOf(r: BenchReport): Group[] {
  return r.summary.flatMap((t) =>
    t.rows.map((row) => ({
      label: t.fs === 'default' ? row.sizeLabel : `${row.sizeLabel} · ${t.fs}`,
      bars: row.cells.map((c) => ({ column: c.column, seconds: c.medianSeconds, ratio: c.ratioToNone })),
    })),
  );
}

function subtitle(r: BenchReport): string {
  const env = r.environments['default'];
  const parts = [r.startedAt.slice(0, 10)];
  if (env?.mount) parts.push(`${env.mount.fsType} on ${env.device?.name ?? env.mount.source}`);
  if (env) parts.push(`${env.cpuCount} × ${env.cpu}`);
  if (r.cgroup) parts.push(`server memory limit ${formatSize(r.cgroup.limitBytes)}`);
  return parts.join(' · ');
}

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${escapeXml(s)}</text>`;
}

export function renderSvg(r: BenchReport): string {
  const groups = groupsOf(r);
  const columns = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.column)))];
  const groupWidth = (g: Group): number => g.bars.length * (BAR + BAR_GAP) - BAR_GAP;
  const width = Math.max(LEFT + groups.reduce((w, g) => w + groupWidth(g) + GROUP_GAP, 0) + 20, LEFT + columns.length * LEGEND_STEP + 20, MIN_WIDTH);
  const height = TOP + PLOT_HEIGHT + BOTTOM;
  const max = Math.max(1, ...groups.flatMap((g) => g.bars.map((b) => b.seconds)));
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  const y = (s: number): number => TOP + PLOT_HEIGHT - (s / top) * PLOT_HEIGHT;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    text(10, 20, `Holdfast sync-level benchmark: median of ${r.settings.runs} run(s)`, 'font-size="13" font-weight="bold"'),
    text(10, 36, subtitle(r), 'font-size="10" fill="#555555"'),
  ];
  for (let s = 0; s <= top + 1e-9; s += step) {
    parts.push(`<line x1="${LEFT}" x2="${width - 10}" y1="${y(s).toFixed(1)}" y2="${y(s).toFixed(1)}" stroke="#dddddd"/>`);
    parts.push(text(LEFT - 6, y(s) + 4, formatMmss(s), 'text-anchor="end" fill="#555555"'));
  }
  let x = LEFT + GROUP_GAP / 2;
  for (const g of groups) {
    for (const b of g.bars) {
      const h = Math.max(1, TOP + PLOT_HEIGHT - y(b.seconds));
      parts.push(`<rect x="${x}" y="${(TOP + PLOT_HEIGHT - h).toFixed(1)}" width="${BAR}" height="${h.toFixed(1)}" fill="${COLORS[b.column]}"><title>${escapeXml(`${g.label} ${b.column}: ${formatMmss(b.seconds)}`)}</title></rect>`);
      parts.push(text(x + BAR / 2, TOP + PLOT_HEIGHT - h - 4, b.ratio === undefined || b.column === 'none' ? formatMmss(b.seconds) : formatRatio(b.ratio), 'text-anchor="middle" font-size="9"'));
      x += BAR + BAR_GAP;
    }
    parts.push(text(x - BAR_GAP - groupWidth(g) / 2, TOP + PLOT_HEIGHT + 16, g.label, 'text-anchor="middle"'));
    x += GROUP_GAP - BAR_GAP;
  }
  columns.forEach((c, i) => {
    const ly = TOP + PLOT_HEIGHT + 32;
    const lx = LEFT + i * LEGEND_STEP;
    parts.push(`<rect x="${lx}" y="${ly}" width="10" height="10" fill="${COLORS[c]}"/>`, text(lx + 14, ly + 9, c));
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
