/**
 * `holdfast snapshot list|files|forget|notes|protected|upload-log`: browse and manage snapshots
 * through the server API, like `proxmox-backup-client snapshot`. `upload-log` adds a log file to a
 * snapshot as its `client.log.blob` (compressed, and encrypted with `--keyfile`), once per
 * snapshot, as PBS's does; `holdfast restore SNAPSHOT client.log -` reads it back. Text output is for people (sizes in binary
 * units, the encryption and verify state as the web UI shows them, a snapshot whose manifest
 * cannot be read as a row that says so); `--output-format json` is the server's data, in bytes.
 */
import type { Command } from 'commander';
import { checkNamespace, formatTime, parseGroupPath, parseSnapshotPath, type SnapshotRef } from '../../core/backup-ref.ts';
import { fail } from '../../core/errors.ts';
import type { HttpClient } from '../../remote/http-client.ts';
import { formatSize } from '../benchmark/units.ts';
import { readFile } from 'node:fs/promises';
import { CLIENT_LOG_BLOB_NAME } from '../../core/names.ts';
import { encodeBlob } from '../../format/blob.ts';
import { addClientOptions, addKeyOption, loadCrypt, openClient, type ClientFlags } from '../client-options.ts';
import type { CliContext, OutputFormat } from '../context.ts';
import { emit, outputFormatOption, renderTable } from '../render.ts';

export interface SnapshotFile {
  readonly filename: string;
  readonly size?: number;
  readonly 'crypt-mode'?: string;
}

export interface SnapshotEntry {
  readonly 'backup-type': string;
  readonly 'backup-id': string;
  readonly 'backup-time': number;
  readonly size?: number;
  readonly protected?: boolean;
  readonly files?: SnapshotFile[];
  readonly verification?: { state?: string };
  readonly comment?: string;
  /** why the manifest could not be read */
  readonly error?: string;
}

type Flags = ClientFlags & { outputFormat: OutputFormat };

export async function listSnapshots(ctx: CliContext, group: string | undefined, f: ClientFlags): Promise<SnapshotEntry[]> {
  const ns = checkNamespace(f.ns ?? '');
  const g = group ? parseGroupPath(ns, group) : undefined;
  const { repo, client } = await openClient(ctx, f);
  const data = await client.call('GET', `admin/datastore/${repo.store}/snapshots`, { ...(ns ? { ns } : {}), ...(g ? { 'backup-type': g.type, 'backup-id': g.id } : {}) });
  return (data as SnapshotEntry[]).sort((a, b) => a['backup-type'].localeCompare(b['backup-type']) || a['backup-id'].localeCompare(b['backup-id']) || a['backup-time'] - b['backup-time']);
}

/**
 * The encryption state as the PBS web UI names it: every file encrypted, none, some, or signed.
 * The client log is left out: it is added later, outside the manifest, with no mode listed.
 */
export function encryptionState(files: readonly SnapshotFile[] | undefined): string {
  const modes = (files ?? []).filter((x) => x.filename !== CLIENT_LOG_BLOB_NAME).map((x) => x['crypt-mode'] ?? 'none');
  if (modes.length === 0) return '';
  if (modes.every((m) => m === 'encrypt')) return 'yes';
  if (modes.every((m) => m === 'sign-only')) return 'signed';
  if (modes.every((m) => m === 'none')) return 'no';
  return 'mixed';
}

export function snapshotRows(list: readonly SnapshotEntry[]): Record<string, string>[] {
  return list.map((s) => {
    const snapshot = `${s['backup-type']}/${s['backup-id']}/${formatTime(s['backup-time'])}`;
    if (s.error !== undefined) return { snapshot, size: '?', files: `error: ${s.error}`, encrypted: '?', verify: '?', protected: s.protected ? 'yes' : '' };
    return {
      snapshot,
      size: s.size === undefined ? '' : formatSize(s.size),
      files: (s.files ?? []).map((x) => x.filename).join(' '),
      encrypted: encryptionState(s.files),
      // the web UI's wording: a snapshot never verified is 'none'
      verify: s.verification?.state ?? 'none',
      protected: s.protected ? 'yes' : '',
    };
  });
}

const refArgs = (ref: SnapshotRef): Record<string, string | number> => ({ 'backup-type': ref.type, 'backup-id': ref.id, 'backup-time': ref.time, ...(ref.ns ? { ns: ref.ns } : {}) });

async function withSnapshot<T>(ctx: CliContext, snapshot: string, f: ClientFlags, fn: (client: HttpClient, store: string, ref: SnapshotRef) => Promise<T>): Promise<T> {
  const ref = parseSnapshotPath(checkNamespace(f.ns ?? ''), snapshot);
  const { repo, client } = await openClient(ctx, f);
  return fn(client, repo.store, ref);
}

/** The files of one snapshot, from its manifest as the server lists it. */
export async function snapshotFiles(ctx: CliContext, snapshot: string, f: ClientFlags): Promise<SnapshotFile[]> {
  const ref = parseSnapshotPath(checkNamespace(f.ns ?? ''), snapshot);
  const list = await listSnapshots(ctx, `${ref.type}/${ref.id}`, f);
  const entry = list.find((s) => s['backup-time'] === ref.time);
  if (!entry) throw fail('NOT_FOUND', `snapshot ${snapshot} does not exist`, { snapshot });
  if (entry.error !== undefined) throw fail('CORRUPT', `the manifest of ${snapshot} cannot be read: ${entry.error}`, { snapshot });
  return [{ filename: 'index.json.blob', 'crypt-mode': 'none' }, ...(entry.files ?? [])];
}

function registerNotes(snap: Command, ctx: CliContext): void {
  const notes = snap.command('notes').description("show or change a snapshot's notes");
  addClientOptions(notes.command('show').description('print the notes of a snapshot').argument('<snapshot>', 'TYPE/ID/TIME')).action(async (snapshot: string, f: ClientFlags) => {
    const text = await withSnapshot(ctx, snapshot, f, (c, store, ref) => c.call('GET', `admin/datastore/${store}/notes`, refArgs(ref)));
    ctx.out(typeof text === 'string' ? text : '');
  });
  addClientOptions(notes.command('update').description('replace the notes of a snapshot').argument('<snapshot>', 'TYPE/ID/TIME').argument('<notes>', 'the new notes (empty to clear)')).action(
    async (snapshot: string, text: string, f: ClientFlags) => {
      await withSnapshot(ctx, snapshot, f, (c, store, ref) => c.call('PUT', `admin/datastore/${store}/notes`, { ...refArgs(ref), notes: text }));
      ctx.out(`updated the notes of ${snapshot}`);
    },
  );
}

function registerProtected(snap: Command, ctx: CliContext): void {
  const prot = snap.command('protected').description('show or change whether a snapshot is protected from prune and forget');
  addClientOptions(prot.command('show').description('print whether a snapshot is protected').argument('<snapshot>', 'TYPE/ID/TIME').addOption(outputFormatOption())).action(
    async (snapshot: string, f: Flags) => {
      const on = (await withSnapshot(ctx, snapshot, f, (c, store, ref) => c.call('GET', `admin/datastore/${store}/protected`, refArgs(ref)))) === true;
      emit(ctx, f.outputFormat, { protected: on }, () => (on ? 'protected' : 'not protected'));
    },
  );
  addClientOptions(prot.command('update').description('protect (true) or unprotect (false) a snapshot').argument('<snapshot>', 'TYPE/ID/TIME').argument('<protected>', 'true or false')).action(
    async (snapshot: string, value: string, f: ClientFlags) => {
      if (!/^(true|false|1|0|yes|no|on|off)$/i.test(value)) throw fail('INVALID_ARGUMENT', `'${value}' is not true or false`, { value });
      const on = /^(true|1|yes|on)$/i.test(value);
      await withSnapshot(ctx, snapshot, f, (c, store, ref) => c.call('PUT', `admin/datastore/${store}/protected`, { ...refArgs(ref), protected: on }));
      ctx.out(`${snapshot} is ${on ? 'now protected' : 'no longer protected'}`);
    },
  );
}

export function register(program: Command, ctx: CliContext): void {
  const snap = program.command('snapshot').description('list, inspect, annotate, protect and forget snapshots');
  addClientOptions(snap.command('list').description('list snapshots (of one group TYPE/ID if given)').argument('[group]', 'TYPE/ID').addOption(outputFormatOption())).action(
    async (group: string | undefined, f: Flags) => {
      const list = await listSnapshots(ctx, group, f);
      const rows = snapshotRows(list);
      emit(ctx, f.outputFormat, list, () => (rows.length ? renderTable(rows, ['snapshot', 'size', 'files', 'encrypted', 'verify', 'protected']) : 'no snapshots'));
    },
  );
  addClientOptions(snap.command('files').description('list the files (archives) of a snapshot').argument('<snapshot>', 'TYPE/ID/TIME').addOption(outputFormatOption())).action(
    async (snapshot: string, f: Flags) => {
      const files = await snapshotFiles(ctx, snapshot, f);
      const rows = files.map((x) => ({ filename: x.filename, size: x.size === undefined ? '' : formatSize(x.size), 'crypt-mode': x['crypt-mode'] ?? 'none' }));
      emit(ctx, f.outputFormat, files, () => renderTable(rows, ['filename', 'size', 'crypt-mode']));
    },
  );
  addClientOptions(snap.command('forget').description('remove one snapshot').argument('<snapshot>', 'TYPE/ID/TIME')).action(async (snapshot: string, f: ClientFlags) => {
    await withSnapshot(ctx, snapshot, f, (c, store, ref) => c.call('DELETE', `admin/datastore/${store}/snapshots`, refArgs(ref)));
    ctx.out(`removed snapshot ${snapshot}`);
  });
  addKeyOption(addClientOptions(snap.command('upload-log').description("add a log file to a snapshot as its client.log.blob (once; encrypted with --keyfile)").argument('<snapshot>', 'TYPE/ID/TIME').argument('<logfile>', 'the log file'))).action(
    async (snapshot: string, logfile: string, f: ClientFlags) => {
      const text = await readFile(logfile).catch((e: NodeJS.ErrnoException) => {
        throw fail(e.code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR', `cannot read ${logfile}: ${e.message}`, { path: logfile });
      });
      if (text.length > MAX_CLIENT_LOG_TEXT) throw fail('INVALID_ARGUMENT', `${logfile} is ${text.length} bytes; a client log may be at most ${MAX_CLIENT_LOG_TEXT}`, { path: logfile });
      const loaded = await loadCrypt(ctx, f.keyfile);
      const blob = encodeBlob(text, { compress: true, ...(loaded ? { crypt: loaded.crypt } : {}) });
      await withSnapshot(ctx, snapshot, f, (c, store, ref) => c.upload(`admin/datastore/${store}/upload-backup-log`, refArgs(ref), blob));
      ctx.out(`uploaded ${logfile} to ${snapshot} as ${CLIENT_LOG_BLOB_NAME}`);
    },
  );
  registerNotes(snap, ctx);
  registerProtected(snap, ctx);
}

/** What `upload-log` takes: the text before compression (the server takes a blob of up to 32 MiB). */
const MAX_CLIENT_LOG_TEXT = 32 * 1024 * 1024 - 64;
