/**
 * Worker side of `pooledChunkChecker`: runs `checkUploadedChunk` and answers the CRC (and the
 * blob's SHA-256 when asked) or the error, always with the bytes, whose buffer goes back to its
 * owner when it was lent by transfer.
 */
import { toHoldfastError } from '../core/errors.ts';
import { checkUploadedChunk, type CheckJob, type CheckReply } from './chunk-check.ts';

export function handle(u: CheckJob): { value: CheckReply; transfer: ArrayBuffer[] } {
  const transfer = u.bytes.buffer instanceof ArrayBuffer ? [u.bytes.buffer] : [];
  try {
    return { value: { bytes: u.bytes, ...checkUploadedChunk(u, u) }, transfer };
  } catch (e) {
    const err = toHoldfastError(e);
    return { value: { bytes: u.bytes, error: { code: err.code, message: err.message, details: { ...err.details } } }, transfer };
  }
}
