/**
 * The client end of an upgraded backup/reader connection: HTTP/2 over the TLS socket that just
 * received `101 Switching Protocols`, with the client as h2 client (pbs-format.md §6.2). Many
 * requests may be in flight at once; each is one h2 stream.
 *
 * Windows as PBS's client sets them: stream and connection windows 2^31-2, max frame 4 MiB, so a
 * download is limited by the server's pace, never by ours.
 *
 * A 2xx answer resolves to its JSON `data` (content type JSON) or its raw bytes; any other status
 * rejects with the server's code (from `x-holdfast-error-code`) or UPSTREAM_ERROR, the status in
 * `details.status` and the server's message as the error message.
 */
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { fail, HoldfastError } from '../core/errors.ts';
import { isErrorCode } from '../core/error-codes.ts';

const MIB = 1024 * 1024;
export const H2_CLIENT_WINDOW = 2 ** 31 - 2;
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

function collect(stream: http2.ClientHttp2Stream): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    let headers: http2.IncomingHttpHeaders = {};
    const parts: Buffer[] = [];
    stream.on('response', (h) => {
      headers = h;
    });
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => resolve({ status: Number(headers[':status'] ?? 0), headers, body: Buffer.concat(parts) }));
    stream.on('error', (e: Error) => reject(fail('UPSTREAM_ERROR', `h2 stream failed: ${e.message}`, {}, e)));
    // A reset or a dropped connection may close the stream with neither 'end' nor 'error'.
    stream.on('close', () => reject(fail('UPSTREAM_ERROR', `h2 stream closed before its answer ended (code ${stream.rstCode ?? 0})`, {})));
  });
}

export class H2Session {
  readonly #session: http2.ClientHttp2Session;
  readonly closed: Promise<void>;

  private constructor(session: http2.ClientHttp2Session) {
    this.#session = session;
    this.closed = new Promise((resolve) => session.once('close', () => resolve()));
  }

  /** Starts h2 on an upgraded socket; `head` is any data read past the 101 answer. */
  static start(socket: Duplex, head: Buffer, authority: string): H2Session {
    if (head.length > 0) socket.unshift(head);
    const session = http2.connect(`http://${authority}`, {
      createConnection: () => socket,
      settings: { initialWindowSize: H2_CLIENT_WINDOW, maxFrameSize: H2_CLIENT_MAX_FRAME },
      maxSessionMemory: 512,
    });
    session.on('error', () => undefined); // surfaced per stream
    session.once('connect', () => session.setLocalWindowSize(H2_CLIENT_WINDOW));
    return new H2Session(session);
  }

  async request(method: string, path: string, query: H2Query = {}, body?: H2Body): Promise<H2Response> {
    const headers: http2.OutgoingHttpHeaders = { ':method': method, ':path': `/${path.replace(/^\/+/, '')}${queryString(query)}` };
    let payload: Uint8Array | undefined;
    if (body instanceof Uint8Array) {
      payload = body;
      headers['content-type'] = 'application/octet-stream';
    } else if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body.json));
      headers['content-type'] = 'application/json';
    }
    if (this.#session.closed || this.#session.destroyed) throw fail('UPSTREAM_ERROR', 'the h2 session is closed', { path });
    const stream = this.#session.request(headers);
    const answer = collect(stream);
    stream.end(payload);
    const { status, headers: h, body: bytes } = await answer;
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
  }
}
