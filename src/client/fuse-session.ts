/**
 * A read-only FUSE filesystem served from this process: `/dev/fuse` is opened, handed to
 * mount(8) (`-o fd=N`: the kernel takes the mount's requests from that descriptor), and then read
 * one request at a time; each request is answered by a `FuseFilesystem` while the next is read,
 * so a slow read (a chunk on its way from the server) does not hold up a `ls`.
 *
 * Invariants:
 * - every request that wants an answer gets exactly one (FORGET, BATCH_FORGET and INTERRUPT want
 *   none): a filesystem error becomes its errno (HoldfastError NOT_FOUND → ENOENT, anything else
 *   → EIO, logged once with its code), so no process on the mount waits forever;
 * - nothing is ever written to the mount: the kernel mounts it `ro`, and a write request that
 *   reaches us anyway gets EROFS;
 * - the session ends when the kernel says the mount is gone (a read fails with ENODEV: `umount`,
 *   `fusermount -u`); `unmount()` asks for that and refuses, with LOCKED, while the mount is busy
 *   (a process has a file open or its working directory there), rather than detaching it lazily.
 *
 * Mounting needs CAP_SYS_ADMIN (root): the unprivileged path, fusermount's descriptor passing over
 * a Unix socket, is not open to Node. The fd is read on libuv's thread pool (a blocking read);
 * replies are written synchronously, each in one write(2), as the kernel requires.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, read, writevSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { fail, isHoldfastError, toHoldfastError } from '../core/errors.ts';
import {
  ERRNO, FOPEN_CACHE_DIR, FOPEN_KEEP_CACHE, INIT_FLAGS, WRITE_OPCODES, attrOut, entryOut, initOut, openOut, packDirents,
  parseRequest, replyHeader, statfsOut, xattrSizeOut, type Dirent, type FuseAttr, type FuseRequest, type StatfsInfo,
} from '../format/fuse-abi.ts';

/** What a read-only filesystem answers. Node ids are the session's (FUSE_ROOT_ID is the root). */
export interface FuseFilesystem {
  /** The child's attributes (its `ino` is its node id), or undefined when there is none. */
  lookup(parent: number, name: Uint8Array): Promise<FuseAttr | undefined>;
  /** The kernel dropped `n` of the lookups of `node`. */
  forget(node: number, n: number): void;
  getattr(node: number): Promise<FuseAttr>;
  readlink(node: number): Promise<Uint8Array>;
  /** Checks that `node` is a regular file (EISDIR/EINVAL otherwise, as a FuseError). */
  open(node: number): Promise<void>;
  read(node: number, offset: number, size: number): Promise<Uint8Array>;
  /** The entries from position `offset` on (each `next` the position after it); may return more than fit. */
  readdir(node: number, offset: number): Promise<readonly Dirent[]>;
  xattrs(node: number): Promise<readonly { readonly name: Uint8Array; readonly value: Uint8Array }[]>;
  statfs(): StatfsInfo;
}

/** A filesystem answer that is an errno, not a failure (ENOENT, ENOTDIR, …). */
export class FuseError extends Error {
  constructor(readonly errno: number, message: string) {
    super(message);
  }
}

/** Big enough for any request (the kernel refuses a read buffer smaller than max_write + headers). */
const REQUEST_BUFFER = 1024 * 1024 + 4096;
const MAX_WRITE = 128 * 1024;
/**
 * The largest READ asked for: 1 MiB (256 pages, FUSE_MAX_PAGES), 8 times the kernel's default, so
 * a file read in order takes an eighth of the round trips through this process.
 */
const MAX_READ = 1024 * 1024;
/**
 * The mount's read-ahead (its bdi's read_ahead_kb): the kernel's 128 KiB keeps one small READ in
 * flight; 4 MiB, a chunk, keeps a reader in order from waiting on each round trip.
 */
const READ_AHEAD_KB = 4096;

export interface FuseSessionOptions {
  /** Shown as the mount's source in /proc/mounts (e.g. `holdfast:store:host/a/2026-…`). */
  readonly source: string;
  /**
   * Let other local users into the mount (FUSE's `allow_other`), each then held to the modes and
   * owners stored in the archive (`default_permissions`). Off by default: a snapshot's owners are
   * another machine's uids, so only the user who mounted it may look.
   */
  readonly allowOther?: boolean;
  /** Called once for each failure answered with EIO (the user sees only "Input/output error"). */
  readonly onError?: (e: Error) => void;
}

function run(cmd: string, args: readonly string[], extraFd?: number): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'ignore', 'pipe'];
    if (extraFd !== undefined) stdio.push(extraFd);
    const child = spawn(cmd, args, { stdio });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stderr: stderr.trim() }));
  });
}

export class FuseSession {
  readonly #fs: FuseFilesystem;
  readonly #mountpoint: string;
  readonly #o: FuseSessionOptions;
  readonly #fd: number;
  readonly #buffer = Buffer.alloc(REQUEST_BUFFER);
  #done: Promise<void> | undefined;
  #ended = false;

  private constructor(fs: FuseFilesystem, mountpoint: string, fd: number, o: FuseSessionOptions) {
    this.#fs = fs;
    this.#mountpoint = mountpoint;
    this.#fd = fd;
    this.#o = o;
  }

  /** Mounts `fs` read-only at `mountpoint` (an existing directory) and starts answering. */
  static async mount(fs: FuseFilesystem, mountpoint: string, o: FuseSessionOptions): Promise<FuseSession> {
    let fd: number;
    try {
      fd = openSync('/dev/fuse', 'r+');
    } catch (e) {
      throw fail('IO_ERROR', `cannot open /dev/fuse (is the fuse module loaded?): ${(e as Error).message}`, {}, e);
    }
    const opts = `ro,nosuid,nodev,fd=3,rootmode=40000,user_id=${process.getuid?.() ?? 0},group_id=${process.getgid?.() ?? 0},default_permissions${o.allowOther === true ? ',allow_other' : ''}`;
    const source = o.source.replace(/[\s,]/g, '_');
    const r = await run('mount', ['-i', '-t', 'fuse.holdfast', '-o', opts, source, mountpoint], fd).catch((e: unknown) => ({ code: 1, stderr: String(e) }));
    if (r.code !== 0) {
      closeSync(fd);
      const denied = /permission|only root|not permitted/i.test(r.stderr);
      throw fail(denied ? 'FORBIDDEN' : 'IO_ERROR', `cannot mount at ${mountpoint}: ${r.stderr || `mount exited with ${r.code}`}${denied ? ' (mounting needs root)' : ''}`, { mountpoint });
    }
    const session = new FuseSession(fs, mountpoint, fd, o);
    session.#done = session.#loop();
    await raiseReadAhead(mountpoint);
    return session;
  }

  /** Settles when the mount is gone (unmounted by anyone) and every answer has been written. */
  get done(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  /** Unmounts (umount(8)); LOCKED while a process uses the mount. */
  async unmount(): Promise<void> {
    if (this.#ended) return;
    const r = await run('umount', [this.#mountpoint]);
    if (r.code !== 0 && !this.#ended) {
      const busy = /busy/i.test(r.stderr);
      throw fail(busy ? 'LOCKED' : 'IO_ERROR', `cannot unmount ${this.#mountpoint}: ${r.stderr || `umount exited with ${r.code}`}`, { mountpoint: this.#mountpoint });
    }
    await this.done;
  }

  #next(): Promise<Uint8Array | undefined> {
    return new Promise((resolve, reject) => {
      read(this.#fd, this.#buffer, 0, this.#buffer.length, null, (err, n) => {
        if (err === null) resolve(this.#buffer.subarray(0, n));
        // ENODEV: unmounted; EINTR/EAGAIN: read again
        else if (err.code === 'ENODEV') resolve(undefined);
        else if (err.code === 'EINTR' || err.code === 'EAGAIN' || err.code === 'ENOENT') resolve(new Uint8Array(0));
        else reject(fail('IO_ERROR', `reading /dev/fuse: ${err.message}`, {}, err));
      });
    });
  }

  async #loop(): Promise<void> {
    const pending = new Set<Promise<void>>();
    try {
      for (;;) {
        const bytes = await this.#next();
        if (bytes === undefined) break;
        if (bytes.length === 0) continue;
        let req: FuseRequest;
        try {
          // a copy: the next read reuses the buffer while this request is still being answered
          // (a LOOKUP's name is a view of its bytes)
          req = parseRequest(new Uint8Array(bytes));
        } catch (e) {
          this.#o.onError?.(toHoldfastError(e));
          continue; // without a header there is no one to answer
        }
        const p = this.#answer(req).finally(() => pending.delete(p));
        pending.add(p);
      }
    } finally {
      this.#ended = true;
      await Promise.allSettled(pending);
      closeSync(this.#fd);
    }
  }

  #reply(unique: bigint, error: number, body?: Uint8Array): void {
    if (this.#ended) return;
    const parts = [replyHeader(unique, error, body?.length ?? 0)];
    if (body !== undefined && body.length > 0) parts.push(body);
    try {
      writevSync(this.#fd, parts);
    } catch (e) {
      // ENOENT: the request was interrupted and is gone; ENODEV: unmounted meanwhile
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENODEV') this.#o.onError?.(toHoldfastError(e));
    }
  }

  async #answer(req: FuseRequest): Promise<void> {
    try {
      const body = await this.#dispatch(req);
      if (body !== null) this.#reply(req.unique, 0, body);
    } catch (e) {
      if (e instanceof FuseError) return this.#reply(req.unique, e.errno);
      if (isHoldfastError(e, 'NOT_FOUND')) return this.#reply(req.unique, ERRNO.ENOENT);
      this.#o.onError?.(toHoldfastError(e));
      this.#reply(req.unique, ERRNO.EIO);
    }
  }

  /** The reply body for `req` (undefined: an empty success), or null when no reply is wanted. */
  async #dispatch(req: FuseRequest): Promise<Uint8Array | undefined | null> {
    const fs = this.#fs;
    switch (req.op) {
      case 'init':
        if (req.major !== 7) throw new FuseError(ERRNO.EINVAL, `FUSE protocol ${req.major} is not supported`);
        return initOut(req, INIT_FLAGS.ASYNC_READ | INIT_FLAGS.PARALLEL_DIROPS | INIT_FLAGS.CACHE_SYMLINKS | INIT_FLAGS.MAX_PAGES, MAX_WRITE, MAX_READ / 4096);
      case 'lookup': {
        const attr = await fs.lookup(req.nodeid, req.name);
        return attr === undefined ? entryOut(0, undefined) : entryOut(attr.ino, attr);
      }
      case 'forget':
        fs.forget(req.nodeid, req.nlookup);
        return null;
      case 'batch-forget':
        for (const f of req.items) fs.forget(f.nodeid, f.nlookup);
        return null;
      case 'interrupt':
        return null; // answers are quick or fail on their own; the interrupted one is still answered
      case 'getattr':
        return attrOut(await fs.getattr(req.nodeid));
      case 'readlink':
        return fs.readlink(req.nodeid);
      case 'open':
        await fs.open(req.nodeid);
        return openOut(FOPEN_KEEP_CACHE);
      case 'opendir':
        if (((await fs.getattr(req.nodeid)).mode & 0o170000) !== 0o040000) throw new FuseError(ERRNO.ENOTDIR, 'not a directory');
        return openOut(FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR);
      case 'read':
        return fs.read(req.nodeid, req.offset, Math.min(req.size, MAX_READ));
      case 'readdir':
        return packDirents(await fs.readdir(req.nodeid, req.offset), req.size);
      case 'release':
      case 'releasedir':
      case 'flush':
      case 'destroy':
        return undefined;
      case 'statfs':
        return statfsOut(fs.statfs());
      case 'access':
        if ((req.mask & 2) !== 0) throw new FuseError(ERRNO.EROFS, 'read-only');
        return undefined;
      case 'getxattr':
      case 'listxattr':
        return xattrReply(req, await fs.xattrs(req.nodeid));
      case 'other':
        throw new FuseError(WRITE_OPCODES.has(req.opcode) ? ERRNO.EROFS : ERRNO.ENOSYS, 'not supported');
    }
  }
}

/**
 * Sets the mount's read-ahead to READ_AHEAD_KB through sysfs (the kernel lets a FUSE server only
 * lower it in INIT). Best effort: without it reads are correct, only slower in order.
 */
async function raiseReadAhead(mountpoint: string): Promise<void> {
  try {
    const { dev } = await stat(mountpoint);
    // the kernel's encoding of an anonymous device (FUSE's): major in bits 8-19, minor below and above
    const major = (dev >> 8) & 0xfff;
    const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
    await writeFile(`/sys/class/bdi/${major}:${minor}/read_ahead_kb`, String(READ_AHEAD_KB));
  } catch {
    // sysfs read-only or absent (a container): keep the kernel's default
  }
}

function xattrReply(req: FuseRequest & { op: 'getxattr' | 'listxattr' }, xattrs: readonly { readonly name: Uint8Array; readonly value: Uint8Array }[]): Uint8Array {
  let value: Uint8Array;
  if (req.op === 'getxattr') {
    const hit = xattrs.find((x) => Buffer.compare(x.name, req.name) === 0);
    if (hit === undefined) throw new FuseError(ERRNO.ENODATA, 'no such attribute');
    value = hit.value;
  } else {
    value = Buffer.concat(xattrs.flatMap((x) => [x.name, new Uint8Array(1)]));
  }
  if (req.size === 0) return xattrSizeOut(value.length);
  if (req.size < value.length) throw new FuseError(ERRNO.ERANGE, 'buffer too small');
  return value;
}
