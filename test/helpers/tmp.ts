/**
 * Temp dirs for tests. They live on tmpfs (/dev/shm) when the machine has it: a datastore's
 * 65536 prefix dirs take well under a second there, against tens of seconds on a busy ext4 disk.
 * Tests that need a disk filesystem's crash behaviour use a loop-mounted image instead
 * (test/helpers/loop-fs.ts). Set HOLDFAST_TEST_TMPDIR to choose another place.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function testTmpRoot(): string {
  const env = process.env['HOLDFAST_TEST_TMPDIR'];
  if (env) return env;
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

export function makeTempDir(prefix = 'holdfast-test-'): string {
  return mkdtempSync(join(testTmpRoot(), prefix));
}
