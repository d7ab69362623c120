import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '../../src/core/error-codes.ts';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const rows = new Map<string, { http: number; exit: number }>();
for (const m of doc.matchAll(/^\| `([A-Z_]+)` \| (\d+) \| (\d+) \|/gm)) rows.set(m[1]!, { http: Number(m[2]), exit: Number(m[3]) });

test('docs/errors.md lists every registry code with its HTTP status and exit code', () => {
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    assert.deepEqual(rows.get(code), { http: info.http, exit: info.exit }, `docs/errors.md row for ${code}`);
  }
});

test('docs/errors.md lists no code that the registry lacks', () => {
  for (const code of rows.keys()) assert.ok(Object.hasOwn(ERROR_CODES, code), `${code} is documented but not in the registry`);
});
