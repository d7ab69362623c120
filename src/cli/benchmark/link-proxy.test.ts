import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { defaultBufferBytes, LinkProxy, type LinkConnection } from './link-proxy.ts';

const MIB = 1024 * 1024;

/** Deterministic bytes (xorshift32), different per seed. */
function bytes(size: number, seed: number): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return Buffer.from(words.buffer, 0, size);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Reads a socket to its end; resolves with everything it sent. */
async function readAll(s: net.Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  s.on('data', (d: Buffer) => parts.push(d));
  await once(s, 'end');
  return Buffer.concat(parts);
}

async function listen(onConnection: (s: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, onConnection);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port;

test('LinkProxy passes bytes intact and in order both ways at once, with delay, rate and half-close', async () => {
  const toTarget = bytes(3 * MIB + 7, 1);
  const toClient = bytes(5 * MIB + 3, 2);
  let targetGot: Promise<Buffer> | undefined;
  const target = await listen((s) => {
    targetGot = readAll(s);
    s.end(toClient);
  });
  const proxy = await LinkProxy.start({ target: { host: '127.0.0.1', port: portOf(target) }, delayMs: 5, rateBitsPerSec: 2e9 });
  try {
    const client = net.connect({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true });
    const clientGot = readAll(client);
    client.end(toTarget);
    const got = await clientGot;
    assert.equal(got.length, toClient.length);
    assert.equal(sha(got), sha(toClient));
    const sent = await targetGot!;
    assert.equal(sent.length, toTarget.length);
    assert.equal(sha(sent), sha(toTarget));
    const [c] = proxy.connections;
    assert.deepEqual([c!.up.stats.bytes, c!.down.stats.bytes], [toTarget.length, toClient.length]);
  } finally {
    await proxy.close();
    target.close();
  }
});

test('LinkProxy keeps a direction whose receiver stops reading within its buffer bound, and the other direction flowing', async () => {
  const bufferBytes = 256 * 1024;
  const upData = bytes(32 * MIB, 3);
  const downData = bytes(2 * MIB, 4);
  let resolveTarget: (s: net.Socket) => void = () => undefined;
  const connected = new Promise<net.Socket>((resolve) => (resolveTarget = resolve));
  const server = await listen((s) => {
    s.pause(); // reads nothing until the test says so
    resolveTarget(s);
  });
  const proxy = await LinkProxy.start({ target: { host: '127.0.0.1', port: portOf(server) }, delayMs: 1, bufferBytes });
  const conn = once(proxy, 'connection') as Promise<[LinkConnection]>;
  try {
    const client = net.connect({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true });
    const clientGot = readAll(client);
    client.end(upData);
    const [{ up, down }] = await conn;
    await once(up, 'pause'); // the proxy stopped reading the client: backpressure, not buffering
    assert.ok(up.stats.maxHeld <= bufferBytes + up.stats.maxRead, `held ${up.stats.maxHeld} bytes`);
    // the stalled direction does not hold the other one up
    const target = await connected;
    target.end(downData);
    const got = await clientGot;
    assert.equal(sha(got), sha(downData));
    assert.equal(down.stats.bytes, downData.length);
    const targetGot = readAll(target);
    target.resume();
    const sent = await targetGot;
    assert.equal(sent.length, upData.length);
    assert.equal(sha(sent), sha(upData));
    assert.ok(up.stats.pauses >= 1);
    assert.ok(up.stats.maxHeld <= bufferBytes + up.stats.maxRead, `held ${up.stats.maxHeld} bytes`);
  } finally {
    await proxy.close();
    server.close();
  }
});

test('LinkProxy closes the client when its target refuses the connection', async () => {
  const spare = await listen(() => undefined);
  const port = portOf(spare);
  await new Promise((r) => spare.close(r));
  const proxy = await LinkProxy.start({ target: { host: '127.0.0.1', port }, delayMs: 1 });
  try {
    const client = net.connect({ host: '127.0.0.1', port: proxy.port });
    client.on('error', () => undefined);
    await once(client, 'close');
  } finally {
    await proxy.close();
  }
});

test('defaultBufferBytes holds 1.5 × the one-way bytes in flight plus 1 MiB', () => {
  assert.equal(defaultBufferBytes({ delayMs: 50, rateBitsPerSec: 1e9 }), 1.5 * 6_250_000 + MIB);
  assert.equal(defaultBufferBytes({ delayMs: 50, sizingRateBitsPerSec: 1e8 }), 1.5 * 625_000 + MIB);
  assert.equal(defaultBufferBytes({ delayMs: 0 }), MIB);
});

test('LinkProxy.start refuses a negative delay or a zero rate', async () => {
  await assert.rejects(LinkProxy.start({ target: { host: '127.0.0.1', port: 1 }, delayMs: -1 }), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(LinkProxy.start({ target: { host: '127.0.0.1', port: 1 }, delayMs: 1, rateBitsPerSec: 0 }), { code: 'INVALID_ARGUMENT' });
});
