/**
 * The libc calls pxar create/extract need and node:fs lacks: the l*xattr family (never following
 * symlinks), mknod (fifos, sockets, devices) and utimensat with nanosecond times and
 * AT_SYMLINK_NOFOLLOW (node's utimes takes float seconds and would lose nanoseconds). Paths are
 * byte strings (Buffer) so non-UTF-8 names pass through untouched. Failures become
 * HoldfastErrors carrying the errno name; callers branch on `details.errno`.
 *
 * The calls go through Holdfast's native addon (native/buzhash.c). Without it (not built) they go
 * through koffi, loaded on first use: loading koffi cost 15–40 ms of every backup and restore
 * start, when it was the only way. Both paths answer the same (test: pxar-native.test.ts).
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import type koffiModule from 'koffi';
import { fail, type HoldfastError } from '../core/errors.ts';
import { nativeFunction } from '../core/native-addon.ts';
import type { PxarTime } from '../format/pxar/metadata.ts';

/** The five calls, each answering what libc answers (a size, or 0) or -errno. */
export interface LibcCalls {
  llistxattr(path: Uint8Array, buf: Uint8Array | null): number;
  lgetxattr(path: Uint8Array, name: Uint8Array, buf: Uint8Array | null): number;
  lsetxattr(path: Uint8Array, name: Uint8Array, value: Uint8Array, flags: number): number;
  mknod(path: Uint8Array, mode: number, dev: bigint): number;
  setmtime(path: Uint8Array, secs: bigint, nanos: number): number;
}

/** The addon's calls, or undefined when it is not built (or predates them). */
export function addonLibc(): LibcCalls | undefined {
  type Xattr = (op: 0 | 1 | 2, path: Uint8Array, name: Uint8Array | null, buf: Uint8Array | null, flags: number) => number;
  const xattr = nativeFunction<Xattr>('xattr');
  const mknod = nativeFunction<LibcCalls['mknod']>('mknod');
  const setmtime = nativeFunction<LibcCalls['setmtime']>('setmtime');
  if (xattr === undefined || mknod === undefined || setmtime === undefined) return undefined;
  return {
    llistxattr: (path, buf) => xattr(0, path, null, buf, 0),
    lgetxattr: (path, name, buf) => xattr(1, path, name, buf, 0),
    lsetxattr: (path, name, value, flags) => xattr(2, path, name, value, flags),
    mknod,
    setmtime,
  };
}

let koffiCalls: LibcCalls | undefined;

/** The same calls through koffi (loaded here, on first use). */
export function koffiLibc(): LibcCalls {
  return (koffiCalls ??= loadKoffiLibc());
}

function loadKoffiLibc(): LibcCalls {
  const koffi = createRequire(import.meta.url)('koffi') as typeof koffiModule;
  const libc = koffi.load('libc.so.6');
  koffi.struct('pxar_timespec', { tv_sec: 'int64_t', tv_nsec: 'long' }); // named for utimensat's signature
  const llistxattrFn = libc.func('intptr_t llistxattr(const char *path, _Out_ uint8_t *list, size_t size)');
  const lgetxattrFn = libc.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ uint8_t *value, size_t size)');
  const lsetxattrFn = libc.func('int lsetxattr(const char *path, const char *name, const uint8_t *value, size_t size, int flags)');
  const mknodFn = libc.func('int mknod(const char *path, uint32_t mode, uint64_t dev)');
  const utimensatFn = libc.func('int utimensat(int dirfd, const char *path, _Inout_ pxar_timespec *times, int flags)');
  const answer = (rc: number): number => (rc < 0 ? -koffi.errno() : rc);
  return {
    llistxattr: (path, buf) => answer(llistxattrFn(path, buf, buf?.length ?? 0) as number),
    lgetxattr: (path, name, buf) => answer(lgetxattrFn(path, name, buf, buf?.length ?? 0) as number),
    lsetxattr: (path, name, value, flags) => answer(lsetxattrFn(path, name, Buffer.from(value), value.length, flags) as number),
    mknod: (path, mode, dev) => answer(mknodFn(path, mode, dev) as number),
    setmtime: (path, secs, nanos) =>
      answer(
        utimensatFn(
          AT_FDCWD,
          path,
          [
            { tv_sec: 0, tv_nsec: UTIME_OMIT },
            { tv_sec: secs, tv_nsec: nanos },
          ],
          AT_SYMLINK_NOFOLLOW,
        ) as number,
      ),
  };
}

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const UTIME_OMIT = (1 << 30) - 2;
const ERRNO_NAMES = new Map<number, string>(Object.entries(os.constants.errno).map(([k, v]) => [v, k]));
const NUL = Buffer.of(0);

let calls: LibcCalls | undefined;
const libcCalls = (): LibcCalls => (calls ??= addonLibc() ?? koffiLibc());

function cString(bytes: Uint8Array): Buffer {
  return Buffer.concat([bytes, NUL]);
}

/** The name of the errno in `rc` (negative), e.g. 'ENOENT'. */
export const errnoName = (rc: number): string => ERRNO_NAMES.get(-rc) ?? String(-rc);

/** A HoldfastError for a failed syscall; ENOENT → NOT_FOUND, EEXIST → ALREADY_EXISTS, else IO_ERROR. */
export function errnoFail(op: string, path: Uint8Array, errno: string, cause?: unknown): HoldfastError {
  const details = { op, path: Buffer.from(path).toString(), errno };
  if (errno === 'ENOENT') return fail('NOT_FOUND', `${op}: ${details.path} does not exist`, details, cause);
  if (errno === 'EEXIST') return fail('ALREADY_EXISTS', `${op}: ${details.path} exists already`, details, cause);
  return fail('IO_ERROR', `${op} ${details.path} failed: ${errno}`, details, cause);
}

/** Wraps an error thrown by node:fs (which carries `code`) the same way. */
export function nodeFail(op: string, path: Uint8Array, e: unknown): HoldfastError {
  const code = e instanceof Error ? (e as NodeJS.ErrnoException).code : undefined;
  return errnoFail(op, path, code ?? 'UNKNOWN', e);
}

/** Xattr names of `path` in kernel order; empty when the filesystem has no xattr support. */
export function listXattrs(path: Uint8Array): Uint8Array[] {
  const libc = libcCalls();
  const p = cString(path);
  for (;;) {
    const size = libc.llistxattr(p, null);
    if (size < 0) {
      const errno = errnoName(size);
      if (errno === 'ENOTSUP' || errno === 'EOPNOTSUPP') return [];
      throw errnoFail('llistxattr', path, errno);
    }
    if (size === 0) return [];
    const buf = Buffer.alloc(size);
    const got = libc.llistxattr(p, buf);
    if (got < 0 && errnoName(got) === 'ERANGE') continue; // grew meanwhile
    if (got < 0) throw errnoFail('llistxattr', path, errnoName(got));
    const names: Uint8Array[] = [];
    let start = 0;
    for (let i = 0; i < got; i++) {
      if (buf[i] === 0) {
        if (i > start) names.push(buf.subarray(start, i));
        start = i + 1;
      }
    }
    return names;
  }
}

/** The value of one xattr, or undefined when it vanished meanwhile. */
export function getXattr(path: Uint8Array, name: Uint8Array): Uint8Array | undefined {
  const libc = libcCalls();
  const p = cString(path);
  const n = cString(name);
  for (;;) {
    const size = libc.lgetxattr(p, n, null);
    if (size < 0) {
      const errno = errnoName(size);
      if (errno === 'ENODATA') return undefined;
      throw errnoFail('lgetxattr', path, errno);
    }
    const buf = Buffer.alloc(size);
    const got = libc.lgetxattr(p, n, buf);
    if (got < 0 && errnoName(got) === 'ERANGE') continue;
    if (got < 0) throw errnoFail('lgetxattr', path, errnoName(got));
    return buf.subarray(0, got);
  }
}

export function setXattr(path: Uint8Array, name: Uint8Array, value: Uint8Array): void {
  const rc = libcCalls().lsetxattr(cString(path), cString(name), value, 0);
  if (rc !== 0) throw errnoFail('lsetxattr', path, errnoName(rc));
}

/** mknod(2): `mode` carries the file type (S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK). */
export function mknod(path: Uint8Array, mode: number, dev: bigint): void {
  const rc = libcCalls().mknod(cString(path), mode, dev);
  if (rc !== 0) throw errnoFail('mknod', path, errnoName(rc));
}

/** Sets mtime with nanosecond precision, leaves atime alone, never follows a final symlink. */
export function setMtime(path: Uint8Array, mtime: PxarTime): void {
  const rc = libcCalls().setmtime(cString(path), mtime.secs, mtime.nanos);
  if (rc !== 0) throw errnoFail('utimensat', path, errnoName(rc));
}
