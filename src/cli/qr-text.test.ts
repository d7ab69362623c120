import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qrMatrix, qrText } from './qr-text.ts';

const HALF: Record<string, [boolean, boolean]> = { '█': [true, true], '▀': [true, false], '▄': [false, true], ' ': [false, false] };

test('qrText draws exactly the modules of qrMatrix, two rows per line, with a light quiet zone', () => {
  const data = JSON.stringify({ kdf: null, created: '2026-12-03T12:00:00Z', data: 'x'.repeat(300) });
  const m = qrMatrix(data);
  const lines = qrText(data).split('\n');
  assert.equal(lines.length, Math.ceil(m.length / 2));
  for (const [i, line] of lines.entries()) {
    const chars = [...line];
    assert.equal(chars.length, m.length);
    for (const [c, ch] of chars.entries()) {
      const [top, bottom] = HALF[ch]!;
      assert.equal(top, m[2 * i]![c]);
      assert.equal(bottom, m[2 * i + 1]?.[c] ?? false);
    }
  }
  assert.ok(m[0]!.every((d) => !d) && m.every((row) => !row[0]), 'the quiet zone is light');
  // the three finder patterns: a 7×7 dark ring at each corner but the bottom right
  assert.ok(m[4]![4] && m[4]![10] && m[10]![4] && !m[5]![5]);
});
