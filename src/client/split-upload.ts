/**
 * Uploads a directory as a split pxar archive (change-detection mode `data` or `metadata`):
 * `NAME.mpxar.didx` and `NAME.ppxar.didx`, chunked and uploaded at once (the metadata stream is
 * produced as the payload stream is pulled), then `NAME.fileid.blob` (file identities for the
 * next metadata-mode backup).
 *
 * In metadata mode the previous snapshot's archive is loaded through `openPrevious` (a reader
 * session). When that is impossible — no previous snapshot, one made with another key, no split
 * archive of this name, a corrupt or unreadable metadata archive, no identity record — a warning
 * says why and every file is read: the fallback costs time, never correctness.
 */
import { MAX_CHUNK_SIZE } from '../format/blob.ts';
import { traceMark } from '../core/trace-timing.ts';
import type { ArchiveStats, BackupWriter } from '../remote/backup-writer.ts';
import { dynamicChunks } from './dynamic-chunks.ts';
import { fileIdentityBlobName } from './file-identities.ts';
import { payloadChunks } from './payload-chunks.ts';
import { loadPreviousArchive, type PreviousArchive } from './previous-archive.ts';
import { createSplitPxar, type CreateOptions } from './pxar-create.ts';
import type { SplitStats } from './pxar-split-encoder.ts';
import type { ProtocolTransport } from '../remote/protocol-transport.ts';
import { RestoreReader } from '../remote/restore-reader.ts';
import type { CryptConfig } from '../format/crypt-config.ts';

export const CHANGE_DETECTION_MODES = ['legacy', 'data', 'metadata'] as const;
export type ChangeDetectionMode = (typeof CHANGE_DETECTION_MODES)[number];

export interface SplitUploadOptions extends CreateOptions {
  readonly mode: 'data' | 'metadata';
  /** Opens a reader session on the previous snapshot (metadata mode). */
  readonly openPrevious?: (backupTime: number) => Promise<ProtocolTransport>;
  readonly crypt?: CryptConfig;
  /** Why the previous archive is not used (metadata mode); the backup reads every file. */
  readonly onFallback?: (reason: string) => void;
}

export interface SplitUploadReport {
  readonly metadata: ArchiveStats;
  readonly payload: ArchiveStats;
  readonly files: SplitStats;
}

/** `base` is the archive name without extension, e.g. `root` for `root.pxar`. */
export async function uploadSplitPxar(w: BackupWriter, base: string, dir: string, o: SplitUploadOptions): Promise<SplitUploadReport> {
  w.prefetchPrevious([`${base}.mpxar.didx`, `${base}.ppxar.didx`]); // alongside the reader session below
  const previous = o.mode === 'metadata' ? await previousArchive(w, base, o) : undefined;
  const split = createSplitPxar(dir, { ...o, ...(previous ? { previous } : {}) });
  const metaUpload = w.uploadArchive(`${base}.mpxar.didx`, dynamicChunks(split.metadata, w.buffers));
  metaUpload.catch(() => undefined); // awaited below; the payload's failure ends it too
  let payload: ArchiveStats;
  try {
    payload = await w.uploadArchive(`${base}.ppxar.didx`, payloadChunks(split.payload, w.buffers));
  } finally {
    split.abort(); // a no-op after success; after a failure the metadata upload fails too instead of waiting
  }
  const metadata = await metaUpload;
  traceMark('split: both archives closed');
  const ids = split.identities();
  if (ids.length <= MAX_CHUNK_SIZE) await w.uploadBlob(fileIdentityBlobName(base), ids);
  else o.onFallback?.(`${base}: too many files to record their identities; the next backup reads every file`);
  return { metadata, payload, files: split.stats };
}

async function previousArchive(w: BackupWriter, base: string, o: SplitUploadOptions): Promise<PreviousArchive | undefined> {
  const fallback = (why: string): undefined => {
    o.onFallback?.(`${base}: ${why}; reading every file`);
    return undefined;
  };
  if (w.previousUsesOtherKey) return fallback('the previous snapshot was made with another key (or none)');
  const manifest = w.previousManifest;
  if (manifest === undefined) return fallback('no previous snapshot in this group');
  if (o.openPrevious === undefined) return fallback('no way to read the previous snapshot');
  let t: ProtocolTransport | undefined;
  try {
    traceMark('previous: opening reader');
    t = await o.openPrevious(manifest.backupTime);
    traceMark('previous: reader upgraded');
    const reader = await RestoreReader.open(t, o.crypt, { manifest });
    traceMark('previous: manifest read');
    const prev = await loadPreviousArchive(reader, base);
    traceMark('previous: archive loaded');
    if (prev.identityProblem !== undefined) return fallback(`the previous snapshot's archive is not usable: ${prev.identityProblem}`);
    return prev;
  } catch (e) {
    return fallback(`the previous metadata archive could not be read (${e instanceof Error ? e.message : String(e)})`);
  } finally {
    await t?.close().catch(() => undefined);
  }
}
