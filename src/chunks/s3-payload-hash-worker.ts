/** Worker side of `PayloadHasher`: the SHA-256 of a PUT body (a copy; nothing goes back). */
import { payloadHashes, type PayloadHashes } from './s3-payload-hash.ts';

export function handle(bytes: Uint8Array): { value: PayloadHashes; transfer: ArrayBuffer[] } {
  return { value: payloadHashes(bytes), transfer: [] };
}
