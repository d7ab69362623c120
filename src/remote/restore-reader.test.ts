/**
 * RestoreReader.open: the manifest comes from the reader session, or from the caller when it
 * holds the snapshot's manifest already (metadata change detection has the backup session's copy).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeManifestBlob, type Manifest } from '../format/manifest.ts';
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
