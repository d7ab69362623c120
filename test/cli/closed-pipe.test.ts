/**
 * `holdfast … | READER` where the reader exits before the CLI writes: the CLI must exit quietly
 * (status 141, as if killed by SIGPIPE) instead of dying with an unhandled EPIPE stack trace.
 * The read end is closed before the child starts, so its first write always meets a closed pipe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { HOLDFAST_BIN, startTestServer, type CliResult } from '../helpers/server-fixture.ts';

function runIntoClosedPipe(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const child = spawn(process.execPath, [HOLDFAST_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout: '', stderr }));
  });
}

test('holdfast snapshot list --output-format json into a closed pipe exits 141 without a stack trace', { timeout: 60_000 }, async () => {
  const server = await startTestServer();
  try {
    const r = await runIntoClosedPipe(['snapshot', 'list', '--output-format', 'json'], server.env());
    assert.equal(r.stderr, '', 'nothing on stderr');
    assert.equal(r.code, 141);
  } finally {
    await server.close();
  }
});
