/**
 * Data for `holdfast benchmark daily`: a tree of mixed files like the (sizes spread
 * over 4 KiB..8 MiB, about 390 files a GiB, every other file random bytes, the rest text, in directories
 * of at most 32 files), deterministic per seed; and the "daily change": rewriting 1% of the
 * files (at least one) with new content of the same kind and a size within ±10%.
 * `--small-files N` asks instead for a tree of N small files (0..8 KiB, 1,000 a directory under 100
 * top directories): the case where per-file costs, not bytes, decide the time of a re-backup.
 */
import { mkdir, open, readdir, stat, writeFile } from 'node:fs/promises';
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

const SMALL_MAX = 8 * 1024;
const SMALL_PER_DIR = 1000;
const SMALL_TOP_DIRS = 100;
/** Files written at once: enough to keep the disk busy, few enough to bound memory (~0.5 MiB). */
const SMALL_BATCH = 128;

/** Where small file `i` goes: s<top>/<dir>/f<i>, 1,000 files a directory. */
export function smallFilePath(i: number): string {
  const dir = Math.floor(i / SMALL_PER_DIR);
  return join(`s${String(dir % SMALL_TOP_DIRS).padStart(2, '0')}`, `d${String(dir).padStart(4, '0')}`, `f${String(i).padStart(7, '0')}.${i % 2 ? 'txt' : 'bin'}`);
}

/**
 * Writes `count` small files under `dir`, deterministic per seed: one keystream gives, file after
 * file, a size in 0..8 KiB and the content (random bytes or text, alternating); the writes of a
 * batch run at once. Returns the total bytes.
 */
export async function generateSmallFilesTree(dir: string, count: number, seed: number): Promise<number> {
  const ks = new Keystream(seed, 0x5000_0000);
  let total = 0;
  const dirsMade = new Set<string>();
  for (let start = 0; start < count; start += SMALL_BATCH) {
    const batch: { path: string; data: Uint8Array }[] = [];
    for (let i = start; i < Math.min(count, start + SMALL_BATCH); i++) {
      const size = ks.next(2).readUInt16LE(0) % (SMALL_MAX + 1);
      const data = new Uint8Array(size);
      if (i % 2 === 1) fillText(data, ks);
      else data.set(ks.next(size));
      batch.push({ path: join(dir, smallFilePath(i)), data });
      total += size;
    }
    for (const { path } of batch) {
      const parent = join(path, '..');
      if (dirsMade.has(parent)) continue;
      await mkdir(parent, { recursive: true });
      dirsMade.add(parent);
    }
    await Promise.all(batch.map(({ path, data }) => writeFile(path, data)));
  }
  return total;
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
