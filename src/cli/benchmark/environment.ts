/**
 * What a benchmark result depends on, read from the machine: the filesystem and mount options of
 * the datastore path (/proc/self/mountinfo), the block device under it with its model and
 * rotational flag (/sys/block), kernel, CPU, RAM, Node version and load. Also the page-cache drop
 * between runs. Probing never fails a benchmark: what cannot be read is reported as unknown.
 *
 * Caveat that the report repeats: virtio and many virtual disks report rotational=1 whatever the
 * host stores them on, and a loop device reports 0.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface MountEntry {
  readonly mountPoint: string;
  /** the directory of the filesystem that is mounted there (not `/` for bind and cgroup sub-mounts) */
  readonly root: string;
  /** `major:minor` of the filesystem's device as the kernel reports it */
  readonly device: string;
  readonly fsType: string;
  readonly source: string;
  readonly mountOptions: string;
  readonly superOptions: string;
}

export interface BlockDeviceInfo {
  readonly name: string;
  readonly model: string;
  readonly rotational: boolean | undefined;
  /** for a loop device: the file behind it */
  readonly backingFile?: string;
}

export interface Environment {
  readonly path: string;
  readonly mount: MountEntry | undefined;
  readonly device: BlockDeviceInfo | undefined;
  readonly kernel: string;
  readonly cpu: string;
  readonly cpuCount: number;
  readonly ramBytes: number;
  readonly node: string;
  readonly loadAverage: readonly number[];
  /** measured on the path itself: what one fsync costs there */
  readonly fsync?: FsyncProbe;
}

export interface FsyncProbe {
  /** median ms of (overwrite 4 KiB + fsync) */
  readonly smallWriteMs: number;
  /** median ms of (write a new 4 MiB file + fsync), a chunk at sync-level file */
  readonly chunkWriteMs: number;
}

/** mountinfo escapes space, tab, newline and backslash as octal `\040` etc. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** One `/proc/PID/mountinfo` text → entries (proc(5): fields, optional fields, `-`, fs fields). */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    const sep = fields.indexOf('-');
    if (sep < 6 || fields.length < sep + 4) continue;
    out.push({
      mountPoint: unescapeMountField(fields[4]!),
      root: unescapeMountField(fields[3]!),
      device: fields[2]!,
      mountOptions: fields[5]!,
      fsType: fields[sep + 1]!,
      source: unescapeMountField(fields[sep + 2]!),
      superOptions: fields[sep + 3]!,
    });
  }
  return out;
}

/** The mount that holds `path`: the longest mount point that is a prefix; the last one wins ties (over-mounts). */
export function mountFor(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const e of entries) {
    const mp = e.mountPoint;
    const inside = path === mp || mp === '/' || path.startsWith(mp.endsWith('/') ? mp : `${mp}/`);
    if (inside && (!best || mp.length >= best.mountPoint.length)) best = e;
  }
  return best;
}

export function readTrimmed(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The whole-disk entry under /sys/class/block for a device or partition name. */
function diskDirOf(sysDir: string): string {
  return existsSync(join(sysDir, 'partition')) ? dirname(realpathSync(sysDir)) : realpathSync(sysDir);
}

export function blockDeviceInfo(mount: MountEntry): BlockDeviceInfo | undefined {
  const candidates: string[] = [];
  if (mount.source.startsWith('/dev/')) {
    try {
      candidates.push(join('/sys/class/block', basename(realpathSync(mount.source))));
    } catch {
      // the source node may not exist inside a container; fall back to major:minor
    }
  }
  candidates.push(join('/sys/dev/block', mount.device));
  const sysDir = candidates.find((c) => existsSync(c));
  if (!sysDir) return undefined;
  const disk = diskDirOf(sysDir);
  const vendor = readTrimmed(join(disk, 'device/vendor'));
  // virtio disks expose only the PCI vendor id of virtio (Red Hat), no model
  const model = [vendor === '0x1af4' ? 'virtio' : vendor, readTrimmed(join(disk, 'device/model'))].filter((s) => s).join(' ');
  const rot = readTrimmed(join(disk, 'queue/rotational'));
  const backing = readTrimmed(join(disk, 'loop/backing_file'));
  return {
    name: basename(disk),
    model: model || 'unknown',
    rotational: rot === undefined ? undefined : rot === '1',
    ...(backing ? { backingFile: backing } : {}),
  };
}

export function readMountInfo(): MountEntry[] {
  return parseMountInfo(readTrimmed('/proc/self/mountinfo') ?? '');
}

export function probeEnvironment(path: string): Environment {
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    // report on the path as given
  }
  const mount = mountFor(readMountInfo(), real);
  return {
    path: real,
    mount,
    device: mount ? blockDeviceInfo(mount) : undefined,
    kernel: release(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus().length,
    ramBytes: totalmem(),
    node: process.version,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

const PROBE_ROUNDS = 8;

/**
 * What an fsync costs on `dir`: a disk that acknowledges a 4 MiB fsync in well under a
 * millisecond per MiB has a volatile write cache in front (a virtual disk with host caching, or a
 * drive that ignores flushes), and every sync level will look alike there.
 */
export function probeFsync(dir: string): FsyncProbe | undefined {
  const probeDir = join(dir, `.fsync-probe-${process.pid}`);
  const timeMs = (f: () => void): number => {
    const t = performance.now();
    f();
    return performance.now() - t;
  };
  try {
    mkdirSync(probeDir);
    const small = Buffer.alloc(4096, 1);
    const chunk = Buffer.alloc(4 * 1024 * 1024, 2);
    const fd = openSync(join(probeDir, 'small'), 'w');
    const smallTimes: number[] = [];
    try {
      for (let i = 0; i < PROBE_ROUNDS; i++) smallTimes.push(timeMs(() => (writeSync(fd, small, 0, small.length, 0), fsyncSync(fd))));
    } finally {
      closeSync(fd);
    }
    const chunkTimes: number[] = [];
    for (let i = 0; i < PROBE_ROUNDS; i++) {
      const f = openSync(join(probeDir, `chunk${i}`), 'w');
      try {
        chunkTimes.push(timeMs(() => (writeSync(f, chunk), fsyncSync(f))));
      } finally {
        closeSync(f);
      }
    }
    const med = (xs: number[]): number => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! * 100) / 100;
    return { smallWriteMs: med(smallTimes), chunkWriteMs: med(chunkTimes) };
  } catch {
    return undefined;
  } finally {
    rmSync(probeDir, { recursive: true, force: true });
  }
}

/** `sync` then drop clean page cache, dentries and inodes; returns why it could not, if it could not. */
export function syncAndDropCaches(drop: boolean): string | undefined {
  spawnSync('sync', [], { stdio: 'ignore' });
  if (!drop) return 'page cache not dropped (--no-drop-caches)';
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return undefined;
  } catch (e) {
    return `cannot drop the page cache (${e instanceof Error ? e.message : 'error'}); runs after the first may read from a warm cache`;
  }
}

let clockTicks: number | undefined;

/**
 * CPU time (user + system) a live process has used, from /proc/PID/stat: all its threads, or with
 * `mainThreadOnly` its main thread (the JS event loop), whose time alone bounds its throughput.
 */
export function cpuSeconds(pid: number, mainThreadOnly = false): number | undefined {
  const stat = readTrimmed(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // Fields after the parenthesised command name (which may contain spaces): utime is the 14th, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** Peak resident set size (VmHWM) of a live process, in bytes. */
export function peakRss(pid: number): number | undefined {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readTrimmed(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) * 1024 : undefined;
}

/**
 * The CPUs a process may run on (its `Cpus_allowed_list`, e.g. `0` or `0-1`), or undefined when
 * /proc does not say. A benchmark that compares Holdfast with an object store on the same machine
 * reports both sets: sharing the cores, each side's CPU is taken from the other (docs/benchmarks.md).
 */
export function cpusAllowed(pid: number | 'self' = 'self'): string | undefined {
  const status = readTrimmed(`/proc/${pid}/status`);
  return status?.match(/^Cpus_allowed_list:\s*(\S+)$/m)?.[1];
}

/** How many CPUs a list such as `0-3,6,8-9` names; undefined for anything else. */
export function countCpuList(list: string): number | undefined {
  let n = 0;
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return undefined;
    n += hi - lo + 1;
  }
  return n;
}

/** The pid of a running process whose command name is `comm` (e.g. `radosgw`), if one runs here. */
export function findProcess(comm: string): number | undefined {
  return findProcesses([comm])[0];
}

/** The pids of every running process whose command name is one of `comms` (e.g. a local Ceph's daemons). */
export function findProcesses(comms: readonly string[]): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const wanted = new Set(comms);
  const pids: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const comm = readTrimmed(`/proc/${e}/comm`);
    if (comm !== undefined && wanted.has(comm)) pids.push(Number(e));
  }
  return pids;
}
