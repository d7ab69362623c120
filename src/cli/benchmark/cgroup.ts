/**
 * A memory cgroup for the benchmarked server, so that a backup larger than the limit cannot sit
 * in the page cache as dirty pages: the kernel must write them back while the backup runs, as on
 * a machine whose RAM is smaller than the backup.
 *
 * The cgroup is made *below* the cgroup this process runs in (v1 `memory` hierarchy, or v2 when
 * that is what is mounted with the memory controller), so it stays inside whatever limits the
 * caller already has. Processes join it by writing their pid to `cgroup.procs`; `/proc/PID/cgroup`
 * is the proof that they did. Setup problems come back as a reason string, not an exception.
 */
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMountInfo, readTrimmed, type MountEntry } from './environment.ts';

export interface ProcCgroupLine {
  readonly hierarchy: string;
  readonly controllers: readonly string[];
  readonly path: string;
}

/** `/proc/PID/cgroup`: `ID:CONTROLLERS:PATH` per line; v2's line is `0::PATH`. */
export function parseProcCgroup(text: string): ProcCgroupLine[] {
  const out: ProcCgroupLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (m) out.push({ hierarchy: m[1]!, controllers: m[2] === '' ? [] : m[2]!.split(','), path: m[3]! });
  }
  return out;
}

/** The memory cgroup path in a `/proc/PID/cgroup` text: v1's `memory` line, else the v2 line. */
export function memoryCgroupPath(lines: readonly ProcCgroupLine[], version: 1 | 2): string | undefined {
  const line = version === 1 ? lines.find((l) => l.controllers.includes('memory')) : lines.find((l) => l.hierarchy === '0' && l.controllers.length === 0);
  return line?.path;
}

/** The memory cgroup `pid` is in, as `/proc/PID/cgroup` says (undefined once it exited). */
export function memoryCgroupOf(pid: number, version: 1 | 2): string | undefined {
  const text = readTrimmed(`/proc/${pid}/cgroup`);
  return text === undefined ? undefined : memoryCgroupPath(parseProcCgroup(text), version);
}

/** The cgroup directory of `relPath` under a cgroup mount whose own root is `mount.root`. */
export function cgroupDir(mount: Pick<MountEntry, 'mountPoint' | 'root'>, relPath: string): string | undefined {
  const root = mount.root === '/' ? '' : mount.root;
  if (root !== '' && relPath !== root && !relPath.startsWith(`${root}/`)) return undefined;
  const dir = join(mount.mountPoint, relPath.slice(root.length));
  return dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
}

export interface MemoryCgroup {
  readonly version: 1 | 2;
  readonly dir: string;
  /** as /proc/PID/cgroup of a member shows it */
  readonly path: string;
  readonly limitBytes: number;
  readonly procsFile: string;
  /** peak usage since creation or the last `resetPeak` (page cache included) */
  peakBytes(): number | undefined;
  resetPeak(): void;
  /** how often usage hit the limit (v1 failcnt, v2 memory.events `max`) */
  limitHits(): number | undefined;
  remove(): void;
}

function numberIn(path: string): number | undefined {
  const t = readTrimmed(path);
  return t === undefined || !/^\d+$/.test(t) ? undefined : Number(t);
}

function locate(): { version: 1 | 2; mount: MountEntry; own: string } | string {
  const self = parseProcCgroup(readTrimmed('/proc/self/cgroup') ?? '');
  const mounts = readMountInfo();
  const v1 = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.split(',').includes('memory'));
  const v1Own = memoryCgroupPath(self, 1);
  if (v1 && v1Own !== undefined) return { version: 1, mount: v1, own: v1Own };
  const v2Own = memoryCgroupPath(self, 2);
  for (const m of mounts.filter((x) => x.fsType === 'cgroup2')) {
    const dir = v2Own === undefined ? undefined : cgroupDir(m, v2Own);
    if (dir && (readTrimmed(join(dir, 'cgroup.controllers')) ?? '').split(' ').includes('memory')) return { version: 2, mount: m, own: v2Own! };
  }
  return 'no memory cgroup controller is mounted (neither cgroup v1 memory nor cgroup2 with memory)';
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : 'error';
}

/** Creates `<own cgroup>/<name>` with `limitBytes`; a string is the reason it could not. */
export function createMemoryCgroup(limitBytes: number, name = `holdfast-bench-${process.pid}`): MemoryCgroup | string {
  if (process.getuid?.() !== 0) return '--memory-limit needs root (it creates a memory cgroup)';
  const where = locate();
  if (typeof where === 'string') return where;
  const { version, mount, own } = where;
  const parent = cgroupDir(mount, own);
  if (!parent) return `cannot place cgroup ${own} under the mount ${mount.mountPoint}`;
  const dir = join(parent, name);
  try {
    if (version === 2) writeFileSync(join(parent, 'cgroup.subtree_control'), '+memory');
    mkdirSync(dir);
    writeFileSync(join(dir, version === 1 ? 'memory.limit_in_bytes' : 'memory.max'), String(limitBytes));
  } catch (e) {
    return `cannot create the memory cgroup ${dir}: ${describe(e)}${version === 2 ? ' (cgroup v2 needs a delegated cgroup, e.g. run under systemd-run --scope)' : ''}`;
  }
  const file = (v1: string, v2: string): string => join(dir, version === 1 ? v1 : v2);
  return {
    version,
    dir,
    path: `${own === '/' ? '' : own}/${name}`,
    limitBytes,
    procsFile: join(dir, 'cgroup.procs'),
    peakBytes: () => numberIn(file('memory.max_usage_in_bytes', 'memory.peak')),
    resetPeak: () => {
      try {
        writeFileSync(file('memory.max_usage_in_bytes', 'memory.peak'), '0');
      } catch {
        // v2 kernels before 6.12 cannot reset memory.peak; the peak then spans the runs
      }
    },
    limitHits: () => {
      if (version === 1) return numberIn(join(dir, 'memory.failcnt'));
      const m = /^max (\d+)$/m.exec(readTrimmed(join(dir, 'memory.events')) ?? '');
      return m ? Number(m[1]) : undefined;
    },
    remove: () => rmdirSync(dir),
  };
}
