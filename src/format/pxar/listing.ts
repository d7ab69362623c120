/**
 * The entries of a directory archive as a listing shows them (`holdfast catalog dump`): path,
 * kind, and where the source says so size, mtime and link target. Two sources give the same rows:
 * - decoded archive events (a split archive's metadata archive, or a unified archive read whole);
 * - PBS's catalog (`catalog.pcat1.didx`), which a unified backup uploads so that listing it needs
 *   no archive chunk; it knows files' size and mtime, and no link targets or directory mtimes.
 *
 * Both list in archive order (depth first, names in byte order), leave out the archive's root,
 * and with a selection list only what is inside it: a selected path that is not there is
 * NOT_FOUND (selection.ts).
 */
import { catalogRootOffset, readCatalogBlock, type CatalogEntryType } from './catalog.ts';
import type { PxarEntry, PxarEvent } from './entry.ts';
import { joinPath } from './names.ts';
import { hardlinkTargetPath, type EntrySelection } from './selection.ts';

export type ListedKind = CatalogEntryType;

export interface ListedEntry {
  readonly kind: ListedKind;
  /** From the archive root, components joined by "/". */
  readonly path: Uint8Array;
  /** Files only. */
  readonly size?: number;
  /** Seconds; files only in a catalog. */
  readonly mtime?: number;
  /** Symlinks and hardlinks, when the source has it. */
  readonly target?: Uint8Array;
}

function fromEntry(e: PxarEntry): ListedEntry {
  if (e.kind === 'hardlink') return { kind: e.kind, path: e.path, target: hardlinkTargetPath(e) };
  const base = { kind: e.kind, path: e.path, mtime: Number(e.metadata.stat.mtime.secs) };
  if (e.kind === 'file') return { ...base, size: e.size };
  if (e.kind === 'symlink') return { ...base, target: e.target };
  return base;
}

/** The entries among decoded events (already selected, when a selection applies), root left out. */
export async function* listedFromEvents(events: AsyncIterable<PxarEvent>, select?: EntrySelection): AsyncGenerator<ListedEntry> {
  for await (const ev of events) {
    if (ev.type !== 'entry' || ev.entry.path.length === 0) continue;
    if (select !== undefined && !select.covers(ev.entry.path, ev.entry.kind === 'directory')) continue; // a directory on the way
    yield fromEntry(ev.entry);
  }
}

/**
 * The entries of archive `archive` (its manifest name, e.g. `root.pxar.didx`) in a catalog, or
 * undefined when the catalog has no directory of that name.
 */
export function listedFromCatalog(catalog: Uint8Array, archive: string, select?: EntrySelection): Generator<ListedEntry> | undefined {
  const top = readCatalogBlock(catalog, catalogRootOffset(catalog)).find((e) => e.type === 'directory' && Buffer.from(e.name).toString('latin1') === Buffer.from(archive).toString('latin1'));
  if (top?.blockOffset === undefined) return undefined;
  return walkCatalog(catalog, top.blockOffset, select);
}

function* walkCatalog(catalog: Uint8Array, rootBlock: number, select: EntrySelection | undefined): Generator<ListedEntry> {
  const found = select?.tracker();
  function* walk(offset: number, parent: Uint8Array): Generator<ListedEntry> {
    for (const e of readCatalogBlock(catalog, offset)) {
      const path = joinPath(parent, e.name);
      const isDir = e.type === 'directory';
      const inside = select === undefined || select.covers(path, isDir);
      if (inside) {
        found?.see(path);
        yield { kind: e.type, path, ...(e.size === undefined ? {} : { size: Number(e.size) }), ...(e.mtime === undefined ? {} : { mtime: Number(e.mtime) }) };
      }
      if (e.blockOffset !== undefined && (inside || select?.mayHoldSelected(path) === true)) yield* walk(e.blockOffset, path);
    }
  }
  yield* walk(rootBlock, new Uint8Array(0));
  found?.check();
}
