/**
 * Writes a benchmark report as its three files in the results directory: JSON (the whole report,
 * re-renderable), Markdown and an SVG chart. The names carry the start time, so results collect
 * side by side instead of overwriting each other. The daily-cycle benchmark writes its JSON there
 * too (`daily-<time>.json`); the server's benchmark page reads both kinds from that directory.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DailyReport } from './daily-bench.ts';
import type { BenchReport } from './report.ts';
import { renderMarkdown } from './render-markdown.ts';
import { renderSvg } from './render-svg.ts';

/** `sync-level-20261124T150305Z` from the report's start time. */
export function reportBaseName(r: Pick<BenchReport, 'startedAt'>): string {
  return `sync-level-${r.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

export async function writeReportFiles(r: BenchReport, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const base = join(outDir, reportBaseName(r));
  const files: [string, string][] = [
    [`${base}.json`, `${JSON.stringify(r, null, 2)}\n`],
    [`${base}.md`, renderMarkdown(r)],
    [`${base}.svg`, renderSvg(r)],
  ];
  for (const [path, text] of files) await writeFile(path, text);
  return files.map(([p]) => p);
}

/** Writes the daily-cycle report as `daily-<start time>.json` in `outDir`; returns the path. */
export async function writeDailyFile(r: DailyReport, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, `daily-${r.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.json`);
  await writeFile(path, `${JSON.stringify(r, null, 2)}\n`);
  return path;
}
