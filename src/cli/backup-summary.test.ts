import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryCounter, renderBackupSummary } from './backup-summary.ts';

const MIB = 1024 * 1024;

test('renderBackupSummary reports entries, bytes read and added (raw and stored), reuse and duration in human units', () => {
  const text = renderBackupSummary({
    snapshot: 'host/a/2026-01-01T00:00:00Z',
    seconds: 4,
    archives: [
      { archive: 'home.pxar.didx', size: 64 * MIB, chunks: 16, uploadedChunks: 4, uploadedBytes: 16 * MIB, uploadedCompressed: 8 * MIB, reusedChunks: 12, entries: { files: 10, dirs: 3, others: 1 } },
      { archive: 'app.conf.blob', size: 2048 },
    ],
  });
  const lines = text.split('\n');
  assert.equal(lines[0], 'snapshot host/a/2026-01-01T00:00:00Z finished in 4.0 s');
  assert.equal(lines[1], '  home.pxar.didx: 64 MiB read, 10 files, 3 dirs, 1 other; 16 chunks: 4 new (16 MiB, 8 MiB stored), 12 unchanged');
  assert.equal(lines[2], '  app.conf.blob: 2 KiB (blob)');
  assert.match(text, /^Files: 10, dirs: 3, blobs: 1$/m);
  assert.match(text, /^Added to the datastore: 16 MiB \(8 MiB stored\); reused 12 of 16 chunks$/m);
  assert.match(text, /^processed 64 MiB in 4\.0 s, 16 MiB\/s$/m);
  assert.doesNotMatch(text, /\d{6,}/, 'no raw byte counts in text output');
});

test('EntryCounter counts files, directories and other entries without keeping them', () => {
  const c = new EntryCounter();
  const n = new Uint8Array([97]);
  c.startDirectory(n);
  c.addFile(n, 1, 0);
  c.addFile(n, 1, 0);
  c.addOther('symlink', n);
  c.endDirectory();
  assert.deepEqual(c.counts, { files: 2, dirs: 1, others: 1 });
});

test('renderBackupSummary splits files into new, changed and unmodified for split archives, as restic does', () => {
  const text = renderBackupSummary({
    snapshot: 'host/a/2026-01-02T00:00:00Z',
    seconds: 1,
    archives: [
      { archive: 'home.mpxar.didx', size: MIB, chunks: 1, entries: { files: 100, dirs: 4, others: 0 }, files: { read: 7, new: 2, unchanged: 93 } },
      { archive: 'home.ppxar.didx', size: 8 * MIB, chunks: 3, unreadBytes: 6 * MIB },
    ],
  });
  assert.match(text, /^Files: 100, dirs: 4 \(2 new, 5 changed or re-read, 93 unmodified and not read\)$/m);
  assert.match(text, /^ {2}home\.ppxar\.didx: 8 MiB, 2 MiB read; 3 chunks/m, 'the payload archive tells its size from what was read');
  // a legacy archive has no such counts, and says nothing about them
  assert.doesNotMatch(renderBackupSummary({ snapshot: 's', seconds: 1, archives: [{ archive: 'x.pxar.didx', size: 1, chunks: 1 }] }), /unmodified/);
});
