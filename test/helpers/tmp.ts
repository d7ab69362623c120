/**
 * Temp dirs for tests. They live on tmpfs (/dev/shm) when the machine has it: a datastore's
 * 65536 prefix dirs take well under a second there, against tens of seconds on a busy ext4 disk.
 * Tests that need a disk filesystem's crash behaviour use a loop-mounted image instead
 * (test/helpers/loop-fs.ts). Set HOLDFAST_TEST_TMPDIR to choose another place.
 *
 * Invariants:
 * - Every dir lives under one parent, `<root>/holdfast-tests`, so a sweep (.ci/run) can find what
 *   a killed run left behind without guessing prefixes.
 * - Every dir made by makeTempDir is removed when the test process exits, whatever the test's own
 *   after-hooks did; mounts left inside it are lazily unmounted first. A datastore costs 65536
 *   inodes, and tmpfs is shared by every run on the machine: one leaked datastore per run filled
 *   /dev/shm's inodes after a few dozen runs and a later run failed with ENOSPC.
 *   HOLDFAST_KEEP_TEST_TMP=1 keeps them for a post-mortem.
 * - tmpfs is only used while it has room (inodes and bytes); otherwise the OS temp dir is used.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What one test file may need on tmpfs at once: a few datastores and a loop image or two. */
const MIN_FREE_INODES = 600_000;
const MIN_FREE_BYTES = 3 * 1024 ** 3;

function tmpfsHasRoom(path: string): boolean {
  try {
    const s = statfsSync(path);
    return s.ffree >= MIN_FREE_INODES && s.bavail * s.bsize >= MIN_FREE_BYTES;
  } catch {
    return false;
  }
}

let root: string | undefined;

export function testTmpRoot(): string {
  if (root !== undefined) return root;
  const env = process.env['HOLDFAST_TEST_TMPDIR'];
  const base = env ? env : existsSync('/dev/shm') && tmpfsHasRoom('/dev/shm') ? '/dev/shm' : tmpdir();
  root = join(base, 'holdfast-tests');
  mkdirSync(root, { recursive: true });
  return root;
}

const made: string[] = [];

/** Mount points at or under `dir`, deepest first, from this process' view of the mount table. */
function mountsUnder(dir: string): string[] {
  let table: string;
  try {
    table = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return [];
  }
  return table
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .map((field) => field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

function removeMade(): void {
  if (process.env['HOLDFAST_KEEP_TEST_TMP'] === '1') return;
  for (const dir of made) {
    try {
      // A test that failed before its cleanup leaves its loop mount: removing through it would
      // fail with EBUSY and keep the image (and its loop device) forever.
      for (const mp of mountsUnder(dir)) execFileSync('umount', ['-l', mp], { stdio: 'ignore' });
    } catch {
      // Not root, or already gone: the rm below still removes what it can.
    }
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort at exit; the .ci/run sweep removes what is left.
    }
  }
}

export function makeTempDir(prefix = 'holdfast-test-'): string {
  if (made.length === 0) process.on('exit', removeMade);
  const dir = mkdtempSync(join(testTmpRoot(), prefix));
  made.push(dir);
  return dir;
}
