/**
 * FaultFs: a tiny fault-injection wrapper over any `Fs` (restic-style: implements the port,
 * stacks with the others). It fails the Nth fsync / fsyncDir / syncfs with SYNC_FAILED (errno EIO),
 * fails the Nth write (optionally after a torn prefix reached the file), flips a byte or cuts the
 * length of what reads of one path return. Nothing on disk is corrupted; only what passes through.
 *
 * A failed sync here is reported without calling the inner sync. Over NodeFs that is all one can
 * do. Over SimFs prefer SimFs's own `failSync` option with the same rules (`failNthSync`): it also
 * drops the data the failed sync covered, as Linux does, so a later sync cannot save it.
 */
import { fail } from '../../core/errors.ts';
import type { FileHandle, Fs, OpenMode } from '../fs-port.ts';
import { FsWrapper } from '../fs-wrapper.ts';

export const SYNC_KINDS = ['fsync', 'fsyncDir', 'syncfs'] as const;
export type SyncKind = (typeof SYNC_KINDS)[number];

export interface SyncCall {
  readonly kind: SyncKind;
  readonly path: string;
  /** 1-based count of the calls of this kind so far, this one included. */
  readonly nth: number;
}

/** Decides whether one sync call fails. */
export type SyncFaultRule = (call: SyncCall) => boolean;

/** Fails the nth call (1-based) of one sync kind, and no other. */
export function failNthSync(kind: SyncKind, nth: number): SyncFaultRule {
  return (call) => call.kind === kind && call.nth === nth;
}

/** Fails every sync call of the given kinds (all kinds when none are named). */
export function failEverySync(...kinds: SyncKind[]): SyncFaultRule {
  return (call) => kinds.length === 0 || kinds.includes(call.kind);
}

/** An exact path, or a test on the path as the caller passed it. */
export type PathMatch = string | ((path: string) => boolean);

export interface FaultPlan {
  readonly failSync?: SyncFaultRule;
  /** Fails the nth FileHandle.write (1-based, over all handles) with IO_ERROR / EIO, after its first `tornBytes` bytes (default 0) were written. */
  readonly failWrite?: { readonly nth: number; readonly tornBytes?: number };
  /** XORs the byte at file offset `offset` with `mask` (default 0xff) in every read of a matching path. */
  readonly flipByteOnRead?: { readonly path: PathMatch; readonly offset: number; readonly mask?: number };
  /** Reads of a matching path see only its first `length` bytes (stat still reports the real size). */
  readonly truncateOnRead?: { readonly path: PathMatch; readonly length: number };
}

function matches(match: PathMatch, path: string): boolean {
  return typeof match === 'string' ? match === path : match(path);
}

export class FaultFs extends FsWrapper {
  /** Calls seen so far, by kind (failed ones included). */
  readonly counts = { fsync: 0, fsyncDir: 0, syncfs: 0, write: 0 };
  readonly #plan: FaultPlan;

  constructor(inner: Fs, plan: FaultPlan) {
    super(inner);
    this.#plan = plan;
  }

  override async open(path: string, mode: OpenMode, perm?: number): Promise<FileHandle> {
    const h = await this.inner.open(path, mode, perm);
    return {
      write: (data, position) => this.#write(h, path, data, position),
      read: async (position, length) => this.#corrupt(path, position, await h.read(position, this.#readable(path, position, length))),
      truncate: (length) => h.truncate(length),
      stat: () => h.stat(),
      sync: () => this.#sync('fsync', path, () => h.sync()),
      startWriteback: () => h.startWriteback(),
      close: () => h.close(),
    };
  }
  override async readFile(path: string, into?: Uint8Array): Promise<Uint8Array> {
    const data = await this.inner.readFile(path, into);
    return this.#corrupt(path, 0, data.subarray(0, this.#readable(path, 0, data.length)));
  }
  override fsyncDir(path: string): Promise<void> {
    return this.#sync('fsyncDir', path, () => this.inner.fsyncDir(path));
  }
  override syncfs(path: string): Promise<void> {
    return this.#sync('syncfs', path, () => this.inner.syncfs(path));
  }

  async #sync(kind: SyncKind, path: string, run: () => Promise<void>): Promise<void> {
    const nth = ++this.counts[kind];
    if (this.#plan.failSync?.({ kind, path, nth }) === true) {
      throw fail('SYNC_FAILED', `${kind} of ${path} failed: EIO (injected)`, { op: kind, path, errno: 'EIO', injected: true });
    }
    await run();
  }

  async #write(h: FileHandle, path: string, data: Uint8Array, position: number): Promise<void> {
    const nth = ++this.counts.write;
    const rule = this.#plan.failWrite;
    if (rule?.nth !== nth) return h.write(data, position);
    const torn = Math.min(rule.tornBytes ?? 0, data.length);
    if (torn > 0) await h.write(data.subarray(0, torn), position);
    throw fail('IO_ERROR', `write ${path} failed: EIO (injected after ${torn} bytes)`, { op: 'write', path, errno: 'EIO', injected: true });
  }

  /** How many of `length` bytes at `position` a read may see under truncateOnRead. */
  #readable(path: string, position: number, length: number): number {
    const rule = this.#plan.truncateOnRead;
    if (rule === undefined || !matches(rule.path, path)) return length;
    return Math.max(0, Math.min(length, rule.length - position));
  }

  #corrupt(path: string, position: number, data: Uint8Array): Uint8Array {
    const rule = this.#plan.flipByteOnRead;
    if (rule === undefined || !matches(rule.path, path)) return data;
    const at = rule.offset - position;
    if (at < 0 || at >= data.length) return data;
    const copy = new Uint8Array(data);
    copy[at] = copy[at]! ^ (rule.mask ?? 0xff);
    return copy;
  }
}
