/**
 * File-name and path rules shared by encoder, decoder and extractor. Names are byte strings; the
 * rules (pxar-format.md §11) keep every name a single safe path component, which is what stops
 * an archive from writing outside the restore target.
 */
import { MAX_FILENAME_LEN, MAX_PATH_LEN } from './constants.ts';

const SLASH = 0x2f;
const DOT = 0x2e;

/** Why a name is not a safe single path component, or undefined when it is. */
export function nameProblem(name: Uint8Array): string | undefined {
  if (name.length === 0) return 'empty name';
  if (name.length > MAX_FILENAME_LEN) return 'name longer than 4096 bytes';
  if (name.includes(SLASH)) return 'name contains "/"';
  if (name.includes(0)) return 'name contains NUL';
  if (name[0] === DOT && (name.length === 1 || (name.length === 2 && name[1] === DOT))) return 'name is "." or ".."';
  return undefined;
}

/**
 * Why a hardlink target is not a relative path of safe components, or undefined when it is.
 * A leading "/" is tolerated (the pxar crate's own test data writes one) but no component may be
 * empty, "." or "..".
 */
export function relativePathProblem(path: Uint8Array): string | undefined {
  if (path.length > MAX_PATH_LEN) return 'path longer than 4096 bytes';
  const body = path[0] === SLASH ? path.subarray(1) : path;
  if (body.length === 0) return 'empty path';
  let start = 0;
  for (let i = 0; i <= body.length; i++) {
    if (i === body.length || body[i] === SLASH) {
      const problem = nameProblem(body.subarray(start, i));
      if (problem !== undefined) return `component ${problem}`;
      start = i + 1;
    }
  }
  return undefined;
}

/** Splits a path checked by `relativePathProblem` into its components. */
export function pathComponents(path: Uint8Array): Uint8Array[] {
  const body = path[0] === SLASH ? path.subarray(1) : path;
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= body.length; i++) {
    if (i === body.length || body[i] === SLASH) {
      parts.push(body.subarray(start, i));
      start = i + 1;
    }
  }
  return parts;
}

/** `parent/name` (or just `name` at the root), as bytes. */
export function joinPath(parent: Uint8Array, name: Uint8Array): Uint8Array {
  if (parent.length === 0) return name;
  const out = new Uint8Array(parent.length + 1 + name.length);
  out.set(parent, 0);
  out[parent.length] = SLASH;
  out.set(name, parent.length + 1);
  return out;
}

const lossyUtf8 = new TextDecoder('utf-8', { fatal: false });

/** A byte path as text; bytes that are not valid UTF-8 become U+FFFD (for display only). */
export function pathText(path: Uint8Array): string {
  return lossyUtf8.decode(path);
}
