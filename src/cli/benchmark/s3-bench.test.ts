import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_SATURATED, storeBusyShare, storeLoadText } from './s3-bench.ts';

test('storeBusyShare is the CPU time over the wall time of its cores', () => {
  assert.equal(storeBusyShare({ cpuSeconds: 5, wallSeconds: 10, cores: 1 }), 0.5);
  assert.equal(storeBusyShare({ cpuSeconds: 5, wallSeconds: 10, cores: 2 }), 0.25);
  assert.equal(storeBusyShare({ cpuSeconds: 5, wallSeconds: 0, cores: 1 }), 0);
});

test('storeLoadText names a saturated store as what bounded the run, and only then', () => {
  const busy = storeLoadText({ cpuSeconds: 9.8, wallSeconds: 10, cores: 1 });
  assert.match(busy, /^9\.8 CPU-s in 10\.00 s, 98% of its 1 core: saturated, so the store bounded this run, not Holdfast$/);
  const idle = storeLoadText({ cpuSeconds: 7, wallSeconds: 10, cores: 2 });
  assert.equal(idle, '7.0 CPU-s in 10.00 s, 35% of its 2 cores');
  assert.ok(STORE_SATURATED > 0.5 && STORE_SATURATED < 1);
});
