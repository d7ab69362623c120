import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDailyOptions } from './daily-bench.ts';

test('parseDailyOptions takes --small-files as a small-files tree and refuses it beside --size or --data', () => {
  assert.equal(parseDailyOptions({ smallFiles: '1000000' }).files, 1_000_000);
  assert.equal(parseDailyOptions({}).files, undefined);
  assert.throws(() => parseDailyOptions({ smallFiles: '0' }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => parseDailyOptions({ smallFiles: '1.5' }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => parseDailyOptions({ smallFiles: '10', size: '1G' }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => parseDailyOptions({ smallFiles: '10', data: '/tmp' }), { code: 'INVALID_ARGUMENT' });
});
