import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPool } from './worker-pool.ts';

const ENCODER = new URL('../remote/chunk-encoder-worker.ts', import.meta.url);

test('WorkerPool starts a worker only when a job finds none idle, never more than its size; warm starts them all', async () => {
  const pool = new WorkerPool(ENCODER, 2);
  try {
    assert.equal(pool.started, 0, 'no worker before the first job');
    const region = new Uint8Array(new SharedArrayBuffer(1024));
    const job = { op: 'digest', region, length: 100, keyHex: undefined };
    await pool.run(job);
    assert.equal(pool.started, 1, 'one job, one worker');
    await Promise.all([pool.run(job), pool.run(job), pool.run(job)]);
    assert.equal(pool.started, 2, 'at most size');
  } finally {
    await pool.close();
  }
  const warm = new WorkerPool(ENCODER, 2).warm(1);
  try {
    assert.equal(warm.started, 1);
    assert.equal(warm.warm().started, 2);
    assert.equal(warm.warm(5).started, 2, 'never more than its size');
  } finally {
    await warm.close();
  }
});

test('a job that cannot be handed over (an uncloneable value) fails, and the worker takes the next job', async () => {
  const pool = new WorkerPool(ENCODER, 1);
  try {
    const region = new Uint8Array(new SharedArrayBuffer(1024));
    const job = { op: 'digest', region, length: 100, keyHex: undefined };
    await pool.run(job);
    await assert.rejects(pool.run({ ...job, extra: () => undefined }), /cannot hand a job to a worker thread/);
    await pool.run(job); // the one worker is idle again, not waiting for an answer that cannot come
    assert.equal(pool.started, 1);
  } finally {
    await pool.close();
  }
});
