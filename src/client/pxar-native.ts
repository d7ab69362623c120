/**
 * The libc calls pxar create/extract need and node:fs lacks, through koffi: the l*xattr family
 * (never following symlinks), mknod (fifos, sockets, devices) and utimensat with nanosecond
 * times and AT_SYMLINK_NOFOLLOW (node's utimes takes float seconds and would lose nanoseconds).
 * Paths are byte strings (Buffer) so non-UTF-8 names pass through untouched. Failures become
 * HoldfastErrors carrying the errno name; callers branch on `details.errno`.
 */
import koffi from 'koffi';
import os from 'node:os';
import { fail, type HoldfastError } from '../core/errors.ts';
import type { PxarTime } from '../format/pxar/metadata.ts';

const libc = koffi.load('libc.so.6');
koffi.struct('pxar_timespec', { tv_sec: 'int64_t', tv_nsec: 'long' });
const llistxattrFn = libc.func('intptr_t llistxattr(const char *path, _Out_ uint8_t *list, size_t size)');
const lgetxattrFn = libc.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ uint8_t *value, size_t size)');
const lsetxattrFn = libc.func('int lsetxattr(const char *path, const char *name, const uint8_t *value, size_t size, int flags)');
const mknodFn = libc.func('int mknod(const char *path, uint32_t mode, uint64_t dev)');
const utimensatFn = libc.func('int utimensat(int dirfd, const char *path, pxar_timespec *times, int flags)');

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const UTIME_OMIT = (1 << 30) - 2;
const ERRNO_NAMES = new Map<number, string>(Object.entries(os.constants.errno).map(([k, v]) => [v, k]));
const NUL = Buffer.of(0);

function cString(bytes: Uint8Array): Buffer {
  return Buffer.concat([bytes, NUL]);
}

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

function lastErrno(): string {
  const n = koffi.errno();
  return ERRNO_NAMES.get(n) ?? String(n);
}

/** Xattr names of `path` in kernel order; empty when the filesystem has no xattr support. */
export function listXattrs(path: Uint8Array): Uint8Array[] {
  const p = cString(path);
  for (;;) {
    const size = llistxattrFn(p, null, 0) as number;
    if (size < 0) {
      const errno = lastErrno();
      if (errno === 'ENOTSUP' || errno === 'EOPNOTSUPP') return [];
      throw errnoFail('llistxattr', path, errno);
    }
    if (size === 0) return [];
    const buf = Buffer.alloc(size);
    const got = llistxattrFn(p, buf, size) as number;
    if (got < 0 && lastErrno() === 'ERANGE') continue; // grew meanwhile
    if (got < 0) throw errnoFail('llistxattr', path, lastErrno());
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
  const p = cString(path);
  const n = cString(name);
  for (;;) {
    const size = lgetxattrFn(p, n, null, 0) as number;
    if (size < 0) {
      const errno = lastErrno();
      if (errno === 'ENODATA') return undefined;
      throw errnoFail('lgetxattr', path, errno);
    }
    const buf = Buffer.alloc(size);
    const got = lgetxattrFn(p, n, buf, size) as number;
    if (got < 0 && lastErrno() === 'ERANGE') continue;
    if (got < 0) throw errnoFail('lgetxattr', path, lastErrno());
    return buf.subarray(0, got);
  }
}

export function setXattr(path: Uint8Array, name: Uint8Array, value: Uint8Array): void {
  if ((lsetxattrFn(cString(path), cString(name), Buffer.from(value), value.length, 0) as number) !== 0) throw errnoFail('lsetxattr', path, lastErrno());
}

/** mknod(2): `mode` carries the file type (S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK). */
export function mknod(path: Uint8Array, mode: number, dev: bigint): void {
  if ((mknodFn(cString(path), mode, dev) as number) !== 0) throw errnoFail('mknod', path, lastErrno());
}

/** Sets mtime with nanosecond precision, leaves atime alone, never follows a final symlink. */
export function setMtime(path: Uint8Array, mtime: PxarTime): void {
  const times = [
    { tv_sec: 0, tv_nsec: UTIME_OMIT },
    { tv_sec: mtime.secs, tv_nsec: mtime.nanos },
  ];
  if ((utimensatFn(AT_FDCWD, cString(path), times, AT_SYMLINK_NOFOLLOW) as number) !== 0) throw errnoFail('utimensat', path, lastErrno());
}
