import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from './token-bucket.ts';

function fakeClock(): { now: () => number; sleep: (ms: number) => Promise<void>; slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    now: () => t,
    slept,
    sleep: (ms) => {
      slept.push(ms);
      t += ms;
      return Promise.resolve();
    },
  };
}

test('TokenBucket.take lets a burst through at once, then holds the long-run rate', async () => {
  const c = fakeClock();
  const b = new TokenBucket({ rate: 1000, burst: 2000, now: c.now, sleep: c.sleep });
  await b.take(2000);
  assert.deepEqual(c.slept, [], 'the burst is free');
  for (let i = 0; i < 10; i++) await b.take(500);
  assert.equal(c.now(), 5000, '5000 bytes beyond the burst at 1000/s take 5 s');
  assert.equal(b.taken, 7000);
});

test('TokenBucket.take of more than the burst is allowed and paid back in time', async () => {
  const c = fakeClock();
  const b = new TokenBucket({ rate: 100, now: c.now, sleep: c.sleep });
  await b.take(1100);
  assert.deepEqual(c.slept, [10_000]);
  await b.take(100);
  assert.deepEqual(c.slept, [10_000, 1000], 'the bucket was empty after paying the debt');
});
