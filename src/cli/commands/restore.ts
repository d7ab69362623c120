/**
 * `holdfast restore SNAPSHOT ARCHIVE TARGET`: restores an image to a file (or `-` for stdout),
 * a directory archive into a directory, or a blob to a file. Every chunk is checked (CRC, digest,
 * size) before its bytes are written, so a restore yields the exact data or fails with a coded
 * error naming the archive and the chunk. Nothing is overwritten without `--overwrite`, and a
 * failed file restore leaves no file behind (see client/restore-file.ts).
 *
 * `--path P` (repeatable) restores only P of a directory archive, at its place under the target
 * (format/pxar/selection.ts). Of a split archive, the metadata archive is read once to find P's
 * files (a missing P is NOT_FOUND before the target is touched), then again to restore them with
 * only the payload chunks that hold their data (format/pxar/ranged-payload.ts). With one `--path`
 * naming a file, the target may be `-`: the file's bytes go to stdout.
 *
 * On a terminal a progress bar counts the bytes fetched of the archive that carries the data (the
 * image, the unified archive, the payload archive) against its size; a partial restore has no
 * total (its chunks are found as it goes), so the bar shows bytes and throughput.
 */
import type { Command } from 'commander';
import { checkNamespace, parseSnapshotPath } from '../../core/backup-ref.ts';
import { fail } from '../../core/errors.ts';
import { CLIENT_LOG_BLOB_NAME } from '../../core/names.ts';
import type { RestoreReader } from '../../remote/restore-reader.ts';
import { traceMark } from '../../core/trace-timing.ts';
import { extractPxar } from '../../client/pxar-extract.ts';
import { checkRestoreTarget, restoreToFile } from '../../client/restore-file.ts';
import { formatSize } from '../benchmark/units.ts';
import type { PxarWarning } from '../../client/pxar-warnings.ts';
import { addClientOptions, addKeyOption, addRateOptions, collect, entrySelection, rateBucket, type ClientFlags, type RateFlags } from '../client-options.ts';
import { openReaderSession } from '../reader-session.ts';
import { decodePxar } from '../../format/pxar/decoder.ts';
import { pathText } from '../../format/pxar/names.ts';
import { payloadRanges, RangedPayloadReader, type PositionedPiece } from '../../format/pxar/ranged-payload.ts';
import { progressLine, type ProgressLine } from '../render.ts';
import { hardlinkTargetPath, PathSelection, samePath, type EntrySelection } from '../../format/pxar/selection.ts';
import type { PxarEvent } from '../../format/pxar/entry.ts';
import type { CliContext } from '../context.ts';

export interface RestoreFlags extends ClientFlags, RateFlags {
  readonly overwrite?: boolean;
  readonly path?: readonly string[];
  readonly pattern?: readonly string[];
  readonly ignoreOwnership?: boolean;
  readonly ignoreXattrs?: boolean;
  readonly ignoreAcls?: boolean;
}

/** What of the stored metadata a directory restore applies (PBS's --ignore-* options). */
const metadataOptions = (f: RestoreFlags): { owner?: boolean; xattrs?: boolean; acls?: boolean } => ({
  ...(f.ignoreOwnership === true ? { owner: false } : {}),
  ...(f.ignoreXattrs === true ? { xattrs: false } : {}),
  ...(f.ignoreAcls === true ? { acls: false } : {}),
});

/** root.pxar, root.pxar.didx and the split root.mpxar / root.ppxar[.didx]: archives of a directory tree. */
const DIRECTORY_ARCHIVE = /\.[mp]?pxar(\.didx)?$/;
/** Archives that hold no tree to select a path in. */
const FLAT_ARCHIVE = /\.(img|fidx|blob|conf|json|log)$/;

const selectionNote = (select: EntrySelection | undefined): string => (select === undefined ? '' : ` (${select.description})`);

export async function runRestore(ctx: CliContext, snapshot: string, archive: string, target: string, f: RestoreFlags): Promise<string> {
  const ref = parseSnapshotPath(checkNamespace(f.ns ?? ''), snapshot);
  const select = entrySelection(f);
  const oneFile = select instanceof PathSelection && select.paths.length === 1 ? select.paths[0] : undefined;
  if (target === '-' && DIRECTORY_ARCHIVE.test(archive) && oneFile === undefined) {
    // checked before connecting: `-` is no directory name anyone means (it used to become one)
    throw fail('INVALID_ARGUMENT', `${archive} is a directory archive: restore it into a directory, or one file of it to - (stdout) with --path FILE`, { archive, target });
  }
  if (select !== undefined && FLAT_ARCHIVE.test(archive)) {
    throw fail('INVALID_ARGUMENT', `--path and --pattern select files of a directory archive; ${archive} is an image or a blob`, { archive, param: 'path' });
  }
  const session = await openReaderSession(ctx, f, ref, { workers: true, rate: rateBucket(f) });
  const reader = session.reader;
  // no bar beside bytes going to stdout: on a terminal the two would mix
  const bar = progressLine(target === '-' ? { ...ctx, isTTY: false } : ctx, 'Restoring', 'bytes');
  const sizeOf = (name: string): number | undefined => (select === undefined ? reader.fileEntry(name).size : undefined);
  try {
    const split = reader.splitArchive(archive);
    if (target === '-' && select !== undefined && oneFile !== undefined) {
      const events = split === undefined ? decodePxar(reader.stream(reader.fileEntry(archive).filename)) : decodePxar(reader.stream(split.metadata), { payload: await selectedPayload(reader, split, select, bar), payloadFor: (e) => select.covers(e.path, false) });
      const bytes = await toStdout(fileData(select.select(events), oneFile));
      return `restored ${pathText(oneFile)} (${formatSize(bytes)}) to stdout`;
    }
    if (split !== undefined) {
      // the extractor copies file data before it reads on (ExtractOptions.payload), so the
      // payload stream's chunk memory is recycled; the metadata stream's is not (entries keep views)
      const payload = select === undefined ? counted(reader.stream(split.payload, undefined, { recycle: true }), bar, sizeOf(split.payload)) : await selectedPayload(reader, split, select, bar);
      const opts = { overwrite: f.overwrite === true, payload, onWarning: (w: PxarWarning) => ctx.err(`warning: ${w.path}: ${w.message}`), ...(select ? { select } : {}), ...metadataOptions(f) };
      const r = await extractPxar(reader.stream(split.metadata), target, opts);
      traceMark('restore: extracted');
      bar.end();
      return `restored ${split.metadata} + ${split.payload}${selectionNote(select)}: ${r.entries} entries, ${formatSize(r.bytes)} to ${target}${r.skipped ? ` (${r.skipped} skipped)` : ''}`;
    }
    const overwrite = f.overwrite === true;
    if (isClientLog(archive) && !reader.manifest.files.some((x) => x.filename === CLIENT_LOG_BLOB_NAME)) {
      // added after the backup (snapshot upload-log), so not in the manifest
      const log = await reader.readClientLog();
      if (target !== '-') await checkRestoreTarget(target, overwrite);
      const bytes = target === '-' ? await toStdout(single(log)) : await restoreToFile(target, single(log), overwrite);
      return `restored ${CLIENT_LOG_BLOB_NAME} (${formatSize(bytes)}) to ${target}`;
    }
    const entry = reader.fileEntry(archive);
    if (entry.filename.endsWith('.pxar.didx')) {
      const opts = { overwrite, onWarning: (w: PxarWarning) => ctx.err(`warning: ${w.path}: ${w.message}`), ...(select ? { select } : {}), ...metadataOptions(f) };
      const r = await extractPxar(counted(reader.stream(entry.filename), bar, sizeOf(entry.filename)), target, opts);
      bar.end();
      return `restored ${entry.filename}${selectionNote(select)}: ${r.entries} entries, ${formatSize(r.bytes)} to ${target}${r.skipped ? ` (${r.skipped} skipped)` : ''}`;
    }
    if (select !== undefined) throw fail('INVALID_ARGUMENT', `--path and --pattern select files of a directory archive; ${entry.filename} is not one`, { archive: entry.filename, param: 'path' });
    // both targets are done with each chunk before they ask for the next (a file writes it whole,
    // stdout's write has called back), so chunk memory is recycled: no buffer per chunk to collect
    const recycle = true;
    const pieces = entry.filename.endsWith('.blob') ? blobPieces(reader, entry.filename) : counted(reader.stream(entry.filename, undefined, { recycle }), bar, entry.size);
    if (target !== '-') await checkRestoreTarget(target, overwrite);
    const bytes = target === '-' ? await toStdout(pieces) : await restoreToFile(target, pieces, overwrite);
    bar.end();
    return `restored ${entry.filename} (${formatSize(bytes)}) to ${target}`;
  } finally {
    bar.end();
    await session.close();
  }
}

/**
 * The bytes of the one file `path` among selected events, for a restore to stdout; a directory,
 * symlink or anything else at `path` is INVALID_ARGUMENT (there are no bytes to write).
 */
async function* fileData(events: AsyncIterable<PxarEvent>, path: Uint8Array): AsyncGenerator<Uint8Array> {
  let inFile = false;
  for await (const ev of events) {
    if (ev.type === 'data') {
      if (inFile) yield ev.bytes;
      continue;
    }
    inFile = false;
    if (ev.type !== 'entry' || !samePath(ev.entry.path, path)) continue;
    const e = ev.entry;
    if (e.kind !== 'file') {
      const what = e.kind === 'hardlink' || e.kind === 'symlink' ? `a ${e.kind} to '${pathText(e.kind === 'hardlink' ? hardlinkTargetPath(e) : e.target)}'` : `a ${e.kind}`;
      throw fail('INVALID_ARGUMENT', `'${pathText(path)}' is ${what}, not a file: only a file's bytes go to - (stdout)`, { path: pathText(path), kind: e.kind });
    }
    inFile = true;
  }
}

/** The pieces of `source` as they pass, their bytes counted into the progress bar. */
async function* counted<T extends Uint8Array | PositionedPiece>(source: AsyncIterable<T>, bar: ProgressLine, total: number | undefined): AsyncGenerator<T> {
  let done = 0;
  for await (const piece of source) {
    done += piece instanceof Uint8Array ? piece.length : piece.bytes.length;
    bar.update(done, total);
    yield piece;
  }
}

/**
 * The payload of the selected files only: a first read of the metadata archive finds them (and
 * fails with NOT_FOUND on a path that is not there, before the target is touched), then only the
 * payload chunks that hold their bytes are fetched.
 */
async function selectedPayload(reader: RestoreReader, split: { readonly metadata: string; readonly payload: string }, select: EntrySelection, bar: ProgressLine): Promise<RangedPayloadReader> {
  const ranges = await payloadRanges(select.select(decodePxar(reader.stream(split.metadata))));
  return new RangedPayloadReader(counted(reader.streamRanges(split.payload, ranges, { recycle: true }), bar, undefined));
}

async function* blobPieces(reader: RestoreReader, name: string): AsyncGenerator<Uint8Array> {
  yield await reader.readBlob(name);
}

async function* single(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

const isClientLog = (archive: string): boolean => archive === 'client.log' || archive === CLIENT_LOG_BLOB_NAME;

/**
 * Writes each piece and waits for its write to call back before the next: the piece's memory is
 * then reused for a later chunk. (On Linux stdout writes to files, pipes and sockets are
 * synchronous anyway; the wait keeps reuse safe where they are not.)
 */
async function toStdout(pieces: AsyncIterable<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const piece of pieces) {
    bytes += piece.length;
    await new Promise<void>((resolve, reject) => process.stdout.write(piece, (e) => (e ? reject(e) : resolve())));
  }
  return bytes;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('restore')
    .description('restore an archive of a snapshot: an image to a file, a directory archive into a directory, a blob to a file')
    .argument('<snapshot>', 'TYPE/ID/TIME, e.g. host/web1/2026-11-24T10:00:00Z (TIME may be epoch seconds)')
    .argument('<archive>', 'archive name, e.g. root.pxar (unified or split .mpxar/.ppxar), disk.img or app.conf')
    .argument('<target>', 'target file or directory (- for stdout, images and blobs only)')
    .option('--overwrite', 'allow a non-empty target directory, an existing target file, or a device (an image written onto a block device in place)')
    .option('--path <path>', 'restore only this file or directory of a directory archive, at its place under the target (repeatable; e.g. etc/ssl)', collect)
    .option('--pattern <glob>', "restore only what matches (repeatable; .pxarexclude syntax: '*.conf' at any depth, '/etc/**' from the root, 'logs/' directories only)", collect)
    .option('--ignore-ownership', 'do not restore owners and groups (as root; others never do)')
    .option('--ignore-xattrs', 'do not restore extended attributes and file capabilities')
    .option('--ignore-acls', 'do not restore POSIX ACLs');
  addRateOptions(addKeyOption(addClientOptions(cmd))).action(async (snapshot: string, archive: string, target: string, f: RestoreFlags) => {
    const msg = await runRestore(ctx, snapshot, archive, target, f);
    if (target !== '-') ctx.out(msg);
  });
}
