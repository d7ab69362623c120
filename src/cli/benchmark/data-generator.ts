/**
 * Deterministic benchmark data: a directory tree that is half incompressible bytes and half
 * text-like bytes (words from a fixed vocabulary, which zstd shrinks about 3×), the same for a
 * given size and seed on every machine, so results from different machines compare.
 *
 * Invariants: no two 4 KiB blocks repeat (both kinds are driven by an AES-256-CTR keystream keyed
 * by the seed and the file's index), so nothing dedups inside one backup and every run uploads the
 * whole size; the split is balanced by bytes, not files.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const DATA_FILE_SIZE = 32 * 1024 * 1024;
const FILES_PER_DIR = 16;
const WRITE_BLOCK = 4 * 1024 * 1024;
const GENERATOR_VERSION = 1;

export type DataKind = 'random' | 'text';

export interface PlannedFile {
  /** relative to the dataset directory */
  readonly path: string;
  readonly bytes: number;
  readonly kind: DataKind;
}

/** The files of a dataset of `totalBytes`: 32 MiB files in folders of 16, kinds balanced by bytes. */
export function datasetPlan(totalBytes: number, fileSize = DATA_FILE_SIZE): PlannedFile[] {
  const files: PlannedFile[] = [];
  const done = { random: 0, text: 0 };
  for (let i = 0, left = totalBytes; left > 0; i++) {
    const bytes = Math.min(fileSize, left);
    const kind: DataKind = done.random <= done.text ? 'random' : 'text';
    done[kind] += bytes;
    const dir = `d${String(Math.floor(i / FILES_PER_DIR)).padStart(3, '0')}`;
    files.push({ path: `${dir}/f${String(i).padStart(5, '0')}.${kind === 'random' ? 'bin' : 'txt'}`, bytes, kind });
    left -= bytes;
  }
  return files;
}

/** An endless deterministic byte stream for (seed, stream index): AES-256-CTR over zeros. */
export class Keystream {
  readonly #cipher;
  readonly #zeros = Buffer.alloc(WRITE_BLOCK);
  constructor(seed: number, stream: number) {
    const key = createHash('sha256').update(`holdfast-bench-v${GENERATOR_VERSION}:${seed}`).digest();
    const iv = Buffer.alloc(16);
    iv.writeUInt32BE(stream >>> 0, 0);
    this.#cipher = createCipheriv('aes-256-ctr', key, iv);
  }
  next(bytes: number): Buffer {
    return bytes <= this.#zeros.length ? this.#cipher.update(this.#zeros.subarray(0, bytes)) : this.#cipher.update(Buffer.alloc(bytes));
  }
}

/** 2048 pronounceable words from syllables: a closed vocabulary, like prose or logs. */
function buildVocabulary(): Uint8Array[] {
  const onsets = ['b', 'c', 'd', 'f', 'g', 'h', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'st'];
  const vowels = ['a', 'e', 'i', 'o', 'u', 'ea', 'ou', 'ai'];
  const codas = ['', 'n', 'r', 's', 'nd', 'st', 'l', 'm'];
  const words: Uint8Array[] = [];
  for (let i = 0; words.length < 2048; i++) {
    const syllables = 1 + (i % 3);
    let w = '';
    for (let s = 0, x = i; s < syllables; s++, x = Math.floor(x / 7) + s * 13) {
      w += onsets[x % onsets.length]! + vowels[(x >> 2) % vowels.length]! + codas[(x >> 3) % codas.length]!;
    }
    words.push(Buffer.from(w));
  }
  return words;
}
const VOCABULARY = buildVocabulary();

/** Fills `out` with words, spaces, punctuation and line breaks chosen by `rnd` (2 bytes a word). */
export function fillText(out: Uint8Array, stream: Keystream): void {
  let rnd = stream.next(Math.ceil(out.length / 2) + 2);
  let r = 0;
  let pos = 0;
  while (pos < out.length) {
    if (r + 2 > rnd.length) {
      rnd = stream.next(Math.ceil((out.length - pos) / 2) + 2);
      r = 0;
    }
    const v = rnd[r]! | (rnd[r + 1]! << 8);
    r += 2;
    const word = VOCABULARY[v & 2047]!;
    for (let i = 0; i < word.length && pos < out.length; i++) out[pos++] = word[i]!;
    if (pos < out.length) out[pos++] = (v >> 11) === 0 ? 0x0a : (v >> 11) === 1 ? 0x2e : 0x20;
  }
}

async function writeFileFrom(path: string, bytes: number, fill: (block: Uint8Array) => void): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const h = await open(path, 'w');
  try {
    for (let pos = 0; pos < bytes; pos += WRITE_BLOCK) {
      const block = new Uint8Array(Math.min(WRITE_BLOCK, bytes - pos));
      fill(block);
      await h.write(block, 0, block.length, pos);
    }
  } finally {
    await h.close();
  }
}

export async function writeIncompressibleFile(path: string, bytes: number, seed: number, stream = 0): Promise<void> {
  const ks = new Keystream(seed, stream);
  await writeFileFrom(path, bytes, (b) => b.set(ks.next(b.length)));
}

/**
 * Writes the dataset under `dir` unless a marker beside it (`dir.complete`) says this exact
 * dataset is there already; a half-written tree from an interrupted run is removed first.
 */
export async function generateDataset(dir: string, totalBytes: number, seed: number, fileSize = DATA_FILE_SIZE): Promise<{ readonly reused: boolean }> {
  const marker = `${dir}.complete`;
  const want = JSON.stringify({ version: GENERATOR_VERSION, totalBytes, seed, fileSize });
  if ((await readFile(marker, 'utf8').catch(() => '')) === want) return { reused: true };
  await rm(dir, { recursive: true, force: true });
  const plan = datasetPlan(totalBytes, fileSize);
  for (const [i, f] of plan.entries()) {
    const ks = new Keystream(seed, i + 1);
    await writeFileFrom(join(dir, f.path), f.bytes, f.kind === 'random' ? (b) => b.set(ks.next(b.length)) : (b) => fillText(b, ks));
  }
  await writeFile(marker, want);
  return { reused: false };
}
