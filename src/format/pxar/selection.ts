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

/**
 * What a partial restore or a listing selects: paths (`PathSelection`, `--path`) or glob patterns
 * (client/pattern-selection.ts, `--pattern`). An entry is selected when it, or a directory above
 * it, is; the directories on the way to a selected entry come along (with their metadata).
 */
export interface EntrySelection {
  /** Whether the entry at `path` is selected: it, or a directory above it, is (never the root). */
  covers(path: Uint8Array, isDir: boolean): boolean;
  /** The events of what is selected and of the directories leading to it; NOT_FOUND when something asked for is not there. */
  select(events: AsyncIterable<PxarEvent>): AsyncGenerator<PxarEvent>;
  /** Whether a walk of a catalog must go into the directory `path` (a selection may lie below). */
  mayHoldSelected(path: Uint8Array): boolean;
  /** Counts what a listing found, and raises NOT_FOUND as `select` would when something asked for was not there. */
  tracker(): { see(path: Uint8Array): void; check(): void };
  /** The paths or patterns, for messages. */
  readonly description: string;
}

export class PathSelection implements EntrySelection {
  /** The selected paths, none inside another, components joined by "/". */
  readonly paths: readonly Uint8Array[];
  readonly description: string;

  private constructor(paths: readonly Uint8Array[]) {
    this.paths = paths;
    this.description = paths.map((p) => pathText(p)).join(', ');
  }

  select(events: AsyncIterable<PxarEvent>): AsyncGenerator<PxarEvent> {
    return selectEvents(events, this);
  }

  mayHoldSelected(path: Uint8Array): boolean {
    return this.covers(path) || this.leadsTo(path);
  }

  tracker(): { see(path: Uint8Array): void; check(): void } {
    const found = new Set<Uint8Array>();
    return {
      see: (path) => {
        for (const p of this.paths) if (samePath(p, path)) found.add(p);
      },
      check: () => {
        const missing = this.paths.find((p) => !found.has(p));
        if (missing !== undefined) throw fail('NOT_FOUND', `'${pathText(missing)}' is not in the archive`, { path: pathText(missing) });
      },
    };
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
  covers(path: Uint8Array, _isDir = false): boolean {
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

/** An entry or a directory's end: what a selection decides on (preludes and file data follow from it). */
type Structural = Extract<PxarEvent, { readonly type: 'entry' | 'directory-end' }>;

/**
 * The walk both selections share: the prelude goes through, and a file's data goes through when
 * `step` gave out that file's entry. Every entry and directory end goes to `step`, which yields
 * what to give out for it and returns true to stop reading the archive.
 */
async function* withFileData(events: AsyncIterable<PxarEvent>, step: (ev: Structural) => Generator<PxarEvent, boolean>): AsyncGenerator<PxarEvent> {
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
    const decided = step(ev);
    for (let r = decided.next(); ; r = decided.next()) {
      if (r.done === true) {
        if (r.value) return;
        break;
      }
      if (r.value === ev && ev.type === 'entry' && ev.entry.kind === 'file') keepData = true;
      yield r.value;
    }
  }
}

/** The events of the selected subtrees and their ancestors; see the module comment. */
export async function* selectEvents(events: AsyncIterable<PxarEvent>, selection: PathSelection): AsyncGenerator<PxarEvent> {
  let open: Wanted[] = selection.paths.map((path) => ({ path, found: false }));
  const keptDirs: PxarEntry[] = [];
  function* step(ev: Structural): Generator<PxarEvent, boolean> {
    const path = ev.entry.path;
    if (ev.type === 'entry') {
      // a found path is behind once an entry outside it comes
      open = open.filter((w) => !w.found || isWithin(path, w.path));
      if (open.length === 0) return true;
      const e = ev.entry;
      for (const w of open) if (samePath(path, w.path)) w.found = true;
      const kept = selection.covers(path) || (e.kind === 'directory' && selection.leadsTo(path));
      if (kept && e.kind === 'directory') keptDirs.push(e);
      if (kept) yield ev;
      return false;
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
    return open.length === 0;
  }
  yield* withFileData(events, step);
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

/**
 * The events of the entries `matches` selects (a selected directory brings its whole subtree),
 * with the directories leading to them; for glob patterns, where which directories lead to a
 * match is known only once one is met. A directory's entry is therefore held back and given out
 * just before the first selected entry below it (never if there is none), and its end only if
 * its entry was given. The archive is read to its end (a match may come anywhere); nothing
 * selected at all is NOT_FOUND (`what` names the patterns).
 */
export async function* matchEvents(events: AsyncIterable<PxarEvent>, matches: (path: Uint8Array, isDir: boolean) => boolean, what: string): AsyncGenerator<PxarEvent> {
  const stack: { readonly entry: PxarEntry; given: boolean; readonly selected: boolean }[] = [];
  let any = false;
  function* step(ev: Structural): Generator<PxarEvent, boolean> {
    if (ev.type === 'directory-end') {
      if (stack.pop()?.given === true) yield ev;
      return false;
    }
    const e = ev.entry;
    const selected = e.path.length > 0 && (stack.at(-1)?.selected === true || matches(e.path, e.kind === 'directory'));
    if (e.kind === 'directory') stack.push({ entry: e, given: false, selected });
    if (!selected) return false;
    any = true;
    for (const f of stack) {
      if (f.given) continue;
      f.given = true; // held back until now: the first selected entry at or below it
      yield { type: 'entry', entry: f.entry };
    }
    if (e.kind !== 'directory') yield ev;
    return false;
  }
  yield* withFileData(events, step);
  if (!any) throw fail('NOT_FOUND', `nothing in the archive matches ${what}`, { pattern: what });
}
