/**
 * The bounded fuzz run of the normal test suite (issue #11 item 11): a few thousand mutated
 * inputs per decoder and a few hundred request scripts against the backup protocol, with a fixed
 * seed. Long campaigns: `npm run fuzz -- --count N` (scripts/fuzz.ts; results in docs/fuzzing.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz, type FuzzReport } from './fuzzer.ts';
import { backupProtocolTarget, DECODER_TARGETS } from './targets.ts';

const SEED = 20261203;

function assertNoCrash(r: FuzzReport): void {
  const first = r.crashes[0];
  assert.equal(r.crashes.length, 0, first && `${r.target} input #${first.index} (${first.kind}): ${first.message}\ninput (base64): ${Buffer.from(first.input).toString('base64')}`);
  assert.ok(r.rejected > 0, `${r.target}: no mutated input was rejected, so the mutations reach nothing`);
}

for (const target of DECODER_TARGETS) {
  test(`fuzz ${target.name}: 3000 mutated inputs give coded errors only, no hang`, { timeout: 300_000 }, async () => {
    assertNoCrash(await fuzz(target, { count: 3000, seed: SEED }));
  });
}

test('fuzz backup-protocol: 300 mutated request scripts give coded errors only, no hang', { timeout: 600_000 }, async () => {
  const target = backupProtocolTarget();
  try {
    assertNoCrash(await fuzz(target, { count: 300, seed: SEED }));
  } finally {
    await target.close?.();
  }
});
