/**
 * LeanH2Session: the client end of a reader connection (PBS §6.3) for a client that mostly
 * receives: HTTP/2 spoken by this module over a TLS socket read in place (`tls.connect`'s
 * `onread`), with no request bodies. A restore receives a whole archive through it.
 *
 * Why not Node's http2 (H2Session, which the backup protocol keeps): on the receive side it costs
 * a JavaScript callback, a Buffer and a stream event per DATA piece, and Node's server sends
 * 16 KiB DATA frames that straddle two TLS records, so a 4 MiB chunk arrives as ~512 pieces.
 * Here each TLS record (≤ 16 KiB) is handed over once, in one reused buffer, and a DATA payload
 * is copied from it straight into its answer's buffer: bench/transport-floor.ts measures the
 * client's CPU per GiB received (docs/benchmarks.md).
 *
 * What it speaks: the client preface and SETTINGS (push off, the receive windows of
 * link-target.ts, a 4 MiB frame limit), GET requests as one HEADERS frame each, every frame a
 * server may send (DATA with or without padding, HEADERS + CONTINUATION decoded by HPACK so the
 * dynamic table stays in step, SETTINGS, PING, RST_STREAM, GOAWAY, WINDOW_UPDATE, PRIORITY; an
 * unknown type is skipped), the server's SETTINGS_MAX_CONCURRENT_STREAMS (requests beyond it
 * wait), and receive flow control (WINDOW_UPDATE once a quarter of a window has been consumed).
 *
 * Invariants, against a server that breaks the protocol or wants to hurt the client:
 * - every frame's length is checked against what its type allows before a byte of it is kept;
 *   only header blocks (≤ MAX_HEADER_BLOCK), control payloads and answer bodies (≤ MAX_ANSWER,
 *   and never beyond the windows granted) are held;
 * - a connection error (a malformed frame, HPACK state, DATA beyond a window, a frame on a
 *   stream the client never opened) fails every pending request with PROTOCOL_ERROR and drops
 *   the connection; a reset stream fails only its request; a GOAWAY fails the requests it
 *   names as unprocessed;
 * - every request settles: on its answer, its reset, the connection's end, or the PING watchdog
 *   (a busy session whose server stops answering pings is dropped, as H2Session does).
 */
import type { Socket } from 'node:net';
import { fail, HoldfastError, isHoldfastError } from '../core/errors.ts';
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME,
  DEFAULT_WINDOW,
  Flag,
  FRAME_HEADER_SIZE,
  FrameType,
  goawayFrame,
  H2Error,
  headersFragment,
  MAX_WINDOW,
  parseGoaway,
  parseSettings,
  parseUint32,
  pingFrame,
  readFrameHeader,
  requestHeadersFrame,
  Setting,
  settingsAck,
  settingsFrame,
  windowUpdateFrame,
  type FrameHeader,
} from '../format/h2-frame.ts';
import { encodeHeaders, HpackDecoder, type HeaderField } from '../format/hpack.ts';
import { BodyCollector, H2_CLIENT_MAX_FRAME, queryString, responseError, type H2Body, type H2Query, type H2Response } from './h2-session.ts';
import { receiveWindows, type H2Windows } from './link-target.ts';
import { PingWatchdog } from './ping-watchdog.ts';

/** The largest header block (HEADERS + CONTINUATION) kept: far above any PBS answer's headers. */
export const MAX_HEADER_BLOCK = 64 * 1024;
/** The largest answer body: a dynamic index of a ~100 TiB archive; a chunk is at most 16 MiB. */
export const MAX_ANSWER = 1024 * 1024 * 1024;
const ERROR_CODE_HEADER = 'x-holdfast-error-code';
/** The largest control payload kept (GOAWAY's debug data beyond it is skipped). */
const MAX_CONTROL = 8 + 1024;
const MAX_SETTINGS = 6 * 64;

/**
 * Where an `onread` socket's cleartext goes. The callback is fixed when the socket is made, so
 * it points here, and the HTTP/1.1 upgrade and then the session take turns as the sink. A sink
 * sees a view of the socket's receive buffer, valid only until it returns.
 */
export class ReceiveSwitch {
  sink: (bytes: Buffer) => void = () => undefined;
  #fault: ((e: unknown) => void) | undefined;
  /** The `onread` option for `tls.connect`: one 64 KiB buffer, reused for every record. */
  readonly onread = {
    buffer: Buffer.allocUnsafeSlow(64 * 1024),
    callback: (n: number, buf: Uint8Array): boolean => {
      try {
        this.sink(Buffer.from(buf.buffer, buf.byteOffset, n));
      } catch (e) {
        this.#fault?.(e); // a sink that throws has found a broken peer: its owner drops the socket
      }
      return true;
    },
  };

  /** Who hears of a sink's throw (the session, which then fails everything and closes). */
  onFault(f: (e: unknown) => void): void {
    this.#fault = f;
  }
}

interface Stream {
  readonly id: number;
  readonly body: BodyCollector;
  /** the final (non-1xx) answer's headers, once they came */
  headers: Map<string, string> | undefined;
  status: number;
  received: number;
  /** what is left of the window this stream was granted */
  window: number;
  /** bytes received and consumed, not yet given back by a WINDOW_UPDATE */
  unacked: number;
  readonly resolve: (r: H2Response) => void;
  readonly reject: (e: Error) => void;
}

type Phase = 'header' | 'padlen' | 'data' | 'skip' | 'payload';

const protocolError = (what: string): HoldfastError => fail('PROTOCOL_ERROR', `the server broke HTTP/2: ${what}`, {});

export class LeanH2Session {
  readonly #socket: Socket;
  readonly #authority: string;
  readonly #windows: H2Windows;
  readonly #hpack = new HpackDecoder();
  readonly #streams = new Map<number, Stream>();
  /** requests waiting for the server's concurrent-stream limit */
  readonly #waiting: Array<{ go: () => void; fail: (e: Error) => void }> = [];
  readonly closed: Promise<void>;

  #nextId = 1;
  #peerMaxStreams = 100; // RFC 9113 recommends at least 100 until the server's SETTINGS say
  #peerMaxFrame = DEFAULT_MAX_FRAME;
  #connWindow: number;
  #connUnacked = 0;
  #lost: HoldfastError | undefined;
  #goawayLast: number | undefined;
  #closing = false;
  /** slots under the server's stream limit promised to requests that have not opened them yet */
  #reserved = 0;
  /** proves a busy connection's server alive (ping-watchdog.ts) */
  readonly #watchdog = new PingWatchdog({
    busy: () => this.#streams.size > 0,
    ping: (answered) => {
      this.#pingAnswered = answered;
      this.#socket.write(pingFrame(Buffer.alloc(8), false));
      return true;
    },
    dead: (why) => this.#die(fail('UPSTREAM_ERROR', `the connection to the server was lost (${why})`, {})),
  });
  #pingAnswered: ((ok: boolean) => void) | undefined;

  // the frame parser's state (see #receive)
  #phase: Phase = 'header';
  readonly #head = Buffer.alloc(FRAME_HEADER_SIZE);
  #headFill = 0;
  #frame: FrameHeader = { length: 0, type: 0, flags: 0, streamId: 0 };
  #left = 0;
  #padLeft = 0;
  #dataStream: Stream | undefined;
  #payload = Buffer.allocUnsafe(1024);
  #payloadFill = 0;
  /** what is left of a GOAWAY too long to keep, skipped after its first 8 bytes */
  #afterGoaway = 0;
  /** a header block whose CONTINUATION frames are still to come */
  #block: { readonly streamId: number; readonly endStream: boolean; parts: Buffer[]; size: number } | undefined;

  private constructor(socket: Socket, authority: string, windows: H2Windows) {
    this.#socket = socket;
    this.#authority = authority;
    this.#windows = windows;
    this.#connWindow = windows.connection;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    const lost = (why: string) => (e?: unknown): void => this.#die(fail('UPSTREAM_ERROR', `the connection to the server was lost (${why}${e instanceof Error ? `: ${e.message}` : ''})`, {}));
    socket.once('close', lost('socket closed'));
    socket.once('end', lost('the server ended the connection'));
    socket.on('error', lost('socket error'));
  }

  /**
   * Starts HTTP/2 on an upgraded socket whose cleartext `receive` routes; `head` is what arrived
   * after the 101 answer. The preface, SETTINGS and the connection window go out at once.
   */
  static start(socket: Socket, receive: ReceiveSwitch, head: Buffer, authority: string, windows: H2Windows = receiveWindows()): LeanH2Session {
    // Requests are small writes that wait for nothing: Nagle's algorithm would hold each one back
    // until the server acknowledged the last, ~40 ms with delayed ACKs, whenever few are in
    // flight (a mount reading one chunk at a time took 1.3× as long; Node's http2 sets it too)
    socket.setNoDelay(true);
    const s = new LeanH2Session(socket, authority, windows);
    receive.onFault((e) => s.#die(isHoldfastError(e) ? e : fail('PROTOCOL_ERROR', `the server's HTTP/2 could not be read: ${e instanceof Error ? e.message : String(e)}`, {}, e), H2Error.PROTOCOL_ERROR));
    receive.sink = (b) => s.#receive(b);
    socket.write(
      Buffer.concat([
        CLIENT_PREFACE,
        settingsFrame([
          [Setting.ENABLE_PUSH, 0],
          [Setting.INITIAL_WINDOW_SIZE, windows.stream],
          [Setting.MAX_FRAME_SIZE, H2_CLIENT_MAX_FRAME],
          [Setting.MAX_HEADER_LIST_SIZE, MAX_HEADER_BLOCK],
        ]),
        ...(windows.connection > DEFAULT_WINDOW ? [windowUpdateFrame(0, windows.connection - DEFAULT_WINDOW)] : []),
      ]),
    );
    if (head.length > 0) s.#receive(head);
    return s;
  }

  /**
   * A GET (the reader protocol has no other); `into`: a buffer the answer may be received into.
   * A request made before `close` is still sent and answered; one made after it fails.
   */
  request(method: string, path: string, query: H2Query = {}, body?: H2Body, into?: Uint8Array): Promise<H2Response> {
    if (method !== 'GET' || body !== undefined) return Promise.reject(fail('INTERNAL', `the reader connection sends no request bodies (${method} ${path})`, { path }));
    const refused = this.#lost ?? (this.#closing || this.#goawayLast !== undefined ? fail('UPSTREAM_ERROR', 'the h2 session is closed', { path }) : undefined);
    if (refused) return Promise.reject(refused);
    if (this.#streams.size + this.#reserved < this.#peerMaxStreams && this.#waiting.length === 0) return this.#open(path, query, into);
    // beyond the server's stream limit: wait for #admit, which reserves the slot
    return new Promise<void>((go, failed) => this.#waiting.push({ go, fail: failed })).then(() => {
      this.#reserved--;
      const late = this.#lost ?? (this.#goawayLast !== undefined ? fail('UPSTREAM_ERROR', 'the h2 session is closed', { path }) : undefined);
      return late ? Promise.reject(late) : this.#open(path, query, into);
    });
  }

  /** Opens the request's stream: its HEADERS go out at once. */
  #open(path: string, query: H2Query, into: Uint8Array | undefined): Promise<H2Response> {
    const id = this.#nextId;
    if (id > MAX_WINDOW) return Promise.reject(fail('UPSTREAM_ERROR', 'the h2 session has used up its stream ids', { path }));
    const fields: HeaderField[] = [
      { name: ':method', value: 'GET' },
      { name: ':scheme', value: 'http' },
      { name: ':authority', value: this.#authority },
      { name: ':path', value: `/${path.replace(/^\/+/, '')}${queryString(query)}` },
    ];
    const block = encodeHeaders(fields);
    if (block.length > this.#peerMaxFrame) return Promise.reject(fail('INVALID_ARGUMENT', `request headers of ${block.length} bytes exceed the server's frame size`, { path }));
    this.#nextId += 2;
    return new Promise<H2Response>((resolve, reject) => {
      this.#streams.set(id, { id, body: new BodyCollector(into, { transient: true }), headers: undefined, status: 0, received: 0, window: this.#windows.stream, unacked: 0, resolve, reject });
      this.#socket.write(requestHeadersFrame(id, block));
      this.#watchdog.arm();
    });
  }

  /** Graceful close: in-flight requests finish, then GOAWAY and the TLS close. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#endIfIdle();
    await this.closed;
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.#die(fail('UPSTREAM_ERROR', 'the h2 session was closed', {}));
  }

  /** Lets waiting requests go while the server's stream limit has room (reserving it for them). */
  #admit(): void {
    while (this.#waiting.length > 0 && this.#streams.size + this.#reserved < this.#peerMaxStreams) {
      this.#reserved++;
      this.#waiting.shift()!.go();
    }
  }

  // ---- receiving ----

  /**
   * Feeds received bytes through the frame parser. A DATA payload is copied from `b` straight
   * into its answer; any other frame's payload is gathered (bounded by its type) and handled
   * whole. Throws PROTOCOL_ERROR at the first violation (ReceiveSwitch then kills the session).
   */
  #receive(b: Buffer): void {
    let i = 0;
    while (i < b.length && this.#lost === undefined) {
      switch (this.#phase) {
        case 'header': {
          const n = Math.min(FRAME_HEADER_SIZE - this.#headFill, b.length - i);
          b.copy(this.#head, this.#headFill, i, i + n);
          this.#headFill += n;
          i += n;
          if (this.#headFill === FRAME_HEADER_SIZE) {
            this.#headFill = 0;
            this.#begin(readFrameHeader(this.#head));
          }
          break;
        }
        case 'padlen': {
          const pad = b[i++]!;
          if (pad + 1 > this.#frame.length) throw protocolError('DATA padding longer than its frame');
          this.#left = this.#frame.length - 1 - pad;
          this.#padLeft = pad;
          this.#afterData();
          break;
        }
        case 'data': {
          const n = Math.min(this.#left, b.length - i);
          const s = this.#dataStream;
          if (s !== undefined) {
            s.received += n;
            if (s.received > MAX_ANSWER) throw protocolError(`an answer of more than ${MAX_ANSWER} bytes`);
            s.body.add(b.subarray(i, i + n));
          }
          i += n;
          this.#left -= n;
          this.#afterData();
          break;
        }
        case 'skip': {
          const n = Math.min(this.#left, b.length - i);
          i += n;
          this.#left -= n;
          if (this.#left === 0) this.#frameDone();
          break;
        }
        case 'payload': {
          const n = Math.min(this.#left, b.length - i);
          b.copy(this.#payload, this.#payloadFill, i, i + n);
          this.#payloadFill += n;
          i += n;
          this.#left -= n;
          if (this.#left === 0) {
            this.#phase = 'header';
            this.#control(this.#frame, this.#payload.subarray(0, this.#payloadFill));
          }
          break;
        }
      }
    }
  }

  /** A frame header has arrived: check it and pick how its payload is read. */
  #begin(h: FrameHeader): void {
    this.#frame = h;
    if (this.#block !== undefined && (h.type !== FrameType.CONTINUATION || h.streamId !== this.#block.streamId)) throw protocolError('a header block interrupted');
    if (h.length > H2_CLIENT_MAX_FRAME) throw protocolError(`a frame of ${h.length} bytes (the limit is ${H2_CLIENT_MAX_FRAME})`);
    if (h.type === FrameType.DATA) return this.#beginData(h);
    const limit = this.#controlLimit(h);
    if (limit === undefined) {
      this.#left = h.length; // an unknown frame type: ignored (RFC 9113 §4.1)
      this.#phase = 'skip';
      if (h.length === 0) this.#frameDone();
      return;
    }
    if (h.length > limit && h.type !== FrameType.GOAWAY) throw protocolError(`a ${h.type === FrameType.HEADERS || h.type === FrameType.CONTINUATION ? 'header block' : `frame of type ${h.type}`} of ${h.length} bytes`);
    if (h.type === FrameType.GOAWAY && h.length > limit) {
      // its debug data beyond the limit is of no use: keep the head, then skip
      this.#goaway(h);
      return;
    }
    if (this.#payload.length < h.length) this.#payload = Buffer.allocUnsafe(Math.max(h.length, 2 * this.#payload.length));
    this.#payloadFill = 0;
    this.#left = h.length;
    this.#phase = 'payload';
    if (h.length === 0) {
      this.#phase = 'header';
      this.#control(h, this.#payload.subarray(0, 0));
    }
  }

  /** The largest payload a frame of this type may have, or undefined for a type to skip. */
  #controlLimit(h: FrameHeader): number | undefined {
    switch (h.type) {
      case FrameType.HEADERS:
      case FrameType.CONTINUATION:
        return MAX_HEADER_BLOCK - (this.#block?.size ?? 0);
      case FrameType.SETTINGS:
        return MAX_SETTINGS;
      case FrameType.PING:
        return 8;
      case FrameType.RST_STREAM:
      case FrameType.WINDOW_UPDATE:
        return 4;
      case FrameType.PRIORITY:
        return 5;
      case FrameType.GOAWAY:
        return MAX_CONTROL;
      case FrameType.PUSH_PROMISE:
        throw protocolError('PUSH_PROMISE although push is off');
      default:
        return undefined;
    }
  }

  #beginData(h: FrameHeader): void {
    if (h.streamId === 0) throw protocolError('DATA on stream 0');
    if (h.streamId % 2 === 0 || h.streamId >= this.#nextId) throw protocolError(`DATA on stream ${h.streamId}, which the client never opened`);
    this.#connWindow -= h.length;
    if (this.#connWindow < 0) throw protocolError('DATA beyond the connection window');
    const s = this.#streams.get(h.streamId);
    if (s !== undefined) {
      if (s.headers === undefined) throw protocolError(`DATA before the headers on stream ${s.id}`);
      s.window -= h.length;
      if (s.window < 0) throw protocolError(`DATA beyond the window of stream ${s.id}`);
    }
    this.#dataStream = s; // undefined: a stream already ended here; its bytes are dropped
    this.#padLeft = 0;
    this.#left = h.length;
    this.#phase = h.flags & Flag.PADDED ? 'padlen' : 'data';
    if (h.length === 0) {
      if (h.flags & Flag.PADDED) throw protocolError('padded DATA without a pad length');
      this.#afterData();
    }
  }

  /** After a piece of DATA: on to the padding, or the frame is done. */
  #afterData(): void {
    if (this.#left > 0) {
      this.#phase = 'data';
      return;
    }
    if (this.#padLeft > 0) {
      this.#left = this.#padLeft;
      this.#padLeft = 0;
      this.#phase = 'skip';
      return;
    }
    this.#frameDone();
  }

  /** The end of a frame read as it streamed by (DATA, or a skipped one). */
  #frameDone(): void {
    this.#phase = 'header';
    const h = this.#frame;
    if (h.type !== FrameType.DATA) return;
    // all of it is consumed already (copied into its answer), so its window is given back now
    this.#connUnacked += h.length;
    if (this.#connUnacked >= this.#windows.connection / 4) {
      this.#socket.write(windowUpdateFrame(0, this.#connUnacked));
      this.#connWindow += this.#connUnacked;
      this.#connUnacked = 0;
    }
    const s = this.#dataStream;
    this.#dataStream = undefined;
    if (s === undefined) return;
    if (h.flags & Flag.END_STREAM) return this.#finish(s);
    s.unacked += h.length;
    if (s.unacked >= this.#windows.stream / 4) {
      this.#socket.write(windowUpdateFrame(s.id, s.unacked));
      s.window += s.unacked;
      s.unacked = 0;
    }
  }

  /** A whole non-DATA frame. */
  #control(h: FrameHeader, p: Buffer): void {
    switch (h.type) {
      case FrameType.HEADERS: {
        if (h.streamId === 0 || h.streamId % 2 === 0 || h.streamId >= this.#nextId) throw protocolError(`HEADERS on stream ${h.streamId}, which the client never opened`);
        const fragment = headersFragment(p, h.flags);
        const endStream = (h.flags & Flag.END_STREAM) !== 0;
        if (h.flags & Flag.END_HEADERS) return this.#headerBlock(h.streamId, fragment, endStream);
        this.#block = { streamId: h.streamId, endStream, parts: [Buffer.from(fragment)], size: fragment.length };
        return;
      }
      case FrameType.CONTINUATION: {
        const block = this.#block;
        if (block === undefined) throw protocolError('CONTINUATION without HEADERS');
        block.parts.push(Buffer.from(p));
        block.size += p.length;
        if (h.flags & Flag.END_HEADERS) {
          this.#block = undefined;
          this.#headerBlock(block.streamId, Buffer.concat(block.parts), block.endStream);
        }
        return;
      }
      case FrameType.SETTINGS:
        return this.#settings(h, p);
      case FrameType.PING:
        if (h.streamId !== 0) throw protocolError('PING on a stream');
        if (h.flags & Flag.ACK) this.#pingAnswered?.(true);
        else this.#socket.write(pingFrame(p, true));
        return;
      case FrameType.RST_STREAM: {
        if (h.streamId === 0) throw protocolError('RST_STREAM on stream 0');
        const code = parseUint32(p, 'RST_STREAM');
        const s = this.#streams.get(h.streamId);
        if (s !== undefined) this.#end(s, fail('UPSTREAM_ERROR', `the server reset the request (HTTP/2 error ${code})`, { h2Error: code }));
        return;
      }
      case FrameType.WINDOW_UPDATE:
        parseUint32(p, 'WINDOW_UPDATE'); // the client sends no DATA: its send windows do not matter
        return;
      case FrameType.GOAWAY:
        return this.#goaway(h, p);
      default:
        return; // PRIORITY: advice for a sender, and the client sends no DATA
    }
  }

  #settings(h: FrameHeader, p: Buffer): void {
    if (h.streamId !== 0) throw protocolError('SETTINGS on a stream');
    if (h.flags & Flag.ACK) {
      if (p.length !== 0) throw protocolError('a SETTINGS acknowledgement with a payload');
      return;
    }
    for (const [id, value] of parseSettings(p)) {
      if (id === Setting.MAX_CONCURRENT_STREAMS) this.#peerMaxStreams = value;
      else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME || value > 0xff_ffff) throw protocolError(`SETTINGS_MAX_FRAME_SIZE ${value}`);
        this.#peerMaxFrame = value;
      }
      // HEADER_TABLE_SIZE bounds a table the client never adds to; INITIAL_WINDOW_SIZE a send
      // window it never uses
    }
    this.#socket.write(settingsAck());
    this.#admit();
  }

  /** GOAWAY: the requests above its last stream were not processed and fail; none may follow. */
  #goaway(h: FrameHeader, p?: Buffer): void {
    if (h.streamId !== 0) throw protocolError('GOAWAY on a stream');
    if (p === undefined) {
      // too long to keep whole: read its first 8 bytes as a frame of its own, skip the rest
      this.#frame = { ...h, length: 8 };
      this.#payloadFill = 0;
      this.#left = 8;
      this.#phase = 'payload';
      this.#afterGoaway = h.length - 8;
      return;
    }
    const g = parseGoaway(p);
    this.#goawayLast = Math.min(this.#goawayLast ?? MAX_WINDOW, g.lastStreamId);
    const why = `the server sent GOAWAY (HTTP/2 error ${g.code}${g.debug === '' ? '' : `: ${g.debug}`})`;
    for (const s of [...this.#streams.values()]) if (s.id > this.#goawayLast || g.code !== H2Error.NO_ERROR) this.#end(s, fail('UPSTREAM_ERROR', why, { h2Error: g.code }));
    for (const w of this.#waiting.splice(0)) w.fail(fail('UPSTREAM_ERROR', why, { h2Error: g.code }));
    if (this.#afterGoaway > 0) {
      this.#left = this.#afterGoaway;
      this.#afterGoaway = 0;
      this.#phase = 'skip';
    }
    this.#endIfIdle();
  }

  #headerBlock(streamId: number, block: Uint8Array, endStream: boolean): void {
    const fields = this.#hpack.decode(block); // always: the dynamic table must stay in step
    const s = this.#streams.get(streamId);
    if (s === undefined) return; // a stream that already ended here (reset, failed)
    if (s.headers === undefined) {
      const headers = new Map<string, string>();
      for (const f of fields) headers.set(f.name, f.value);
      const status = Number(headers.get(':status'));
      if (!Number.isInteger(status) || status < 100 || status > 999) throw protocolError(`an answer without a valid :status on stream ${streamId}`);
      if (status < 200) {
        if (endStream) throw protocolError('an informational answer that ends its stream');
        return; // 1xx: the final answer follows
      }
      s.headers = headers;
      s.status = status;
      s.body.expect(headers.get('content-length'));
    } else if (!endStream) {
      throw protocolError(`trailers that do not end stream ${streamId}`);
    }
    if (endStream) this.#finish(s);
  }

  /** A stream's answer is complete. */
  #finish(s: Stream): void {
    const h = s.headers!;
    const bytes = s.body.body();
    if (s.status < 200 || s.status > 299) return this.#end(s, responseError(s.status, h.get(ERROR_CODE_HEADER), bytes));
    if ((h.get('content-type') ?? '').startsWith('application/json')) {
      let parsed: { data?: unknown };
      try {
        parsed = JSON.parse(bytes.toString('utf8')) as { data?: unknown };
      } catch (e) {
        return this.#end(s, fail('UPSTREAM_ERROR', 'the server answered JSON that does not parse', { status: s.status }, e));
      }
      return this.#end(s, { kind: 'json', status: s.status, json: parsed.data ?? null });
    }
    this.#end(s, { kind: 'bytes', status: s.status, bytes });
  }

  /** Settles a stream's request and lets a waiting one go. */
  #end(s: Stream, outcome: H2Response | Error): void {
    if (!this.#streams.delete(s.id)) return;
    if (outcome instanceof Error) s.reject(outcome);
    else s.resolve(outcome);
    this.#admit();
    this.#endIfIdle();
  }

  #endIfIdle(): void {
    if (this.#lost !== undefined || this.#streams.size > 0 || this.#waiting.length > 0 || this.#reserved > 0) return;
    if (!this.#closing && this.#goawayLast === undefined) return;
    this.#lost = fail('UPSTREAM_ERROR', 'the h2 session is closed', {});
    this.#watchdog.stop();
    for (const w of this.#waiting.splice(0)) w.fail(this.#lost);
    if (!this.#socket.destroyed) {
      this.#socket.write(goawayFrame(0, H2Error.NO_ERROR));
      // nothing is left to receive: once the GOAWAY is out the socket goes, whether or not the
      // server closes its side (Node's keeps a half-open socket while it holds a stream open)
      this.#socket.end(() => this.#socket.destroy());
    }
  }

  /** The connection is over: every request still open fails with `e`. */
  #die(e: HoldfastError, code?: number): void {
    const first = this.#lost === undefined;
    this.#lost ??= e;
    this.#watchdog.stop();
    if (first && code !== undefined && !this.#socket.destroyed) this.#socket.write(goawayFrame(0, code)); // 0: the server opened no streams
    this.#socket.destroy();
    for (const s of [...this.#streams.values()]) {
      this.#streams.delete(s.id);
      s.reject(this.#lost);
    }
    for (const w of this.#waiting.splice(0)) w.fail(this.#lost);
  }
}
