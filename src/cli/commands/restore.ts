/**
 * `holdfast restore SNAPSHOT ARCHIVE TARGET`: restores an image to a file (or `-` for stdout),
 * a directory archive into a directory, or a blob to a file. Every chunk is checked (CRC, digest,
 * size) before its bytes are written, so a restore yields the exact data or fails with a coded
 * error.
 */
import { open, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { checkNamespace, parseSnapshotPath } from '../../core/backup-ref.ts';
import { h2Transport } from '../../client/h2-transport.ts';
import { RestoreReader } from '../../client/restore-reader.ts';
import { extractPxar } from '../../client/pxar-extract.ts';
import type { PxarWarning } from '../../client/pxar-warnings.ts';
import { SparseWriter } from '../../client/sparse-writer.ts';
import { addClientOptions, addKeyOption, loadCrypt, openClient, type ClientFlags } from '../client-options.ts';
import type { CliContext } from '../context.ts';

export interface RestoreFlags extends ClientFlags {
  readonly overwrite?: boolean;
}

export async function runRestore(ctx: CliContext, snapshot: string, archive: string, target: string, f: RestoreFlags): Promise<string> {
  const ref = parseSnapshotPath(checkNamespace(f.ns ?? ''), snapshot);
  const loaded = await loadCrypt(ctx, f.keyfile);
  const { repo, client } = await openClient(ctx, f);
  const session = await client.upgrade(
    'reader',
    { store: repo.store, 'backup-type': ref.type, 'backup-id': ref.id, 'backup-time': ref.time, ...(ref.ns ? { ns: ref.ns } : {}) },
    'proxmox-backup-reader-protocol-v1',
  );
  const t = h2Transport(session);
  try {
    const reader = await RestoreReader.open(t, loaded?.crypt);
    const split = reader.splitArchive(archive);
    if (split !== undefined) {
      const opts = { overwrite: f.overwrite === true, payload: reader.stream(split.payload), onWarning: (w: PxarWarning) => ctx.err(`warning: ${w.path}: ${w.message}`) };
      const r = await extractPxar(reader.stream(split.metadata), target, opts);
      return `restored ${split.metadata} + ${split.payload}: ${r.entries} entries, ${r.bytes} bytes to ${target}${r.skipped ? ` (${r.skipped} skipped)` : ''}`;
    }
    const entry = reader.fileEntry(archive);
    if (entry.filename.endsWith('.blob')) {
      const data = await reader.readBlob(entry.filename);
      if (target === '-') process.stdout.write(data);
      else await writeFile(target, data);
      return `restored ${entry.filename} (${data.length} bytes) to ${target}`;
    }
    if (entry.filename.endsWith('.pxar.didx')) {
      const r = await extractPxar(reader.stream(entry.filename), target, { overwrite: f.overwrite === true, onWarning: (w) => ctx.err(`warning: ${w.path}: ${w.message}`) });
      return `restored ${entry.filename}: ${r.entries} entries, ${r.bytes} bytes to ${target}${r.skipped ? ` (${r.skipped} skipped)` : ''}`;
    }
    let bytes = 0;
    if (target === '-') {
      for await (const piece of reader.stream(entry.filename)) {
        bytes += piece.length;
        if (!process.stdout.write(piece)) await new Promise((r) => process.stdout.once('drain', r));
      }
    } else {
      const h = await open(target, f.overwrite ? 'w' : 'wx');
      try {
        const data = new SparseWriter(h); // zero blocks become holes
        for await (const piece of reader.stream(entry.filename)) {
          await data.write(piece);
          bytes += piece.length;
        }
        await data.finish();
      } finally {
        await h.close();
      }
    }
    return `restored ${entry.filename} (${bytes} bytes) to ${target}`;
  } finally {
    await t.close();
  }
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('restore')
    .description('restore an archive of a snapshot: an image to a file, a directory archive into a directory, a blob to a file')
    .argument('<snapshot>', 'TYPE/ID/TIME, e.g. host/web1/2026-11-24T10:00:00Z (TIME may be epoch seconds)')
    .argument('<archive>', 'archive name, e.g. root.pxar (unified or split .mpxar/.ppxar), disk.img or app.conf')
    .argument('<target>', 'target file or directory (- for stdout, images and blobs only)')
    .option('--overwrite', 'allow a non-empty target directory or an existing target file');
  addKeyOption(addClientOptions(cmd)).action(async (snapshot: string, archive: string, target: string, f: RestoreFlags) => {
    const msg = await runRestore(ctx, snapshot, archive, target, f);
    if (target !== '-') ctx.out(msg);
  });
}
