/**
 * RequestBody: how a protocol endpoint reads its request body. Most endpoints want it whole
 * (`bytes`); a chunk upload reads it straight into a reusable upload slot (`into`), so a 4 MiB
 * chunk costs one copy from the socket and no allocation.
 *
 * Invariant: a body is read once, by one of the two methods.
 */
import { fail } from '../../core/errors.ts';
import { readBody, readBodyInto, type BodySource } from '../body.ts';

export interface RequestBody {
  /** The request's Content-Type header, as sent (undefined when none). Required, so a wrapper cannot drop it. */
  readonly contentType: string | undefined;
  /** The whole body; fails past the transport's size limit. */
  bytes(): Promise<Uint8Array>;
  /**
   * Reads the whole body into `dest` and resolves its length; SIZE_MISMATCH as soon as the body
   * holds more bytes than `dest`, before buffering them.
   */
  into(dest: Uint8Array): Promise<number>;
}

/** A body already in memory (in-process transports and tests). */
export function bufferBody(bytes: Uint8Array = new Uint8Array(0), contentType?: string): RequestBody {
  return {
    contentType,
    bytes: async () => bytes,
    into: async (dest) => {
      if (bytes.byteLength > dest.byteLength) throw overflow(dest.byteLength, bytes.byteLength);
      dest.set(bytes);
      return bytes.byteLength;
    },
  };
}

/** A body still arriving on a stream, limited to `limit` bytes when read whole. */
export function streamBody(source: BodySource, limit: number): RequestBody {
  const type = source.headers['content-type'];
  return {
    contentType: Array.isArray(type) ? type[0] : type,
    bytes: () => readBody(source, limit),
    into: (dest) => readBodyInto(source, dest, overflow),
  };
}

function overflow(room: number, seen: number): Error {
  return fail('SIZE_MISMATCH', `request body has ${seen} bytes or more, more than the ${room} announced`, { encodedSize: room, got: seen });
}
