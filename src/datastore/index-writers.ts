/**
 * Server-side index writers for a backup session: they collect digests as the client appends
 * them, enforce the protocol's placement rules, check the client's count/size/csum at close, and
 * only then encode the `.fidx`/`.didx` bytes. Nothing touches the disk here; the session writes the
 * encoded index through the atomic-write routine.
 */
import { randomBytes } from 'node:crypto';
import { fail } from '../core/errors.ts';
import { toHex } from '../core/digest.ts';
import { dynamicIndexCsum, encodeDynamicIndex } from '../format/dynamic-index.ts';
import { encodeFixedIndex, fixedIndexCsum, FIXED_CHUNK_SIZE } from '../format/fixed-index.ts';

export interface CloseParams {
  readonly chunkCount: number;
  readonly size: number;
  readonly csumHex: string;
}

export interface IndexWriter {
  readonly kind: 'fixed' | 'dynamic';
  readonly archiveName: string;
  /** `offset` is the chunk's start offset in the archive stream. */
  append(digest: Uint8Array, offset: number, size: number): void;
  close(p: CloseParams): { bytes: Uint8Array; size: number; csumHex: string };
}

function mismatch(what: string, expected: unknown, got: unknown, archive: string): never {
  throw fail('INDEX_MISMATCH', `${archive}: ${what} mismatch (server has ${String(expected)}, client sent ${String(got)})`, { archive, what, expected, got });
}

export class DynamicIndexWriter implements IndexWriter {
  readonly kind = 'dynamic';
  readonly archiveName: string;
  readonly #entries: { end: number; digest: Uint8Array }[] = [];
  #offset = 0;

  constructor(archiveName: string) {
    this.archiveName = archiveName;
  }

  append(digest: Uint8Array, offset: number, size: number): void {
    if (offset !== this.#offset) {
      throw fail('PROTOCOL_ERROR', `${this.archiveName}: append at offset ${offset}, expected ${this.#offset}`, { archive: this.archiveName, offset, expected: this.#offset });
    }
    this.#offset += size;
    this.#entries.push({ end: this.#offset, digest });
  }

  close(p: CloseParams): { bytes: Uint8Array; size: number; csumHex: string } {
    if (p.chunkCount !== this.#entries.length) mismatch('chunk count', this.#entries.length, p.chunkCount, this.archiveName);
    if (p.size !== this.#offset) mismatch('size', this.#offset, p.size, this.archiveName);
    const { csum } = dynamicIndexCsum(this.#entries);
    const csumHex = toHex(csum);
    if (csumHex !== p.csumHex) mismatch('csum', csumHex, p.csumHex, this.archiveName);
    const bytes = encodeDynamicIndex({ uuid: randomBytes(16), ctime: Math.floor(Date.now() / 1000), entries: this.#entries });
    return { bytes, size: this.#offset, csumHex };
  }
}

/**
 * The largest image a fixed index may describe: 16 TiB, 4 Mi chunks, a 128 MiB index. A client
 * names the size before sending any data, so without a bound one request could make the server
 * walk and allocate an index of 2^53 bytes' worth of chunks at close.
 */
export const MAX_FIXED_IMAGE_SIZE = 16 * 1024 ** 4;

export class FixedIndexWriter implements IndexWriter {
  readonly kind = 'fixed';
  readonly archiveName: string;
  readonly #digests: (Uint8Array | undefined)[];
  readonly #fixedSize: number | undefined;
  readonly #incremental: boolean;
  #size: number;
  #appended = 0;
  #shortChunkSeen = false;

  /** `size` undefined: the image grows with the appends. `reuse`: digests copied from the previous index. */
  constructor(archiveName: string, size: number | undefined, reuse?: readonly Uint8Array[]) {
    if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0 && size <= MAX_FIXED_IMAGE_SIZE)) {
      throw fail('INVALID_ARGUMENT', `${archiveName}: image size ${size} is not in 0..${MAX_FIXED_IMAGE_SIZE} (16 TiB)`, { size, max: MAX_FIXED_IMAGE_SIZE });
    }
    this.archiveName = archiveName;
    this.#fixedSize = size;
    this.#size = size ?? 0;
    this.#incremental = reuse !== undefined;
    this.#digests = reuse ? [...reuse] : new Array<Uint8Array | undefined>(size === undefined ? 0 : Math.ceil(size / FIXED_CHUNK_SIZE));
  }

  append(digest: Uint8Array, offset: number, size: number): void {
    if (offset % FIXED_CHUNK_SIZE !== 0) throw fail('PROTOCOL_ERROR', `${this.archiveName}: offset ${offset} is not chunk aligned`, { offset });
    if (size > FIXED_CHUNK_SIZE || size < 1) throw fail('PROTOCOL_ERROR', `${this.archiveName}: chunk size ${size} is not in 1..${FIXED_CHUNK_SIZE}`, { size });
    const idx = offset / FIXED_CHUNK_SIZE;
    const end = offset + size;
    if (end > MAX_FIXED_IMAGE_SIZE) throw fail('PROTOCOL_ERROR', `${this.archiveName}: chunk at ${offset} ends past the largest image (16 TiB)`, { offset, size });
    if (this.#fixedSize !== undefined) {
      if (end > this.#fixedSize) throw fail('PROTOCOL_ERROR', `${this.archiveName}: chunk at ${offset} ends past the image size ${this.#fixedSize}`, { offset, size });
      if (size < FIXED_CHUNK_SIZE && end !== this.#fixedSize) throw fail('PROTOCOL_ERROR', `${this.archiveName}: only the last chunk may be short`, { offset, size });
    } else {
      if (size < FIXED_CHUNK_SIZE) {
        if (this.#shortChunkSeen) throw fail('PROTOCOL_ERROR', `${this.archiveName}: more than one short chunk`, { offset, size });
        this.#shortChunkSeen = true;
      }
      this.#size = Math.max(this.#size, end);
    }
    this.#digests[idx] = digest;
    this.#appended++;
  }

  close(p: CloseParams): { bytes: Uint8Array; size: number; csumHex: string } {
    const count = Math.ceil(this.#size / FIXED_CHUNK_SIZE);
    if (this.#incremental) {
      if (p.chunkCount !== this.#appended) mismatch('appended chunk count', this.#appended, p.chunkCount, this.archiveName);
    } else if (p.chunkCount !== count) mismatch('chunk count', count, p.chunkCount, this.archiveName);
    if (p.size !== this.#size) mismatch('size', this.#size, p.size, this.archiveName);
    const digests: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const d = this.#digests[i];
      if (!d) throw fail('INDEX_MISMATCH', `${this.archiveName}: chunk ${i} was never appended`, { archive: this.archiveName, index: i });
      digests.push(d);
    }
    const csumHex = toHex(fixedIndexCsum(digests).csum);
    if (csumHex !== p.csumHex) mismatch('csum', csumHex, p.csumHex, this.archiveName);
    const bytes = encodeFixedIndex({ uuid: randomBytes(16), ctime: Math.floor(Date.now() / 1000), size: this.#size, chunkSize: FIXED_CHUNK_SIZE, digests });
    return { bytes, size: this.#size, csumHex };
  }
}
