// Removes test temp dirs that killed test runs left behind (see test/helpers/tmp.ts: every test
// dir lives under <root>/holdfast-tests and a normal exit removes its own). A run killed with
// SIGKILL cannot clean up, and tmpfs is shared by every run on the machine: leftovers once
// filled /dev/shm's inodes and failed a later run with ENOSPC. Only entries untouched for
// SWEEP_AGE_MS are removed, so a run going on at the same time keeps its dirs; mounts under an
// entry (loop images) are lazily unmounted first.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SWEEP_AGE_MS = 6 * 3600 * 1000;

function mountPoints() {
  try {
    return readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => (line.split(' ')[1] ?? '').replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))));
  } catch {
    return [];
  }
}

export function sweepTestTmp(now = Date.now()) {
  const roots = new Set(['/dev/shm', tmpdir(), process.env.HOLDFAST_TEST_TMPDIR].filter(Boolean).map((b) => join(b, 'holdfast-tests')));
  let removed = 0;
  for (const root of roots) {
    let names;
    try {
      names = readdirSync(root);
    } catch {
      continue;
    }
    const mounts = mountPoints();
    for (const name of names) {
      const dir = join(root, name);
      try {
        if (now - statSync(dir).mtimeMs < SWEEP_AGE_MS) continue;
        for (const mp of mounts.filter((m) => m.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length)) {
          execFileSync('umount', ['-l', mp], { stdio: 'ignore' });
        }
        rmSync(dir, { recursive: true, force: true });
        removed++;
      } catch (e) {
        console.error(`sweep-test-tmp: could not remove ${dir}: ${e instanceof Error ? e.message : e}`);
      }
    }
  }
  if (removed > 0) console.error(`sweep-test-tmp: removed ${removed} test dir(s) left by earlier runs`);
}

if (import.meta.url === `file://${process.argv[1]}`) sweepTestTmp();
