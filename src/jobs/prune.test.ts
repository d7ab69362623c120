import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../core/errors.ts';
import { describePolicy, prunePolicyFrom } from './prune.ts';

test('prunePolicyFrom maps keep-* keys to a policy, skipping absent and empty ones', () => {
  const values: Record<string, unknown> = { 'keep-last': '3', 'keep-daily': 7, 'keep-weekly': '' };
  assert.deepEqual(prunePolicyFrom((k) => values[k]), { keepLast: 3, keepDaily: 7 });
  assert.deepEqual(prunePolicyFrom(() => undefined), {});
});

test('prunePolicyFrom refuses negative, fractional and non-numeric values with INVALID_ARGUMENT', () => {
  for (const bad of ['-1', '1.5', 'many', -2]) {
    assert.throws(() => prunePolicyFrom((k) => (k === 'keep-hourly' ? bad : undefined)), (e) => isHoldfastError(e, 'INVALID_ARGUMENT'));
  }
});

test('describePolicy names the options set, or keep-all', () => {
  assert.equal(describePolicy({ keepLast: 2, keepMonthly: 1, keepDaily: 0 }), 'keep-last 2, keep-monthly 1');
  assert.equal(describePolicy({}), 'keep-all (no keep option set)');
});
