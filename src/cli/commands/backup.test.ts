/**
 * `holdfast backup` checks its specs before it connects: nothing is uploaded for a command that
 * cannot succeed. The repository here is a closed port, so any attempt to connect would fail
 * with another error than the one expected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../main.ts';

async function run(argv: readonly string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const env = { HOLDFAST_REPOSITORY: '127.0.0.1:1:store', HOLDFAST_PASSWORD: 'x' };
  const code = await main([...argv], { env, out: () => undefined, err: (t) => (err += t), isTTY: false });
  return { code, err };
}

test('holdfast backup refuses an archive name given twice before connecting (INVALID_ARGUMENT, exit 2)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-backup-args-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = await run(['backup', `a.pxar:${dir}`, `b.pxar:${dir}`, `a.pxar:${dir}`]);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /INVALID_ARGUMENT.*a\.pxar is given twice/);
  // distinct names pass the check and fail only at the connection
  const other = await run(['backup', `a.pxar:${dir}`, `b.pxar:${dir}`]);
  assert.notEqual(other.code, 2, other.err);
  assert.doesNotMatch(other.err, /given twice/);
});
