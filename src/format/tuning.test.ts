import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHoldfastError } from '../core/errors.ts';
import { SYNC_LEVELS } from '../core/sync-level.ts';
import { CHUNK_ORDERS, DEFAULT_TUNING, formatTuning, parseTuning, type DatastoreTuning } from './tuning.ts';

function assertTuningError(text: string, mentions: string): void {
  assert.throws(
    () => parseTuning(text),
    (e: unknown) => {
      assert.ok(isHoldfastError(e, 'INVALID_TUNING'), String(e));
      assert.ok(e.message.includes(mentions), `'${e.message}' should mention '${mentions}'`);
      return true;
    },
  );
}

test('parseTuning gives the upstream defaults for an empty or absent string (pbs-format §1.3)', () => {
  const expected: DatastoreTuning = {
    syncLevel: 'filesystem',
    chunkOrder: 'inode',
    gcAtimeSafetyCheck: true,
    gcAtimeCutoffMinutes: 1445,
    gcCacheCapacity: 1048576,
    verificationWorkers: 4,
    verificationReaders: 1,
  };
  assert.deepEqual(parseTuning(''), expected);
  assert.deepEqual(parseTuning(undefined), expected);
  assert.deepEqual(DEFAULT_TUNING, expected);
});

test('parseTuning reads every key of the §1.1 example and the full key set', () => {
  assert.deepEqual(parseTuning('sync-level=file,chunk-order=none,gc-atime-cutoff=1445'), {
    ...DEFAULT_TUNING,
    syncLevel: 'file',
    chunkOrder: 'none',
  });
  const all =
    'gc-atime-safety-check=off,gc-atime-cutoff=2880,gc-cache-capacity=0,' +
    'default-verification-workers=32,default-verification-readers=2,sync-level=none';
  assert.deepEqual(parseTuning(all), {
    syncLevel: 'none',
    chunkOrder: 'inode',
    gcAtimeSafetyCheck: false,
    gcAtimeCutoffMinutes: 2880,
    gcCacheCapacity: 0,
    verificationWorkers: 32,
    verificationReaders: 2,
  });
});

test('parseTuning accepts every boolean spelling for gc-atime-safety-check', () => {
  for (const v of ['1', 'On', 'YES', 'true']) assert.equal(parseTuning(`gc-atime-safety-check=${v}`).gcAtimeSafetyCheck, true);
  for (const v of ['0', 'off', 'No', 'FALSE']) assert.equal(parseTuning(`gc-atime-safety-check=${v}`).gcAtimeSafetyCheck, false);
});

test('parseTuning names the key and the value of a bad entry', () => {
  assertTuningError('sync-level=bogus', 'sync-level=bogus: expected one of none, filesystem, file');
  assertTuningError('chunk-order=random', 'chunk-order=random: expected one of none, inode');
  assertTuningError('gc-atime-cutoff=0', 'gc-atime-cutoff=0: expected an integer in 1..2880');
  assertTuningError('gc-atime-cutoff=2881', 'gc-atime-cutoff=2881');
  assertTuningError('gc-atime-cutoff=12m', 'gc-atime-cutoff=12m');
  assertTuningError('gc-cache-capacity=8388609', 'gc-cache-capacity=8388609: expected an integer in 0..8388608');
  assertTuningError('default-verification-workers=33', 'default-verification-workers=33');
  assertTuningError('default-verification-readers=0', 'default-verification-readers=0');
  assertTuningError('gc-atime-safety-check=maybe', 'gc-atime-safety-check=maybe: expected a boolean');
});

test('parseTuning rejects unknown keys, repeated keys, bare values and broken syntax', () => {
  assertTuningError('sync-levle=file', 'sync-levle=file: expected a known key');
  assertTuningError('sync-level=file,sync-level=none', 'sync-level=none: expected each key at most once');
  assertTuningError('file', '(no key)=file');
  assertTuningError('sync-level="file', 'unterminated');
});

test('formatTuning writes only non-default values, and everything with includeDefaults', () => {
  assert.equal(formatTuning(DEFAULT_TUNING), '');
  assert.equal(formatTuning({ ...DEFAULT_TUNING, syncLevel: 'file', gcAtimeSafetyCheck: false }), 'sync-level=file,gc-atime-safety-check=false');
  assert.equal(
    formatTuning(DEFAULT_TUNING, { includeDefaults: true }),
    'chunk-order=inode,sync-level=filesystem,gc-atime-safety-check=true,gc-atime-cutoff=1445,' +
      'gc-cache-capacity=1048576,default-verification-workers=4,default-verification-readers=1',
  );
});

test('formatTuning then parseTuning round-trips (property)', () => {
  const tuning = fc.record({
    syncLevel: fc.constantFrom(...SYNC_LEVELS),
    chunkOrder: fc.constantFrom(...CHUNK_ORDERS),
    gcAtimeSafetyCheck: fc.boolean(),
    gcAtimeCutoffMinutes: fc.integer({ min: 1, max: 2880 }),
    gcCacheCapacity: fc.integer({ min: 0, max: 8 * 1024 * 1024 }),
    verificationWorkers: fc.integer({ min: 1, max: 32 }),
    verificationReaders: fc.integer({ min: 1, max: 32 }),
  });
  fc.assert(
    fc.property(tuning, fc.boolean(), (t, includeDefaults) => {
      assert.deepEqual(parseTuning(formatTuning(t, { includeDefaults })), { ...t });
    }),
  );
});
