import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { BodyCollector, H2Session, queryString, responseError } from './h2-session.ts';
import { receiveWindows } from './link-target.ts';

test('queryString encodes scalars and repeats array keys, skipping undefined', () => {
  assert.equal(queryString({}), '');
  assert.equal(queryString({ 'archive-name': 'a b.didx', wid: 3, x: undefined, debug: false }), '?archive-name=a+b.didx&wid=3&debug=false');
  assert.equal(queryString({ d: ['1', 2] }), '?d=1&d=2');
});

test('responseError keeps a plain-text PBS message and marks it UPSTREAM_ERROR with the status', () => {
  const e = responseError(400, undefined, Buffer.from('no such chunk\n'));
  assert.equal(e.code, 'UPSTREAM_ERROR');
  assert.equal(e.message, 'no such chunk');
  assert.equal(e.details['status'], 400);
});

test('responseError takes the code from the header or a Holdfast JSON body', () => {
  assert.equal(responseError(400, 'UNKNOWN_CHUNK', Buffer.from('x')).code, 'UNKNOWN_CHUNK');
  const e = responseError(404, undefined, Buffer.from(JSON.stringify({ data: null, message: 'gone', code: 'NOT_FOUND', details: { id: 1 } })));
  assert.deepEqual([e.code, e.message, e.details], ['NOT_FOUND', 'gone', { id: 1, status: 404 }]);
  assert.equal(responseError(500, 'NOT_A_CODE', Buffer.alloc(0)).message, 'server answered 500');
});

test('H2Session.start grants the server the stream and connection receive windows it is given', async () => {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    const { session } = stream;
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(JSON.stringify({ data: { stream: session?.remoteSettings.initialWindowSize, connection: session?.state.remoteWindowSize } }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const windows = { stream: 20_000_000, connection: 40_000_000 };
  const h2 = H2Session.start(socket, Buffer.alloc(0), `127.0.0.1:${port}`, windows);
  try {
    await h2.request('GET', 'first'); // by its answer the session is up and its WINDOW_UPDATE sent
    const r = await h2.request('GET', 'windows');
    const seen = (r.kind === 'json' ? r.json : {}) as { stream: number; connection: number };
    assert.equal(seen.stream, windows.stream);
    // what the server may still send: the granted window less the first answer's few bytes
    assert.ok(seen.connection > windows.connection - 1024 && seen.connection <= windows.connection, `connection window ${seen.connection}`);
    assert.deepEqual(receiveWindows(), { stream: 25_000_000, connection: 50_000_000 });
  } finally {
    h2.destroy();
    server.close();
  }
});

test('BodyCollector receives a body of the declared length into one buffer of that length', () => {
  const b = new BodyCollector();
  b.expect('6');
  b.add(Buffer.from('abc'));
  b.add(Buffer.from('def'));
  const body = b.body();
  assert.equal(body.toString(), 'abcdef');
  assert.equal(body.buffer.byteLength, 6, 'one buffer of exactly the declared size, no gathering');
});

test('BodyCollector keeps the bytes added before the declared length', () => {
  const into = new Uint8Array(16).fill(0x2a); // a reused buffer still holding an earlier answer
  for (const b of [new BodyCollector(), new BodyCollector(into)]) {
    b.add(Buffer.from('BLOB'));
    b.add(Buffer.from('head'));
    b.expect('12');
    b.add(Buffer.from('tail'));
    assert.equal(b.body().toString(), 'BLOBheadtail');
  }
  const late = new BodyCollector();
  late.add(Buffer.from('longer than declared'));
  late.expect('3');
  late.add(Buffer.from('!'));
  assert.equal(late.body().toString(), 'longer than declared!');
});

test('BodyCollector keeps every byte when the length is missing, wrong, or too large to pre-size', () => {
  const run = (declared: unknown, parts: string[]): string => {
    const b = new BodyCollector();
    b.expect(declared);
    for (const p of parts) b.add(Buffer.from(p));
    return b.body().toString();
  };
  assert.equal(run(undefined, ['ab', 'cd']), 'abcd');
  assert.equal(run('3', ['ab', 'cd']), 'abcd', 'longer than declared');
  assert.equal(run('9', ['ab', 'cd']), 'abcd', 'shorter than declared');
  assert.equal(run('-1', ['x']), 'x');
  assert.equal(run(String(2 ** 40), ['y']), 'y', 'a huge declared length is not allocated');
});

test('BodyCollector receives into the caller\'s buffer when the declared body fits there, else into its own', () => {
  const into = new Uint8Array(new SharedArrayBuffer(8));
  const fits = new BodyCollector(into);
  fits.expect('4');
  fits.add(Buffer.from('wxyz'));
  const a = fits.body();
  assert.equal(a.toString(), 'wxyz');
  assert.equal(a.buffer, into.buffer, 'no allocation: a view of the caller\'s buffer');
  const big = new BodyCollector(into);
  big.expect('9');
  big.add(Buffer.from('123456789'));
  const b = big.body();
  assert.equal(b.toString(), '123456789');
  assert.notEqual(b.buffer, into.buffer);
});

test('H2Session.destroy drops its socket at once, not once the writes queued on it have gone out', async () => {
  // a peer that takes the connection and reads nothing: what the client queues never drains
  const server = net.createServer((s) => s.pause());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const h2 = H2Session.start(socket, Buffer.alloc(0), `127.0.0.1:${port}`);
  const pending = h2.request('POST', 'blob', {}, Buffer.alloc(1024 * 1024, 1));
  h2.destroy();
  assert.equal(socket.destroyed, true, 'the socket outlived destroy()');
  await assert.rejects(pending, (e: Error) => /lost|closed/.test(e.message));
  server.close();
});
