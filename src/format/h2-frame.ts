/**
 * HTTP/2 framing (RFC 9113 §4, §6) as the lean reader client needs it: the frame header, the
 * frames a client sends (its preface and SETTINGS, HEADERS of a request without a body,
 * WINDOW_UPDATE, PING, GOAWAY) and the fixed-size payloads it reads (SETTINGS, RST_STREAM,
 * GOAWAY, WINDOW_UPDATE). Parsing the byte stream into frames is the session's
 * (remote/lean-h2-session.ts), because DATA payloads go straight from the TLS record into their
 * answer's buffer and never become frames of their own.
 *
 * Invariants: every frame built here is well-formed for any argument the type allows (a value out
 * of range throws RangeError, a programming error), and every reader checks the payload length
 * first, so a peer's frame of the wrong size is PROTOCOL_ERROR, never a read past its end.
 */
import { fail } from '../core/errors.ts';

export const FRAME_HEADER_SIZE = 9;
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** The largest frame payload a peer may send before SETTINGS_MAX_FRAME_SIZE says otherwise. */
export const DEFAULT_MAX_FRAME = 16_384;
/** The window every stream and the connection start with (RFC 9113 §6.9.2). */
export const DEFAULT_WINDOW = 65_535;
export const MAX_WINDOW = 2 ** 31 - 1;

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** Error codes of RST_STREAM and GOAWAY (RFC 9113 §7) that a client sends. */
export const H2Error = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  FLOW_CONTROL_ERROR: 0x3,
  FRAME_SIZE_ERROR: 0x6,
  COMPRESSION_ERROR: 0x9,
} as const;

export interface FrameHeader {
  readonly length: number;
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
}

/** The 9-byte header at `at` (the caller made sure all 9 bytes are there). */
export function readFrameHeader(b: Uint8Array, at = 0): FrameHeader {
  return {
    length: (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!,
    type: b[at + 3]!,
    flags: b[at + 4]!,
    // the reserved high bit is ignored on receipt (RFC 9113 §4.1)
    streamId: ((b[at + 5]! << 24) | (b[at + 6]! << 16) | (b[at + 7]! << 8) | b[at + 8]!) & 0x7fff_ffff,
  };
}

/** One frame: header and payload in one buffer, so it goes out in one write. */
export function frame(type: number, flags: number, streamId: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  if (payload.length > 0xff_ffff) throw new RangeError(`frame payload of ${payload.length} bytes`);
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > MAX_WINDOW) throw new RangeError(`stream id ${streamId}`);
  const out = Buffer.allocUnsafe(FRAME_HEADER_SIZE + payload.length);
  out[0] = payload.length >>> 16;
  out[1] = (payload.length >>> 8) & 0xff;
  out[2] = payload.length & 0xff;
  out[3] = type;
  out[4] = flags;
  out.writeUInt32BE(streamId, 5);
  out.set(payload, FRAME_HEADER_SIZE);
  return out;
}

export function settingsFrame(settings: ReadonlyArray<readonly [id: number, value: number]>): Buffer {
  const p = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, value], i) => {
    p.writeUInt16BE(id, 6 * i);
    p.writeUInt32BE(value, 6 * i + 2);
  });
  return frame(FrameType.SETTINGS, 0, 0, p);
}

export const settingsAck = (): Buffer => frame(FrameType.SETTINGS, Flag.ACK, 0);

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  if (!Number.isInteger(increment) || increment < 1 || increment > MAX_WINDOW) throw new RangeError(`window increment ${increment}`);
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(increment, 0);
  return frame(FrameType.WINDOW_UPDATE, 0, streamId, p);
}

export function pingFrame(opaque: Uint8Array, ack: boolean): Buffer {
  if (opaque.length !== 8) throw new RangeError('a PING carries 8 bytes');
  return frame(FrameType.PING, ack ? Flag.ACK : 0, 0, opaque);
}

export function goawayFrame(lastStreamId: number, code: number): Buffer {
  const p = Buffer.allocUnsafe(8);
  p.writeUInt32BE(lastStreamId, 0);
  p.writeUInt32BE(code, 4);
  return frame(FrameType.GOAWAY, 0, 0, p);
}

/** A request's HEADERS: the whole block in one frame, and no body (END_STREAM). */
export function requestHeadersFrame(streamId: number, block: Uint8Array): Buffer {
  return frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, streamId, block);
}

const protocolError = (what: string): never => {
  throw fail('PROTOCOL_ERROR', `HTTP/2: ${what}`, {});
};

/** A SETTINGS payload as id/value pairs (a length not a multiple of 6 is FRAME_SIZE_ERROR). */
export function parseSettings(p: Uint8Array): Array<[number, number]> {
  if (p.length % 6 !== 0) protocolError(`SETTINGS of ${p.length} bytes`);
  const v = Buffer.from(p.buffer, p.byteOffset, p.length);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < p.length; i += 6) out.push([v.readUInt16BE(i), v.readUInt32BE(i + 2)]);
  return out;
}

/** A 4-byte payload (RST_STREAM's error code, WINDOW_UPDATE's increment) as an unsigned 31/32-bit value. */
export function parseUint32(p: Uint8Array, what: string): number {
  if (p.length !== 4) protocolError(`${what} of ${p.length} bytes`);
  return Buffer.from(p.buffer, p.byteOffset, 4).readUInt32BE(0);
}

export function parseGoaway(p: Uint8Array): { readonly lastStreamId: number; readonly code: number; readonly debug: string } {
  if (p.length < 8) protocolError(`GOAWAY of ${p.length} bytes`);
  const v = Buffer.from(p.buffer, p.byteOffset, p.length);
  return { lastStreamId: v.readUInt32BE(0) & 0x7fff_ffff, code: v.readUInt32BE(4), debug: v.subarray(8, 8 + 256).toString('latin1') };
}

/**
 * The header block fragment of a HEADERS payload: its padding and priority fields taken off
 * (RFC 9113 §6.2). A pad length beyond the payload is PROTOCOL_ERROR.
 */
export function headersFragment(p: Uint8Array, flags: number): Uint8Array {
  let start = 0;
  let end = p.length;
  if (flags & Flag.PADDED) {
    if (p.length < 1) protocolError('padded HEADERS without a pad length');
    start = 1;
    end -= p[0]!;
  }
  if (flags & Flag.PRIORITY) start += 5;
  if (end < start) protocolError('HEADERS padding or priority longer than the frame');
  return p.subarray(start, end);
}
