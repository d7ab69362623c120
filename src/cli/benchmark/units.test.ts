import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../../core/errors.ts';
import { formatMBps, formatMmss, formatPercent, formatRate, formatRatio, formatSize, median, parseChoiceList, parseList, parseMillis, parseRate, parseSize } from './units.ts';

test('parseSize reads binary units with optional B/iB suffix and fractions', () => {
  assert.equal(parseSize('256M'), 256 * 1024 ** 2);
  assert.equal(parseSize('2G'), 2 * 1024 ** 3);
  assert.equal(parseSize('2g'), 2 * 1024 ** 3);
  assert.equal(parseSize('1.5G'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('512KiB'), 512 * 1024);
  assert.equal(parseSize('8GB'), 8 * 1024 ** 3);
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize(' 1T '), 1024 ** 4);
});

test('parseSize rejects garbage, zero and negative sizes with INVALID_ARGUMENT', () => {
  for (const bad of ['', 'abc', '0M', '-1G', '1X', 'G', '1..5G']) {
    assert.throws(() => parseSize(bad), (e: unknown) => isHoldfastError(e, 'INVALID_ARGUMENT'), bad);
  }
});

test('parseList trims, drops blanks and keeps the first of duplicates', () => {
  assert.deepEqual(parseList('restic, borg,,restic '), ['restic', 'borg']);
  assert.deepEqual(parseList(''), []);
});

test('parseChoiceList names the unknown members and the allowed ones', () => {
  assert.deepEqual(parseChoiceList('xfs,ext4', ['ext4', 'xfs', 'btrfs'] as const, 'filesystem'), ['xfs', 'ext4']);
  assert.throws(
    () => parseChoiceList('ext4,zfs', ['ext4', 'xfs'] as const, 'filesystem'),
    (e: unknown) => isHoldfastError(e, 'INVALID_ARGUMENT') && /zfs/.test(e.message) && /ext4, xfs/.test(e.message),
  );
});

test('formatSize picks the largest binary unit', () => {
  assert.equal(formatSize(256 * 1024 ** 2), '256 MiB');
  assert.equal(formatSize(2 * 1024 ** 3), '2 GiB');
  assert.equal(formatSize(1.5 * 1024 ** 3), '1.5 GiB');
  assert.equal(formatSize(33 * 1024 ** 3), '33 GiB');
  assert.equal(formatSize(1000), '1000 B');
  assert.equal(formatSize(1536), '1.5 KiB');
});

test('formatMmss writes minutes and seconds with tenths, as the seed table does plus one digit', () => {
  assert.equal(formatMmss(0), '00:00.0');
  assert.equal(formatMmss(13), '00:13.0');
  assert.equal(formatMmss(3.44), '00:03.4');
  assert.equal(formatMmss(321), '05:21.0');
  assert.equal(formatMmss(825), '13:45.0');
  assert.equal(formatMmss(59.96), '01:00.0');
  assert.equal(formatMmss(6000), '100:00.0');
  assert.equal(formatMmss(-1), '00:00.0');
});

test('formatRatio and formatPercent render the PBS commit message numbers', () => {
  assert.equal(formatRatio(41 / 13), '3.15×');
  assert.equal(formatRatio(1), '1.00×');
  assert.equal(formatPercent(140.39 / 125.67), '+11.7%');
  assert.equal(formatPercent(60.26 / 60.44), '-0.3%');
  assert.equal(formatPercent(1), '+0.0%');
});

test('formatMBps uses decimal megabytes and survives a zero time', () => {
  assert.equal(formatMBps(200e6, 1), '200.0 MB/s');
  assert.equal(formatMBps(1024 ** 3, 10), '107.4 MB/s');
  assert.equal(formatMBps(1, 0), 'n/a');
});

test('median of odd and even counts, and of none', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.throws(() => median([]), (e: unknown) => isHoldfastError(e, 'INVALID_ARGUMENT'));
});

test('parseRate reads decimal bit rates with optional bit, /s or ps', () => {
  assert.equal(parseRate('1G'), 1e9);
  assert.equal(parseRate('1Gbit'), 1e9);
  assert.equal(parseRate('100mbit/s'), 1e8);
  assert.equal(parseRate('2.5Gbps'), 2.5e9);
  assert.equal(parseRate('64000'), 64000);
  for (const bad of ['', 'fast', '0', '1T']) assert.throws(() => parseRate(bad), { code: 'INVALID_ARGUMENT' });
});

test('parseMillis reads ms (the default unit) or s; formatRate prints Gbit/s or Mbit/s', () => {
  assert.equal(parseMillis('100ms'), 100);
  assert.equal(parseMillis('100'), 100);
  assert.equal(parseMillis('0.15s'), 150);
  assert.throws(() => parseMillis('-1'), { code: 'INVALID_ARGUMENT' });
  assert.equal(formatRate(1e9), '1 Gbit/s');
  assert.equal(formatRate(2.5e8), '250 Mbit/s');
});
