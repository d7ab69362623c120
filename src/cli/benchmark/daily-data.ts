/**
 * Data for `holdfast benchmark daily`: a tree of mixed files like the (sizes spread
 * over 4 KiB..8 MiB, about 390 files a GiB, every other file random bytes, the rest text, in directories
 * of at most 32 files), deterministic per seed; and the "daily change": rewriting 1% of the
 * files (at least one) with new content of the same kind and a size within ±10%.
 */
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fillText, Keystream } from './data-generator.ts';

const MIN_FILE = 4 * 1024;
const MAX_FILE = 8 * 1024 * 1024;
const PER_DIR = 32;
const BLOCK = 1024 * 1024;

export interface DailyFile {
  readonly path: string;
  readonly bytes: number;
  readonly text: boolean;
}

/** The files of a `totalBytes` tree (the last one trimmed so they add up exactly). */
export function dailyPlan(totalBytes: number, seed: number): DailyFile[] {
  const ks = new Keystream(seed, 0);
  const files: DailyFile[] = [];
  let left = totalBytes;
  for (let i = 0; left > 0; i++) {
    // u^0.3 leans towards large files: ~390 files a GiB, like the 381
    const r = (ks.next(4).readUInt32LE(0) / 2 ** 32) ** 0.3;
    const size = Math.min(left, Math.round(MIN_FILE * (MAX_FILE / MIN_FILE) ** r));
    files.push({ path: join(`d${String(Math.floor(i / PER_DIR)).padStart(3, '0')}`, `f${String(i).padStart(5, '0')}.${i % 2 ? 'txt' : 'bin'}`), bytes: size, text: i % 2 === 1 });
    left -= size;
  }
  return files;
}

async function writeContent(path: string, bytes: number, text: boolean, ks: Keystream): Promise<void> {
  const h = await open(path, 'w');
  try {
    for (let pos = 0; pos < bytes; pos += BLOCK) {
      const block = new Uint8Array(Math.min(BLOCK, bytes - pos));
      if (text) fillText(block, ks);
      else block.set(ks.next(block.length));
      await h.write(block, 0, block.length, pos);
    }
  } finally {
    await h.close();
  }
}

export async function generateDailyTree(dir: string, totalBytes: number, seed: number): Promise<number> {
  const plan = dailyPlan(totalBytes, seed);
  for (const [i, f] of plan.entries()) {
    await mkdir(join(dir, f.path, '..'), { recursive: true });
    await writeContent(join(dir, f.path), f.bytes, f.text, new Keystream(seed, i + 1));
  }
  return plan.length;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out.sort();
}

/** Rewrites `fraction` of the regular files under `dir` (at least one); returns their paths. */
export async function changeFiles(dir: string, fraction: number, seed: number): Promise<string[]> {
  const files = await listFiles(dir);
  const count = Math.max(1, Math.round(files.length * fraction));
  const ks = new Keystream(seed, 0x7fff_0000);
  const picked = new Set<string>();
  while (picked.size < Math.min(count, files.length)) picked.add(files[ks.next(4).readUInt32LE(0) % files.length]!);
  let stream = 0x7fff_0001;
  for (const path of picked) {
    const size = (await stat(path)).size;
    const scale = 0.9 + (ks.next(1)[0]! / 255) * 0.2;
    await writeContent(path, Math.max(1, Math.round(size * scale)), path.endsWith('.txt'), new Keystream(seed, stream++));
  }
  return [...picked];
}
