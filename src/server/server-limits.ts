/**
 * The resource bounds of the backup and reader protocols (docs/protocol.md, "Resource bounds"):
 * what one authenticated user can hold of the server, however they behave.
 *
 * - `sessionIdleMs`: an upgraded session with no request in flight for this long is closed, so a
 *   stalled backup gives its group lock back (its unfinished snapshot is removed).
 * - `bodyStallMs`: a request body from which no byte arrives for this long, while the server is
 *   reading it, fails with TIMEOUT and its stream is reset; so is an answer the client takes no
 *   byte of for this long while the server sends it.
 * - `goawayGraceMs`: after a GOAWAY (sent or received) the streams in flight get this long to
 *   finish, then the socket is closed.
 * - `uploadMemoryBytes`: one cap on the chunk upload buffers of all sessions together; uploads
 *   past it wait for a buffer, and their bodies are held back by HTTP/2 flow control.
 * - `maxSessionsPerUser`: concurrent backup and reader sessions of one user (its tokens count
 *   as the user); one more is refused with TOO_MANY_SESSIONS (429).
 */
import { fail } from '../core/errors.ts';

export interface ServerLimits {
  readonly sessionIdleMs: number;
  readonly bodyStallMs: number;
  readonly goawayGraceMs: number;
  readonly uploadMemoryBytes: number;
  readonly maxSessionsPerUser: number;
}

const MIB = 1024 * 1024;

/** The smallest upload memory cap: two 16 MiB buffers and eight 4 MiB ones (one session's worth). */
export const MIN_UPLOAD_MEMORY = 64 * MIB;

export const DEFAULT_LIMITS: ServerLimits = {
  sessionIdleMs: 600_000,
  bodyStallMs: 60_000,
  goawayGraceMs: 5_000,
  uploadMemoryBytes: 256 * MIB,
  maxSessionsPerUser: 16,
};

/** `DEFAULT_LIMITS` with `over` applied; INVALID_ARGUMENT for a value out of range. */
export function serverLimits(over: Partial<ServerLimits> = {}): ServerLimits {
  const l = { ...DEFAULT_LIMITS, ...over };
  for (const [key, value] of Object.entries(l)) {
    if (!Number.isSafeInteger(value) || value < 1) throw fail('INVALID_ARGUMENT', `limit ${key} must be a positive integer, got ${String(value)}`, { limit: key, value });
  }
  if (l.uploadMemoryBytes < MIN_UPLOAD_MEMORY) {
    throw fail('INVALID_ARGUMENT', `upload memory must be at least ${MIN_UPLOAD_MEMORY / MIB} MiB`, { limit: 'uploadMemoryBytes', value: l.uploadMemoryBytes });
  }
  return l;
}
