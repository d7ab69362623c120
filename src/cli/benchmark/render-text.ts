/**
 * The terminal rendering of a benchmark report: the seed's table (size rows × level columns, times
 * as mm:ss) with each level's ratio to `none`, the throughput, the per-run sync counters and the
 * environment. `grid` and the describe helpers are shared with the Markdown renderer.
 */
import type { Environment } from './environment.ts';
import type { BenchReport, Cell, Measurement, SummaryTable } from './report.ts';
import { formatMBps, formatMmss, formatRatio, formatSize } from './units.ts';

/** Left-aligned columns separated by two spaces. */
export function grid(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

export function cellTime(c: Cell | undefined): string {
  if (!c) return '—';
  return c.ratioToNone === undefined || c.column === 'none' ? formatMmss(c.medianSeconds) : `${formatMmss(c.medianSeconds)} (${formatRatio(c.ratioToNone)})`;
}

export function cellThroughput(c: Cell | undefined, bytes: number): string {
  return c ? formatMBps(bytes, c.medianSeconds) : '—';
}

export function tableRows(t: SummaryTable, cell: (c: Cell | undefined, bytes: number) => string): string[][] {
  return t.rows.map((r) => [r.sizeLabel, ...t.columns.map((col) => cell(r.cells.find((c) => c.column === col), r.bytes))]);
}

export function describeEnvironment(e: Environment | undefined): string {
  if (!e) return 'unknown';
  const m = e.mount;
  const fs = m ? `${m.fsType} (${m.mountOptions}) mounted at ${m.mountPoint} from ${m.source}` : 'unknown filesystem';
  const d = e.device;
  const dev = d ? `device ${d.name}, model ${d.model}, ${d.rotational === undefined ? 'rotational unknown' : d.rotational ? 'rotational=1' : 'rotational=0'}${d.backingFile ? `, backed by ${d.backingFile}` : ''}` : 'device unknown';
  const sync = e.fsync ? `; fsync there: 4 KiB overwrite ${e.fsync.smallWriteMs} ms, new 4 MiB file ${e.fsync.chunkWriteMs} ms (median of 8)` : '';
  return `${fs}; ${dev}${sync}`;
}

export function describeMachine(e: Environment | undefined): string {
  if (!e) return 'unknown';
  return `Linux ${e.kernel}; ${e.cpuCount} × ${e.cpu}; ${formatSize(e.ramBytes)} RAM; Node ${e.node}; load average at start ${e.loadAverage.join(' ')}`;
}

export function fsTitle(fs: string): string {
  return fs === 'default' ? 'datastore path' : `loop-mounted ${fs}`;
}

export function countsText(m: Measurement): string {
  const c = m.syncCounts;
  if (!c) return '';
  const verdict = m.syncCheck ? (m.syncCheck.ok ? 'ok' : `UNEXPECTED (want ${m.syncCheck.expected})`) : '';
  return `fsync file ${c.fsyncFile}, fsync dir ${c.fsyncDir}, syncfs ${c.syncfs}; new chunks ${m.newChunks ?? '?'}; ${verdict}`;
}

export function memoryText(m: Measurement): string {
  const parts: string[] = [];
  if (m.serverPeakRss !== undefined) parts.push(`server VmHWM ${formatSize(m.serverPeakRss)}`);
  if (m.cgroupPath !== undefined) parts.push(`cgroup ${m.cgroupPath} peak ${m.cgroupPeakBytes === undefined ? '?' : formatSize(m.cgroupPeakBytes)}, limit hit ${m.cgroupLimitHits ?? '?'}×`);
  return parts.join('; ');
}

function runsSection(r: BenchReport): string {
  const rows = r.measurements.map((m) => [
    m.fs,
    m.sizeLabel,
    m.column,
    `run ${m.run}`,
    formatMmss(m.seconds),
    countsText(m),
    memoryText(m),
  ]);
  return grid([['fs', 'size', 'level', 'run', 'time', 'sync counts (from the datastore)', 'memory'], ...rows]);
}

export function renderText(r: BenchReport): string {
  const out: string[] = [`Holdfast sync-level benchmark: median of ${r.settings.runs} run(s), times mm:ss.t, ratio to none`];
  for (const t of r.summary) {
    out.push('', `[${fsTitle(t.fs)}] ${describeEnvironment(r.environments[t.fs])}`);
    out.push(grid([['size', ...t.columns], ...tableRows(t, cellTime)]));
    out.push('', grid([['throughput', ...t.columns], ...tableRows(t, cellThroughput)]));
  }
  out.push('', 'Per run:', runsSection(r));
  out.push('', `Machine: ${describeMachine(r.environments['default'])}`);
  out.push(`Client start-up (holdfast --version), included in every Holdfast time: ${r.clientStartupSeconds.toFixed(2)} s`);
  if (r.cgroup) out.push(`Memory limit: ${formatSize(r.cgroup.limitBytes)} via cgroup v${r.cgroup.version} ${r.cgroup.path} (server processes joined it; see the cgroup column)`);
  for (const p of r.peers) out.push(`Peer ${p.version}: ${p.note}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n');
}
