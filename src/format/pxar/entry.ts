/**
 * What the pxar decoder yields: entries (one per archive member, in archive order), file data
 * pieces that follow their file entry, and a `directory-end` after each directory's children so
 * consumers can apply directory metadata last. Paths are byte strings relative to the archive
 * root (the root itself has an empty path); `pathText` renders them for display.
 */
import type { PxarDevice, PxarMetadata } from './metadata.ts';

interface EntryBase {
  /** Path relative to the archive root, components joined by "/"; empty for the root. */
  readonly path: Uint8Array;
  /** Archive offset of the entry's FILENAME header (0 for the root). */
  readonly fileOffset: number;
}

export interface PxarDirectoryEntry extends EntryBase {
  readonly kind: 'directory';
  readonly metadata: PxarMetadata;
}

export interface PxarFileEntry extends EntryBase {
  readonly kind: 'file';
  readonly metadata: PxarMetadata;
  readonly size: number;
  /** Split archives: payload-stream offset of the file's PAYLOAD header. */
  readonly payloadOffset?: number;
}

export interface PxarSymlinkEntry extends EntryBase {
  readonly kind: 'symlink';
  readonly metadata: PxarMetadata;
  readonly target: Uint8Array;
}

/** A further name for an earlier regular file; carries no metadata of its own. */
export interface PxarHardlinkEntry extends EntryBase {
  readonly kind: 'hardlink';
  /** Path of the earlier file as stored (relative to the root; upstream test data may add a leading "/"). */
  readonly target: Uint8Array;
  /** Archive offset of the earlier file's FILENAME header. */
  readonly targetOffset: number;
}

export interface PxarDeviceEntry extends EntryBase {
  readonly kind: 'char-device' | 'block-device';
  readonly metadata: PxarMetadata;
  readonly device: PxarDevice;
}

export interface PxarSpecialEntry extends EntryBase {
  readonly kind: 'fifo' | 'socket';
  readonly metadata: PxarMetadata;
}

export type PxarEntry = PxarDirectoryEntry | PxarFileEntry | PxarSymlinkEntry | PxarHardlinkEntry | PxarDeviceEntry | PxarSpecialEntry;

export const PXAR_ENTRY_KINDS = ['directory', 'file', 'symlink', 'hardlink', 'char-device', 'block-device', 'fifo', 'socket'] as const;
export type PxarEntryKind = (typeof PXAR_ENTRY_KINDS)[number];

export type PxarEvent =
  | { readonly type: 'prelude'; readonly bytes: Uint8Array }
  | { readonly type: 'entry'; readonly entry: PxarEntry }
  /** File data, in order, right after its file entry (absent for split archives read without payload). */
  | { readonly type: 'data'; readonly bytes: Uint8Array }
  | { readonly type: 'directory-end'; readonly entry: PxarDirectoryEntry };
