import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bdpBytes, DEFAULT_LINK_TARGET, H2_MAX_WINDOW, MAX_CHUNK_BLOB, MAX_CHUNKS_AHEAD, MIN_CHUNKS_AHEAD, readAheadFor, receiveWindows } from './link-target.ts';

test('bdpBytes is rate × RTT in bytes: 1 Gbit/s at 100 ms is 12.5 MB', () => {
  assert.equal(bdpBytes({ rateBitsPerSec: 1e9, rttMs: 100 }), 12_500_000);
  assert.equal(bdpBytes({ rateBitsPerSec: 100e6, rttMs: 150 }), 1_875_000);
  assert.equal(bdpBytes(DEFAULT_LINK_TARGET), 12_500_000);
});

test('receiveWindows lets one stream carry 2 × BDP and the connection twice that, so the default link is not window-limited', () => {
  const w = receiveWindows(DEFAULT_LINK_TARGET);
  assert.equal(w.stream, 25_000_000);
  assert.equal(w.connection, 50_000_000);
  assert.ok(w.stream >= 2 * bdpBytes(DEFAULT_LINK_TARGET));
  assert.deepEqual(receiveWindows(), w);
});

test('receiveWindows never goes below one largest chunk per stream, nor above the HTTP/2 maximum', () => {
  const lan = receiveWindows({ rateBitsPerSec: 1e9, rttMs: 0.2 });
  assert.equal(lan.stream, MAX_CHUNK_BLOB);
  assert.equal(lan.connection, 2 * MAX_CHUNK_BLOB);
  const huge = receiveWindows({ rateBitsPerSec: 100e9, rttMs: 300 });
  assert.deepEqual(huge, { stream: H2_MAX_WINDOW, connection: H2_MAX_WINDOW });
});

test('readAheadFor asks for 2 × BDP of chunks in flight within the server stream limit', () => {
  assert.deepEqual(readAheadFor({ rateBitsPerSec: 1e9, rttMs: 100 }), { bytes: 25_000_000, minChunks: MIN_CHUNKS_AHEAD, maxChunks: MAX_CHUNKS_AHEAD });
  assert.equal(readAheadFor({ rateBitsPerSec: 10e9, rttMs: 100 }).bytes, 250_000_000);
  assert.ok(MAX_CHUNKS_AHEAD < 32, 'the server allows 32 streams per session');
});
