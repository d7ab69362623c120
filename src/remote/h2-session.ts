/**
 * The client end of an upgraded backup/reader connection: HTTP/2 over the TLS socket that just
 * received `101 Switching Protocols`, with the client as h2 client (pbs-format.md §6.2). Many
 * requests may be in flight at once; each is one h2 stream.
 *
 * Receive windows sized from the link the client is tuned for (link-target.ts: 2 × the BDP per
 * stream, at least one largest chunk; twice that per connection), max frame 4 MiB, so a download
 * over a long link is limited by the link, not by WINDOW_UPDATE round trips.
 *
 * A 2xx answer resolves to its JSON `data` (content type JSON) or its raw bytes; any other status
 * rejects with the server's code (from `x-holdfast-error-code`) or UPSTREAM_ERROR, the status in
 * `details.status` and the server's message as the error message.
 */
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { fail, HoldfastError } from '../core/errors.ts';
import { isErrorCode } from '../core/error-codes.ts';
import { receiveWindows, type H2Windows } from './link-target.ts';
import { copyBytes } from '../core/byte-copy.ts';
import { PingWatchdog } from './ping-watchdog.ts';

const MIB = 1024 * 1024;
export const H2_CLIENT_MAX_FRAME = 4 * MIB;
const ERROR_CODE_HEADER = 'x-holdfast-error-code';

export type H2Query = Readonly<Record<string, string | number | boolean | readonly (string | number)[] | undefined>>;
export type H2Body = Uint8Array | { readonly json: unknown };
export type H2Response =
  | { readonly kind: 'json'; readonly status: number; readonly json: unknown }
  | { readonly kind: 'bytes'; readonly status: number; readonly bytes: Uint8Array };

export function queryString(query: H2Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) params.append(k, String(item));
    else params.append(k, String(v));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** A non-2xx answer as a coded error; the body is the server's message (text or JSON). */
export function responseError(status: number, codeHeader: string | undefined, body: Buffer): HoldfastError {
  const text = body.toString('utf8').trim();
  let message = text;
  let code = codeHeader !== undefined && isErrorCode(codeHeader) ? codeHeader : undefined;
  let details: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(text) as { message?: unknown; code?: unknown; details?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
    if (typeof parsed.code === 'string' && isErrorCode(parsed.code)) code = parsed.code;
    if (typeof parsed.details === 'object' && parsed.details !== null) details = { ...parsed.details };
  } catch {
    // plain-text body, as PBS sends
  }
  return new HoldfastError(code ?? 'UPSTREAM_ERROR', message === '' ? `server answered ${status}` : message, { ...details, status });
}

/** Answers up to this size are received into one buffer of their declared length. */
const PRESIZE_LIMIT = 32 * MIB;

/**
 * An answer body: received straight into one buffer of the declared `content-length` (a chunk is
 * copied once, not gathered and concatenated), else gathered. That buffer is the caller's `into`
 * when the body fits there (no allocation at all), else a new one. A length the body does not keep
 * to only costs the fast path: what arrived is still returned whole.
 */
export class BodyCollector {
  readonly #into: Uint8Array | undefined;
  #buf: Buffer | undefined;
  #filled = 0;
  readonly #parts: Buffer[] = [];
  readonly #transient: boolean;

  /**
   * `transient`: the pieces given to `add` live in a buffer the caller reuses as soon as `add`
   * returns (the lean session's TLS receive buffer), so a piece that is kept is copied.
   */
  constructor(into?: Uint8Array, o: { readonly transient?: boolean } = {}) {
    this.#into = into;
    this.#transient = o.transient === true;
  }

  /**
   * The declared length, from the answer's headers. Should DATA have been added before it (the
   * order of a stream's 'response' and 'data' events is Node's affair, not a protocol guarantee),
   * those bytes are moved into the new buffer, or gathering simply goes on when they do not fit:
   * before, the pre-sized buffer replaced them and the body lost its first bytes.
   */
  expect(contentLength: unknown): void {
    const n = Number(contentLength);
    if (!Number.isSafeInteger(n) || n <= 0 || this.#buf !== undefined) return;
    const early = this.#parts.reduce((sum, p) => sum + p.length, 0);
    if (early > n) return;
    const into = this.#into;
    let buf: Buffer;
    if (into !== undefined && n <= into.length) buf = Buffer.from(into.buffer, into.byteOffset, n);
    else if (n <= PRESIZE_LIMIT) buf = Buffer.allocUnsafeSlow(n);
    else return;
    for (const p of this.#parts) {
      p.copy(buf, this.#filled);
      this.#filled += p.length;
    }
    this.#parts.length = 0;
    this.#buf = buf;
  }

  add(c: Buffer): void {
    const buf = this.#buf;
    if (buf && this.#filled + c.length <= buf.length) {
      copyBytes(buf, c, this.#filled); // `into` may be shared memory (a pull's buffers): see byte-copy.ts
      this.#filled += c.length;
      return;
    }
    if (buf) this.#parts.push(buf.subarray(0, this.#filled)); // longer than declared: gather from here
    this.#buf = undefined;
    this.#parts.push(this.#transient ? Buffer.from(c) : c);
  }

  body(): Buffer {
    const buf = this.#buf;
    if (buf) return this.#filled === buf.length ? buf : buf.subarray(0, this.#filled);
    return Buffer.concat(this.#parts);
  }
}

function collect(stream: http2.ClientHttp2Stream, into?: Uint8Array): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    let headers: http2.IncomingHttpHeaders = {};
    const body = new BodyCollector(into);
    stream.on('response', (h) => {
      headers = h;
      body.expect(h['content-length']);
    });
    let ended = false;
    stream.on('data', (c: Buffer) => body.add(c));
    stream.on('end', () => {
      ended = true;
      resolve({ status: Number(headers[':status'] ?? 0), headers, body: body.body() });
    });
    stream.on('error', (e: Error) => reject(fail('UPSTREAM_ERROR', `h2 stream failed: ${e.message}`, {}, e)));
    // A reset or a dropped connection may close the stream with neither 'end' nor 'error'. (Every
    // stream closes: after 'end' no error is built, whose stack cost ~20 µs per chunk restored.)
    stream.on('close', () => {
      if (!ended) reject(fail('UPSTREAM_ERROR', `h2 stream closed before its answer ended (code ${stream.rstCode ?? 0})`, {}));
    });
  });
}

export class H2Session {
  readonly #session: http2.ClientHttp2Session;
  readonly #socket: Duplex;
  readonly closed: Promise<void>;

  /** rejecters of requests still waiting for their answer */
  readonly #pending = new Set<(e: Error) => void>();
  #lost: Error | undefined;
  #lostNow: (why: string) => (e?: unknown) => void = () => () => undefined;
  /** proves a busy session's server alive (ping-watchdog.ts) */
  readonly #watchdog: PingWatchdog;

  private constructor(session: http2.ClientHttp2Session, socket: Duplex) {
    this.#session = session;
    this.#socket = socket;
    this.closed = new Promise((resolve) => session.once('close', () => resolve()));
    // A peer that dies mid-upload does not always end every stream with 'close' or 'error' (seen
    // when the server was SIGKILLed during a 4 MiB body): fail every pending request as soon as
    // the session or its socket goes, so a client never waits forever.
    const lost = (why: string) => (e?: unknown): void => {
      this.#lost ??= fail('UPSTREAM_ERROR', `the connection to the server was lost (${why}${e instanceof Error ? `: ${e.message}` : ''})`, {});
      for (const reject of this.#pending) reject(this.#lost);
      this.#pending.clear();
    };
    this.#lostNow = lost;
    this.#watchdog = new PingWatchdog({
      busy: () => this.#pending.size > 0,
      ping: (answered) => session.ping((err) => answered(err === null)),
      dead: (why) => {
        this.#lostNow(why)();
        this.destroy();
      },
    });
    session.once('close', lost('session closed'));
    session.once('goaway', lost('server sent GOAWAY'));
    session.on('error', lost('session error'));
    socket.once('close', lost('socket closed'));
    socket.on('error', lost('socket error'));
  }

  /**
   * Starts h2 on an upgraded socket; `head` is any data read past the 101 answer; `windows` are
   * the receive windows granted to the server (default: sized for DEFAULT_LINK_TARGET).
   */
  static start(socket: Duplex, head: Buffer, authority: string, windows: H2Windows = receiveWindows()): H2Session {
    if (head.length > 0) socket.unshift(head);
    const session = http2.connect(`http://${authority}`, {
      createConnection: () => socket,
      settings: { initialWindowSize: windows.stream, maxFrameSize: H2_CLIENT_MAX_FRAME },
      maxSessionMemory: 512,
    });
    session.on('error', () => undefined); // surfaced per request (see the constructor)
    // 'connect' may come after a destroy() (its event was queued), when setLocalWindowSize throws
    session.once('connect', () => {
      if (!session.destroyed) session.setLocalWindowSize(windows.connection);
    });
    return new H2Session(session, socket);
  }

  /** `into`: a buffer the answer's body may be received into (BodyCollector). */
  async request(method: string, path: string, query: H2Query = {}, body?: H2Body, into?: Uint8Array): Promise<H2Response> {
    const headers: http2.OutgoingHttpHeaders = { ':method': method, ':path': `/${path.replace(/^\/+/, '')}${queryString(query)}` };
    let payload: Uint8Array | undefined;
    if (body instanceof Uint8Array) {
      payload = body;
      headers['content-type'] = 'application/octet-stream';
    } else if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body.json));
      headers['content-type'] = 'application/json';
    }
    if (this.#lost) throw this.#lost;
    if (this.#session.closed || this.#session.destroyed) throw fail('UPSTREAM_ERROR', 'the h2 session is closed', { path });
    const stream = this.#session.request(headers);
    let rejectLost: (e: Error) => void = () => undefined;
    const lost = new Promise<never>((_, reject) => (rejectLost = reject));
    this.#pending.add(rejectLost);
    this.#watchdog.arm();
    const answer = collect(stream, into);
    stream.end(payload);
    let reply: Awaited<typeof answer>;
    try {
      reply = await Promise.race([answer, lost]);
    } finally {
      this.#pending.delete(rejectLost);
      answer.catch(() => undefined);
    }
    const { status, headers: h, body: bytes } = reply;
    if (status < 200 || status > 299) throw responseError(status, h[ERROR_CODE_HEADER] as string | undefined, bytes);
    if (String(h['content-type'] ?? '').startsWith('application/json')) {
      const parsed = JSON.parse(bytes.toString('utf8')) as { data?: unknown };
      return { kind: 'json', status, json: parsed.data ?? null };
    }
    return { kind: 'bytes', status, bytes };
  }

  /** Graceful close: lets in-flight streams finish. */
  async close(): Promise<void> {
    if (!this.#session.closed) this.#session.close();
    await this.closed;
  }

  /** Drops the connection at once (the server then aborts an unfinished backup). */
  destroy(): void {
    this.#session.destroy();
    // Node's session only ends its socket, after the writes queued on it have gone out: with the
    // server not reading (a body it had no room for), that never happens and the server would
    // not learn of the drop until its idle timeout.
    this.#socket.destroy();
  }
}
