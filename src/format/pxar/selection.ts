/**
 * Restoring part of a pxar archive: a `PathSelection` (the paths a user named, e.g. `etc/ssl`),
 * and `selectEvents`, which turns the decoder's events of the whole archive into the events of
 * the selected subtrees and of the directories that lead to them.
 *
 * Invariants:
 * - What is kept is a well-formed event stream: each kept directory (a selected one, or an
 *   ancestor of one) gets its `directory-end`, so an extractor applies its metadata as in a full
 *   restore; file data follows only kept files.
 * - Every selected path must be in the archive, else NOT_FOUND, raised as soon as the directory
 *   that should have held it ends (before anything after it is read).
 * - Reading stops once every selected path is behind: the open ancestors' ends are then yielded
 *   without reading the rest of the archive (a file near the start of a large archive restores
 *   without fetching the rest).
 * A hardlink inside the selection may name a target outside it: a listing shows it, a restore
 * must leave it out (client/pxar-extract.ts), as the target is not restored.
 */
import { fail } from '../../core/errors.ts';
import type { PxarEntry, PxarEvent, PxarHardlinkEntry } from './entry.ts';
import { pathText, relativePathProblem } from './names.ts';

const SLASH = 0x2f;

/** Whether `path` is `top` or below it (the empty `top` is the archive root). */
export function isWithin(path: Uint8Array, top: Uint8Array): boolean {
  if (top.length === 0) return true;
  if (path.length < top.length) return false;
  for (let i = 0; i < top.length; i++) if (path[i] !== top[i]) return false;
  return path.length === top.length || path[top.length] === SLASH;
}

/** Whether two paths are the same. */
export const samePath = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && isWithin(a, b);

/** A hardlink's target as a path from the archive root (stored with or without a leading "/"). */
export const hardlinkTargetPath = (e: PxarHardlinkEntry): Uint8Array => (e.target[0] === SLASH ? e.target.subarray(1) : e.target);

export class PathSelection {
  /** The selected paths, none inside another, components joined by "/". */
  readonly paths: readonly Uint8Array[];

  private constructor(paths: readonly Uint8Array[]) {
    this.paths = paths;
  }

  /**
   * The selection of paths as a user types them: relative to the archive root, a leading or
   * trailing "/" and "./" allowed. An empty path, "." or ".." components, or none at all is
   * INVALID_ARGUMENT: a selection of the whole archive is no selection.
   */
  static parse(texts: readonly string[]): PathSelection {
    if (texts.length === 0) throw fail('INVALID_ARGUMENT', 'no path selected', { param: 'path' });
    const parsed: Uint8Array[] = [];
    for (const text of texts) {
      const trimmed = text.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
      const bytes = Buffer.from(trimmed);
      const problem = trimmed === '' ? 'it names the whole archive (leave --path out)' : relativePathProblem(bytes);
      if (problem !== undefined) throw fail('INVALID_ARGUMENT', `path '${text}' cannot be selected: ${problem}`, { param: 'path', value: text });
      parsed.push(bytes);
    }
    // a path inside another selected one adds nothing (and would be found twice)
    const kept = parsed.filter((p, i) => !parsed.some((q, j) => j !== i && isWithin(p, q) && (!samePath(p, q) || j < i)));
    return new PathSelection(kept);
  }

  /** Whether `path` is a selected path or inside one. */
  covers(path: Uint8Array): boolean {
    return this.paths.some((p) => isWithin(path, p));
  }

  /** Whether `path` is a selected path or a directory on the way to one (the root included). */
  leadsTo(path: Uint8Array): boolean {
    return this.paths.some((p) => isWithin(p, path));
  }
}

interface Wanted {
  readonly path: Uint8Array;
  found: boolean;
}

/** The events of the selected subtrees and their ancestors; see the module comment. */
export async function* selectEvents(events: AsyncIterable<PxarEvent>, selection: PathSelection): AsyncGenerator<PxarEvent> {
  let open: Wanted[] = selection.paths.map((path) => ({ path, found: false }));
  const keptDirs: PxarEntry[] = [];
  let keepData = false;
  for await (const ev of events) {
    if (ev.type === 'prelude') {
      yield ev;
      continue;
    }
    if (ev.type === 'data') {
      if (keepData) yield ev;
      continue;
    }
    keepData = false;
    const path = ev.entry.path;
    if (ev.type === 'entry') {
      // a found path is behind once an entry outside it comes
      open = open.filter((w) => !w.found || isWithin(path, w.path));
      if (open.length === 0) break;
      const e = ev.entry;
      for (const w of open) if (samePath(path, w.path)) w.found = true;
      if (selection.covers(path)) {
        if (e.kind === 'directory') keptDirs.push(e);
        keepData = e.kind === 'file';
        yield ev;
      } else if (e.kind === 'directory' && selection.leadsTo(path)) {
        keptDirs.push(e);
        yield ev;
      }
      continue;
    }
    if (keptDirs.length > 0 && samePath(keptDirs[keptDirs.length - 1]!.path, path)) {
      keptDirs.pop();
      yield ev;
    }
    // the end of a selected directory, or of a directory that should have held a selected path
    for (const w of open) {
      if (!isWithin(w.path, path)) continue;
      if (!w.found) throw fail('NOT_FOUND', `'${pathText(w.path)}' is not in the archive`, { path: pathText(w.path) });
    }
    open = open.filter((w) => !isWithin(w.path, path));
    if (open.length === 0) break;
  }
  if (open.length > 0) {
    // only an archive that ended without its root's end (the decoder refuses that) gets here
    const w = open[0]!;
    throw fail(w.found ? 'TRUNCATED' : 'NOT_FOUND', `'${pathText(w.path)}' ${w.found ? 'was cut off' : 'is not in the archive'}`, { path: pathText(w.path) });
  }
  // everything selected is behind: close the ancestors still open without reading on
  for (let i = keptDirs.length - 1; i >= 0; i--) {
    const entry = keptDirs[i]!;
    if (entry.kind === 'directory') yield { type: 'directory-end', entry };
  }
}
