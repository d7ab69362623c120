/**
 * The directory part of `holdfast backup` (NAME.pxar:DIR), per change-detection mode:
 * - `legacy`: one unified archive `NAME.pxar.didx`, and the snapshot's catalog
 *   `catalog.pcat1.didx` (one directory per archive), as PBS uploads it for v1 archives;
 * - `data`: a split archive `NAME.mpxar.didx` + `NAME.ppxar.didx`, every file read;
 * - `metadata` (default): the same, reusing the previous snapshot's payload for unchanged files
 *   (docs/change-detection.md). PBS writes no catalog for split archives; neither do we.
 */
import type { ArchiveStats, BackupWriter } from '../remote/backup-writer.ts';
import { nativeChunkerWarning } from '../client/buzhash-native.ts';
import { dynamicChunks } from '../client/dynamic-chunks.ts';
import { createPxarStream } from '../client/pxar-create.ts';
import type { ProtocolTransport } from '../remote/protocol-transport.ts';
import { CHANGE_DETECTION_MODES, uploadSplitPxar, type ChangeDetectionMode } from '../client/split-upload.ts';
import { fail } from '../core/errors.ts';
import { CATALOG_NAME } from '../core/names.ts';
import type { CryptConfig } from '../format/crypt-config.ts';
import { CatalogWriter } from '../format/pxar/catalog.ts';
import type { CreateOptions } from '../client/pxar-create.ts';
import { EntryCounter, type SummaryArchive } from './backup-summary.ts';

/** PBS chunks the catalog with a 512 KiB average. */
const CATALOG_AVG_CHUNK = 512 * 1024;

export function parseChangeDetectionMode(value: string): ChangeDetectionMode {
  if (!(CHANGE_DETECTION_MODES as readonly string[]).includes(value)) {
    throw fail('INVALID_ARGUMENT', `--change-detection-mode must be one of ${CHANGE_DETECTION_MODES.join(', ')}`, { value });
  }
  return value as ChangeDetectionMode;
}

export interface PxarUploadOptions {
  readonly mode: ChangeDetectionMode;
  readonly crypt?: CryptConfig;
  readonly openPrevious: (backupTime: number) => Promise<ProtocolTransport>;
  readonly warn: (message: string) => void;
}

/** What a directory walk leaves out (exclude-rules.ts). */
export type WalkOptions = Pick<CreateOptions, 'exclude' | 'descendInto'>;

/** Counts entries for the summary and passes each on to the snapshot's catalog. */
class CountingCatalog extends EntryCounter {
  readonly #inner: CatalogWriter;

  constructor(inner: CatalogWriter) {
    super();
    this.#inner = inner;
  }

  override startDirectory(name: Uint8Array): void {
    super.startDirectory(name);
    this.#inner.startDirectory(name);
  }

  override endDirectory(): void {
    this.#inner.endDirectory();
  }

  override addFile(name: Uint8Array, size: bigint | number, mtimeSecs: bigint | number): void {
    super.addFile(name, size, mtimeSecs);
    this.#inner.addFile(name, size, mtimeSecs);
  }

  override addOther(type: Parameters<CatalogWriter['addOther']>[0], name: Uint8Array): void {
    super.addOther(type, name);
    this.#inner.addOther(type, name);
  }
}

export class PxarUploader {
  readonly #w: BackupWriter;
  readonly #o: PxarUploadOptions;
  #catalog: CatalogWriter | undefined;
  #chunkerChecked = false;

  constructor(w: BackupWriter, o: PxarUploadOptions) {
    this.#w = w;
    this.#o = o;
  }

  /** Warns once per backup when the native chunker loop should be there and is not. */
  #checkChunker(): void {
    if (this.#chunkerChecked) return;
    this.#chunkerChecked = true;
    const warning = nativeChunkerWarning();
    if (warning !== undefined) this.#o.warn(warning);
  }

  /**
   * `name` is `NAME.pxar`; `walk` says what to leave out. Returns the summary of each archive
   * uploaded: the first carries the entry counts, and in split modes how many files were reused.
   */
  async upload(name: string, dir: string, walk: WalkOptions = {}): Promise<SummaryArchive[]> {
    this.#checkChunker();
    const onWarning = (wn: { path: string; message: string }): void => this.#o.warn(`${wn.path}: ${wn.message}`);
    if (this.#o.mode === 'legacy') {
      const catalog = (this.#catalog ??= new CatalogWriter());
      const counter = new CountingCatalog(catalog);
      catalog.startDirectory(Buffer.from(`${name}.didx`));
      const stream = createPxarStream(dir, { ...walk, reuseReadBuffer: true, catalog: counter, onWarning });
      const stats = await this.#w.uploadArchive(`${name}.didx`, dynamicChunks(stream, this.#w.buffers));
      catalog.endDirectory();
      return [{ ...stats, entries: counter.counts }];
    }
    const base = name.replace(/\.pxar$/, '');
    const counter = new EntryCounter();
    const r = await uploadSplitPxar(this.#w, base, dir, {
      ...walk,
      mode: this.#o.mode,
      reuseReadBuffer: true,
      catalog: counter,
      openPrevious: this.#o.openPrevious,
      onWarning,
      onFallback: (why) => this.#o.warn(why),
      ...(this.#o.crypt ? { crypt: this.#o.crypt } : {}),
    });
    // a reused file is written as a reference and never passes the creator's catalog hook
    const entries = { ...counter.counts, files: counter.counts.files + r.files.reusedFiles };
    return [
      { ...r.metadata, entries, files: { read: r.files.readFiles, new: r.files.newFiles, unchanged: r.files.reusedFiles } },
      { ...r.payload, unreadBytes: r.files.injectedBytes },
    ];
  }

  /** Uploads the catalog when legacy archives were written. */
  async finish(): Promise<ArchiveStats | undefined> {
    const catalog = this.#catalog;
    if (catalog === undefined) return undefined;
    const bytes = catalog.finish();
    async function* pieces(): AsyncGenerator<Uint8Array> {
      yield* bytes;
    }
    return this.#w.uploadArchive(CATALOG_NAME, dynamicChunks(pieces(), this.#w.buffers, CATALOG_AVG_CHUNK));
  }
}
