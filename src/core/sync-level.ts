/**
 * The sync level of a datastore: how hard it works to survive a power loss. The promise of each
 * level is written in docs/durability.md; `writePolicy` is the single place that turns a level into
 * per-write decisions, so no other module reasons about levels.
 */
export const SYNC_LEVELS = ['none', 'filesystem', 'file'] as const;
export type SyncLevel = (typeof SYNC_LEVELS)[number];
export const DEFAULT_SYNC_LEVEL: SyncLevel = 'filesystem';

export function isSyncLevel(s: string): s is SyncLevel {
  return (SYNC_LEVELS as readonly string[]).includes(s);
}

export interface WritePolicy {
  /** fsync each chunk file before its rename and its prefix directory after. */
  readonly fsyncChunks: boolean;
  /** fsync index, blob and metadata files (and their directories) as they are written. */
  readonly fsyncFiles: boolean;
  /** one syncfs(2) on the datastore's filesystem after a backup's data, before its manifest. */
  readonly syncfsAtFinish: boolean;
  /** the manifest is made durable (file + directory fsync) before a backup is acknowledged. */
  readonly durableManifest: boolean;
}

export function writePolicy(level: SyncLevel): WritePolicy {
  switch (level) {
    case 'none':
      return { fsyncChunks: false, fsyncFiles: false, syncfsAtFinish: false, durableManifest: false };
    case 'filesystem':
      return { fsyncChunks: false, fsyncFiles: false, syncfsAtFinish: true, durableManifest: true };
    case 'file':
      return { fsyncChunks: true, fsyncFiles: true, syncfsAtFinish: false, durableManifest: true };
  }
}
