/**
 * The HTTP/1.1 half of a protocol upgrade (pbs-format.md §6.2) on a socket read in place
 * (`onread`, lean-h2-session.ts), where Node's HTTP parser cannot be used: it sends
 * `GET … Connection: upgrade`, reads the answer's head and resolves with what arrived after a
 * `101` (the first HTTP/2 bytes), or rejects with the server's coded error for any other status.
 *
 * Bounds, against a server that never stops talking or never answers: a head of at most MAX_HEAD
 * bytes and an error body of at most MAX_ERROR_BODY, within UPGRADE_TIMEOUT_MS (then TIMEOUT and
 * the socket closed); the bytes that follow a 101 are buffered (copied, the receive buffer is
 * reused) only until the caller's session takes the socket over.
 */
import type { Socket } from 'node:net';
import { fail } from '../core/errors.ts';
import type { ReceiveSwitch } from './lean-h2-session.ts';
import { responseError } from './h2-session.ts';

const MAX_HEAD = 64 * 1024;
const MAX_ERROR_BODY = 1024 * 1024;
/** How long a server may take to answer an upgrade (PBS's answers at once, or not at all). */
export const UPGRADE_TIMEOUT_MS = 60_000;

export interface UpgradeRequest {
  /** the path with its query string, `/api2/json/reader?…` */
  readonly path: string;
  readonly host: string;
  readonly protocol: string;
  readonly headers: Readonly<Record<string, string>>;
  /** default UPGRADE_TIMEOUT_MS */
  readonly timeoutMs?: number;
}

/** `name: value` lines of a head (after its status line), names lower-cased. */
function parseHeaders(lines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return out;
}

/** A `chunked` body as far as it is complete, or undefined while a chunk is still missing. */
function dechunk(b: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', i, 'latin1');
    if (eol < 0) return undefined;
    const size = Number.parseInt(b.subarray(i, eol).toString('latin1'), 16);
    if (!Number.isSafeInteger(size) || size < 0) return Buffer.concat(parts); // not chunked after all: what there is
    if (size === 0) return Buffer.concat(parts);
    if (b.length < eol + 2 + size + 2) return undefined;
    parts.push(b.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
}

/**
 * Resolves, on a 101, with `early`: a function that returns the bytes that came after the head
 * so far. The caller installs its own sink and calls it in the same synchronous step, so no byte
 * is lost or reordered between the two.
 */
export function upgradeInPlace(socket: Socket, receive: ReceiveSwitch, req: UpgradeRequest): Promise<() => Buffer> {
  return new Promise<() => Buffer>((resolve, reject) => {
    let got = Buffer.alloc(0);
    let status = 0;
    let headers = new Map<string, string>();
    let bodyAt = -1;
    let settled = false;
    const settle = (e: Error | undefined, early?: () => Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('close', onGone);
      socket.off('end', onGone);
      socket.off('error', onGone);
      if (e === undefined) return resolve(early!);
      receive.sink = () => undefined;
      socket.destroy();
      reject(e);
    };
    /** A non-101 answer: its body is the server's message. `ended`: no more bytes will come. */
    const answerError = (ended: boolean): void => {
      const raw = got.subarray(bodyAt);
      const length = headers.get('content-length');
      let body: Buffer | undefined;
      if ((headers.get('transfer-encoding') ?? '').toLowerCase().includes('chunked')) body = dechunk(raw);
      else if (length !== undefined && Number.isSafeInteger(Number(length))) body = raw.length >= Number(length) ? raw.subarray(0, Number(length)) : undefined;
      if (body === undefined && !ended && raw.length < MAX_ERROR_BODY) return; // more to come
      settle(responseError(status, headers.get('x-holdfast-error-code'), (body ?? raw).subarray(0, MAX_ERROR_BODY)));
    };
    const onGone = (e?: unknown): void => {
      if (bodyAt >= 0) return answerError(true);
      settle(fail('UPSTREAM_ERROR', `the connection closed during the upgrade to ${req.protocol}${e instanceof Error ? ` (${e.message})` : ''}`, { path: req.path }));
    };
    receive.sink = (b) => {
      got = Buffer.concat([got, b]); // copied: `b` is the reused receive buffer
      if (bodyAt >= 0) return answerError(false);
      const end = got.indexOf('\r\n\r\n', 0, 'latin1');
      if (end < 0) {
        if (got.length > MAX_HEAD) settle(fail('UPSTREAM_ERROR', `the answer to the upgrade to ${req.protocol} has no end of head within ${MAX_HEAD} bytes`, { path: req.path }));
        return;
      }
      const lines = got.subarray(0, end).toString('latin1').split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3}) /.exec(`${lines[0] ?? ''} `);
      if (m === null) return settle(fail('UPSTREAM_ERROR', `the answer to the upgrade to ${req.protocol} is not HTTP/1.1 (${JSON.stringify((lines[0] ?? '').slice(0, 80))})`, { path: req.path }));
      status = Number(m[1]);
      headers = parseHeaders(lines.slice(1));
      bodyAt = end + 4;
      if (status !== 101) return answerError(false);
      if ((headers.get('upgrade') ?? '').toLowerCase() !== req.protocol.toLowerCase()) {
        return settle(fail('UPSTREAM_ERROR', `the server switched to ${JSON.stringify(headers.get('upgrade') ?? '')}, not ${req.protocol}`, { path: req.path }));
      }
      // the HTTP/2 bytes that came with the head, and any that come before the session takes over
      const early = [got.subarray(bodyAt)];
      receive.sink = (more) => early.push(Buffer.from(more));
      settle(undefined, () => Buffer.concat(early));
    };
    socket.on('close', onGone);
    socket.on('end', onGone);
    socket.on('error', onGone);
    const timeoutMs = req.timeoutMs ?? UPGRADE_TIMEOUT_MS;
    const timer = setTimeout(() => settle(fail('TIMEOUT', `the server did not answer the upgrade to ${req.protocol} within ${timeoutMs / 1000} s`, { path: req.path })), timeoutMs);
    timer.unref();
    const lines = [`GET ${req.path} HTTP/1.1`, `host: ${req.host}`, 'connection: upgrade', `upgrade: ${req.protocol}`, ...Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`)];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  });
}
