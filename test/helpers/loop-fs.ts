/**
 * A loop-mounted filesystem image for tests that need a real disk filesystem (ext4, xfs): its own
 * syncfs domain, journaling and crash behaviour, unlike tmpfs. Root only; `mountLoopFs` returns a
 * skip reason instead of throwing when the machine cannot do it, so tests skip with that reason.
 * The image lives on tmpfs when available, so the test does not depend on the host disk's speed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from './tmp.ts';

export interface LoopFs {
  readonly mountPoint: string;
  /** Unmounts and mounts it again: its page cache is dropped, no other filesystem's. */
  remount(): void;
  cleanup(): void;
}

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `inodes`: ext4 only; each datastore needs 65536 for its prefix dirs, mkfs' default is far fewer. */
export function mountLoopFs(type: 'ext4' | 'xfs', sizeMiB = 512, inodes = 100_000): LoopFs | string {
  if (process.getuid?.() !== 0) return 'needs root to mount a loop filesystem';
  const dir = makeTempDir(`holdfast-${type}-`);
  const image = join(dir, 'image');
  const mountPoint = join(dir, 'mnt');
  mkdirSync(mountPoint);
  try {
    run('truncate', ['-s', `${sizeMiB}M`, image]);
    run(`mkfs.${type}`, type === 'ext4' ? ['-q', '-F', '-N', String(inodes), image] : ['-q', '-f', image]);
    run('mount', ['-o', 'loop', image, mountPoint]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot make a loop-mounted ${type} filesystem here: ${e instanceof Error ? e.message.split('\n')[0] : 'error'}`;
  }
  return {
    mountPoint,
    remount: () => {
      run('umount', [mountPoint]);
      run('mount', ['-o', 'loop', image, mountPoint]);
    },
    cleanup: () => {
      try {
        run('umount', [mountPoint]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Runs `fn` on a fresh loop-mounted filesystem and unmounts it after, whatever `fn` does; where
 * the machine cannot mount one, the test is skipped with the reason instead.
 */
export async function onLoopFs(t: { skip(reason: string): void }, type: 'ext4' | 'xfs', sizeMiB: number, inodes: number, fn: (mountPoint: string) => Promise<void>): Promise<void> {
  const fs = mountLoopFs(type, sizeMiB, inodes);
  if (typeof fs === 'string') return t.skip(fs);
  try {
    await fn(fs.mountPoint);
  } finally {
    fs.cleanup();
  }
}
