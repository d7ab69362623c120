import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderProfileSummary, shortUrl, summarizeProfiles, type CpuProfile } from '../../bench/cpu-profile.ts';

const frame = (functionName: string, url = '', lineNumber = 0): { functionName: string; url: string; lineNumber: number } => ({ functionName, url, lineNumber });

function profile(samples: number[]): CpuProfile {
  return {
    nodes: [
      { id: 1, callFrame: frame('(root)') },
      { id: 2, callFrame: frame('(idle)') },
      { id: 3, callFrame: frame('update', 'node:internal/crypto/hash', 131) },
      { id: 4, callFrame: frame('encodeBlob', 'file:///work/main/src/format/blob.ts', 0) },
      { id: 5, callFrame: frame('', 'file:///work/main/src/format/blob.ts', 9) },
    ],
    samples,
    startTime: 0,
    endTime: 2_000_000,
  };
}

test('shortUrl keeps the path from src/, bench/ or node_modules/ and node: names', () => {
  assert.equal(shortUrl('file:///work/main/src/format/blob.ts'), 'src/format/blob.ts');
  assert.equal(shortUrl('file:///x/node_modules/tsx/dist/a.mjs'), 'node_modules/tsx/dist/a.mjs');
  assert.equal(shortUrl('node:zlib'), 'node:zlib');
  assert.equal(shortUrl(''), '');
});

test('summarizeProfiles shares self samples per function and per file, idle excluded from busy', () => {
  const s = summarizeProfiles([profile([2, 2, 3, 3, 3, 4, 5, 2]), profile([3, 2])]);
  assert.equal(s.samples, 10);
  assert.equal(s.seconds, 4);
  assert.equal(s.busy, 0.6);
  assert.deepEqual(s.functions[0], { name: 'update node:internal/crypto/hash:132', samples: 4, share: 0.4, busyShare: 4 / 6 });
  assert.ok(s.functions.some((h) => h.name === '(anonymous) src/format/blob.ts:10'));
  assert.deepEqual(s.files.map((f) => [f.name, f.samples]), [['node:internal/crypto/hash', 4], ['src/format/blob.ts', 2]]);
});

test('renderProfileSummary prints busy seconds and percentages', () => {
  const text = renderProfileSummary('client main thread', summarizeProfiles([profile([3, 2])]));
  assert.match(text, /^client main thread: 2\.0 thread-seconds profiled, busy 1\.0 s \(50\.0%\)/);
  assert.match(text, /50\.0% +100\.0% +update node:internal\/crypto\/hash:132/);
});
