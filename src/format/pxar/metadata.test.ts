import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceFromDevT, deviceToDevT, fileTypeOfMode, timeFromNs, timeToNs } from './metadata.ts';
import { joinPath, nameProblem, pathComponents, pathText, relativePathProblem } from './names.ts';

const NS = 1_000_000_000n;

test('timeFromNs stores floor seconds and nanos in 0..1e9 (VECTORS.md §2.2)', () => {
  const cases: [bigint, bigint, number][] = [
    [1430487000n * NS + 1_000_000n, 1430487000n, 1_000_000],
    [-305112600n * NS - 1_000_000n, -305112601n, 999_000_000],
    [-305112600n * NS, -305112600n, 0],
  ];
  for (const [ns, secs, nanos] of cases) {
    assert.deepEqual(timeFromNs(ns), { secs, nanos });
    assert.equal(timeToNs({ secs, nanos }), ns);
  }
});

test('deviceFromDevT splits dev_t like glibc and deviceToDevT inverts it (VECTORS.md §2.3)', () => {
  const dev = 0xabcd1dcba5623478n;
  assert.deepEqual(deviceFromDevT(dev), { major: 0xabcd1234n, minor: 0xdcba5678n });
  assert.equal(deviceToDevT({ major: 0xabcd1234n, minor: 0xdcba5678n }), dev);
  assert.deepEqual(deviceFromDevT(0x0103n), { major: 1n, minor: 3n });
});

test('fileTypeOfMode names the seven Linux file types and nothing else', () => {
  assert.equal(fileTypeOfMode(0o40755), 'directory');
  assert.equal(fileTypeOfMode(0o100644), 'file');
  assert.equal(fileTypeOfMode(0o120777), 'symlink');
  assert.equal(fileTypeOfMode(0o10644), 'fifo');
  assert.equal(fileTypeOfMode(0o644), undefined);
  assert.equal(fileTypeOfMode(0o170644), undefined);
});

test('nameProblem refuses empty, ".", "..", "/" and NUL and accepts UTF-8 and dotted names', () => {
  const b = (s: string): Uint8Array => new TextEncoder().encode(s);
  for (const bad of ['', '.', '..', 'a/b', '/', 'a\0b']) assert.notEqual(nameProblem(b(bad)), undefined, JSON.stringify(bad));
  for (const good of ['a', '...', '.hidden', '..x', 'with space', 'ünï☃', 'x'.repeat(4096)]) assert.equal(nameProblem(b(good)), undefined, good);
  assert.notEqual(nameProblem(b('x'.repeat(4097))), undefined);
});

test('relativePathProblem refuses traversal components; pathComponents and joinPath split and join', () => {
  const b = (s: string): Uint8Array => new TextEncoder().encode(s);
  for (const bad of ['', '/', 'a/../b', '../a', 'a//b', 'a/.', 'a/']) assert.notEqual(relativePathProblem(b(bad)), undefined, bad);
  for (const good of ['a', 'a/b/c', '/usr/bin/bzip2']) assert.equal(relativePathProblem(b(good)), undefined, good);
  assert.deepEqual(pathComponents(b('/usr/bin/bzip2')).map(pathText), ['usr', 'bin', 'bzip2']);
  assert.equal(pathText(joinPath(joinPath(new Uint8Array(0), b('a')), b('b'))), 'a/b');
  assert.equal(pathText(Uint8Array.of(0x61, 0xff)), 'a\ufffd');
});
