/**
 * `holdfast backup SPEC…`: backs up files, images and directories over the PBS backup protocol.
 * SPEC is `NAME.img:PATH` (file or block device, fixed 4 MiB chunks), `NAME.pxar:DIR` (directory
 * as a pxar archive, content-defined chunks) or `NAME.conf:FILE` (a small file as a blob).
 * Directory archives honour `--exclude` and `.pxarexclude` files and stay on their filesystem
 * unless `--include-dev`/`--all-file-systems` (client/exclude-rules.ts).
 * The command succeeds only when the server acknowledged the snapshot as durable for the
 * datastore's sync level; any failure exits non-zero and leaves no snapshot.
 */
import { hostname } from 'node:os';
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { checkBackupId, checkBackupType, checkNamespace, formatTime, type BackupType } from '../../core/backup-ref.ts';
import { fail } from '../../core/errors.ts';
import { traceMark } from '../../core/trace-timing.ts';
import { BackupWriter } from '../../remote/backup-writer.ts';
import { pooledChunkEncoder } from '../../remote/chunk-encoder.ts';
import { h2Transport } from '../../remote/h2-transport.ts';
import { imageChunks, imageSize } from '../../client/image-source.ts';
import { deviceFilter, ExcludeScope } from '../../client/exclude-rules.ts';
import type { ProtocolTransport } from '../../remote/protocol-transport.ts';
import { parseChangeDetectionMode, PxarUploader } from '../pxar-upload.ts';
import { addClientOptions, addKeyOption, addRateOptions, collect, loadCrypt, openClient, rateBucket, type ClientFlags, type LoadedKey, type RateFlags } from '../client-options.ts';
import { rateLimited } from '../../remote/rate-limited-transport.ts';
import { keyConfigForMaster, parseMasterPublicKey, rsaEncryptKeyConfig, RSA_ENCRYPTED_KEY_BLOB } from '../../format/master-key.ts';
import { DEFAULT_MASTER_PUBKEY } from './key-master.ts';
import { renderBackupSummary, type SummaryArchive } from '../backup-summary.ts';
import type { CliContext, OutputFormat } from '../context.ts';
import { outputFormatOption, progressLine, type ProgressLine } from '../render.ts';
import { availableParallelism } from 'node:os';
import { dryRunBackup, renderDryRun } from '../backup-dry-run.ts';

export interface BackupSpec {
  readonly name: string;
  readonly kind: 'img' | 'pxar' | 'conf';
  readonly path: string;
}

export function parseSpec(spec: string): BackupSpec {
  const m = /^([A-Za-z0-9_][A-Za-z0-9._-]*)\.(img|pxar|conf|blob):(.+)$/.exec(spec);
  if (!m) throw fail('INVALID_ARGUMENT', `backup spec '${spec}' must be NAME.img:PATH, NAME.pxar:DIR or NAME.conf:FILE`, { value: spec });
  const kind = m[2] === 'blob' ? 'conf' : (m[2] as BackupSpec['kind']);
  return { name: `${m[1]!}.${m[2]!}`, kind, path: m[3]! };
}

export interface BackupFlags extends ClientFlags, RateFlags {
  readonly backupType: string;
  readonly backupId?: string;
  readonly backupTime?: string;
  readonly outputFormat: OutputFormat;
  /** `--exclude PATTERN`, repeatable (exclude-rules.ts) */
  readonly exclude?: readonly string[];
  /** `--include-dev PATH`, repeatable: also descend into PATH's filesystem */
  readonly includeDev?: readonly string[];
  readonly allFileSystems?: boolean;
  /** master public key for `rsa-encrypted.key.blob` (default: the imported one, if any) */
  readonly masterPubkeyFile?: string;
  /** legacy | data | metadata (default metadata; see docs/change-detection.md) */
  readonly changeDetectionMode?: string;
}

export interface BackupReport {
  readonly snapshot: string;
  readonly archives: SummaryArchive[];
  readonly seconds: number;
}

async function checkSource(s: BackupSpec): Promise<void> {
  const st = await stat(s.path).catch(() => undefined);
  if (!st) throw fail('NOT_FOUND', `${s.path} does not exist`, { path: s.path });
  if (s.kind === 'pxar' && !st.isDirectory()) throw fail('INVALID_ARGUMENT', `${s.name}: ${s.path} is not a directory`, { path: s.path });
  if (s.kind === 'img' && !st.isFile() && !st.isBlockDevice()) throw fail('INVALID_ARGUMENT', `${s.name}: ${s.path} is not a file or block device`, { path: s.path });
  if (s.kind === 'conf' && !st.isFile()) throw fail('INVALID_ARGUMENT', `${s.name}: ${s.path} is not a file`, { path: s.path });
}

/** A backup's arguments, checked before anything connects (shared with `--dry-run`). */
export interface PreparedBackup {
  readonly parsed: readonly BackupSpec[];
  readonly exclude: ExcludeScope;
  readonly mode: ReturnType<typeof parseChangeDetectionMode>;
  readonly type: BackupType;
  readonly id: string;
  readonly ns: string;
  readonly time: number;
  readonly loaded: LoadedKey | undefined;
  readonly masterCopy: Uint8Array | undefined;
}

export async function prepareBackup(ctx: CliContext, specs: readonly string[], f: BackupFlags): Promise<PreparedBackup> {
  const parsed = specs.map(parseSpec);
  if (parsed.length === 0) throw fail('INVALID_ARGUMENT', 'no backup spec given', {});
  const names = parsed.map((s) => s.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  // before connecting: found by the server, the first archive would already have been uploaded
  if (twice !== undefined) throw fail('INVALID_ARGUMENT', `archive name ${twice} is given twice; each archive of a snapshot needs a name of its own`, { name: twice });
  for (const s of parsed) await checkSource(s);
  const exclude = ExcludeScope.fromPatterns(f.exclude ?? []); // a bad pattern fails before connecting
  const mode = parseChangeDetectionMode(f.changeDetectionMode ?? 'metadata');
  const type: BackupType = checkBackupType(f.backupType);
  const id = checkBackupId(f.backupId ?? hostname().split('.')[0] ?? 'localhost');
  const ns = checkNamespace(f.ns ?? '');
  const time = f.backupTime ? Number(f.backupTime) : Math.floor(Date.now() / 1000);
  const loaded = await loadCrypt(ctx, f.keyfile);
  const masterCopy = loaded ? await masterKeyCopy(loaded, f.masterPubkeyFile) : undefined;
  return { parsed, exclude, mode, type, id, ns, time, loaded, masterCopy };
}

export async function runBackup(ctx: CliContext, specs: readonly string[], f: BackupFlags): Promise<BackupReport> {
  traceMark('backup: start');
  const { parsed, exclude, mode, type, id, ns, time, loaded, masterCopy } = await prepareBackup(ctx, specs, f);
  const rate = rateBucket(f); // one bucket for the backup and the reads of the previous snapshot
  const crypt = loaded?.crypt;
  traceMark('backup: options checked');
  const { repo, client } = await openClient(ctx, f);
  traceMark('backup: logged in');
  const started = Date.now();
  const session = await client.upgrade('backup', { store: repo.store, 'backup-type': type, 'backup-id': id, 'backup-time': time, ...(ns ? { ns } : {}) }, 'proxmox-backup-protocol-v1');
  const transport = rateLimited(h2Transport(session), rate);
  traceMark('backup: upgraded');
  // Encoder threads (hashing, zstd level 1, CRC-32) beside the main one (reading, TLS, HTTP/2):
  // two where there are two cores, since one was busy ~60% of a first backup of compressible
  // data and left the other core idle in bursts (a 1 GiB first backup 4–5% faster with two, even
  // with the server on the same 2 cores); each thread costs ~25 MiB RSS, so no more than two.
  // They start when there is work for them: an unchanged re-backup encodes a few small chunks
  // inline and needs none, and two isolates starting beside its start-up and walk took CPU from
  // the main thread (alternating runs, 1 GiB tree: unchanged 355 ms with both started at once, 333
  // with one, 307 with none; 1% changed 492–498 ms and a first backup 5.12–5.14 s either way).
  const encoder = pooledChunkEncoder(loaded?.key, Math.min(2, availableParallelism()));
  const snapshot = `${ns ? `ns/${ns}/` : ''}${type}/${id}/${formatTime(time)}`;
  const progress = progressReporter(ctx);
  const openReader = async (prevTime: number): Promise<ProtocolTransport> =>
    rateLimited(h2Transport(await client.upgradeReader('reader', { store: repo.store, 'backup-type': type, 'backup-id': id, 'backup-time': prevTime, ...(ns ? { ns } : {}) }, 'proxmox-backup-reader-protocol-v1')), rate);
  // Metadata mode reads the previous snapshot: its reader session opens as soon as the server names
  // it, beside the download of its manifest (one round trip less before the walk starts), and is
  // closed unused if the walk does not ask for it (a previous snapshot with another key).
  let early: { readonly time: number; readonly session: Promise<ProtocolTransport> } | undefined;
  const openEarly = mode === 'metadata' && parsed.some((s) => s.kind === 'pxar');
  const onPreviousTime = (prevTime: number): void => {
    early = { time: prevTime, session: openReader(prevTime) };
    early.session.catch(() => undefined); // a failure surfaces when the walk asks for it
  };
  const openPrevious = (prevTime: number): Promise<ProtocolTransport> => {
    const mine = early?.time === prevTime ? early.session : undefined;
    early = undefined;
    return mine ?? openReader(prevTime);
  };
  try {
    const writer = await BackupWriter.start(transport, { backupType: type, backupId: id, backupTime: time, encoder, ...(crypt ? { crypt } : {}), onProgress: progress.onProgress, ...(openEarly ? { onPreviousTime } : {}) });
    traceMark('backup: writer started');
    const archives: BackupReport['archives'] = [];
    const warnings: string[] = [];
    const pxar = new PxarUploader(writer, { mode, openPrevious, warn: (m) => warnings.push(m), ...(crypt ? { crypt } : {}) });
    for (const s of parsed) {
      if (s.kind === 'pxar') {
        const descendInto = await deviceFilter((await stat(s.path, { bigint: true })).dev, f.includeDev ?? [], f.allFileSystems === true);
        archives.push(...(await pxar.upload(s.name, s.path, { exclude, descendInto })));
      } else archives.push(await uploadOne(writer, s));
      for (const wn of warnings.splice(0)) ctx.err(`warning: ${wn}`);
    }
    traceMark('backup: archives uploaded');
    const catalog = await pxar.finish();
    if (catalog) archives.push(catalog);
    if (masterCopy) await writer.uploadBlob(RSA_ENCRYPTED_KEY_BLOB, masterCopy, { plain: true });
    await writer.finish();
    traceMark('backup: finished');
    await transport.close();
    traceMark('backup: closed');
    return { snapshot, archives, seconds: (Date.now() - started) / 1000 };
  } catch (e) {
    session.destroy(); // the server aborts the unfinished snapshot when the connection drops
    throw e;
  } finally {
    const unused = early?.session;
    early = undefined;
    await unused?.then((t) => t.close()).catch(() => undefined);
    progress.end();
    await encoder.close();
    traceMark('backup: encoder closed');
  }
}

async function uploadOne(w: BackupWriter, s: BackupSpec): Promise<SummaryArchive> {
  if (s.kind === 'conf') {
    const data = await readFile(s.path);
    await w.uploadBlob(`${s.name}.blob`, data);
    return { archive: `${s.name}.blob`, size: data.length };
  }
  const size = await imageSize(s.path);
  return w.uploadArchive(`${s.name}.fidx`, imageChunks(s.path, size, w.buffers), { size });
}

/**
 * One progress bar per archive, the previous one ended when the next archive starts. `end()`
 * stops the last one: a bar left running keeps its redraw timer, and with it the process, alive.
 */
export function progressReporter(ctx: CliContext): { readonly onProgress: (e: { archive: string; done: number; total: number | undefined }) => void; end(): void } {
  let current: { archive: string; bar: ProgressLine } | undefined;
  return {
    onProgress(e) {
      if (current?.archive !== e.archive) {
        current?.bar.end();
        current = { archive: e.archive, bar: progressLine(ctx, e.archive, 'bytes') };
      }
      current.bar.update(e.done, e.total);
    },
    end() {
      current?.bar.end();
      current = undefined;
    },
  };
}


/**
 * The `rsa-encrypted.key` of an encrypted backup: its key under the master public key given by
 * `--master-pubkey-file`, else the imported one (`key import-master-pubkey`), else none.
 */
async function masterKeyCopy(loaded: LoadedKey, flag: string | undefined): Promise<Uint8Array | undefined> {
  const path = flag ?? DEFAULT_MASTER_PUBKEY;
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (e) {
    if (flag === undefined && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fail('NOT_FOUND', `cannot read master public key ${path}: ${(e as Error).message}`, { path }, e);
  }
  return rsaEncryptKeyConfig(parseMasterPublicKey(pem), keyConfigForMaster(loaded.key, loaded.json));
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('backup')
    .description('back up files (NAME.img:PATH), directories (NAME.pxar:DIR) and small files (NAME.conf:FILE)')
    .argument('<spec...>', 'what to back up: NAME.img:PATH | NAME.pxar:DIR | NAME.conf:FILE')
    .option('--backup-type <type>', 'host, vm or ct', 'host')
    .option('--backup-id <id>', 'backup id (default: the host name)')
    .option('--backup-time <epoch>', 'backup time in epoch seconds (default: now)')
    .option('--exclude <pattern>', 'leave out paths matching this glob (repeatable; .pxarexclude syntax, rooted at each directory archive)', collect)
    .option('--include-dev <path>', "also descend into the filesystem mounted at PATH (repeatable); other mount points are archived as empty directories", collect)
    .option('--all-file-systems', 'descend into every mounted filesystem below a directory archive')
    .option('--master-pubkey-file <file>', `with --keyfile: store the key encrypted under this RSA master public key (default: ${DEFAULT_MASTER_PUBKEY} when imported)`)
    .option('--change-detection-mode <mode>', 'directories: legacy (one .pxar), data (split .mpxar/.ppxar, read all) or metadata (split, reuse unchanged files)', 'metadata')
    .option('--dry-run', 'check everything and show what would be backed up (entries and sizes per archive), uploading nothing')
    .addOption(outputFormatOption());
  addRateOptions(addKeyOption(addClientOptions(cmd))).action(async (specs: string[], f: BackupFlags & { readonly dryRun?: boolean }) => {
    if (f.dryRun === true) {
      const plan = await dryRunBackup(ctx, await prepareBackup(ctx, specs, f), f);
      ctx.out(f.outputFormat === 'json' ? JSON.stringify(plan, null, 2) : renderDryRun(plan));
      return;
    }
    const r = await runBackup(ctx, specs, f);
    ctx.out(f.outputFormat === 'json' ? JSON.stringify(r, null, 2) : renderBackupSummary(r));
  });
}
