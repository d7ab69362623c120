/**
 * Loads what metadata change detection needs from the previous snapshot of the group (read
 * through a reader session, so every byte is checked as in a restore): the regular files of its
 * metadata archive (`NAME.mpxar.didx`) with metadata, size and payload offset; the chunk list of
 * its payload index (`NAME.ppxar.didx`), checked against its manifest; and the file identities
 * (`NAME.fileid.blob`). Payload chunks are not downloaded. Any failure is the caller's cue to
 * fall back to reading every file; this module never guesses.
 *
 * Memory: one map entry per regular file (path, metadata, size, offset), held for the backup.
 */
import { fail } from '../core/errors.ts';
import { decodePxar } from '../format/pxar/decoder.ts';
import type { PxarMetadata } from '../format/pxar/metadata.ts';
import type { FileIdentity, PayloadChunk } from './change-detection.ts';
import { decodeFileIdentities, fileIdentityBlobName } from './file-identities.ts';
import type { RestoreReader } from '../remote/restore-reader.ts';

export interface PreviousFile {
  readonly metadata: PxarMetadata;
  readonly size: number;
  readonly payloadOffset: number;
  readonly identity?: FileIdentity;
}

export interface PreviousArchive {
  /** Keyed by `pathKey` of the path relative to the archive root. */
  readonly files: ReadonlyMap<string, PreviousFile>;
  readonly chunks: readonly PayloadChunk[];
  /** Why files carry no identity (then none is reused), or undefined when all do. */
  readonly identityProblem?: string;
}

export function pathKey(path: Uint8Array): string {
  return Buffer.from(path.buffer, path.byteOffset, path.byteLength).toString('latin1');
}

export async function loadPreviousArchive(reader: RestoreReader, base: string): Promise<PreviousArchive> {
  const names = new Set(reader.manifest.files.map((f) => f.filename));
  const mpxar = `${base}.mpxar.didx`;
  const ppxar = `${base}.ppxar.didx`;
  if (!names.has(mpxar) || !names.has(ppxar)) throw fail('NOT_FOUND', `the previous snapshot has no split archive ${base}.mpxar/.ppxar`, { archive: base });
  // The payload index and the identity record download while the metadata archive streams in.
  const listing = reader.chunkList(ppxar);
  const identityBlob = startIdentities(reader, base, names);
  listing.catch(() => undefined);
  identityBlob.catch(() => undefined);
  const entries: { key: string; metadata: PxarMetadata; size: number; payloadOffset: number }[] = [];
  // Goodbye tables are not checked: nothing here uses them (entries are read in order), and
  // checking hashes every name with SipHash, a tenth of an unchanged re-backup's main thread on
  // a tree of small files. The bytes are still proven by their chunk digests, and the structure
  // (item order, sizes, names) is still checked as the entries are read.
  for await (const ev of decodePxar(reader.stream(mpxar), { verifyGoodbye: false })) {
    if (ev.type !== 'entry' || ev.entry.kind !== 'file') continue;
    const { path, metadata, size, payloadOffset } = ev.entry;
    if (payloadOffset !== undefined) entries.push({ key: pathKey(path), metadata, size, payloadOffset });
  }
  const list = await listing;
  let start = 0;
  const chunks = list.chunks.map((c) => {
    const chunk = { start, end: start + c.size, digest: c.digest };
    start += c.size;
    return chunk;
  });
  const { identities, problem } = checkIdentities(await identityBlob, entries.length);
  const files = new Map<string, PreviousFile>();
  // one object per file, held for the whole backup
  for (const [i, { key, metadata, size, payloadOffset }] of entries.entries()) {
    const identity = identities?.[i];
    files.set(key, identity === undefined ? { metadata, size, payloadOffset } : { metadata, size, payloadOffset, identity });
  }
  return { files, chunks, ...(problem === undefined ? {} : { identityProblem: problem }) };
}

/** The decoded identity record, or why there is none. */
async function startIdentities(reader: RestoreReader, base: string, names: Set<string>): Promise<FileIdentity[] | string> {
  const blob = fileIdentityBlobName(base);
  if (!names.has(blob)) return 'it recorded no inode numbers and ctimes (not made by Holdfast in metadata or data mode)';
  return decodeFileIdentities(await reader.readBlob(blob));
}

function checkIdentities(record: FileIdentity[] | string, count: number): { identities?: FileIdentity[]; problem?: string } {
  if (typeof record === 'string') return { problem: record };
  if (record.length !== count) return { problem: `its file-identity record has ${record.length} entries for ${count} files` };
  return { identities: record };
}
