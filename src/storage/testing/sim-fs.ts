/**
 * SimFs: the power-loss simulator, an in-process `Fs` whose disk can lose power. It is the second
 * adapter of the port (after NodeFs) and passes the same contract suite; the crash explorer runs
 * production datastore code on it and checks every sync level's promise on the states a crash
 * may leave (crash-model.md §2.6).
 *
 * Two views (see SimKernel):
 * - volatile: what the process sees; every call applies at once with POSIX semantics;
 * - durable: what survives; it changes only at durability points. `FileHandle.sync` makes that
 *   file's data and size durable, `fsyncDir` that directory's entries (creates, renames, unlinks
 *   with that parent), `syncfs` everything on this one filesystem, whatever `path` names.
 * Between them sits the log of pending micro-ops; a crash keeps the durable image plus the subset
 * of the log that the chosen model allows (crash-models.ts).
 *
 * For the crash explorer:
 * - `onOp(hook)` runs before each mutating call (create/truncate via open, write, truncate,
 *   fsync, rename, unlink, mkdir, rmdir, touchAtime, fsyncDir, syncfs) with its 1-based sequence
 *   number; a hook that throws makes the call fail with that error before it changes anything.
 * - `snapshot()` freezes this instant as a CrashPoint (cheap: a fork and a list copy);
 *   `powerCut()` does the same and then fails every later call with ABORTED.
 * - `crashStates(model, { seed, max })` is `snapshot().crashStates(...)`.
 *
 * Faults: with `failSync`, a sync call the rule selects fails with SYNC_FAILED (errno EIO) and
 * what it covered is dropped for good: not durable now, never made durable by a later sync, yet
 * still visible in the volatile view (Linux after fsyncgate; see pending-log.ts).
 *
 * Time: atime and mtime come from the injectable `now()`. Reads never touch atime (as `noatime`);
 * only `touchAtime` does (to now or the given time), and `ignoreAtime` simulates a filesystem
 * that accepts both kinds of update and drops them.
 */
import { fail } from '../../core/errors.ts';
import type { FileHandle, FileStat, Fs, OpenMode } from '../fs-port.ts';
import { CrashPoint as GenericCrashPoint, type CrashState as GenericCrashState } from './crash-point.ts';
import type { CrashModel, CrashStatesOptions } from './crash-models.ts';
import type { SyncFaultRule, SyncKind } from './fault-fs.ts';
import type { SyncScope } from './pending-log.ts';
import { Image, ROOT_INO } from './sim-image.ts';
import { SimKernel } from './sim-kernel.ts';
import { simError } from './sim-namespace.ts';

export { CRASH_MODELS, type CrashModel, type CrashStatesOptions } from './crash-models.ts';
/** The simulator frozen at one instant; its states mount as SimFs. */
export type CrashPoint = GenericCrashPoint<SimFs, SimFsOptions>;
export type CrashState = GenericCrashState<SimFs, SimFsOptions>;

export interface SimFsOptions {
  /** Clock for atime and mtime, in ms since the epoch. Default: Date.now. */
  readonly now?: () => number;
  /** Accept `touchAtime` and keep the old atime (a filesystem that drops explicit atime updates). */
  readonly ignoreAtime?: boolean;
  /** Selects the sync calls that fail with SYNC_FAILED and lose what they covered. */
  readonly failSync?: SyncFaultRule;
}

export const SIM_OP_KINDS = ['open', 'write', 'truncate', 'fsync', 'rename', 'unlink', 'mkdir', 'rmdir', 'touchAtime', 'fsyncDir', 'syncfs'] as const;
export type SimOpKind = (typeof SIM_OP_KINDS)[number];

export interface SimOpInfo {
  /** 1-based number of this mutating call on this SimFs. */
  readonly seq: number;
  readonly kind: SimOpKind;
  readonly path: string;
}

export type SimOpHook = (op: SimOpInfo) => void;

/** Where a mounted post-crash filesystem starts (used by CrashState.mount). */
export interface SimStart {
  readonly image: Image;
  readonly nextIno: number;
}

export class SimFs implements Fs {
  readonly #kernel: SimKernel;
  readonly #options: SimFsOptions;
  readonly #hooks = new Set<SimOpHook>();
  readonly #syncCalls: Record<SyncKind, number> = { fsync: 0, fsyncDir: 0, syncfs: 0 };
  #poweredOff = false;

  constructor(options: SimFsOptions = {}, start?: SimStart) {
    const now = options.now ?? Date.now;
    this.#options = options;
    const origin = start ?? { image: Image.empty(now()), nextIno: ROOT_INO + 1 };
    this.#kernel = new SimKernel(origin.image, origin.nextIno, { now, ignoreAtime: options.ignoreAtime ?? false });
  }

  /** Mutating calls started so far, including those that then failed. */
  get opCount(): number {
    return this.#kernel.opCount;
  }

  /** Micro-ops not yet durable. */
  get pendingCount(): number {
    return this.#kernel.pendingCount;
  }

  /** Registers a hook run before every mutating call; returns its removal. */
  onOp(hook: SimOpHook): () => void {
    this.#hooks.add(hook);
    return () => this.#hooks.delete(hook);
  }

  snapshot(): CrashPoint {
    return new GenericCrashPoint<SimFs, SimFsOptions>(this.#kernel.snapshot(), this.#kernel.opCount, (image, nextIno, options) =>
      new SimFs(options ?? this.#inheritedOptions(), { image, nextIno }),
    );
  }

  /** Takes the snapshot a power cut would leave, then fails every later call with ABORTED. */
  powerCut(): CrashPoint {
    const point = this.snapshot();
    this.#poweredOff = true;
    return point;
  }

  crashStates(model: CrashModel, options: CrashStatesOptions): CrashState[] {
    return this.snapshot().crashStates(model, options);
  }

  // ---- Fs ----

  async open(path: string, mode: OpenMode, perm = 0o644): Promise<FileHandle> {
    // A direct write is as volatile as a cached one until a sync (device cache, size, extents),
    // so the simulator models 'wx-direct' as 'wx': no crash state is lost by it.
    const m = mode === 'wx-direct' ? 'wx' : mode;
    if (m === 'w' || m === 'wx') this.#begin('open', path);
    else this.#checkPower('open', path);
    return this.#handle(this.#kernel.open(path, m, perm), path, m);
  }
  async readFile(path: string): Promise<Uint8Array> {
    this.#checkPower('read', path);
    const ino = this.#kernel.open(path, 'r', 0);
    return this.#kernel.read(ino, 0, this.#kernel.statIno(ino).size);
  }
  async stat(path: string): Promise<FileStat | undefined> {
    this.#checkPower('stat', path);
    return this.#kernel.stat(path);
  }
  async rename(from: string, to: string): Promise<void> {
    this.#begin('rename', to);
    this.#kernel.rename(from, to);
  }
  async unlink(path: string): Promise<void> {
    this.#begin('unlink', path);
    this.#kernel.unlink(path);
  }
  async mkdir(path: string, options: { readonly recursive?: boolean; readonly mode?: number } = {}): Promise<void> {
    this.#begin('mkdir', path);
    this.#kernel.mkdir(path, options.recursive ?? false, options.mode ?? 0o755);
  }
  async rmdir(path: string): Promise<void> {
    this.#begin('rmdir', path);
    this.#kernel.rmdir(path);
  }
  async readdir(path: string): Promise<string[]> {
    this.#checkPower('readdir', path);
    return this.#kernel.readdir(path);
  }
  async touchAtime(path: string, atimeMs?: number): Promise<void> {
    this.#begin('touchAtime', path);
    this.#kernel.touchAtime(path, atimeMs);
  }
  async fsyncDir(path: string): Promise<void> {
    this.#sync('fsyncDir', path, () => this.#kernel.dirScope(path));
  }
  async syncfs(path: string): Promise<void> {
    this.#sync('syncfs', path, () => this.#kernel.fsScope(path));
  }

  // ---- internals ----

  #handle(ino: number, path: string, mode: OpenMode): FileHandle {
    let closed = false;
    const canRead = mode === 'r' || mode === 'r+';
    const canWrite = mode !== 'r';
    const usable = (op: string): void => {
      this.#checkPower(op, path);
      if (closed) throw simError('EBADF', op, path);
    };
    return {
      write: async (data, position) => {
        usable('write');
        if (!canWrite) throw simError('EBADF', 'write', path);
        this.#begin('write', path);
        this.#kernel.write(ino, data, position, path);
      },
      read: async (position, length) => {
        usable('read');
        if (!canRead) throw simError('EBADF', 'read', path);
        return this.#kernel.read(ino, position, length);
      },
      truncate: async (length) => {
        usable('truncate');
        if (!canWrite) throw simError('EINVAL', 'truncate', path);
        this.#begin('truncate', path);
        this.#kernel.truncate(ino, length, path);
      },
      stat: async () => {
        usable('fstat');
        return this.#kernel.statIno(ino);
      },
      sync: async () => {
        usable('fsync');
        this.#sync('fsync', path, () => ({ kind: 'file', ino }));
      },
      // a hint only: the simulated kernel may lose unsynced pages whether or not writeback started
      startWriteback: async () => {
        usable('sync_file_range');
      },
      close: async () => {
        usable('close');
        closed = true;
      },
    };
  }

  #sync(kind: SyncKind, path: string, scopeOf: () => SyncScope): void {
    this.#begin(kind, path);
    const scope = scopeOf();
    const nth = ++this.#syncCalls[kind];
    const failed = this.#options.failSync?.({ kind, path, nth }) ?? false;
    this.#kernel.sync(scope, failed);
    if (failed) throw simError('EIO', kind, path);
  }

  #begin(kind: SimOpKind, path: string): void {
    this.#checkPower(kind, path);
    const seq = this.#kernel.beginOp();
    for (const hook of this.#hooks) hook({ seq, kind, path });
  }

  #checkPower(op: string, path: string): void {
    if (this.#poweredOff) throw fail('ABORTED', `${op} ${path}: the simulated power is off`, { op, path });
  }

  /** What a post-crash mount keeps by default: the clock and atime behaviour, not the faults. */
  #inheritedOptions(): SimFsOptions {
    const { now, ignoreAtime } = this.#options;
    return { ...(now === undefined ? {} : { now }), ...(ignoreAtime === undefined ? {} : { ignoreAtime }) };
  }
}
