/**
 * A filesystem of a chosen type on a loop device, for `--fs ext4,xfs,btrfs`: a sparse image file
 * on the benchmark's disk, attached with direct I/O where the kernel allows (so the loop device
 * does not add a second page cache over the backing file, and a flush reaches the disk), made with
 * `mkfs.TYPE` and mounted. Root only. Whatever cannot be done comes back as a reason to skip that
 * filesystem; `cleanup` unmounts, detaches and deletes in that order, and runs every step even when
 * one fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LoopFsType } from './bench-options.ts';

export interface LoopMount {
  readonly type: LoopFsType;
  readonly mountPoint: string;
  readonly device: string;
  readonly directIo: boolean;
  cleanup(): string[];
}

/** mkfs arguments per type; ext4 needs room for each datastore's 65536 prefix directories. */
export function mkfsArgs(type: LoopFsType, device: string): string[] {
  switch (type) {
    case 'ext4':
      return ['-q', '-F', '-N', '400000', device];
    case 'xfs':
      return ['-q', '-f', device];
    case 'btrfs':
      return ['-q', '-f', device];
  }
}

function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function run(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, [...args], { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
}

function firstLine(e: unknown): string {
  const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
  return (stderr || (e instanceof Error ? e.message : 'error')).split('\n')[0] ?? 'error';
}

/** Why `type` cannot be mounted here, or undefined when it can be tried. */
export function loopFsUnavailable(type: LoopFsType): string | undefined {
  if (process.getuid?.() !== 0) return `--fs ${type} needs root (loop devices and mount)`;
  for (const tool of [`mkfs.${type}`, 'losetup', 'mount', 'umount']) if (!hasTool(tool)) return `${tool} is not installed`;
  return undefined;
}

function attach(image: string): { device: string; directIo: boolean } {
  try {
    return { device: run('losetup', ['--find', '--show', '--direct-io=on', image]), directIo: true };
  } catch {
    return { device: run('losetup', ['--find', '--show', image]), directIo: false };
  }
}

/** Makes and mounts a `sizeBytes` image of `type` under `parentDir`; a string is the reason it failed. */
export function mountLoopFs(type: LoopFsType, parentDir: string, sizeBytes: number): LoopMount | string {
  const why = loopFsUnavailable(type);
  if (why) return why;
  const dir = join(parentDir, `loop-${type}`);
  const image = join(dir, 'image');
  const mountPoint = join(dir, 'mnt');
  mkdirSync(mountPoint, { recursive: true });
  let device: string | undefined;
  let mounted = false;
  const cleanup = (): string[] => {
    const problems: string[] = [];
    const step = (what: string, f: () => void): void => {
      try {
        f();
      } catch (e) {
        problems.push(`${what}: ${firstLine(e)}`);
      }
    };
    if (mounted) step(`umount ${mountPoint}`, () => run('umount', [mountPoint]));
    if (device) step(`losetup -d ${device}`, () => run('losetup', ['-d', device!]));
    step(`rm ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    return problems;
  };
  try {
    run('truncate', ['-s', String(sizeBytes), image]);
    const attached = attach(image);
    device = attached.device;
    run(`mkfs.${type}`, mkfsArgs(type, device));
    run('mount', [device, mountPoint]);
    mounted = true;
    return { type, mountPoint, device, directIo: attached.directIo, cleanup };
  } catch (e) {
    cleanup();
    return `cannot make a loop-mounted ${type}: ${firstLine(e)}`;
  }
}
