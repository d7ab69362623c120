/**
 * Decodes restored chunks and proves each one: zstd or AES-256-GCM where the blob says so, then
 * the SHA-256 digest the index names (keyed when encrypted) and the size it implies. Restore's
 * only CPU-heavy step on the client besides TLS; `pooledChunkDecoder` runs it on worker threads in
 * buffers it borrows by transfer, so the main thread keeps receiving and writing while chunks are
 * checked (measured: 1.2 s of a 2.8 s main thread per GiB restored was this decoding).
 *
 * Why transfer and not shared memory: V8 copies to or from a SharedArrayBuffer at an address that
 * is not 8-byte aligned with a relaxed atomic loop, three times slower than memmove (measured:
 * 0.23 s against 0.075 s per GiB), and a restore copies every byte twice (the receive buffer, the
 * file writer), mostly at odd offsets.
 *
 * Contract of `decode(raw, ref, output)`: `raw` (the blob) and `output` (at least `ref.size` bytes)
 * are views of whole ArrayBuffers that the decoder may take (transfer); both come back in the
 * answer, as new views of the same memory, with the plaintext: a view of `raw` (a plain chunk: its
 * payload after the header), of `output` (compressed or encrypted) or, rarely, of new memory. The
 * arrays passed in must not be used again. A failure rejects with the coded error decodeChunk
 * throws (DIGEST_MISMATCH, SIZE_MISMATCH, CORRUPT, KEY_REQUIRED…), and both buffers are then lost.
 * No byte is returned that did not pass the digest check.
 */
import { fail } from '../core/errors.ts';
import { WorkerPool } from '../core/worker-pool.ts';
import { decodeChunk } from '../format/blob.ts';
import { CryptConfig } from '../format/crypt-config.ts';

export interface Decoded {
  readonly data: Uint8Array;
  readonly raw: Uint8Array;
  readonly output: Uint8Array;
}

export interface ChunkDecoder {
  decode(raw: Uint8Array, ref: { readonly digest: Uint8Array; readonly size: number }, output: Uint8Array): Promise<Decoded>;
  close(): Promise<void>;
}

/** What a worker gets: the two buffers (transferred, not copied) and the key, when encrypted. */
export interface DecoderJob {
  readonly raw: Uint8Array;
  readonly output: Uint8Array;
  readonly digest: Uint8Array;
  readonly size: number;
  readonly keyHex: string | undefined;
}

/** Where the plaintext ended up: in `raw` or `output` (offsets), or, rarely, new memory. */
export type DecoderAnswer = { readonly in: 'raw' | 'output'; readonly start: number; readonly end: number } | { readonly in: 'new'; readonly bytes: Uint8Array };

/** The answer with the buffers the worker hands back. */
export interface WorkerAnswer {
  readonly answer: DecoderAnswer;
  readonly raw: Uint8Array;
  readonly output: Uint8Array;
}

export function runDecoderJob(job: DecoderJob, crypt: CryptConfig | undefined): DecoderAnswer {
  const output = (length: number): Uint8Array => {
    if (length > job.output.length) throw fail('SIZE_MISMATCH', `chunk declares ${length} bytes, expected ${job.size}`, { expected: job.size, actual: length });
    return job.output.subarray(0, length);
  };
  const data = decodeChunk(job.raw, { digest: job.digest, size: job.size, crc: false, output, ...(crypt ? { crypt } : {}) });
  for (const [name, area] of [['raw', job.raw], ['output', job.output]] as const) {
    if (data.buffer === area.buffer) {
      const start = data.byteOffset - area.byteOffset;
      return { in: name, start, end: start + data.byteLength };
    }
  }
  return { in: 'new', bytes: data }; // a zstd frame without a declared size: copied back
}

export function inlineChunkDecoder(crypt?: CryptConfig): ChunkDecoder {
  return {
    decode: async (raw, ref, output) => {
      const answer = runDecoderJob({ raw, output, digest: ref.digest, size: ref.size, keyHex: undefined }, crypt);
      return { data: place(answer, raw, output), raw, output };
    },
    close: async () => undefined,
  };
}

/** Decodes on `size` worker threads (default: one per core), in buffers they borrow. */
export function pooledChunkDecoder(crypt?: CryptConfig, size?: number): ChunkDecoder {
  // a restore decodes every chunk: the workers start now, while the index is fetched
  const pool = new WorkerPool(new URL('./chunk-decoder-worker.ts', import.meta.url), size).warm();
  const keyHex = crypt ? Buffer.from(crypt.rawKey()).toString('hex') : undefined;
  return {
    decode: async (raw, ref, output) => {
      if (raw.buffer === output.buffer || raw.buffer instanceof SharedArrayBuffer || output.buffer instanceof SharedArrayBuffer) {
        throw fail('INTERNAL', 'pooled chunk decoding needs two ArrayBuffers of its own');
      }
      const job: DecoderJob = { raw, output, digest: ref.digest, size: ref.size, keyHex };
      const back = await pool.run<WorkerAnswer>(job, [raw.buffer, output.buffer]);
      return { data: place(back.answer, back.raw, back.output), raw: back.raw, output: back.output };
    },
    close: () => pool.close(),
  };
}

function place(answer: DecoderAnswer, raw: Uint8Array, output: Uint8Array): Uint8Array {
  if (answer.in === 'new') return answer.bytes;
  return (answer.in === 'raw' ? raw : output).subarray(answer.start, answer.end);
}
