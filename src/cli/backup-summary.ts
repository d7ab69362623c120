/**
 * The summary `holdfast backup` prints at the end, shaped like restic's: entries archived, bytes
 * read, what was added to the datastore (new chunks, raw and as stored) against what was reused,
 * and the duration. Sizes are human-readable here; `--output-format json` keeps bytes.
 *
 * Entries are counted through the pxar creator's catalog hook (EntryCounter), which sees every
 * entry it encodes and keeps nothing; in split archives the files reused from the previous
 * snapshot (written as references, never read) are added by the uploader. Split archives also
 * tell files apart as new, changed or unmodified (metadata change detection), and a payload
 * archive says how much of it was reused without being read: "read" is what was read.
 */
import { CatalogWriter } from '../format/pxar/catalog.ts';
import { formatSize } from './benchmark/units.ts';

export interface EntryCounts {
  files: number;
  dirs: number;
  others: number;
}

/** A catalog sink that only counts what the pxar creator archives. */
export class EntryCounter extends CatalogWriter {
  readonly counts: EntryCounts = { files: 0, dirs: 0, others: 0 };

  override startDirectory(_name: Uint8Array): void {
    this.counts.dirs++;
  }

  override endDirectory(): void {}

  override addFile(_name: Uint8Array, _size: bigint | number, _mtimeSecs: bigint | number): void {
    this.counts.files++;
  }

  override addOther(_type: Parameters<CatalogWriter['addOther']>[0], _name: Uint8Array): void {
    this.counts.others++;
  }
}

export interface SummaryArchive {
  readonly archive: string;
  readonly size: number;
  readonly chunks?: number;
  readonly uploadedChunks?: number;
  readonly uploadedBytes?: number;
  readonly uploadedCompressed?: number;
  readonly reusedChunks?: number;
  readonly entries?: EntryCounts;
  /** split archives: files read (of them `new`: not in the previous archive) and reused unread */
  readonly files?: { readonly read: number; readonly new: number; readonly unchanged: number };
  /** a payload archive: bytes of the previous snapshot's chunks it took over unread */
  readonly unreadBytes?: number;
}

export interface SummaryInput {
  readonly snapshot: string;
  readonly archives: readonly SummaryArchive[];
  readonly seconds: number;
}

function archiveLine(a: SummaryArchive): string {
  if (a.chunks === undefined) return `  ${a.archive}: ${formatSize(a.size)} (blob)`;
  const added = `${a.uploadedChunks ?? 0} new (${formatSize(a.uploadedBytes ?? 0)}, ${formatSize(a.uploadedCompressed ?? 0)} stored)`;
  const entries = a.entries ? `, ${a.entries.files} files, ${a.entries.dirs} dirs, ${a.entries.others} other` : '';
  const size = a.unreadBytes ? `${formatSize(a.size)}, ${formatSize(Math.max(0, a.size - a.unreadBytes))} read` : `${formatSize(a.size)} read`;
  return `  ${a.archive}: ${size}${entries}; ${a.chunks} chunks: ${added}, ${a.reusedChunks ?? 0} unchanged`;
}

/** restic's "new, changed, unmodified", from metadata change detection (split archives only). */
function fileChanges(archives: readonly SummaryArchive[]): string {
  const split = archives.flatMap((a) => (a.files ? [a.files] : []));
  if (split.length === 0) return '';
  const n = (f: (x: NonNullable<SummaryArchive['files']>) => number): number => split.reduce((t, x) => t + f(x), 0);
  return ` (${n((x) => x.new)} new, ${n((x) => x.read - x.new)} changed or re-read, ${n((x) => x.unchanged)} unmodified and not read)`;
}

export function renderBackupSummary(r: SummaryInput): string {
  const sum = (f: (a: SummaryArchive) => number | undefined): number => r.archives.reduce((n, a) => n + (f(a) ?? 0), 0);
  const read = sum((a) => a.size);
  const files = sum((a) => a.entries?.files);
  const dirs = sum((a) => a.entries?.dirs);
  const blobs = r.archives.filter((a) => a.chunks === undefined);
  const addedRaw = sum((a) => a.uploadedBytes) + sum((a) => (a.chunks === undefined ? a.size : 0));
  const addedStored = sum((a) => a.uploadedCompressed) + sum((a) => (a.chunks === undefined ? a.size : 0));
  const rate = r.seconds > 0 ? `, ${formatSize(Math.round(read / r.seconds))}/s` : '';
  return [
    `snapshot ${r.snapshot} finished in ${r.seconds.toFixed(1)} s`,
    ...r.archives.map(archiveLine),
    `Files: ${files}, dirs: ${dirs}${blobs.length ? `, blobs: ${blobs.length}` : ''}${fileChanges(r.archives)}`,
    `Added to the datastore: ${formatSize(addedRaw)} (${formatSize(addedStored)} stored); reused ${sum((a) => a.reusedChunks)} of ${sum((a) => a.chunks)} chunks`,
    `processed ${formatSize(read)} in ${r.seconds.toFixed(1)} s${rate}`,
  ].join('\n');
}
