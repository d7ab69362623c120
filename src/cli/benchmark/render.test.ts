import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMarkdown, markdownTable } from './render-markdown.ts';
import { escapeXml, niceStep, renderSvg } from './render-svg.ts';
import { grid, renderText } from './render-text.ts';
import { reportBaseName } from './report-files.ts';
import { REPORT_SCHEMA, summarize, type BenchReport, type Measurement } from './report.ts';

const GiB = 1024 ** 3;

/** The seed's 2 GiB / 33 GiB table as a report. */
function sampleReport(): BenchReport {
  const cells: [string, number, Measurement['column'], number][] = [
    ['2 GiB', 2 * GiB, 'none', 13],
    ['2 GiB', 2 * GiB, 'filesystem', 41],
    ['2 GiB', 2 * GiB, 'file', 60],
    ['33 GiB', 33 * GiB, 'none', 321],
    ['33 GiB', 33 * GiB, 'filesystem', 331],
    ['33 GiB', 33 * GiB, 'file', 825],
  ];
  const measurements: Measurement[] = cells.map(([sizeLabel, bytes, column, seconds]) => ({
    fs: 'default',
    sizeLabel,
    bytes,
    column,
    run: 1,
    order: 1,
    seconds,
    newChunks: 10,
    syncCounts: { fsyncFile: column === 'file' ? 12 : column === 'filesystem' ? 1 : 0, fsyncDir: 0, syncfs: column === 'filesystem' ? 1 : 0 },
    syncCheck: { ok: true, expected: 'x' },
    cacheDropped: true,
  }));
  const env = { path: '/x', mount: { mountPoint: '/', root: '/', device: '254:0', fsType: 'ext4', source: '/dev/vda', mountOptions: 'rw,relatime', superOptions: 'rw' }, device: { name: 'vda', model: 'disk <A&B>', rotational: true }, kernel: '6.1.0', cpu: 'CPU', cpuCount: 4, ramBytes: 8 * GiB, node: 'v20.0.0', loadAverage: [0.5, 0.4, 0.3], fsync: { smallWriteMs: 0.1, chunkWriteMs: 13.8 } };
  return {
    schema: REPORT_SCHEMA,
    startedAt: '2026-11-24T15:03:05.123Z',
    finishedAt: '2026-11-24T15:09:00.000Z',
    argv: [],
    settings: { sizes: ['2 GiB', '33 GiB'], levels: ['none', 'filesystem', 'file'], runs: 1, data: null, memoryLimit: null, seed: 1, dropCaches: true },
    environments: { default: env },
    clientStartupSeconds: 0.5,
    cgroup: null,
    peers: [],
    notes: ['a note'],
    measurements,
    summary: summarize(measurements, ['none', 'filesystem', 'file']),
  };
}

test('renderText prints the seed table: size rows, level columns, mm:ss with ratios to none', () => {
  const text = renderText(sampleReport());
  const lines = text.split('\n');
  const header = lines.findIndex((l) => /^size\s+none\s+filesystem\s+file$/.test(l));
  assert.ok(header >= 0, text);
  assert.match(lines[header + 1]!, /^2 GiB\s+00:13\.0\s+00:41\.0 \(3\.15×\)\s+01:00\.0 \(4\.62×\)$/);
  assert.match(lines[header + 2]!, /^33 GiB\s+05:21\.0\s+05:31\.0 \(1\.03×\)\s+13:45\.0 \(2\.57×\)$/);
  assert.match(text, /throughput\s+none/);
  assert.match(text, /fsync file 12, fsync dir 0, syncfs 0; new chunks 10; ok/);
  assert.match(text, /ext4 \(rw,relatime\) mounted at \/ from \/dev\/vda/);
  assert.match(text, /rotational=1/);
  assert.match(text, /4 KiB overwrite 0\.1 ms, new 4 MiB file 13\.8 ms/);
  assert.match(text, /note: a note/);
});

test('grid pads columns to the widest cell', () => {
  assert.equal(grid([['a', 'bb'], ['ccc', 'd']]), 'a    bb\nccc  d');
});

test('renderMarkdown prints the same table as a Markdown table', () => {
  const md = renderMarkdown(sampleReport());
  assert.match(md, /\| size \| none \| filesystem \| file \|\n\| --- \| --- \| --- \| --- \|\n\| 2 GiB \| 00:13\.0 \| 00:41\.0 \(3\.15×\) \| 01:00\.0 \(4\.62×\) \|/);
  assert.match(md, /^## Holdfast sync-level benchmark \(2026-11-24\)/);
  assert.match(md, /### Runs/);
});

test('markdownTable escapes pipes in cells', () => {
  assert.equal(markdownTable(['a'], [['x|y']]), '| a |\n| --- |\n| x\\|y |');
});

test('renderSvg draws one bar per level and size, labelled, with a legend', () => {
  const svg = renderSvg(sampleReport());
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  assert.equal((svg.match(/<rect [^>]*><title>/g) ?? []).length, 6);
  assert.match(svg, /<title>2 GiB file: 01:00\.0<\/title>/);
  assert.match(svg, />3\.15×</);
  for (const level of ['none', 'filesystem', 'file']) assert.match(svg, new RegExp(`>${level}</text>`));
  assert.doesNotMatch(svg, /NaN|undefined/);
});

test('escapeXml escapes the five XML specials', () => {
  assert.equal(escapeXml(`<a & 'b' "c">`), '&lt;a &amp; &apos;b&apos; &quot;c&quot;&gt;');
});

test('niceStep gives 1, 2 or 5 times a power of ten', () => {
  assert.equal(niceStep(825), 200);
  assert.equal(niceStep(13), 5);
  assert.equal(niceStep(50), 10);
  assert.equal(niceStep(0), 1);
});

test('reportBaseName is the compact UTC start time', () => {
  assert.equal(reportBaseName({ startedAt: '2026-11-24T15:03:05.123Z' }), 'sync-level-20261124T150305Z');
});
