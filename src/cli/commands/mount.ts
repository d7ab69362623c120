/**
 * `holdfast mount SNAPSHOT ARCHIVE MOUNTPOINT`: an archive of a snapshot as a read-only
 * filesystem, as `proxmox-backup-client mount` (directory archives) and `map` (images) give one:
 * - a directory archive (`root.pxar`, unified or split) shows its tree; browsing reads the entries
 *   it touches (goodbye tables, client/archive-fs.ts) and a file's chunks only when it is read;
 * - an image archive (`disk.img`) shows one file, `disk.img`, to read or `losetup -r`.
 *
 * It runs in the foreground until the mount goes: Ctrl-C (SIGINT) or SIGTERM unmounts, unless a
 * process still uses the mount (then it says so and keeps serving); `umount MOUNTPOINT` from
 * elsewhere ends it as well. Every chunk is checked as a restore checks it; a damaged or missing
 * chunk fails the read that needs it with EIO and a message here naming the chunk. Needs root
 * (mount(2)); encrypted snapshots take `--keyfile` as restore does. Only the user who mounted it
 * may enter the mount unless `--allow-other` (the archive's uids are another machine's). Chunks
 * are decoded on two worker threads, as a restore's are, so the main thread is free to answer the
 * kernel (measured in docs/benchmarks.md, "Reading a snapshot through holdfast mount").
 */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { checkNamespace, formatTime, parseSnapshotPath } from '../../core/backup-ref.ts';
import { fail, isHoldfastError, toHoldfastError } from '../../core/errors.ts';
import { PxarAccessor } from '../../format/pxar/accessor.ts';
import { ArchiveAccess } from '../../remote/archive-access.ts';
import { ImageFilesystem, PxarFilesystem } from '../../client/archive-fs.ts';
import { FuseSession, type FuseFilesystem } from '../../client/fuse-session.ts';
import { addClientOptions, addKeyOption, type ClientFlags } from '../client-options.ts';
import type { CliContext } from '../context.ts';
import { MountSource } from '../mount-source.ts';
import { openReaderSession } from '../reader-session.ts';

async function checkMountpoint(path: string): Promise<void> {
  const s = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw fail(e.code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR', `mount point ${path}: ${e.message}`, { path });
  });
  if (!s.isDirectory()) throw fail('INVALID_ARGUMENT', `mount point ${path} is not a directory`, { path });
}

/** The filesystem for `archive` of the session's snapshot. */
async function archiveFilesystem(source: MountSource, archive: string): Promise<{ fs: FuseFilesystem; shown: string }> {
  const { reader } = await source.current;
  const split = reader.splitArchive(archive);
  if (split !== undefined) {
    const meta = await ArchiveAccess.open(reader, split.metadata, { fetch: source.fetch(split.metadata) });
    const payload = await ArchiveAccess.open(reader, split.payload, { fetch: source.fetch(split.payload) });
    return { fs: await PxarFilesystem.open(new PxarAccessor(meta), meta, payload), shown: `${split.metadata} + ${split.payload}` };
  }
  const name = reader.fileEntry(archive).filename;
  const access = await ArchiveAccess.open(reader, name, { fetch: source.fetch(name) });
  if (name.endsWith('.pxar.didx')) return { fs: await PxarFilesystem.open(new PxarAccessor(access), access), shown: name };
  if (name.endsWith('.fidx')) {
    const file = name.replace(/\.fidx$/, '');
    return { fs: new ImageFilesystem(access, file, reader.manifest.backupTime), shown: `${name} as ${file}` };
  }
  throw fail('INVALID_ARGUMENT', `${name} is neither a directory archive nor an image: restore a blob with 'holdfast restore'`, { archive: name });
}

export interface MountFlags extends ClientFlags {
  readonly allowOther?: boolean;
}

export async function runMount(ctx: CliContext, snapshot: string, archive: string, mountpoint: string, f: MountFlags): Promise<void> {
  const ref = parseSnapshotPath(checkNamespace(f.ns ?? ''), snapshot);
  await checkMountpoint(mountpoint);
  const open = () => openReaderSession(ctx, f, ref, { workers: true });
  const source = new MountSource(await open(), open);
  let session: FuseSession;
  try {
    const { fs, shown } = await archiveFilesystem(source, archive);
    const errors = new Set<string>();
    session = await FuseSession.mount(fs, mountpoint, {
      source: `holdfast:${ref.type}/${ref.id}/${formatTime(ref.time)}:${archive}`,
      allowOther: f.allowOther === true,
      onError: (e) => {
        const err = toHoldfastError(e);
        const line = `read failed (EIO): ${err.code}: ${err.message}`;
        // each distinct failure once: a damaged chunk is read again by every retry of a reader
        if (!errors.has(line) && errors.size < 1000) ctx.err(line);
        errors.add(line);
      },
    });
    ctx.err(`mounted ${shown} of ${snapshot} at ${mountpoint} (read-only); Ctrl-C or 'umount ${mountpoint}' unmounts`);
  } catch (e) {
    await source.close();
    throw e;
  }
  const stop = (): void => {
    session.unmount().catch((e: unknown) => {
      const busy = isHoldfastError(e, 'LOCKED');
      ctx.err(busy ? `${mountpoint} is in use (a file is open or a shell is in it); still mounted: close those and try again` : String(toHoldfastError(e).message));
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await session.done;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    await source.close();
  }
  ctx.err(`unmounted ${mountpoint}`);
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('mount')
    .description('mount an archive of a snapshot read-only: a directory archive as its tree, an image as one file (runs until unmounted; needs root)')
    .argument('<snapshot>', 'TYPE/ID/TIME, e.g. host/web1/2026-11-24T10:00:00Z (TIME may be epoch seconds)')
    .argument('<archive>', 'archive name: root.pxar (unified or split) or disk.img')
    .argument('<mountpoint>', 'an existing directory to mount it on')
    .option('--allow-other', "let other local users in too, each held to the archive's stored modes and owners (default: only the user who mounted it)");
  addKeyOption(addClientOptions(cmd)).action(async (snapshot: string, archive: string, mountpoint: string, f: MountFlags) => {
    await runMount(ctx, snapshot, archive, mountpoint, f);
  });
}
