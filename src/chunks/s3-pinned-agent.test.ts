import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { S3ObjectClient } from './s3-client.ts';

/** A self-signed https server that counts the requests that reached it. */
async function selfSignedServer(fn: (url: string, fingerprint: string, hits: () => number) => Promise<void>): Promise<void> {
  const pems = await generate([{ name: 'commonName', value: 'rgw' }], { keyType: 'ec', algorithm: 'sha256' });
  let hits = 0;
  const server = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    hits++;
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-length': '2' }).end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn(`https://127.0.0.1:${(server.address() as AddressInfo).port}`, new X509Certificate(pems.cert).fingerprint256.toLowerCase(), () => hits);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const client = (endpoint: string, fingerprint: string) =>
  new S3ObjectClient({ endpoint, fingerprint, region: 'us-east-1', accessKey: 'AK', secretKey: 'SK', pathStyle: true, bucket: 'bk', retries: 0 });

test('PinnedHttpsAgent lets requests through to a self-signed server whose fingerprint is pinned', () =>
  selfSignedServer(async (url, fp, hits) => {
    const c = client(url, fp.toUpperCase());
    assert.equal(Buffer.from((await c.get('k'))!).toString(), 'ok');
    assert.equal(hits(), 1);
    c.destroy();
  }));

test('PinnedHttpsAgent refuses a certificate with another fingerprint before any request is sent', () =>
  selfSignedServer(async (url, _fp, hits) => {
    const c = client(url, Array(32).fill('00').join(':'));
    await assert.rejects(c.get('k'), (e: Error & { code?: string; cause?: Error & { code?: string } }) => e.code === 'OBJECT_STORE_ERROR' && e.cause?.code === 'UNTRUSTED_CERTIFICATE');
    assert.equal(hits(), 0);
    c.destroy();
  }));
