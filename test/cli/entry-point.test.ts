/**
 * bin/holdfast.js runs dist/ only while the build is at least as new as every source file, and the
 * compiled tree starts its worker threads from compiled modules (no tsx in them). `holdfast serve`
 * re-executes itself with V8 heap sizing for a server, keeping its pid and stdio.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { builtIsFresh } from '../../bin/build-freshness.mjs';
import { cleanEnv, HOLDFAST_BIN, spawnServe } from '../helpers/server-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ADDON = join(REPO, 'native', 'build', 'Release', 'holdfast_buzhash.node');
const T = (s: number): Date => new Date(1_700_000_000_000 + s * 1000);

function tree(): string {
  const root = makeTempDir('holdfast-entry-');
  mkdirSync(join(root, 'src', 'core'), { recursive: true });
  writeFileSync(join(root, 'src', 'core', 'a.ts'), 'export {};\n');
  for (const p of ['src/core/a.ts', 'src/core', 'src']) utimesSync(join(root, p), T(0), T(0));
  return root;
}

function stamp(root: string, at: Date): void {
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, 'dist', '.build-stamp'), 'x\n');
  utimesSync(join(root, 'dist', '.build-stamp'), at, at);
}

test('the build is used only when its stamp is as new as every source file and directory', () => {
  const root = tree();
  try {
    assert.equal(builtIsFresh(root), false, 'no build at all');
    stamp(root, T(10));
    assert.equal(builtIsFresh(root), true);
    utimesSync(join(root, 'src', 'core', 'a.ts'), T(11), T(11));
    assert.equal(builtIsFresh(root), false, 'an edited file');
    stamp(root, T(20));
    utimesSync(join(root, 'src', 'core'), T(21), T(21));
    assert.equal(builtIsFresh(root), false, 'a file created, deleted or renamed in a directory');
    stamp(root, T(30));
    utimesSync(join(root, 'src'), T(31), T(31));
    assert.equal(builtIsFresh(root), false, 'a change at the top of src/');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the compiled tree checks a chunk on a worker started from compiled modules', (t) => {
  if (!builtIsFresh(REPO)) {
    t.skip('dist/ is not built or older than src/: run `npm run build` (npm ci and npm test do)');
    return;
  }
  const script = `
    const dist = ${JSON.stringify(new URL('../../dist/', import.meta.url).href)};
    const { pooledChunkChecker } = await import(dist + 'chunks/chunk-check.js');
    const { workerModule } = await import(dist + 'core/worker-pool.js');
    const { encodeBlob } = await import(dist + 'format/blob.js');
    const { sha256, toHex } = await import(dist + 'core/digest.js');
    const data = new Uint8Array(100000).fill(7);
    const blob = encodeBlob(data, { compress: true });
    const bytes = new Uint8Array(new SharedArrayBuffer(blob.length));
    bytes.set(blob);
    const checker = pooledChunkChecker(1);
    await checker.check({ digestHex: toHex(sha256(data)), size: data.length, encodedSize: blob.length, bytes });
    await checker.close();
    console.log(workerModule(new URL('file:///x/w.ts')).pathname, 'checked');
  `;
  // A file, not --eval: worker threads inherit the parent's node flags, and --input-type is not one for them.
  const dir = makeTempDir('holdfast-entry-');
  try {
    writeFileSync(join(dir, 'check.mjs'), script);
    const r = spawnSync(process.execPath, [join(dir, 'check.mjs')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '/x/w.js checked');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The command line the kernel holds for `pid` (after any exec). */
const cmdline = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

test('`holdfast serve` replaces itself (same pid) with V8 heap sizing for a server, and stops on SIGTERM', { skip: existsSync(ADDON) ? false : 'the native addon is not built' }, async () => {
  const dir = makeTempDir('holdfast-serve-heap-');
  const env = cleanEnv({ HOLDFAST_CONFIG_DIR: join(dir, 'config'), HOLDFAST_DATA_DIR: join(dir, 'data') });
  const s = await spawnServe(['--listen', '127.0.0.1:0', '--no-default-datastore'], env);
  try {
    assert.ok(cmdline(s.child.pid!).includes('--initial-old-space-size=64'), cmdline(s.child.pid!).join(' '));
    assert.match(s.fingerprint, /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/, 'the exec’d server printed its fingerprint on the same stdout');
  } finally {
    assert.equal(await s.stop(), 0, 'a clean stop of the pid that was started');
  }
  const plain = await spawnServe(['--listen', '127.0.0.1:0', '--no-default-datastore'], { ...env, HOLDFAST_SERVE_HEAP: 'default' });
  try {
    assert.ok(!cmdline(plain.child.pid!).some((a) => a.startsWith('--initial-old-space-size')), 'HOLDFAST_SERVE_HEAP=default keeps V8’s default');
  } finally {
    await plain.stop();
  }
});

test('other commands are not restarted, and `serve --help` still prints its help through the exec', () => {
  const r = spawnSync(process.execPath, [HOLDFAST_BIN, 'serve', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage: holdfast serve/);
});
