/**
 * readTree: a whole directory tree read through the `Fs` port, for comparing filesystems in
 * tests and in the crash explorer (a post-crash state against what was acknowledged). Works on
 * any adapter; entries come in sorted path order so two trees compare with deepEqual.
 */
import type { Fs } from '../fs-port.ts';

/** A directory, or a file's whole content. */
export type TreeEntry = 'dir' | Uint8Array;

export async function readTree(fs: Fs, root = '/'): Promise<Map<string, TreeEntry>> {
  const out = new Map<string, TreeEntry>();
  await walk(fs, root === '/' ? '' : root, out);
  return out;
}

async function walk(fs: Fs, dir: string, out: Map<string, TreeEntry>): Promise<void> {
  for (const name of (await fs.readdir(dir === '' ? '/' : dir)).sort()) {
    const path = `${dir}/${name}`;
    const st = await fs.stat(path);
    if (st?.isDirectory === true) {
      out.set(path, 'dir');
      await walk(fs, path, out);
    } else if (st?.isFile === true) {
      out.set(path, new Uint8Array(await fs.readFile(path)));
    }
  }
}

/** A short printable form for assertion messages: dirs as `/`, files as text or a byte count. */
export function describeTree(tree: ReadonlyMap<string, TreeEntry>): string {
  const lines: string[] = [];
  for (const [path, entry] of tree) {
    if (entry === 'dir') lines.push(`${path}/`);
    else lines.push(`${path} (${entry.length} B)`);
  }
  return lines.join('\n');
}
