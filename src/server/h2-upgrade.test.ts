import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { fail } from '../core/errors.ts';
import { silentLogger } from '../core/log.ts';
import { ANSWER_PIECE, BACKUP_PROTOCOL, H2_BODY_LIMIT, ProtocolRegistry, READER_PROTOCOL, serveH2, writeUpgradeError, type ProtocolSession } from './h2-upgrade.ts';

const noSession: ProtocolSession = { handle: async () => ({ json: null }), onClose: async () => undefined };

test('ProtocolRegistry.find matches path and Upgrade header, with PBS default paths', () => {
  const reg = new ProtocolRegistry();
  reg.register(BACKUP_PROTOCOL, async () => noSession);
  reg.register(READER_PROTOCOL, async () => noSession);
  reg.register('x-test', async () => noSession, '/api2/json/test');
  assert.equal(reg.find('/api2/json/backup', BACKUP_PROTOCOL).name, BACKUP_PROTOCOL);
  assert.equal(reg.find('/api2/json/reader', READER_PROTOCOL).path, '/api2/json/reader');
  assert.throws(() => reg.find('/api2/json/backup', READER_PROTOCOL), { code: 'PROTOCOL_ERROR' });
  assert.throws(() => reg.find('/api2/json/nothing', BACKUP_PROTOCOL), { code: 'NOT_FOUND' });
  assert.throws(() => reg.register('x-unknown', async () => noSession), { code: 'INVALID_ARGUMENT' });
});

test('writeUpgradeError answers with an HTTP/1.1 status line, the code header and a JSON body', async () => {
  const sink = new PassThrough();
  writeUpgradeError(sink, fail('FORBIDDEN', 'no backup privilege'));
  const text = (await sink.toArray()).map((c: Buffer) => c.toString()).join('');
  assert.match(text, /^HTTP\/1\.1 403 Forbidden\r\n/);
  assert.match(text, /\r\nx-holdfast-error-code: FORBIDDEN\r\n/);
  assert.deepEqual(JSON.parse(text.split('\r\n\r\n')[1] ?? ''), { data: null, message: 'no backup privilege', code: 'FORBIDDEN', details: {} });
});

/** serveH2 on one end of a TCP pair, an h2 client on the other. */
async function pair(session: ProtocolSession): Promise<{ client: http2.ClientHttp2Session; closed: Promise<void>; done: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const client = http2.connect(`http://127.0.0.1:${port}`);
  client.on('error', () => undefined);
  const conn = serveH2(await accepted, session, silentLogger);
  return { client, closed: conn.closed, done: () => new Promise((resolve) => server.close(() => resolve())) };
}

function send(client: http2.ClientHttp2Session, path: string, body?: Buffer): Promise<{ status: number; code: unknown; text: string }> {
  return new Promise((resolve, reject) => {
    const req = client.request({ ':method': 'POST', ':path': path });
    let status = 0;
    let code: unknown;
    const parts: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
      code = h['x-holdfast-error-code'];
    });
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve({ status, code, text: Buffer.concat(parts).toString() }));
    req.on('error', reject);
    req.end(body);
  });
}

test('serveH2 passes path without slash, query and body; errors become status + plain message', async () => {
  const seen: unknown[] = [];
  const { client, closed, done } = await pair({
    handle: async (method, path, query, body) => {
      seen.push([method, path, query, Buffer.from(await body.bytes()).toString()]);
      if (path === 'bad') throw fail('UNKNOWN_CHUNK', 'no such chunk');
      return { json: { ok: true } };
    },
    onClose: async () => undefined,
  });
  const ok = await send(client, '/dynamic_index?wid=1&x=a', Buffer.from('{"a":1}'));
  assert.deepEqual([ok.status, JSON.parse(ok.text)], [200, { data: { ok: true } }]);
  const bad = await send(client, '/bad');
  assert.deepEqual(bad, { status: 400, code: 'UNKNOWN_CHUNK', text: 'no such chunk' });
  assert.deepEqual(seen, [
    ['POST', 'dynamic_index', { wid: '1', x: 'a' }, '{"a":1}'],
    ['POST', 'bad', {}, ''],
  ]);
  client.close();
  await closed;
  await done();
});

test('serveH2 runs onClose once, after in-flight handlers have settled', async () => {
  const events: string[] = [];
  let release: () => void = () => undefined;
  let entered: () => void = () => undefined;
  const inHandler = new Promise<void>((resolve) => (entered = resolve));
  const { client, closed, done } = await pair({
    handle: async () => {
      entered();
      await new Promise<void>((resolve) => (release = resolve));
      events.push('handler done');
      return { json: null };
    },
    onClose: async () => {
      events.push('onClose');
    },
  });
  void send(client, '/slow').catch(() => undefined);
  await inHandler;
  client.destroy();
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.deepEqual(events, []);
  release();
  await closed;
  assert.deepEqual(events, ['handler done', 'onClose']);
  await done();
});

test('serveH2 accepts a body of H2_BODY_LIMIT bytes (a 16 MiB chunk and header) and refuses one byte more', async () => {
  const { client, closed, done } = await pair({
    handle: async (_m, _p, _q, body) => ({ json: (await body.bytes()).length }),
    onClose: async () => undefined,
  });
  const ok = await send(client, '/dynamic_chunk', Buffer.alloc(H2_BODY_LIMIT, 1));
  assert.deepEqual([ok.status, JSON.parse(ok.text)], [200, { data: H2_BODY_LIMIT }]);
  const big = await send(client, '/dynamic_chunk', Buffer.alloc(H2_BODY_LIMIT + 1, 1));
  assert.equal(big.status, 400);
  assert.equal(big.code, 'INVALID_ARGUMENT');
  client.close();
  await closed;
  await done();
});

test('serveH2 reads a body into a buffer of its own, refuses a longer one, and discards one nobody read', async () => {
  const { client, closed, done } = await pair({
    handle: async (_m, path, _q, body) => {
      if (path === 'ignore') return { json: 'ignored' };
      const dest = new Uint8Array(new SharedArrayBuffer(1000));
      const n = await body.into(dest);
      return { json: [n, dest[0], dest[n - 1]] };
    },
    onClose: async () => undefined,
  });
  const body = Buffer.alloc(1000, 7);
  body[999] = 9;
  const ok = await send(client, '/into', body);
  assert.deepEqual([ok.status, JSON.parse(ok.text)], [200, { data: [1000, 7, 9] }]);
  const long = await send(client, '/into', Buffer.alloc(5 * 1024 * 1024, 1));
  assert.deepEqual([long.status, long.code], [400, 'SIZE_MISMATCH']);
  const ignored = await send(client, '/ignore', Buffer.alloc(3 * 1024 * 1024, 1));
  assert.deepEqual([ignored.status, JSON.parse(ignored.text)], [200, { data: 'ignored' }]);
  const again = await send(client, '/into', body);
  assert.equal(again.status, 200, 'the session still works');
  client.close();
  await closed;
  await done();
});

/** GET `path`; resolves with the whole body once `go` (default: at once) lets it be read. */
function fetchBody(client: http2.ClientHttp2Session, path: string, go: Promise<void> = Promise.resolve()): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = client.request({ ':method': 'GET', ':path': path });
    const parts: Buffer[] = [];
    req.pause();
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
    void go.then(() => req.resume());
  });
}

test('serveH2 sends large byte answers whole and in order, several at once, to a reader in any order', async () => {
  const answers = new Map<string, Buffer>();
  for (const [name, size] of [['a', ANSWER_PIECE * 6 + 123], ['b', ANSWER_PIECE * 3], ['c', ANSWER_PIECE - 1], ['d', 5 * 1024 * 1024]] as const) {
    answers.set(name, Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + name.charCodeAt(0)) & 255)));
  }
  const { client, closed, done } = await pair({ handle: async (_m, path) => ({ stream: answers.get(path)! }), onClose: async () => undefined });
  // `a` is not read until `d` has arrived whole: its answer must not hold the others back
  let dDone: () => void = () => undefined;
  const dArrived = new Promise<void>((resolve) => (dDone = resolve));
  const a = fetchBody(client, '/a', dArrived);
  const [b, c, d] = await Promise.all([fetchBody(client, '/b'), fetchBody(client, '/c'), fetchBody(client, '/d')]);
  dDone();
  assert.ok(b.equals(answers.get('b')!) && c.equals(answers.get('c')!) && d.equals(answers.get('d')!), 'b, c and d arrive intact');
  assert.ok((await a).equals(answers.get('a')!), 'a arrives intact after the others');
  client.close();
  await closed;
  await done();
});
