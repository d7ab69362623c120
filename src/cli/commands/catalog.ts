/**
 * `holdfast catalog dump SNAPSHOT [ARCHIVE] [--path P]`: lists the files of a snapshot's directory
 * archives, as `proxmox-backup-client catalog dump` does, so a user finds what to restore with
 * `holdfast restore … --path` without restoring anything. It reads through a reader session
 * (encrypted snapshots too, with `--keyfile`), and reads little:
 * - a split archive (`NAME.mpxar` + `NAME.ppxar`): only the metadata archive;
 * - a unified archive: the snapshot's catalog (`catalog.pcat1.didx`) when it is there and at most
 *   MAX_CATALOG_BYTES, else the archive itself, whose file data is passed over.
 * With `--path` the listing stops once the selection is behind (a path that is not there is
 * NOT_FOUND). Text output is a line per entry; `--output-format json` an array, written as it goes.
 *
 * `holdfast catalog shell SNAPSHOT [ARCHIVE]`: the same listing, read once, walked interactively
 * (catalog-shell.ts), restoring through `holdfast restore` (commands/restore.ts).
 */
import type { Command } from 'commander';
import { checkNamespace, formatTime, parseSnapshotPath } from '../../core/backup-ref.ts';
import { fail } from '../../core/errors.ts';
import { CATALOG_NAME } from '../../core/names.ts';
import { CATALOG_ENTRY_TYPES } from '../../format/pxar/catalog.ts';
import { decodePxar } from '../../format/pxar/decoder.ts';
import type { PxarEvent } from '../../format/pxar/entry.ts';
import { listedFromCatalog, listedFromEvents, type ListedEntry } from '../../format/pxar/listing.ts';
import { pathText } from '../../format/pxar/names.ts';
import type { EntrySelection } from '../../format/pxar/selection.ts';
import type { RestoreReader } from '../../remote/restore-reader.ts';
import { addClientOptions, addKeyOption, collect, entrySelection, type ClientFlags } from '../client-options.ts';
import type { CliContext, OutputFormat } from '../context.ts';
import { openReaderSession } from '../reader-session.ts';
import { CatalogShell, CatalogTree, runShell } from '../catalog-shell.ts';
import { runRestore, type RestoreFlags } from './restore.ts';
import { outputFormatOption } from '../render.ts';

/** A larger catalog is not read into memory; the archive is decoded instead (as the server's file browser does). */
export const MAX_CATALOG_BYTES = 64 * 1024 * 1024;

export interface CatalogFlags extends ClientFlags {
  readonly path?: readonly string[];
  readonly pattern?: readonly string[];
  readonly outputFormat: OutputFormat;
}

/** The directory archives of a snapshot, by the name a user gives restore: `root.pxar`. */
const userName = (manifestName: string): string => manifestName.replace(/\.didx$/, '').replace(/\.[mp]pxar$/, '.pxar');

function directoryArchives(reader: RestoreReader, archive: string | undefined): string[] {
  if (archive !== undefined) return [archive];
  const names = reader.manifest.files.map((f) => f.filename).filter((n) => n.endsWith('.pxar.didx') || n.endsWith('.mpxar.didx'));
  return names.map(userName);
}

/** The entries of one directory archive (see the module comment for what is read). */
async function* archiveEntries(reader: RestoreReader, archive: string, select: EntrySelection | undefined): AsyncGenerator<ListedEntry> {
  const selected = (events: AsyncIterable<PxarEvent>): AsyncIterable<PxarEvent> => (select === undefined ? events : select.select(events));
  const split = reader.splitArchive(archive);
  if (split !== undefined) {
    yield* listedFromEvents(selected(decodePxar(reader.stream(split.metadata))), select);
    return;
  }
  const name = reader.fileEntry(archive).filename;
  if (!name.endsWith('.pxar.didx')) throw fail('INVALID_ARGUMENT', `${name} is not a directory archive: it has no files to list`, { archive: name });
  const catalog = reader.manifest.files.find((f) => f.filename === CATALOG_NAME);
  if (catalog !== undefined && catalog.size <= MAX_CATALOG_BYTES) {
    const pieces: Uint8Array[] = [];
    for await (const piece of reader.stream(CATALOG_NAME)) pieces.push(piece);
    const listed = listedFromCatalog(Buffer.concat(pieces), name, select);
    if (listed !== undefined) {
      yield* listed;
      return;
    }
  }
  yield* listedFromEvents(selected(decodePxar(reader.stream(name))), select);
}

function textLine(archive: string, e: ListedEntry): string {
  const type = String.fromCharCode(CATALOG_ENTRY_TYPES[e.kind]);
  const size = (e.size === undefined ? '-' : String(e.size)).padStart(12);
  const mtime = e.mtime === undefined ? '-'.padEnd(20) : formatTime(e.mtime);
  const target = e.target === undefined ? '' : ` -> ${pathText(e.target)}`;
  return `${type} ${size} ${mtime} ${archive}/${pathText(e.path)}${target}`;
}

function jsonItem(archive: string, e: ListedEntry): string {
  return JSON.stringify({
    archive,
    path: pathText(e.path),
    type: e.kind,
    ...(e.size === undefined ? {} : { size: e.size }),
    ...(e.mtime === undefined ? {} : { mtime: e.mtime }),
    ...(e.target === undefined ? {} : { target: pathText(e.target) }),
  });
}

/** Lines are gathered into writes of about this many characters (a listing may have millions). */
const WRITE_BATCH = 64 * 1024;

export async function runCatalogDump(ctx: CliContext, snapshot: string, archive: string | undefined, f: CatalogFlags): Promise<number> {
  const ref = parseSnapshotPath(checkNamespace(f.ns ?? ''), snapshot);
  const select = entrySelection(f);
  const json = f.outputFormat === 'json';
  const session = await openReaderSession(ctx, f, ref, { workers: false });
  // JSON items are written one behind, so each write ends a line: `item,` once the next is known
  let batch = json ? '[\n' : '';
  let held: string | undefined;
  let count = 0;
  const put = (line: string): void => {
    count++;
    if (json) {
      if (held !== undefined) batch += `  ${held},\n`;
      held = line;
    } else {
      batch += `${line}\n`;
    }
    if (batch.length >= WRITE_BATCH) {
      ctx.out(batch);
      batch = '';
    }
  };
  try {
    for (const a of directoryArchives(session.reader, archive)) {
      for await (const e of archiveEntries(session.reader, a, select)) put(json ? jsonItem(userName(a), e) : textLine(userName(a), e));
    }
  } finally {
    await session.close();
  }
  if (json) batch += `${held === undefined ? '' : `  ${held}\n`}]\n`;
  if (batch.length > 0) ctx.out(batch);
  return count;
}

/**
 * `holdfast catalog shell`: reads the listing of one directory archive (the snapshot's only one
 * when none is named), then runs the shell (catalog-shell.ts) on the context's console. From a
 * pipe, a run in which a command failed ends with an error, so a script notices.
 */
export async function runCatalogShell(ctx: CliContext, snapshot: string, archive: string | undefined, f: ClientFlags & RestoreFlags): Promise<void> {
  const io = ctx.console;
  if (io === undefined) throw fail('INVALID_ARGUMENT', 'the catalog shell needs a console to read commands from', {});
  const ref = parseSnapshotPath(checkNamespace(f.ns ?? ''), snapshot);
  const session = await openReaderSession(ctx, f, ref, { workers: false });
  let name: string;
  let tree: CatalogTree;
  try {
    const archives = directoryArchives(session.reader, archive).map(userName);
    if (archives.length !== 1) {
      const why = archives.length === 0 ? 'has no directory archive' : `has several directory archives (${archives.join(', ')}): name one`;
      throw fail('INVALID_ARGUMENT', `snapshot ${snapshot} ${why}`, { archives });
    }
    name = archives[0]!;
    tree = await CatalogTree.from(archiveEntries(session.reader, name, undefined));
  } finally {
    await session.close();
  }
  const shell = new CatalogShell(tree, { restore: (target, selection) => runRestore(ctx, snapshot, name, target, { ...f, ...selection }) });
  if (io.terminal) ctx.err(`${name} of ${snapshot}: ${tree.entries} entries. 'help' lists the commands, 'exit' leaves.`);
  const failed = await runShell(shell, { ...io, out: ctx.out, err: ctx.err });
  if (failed > 0 && !io.terminal) throw fail('INVALID_ARGUMENT', `${failed} catalog shell command(s) failed`, { failed });
}

export function register(program: Command, ctx: CliContext): void {
  const catalog = program.command('catalog').description("list the files of a snapshot's directory archives (from the catalog or the metadata archive)");
  const dump = catalog
    .command('dump')
    .description('list every entry (type, size, mtime, path) of the directory archives of a snapshot, or of one archive')
    .argument('<snapshot>', 'TYPE/ID/TIME, e.g. host/web1/2026-11-24T10:00:00Z (TIME may be epoch seconds)')
    .argument('[archive]', 'one directory archive, e.g. root.pxar (default: all of them)')
    .option('--path <path>', 'list only this file or directory (repeatable; e.g. etc/ssl)', collect)
    .option('--pattern <glob>', "list only what matches (repeatable; .pxarexclude syntax, e.g. '*.conf')", collect);
  addKeyOption(addClientOptions(dump.addOption(outputFormatOption()))).action(async (snapshot: string, archive: string | undefined, f: CatalogFlags) => {
    await runCatalogDump(ctx, snapshot, archive, f);
  });
  const shell = catalog
    .command('shell')
    .description("walk a directory archive of a snapshot, select files and restore them (commands from a terminal or a pipe; 'help' lists them)")
    .argument('<snapshot>', 'TYPE/ID/TIME, e.g. host/web1/2026-11-24T10:00:00Z (TIME may be epoch seconds)')
    .argument('[archive]', "the directory archive, e.g. root.pxar (default: the snapshot's only one)")
    .option('--overwrite', 'let restores replace existing files')
    .option('--ignore-ownership', 'restores do not apply owners')
    .option('--ignore-xattrs', 'restores do not apply extended attributes')
    .option('--ignore-acls', 'restores do not apply ACLs');
  addKeyOption(addClientOptions(shell)).action(async (snapshot: string, archive: string | undefined, f: ClientFlags & RestoreFlags) => {
    await runCatalogShell(ctx, snapshot, archive, f);
  });
}
