import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../../core/errors.ts';
import { DEFAULT_OUT_DIR, DEFAULT_RUNS, parseBenchOptions } from './bench-options.ts';
import { benchS3FromEnv } from './s3-bench.ts';

const invalid = (e: unknown): boolean => isHoldfastError(e, 'INVALID_ARGUMENT');

test('parseBenchOptions defaults: 1 GiB, all three levels, 3 runs, bench/results, no peers or loop fs', () => {
  const o = parseBenchOptions({});
  assert.deepEqual(o.sizes, [1024 ** 3]);
  assert.deepEqual(o.levels, ['none', 'filesystem', 'file']);
  assert.equal(o.runs, DEFAULT_RUNS);
  assert.equal(o.outDir, DEFAULT_OUT_DIR);
  assert.ok(o.outDir.endsWith('/bench/results/'));
  assert.deepEqual(o.peers, []);
  assert.deepEqual(o.fs, []);
  assert.equal(o.memoryLimit, undefined);
  assert.equal(o.data, undefined);
  assert.equal(o.outputFormat, 'text');
  assert.equal(o.dropCaches, true);
  assert.equal(o.writeFiles, true);
});

test('parseBenchOptions reads size lists, levels, runs, peers, filesystems and the memory limit', () => {
  const o = parseBenchOptions({ sizes: '2G, 8G,2G', levels: 'file,none', runs: '5', peers: 'restic,borg', fs: 'ext4,xfs,btrfs', memoryLimit: '1G', outputFormat: 'json', seed: '7', out: '/tmp/x' });
  assert.deepEqual(o.sizes, [2 * 1024 ** 3, 8 * 1024 ** 3]);
  assert.deepEqual(o.levels, ['file', 'none']);
  assert.equal(o.runs, 5);
  assert.deepEqual(o.peers, ['restic', 'borg']);
  assert.deepEqual(o.fs, ['ext4', 'xfs', 'btrfs']);
  assert.equal(o.memoryLimit, 1024 ** 3);
  assert.equal(o.outputFormat, 'json');
  assert.equal(o.seed, 7);
  assert.equal(o.outDir, '/tmp/x');
});

test('parseBenchOptions maps --no-drop-caches and --no-files', () => {
  const o = parseBenchOptions({ dropCaches: false, files: false });
  assert.equal(o.dropCaches, false);
  assert.equal(o.writeFiles, false);
});

test('parseBenchOptions rejects bad values with INVALID_ARGUMENT', () => {
  assert.throws(() => parseBenchOptions({ runs: '0' }), invalid);
  assert.throws(() => parseBenchOptions({ runs: '1.5' }), invalid);
  assert.throws(() => parseBenchOptions({ sizes: '' }), invalid);
  assert.throws(() => parseBenchOptions({ sizes: '2Q' }), invalid);
  assert.throws(() => parseBenchOptions({ levels: 'fast' }), invalid);
  assert.throws(() => parseBenchOptions({ levels: ',' }), invalid);
  assert.throws(() => parseBenchOptions({ peers: 'kopia' }), invalid);
  assert.throws(() => parseBenchOptions({ fs: 'zfs' }), invalid);
  assert.throws(() => parseBenchOptions({ memoryLimit: 'lots' }), invalid);
  assert.throws(() => parseBenchOptions({ outputFormat: 'yaml' }), invalid);
  assert.throws(() => parseBenchOptions({ seed: '-3' }), invalid);
});

test('parseBenchOptions --backend: local by default, s3 accepted, anything else INVALID_ARGUMENT', () => {
  assert.equal(parseBenchOptions({}).backend, 'local');
  assert.equal(parseBenchOptions({ backend: 's3' }).backend, 's3');
  assert.throws(() => parseBenchOptions({ backend: 'gcs' }), invalid);
});

test('benchS3FromEnv needs S3_ENDPOINT and the keys (or the AWS_* names), and picks a fresh bucket', () => {
  assert.throws(() => benchS3FromEnv({}), invalid);
  const s3 = benchS3FromEnv({ S3_ENDPOINT: 'http://127.0.0.1:7480', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' });
  assert.equal(s3.region, 'us-east-1');
  assert.match(s3.bucket, /^holdfast-bench-[0-9a-f]{10}$/);
  assert.equal(benchS3FromEnv({ S3_ENDPOINT: 'x', S3_ACCESS_KEY: 'a', S3_SECRET_KEY: 'b' }, 'mine').bucket, 'mine');
});
