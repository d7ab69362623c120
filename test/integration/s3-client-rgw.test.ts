// S3ObjectClient against the real S3 server (scripts/ceph-rgw-up.sh); skips with a reason without one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { md5Of } from '../../src/chunks/s3-client.ts';
import { s3SkipReason, s3TestConfig, withTestBucket } from '../helpers/s3-env.ts';

const skip = s3SkipReason;

test('S3ObjectClient on a real S3: conditional PUT, GET, HEAD with the MD5 ETag, copy, list, delete', { skip }, () =>
  withTestBucket(async (client) => {
    const bytes = new Uint8Array(3 << 20).fill(42);
    assert.equal(await client.putIfAbsent('st/.chunks/abcd/one', bytes), 'stored');
    assert.equal(await client.putIfAbsent('st/.chunks/abcd/one', bytes), 'exists');
    const head = await client.head('st/.chunks/abcd/one');
    assert.equal(head?.size, bytes.length);
    assert.equal(head?.etag, md5Of(bytes).hex);
    assert.deepEqual(await client.get('st/.chunks/abcd/one'), bytes);
    assert.equal(await client.copy('st/.chunks/abcd/one', 'st/.chunks/abcd/one.0.bad'), true);
    assert.equal(await client.copy('st/.chunks/abcd/missing', 'st/x'), false);
    const listed: string[] = [];
    for await (const o of client.list('st/')) listed.push(o.key);
    assert.deepEqual(listed.sort(), ['st/.chunks/abcd/one', 'st/.chunks/abcd/one.0.bad']);
    await client.delete('st/.chunks/abcd/one');
    await client.delete('st/.chunks/abcd/one'); // idempotent
    assert.equal(await client.get('st/.chunks/abcd/one'), undefined);
    const c = client.counters();
    assert.equal(c.uploadBytes, 2 * bytes.length);
    assert.equal(c.downloadBytes, bytes.length);
    assert.ok(c.put >= 3 && c.get >= 2 && c.head === 1 && c.delete === 2, JSON.stringify(c));
  }));

test('S3ObjectClient.list on a real S3 follows continuation past 1000 keys, and deleteMany removes them all', { skip }, () =>
  withTestBucket(async (client) => {
    const keys = Array.from({ length: 1003 }, (_, i) => `p/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 64) await Promise.all(keys.slice(i, i + 64).map((k) => client.put(k, new Uint8Array([1]))));
    const seen = new Set<string>();
    for await (const o of client.list('p/')) seen.add(o.key);
    assert.equal(seen.size, 1003);
    await client.deleteMany(keys);
    for await (const o of client.list('p/')) assert.fail(`left over: ${o.key}`);
  }));

test('S3ObjectClient on a real S3: a 4 MiB PUT signed with its worker-computed payload SHA-256 is accepted and stored intact', { skip }, () =>
  withTestBucket(async (client) => {
    const body = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 131 + (i >> 12)) & 0xff);
    assert.equal(await client.putIfAbsent('big/one', body), 'stored');
    await client.put('big/two', body);
    for (const key of ['big/one', 'big/two']) {
      assert.equal((await client.head(key))?.etag, md5Of(body).hex);
      assert.deepEqual(await client.get(key), body);
    }
  }));

test('S3ObjectClient on a real S3 signs a SHA-256 the caller computed (the chunk check\'s): the right one stores, a wrong one is refused and stores nothing', { skip }, () =>
  withTestBucket(async (client) => {
    const body = new Uint8Array(1 << 20).map((_, i) => (i * 31 + (i >> 10)) & 0xff);
    const right = createHash('sha256').update(body).digest('hex');
    assert.equal(await client.putIfAbsent('given/right', body, right), 'stored');
    assert.deepEqual(await client.get('given/right'), body);
    const wrong = createHash('sha256').update('other bytes').digest('hex');
    await assert.rejects(client.putIfAbsent('given/wrong', body, wrong), { code: 'OBJECT_STORE_ERROR' });
    await assert.rejects(client.put('given/wrong', body, wrong), { code: 'OBJECT_STORE_ERROR' });
    assert.equal(await client.head('given/wrong'), undefined, 'nothing stored under a hash that is not of the body');
  }));

test('a real S3 refuses a PUT body damaged after signing: the signed payload SHA-256 is what protects chunk uploads (no Content-MD5)', { skip }, () =>
  withTestBucket(async (_client, bucket) => {
    const config = s3TestConfig(bucket);
    const sdk = new S3Client({ endpoint: config.endpoint, region: config.region, forcePathStyle: true, credentials: { accessKeyId: config.accessKey, secretAccessKey: config.secretKey }, requestChecksumCalculation: 'WHEN_REQUIRED', maxAttempts: 1 });
    const body = Buffer.alloc(1 << 20, 7);
    const sha256Hex = createHash('sha256').update(body).digest('hex');
    const put = (key: string, damage: boolean): Promise<unknown> => {
      const cmd = new PutObjectCommand({ Bucket: bucket, Key: key, Body: body });
      // what S3ObjectClient does: the payload hash in the header the signer signs
      cmd.middlewareStack.add((next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] = sha256Hex;
        return next(args);
      }, { step: 'build', name: 'payloadHash' });
      // a byte flipped on the way, after the signature was made
      cmd.middlewareStack.add((next) => async (args) => {
        const request = args.request as { body: Uint8Array };
        if (damage) request.body = Buffer.from(request.body).fill(8, 100, 101);
        return next(args);
      }, { step: 'finalizeRequest', name: 'damage', priority: 'low' });
      return sdk.send(cmd);
    };
    try {
      await put('intact', false);
      await assert.rejects(put('damaged', true), (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 400);
      const listed: string[] = [];
      for await (const o of _client.list('')) listed.push(o.key);
      assert.deepEqual(listed, ['intact'], 'the damaged body was not stored');
    } finally {
      sdk.destroy();
    }
  }));
