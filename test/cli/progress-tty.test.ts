/**
 * Every command that draws a progress bar exits on a terminal. The CLI runs under a
 * pseudo-terminal (`script -qec CMD /dev/null`, util-linux), so stdout and stderr are TTYs and the
 * bars are really drawn; a bar whose redraw timer is never stopped keeps the process alive, which
 * the test's timeout turns into a failure (the child is killed through the test's abort signal).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fastRandom, HOLDFAST_BIN, runCommand, startTestServer, type CliResult } from '../helpers/server-fixture.ts';

const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0;
const SKIP = HAS_SCRIPT ? false : 'needs script(1) from util-linux to run the CLI under a pseudo-terminal';

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs `holdfast ARGS…` on a pseudo-terminal; the output is what the terminal showed. */
function runOnTty(t: TestContext, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const cmd = [process.execPath, HOLDFAST_BIN, ...args].map(quote).join(' ');
  return runCommand(['script', '-qec', cmd, '/dev/null'], env, { signal: t.signal });
}

test('holdfast backup, restore, gc start and datastore create exit on a terminal after drawing progress', { skip: SKIP, timeout: 120_000 }, async (t) => {
  const server = await startTestServer();
  try {
    const src = join(server.dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'data.bin'), fastRandom(3 * 1024 * 1024, 5));
    writeFileSync(join(server.dir, 'disk.img'), fastRandom(5 * 1024 * 1024, 6));
    writeFileSync(join(server.dir, 'app.conf'), 'x=1\n');
    const env = server.env();

    const backup = await runOnTty(t, ['backup', `home.pxar:${src}`, `disk.img:${join(server.dir, 'disk.img')}`, `app.conf:${join(server.dir, 'app.conf')}`, '--backup-id', 'tty'], env);
    assert.equal(backup.code, 0, backup.stdout);
    assert.match(backup.stdout, /disk\.img\.fidx \[/, 'the bar was drawn on the terminal');
    assert.match(backup.stdout, /\/s/, 'the bar shows a throughput');
    assert.match(backup.stdout, /\nsnapshot host\/tty\/\S+ finished in /, 'the summary starts on its own line, after the bars');

    const snapshot = /\nsnapshot (host\/tty\/\S+) finished/.exec(backup.stdout)?.[1] ?? '';
    for (const [archive, target] of [['disk.img', join(server.dir, 'disk.out')], ['home.pxar', join(server.dir, 'home.out')]] as const) {
      const restore = await runOnTty(t, ['restore', snapshot, archive, target], env);
      assert.equal(restore.code, 0, restore.stdout);
      assert.match(restore.stdout, /Restoring \[.*\/s/, `the ${archive} restore drew a bar with a throughput`);
      assert.match(restore.stdout, /\nrestored /, 'the result starts on its own line, after the bar');
    }

    const gc = await runOnTty(t, ['garbage-collection', 'start', 'default'], env);
    assert.equal(gc.code, 0, gc.stdout);

    const created = await runOnTty(t, ['datastore', 'create', 'second', join(server.dir, 'data', 'second')], env);
    assert.equal(created.code, 0, created.stdout);
    assert.match(created.stdout, /created datastore 'second'/);
  } finally {
    await server.close();
  }
});
