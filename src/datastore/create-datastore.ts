/**
 * Creating a datastore's directory tree: base, the chunk store (`ChunkBackend.init`; locally
 * `.chunks` with all 65536 prefix dirs, reporting progress), and `.lock`. The tree is made durable
 * (directory fsyncs) whatever the sync level: creation is rare and a store whose prefix dirs
 * vanish after a power loss is unusable.
 *
 * Invariant: a failed create removes everything it made, so it leaves no half-made tree; a
 * directory that already holds anything but dot-files and `lost+found` is refused untouched.
 */
import { dirname, isAbsolute, join } from 'node:path';
import { fail } from '../core/errors.ts';
import type { ChunkBackend } from '../chunks/chunk-backend.ts';
import { LocalChunkBackend } from '../chunks/local-chunk-backend.ts';
import type { Fs } from '../storage/fs-port.ts';
import { removeTree } from '../storage/remove-tree.ts';
import { LOCK_NAME } from './layout.ts';

export type CreateProgress = (done: number, total: number) => void;

/** `backend` defaults to the local `.chunks` layout under `base`. */
export async function createDatastoreTree(fs: Fs, base: string, onProgress: CreateProgress = () => undefined, backend: ChunkBackend = new LocalChunkBackend({ fs, base })): Promise<void> {
  if (!isAbsolute(base)) throw fail('INVALID_ARGUMENT', `datastore path '${base}' must be absolute`, { value: base });
  const existed = await checkUsableBase(fs, base);
  const made: string[] = [];
  try {
    if (!existed) {
      await fs.mkdir(base, { recursive: true, mode: 0o755 });
      made.push(base);
    }
    const lockPath = join(base, LOCK_NAME);
    const h = await fs.open(lockPath, 'wx', 0o644);
    made.push(lockPath);
    await h.close();
    await backend.init(onProgress); // removes what it made when it fails
    await fs.fsyncDir(base);
    await fs.fsyncDir(dirname(base));
  } catch (e) {
    for (const p of made.reverse()) await removeTree(fs, p).catch(() => undefined);
    throw e;
  }
}

/** Returns whether the base exists; throws DIRECTORY_NOT_EMPTY when it holds real entries. */
async function checkUsableBase(fs: Fs, base: string): Promise<boolean> {
  const st = await fs.stat(base);
  if (!st) return false;
  if (!st.isDirectory) throw fail('INVALID_ARGUMENT', `datastore path '${base}' exists and is not a directory`, { path: base });
  const entries = (await fs.readdir(base)).filter((n) => !n.startsWith('.') && n !== 'lost+found');
  if (entries.length > 0) {
    throw fail('DIRECTORY_NOT_EMPTY', `datastore path '${base}' is not empty (found ${entries.slice(0, 3).join(', ')})`, { path: base, entries: entries.slice(0, 10) });
  }
  return true;
}
