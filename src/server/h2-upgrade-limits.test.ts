/**
 * serveH2's bounds (issue #11 item 6): idle sessions are closed, a stalled request body fails with
 * TIMEOUT, a GOAWAY from a peer that keeps its socket open still ends the session, as does a
 * peer's FIN without a GOAWAY, and a refused request whose body is still coming is reset with
 * NO_ERROR after its answer. Each test
 * waits for the connection's `closed` (onClose ran) or for the handler's outcome, never for time;
 * the limits are short so the server's own timers fire quickly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { isHoldfastError } from '../core/errors.ts';
import { silentLogger } from '../core/log.ts';
import { serveH2, type H2Limits, type ProtocolSession } from './h2-upgrade.ts';

const LONG = 600_000;

async function pair(session: ProtocolSession, limits: H2Limits): Promise<{ client: http2.ClientHttp2Session; closed: Promise<void>; done: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const socket = net.connect(port, '127.0.0.1');
  const client = http2.connect(`http://127.0.0.1:${port}`, { createConnection: () => socket });
  client.on('error', () => undefined);
  const conn = serveH2(await accepted, session, silentLogger, limits);
  return { client, closed: conn.closed, done: () => new Promise((resolve) => server.close(() => resolve())) };
}

const idle: ProtocolSession = { handle: async () => ({ json: null }), onClose: async () => undefined };

test('serveH2 closes a session that has no request in flight for sessionIdleMs, and runs onClose', { timeout: 30_000 }, async () => {
  let onClose = 0;
  const { client, closed, done } = await pair({ ...idle, onClose: async () => void onClose++ }, { sessionIdleMs: 50, bodyStallMs: LONG, goawayGraceMs: LONG });
  const r = client.request({ ':method': 'GET', ':path': '/x' });
  r.resume();
  await new Promise((resolve) => r.on('close', resolve)); // one request, then nothing
  await closed;
  assert.equal(onClose, 1);
  client.destroy();
  await done();
});

test('serveH2 fails a request body that stalls for bodyStallMs with TIMEOUT and resets the stream', { timeout: 30_000 }, async () => {
  let seen: unknown;
  let handled: () => void = () => undefined;
  const handledP = new Promise<void>((resolve) => (handled = resolve));
  const { client, closed, done } = await pair(
    {
      handle: async (_m, _p, _q, body) => {
        try {
          return { json: (await body.bytes()).length };
        } catch (e) {
          seen = e;
          throw e;
        } finally {
          handled();
        }
      },
      onClose: async () => undefined,
    },
    { sessionIdleMs: LONG, bodyStallMs: 50, goawayGraceMs: LONG },
  );
  const req = client.request({ ':method': 'POST', ':path': '/blob' });
  req.on('error', () => undefined);
  const reset = new Promise((resolve) => req.on('close', resolve));
  req.write(Buffer.alloc(1000, 1)); // part of a body, then silence
  await handledP;
  assert.ok(isHoldfastError(seen, 'TIMEOUT'), `expected TIMEOUT, got ${String(seen)}`);
  await reset;
  client.destroy();
  await closed;
  await done();
});

test('serveH2 closes the socket after a GOAWAY even when the peer keeps its side open', { timeout: 30_000 }, async () => {
  let onClose = 0;
  const { client, closed, done } = await pair({ ...idle, onClose: async () => void onClose++ }, { sessionIdleMs: LONG, bodyStallMs: LONG, goawayGraceMs: LONG });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  client.goaway(http2.constants.NGHTTP2_NO_ERROR); // a GOAWAY, but the client does not close
  await closed; // the server's socket closed and onClose ran
  assert.equal(onClose, 1);
  client.destroy();
  await done();
});

test('serveH2 resets an answer the client takes nothing of for bodyStallMs, and the idle session then closes', { timeout: 30_000 }, async () => {
  let onClose = 0;
  const answer = Buffer.alloc(4 * 1024 * 1024, 7); // far more than the client's 64 KiB stream window
  const { client, closed, done } = await pair({ handle: async () => ({ stream: answer }), onClose: async () => void onClose++ }, { sessionIdleMs: 50, bodyStallMs: 50, goawayGraceMs: LONG });
  const req = client.request({ ':method': 'GET', ':path': '/chunk' });
  req.on('error', () => undefined);
  req.pause(); // reads nothing: the answer cannot go out
  const reset = new Promise<number>((resolve) => req.on('close', () => resolve(req.rstCode)));
  assert.notEqual(await reset, http2.constants.NGHTTP2_NO_ERROR, 'the stalled answer is reset, not completed');
  await closed; // with no answer in flight any more, the idle session was closed
  assert.equal(onClose, 1);
  client.destroy();
  await done();
});

test('serveH2 ends the session when the peer half-closes its socket without a GOAWAY', { timeout: 30_000 }, async () => {
  // an https server's sockets allow half-open connections, so a peer's FIN alone closes nothing
  const server = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const socket = net.connect(port, '127.0.0.1');
  let onClose = 0;
  const conn = serveH2(await accepted, { ...idle, onClose: async () => void onClose++ }, silentLogger, { sessionIdleMs: LONG, bodyStallMs: LONG, goawayGraceMs: LONG });
  socket.on('error', () => undefined);
  socket.end(); // a FIN and nothing else: no h2 preface, no GOAWAY
  await conn.closed;
  assert.equal(onClose, 1);
  socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

test('serveH2 answers a refused request whose body is still coming, then resets it with NO_ERROR so the client stops sending', { timeout: 30_000 }, async () => {
  const refusing: ProtocolSession = {
    handle: async () => {
      throw new Error('refused before reading');
    },
    onClose: async () => undefined,
  };
  const { client, closed, done } = await pair(refusing, { sessionIdleMs: LONG, bodyStallMs: LONG, goawayGraceMs: LONG });
  const req = client.request({ ':method': 'POST', ':path': '/chunk' });
  req.on('error', () => undefined);
  req.write(Buffer.alloc(1000, 1)); // the start of a body that never ends
  const status = new Promise<number>((resolve) => req.once('response', (h) => resolve(Number(h[':status']))));
  const body: Buffer[] = [];
  req.on('data', (b: Buffer) => body.push(b));
  const ended = new Promise<void>((resolve) => req.once('end', resolve));
  const reset = new Promise<number>((resolve) => req.once('close', () => resolve(req.rstCode)));
  assert.equal(await status, 500);
  await ended; // the whole answer arrives before the reset
  assert.ok(Buffer.concat(body).length > 0, 'the error answer has a body');
  // the client never ended its body: only the server's RST_STREAM can close the stream
  assert.equal(await reset, http2.constants.NGHTTP2_NO_ERROR);
  client.destroy();
  await closed;
  await done();
});
