/**
 * LeanH2Session against Node's own HTTP/2 server (nghttp2: Huffman, a dynamic table, padding,
 * resets, GOAWAY, stream limits) and against a raw socket that breaks the protocol on purpose.
 * The client runs over plain TCP here (`onread` works on any net socket); TLS and the upgrade are
 * covered by the restore tests on a real server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { isHoldfastError } from '../core/errors.ts';
import { FrameType, frame, Flag, settingsFrame } from '../format/h2-frame.ts';
import { LeanH2Session, ReceiveSwitch } from './lean-h2-session.ts';
import { upgradeInPlace } from './h1-upgrade.ts';
import type { H2Response } from './h2-session.ts';

const MIB = 1024 * 1024;

async function connect(port: number, windows?: { stream: number; connection: number }): Promise<LeanH2Session> {
  const receive = new ReceiveSwitch();
  const socket = net.connect({ host: '127.0.0.1', port, onread: receive.onread });
  await once(socket, 'connect');
  return LeanH2Session.start(socket, receive, Buffer.alloc(0), `127.0.0.1:${port}`, windows);
}

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/**
 * Runs `use` on a lean session connected to `server` (listened on here unless it already is),
 * then drops the session and closes the server, whatever happened.
 */
async function withSession(server: net.Server, use: (h2: LeanH2Session) => Promise<void>, windows?: { stream: number; connection: number }): Promise<void> {
  const port = server.listening ? (server.address() as AddressInfo).port : await listen(server);
  const h2 = await connect(port, windows);
  try {
    await use(h2);
  } finally {
    h2.destroy();
    server.close();
  }
}

/** Deterministic bytes of a size, so an answer can be checked without keeping it. */
function bodyOf(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + (size & 0xff)) & 0xff;
  return out;
}

const bytesOf = (r: H2Response): Uint8Array => {
  assert.equal(r.kind, 'bytes');
  return r.kind === 'bytes' ? r.bytes : new Uint8Array(0);
};

function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  return assert.rejects(p, (e: unknown) => isHoldfastError(e, code as never) || assert.fail(`expected ${code}, got ${String(e)}`));
}

test('answers of every size arrive whole, in parallel, through small windows that must be replenished', async () => {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const size = Number(new URL(`http://x${headers[':path']!}`).searchParams.get('size'));
    stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', 'content-length': size });
    stream.end(bodyOf(size));
  });
  // windows far below the answers: only WINDOW_UPDATEs let a 5 MiB answer through
  await withSession(server, async (h2) => {
    const sizes = [0, 1, 9, 16_383, 16_384, 16_385, 65_535, 65_536, 100_001, MIB, 5 * MIB + 3];
    const got = await Promise.all(sizes.map((size) => h2.request('GET', 'blob', { size })));
    got.forEach((r, i) => assert.ok(Buffer.from(bytesOf(r)).equals(bodyOf(sizes[i]!)), `answer of ${sizes[i]} bytes`));
    // received into the caller's buffer when it fits
    const into = new Uint8Array(2 * MIB);
    const r = bytesOf(await h2.request('GET', 'blob', { size: MIB }, undefined, into));
    assert.equal(r.buffer, into.buffer);
    assert.ok(Buffer.from(r).equals(bodyOf(MIB)));
  }, { stream: 100_000, connection: 300_000 });
});

test('padded frames, JSON answers, error answers and a dynamic HPACK table over hundreds of answers', async () => {
  const server = http2.createServer({ paddingStrategy: http2.constants.PADDING_STRATEGY_MAX });
  let n = 0;
  server.on('stream', (stream, headers) => {
    const path = headers[':path']!;
    n++;
    // headers that repeat (indexed in the server's dynamic table) and ones that change, long enough to evict
    const extra = { 'x-repeat': 'the same value every time', [`x-vary-${n % 7}`]: randomBytes(40 + (n % 90)).toString('base64') };
    if (path.startsWith('/json')) {
      stream.respond({ ':status': 200, 'content-type': 'application/json;charset=utf-8', ...extra });
      stream.end(JSON.stringify({ data: { n: Number(path.slice(6)) } }));
    } else if (path.startsWith('/fail')) {
      stream.respond({ ':status': 404, 'x-holdfast-error-code': 'NOT_FOUND', ...extra });
      stream.end(JSON.stringify({ message: `no ${path}` }));
    } else {
      const body = createHash('sha256').update(path).digest();
      stream.respond({ ':status': 200, 'content-length': body.length, ...extra });
      stream.end(body);
    }
  });
  await withSession(server, async (h2) => {
    for (let round = 0; round < 30; round++) {
      await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const k = round * 10 + i;
          if (k % 3 === 0) {
            const r = await h2.request('GET', `json/${k}`);
            assert.deepEqual(r.kind === 'json' ? r.json : undefined, { n: k });
          } else if (k % 3 === 1) {
            await assert.rejects(h2.request('GET', `fail/${k}`), (e: unknown) => isHoldfastError(e, 'NOT_FOUND') && e.message === `no /fail/${k}` && e.details['status'] === 404);
          } else {
            assert.ok(Buffer.from(bytesOf(await h2.request('GET', `b/${k}`))).equals(createHash('sha256').update(`/b/${k}`).digest()));
          }
        }),
      );
    }
  });
});

test("the server's concurrent-stream limit is kept: requests beyond it wait for a free stream", async () => {
  const server = http2.createServer({ settings: { maxConcurrentStreams: 2 } });
  let open = 0;
  let most = 0;
  const held: Array<() => void> = [];
  server.on('stream', (stream, headers) => {
    const answer = (): void => {
      stream.respond({ ':status': 200 });
      stream.end('ok');
    };
    if (headers[':path'] === '/first') return answer(); // by its answer the server's SETTINGS are in
    open++;
    most = Math.max(most, open);
    stream.on('close', () => open--);
    // answered in pairs, so the limit is really reached before any stream frees up
    held.push(answer);
    if (held.length === 2) held.splice(0).forEach((go) => go());
  });
  await withSession(server, async (h2) => {
    await h2.request('GET', 'first');
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => h2.request('GET', `r${i}`)));
    assert.equal(answers.length, 12);
    assert.equal(most, 2, `the server saw ${most} streams at once`);
  });
});

test('a reset stream fails only its own request; a GOAWAY fails the unprocessed ones and refuses new ones', async () => {
  const server = http2.createServer();
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (s) => sessions.push(s));
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined); // the reset below is an error on the server's side too
    if (headers[':path'] === '/reset') return stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    if (headers[':path'] === '/hang') return; // answered by nobody: the GOAWAY below names it unprocessed
    stream.respond({ ':status': 200 });
    stream.end('fine');
  });
  await withSession(server, async (h2) => {
    const [reset, fine] = await Promise.allSettled([h2.request('GET', 'reset'), h2.request('GET', 'fine')]);
    assert.equal(reset.status, 'rejected');
    assert.ok(isHoldfastError((reset).reason, 'UPSTREAM_ERROR'));
    assert.match(String((reset).reason), /reset the request \(HTTP\/2 error 7\)/);
    assert.equal(fine.status, 'fulfilled');
    const hang = h2.request('GET', 'hang');
    await once(server, 'stream'); // the server has it
    sessions[0]!.goaway(http2.constants.NGHTTP2_NO_ERROR, 1); // only stream 1 was processed
    await rejectsWith(hang, 'UPSTREAM_ERROR');
    await rejectsWith(h2.request('GET', 'fine'), 'UPSTREAM_ERROR');
    await h2.closed; // idle after the GOAWAY: the client closes
  });
});

test('a connection dropped mid-answer fails the request and settles `closed`', async () => {
  const server = http2.createServer();
  const sockets: net.Socket[] = [];
  server.on('connection', (sock: net.Socket) => sockets.push(sock));
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    stream.respond({ ':status': 200, 'content-length': 10 * MIB });
    stream.write(bodyOf(MIB), () => sockets.forEach((sock) => sock.destroy()));
  });
  await withSession(server, async (h2) => {
    await rejectsWith(h2.request('GET', 'big'), 'UPSTREAM_ERROR');
    await h2.closed;
    await rejectsWith(h2.request('GET', 'after'), 'UPSTREAM_ERROR');
  });
});

test('close() lets requests in flight finish, then ends the connection', async () => {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    setImmediate(() => stream.end('late but whole'));
  });
  await withSession(server, async (h2) => {
    const r = h2.request('GET', 'x');
    await Promise.all([h2.close(), r.then((a) => assert.equal(Buffer.from(bytesOf(a)).toString(), 'late but whole'))]);
    await rejectsWith(h2.request('GET', 'y'), 'UPSTREAM_ERROR');
  });
});

/**
 * A server that answers the preface with SETTINGS and then, to the first request, the frames
 * `answer` builds (stream id 1); what the client does is the test.
 */
async function hostile(answer: (id: number) => Buffer[]): Promise<{ readonly port: number; readonly server: net.Server }> {
  const server = net.createServer((sock) => {
    let seen = Buffer.alloc(0);
    let answered = false;
    sock.on('data', (b: Buffer) => {
      seen = Buffer.concat([seen, b]);
      // the client's HEADERS frame of stream 1 (type 1) follows its preface and SETTINGS
      if (!answered && seen.includes(Buffer.from([FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 0, 0, 0, 1]))) {
        answered = true;
        sock.write(Buffer.concat([settingsFrame([]), ...answer(1)]));
      }
    });
    sock.on('error', () => undefined);
  });
  return { port: await listen(server), server };
}

/** `:status: 200` as HPACK (static table index 8). */
const STATUS_200 = Buffer.from([0x88]);

for (const [what, frames] of [
  ['DATA on a stream the client never opened', (id: number) => [frame(FrameType.HEADERS, Flag.END_HEADERS, id, STATUS_200), frame(FrameType.DATA, 0, 9, Buffer.from('x'))]],
  ['DATA before any headers', (id: number) => [frame(FrameType.DATA, Flag.END_STREAM, id, Buffer.from('x'))]],
  ['a frame longer than the client allows', (id: number) => [Buffer.from([0xff, 0xff, 0xff, FrameType.DATA, 0, 0, 0, 0, id])]],
  ['a header block HPACK cannot decode', (id: number) => [frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, id, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]))]],
  ['headers without a :status', (id: number) => [frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, id, Buffer.from([0x82]))]],
  ['a HEADERS interrupted before its CONTINUATION', (id: number) => [frame(FrameType.HEADERS, 0, id, STATUS_200), frame(FrameType.PING, 0, 0, Buffer.alloc(8))]],
  ['a PUSH_PROMISE although push is off', (id: number) => [frame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, id, Buffer.from([0, 0, 0, 2, 0x82]))]],
  ['a SETTINGS frame of the wrong length', () => [frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(5))]],
  ['DATA padding longer than the frame', (id: number) => [frame(FrameType.HEADERS, Flag.END_HEADERS, id, STATUS_200), frame(FrameType.DATA, Flag.PADDED, id, Buffer.from([9, 1, 2]))]],
  ['DATA beyond the stream window', (id: number) => [frame(FrameType.HEADERS, Flag.END_HEADERS, id, STATUS_200), frame(FrameType.DATA, 0, id, Buffer.alloc(70_000))]],
] as const) {
  test(`a server that sends ${what} fails the request with PROTOCOL_ERROR and loses the connection`, async () => {
    const { server } = await hostile(frames);
    await withSession(server, async (h2) => {
      await rejectsWith(h2.request('GET', 'x'), 'PROTOCOL_ERROR');
      await h2.closed;
    }, { stream: 65_535, connection: 1_000_000 });
  });
}

test('a header block split over CONTINUATION frames, and unknown frame types, are read as the protocol says', async () => {
  const { server } = await hostile((id) => [
    frame(0xfa, 0, 0, Buffer.from('an extension frame: skipped')),
    frame(FrameType.HEADERS, Flag.PADDED, id, Buffer.from([2, 0x88, 0, 0])), // :status 200, 2 bytes of padding
    frame(FrameType.CONTINUATION, 0, id, Buffer.from([0x5f, 0x0a])), // content-type (index 31), literal
    frame(FrameType.CONTINUATION, Flag.END_HEADERS, id, Buffer.from([...Buffer.from('text/plain')])),
    frame(FrameType.DATA, Flag.PADDED, id, Buffer.from([3, ...Buffer.from('hello'), 0, 0, 0])),
    frame(FrameType.DATA, Flag.END_STREAM, id, Buffer.from(' world')),
  ]);
  await withSession(server, async (h2) => {
    assert.equal(Buffer.from(bytesOf(await h2.request('GET', 'x'))).toString(), 'hello world');
  });
});

test('only GETs without a body are sent (the reader protocol has no other)', async () => {
  const server = http2.createServer();
  await withSession(server, async (h2) => {
    await rejectsWith(h2.request('POST', 'x'), 'INTERNAL');
    await rejectsWith(h2.request('GET', 'x', {}, new Uint8Array(1)), 'INTERNAL');
  });
});

test('the upgrade reads a 101 and hands over the bytes after it; any other answer is the server\'s coded error', async () => {
  const server = net.createServer((sock) => {
    sock.once('data', (b: Buffer) => {
      const head = b.toString('latin1');
      if (head.includes('/refused')) {
        const body = JSON.stringify({ message: 'no access to that snapshot', code: 'FORBIDDEN' });
        sock.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      } else if (head.includes('/chunked')) {
        sock.end('HTTP/1.1 400 Bad Request\r\ntransfer-encoding: chunked\r\nx-holdfast-error-code: INVALID_ARGUMENT\r\n\r\n5\r\nbad r\r\n6\r\nequest\r\n0\r\n\r\n');
      } else if (head.includes('/garbage')) {
        sock.end('SSH-2.0-OpenSSH_9.2\r\n\r\n');
      } else if (head.includes('/silent')) {
        // never answers: the client's timeout ends it
      } else {
        assert.match(head, /^GET \/upgrade HTTP\/1\.1\r\n/);
        assert.match(head, /\r\nupgrade: proxmox-backup-reader-protocol-v1\r\n/);
        assert.match(head, /\r\nauthorization: secret\r\n/);
        sock.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: proxmox-backup-reader-protocol-v1\r\n\r\nfirst');
        sock.write(' bytes');
      }
    });
  });
  const port = await listen(server);
  const upgrade = async (path: string, timeoutMs?: number): Promise<Buffer> => {
    const receive = new ReceiveSwitch();
    const socket = net.connect({ host: '127.0.0.1', port, onread: receive.onread });
    await once(socket, 'connect');
    const early = await upgradeInPlace(socket, receive, { path, host: `127.0.0.1:${port}`, protocol: 'proxmox-backup-reader-protocol-v1', headers: { authorization: 'secret' }, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    // what the server wrote after the 101 may come in a later read: wait for both pieces
    let got = early();
    const all = new Promise<void>((resolve) => {
      receive.sink = (b) => {
        got = Buffer.concat([got, b]);
        if (got.length >= 11) resolve();
      };
      if (got.length >= 11) resolve();
    });
    await all;
    socket.destroy();
    return got;
  };
  try {
    assert.equal((await upgrade('/upgrade')).toString(), 'first bytes');
    await assert.rejects(upgrade('/refused'), (e: unknown) => isHoldfastError(e, 'FORBIDDEN') && e.message === 'no access to that snapshot' && e.details['status'] === 403);
    await assert.rejects(upgrade('/chunked'), (e: unknown) => isHoldfastError(e, 'INVALID_ARGUMENT') && e.message === 'bad request');
    await rejectsWith(upgrade('/garbage'), 'UPSTREAM_ERROR');
    await rejectsWith(upgrade('/silent', 50), 'TIMEOUT');
  } finally {
    server.close();
  }
});

test("the connection turns Nagle's algorithm off: a request must not wait for the server's ACK of the last", async (t) => {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  const port = await listen(server);
  const receive = new ReceiveSwitch();
  const socket = net.connect({ host: '127.0.0.1', port, onread: receive.onread });
  await once(socket, 'connect');
  const noDelay = t.mock.method(socket, 'setNoDelay');
  const h2 = LeanH2Session.start(socket, receive, Buffer.alloc(0), `127.0.0.1:${port}`);
  try {
    assert.deepEqual(
      noDelay.mock.calls.map((c) => c.arguments),
      [[true]],
    );
    assert.equal(Buffer.from(bytesOf(await h2.request('GET', 'x'))).toString(), 'ok');
  } finally {
    h2.destroy();
    server.close();
  }
});
