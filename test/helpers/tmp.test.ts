/**
 * The test temp dirs clean up after themselves (test/helpers/tmp.ts): a process that made dirs,
 * even one with a loop mount left inside, leaves nothing behind when it exits, and the sweep in
 * scripts/run-tests.mjs removes old leftovers of killed runs but not a live run's dirs. Leaked
 * datastores once filled /dev/shm's inodes and failed CI with ENOSPC.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, testTmpRoot } from './tmp.ts';
import { mountLoopFs } from './loop-fs.ts';

const TMP_MODULE = new URL('./tmp.ts', import.meta.url).href;
const LOOP_MODULE = new URL('./loop-fs.ts', import.meta.url).href;

function child(script: string, env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('dirs made by makeTempDir are under <root>/holdfast-tests and gone once the process exits', () => {
  const out = child(`
    import { makeTempDir } from ${JSON.stringify(TMP_MODULE)};
    import { mkdirSync, writeFileSync } from 'node:fs';
    const a = makeTempDir('tmp-test-a-'); const b = makeTempDir('tmp-test-b-');
    mkdirSync(a + '/x/y', { recursive: true }); writeFileSync(b + '/f', 'data');
    console.log(JSON.stringify([a, b]));
  `);
  const dirs = JSON.parse(out) as string[];
  for (const d of dirs) {
    assert.ok(d.startsWith(`${testTmpRoot()}/`), d);
    assert.equal(existsSync(d), false, `${d} should be removed at exit`);
  }
});

test('HOLDFAST_KEEP_TEST_TMP=1 keeps them for a post-mortem', () => {
  const dir = child(`
    import { makeTempDir } from ${JSON.stringify(TMP_MODULE)};
    console.log(makeTempDir('tmp-test-keep-'));
  `, { HOLDFAST_KEEP_TEST_TMP: '1' });
  assert.equal(existsSync(dir), true);
  child(`import { rmSync } from 'node:fs'; rmSync(${JSON.stringify(dir)}, { recursive: true });`);
});

test('a loop mount a failed test left inside is unmounted and its image removed at exit', (t) => {
  const probe = mountLoopFs('ext4', 64, 1000);
  if (typeof probe === 'string') return t.skip(probe);
  probe.cleanup();
  const out = child(`
    import { mountLoopFs } from ${JSON.stringify(LOOP_MODULE)};
    const fs = mountLoopFs('ext4', 64, 1000);
    if (typeof fs === 'string') throw new Error(fs);
    console.log(fs.mountPoint); // no cleanup(): as if the test had thrown first
  `);
  assert.equal(existsSync(out), false);
  const mounts = spawnSync('cat', ['/proc/self/mounts'], { encoding: 'utf8' }).stdout;
  assert.ok(!mounts.includes(out), `${out} still mounted`);
});

test('the sweep removes old leftovers of killed runs and keeps recent dirs', async () => {
  const old = makeTempDir('tmp-test-old-');
  const fresh = makeTempDir('tmp-test-fresh-');
  mkdirSync(join(old, 'sub'));
  writeFileSync(join(old, 'sub', 'f'), 'x');
  const day = new Date(Date.now() - 24 * 3600 * 1000);
  utimesSync(old, day, day);
  const { sweepTestTmp } = (await import(new URL('../../scripts/sweep-test-tmp.mjs', import.meta.url).href)) as { sweepTestTmp: () => void };
  sweepTestTmp();
  assert.equal(existsSync(old), false);
  assert.equal(existsSync(fresh), true);
  assert.ok(readdirSync(testTmpRoot()).includes(fresh.split('/').pop()!));
});
