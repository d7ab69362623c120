/**
 * removeTree: `rm -r` through the Fs port, so aborts and prune work on the simulator too.
 * Children go before their directory; a path that vanished meanwhile is not an error.
 */
import { join } from 'node:path';
import { isHoldfastError } from '../core/errors.ts';
import type { Fs } from './fs-port.ts';

export async function removeTree(fs: Fs, path: string): Promise<void> {
  const st = await fs.stat(path);
  if (!st) return;
  if (!st.isDirectory) {
    await ignoreMissing(fs.unlink(path));
    return;
  }
  for (const name of await fs.readdir(path)) await removeTree(fs, join(path, name));
  await ignoreMissing(fs.rmdir(path));
}

async function ignoreMissing(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!isHoldfastError(e, 'NOT_FOUND')) throw e;
  }
}
