/**
 * `holdfast benchmark` (the `client` subcommand): the rows of `proxmox-backup-client benchmark`,
 * measured on this machine, each beside PBS's published reference figure (a Ryzen 7 2700X):
 *
 *   TLS upload speed to the server (the backup protocol's `speedtest` endpoint), SHA-256,
 *   zstd level 1 compression and decompression, chunk verification (decompress + SHA-256), and
 *   AES-256-GCM encryption.
 *
 * Each CPU row runs its operation on a 4 MiB chunk for `seconds` and reports MB/s (10^6 bytes
 * per second, PBS's unit) and the percentage of the reference. Data is half random, half zeros
 * per 4 KiB, so zstd has something to compress, as real chunks do.
 */
import { randomBytes } from 'node:crypto';
import { sha256 } from '../../core/digest.ts';
import { fail } from '../../core/errors.ts';
import { decodeChunk, encodeBlob } from '../../format/blob.ts';
import { CryptConfig, IV_BYTES } from '../../format/crypt-config.ts';
import { compressIfSmaller, decompress } from '../../format/zstd.ts';

export const BENCH_ROWS = ['tls', 'sha256', 'compress', 'decompress', 'verify', 'aes256gcm'] as const;
export type BenchRowId = (typeof BENCH_ROWS)[number];

/** PBS's published figures in MB/s (docs: backup-client.rst, "Client benchmark"). */
export const PBS_REFERENCE: Readonly<Record<BenchRowId, { readonly name: string; readonly mbps: number }>> = {
  tls: { name: 'TLS (maximal backup upload speed)', mbps: 1235 },
  sha256: { name: 'SHA256 checksum computation speed', mbps: 2022 },
  compress: { name: 'ZStd level 1 compression speed', mbps: 752 },
  decompress: { name: 'ZStd level 1 decompression speed', mbps: 1198 },
  verify: { name: 'Chunk verification speed', mbps: 758 },
  aes256gcm: { name: 'AES256 GCM encryption speed', mbps: 3645 },
};
export const REFERENCE_MACHINE = 'AMD Ryzen 7 2700X';

export interface BenchRow {
  readonly id: BenchRowId;
  readonly name: string;
  /** MB/s measured here; null when the row was not run (TLS without a repository) */
  readonly mbps: number | null;
  readonly referenceMbps: number;
  /** mbps / reference, as a fraction */
  readonly ratio: number | null;
  readonly note?: string;
}

export const CHUNK_BYTES = 4 * 1024 * 1024;

export function benchData(size = CHUNK_BYTES): Uint8Array {
  const out = new Uint8Array(size);
  for (let off = 0; off < size; off += 4096) out.set(randomBytes(Math.min(2048, size - off)), off);
  return out;
}

/** Runs `op` (which processes `bytes` per call) until `seconds` passed; at least once. */
export async function measure(bytes: number, seconds: number, op: () => unknown, now: () => number = () => performance.now()): Promise<number> {
  const start = now();
  let done = 0;
  do {
    await op();
    done += bytes;
  } while (now() - start < seconds * 1000);
  const elapsed = (now() - start) / 1000;
  return elapsed > 0 ? done / elapsed / 1e6 : 0;
}

export function row(id: BenchRowId, mbps: number | null, note?: string): BenchRow {
  const ref = PBS_REFERENCE[id];
  return { id, name: ref.name, mbps, referenceMbps: ref.mbps, ratio: mbps === null ? null : mbps / ref.mbps, ...(note !== undefined ? { note } : {}) };
}

/** The CPU rows (everything but TLS). */
export async function cpuRows(seconds: number): Promise<BenchRow[]> {
  const data = benchData();
  const compressed = compressIfSmaller(data);
  if (!compressed) throw fail('INTERNAL', 'benchmark data did not compress', {});
  const frame = compressed.slice();
  const blob = encodeBlob(data, { compress: true });
  const digest = sha256(data);
  const key = new CryptConfig(randomBytes(32));
  const iv = randomBytes(IV_BYTES);
  const dest = new Uint8Array(data.length);
  return [
    row('sha256', await measure(data.length, seconds, () => sha256(data))),
    row('compress', await measure(data.length, seconds, () => compressIfSmaller(data))),
    row('decompress', await measure(data.length, seconds, () => decompress(frame, data.length))),
    row('verify', await measure(data.length, seconds, () => decodeChunk(blob, { digest, size: data.length }))),
    row('aes256gcm', await measure(data.length, seconds, () => key.encryptInto(data, dest, iv))),
  ];
}

const mbps = (v: number): string => `${v.toFixed(2)} MB/s`;

export function renderBenchText(rows: readonly BenchRow[]): string {
  const cells = rows.map((r) => [r.name, r.mbps === null ? `not tested${r.note ? ` (${r.note})` : ''}` : `${mbps(r.mbps)} (${Math.round((r.ratio ?? 0) * 100)}%)`, mbps(r.referenceMbps)]);
  const head = ['Name', 'Value', `Reference (${REFERENCE_MACHINE})`];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (vals: readonly string[]): string => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
