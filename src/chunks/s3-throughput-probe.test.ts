import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryS3Objects } from '../../test/helpers/memory-s3-objects.ts';
import { s3SkipReason, withTestBucket } from '../../test/helpers/s3-env.ts';
import { probeS3Throughput } from './s3-throughput-probe.ts';

test('probeS3Throughput PUTs then GETs count objects of the given size, reports bytes per second and deletes them', async () => {
  const s3 = new MemoryS3Objects();
  let clock = 0;
  const r = await probeS3Throughput(s3, { objectSize: 1000, count: 5, concurrency: 2, prefix: 'probe/', now: () => (clock += 500) });
  assert.deepEqual(r.put, { objects: 5, bytes: 5000, seconds: 0.5, throughput: 10_000 });
  assert.equal(r.get.bytes, 5000);
  assert.equal(s3.requests.filter((q) => q.startsWith('PUT probe/')).length, 5);
  assert.equal(s3.requests.filter((q) => q.startsWith('GET probe/')).length, 5);
  assert.equal(s3.objects.size, 0);
});

test('probeS3Throughput refuses a zero count or concurrency', async () => {
  await assert.rejects(probeS3Throughput(new MemoryS3Objects(), { count: 0 }), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(probeS3Throughput(new MemoryS3Objects(), { concurrency: 0 }), { code: 'INVALID_ARGUMENT' });
});

test('probeS3Throughput on a real S3 server moves 4 MiB objects and leaves nothing behind', { skip: s3SkipReason }, () =>
  withTestBucket(async (client) => {
    const r = await probeS3Throughput(client, { count: 4, concurrency: 2 });
    assert.equal(r.put.bytes, 4 * 4 * 1024 * 1024);
    assert.ok(r.put.throughput > 0 && r.get.throughput > 0);
    for await (const o of client.list('')) assert.fail(`left over: ${o.key}`);
  }));
