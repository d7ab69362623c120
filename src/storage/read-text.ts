/** Reads a small text file through the Fs port; a missing file is `undefined`, not an error. */
import { isHoldfastError } from '../core/errors.ts';
import type { Fs } from './fs-port.ts';

export async function readTextIfExists(fs: Fs, path: string): Promise<string | undefined> {
  try {
    return Buffer.from(await fs.readFile(path)).toString('utf8');
  } catch (e) {
    if (isHoldfastError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
}
