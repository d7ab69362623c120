import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientConfigFor, S3ObjectClient } from './s3-client.ts';
import { createHash } from 'node:crypto';

/** What the fake S3 saw of one request, and how to answer it. */
interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}
type Answer = (req: Seen, res: ServerResponse) => void;

const xmlError = (status: number, code: string): Answer => (_q, res) => {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
};
const ok = (body = '', headers: Record<string, string> = {}): Answer => (_q, res) => {
  res.writeHead(200, headers);
  res.end(body);
};
const hangUp: Answer = (_q, res) => res.socket?.destroy();
const silent: Answer = () => undefined;

/** A loopback HTTP server that answers the queued responses in order and records every request. */
async function fakeS3(answers: Answer[], fn: (client: S3ObjectClient, seen: Seen[]) => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(parts) };
      seen.push(s);
      (answers.shift() ?? xmlError(500, 'NoMoreAnswers'))(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new S3ObjectClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKey: 'AK',
    secretKey: 'SK',
    pathStyle: true,
    bucket: 'bk',
    retries: 3,
    sleep: async () => undefined,
    requestTimeoutMs: timeoutMs,
  });
  try {
    await fn(client, seen);
  } finally {
    client.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const BYTES = new Uint8Array([1, 2, 3, 4, 5]);

test('S3ObjectClient.putIfAbsent sends If-None-Match and the signed payload SHA-256 (no Content-MD5), retries 5xx and counts every attempt', () =>
  fakeS3([xmlError(500, 'InternalError'), xmlError(503, 'SlowDown'), ok()], async (client, seen) => {
    assert.equal(await client.putIfAbsent('st/.chunks/0102/x', BYTES), 'stored');
    assert.equal(seen.length, 3);
    for (const s of seen) {
      assert.equal(s.method, 'PUT');
      assert.equal(new URL(s.url, 'http://h').pathname, '/bk/st/.chunks/0102/x');
      assert.equal(s.headers['if-none-match'], '*');
      assert.equal(s.headers['content-md5'], undefined);
      assert.equal(s.headers['x-amz-content-sha256'], createHash('sha256').update(BYTES).digest('hex'));
      assert.match(String(s.headers['authorization']), /SignedHeaders=[^,]*x-amz-content-sha256/);
      assert.deepEqual([...s.body], [...BYTES]);
    }
    assert.deepEqual(client.counters(), { get: 0, put: 3, post: 0, head: 0, delete: 0, uploadBytes: 15, downloadBytes: 0 });
  }));

test('S3ObjectClient.putIfAbsent answers exists on 412, also when a retry follows a cut connection', () =>
  fakeS3([xmlError(412, 'PreconditionFailed'), hangUp, xmlError(412, 'PreconditionFailed')], async (client) => {
    assert.equal(await client.putIfAbsent('k1', BYTES), 'exists');
    // the first attempt's outcome is unknown (it may have landed): the retry's 412 is the truth
    assert.equal(await client.putIfAbsent('k2', BYTES), 'exists');
  }));

test('S3ObjectClient.putIfAbsent rejects with OBJECT_STORE_ERROR when every attempt fails, never acknowledging', () =>
  fakeS3([hangUp, hangUp, hangUp, hangUp], async (client, seen) => {
    await assert.rejects(client.putIfAbsent('k', BYTES), (e: Error & { code?: string; details?: Record<string, unknown> }) => e.code === 'OBJECT_STORE_ERROR' && e.details?.['outcome'] === 'unknown');
    assert.equal(seen.length, 4);
  }));

test('S3ObjectClient refuses at once on 403 without retrying', () =>
  fakeS3([xmlError(403, 'AccessDenied')], async (client, seen) => {
    await assert.rejects(client.put('k', BYTES), (e: Error & { code?: string; details?: Record<string, unknown> }) => e.code === 'OBJECT_STORE_ERROR' && e.details?.['status'] === 403);
    assert.equal(seen.length, 1);
  }));

test('S3ObjectClient.get aborts an attempt that gets no answer within the request timeout, and retries', () =>
  fakeS3(
    [silent, ok('hello', { 'content-length': '5' })],
    async (client, seen) => {
      assert.equal(Buffer.from((await client.get('k'))!).toString(), 'hello');
      assert.equal(seen.length, 2);
      assert.equal(client.counters().get, 2);
      assert.equal(client.counters().downloadBytes, 5);
    },
    200,
  ));

test('S3ObjectClient.get and head answer undefined for a missing key', () =>
  fakeS3([xmlError(404, 'NoSuchKey'), (_q, res) => (res.writeHead(404), res.end())], async (client) => {
    assert.equal(await client.get('nope'), undefined);
    assert.equal(await client.head('nope'), undefined);
  }));

test('S3ObjectClient.list follows continuation tokens across pages', () => {
  const page = (keys: string[], next?: string): Answer =>
    ok(
      `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>bk</Name><IsTruncated>${next ? 'true' : 'false'}</IsTruncated>` +
        (next ? `<NextContinuationToken>${next}</NextContinuationToken>` : '') +
        keys.map((k) => `<Contents><Key>${k}</Key><LastModified>2026-12-03T14:00:00.000Z</LastModified><Size>7</Size></Contents>`).join('') +
        '</ListBucketResult>',
      { 'content-type': 'application/xml' },
    );
  return fakeS3([page(['p/a', 'p/b'], 'tok1'), page(['p/c'])], async (client, seen) => {
    const keys: string[] = [];
    for await (const o of client.list('p/')) keys.push(o.key);
    assert.deepEqual(keys, ['p/a', 'p/b', 'p/c']);
    assert.match(seen[1]!.url, /continuation-token=tok1/);
    assert.equal(client.counters().get, 2);
  });
});

test('S3ObjectClient against a port where nothing listens rejects with OBJECT_STORE_ERROR after its retries', async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const slept: number[] = [];
  const client = new S3ObjectClient({
    ...clientConfigFor({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', accessKey: 'AK', pathStyle: true }, 'SK', 'bk'),
    sleep: async (ms) => void slept.push(ms),
  });
  try {
    await assert.rejects(client.putIfAbsent('k', BYTES), (e: Error & { code?: string; details?: Record<string, unknown> }) => e.code === 'OBJECT_STORE_ERROR' && e.details?.['attempts'] === 4);
    assert.equal(slept.length, 3);
    assert.equal(client.counters().put, 4);
  } finally {
    client.destroy();
  }
});

test('clientConfigFor fills the {{bucket}} and {{region}} templates and carries the pin', () => {
  const fp = Array(32).fill('ab').join(':');
  assert.deepEqual(clientConfigFor({ endpoint: 'https://{{bucket}}.s3.{{region}}.example.com', region: 'eu-1', accessKey: 'AK', pathStyle: false, fingerprint: fp }, 'SK', 'bk'), {
    endpoint: 'https://bk.s3.eu-1.example.com',
    region: 'eu-1',
    accessKey: 'AK',
    secretKey: 'SK',
    pathStyle: false,
    bucket: 'bk',
    fingerprint: fp,
  });
});
