/**
 * Incremental index checksums, as PBS computes them and as the client sends them on close:
 *
 * - fixed:   SHA-256(digest_0 ‖ digest_1 ‖ …), size = the image size (the last chunk may be short);
 * - dynamic: SHA-256(le64(end_0) ‖ digest_0 ‖ le64(end_1) ‖ digest_1 ‖ …), size = the last end.
 *
 * The builders hash as entries arrive, so a writer never needs a second pass; `result()` may be
 * called at any time and does not end the builder.
 */
import { createHash, type Hash } from 'node:crypto';
import { fail } from '../core/errors.ts';
import { checkDigest } from './index-header.ts';

export interface IndexCsum {
  readonly csum: Uint8Array;
  /** Total bytes the index covers. */
  readonly size: number;
}

export class FixedIndexCsumBuilder {
  #hash: Hash = createHash('sha256');
  #count = 0;

  append(digest: Uint8Array): void {
    checkDigest(digest, this.#count);
    this.#hash.update(digest);
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  /** `size` is the image size, which the digests alone cannot tell. */
  result(size: number): IndexCsum {
    return { csum: new Uint8Array(this.#hash.copy().digest()), size };
  }
}

export class DynamicIndexCsumBuilder {
  #hash: Hash = createHash('sha256');
  #count = 0;
  #end = 0;
  #endBytes = new Uint8Array(8);
  #endView = new DataView(this.#endBytes.buffer);

  /** Appends the chunk ending at stream offset `end`, which must be past the previous end. */
  append(end: number, digest: Uint8Array): void {
    checkDigest(digest, this.#count);
    if (!Number.isSafeInteger(end) || end <= this.#end) {
      throw fail('INVALID_ARGUMENT', `chunk end ${end} is not past the previous end ${this.#end}`, { index: this.#count, end, previous: this.#end });
    }
    this.#endView.setBigUint64(0, BigInt(end), true);
    this.#hash.update(this.#endBytes).update(digest);
    this.#end = end;
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  /** The stream length covered so far: the last end, or 0. */
  get size(): number {
    return this.#end;
  }

  result(): IndexCsum {
    return { csum: new Uint8Array(this.#hash.copy().digest()), size: this.#end };
  }
}
