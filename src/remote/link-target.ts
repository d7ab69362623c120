/**
 * The link a protocol client sizes itself for: a rate and a round-trip time, whose product (the
 * bandwidth-delay product, BDP) is how many bytes must be in flight for the link to stay busy.
 * 1 Gbit/s × 100 ms is 12.5 MB: a client that keeps less than that outstanding is limited by the
 * round trip, not by the link (PBS users measured 44–67 Mbit/s on 1 Gbit/s at 150 ms).
 *
 * Two things bound what is in flight on a download, and both are sized from the BDP here:
 * - the HTTP/2 receive windows the client grants (what the server may send before the client's
 *   WINDOW_UPDATE comes back, one RTT later): per stream, so one stream alone can fill the link
 *   and the largest chunk never waits for an update; per connection, above all streams together;
 * - the chunks requested ahead of the one being consumed (`ReadAhead`): enough bytes to cover the
 *   BDP twice (chunk sizes vary, and a chunk's answer starts only after the server read it), at
 *   least as many chunks as before (LAN behaviour unchanged), never more than the server's stream
 *   limit allows.
 * Each margin is 2×: a window or a read-ahead of exactly one BDP idles the link whenever an
 * update or an answer is a little late.
 *
 * Memory: the client reads each answer whole, so what it holds for downloads is bounded by the
 * read-ahead (`bytes` plus one chunk), not by the windows. The server's own windows (what a
 * client may upload ahead, docs/protocol.md "Resource bounds") are not touched here.
 */
const MIB = 1024 * 1024;
/** The largest window HTTP/2 allows (RFC 9113 §6.9.1). */
export const H2_MAX_WINDOW = 2 ** 31 - 1;
/** The largest encoded chunk a server sends: a 16 MiB chunk plus its blob header, with room. */
export const MAX_CHUNK_BLOB = 16 * MIB + 64 * 1024;
/** The server's concurrent streams per session (h2-upgrade.ts) less two for index and blob reads. */
export const MAX_CHUNKS_AHEAD = 30;
/** Chunks fetched ahead on any link (the reader's figure before BDP sizing). */
export const MIN_CHUNKS_AHEAD = 8;

export interface LinkTarget {
  readonly rateBitsPerSec: number;
  readonly rttMs: number;
}

/** The default: a 1 Gbit/s link at 100 ms, a long one (an off-site copy across a continent). */
export const DEFAULT_LINK_TARGET: LinkTarget = { rateBitsPerSec: 1e9, rttMs: 100 };

export interface H2Windows {
  /** the connection's receive window */
  readonly connection: number;
  /** each stream's receive window (SETTINGS_INITIAL_WINDOW_SIZE) */
  readonly stream: number;
}

export interface ReadAhead {
  /** request more while fewer bytes than this are outstanding */
  readonly bytes: number;
  /** always keep at least this many requests outstanding */
  readonly minChunks: number;
  /** never more than this many */
  readonly maxChunks: number;
}

/** Bytes in flight that keep the link busy: rate × RTT. */
export function bdpBytes(t: LinkTarget): number {
  return Math.ceil(((t.rateBitsPerSec / 8) * t.rttMs) / 1000);
}

const clampWindow = (n: number): number => Math.min(H2_MAX_WINDOW, Math.ceil(n));

/** Receive windows: a stream may carry 2 × BDP (at least one largest chunk); the connection twice that. */
export function receiveWindows(t: LinkTarget = DEFAULT_LINK_TARGET): H2Windows {
  const stream = clampWindow(Math.max(2 * bdpBytes(t), MAX_CHUNK_BLOB));
  return { stream, connection: clampWindow(2 * stream) };
}

/** Chunks ahead: 2 × BDP of bytes, between MIN_CHUNKS_AHEAD and MAX_CHUNKS_AHEAD requests. */
export function readAheadFor(t: LinkTarget = DEFAULT_LINK_TARGET): ReadAhead {
  return { bytes: 2 * bdpBytes(t), minChunks: MIN_CHUNKS_AHEAD, maxChunks: MAX_CHUNKS_AHEAD };
}
