/**
 * The content-mirror port: where a datastore keeps a second copy of its metadata (the snapshot
 * tree: indexes, blobs, manifests, owner and notes files, `.protected`) beside its chunks. A
 * local datastore needs none (`NO_MIRROR`: its chunks and metadata share one filesystem). A
 * datastore whose chunks live elsewhere (an object store) mirrors every metadata write and remove
 * there, so that a fresh server with an empty cache can attach to it again (`pull`).
 *
 * Paths are relative to the datastore's base, with `/` separators (`vm/100/<time>/index.json.blob`).
 *
 * Contract:
 * - `fileWritten` resolves only when the copy is stored as durably as the mirror can store it (an
 *   object store: the PUT was answered 2xx); a failure rejects and is never reported as success.
 *   Durability (datastore/durability.ts) calls it for every metadata write, the manifest last.
 * - `fileRemoved` and `treeRemoved` remove copies; removing what is absent is not an error.
 * - `pull` yields every mirrored file once, in no particular order.
 */

export interface MirroredFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

export interface ContentMirror {
  /** false for `NO_MIRROR`: nothing to copy, nothing to pull */
  readonly active: boolean;
  fileWritten(path: string, bytes: Uint8Array): Promise<void>;
  fileRemoved(path: string): Promise<void>;
  /** Removes every copy under the directory `path` (a snapshot or a group). */
  treeRemoved(path: string): Promise<void>;
  /** Every mirrored file (for re-attaching a datastore from an empty cache). */
  pull(): AsyncIterable<MirroredFile>;
}

/** The mirror of a datastore that keeps its metadata only where its chunks are. */
export const NO_MIRROR: ContentMirror = Object.freeze({
  active: false,
  fileWritten: async () => undefined,
  fileRemoved: async () => undefined,
  treeRemoved: async () => undefined,
  pull: async function* () {
    return;
  },
});
