/**
 * Names and paths inside `.chunks`: the 4-hex prefix directories and the three kinds of entry
 * names (chunk, quarantined `.bad`, temp). Pure. The private helper of LocalChunkBackend: nothing
 * else in src/ builds a chunk path (tests may, to reach the PBS on-disk layout directly).
 */
import { join } from 'node:path';

export const CHUNK_DIR = '.chunks';
export const PREFIX_COUNT = 65536;

export function prefixName(i: number): string {
  return i.toString(16).padStart(4, '0');
}

export function* prefixDirs(): Generator<string> {
  for (let i = 0; i < PREFIX_COUNT; i++) yield prefixName(i);
}

export function chunkPath(base: string, digestHex: string): string {
  return join(base, CHUNK_DIR, digestHex.slice(0, 4), digestHex);
}

const CHUNK_RE = /^[0-9a-f]{64}$/;
const BAD_RE = /^([0-9a-f]{64})\.(\d)\.bad$/;

export function isChunkName(name: string): boolean {
  return CHUNK_RE.test(name);
}

/** The name of quarantined copy `n` (0..9) of a chunk. */
export function badChunkName(digestHex: string, n: number): string {
  return `${digestHex}.${n}.bad`;
}

export function isBadChunkName(name: string): boolean {
  return BAD_RE.test(name);
}

/** The digest a chunk or `.bad` file name belongs to. */
export function digestOfName(name: string): string | undefined {
  if (CHUNK_RE.test(name)) return name;
  return BAD_RE.exec(name)?.[1];
}
