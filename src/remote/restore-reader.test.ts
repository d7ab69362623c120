/**
 * RestoreReader.open: the manifest comes from the reader session, or from the caller when it
 * holds the snapshot's manifest already (metadata change detection has the backup session's copy).
 * streamRanges: a partial restore fetches only the chunks its byte ranges touch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeManifestBlob, type Manifest } from '../format/manifest.ts';
import { encodeBlob } from '../format/blob.ts';
import { dynamicIndexCsum, encodeDynamicIndex } from '../format/dynamic-index.ts';
import { sha256, toHex } from '../core/digest.ts';
import type { ProtocolTransport } from './protocol-transport.ts';
import { RestoreReader } from './restore-reader.ts';

const MANIFEST: Manifest = { backupType: 'host', backupId: 'x', backupTime: 1, files: [], unprotected: {}, signature: null };

function countingTransport(): { t: ProtocolTransport; downloads: string[] } {
  const downloads: string[] = [];
  const t: ProtocolTransport = {
    call: async () => null,
    download: async (_path, query) => {
      downloads.push(String(query?.['file-name']));
      return encodeManifestBlob(MANIFEST);
    },
    close: async () => undefined,
  };
  return { t, downloads };
}

test('RestoreReader.open downloads the manifest', async () => {
  const { t, downloads } = countingTransport();
  const r = await RestoreReader.open(t);
  assert.deepEqual(downloads, ['index.json.blob']);
  assert.equal(r.manifest.backupId, 'x');
});

test('RestoreReader.open with the manifest in hand spares its download', async () => {
  const { t, downloads } = countingTransport();
  const r = await RestoreReader.open(t, undefined, { manifest: { ...MANIFEST, backupId: 'given' } });
  assert.deepEqual(downloads, []);
  assert.equal(r.manifest.backupId, 'given');
});

/** A snapshot of one dynamic archive `a.ppxar.didx` of `count` chunks of `size` bytes, chunk i filled with i. */
function archiveTransport(count: number, size: number): { t: ProtocolTransport; fetched: number[] } {
  const chunks = Array.from({ length: count }, (_, i) => new Uint8Array(size).fill(i));
  const digests = chunks.map((c) => sha256(c));
  const entries = digests.map((digest, i) => ({ end: (i + 1) * size, digest }));
  const index = encodeDynamicIndex({ uuid: new Uint8Array(16), ctime: 1, entries });
  const { csum } = dynamicIndexCsum(entries);
  const manifest: Manifest = { ...MANIFEST, files: [{ filename: 'a.ppxar.didx', cryptMode: 'none', size: count * size, csum: toHex(csum) }] };
  const fetched: number[] = [];
  const t: ProtocolTransport = {
    call: async () => null,
    download: async (path, query) => {
      if (path === 'chunk') {
        const i = digests.findIndex((d) => toHex(d) === query?.['digest']);
        fetched.push(i);
        return encodeBlob(chunks[i]!, { compress: false });
      }
      return query?.['file-name'] === 'index.json.blob' ? encodeManifestBlob(manifest) : index;
    },
    close: async () => undefined,
  };
  return { t, fetched };
}

test('RestoreReader.streamRanges fetches only the chunks that hold a byte of the ranges, each with its offset', async () => {
  const { t, fetched } = archiveTransport(8, 1000);
  const r = await RestoreReader.open(t);
  const pieces: { offset: number; first: number; length: number }[] = [];
  // chunk 1 from its last byte, chunk 3 whole, and a range across the end of 5 into 6
  for await (const p of r.streamRanges('a.ppxar.didx', [{ start: 1999, end: 2000 }, { start: 3000, end: 4000 }, { start: 5990, end: 6010 }])) {
    pieces.push({ offset: p.offset, first: p.bytes[0]!, length: p.bytes.length });
  }
  assert.deepEqual(fetched, [1, 3, 5, 6]);
  assert.deepEqual(pieces, [1, 3, 5, 6].map((i) => ({ offset: i * 1000, first: i, length: 1000 })));
  const none: unknown[] = [];
  for await (const p of r.streamRanges('a.ppxar.didx', [])) none.push(p);
  assert.deepEqual(none, []);
});
