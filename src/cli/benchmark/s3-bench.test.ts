import { test } from 'node:test';
import assert from 'node:assert/strict';
import { medianProbe, STORE_SATURATED, storeBusyShare, storeLoadText } from './s3-bench.ts';
import type { ProbeResult } from '../../chunks/s3-throughput-probe.ts';

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

test('medianProbe takes the median PUT and the median GET separately, the upper middle of an even count (the yardstick never flatters)', () => {
  const probe = (put: number, get: number): ProbeResult => ({
    objectSize: 4 << 20,
    concurrency: 8,
    put: { objects: 16, bytes: 1e8, seconds: 1e8 / put, throughput: put },
    get: { objects: 16, bytes: 1e8, seconds: 1e8 / get, throughput: get },
  });
  const m = medianProbe([probe(190e6, 300e6), probe(150e6, 250e6), probe(170e6, 400e6)]);
  assert.equal(m.put.throughput, 170e6);
  assert.equal(m.get.throughput, 300e6);
  assert.equal(medianProbe([probe(100, 400), probe(200, 300)]).put.throughput, 200);
  assert.equal(medianProbe([probe(100, 400), probe(200, 300)]).get.throughput, 400);
  assert.equal(medianProbe([probe(5, 6)]).put.throughput, 5);
  assert.throws(() => medianProbe([]), /no probe/);
});
