/**
 * `holdfast restore SNAPSHOT ARCHIVE TARGET`: restores an image to a file (or `-` for stdout),
 * a directory archive into a directory, or a blob to a file. Every chunk is checked (CRC, digest,
 * size) before its bytes are written, so a restore yields the exact data or fails with a coded
 * error naming the archive and the chunk. Nothing is overwritten without `--overwrite`, and a
 * failed file restore leaves no file behind (see client/restore-file.ts).
 */
import type { Command } from 'commander';
import { checkNamespace, parseSnapshotPath } from '../../core/backup-ref.ts';
import { fail } from '../../core/errors.ts';
import { h2Transport } from '../../remote/h2-transport.ts';
import { RestoreReader } from '../../remote/restore-reader.ts';
import { traceMark } from '../../core/trace-timing.ts';
import { extractPxar } from '../../client/pxar-extract.ts';
import { checkRestoreTarget, restoreToFile } from '../../client/restore-file.ts';
import { formatSize } from '../benchmark/units.ts';
import type { PxarWarning } from '../../client/pxar-warnings.ts';
import { addClientOptions, addKeyOption, loadCrypt, openClient, type ClientFlags } from '../client-options.ts';
import type { CliContext } from '../context.ts';

export interface RestoreFlags extends ClientFlags {
  readonly overwrite?: boolean;
}

/** root.pxar, root.pxar.didx and the split root.mpxar / root.ppxar[.didx]: archives of a directory tree. */
const DIRECTORY_ARCHIVE = /\.[mp]?pxar(\.didx)?$/;

export async function runRestore(ctx: CliContext, snapshot: string, archive: string, target: string, f: RestoreFlags): Promise<string> {
  const ref = parseSnapshotPath(checkNamespace(f.ns ?? ''), snapshot);
  if (target === '-' && DIRECTORY_ARCHIVE.test(archive)) {
    // checked before connecting: `-` is no directory name anyone means (it used to become one)
    throw fail('INVALID_ARGUMENT', `${archive} is a directory archive: restore it into a directory; - (stdout) takes an image or a blob`, { archive, target });
  }
  const loaded = await loadCrypt(ctx, f.keyfile);
  const { repo, client } = await openClient(ctx, f);
  const session = await client.upgrade(
    'reader',
    { store: repo.store, 'backup-type': ref.type, 'backup-id': ref.id, 'backup-time': ref.time, ...(ref.ns ? { ns: ref.ns } : {}) },
    'proxmox-backup-reader-protocol-v1',
  );
  const t = h2Transport(session);
  let reader: RestoreReader | undefined;
  try {
    reader = await RestoreReader.open(t, loaded?.crypt, { workers: true });
    traceMark('restore: manifest');
    const split = reader.splitArchive(archive);
    if (split !== undefined) {
      // the extractor copies file data before it reads on (ExtractOptions.payload), so the
      // payload stream's chunk memory is recycled; the metadata stream's is not (entries keep views)
      const payload = reader.stream(split.payload, undefined, { recycle: true });
      const opts = { overwrite: f.overwrite === true, payload, onWarning: (w: PxarWarning) => ctx.err(`warning: ${w.path}: ${w.message}`) };
      const r = await extractPxar(reader.stream(split.metadata), target, opts);
      traceMark('restore: extracted');
      return `restored ${split.metadata} + ${split.payload}: ${r.entries} entries, ${formatSize(r.bytes)} to ${target}${r.skipped ? ` (${r.skipped} skipped)` : ''}`;
    }
    const entry = reader.fileEntry(archive);
    const overwrite = f.overwrite === true;
    if (entry.filename.endsWith('.pxar.didx')) {
      const r = await extractPxar(reader.stream(entry.filename), target, { overwrite, onWarning: (w) => ctx.err(`warning: ${w.path}: ${w.message}`) });
      return `restored ${entry.filename}: ${r.entries} entries, ${formatSize(r.bytes)} to ${target}${r.skipped ? ` (${r.skipped} skipped)` : ''}`;
    }
    // both targets are done with each chunk before they ask for the next (a file writes it whole,
    // stdout's write has called back), so chunk memory is recycled: no buffer per chunk to collect
    const recycle = true;
    const pieces = entry.filename.endsWith('.blob') ? blobPieces(reader, entry.filename) : reader.stream(entry.filename, undefined, { recycle });
    if (target !== '-') await checkRestoreTarget(target, overwrite);
    const bytes = target === '-' ? await toStdout(pieces) : await restoreToFile(target, pieces, overwrite);
    return `restored ${entry.filename} (${formatSize(bytes)}) to ${target}`;
  } finally {
    await reader?.close();
    await t.close();
  }
}

async function* blobPieces(reader: RestoreReader, name: string): AsyncGenerator<Uint8Array> {
  yield await reader.readBlob(name);
}

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
    .option('--overwrite', 'allow a non-empty target directory, an existing target file, or a device (an image written onto a block device in place)');
  addKeyOption(addClientOptions(cmd)).action(async (snapshot: string, archive: string, target: string, f: RestoreFlags) => {
    const msg = await runRestore(ctx, snapshot, archive, target, f);
    if (target !== '-') ctx.out(msg);
  });
}
