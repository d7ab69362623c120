/**
 * Upstream-written split archives restore: the `.mpxar` fixtures of PBS's own test
 * (`test_create_archive_with_reference`) are extracted with their payload streams. The payload
 * streams are rebuilt from what the fixture index describes (1 MiB zero files behind PAYLOAD
 * headers) and checked against its chunk digests first, so the bytes are upstream's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseDynamicIndex } from '../format/dynamic-index.ts';
import { FIXTURE_SKIP, readFixture } from '../format/pxar/fixtures.ts';
import { PXAR_PAYLOAD, PXAR_PAYLOAD_START_MARKER, PXAR_PAYLOAD_TAIL_MARKER } from '../format/pxar/constants.ts';
import { headerItem } from '../format/pxar/items.ts';
import { extractPxar } from './pxar-extract.ts';
import { makeTempDir } from '../../test/helpers/tmp.ts';

const MIB = 1024 * 1024;
const ZEROS = new Uint8Array(MIB);

/** The fixture's previous payload stream: start marker, 100 × (PAYLOAD header + 1 MiB zeros), tail marker. */
function* previousPayload(): Generator<Uint8Array> {
  yield headerItem(PXAR_PAYLOAD_START_MARKER, 0);
  for (let i = 0; i < 100; i++) {
    yield headerItem(PXAR_PAYLOAD, MIB);
    yield ZEROS;
  }
  yield headerItem(PXAR_PAYLOAD_TAIL_MARKER, 0);
}

async function* stream(parts: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* parts;
}

function checkAgainstIndex(): void {
  const entries = parseDynamicIndex(readFixture('upstream/backup-client-pxar-data.ppxar.didx')).entries;
  const all = Buffer.concat([...previousPayload()]);
  let start = 0;
  for (const e of entries) {
    assert.equal(createHash('sha256').update(all.subarray(start, e.end)).digest('hex'), Buffer.from(e.digest).toString('hex'));
    start = e.end;
  }
  assert.equal(start, all.length);
}

async function extractAndCheck(mpxar: string, payload: Iterable<Uint8Array>): Promise<void> {
  const out = makeTempDir('holdfast-upstream-');
  try {
    await extractPxar(stream([readFixture(`upstream/${mpxar}`)]), join(out, 't'), { payload: stream(payload), owner: false });
    const folders = readdirSync(join(out, 't')).sort();
    assert.deepEqual(folders, Array.from({ length: 10 }, (_, i) => `folder_${i}`));
    for (const f of folders) {
      assert.equal(statSync(join(out, 't', f)).mode, 0o40777);
      for (let i = 0; i < 10; i++) {
        const path = join(out, 't', f, `file_${i}`);
        assert.equal(statSync(path).mode, 0o100777);
        assert.ok(readFileSync(path).equals(ZEROS), `${f}/file_${i} holds 1 MiB of zeros`);
      }
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

test('extractPxar restores upstream backup-client-pxar-data.mpxar with its payload stream (checked against the fixture index)', { skip: FIXTURE_SKIP }, async () => {
  checkAgainstIndex();
  await extractAndCheck('backup-client-pxar-data.mpxar', previousPayload());
});

test('extractPxar restores upstream backup-client-pxar-expected.mpxar, whose payloads sit in re-injected chunks', { skip: FIXTURE_SKIP }, async () => {
  // new start marker, then the whole previous stream injected (its own start and tail marker included), then a tail marker
  const payload = [headerItem(PXAR_PAYLOAD_START_MARKER, 0), ...previousPayload(), headerItem(PXAR_PAYLOAD_TAIL_MARKER, 0)];
  await extractAndCheck('backup-client-pxar-expected.mpxar', payload);
});
