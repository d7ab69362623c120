/**
 * Directory listings for the catalog route, in PBS's ArchiveEntry shape:
 * `{filepath (base64 of /ARCHIVE/path), text (the name), type (d f l h b c p s), leaf, size?, mtime?}`.
 *
 * - The snapshot's root lists its pxar archives (unified and split) as directories.
 * - In a unified archive the snapshot's catalog (`catalog.pcat1.didx`) answers, as in PBS; it is
 *   read whole (PBS does too), up to MAX_CATALOG_BYTES; without a catalog, or a larger one, the
 *   archive itself is decoded.
 * - In a split archive the metadata archive is decoded (PBS writes no catalog for those) up to
 *   the end of the listed directory; the payload archive is never read.
 */
import { fail } from '../../core/errors.ts';
import type { SnapshotRef } from '../../core/backup-ref.ts';
import { CATALOG_NAME } from '../../core/names.ts';
import { ArchiveReader } from '../../datastore/archive-reader.ts';
import type { Datastore } from '../../datastore/datastore.ts';
import type { Manifest } from '../../format/manifest.ts';
import { CATALOG_ENTRY_TYPES, catalogRootOffset, readCatalogBlock, type CatalogEntry, type CatalogEntryType } from '../../format/pxar/catalog.ts';
import type { PxarEntry } from '../../format/pxar/entry.ts';
import { joinPath, pathComponents, pathText } from '../../format/pxar/names.ts';
import { archiveKind, encodeArchivePath, type ArchivePath } from './archive-path.ts';
import { isWithin } from '../../format/pxar/selection.ts';
import { PxarView } from './pxar-view.ts';

/** A catalog larger than this is not read into memory; the archive is decoded instead. */
export const MAX_CATALOG_BYTES = 64 * 1024 * 1024;

export interface ArchiveEntryJson {
  readonly filepath: string;
  readonly text: string;
  readonly type: string;
  readonly leaf: boolean;
  readonly size?: number;
  readonly mtime?: number;
}

const typeChar = (t: CatalogEntryType): string => String.fromCharCode(CATALOG_ENTRY_TYPES[t]);

function entryJson(archive: string, path: Uint8Array, type: CatalogEntryType, size?: number, mtime?: number): ArchiveEntryJson {
  const name = path.subarray(path.lastIndexOf(0x2f) + 1);
  return {
    filepath: encodeArchivePath(archive, path),
    text: pathText(name),
    type: typeChar(type),
    leaf: type !== 'directory',
    ...(size === undefined ? {} : { size }),
    ...(mtime === undefined ? {} : { mtime }),
  };
}

/** The snapshot's pxar archives, as directories. */
export function listArchives(manifest: Manifest): ArchiveEntryJson[] {
  return manifest.files
    .filter((f) => archiveKind(f.filename) !== undefined)
    .map((f) => ({ filepath: encodeArchivePath(f.filename, new Uint8Array(0)), text: f.filename, type: 'd', leaf: false, size: f.size }));
}

function notADirectory(path: Uint8Array): Error {
  return fail('INVALID_ARGUMENT', `'${pathText(path)}' is not a directory`, { path: pathText(path) });
}

/** The entries of the directory `at` in a catalog, or undefined to fall back to the archive. */
async function fromCatalog(store: Datastore, ref: SnapshotRef, manifest: Manifest, p: ArchivePath & { archive: string }): Promise<ArchiveEntryJson[] | undefined> {
  if (!manifest.files.some((f) => f.filename === CATALOG_NAME)) return undefined;
  const reader = await ArchiveReader.open(store, ref, CATALOG_NAME);
  if (reader.size > MAX_CATALOG_BYTES) return undefined;
  const parts: Uint8Array[] = [];
  for await (const piece of reader.stream()) parts.push(piece);
  const catalog = Buffer.concat(parts);
  let block = catalogRootOffset(catalog);
  const find = (entries: CatalogEntry[], name: Uint8Array): CatalogEntry | undefined => entries.find((e) => Buffer.compare(e.name, name) === 0);
  const top = find(readCatalogBlock(catalog, block), Buffer.from(p.archive));
  if (top?.blockOffset === undefined) return undefined;
  block = top.blockOffset;
  for (const name of p.inner.length === 0 ? [] : pathComponents(p.inner)) {
    const e = find(readCatalogBlock(catalog, block), name);
    if (e === undefined) throw fail('NOT_FOUND', `'${pathText(p.inner)}' is not in the archive`, { path: pathText(p.inner) });
    if (e.blockOffset === undefined) throw notADirectory(p.inner);
    block = e.blockOffset;
  }
  return readCatalogBlock(catalog, block).map((e) =>
    entryJson(p.archive, joinPath(p.inner, e.name), e.type, e.size === undefined ? undefined : Number(e.size), e.mtime === undefined ? undefined : Number(e.mtime)),
  );
}

function pxarEntryJson(archive: string, e: PxarEntry): ArchiveEntryJson {
  if (e.kind === 'hardlink') return entryJson(archive, e.path, 'hardlink');
  const mtime = Number(e.metadata.stat.mtime.secs);
  return entryJson(archive, e.path, e.kind, e.kind === 'file' ? e.size : undefined, mtime);
}

/** Whether `path` is a direct child of `dir`. */
function isChild(path: Uint8Array, dir: Uint8Array): boolean {
  if (!isWithin(path, dir) || path.length === dir.length) return false;
  return !path.subarray(dir.length === 0 ? 0 : dir.length + 1).includes(0x2f);
}

async function fromArchive(view: PxarView, p: ArchivePath & { archive: string }): Promise<ArchiveEntryJson[]> {
  const out: ArchiveEntryJson[] = [];
  let first = true;
  for await (const ev of view.events(p.inner, false)) {
    if (ev.type !== 'entry') continue;
    if (first && ev.entry.kind !== 'directory') throw notADirectory(p.inner);
    first = false;
    if (isChild(ev.entry.path, p.inner)) out.push(pxarEntryJson(p.archive, ev.entry));
  }
  return out;
}

/** The listing the catalog route answers for `p`. */
export async function listDirectory(store: Datastore, ref: SnapshotRef, p: ArchivePath): Promise<ArchiveEntryJson[]> {
  const manifest = await store.readManifest(ref);
  if (p.archive === undefined) return listArchives(manifest);
  if (!manifest.files.some((f) => f.filename === p.archive)) throw fail('NOT_FOUND', `snapshot ${store.show(ref)} has no archive '${p.archive}'`, { archive: p.archive });
  const at = { ...p, archive: p.archive };
  if (p.kind === 'unified') {
    const listed = await fromCatalog(store, ref, manifest, at);
    if (listed !== undefined) return listed;
  }
  return fromArchive(await PxarView.open(store, ref, p.archive, p.kind), at);
}
