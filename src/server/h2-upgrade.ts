/**
 * The backup and reader protocols' transport (pbs-format.md §6.2/§6.3): an HTTP/1.1 GET with
 * `Upgrade: <protocol>` is answered `101 Switching Protocols`, then the same TLS socket carries
 * HTTP/2 without ALPN, the server acting as h2 server. Requests on it carry no credentials; they
 * run in the session the factory created for the authenticated caller.
 *
 * Invariants:
 * - The 101 is flushed before the h2 session takes the socket over (Node aborts if a write is
 *   still queued on the socket when http2 takes its handle).
 * - `onClose` runs exactly once per session, after the connection ended and after every `handle`
 *   call has settled, so cleanup (deleting an unfinished snapshot) never races a late write.
 * - Replies: `{"data": …}` JSON or raw bytes with status 200; errors get the registry status and
 *   the bare message as text, as PBS does, plus the code in `x-holdfast-error-code`.
 * - Bounds (server-limits.ts): a session with no request in flight for `sessionIdleMs` is closed;
 *   a body from which nothing arrives for `bodyStallMs` while it is read fails with TIMEOUT and
 *   its stream is reset, as is an answer of which the client takes nothing for as long (a byte
 *   answer is in flight until it has gone to the socket: `sendInPieces`); after a GOAWAY either
 *   way, or the end of the peer's side of the socket (a FIN without a GOAWAY), streams in flight
 *   get `goawayGraceMs`, then the socket is closed. Closing the session is what gives a stalled
 *   backup's locks back.
 */
import http2 from 'node:http2';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { argsFromSearchParams, type Args } from '../core/args.ts';
import { fail, toHoldfastError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { streamBody, type RequestBody } from './protocol/request-body.ts';
import { ERROR_CODE_HEADER, errorResponse, JSON_CONTENT_TYPE, publicError } from './http-error.ts';
import { DEFAULT_LIMITS, type ServerLimits } from './server-limits.ts';

/** The bounds serveH2 applies to one connection. */
export type H2Limits = Pick<ServerLimits, 'sessionIdleMs' | 'bodyStallMs' | 'goawayGraceMs'>;

export const BACKUP_PROTOCOL = 'proxmox-backup-protocol-v1';
export const READER_PROTOCOL = 'proxmox-backup-reader-protocol-v1';
export const PROTOCOL_PATHS: Readonly<Record<string, string>> = {
  [BACKUP_PROTOCOL]: '/api2/json/backup',
  [READER_PROTOCOL]: '/api2/json/reader',
};

const MIB = 1024 * 1024;
/**
 * What a client may send ahead of the server's reading, per stream and per connection. It bounds
 * the ciphertext a client buffers in its TLS layer (32 MiB cost a directory backup's client 25 MiB
 * of peak RSS) and still covers a 1 Gbit/s path of 60 ms round trip.
 */
export const H2_SERVER_WINDOW = 8 * MIB;
/**
 * What one stream may send ahead of the server's reading. Node acknowledges connection-level
 * flow control as data arrives, so only the stream window bounds what a stream whose body the
 * server does not read yet (an upload waiting for a buffer) leaves in memory: with 8 MiB, stalled
 * uploads held their whole bodies. 1 MiB per stream × the client's concurrent uploads still
 * covers a 1 Gbit/s path of 60 ms round trip.
 */
export const H2_STREAM_WINDOW = 1 * MIB;
/** Concurrent streams per session: with H2_STREAM_WINDOW, a session's unread bytes stay under 32 MiB. */
export const H2_MAX_STREAMS = 32;
export const H2_MAX_FRAME = 4 * MIB;
/** The largest request body on a session: a 16 MiB chunk plus its blob header, with room. */
export const H2_BODY_LIMIT = 16 * MIB + 64 * 1024;

/**
 * What an endpoint answers. `release`, with bytes: the bytes live in a buffer their owner wants
 * back; it is called once the answer's h2 stream has closed, when the session's transport has
 * taken its own copy of them (see `serveH2`), and otherwise never.
 */
export type ProtocolReply = { readonly json: unknown } | { readonly stream: AsyncIterable<Uint8Array> | Uint8Array; readonly release?: () => void };

export interface ProtocolSession {
  /**
   * One h2 request. `path` has no leading slash (`dynamic_chunk`, `''` for `/`). The body is read
   * by the handler, whole (at most H2_BODY_LIMIT bytes) or into a buffer of its own.
   */
  handle(method: string, path: string, query: Args, body: RequestBody): Promise<ProtocolReply>;
  onClose(): Promise<void>;
}

/** Creates the session for an authenticated upgrade; throwing refuses the upgrade with that error. */
export type ProtocolFactory = (query: Args, authId: string) => Promise<ProtocolSession>;

export interface RegisteredProtocol {
  readonly name: string;
  readonly path: string;
  readonly factory: ProtocolFactory;
}

export class ProtocolRegistry {
  readonly #byName = new Map<string, RegisteredProtocol>();

  /** `path` defaults to the PBS path of a known protocol name. */
  register(name: string, factory: ProtocolFactory, path: string | undefined = PROTOCOL_PATHS[name]): void {
    if (path === undefined) throw fail('INVALID_ARGUMENT', `no default path for protocol '${name}'`, { name });
    this.#byName.set(name, { name, path, factory });
  }

  /** The protocol for this path, and whether the Upgrade header names it. */
  find(path: string, upgrade: string | undefined): RegisteredProtocol {
    const forPath = [...this.#byName.values()].filter((p) => p.path === path);
    if (forPath.length === 0) throw fail('NOT_FOUND', `no protocol is served at '${path}'`, { path });
    const match = forPath.find((p) => p.name === upgrade);
    if (!match) throw fail('PROTOCOL_ERROR', `unexpected Upgrade header '${upgrade ?? ''}'`, { path, upgrade, expected: forPath.map((p) => p.name) });
    return match;
  }
}

/** Writes the 101 and resolves once it is flushed to the socket. */
export function writeSwitchingProtocols(socket: Duplex, protocol: string): Promise<void> {
  const head = `HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: ${protocol}\r\n\r\n`;
  return new Promise((resolve, reject) => {
    socket.write(head, (err) => (err ? reject(err) : resolve()));
  });
}

/** Refuses an upgrade with an HTTP/1.1 error answer and closes the socket. */
export function writeUpgradeError(socket: Duplex, e: unknown): void {
  const { status, body, error } = errorResponse(e);
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: ${JSON_CONTENT_TYPE}\r\n` +
      `${ERROR_CODE_HEADER}: ${error.code}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

export interface H2Connection {
  /** Tears the connection down; `closed` still waits for `onClose`. */
  destroy(): void;
  /** Resolves after `onClose` has run. */
  readonly closed: Promise<void>;
}

function replyError(stream: http2.ServerHttp2Stream, e: unknown): void {
  const err = publicError(e);
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  stream.respond({ ':status': err.httpStatus, 'content-type': 'text/plain;charset=UTF-8', [ERROR_CODE_HEADER]: err.code });
  stream.end(err.message);
  if (stream.readableEnded) return;
  // The body is still coming (a refused 16 MiB chunk, say): once the answer is out, RST_STREAM
  // NO_ERROR tells the client to stop sending it (RFC 9113 §8.1), where reading and discarding
  // it took up to 16 MiB more of the link. It also broke a deadlock seen under load: the client,
  // busy writing the body, stopped reading; the server's window updates for the discarded bytes
  // filled its receive buffer; the server, with a write pending, stopped reading in turn.
  stream.close(http2.constants.NGHTTP2_NO_ERROR);
  stream.resume(); // what arrives before the reset is discarded
}

/**
 * A byte answer goes to HTTP/2 at most this much at a time per stream. Over TLS, Node gathers all
 * that HTTP/2 has ready for the socket into one new buffer before it encrypts it; handed whole
 * 4 MiB chunks, with a client's windows sized for a long link, those buffers reached 8–25 MB:
 * past glibc's mmap threshold (bin/holdfast.js), so each was fresh memory, zeroed and faulted in
 * page by page (0.26 CPU-s per GiB of an S3 datastore's cold restore, docs/benchmarks.md). In
 * pieces, one in flight per stream, the gathered buffer stays at pieces × streams in flight
 * (4 MiB for a restore's 8), which the heap reuses. Each stream waits only for its own piece, so a
 * client that reads its answers in any order is never made to wait on another answer.
 */
export const ANSWER_PIECE = 512 * 1024;

/**
 * Sends `bytes` as the stream's body, a piece at a time (ANSWER_PIECE), each after the one before
 * has gone to the socket; resolves when the last has, or when the stream closed. An answer whose
 * reader takes nothing for `stallMs` is reset with TIMEOUT: without that, an unread answer would
 * keep its request, and so its session, in flight for good.
 */
async function sendInPieces(stream: http2.ServerHttp2Stream, bytes: Uint8Array, stallMs: number): Promise<void> {
  if (bytes.byteLength <= ANSWER_PIECE) {
    stream.end(bytes);
    return;
  }
  stream.setTimeout(stallMs, () => stream.destroy(fail('TIMEOUT', `the client took no byte of an answer for ${stallMs} ms`, { stallMs })));
  try {
    for (let at = 0; at < bytes.byteLength && !stream.destroyed && !stream.closed; at += ANSWER_PIECE) {
      const piece = bytes.subarray(at, at + ANSWER_PIECE);
      const last = at + ANSWER_PIECE >= bytes.byteLength;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          stream.off('close', done).off('finish', done);
          resolve();
        };
        stream.once('close', done); // a reset stream may never call back
        if (last) {
          // not end(piece, done): a stream that closes before 'finish' calls that back with a new
          // ERR_STREAM_DESTROYED, whose stack cost ~20 µs per answer (cpu-prof)
          stream.once('finish', done);
          stream.end(piece);
        } else stream.write(piece, done); // an error is the stream's: it closes, and the loop ends
      });
    }
  } finally {
    stream.setTimeout(0);
  }
}

async function reply(stream: http2.ServerHttp2Stream, result: ProtocolReply, mayRelease: boolean, stallMs: number): Promise<void> {
  if ('release' in result && result.release !== undefined && mayRelease) {
    const release = result.release;
    if (stream.closed || stream.destroyed) release();
    else stream.once('close', release);
  }
  if (stream.destroyed || stream.closed) return;
  if ('json' in result) {
    stream.respond({ ':status': 200, 'content-type': JSON_CONTENT_TYPE });
    stream.end(JSON.stringify({ data: result.json ?? null }));
    return;
  }
  if (result.stream instanceof Uint8Array) {
    // the length lets a client receive the body into one buffer of the right size
    stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', 'content-length': result.stream.byteLength });
    await sendInPieces(stream, result.stream, stallMs);
    return;
  }
  stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
  await pipeline(Readable.from(result.stream), stream);
}

/**
 * Arms the stream's inactivity timer only while the handler reads the body: waiting for an upload
 * buffer or for a slow fsync is the server's time, not a stalled client.
 */
function stallGuarded(body: RequestBody, stream: http2.ServerHttp2Stream, stallMs: number): RequestBody {
  const guard = async <T>(read: () => Promise<T>): Promise<T> => {
    stream.setTimeout(stallMs, () => stream.destroy(fail('TIMEOUT', `no byte of the request body arrived for ${stallMs} ms`, { stallMs })));
    try {
      return await read();
    } finally {
      stream.setTimeout(0);
    }
  };
  return { contentType: body.contentType, bytes: () => guard(() => body.bytes()), into: (dest) => guard(() => body.into(dest)) };
}

async function dispatch(session: ProtocolSession, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, stallMs: number, mayRelease: boolean): Promise<void> {
  try {
    const url = new URL(headers[':path'] ?? '/', 'http://session');
    const body = stallGuarded(streamBody(Object.assign(stream, { headers }), H2_BODY_LIMIT), stream, stallMs);
    const result = await session.handle(headers[':method'] ?? 'GET', url.pathname.replace(/^\/+/, ''), argsFromSearchParams(url.searchParams), body);
    await reply(stream, result, mayRelease, stallMs);
    if (!stream.readableEnded) stream.resume(); // a body the endpoint did not want is discarded
  } catch (e) {
    replyError(stream, e);
  }
}

/** Runs an h2 server session on an upgraded socket and routes its streams to `session`. */
export function serveH2(socket: Duplex, session: ProtocolSession, log: Logger, limits: H2Limits = DEFAULT_LIMITS): H2Connection {
  const h2 = http2.performServerHandshake(socket, {
    settings: { initialWindowSize: H2_STREAM_WINDOW, maxFrameSize: H2_MAX_FRAME, maxConcurrentStreams: H2_MAX_STREAMS },
    maxSessionMemory: 512,
  });
  h2.setLocalWindowSize(H2_SERVER_WINDOW);
  // Over TLS, every byte an answer sends is encrypted into the TLS layer's own buffers as nghttp2
  // hands it on, before the stream can close; over a plain socket a write may still point at the
  // answer's memory after that, so pooled answers are never given back there.
  const mayRelease = socket instanceof TLSSocket;
  const inFlight = new Set<Promise<void>>();
  const destroy = (): void => {
    h2.destroy();
    socket.destroy();
  };
  const timers = connectionTimers(limits, destroy, log);
  timers.idle(true);
  h2.on('stream', (stream, headers) => {
    stream.on('error', () => undefined); // a reset stream must not crash the server
    timers.idle(false);
    const p = dispatch(session, stream, headers, limits.bodyStallMs, mayRelease).finally(() => {
      inFlight.delete(p);
      timers.idle(inFlight.size === 0);
    });
    inFlight.add(p);
  });
  // Node closes a session gracefully (after a GOAWAY) by ending only its side of the socket and
  // waiting for the peer to close its own: a peer that never does would keep the session, and a
  // backup's locks, forever. Once our side is finished, the socket goes.
  let closing = false;
  const closeGracefully = (): void => {
    if (closing) return;
    closing = true;
    socket.once('finish', () => socket.destroy());
    h2.close();
    timers.goaway();
  };
  h2.on('goaway', closeGracefully);
  // The peer's FIN without a GOAWAY: an https server's sockets allow half-open connections and
  // Node's HTTP/2 does not watch for the end of its input, so such a peer kept its session (and
  // its backup's locks) until the idle timeout. Nothing more can arrive, no new request and no
  // rest of a body, so answers in flight get the GOAWAY grace.
  socket.once('end', closeGracefully);
  h2.on('error', (e: Error) => log.warn(`h2 session error: ${e.message}`));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => {
    h2.once('close', () => {
      timers.clear();
      void Promise.allSettled([...inFlight])
        .then(() => session.onClose())
        .catch((e: unknown) => log.warn(`protocol session cleanup failed: ${toHoldfastError(e).message}`))
        .finally(resolve);
    });
  });
  return { destroy, closed };
}

/** The idle and GOAWAY timers of one connection; none keeps the process alive. */
function connectionTimers(limits: H2Limits, destroy: () => void, log: Logger): { idle(on: boolean): void; goaway(): void; clear(): void } {
  let idle: NodeJS.Timeout | undefined;
  let grace: NodeJS.Timeout | undefined;
  const clearIdle = (): void => {
    if (idle) clearTimeout(idle);
    idle = undefined;
  };
  return {
    idle: (on) => {
      clearIdle();
      if (!on) return;
      idle = setTimeout(() => {
        log.warn(`closing a protocol session idle for ${limits.sessionIdleMs} ms`);
        destroy();
      }, limits.sessionIdleMs);
      idle.unref();
    },
    goaway: () => {
      if (grace) return;
      grace = setTimeout(destroy, limits.goawayGraceMs);
      grace.unref();
    },
    clear: () => {
      clearIdle();
      if (grace) clearTimeout(grace);
    },
  };
}
