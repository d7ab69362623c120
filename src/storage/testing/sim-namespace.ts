/**
 * Path lookup and errno errors for the simulator, shaped exactly like NodeFs's so the contract
 * suite can hold both to the same rules: ENOENT → NOT_FOUND, EEXIST → ALREADY_EXISTS, ENOTEMPTY →
 * DIRECTORY_NOT_EMPTY, a failing sync → SYNC_FAILED, anything else → IO_ERROR, with the errno
 * name in `details.errno`. There are no symlinks, so `..` is resolved lexically.
 */
import { fail, type HoldfastError } from '../../core/errors.ts';
import { ROOT_INO, type DirInode, type Image, type Inode } from './sim-image.ts';

export const SIM_ERRNOS = ['ENOENT', 'EEXIST', 'ENOTEMPTY', 'ENOTDIR', 'EISDIR', 'EBADF', 'EINVAL', 'EBUSY', 'EIO'] as const;
export type SimErrno = (typeof SIM_ERRNOS)[number];

const SYNC_OPS: ReadonlySet<string> = new Set(['fsync', 'fsyncDir', 'syncfs']);

export function simError(errno: SimErrno, op: string, path: string): HoldfastError {
  const details = { op, path, errno };
  if (SYNC_OPS.has(op)) return fail('SYNC_FAILED', `${op} of ${path} failed: ${errno}`, details);
  switch (errno) {
    case 'ENOENT':
      return fail('NOT_FOUND', `${op}: ${path} does not exist`, details);
    case 'EEXIST':
      return fail('ALREADY_EXISTS', `${op}: ${path} exists already`, details);
    case 'ENOTEMPTY':
      return fail('DIRECTORY_NOT_EMPTY', `${op}: ${path} is not empty`, details);
    default:
      return fail('IO_ERROR', `${op} ${path} failed: ${errno}`, details);
  }
}

/** The names along an absolute path; `/` is the empty list. */
export function splitPath(path: string, op: string): string[] {
  if (!path.startsWith('/')) throw fail('INVALID_ARGUMENT', `${op}: path must be absolute: ${path}`, { op, path });
  const names: string[] = [];
  for (const name of path.split('/')) {
    if (name === '' || name === '.') continue;
    if (name === '..') names.pop();
    else names.push(name);
  }
  return names;
}

/** The inode at `path`, or undefined when a component is missing (ENOTDIR still throws). */
export function lookup(image: Image, path: string, op: string): Inode | undefined {
  return walk(image, splitPath(path, op), op, path);
}

function walk(image: Image, names: readonly string[], op: string, path: string): Inode | undefined {
  let inode = image.get(ROOT_INO);
  for (const name of names) {
    if (inode === undefined) return undefined;
    if (inode.kind !== 'dir') throw simError('ENOTDIR', op, path);
    const ino = inode.entries.get(name);
    inode = ino === undefined ? undefined : image.get(ino);
  }
  return inode;
}

/** Like `lookup` but a missing path throws NOT_FOUND. */
export function resolve(image: Image, path: string, op: string): Inode {
  const inode = lookup(image, path, op);
  if (inode === undefined) throw simError('ENOENT', op, path);
  return inode;
}

export function resolveDir(image: Image, path: string, op: string): DirInode {
  const inode = resolve(image, path, op);
  if (inode.kind !== 'dir') throw simError('ENOTDIR', op, path);
  return inode;
}

export interface ParentAndName {
  /** Read-only view of the parent directory; use `image.writable(parent.ino)` to change it. */
  readonly parent: DirInode;
  /** The last path component; '' for the root itself. */
  readonly name: string;
  /** The inode the name points at now, if any. */
  readonly existing: Inode | undefined;
}

/** The existing parent directory of `path` and its last component. */
export function resolveParent(image: Image, path: string, op: string): ParentAndName {
  const names = splitPath(path, op);
  const name = names.pop();
  if (name === undefined) {
    const root = image.get(ROOT_INO);
    if (root?.kind !== 'dir') throw simError('EIO', op, path);
    return { parent: root, name: '', existing: root };
  }
  const parent = walk(image, names, op, path);
  if (parent === undefined) throw simError('ENOENT', op, path);
  if (parent.kind !== 'dir') throw simError('ENOTDIR', op, path);
  const ino = parent.entries.get(name);
  return { parent, name, existing: ino === undefined ? undefined : image.get(ino) };
}
