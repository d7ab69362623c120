import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSyncCounts, runOrder, summarize, type Measurement } from './report.ts';

function m(column: Measurement['column'], run: number, seconds: number, extra: Partial<Measurement> = {}): Measurement {
  return { fs: 'default', sizeLabel: '2 GiB', bytes: 2 * 1024 ** 3, column, run, order: 1, seconds, cacheDropped: true, ...extra };
}

test('checkSyncCounts: none wants no sync call at all', () => {
  assert.equal(checkSyncCounts('none', { fsyncFile: 0, fsyncDir: 0, syncfs: 0 }, 100).ok, true);
  assert.equal(checkSyncCounts('none', { fsyncFile: 1, fsyncDir: 0, syncfs: 0 }, 100).ok, false);
  assert.equal(checkSyncCounts('none', { fsyncFile: 0, fsyncDir: 0, syncfs: 1 }, 100).ok, false);
});

test('checkSyncCounts: filesystem wants a syncfs and no per-chunk fsyncs', () => {
  assert.equal(checkSyncCounts('filesystem', { fsyncFile: 1, fsyncDir: 1, syncfs: 1 }, 100).ok, true);
  assert.equal(checkSyncCounts('filesystem', { fsyncFile: 1, fsyncDir: 1, syncfs: 0 }, 100).ok, false);
  assert.equal(checkSyncCounts('filesystem', { fsyncFile: 100, fsyncDir: 1, syncfs: 1 }, 100).ok, false);
});

test('checkSyncCounts: file wants at least one fsync per new chunk', () => {
  assert.equal(checkSyncCounts('file', { fsyncFile: 73, fsyncDir: 76, syncfs: 0 }, 70).ok, true);
  assert.equal(checkSyncCounts('file', { fsyncFile: 69, fsyncDir: 76, syncfs: 0 }, 70).ok, false);
  assert.match(checkSyncCounts('file', { fsyncFile: 0, fsyncDir: 0, syncfs: 0 }, 70).expected, /70/);
});

test('summarize takes the median per cell and the ratio to none of the same size', () => {
  const ms = [m('none', 1, 13), m('none', 2, 15), m('none', 3, 14), m('file', 1, 60), m('file', 2, 56), m('file', 3, 100), m('restic', 1, 28)];
  const [t] = summarize(ms, ['none', 'filesystem', 'file', 'restic']);
  assert.ok(t);
  assert.deepEqual(t.columns, ['none', 'file', 'restic']);
  const [row] = t.rows;
  assert.ok(row);
  const none = row.cells.find((c) => c.column === 'none')!;
  const file = row.cells.find((c) => c.column === 'file')!;
  assert.equal(none.medianSeconds, 14);
  assert.equal(none.ratioToNone, 1);
  assert.equal(file.medianSeconds, 60);
  assert.equal(file.minSeconds, 56);
  assert.equal(file.maxSeconds, 100);
  assert.equal(file.runs, 3);
  assert.equal(file.ratioToNone, 60 / 14);
  assert.equal(row.cells.find((c) => c.column === 'restic')!.ratioToNone, 2);
  assert.equal(none.mbPerSecond, (2 * 1024 ** 3) / 14 / 1e6);
});

test('summarize makes one table per filesystem and rows per size; no none means no ratio', () => {
  const ms = [m('file', 1, 10), m('file', 1, 20, { fs: 'xfs' }), m('file', 1, 30, { sizeLabel: '8 GiB', bytes: 8 * 1024 ** 3 })];
  const tables = summarize(ms, ['none', 'file']);
  assert.deepEqual(tables.map((t) => t.fs), ['default', 'xfs']);
  assert.deepEqual(tables[0]!.rows.map((r) => r.sizeLabel), ['2 GiB', '8 GiB']);
  assert.equal(tables[0]!.rows[0]!.cells[0]!.ratioToNone, undefined);
});

test('summarize reports whether every run passed its sync check', () => {
  const ok = { ok: true, expected: '' };
  const bad = { ok: false, expected: '' };
  const [t] = summarize([m('file', 1, 1, { syncCheck: ok }), m('file', 2, 1, { syncCheck: bad }), m('none', 1, 1)], ['none', 'file']);
  assert.equal(t!.rows[0]!.cells.find((c) => c.column === 'file')!.syncOk, false);
  assert.equal(t!.rows[0]!.cells.find((c) => c.column === 'none')!.syncOk, undefined);
});

test('runOrder rotates the columns by the run index', () => {
  assert.deepEqual(runOrder(['none', 'filesystem', 'file'], 0), ['none', 'filesystem', 'file']);
  assert.deepEqual(runOrder(['none', 'filesystem', 'file'], 1), ['filesystem', 'file', 'none']);
  assert.deepEqual(runOrder(['none', 'filesystem', 'file'], 3), ['none', 'filesystem', 'file']);
  assert.deepEqual(runOrder([], 2), []);
});
