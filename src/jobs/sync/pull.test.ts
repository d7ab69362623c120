import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inParallel, mapNamespace, selectSnapshots } from './pull.ts';
import { pullWindow } from './pull-snapshot.ts';
import type { RemoteSnapshot } from './remote-api.ts';

test('mapNamespace maps a namespace below one start to the same path below the other', () => {
  assert.equal(mapNamespace('', '', ''), '');
  assert.equal(mapNamespace('a/b', '', 'mirror'), 'mirror/a/b');
  assert.equal(mapNamespace('prod', 'prod', 'copy'), 'copy');
  assert.equal(mapNamespace('prod/deep', 'prod', ''), 'deep');
  assert.equal(mapNamespace('prod/deep/x', 'prod', 'm/n'), 'm/n/deep/x');
});

const snap = (time: number, verifyState?: string, encrypted = false): RemoteSnapshot => ({ ref: { ns: '', type: 'vm', id: '1', time }, verifyState, encrypted, protected: false });

test('selectSnapshots applies verified-only and encrypted-only, then keeps the newest transfer-last', () => {
  const list = [snap(1, 'ok', true), snap(2, 'failed', true), snap(3, undefined, true), snap(4, 'ok', false), snap(5, 'ok', true)];
  const times = (o: Parameters<typeof selectSnapshots>[1]): number[] => selectSnapshots(list, o).map((s) => s.ref.time);
  assert.deepEqual(times({ verifiedOnly: false, encryptedOnly: false }), [1, 2, 3, 4, 5]);
  assert.deepEqual(times({ verifiedOnly: true, encryptedOnly: false }), [1, 4, 5]);
  assert.deepEqual(times({ verifiedOnly: false, encryptedOnly: true }), [1, 2, 3, 5]);
  assert.deepEqual(times({ verifiedOnly: true, encryptedOnly: true, transferLast: 1 }), [5]);
  assert.deepEqual(times({ verifiedOnly: false, encryptedOnly: false, transferLast: 2 }), [4, 5]);
});

test('inParallel runs at most N items at once and every item once (worker-threads)', async () => {
  for (const n of [1, 3]) {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    const gates: (() => void)[] = [];
    const done = inParallel([1, 2, 3, 4, 5, 6, 7], n, async (i) => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((r) => gates.push(r));
      seen.push(i);
      running--;
    });
    while (seen.length < 7) {
      await new Promise((r) => setImmediate(r));
      assert.ok(gates.length <= n);
      gates.splice(0).forEach((g) => g());
    }
    await done;
    assert.equal(most, n);
    assert.deepEqual([...seen].sort(), [1, 2, 3, 4, 5, 6, 7]);
  }
});

test('pullWindow keeps twice the link target\'s BDP in flight by the mean chunk size, within the read-ahead bounds', () => {
  const chunks = (size: number, n = 10) => Array.from({ length: n }, () => ({ digest: new Uint8Array(32), size }));
  const target = { rateBitsPerSec: 1e9, rttMs: 100 }; // 2 × BDP = 25 MB
  assert.equal(pullWindow(chunks(4 * 1024 * 1024), target), 8, '4 MiB chunks: the LAN minimum already covers it');
  assert.equal(pullWindow(chunks(1024 * 1024), target), 24);
  assert.equal(pullWindow(chunks(64 * 1024), target), 30, 'small chunks: capped by the server\'s stream limit');
  assert.equal(pullWindow([], target), 8);
  assert.equal(pullWindow(chunks(1024 * 1024), { rateBitsPerSec: 1e8, rttMs: 10 }), 8, 'a short link needs no more than the minimum');
});
