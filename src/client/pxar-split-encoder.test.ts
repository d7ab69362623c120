import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FileCandidate } from './pxar-split-encoder.ts';
import { readAheadFiles } from './pxar-split-encoder.ts';
import type { SmallContent } from './pxar-prefetch.ts';

/** Stand-ins: only the identity of a candidate matters to the read-ahead. */
const files = Array.from({ length: 100 }, (_, i) => ({ size: i % 3 === 0 ? 1 << 20 : i }) as unknown as FileCandidate);

test('readAheadFiles keeps 32 files started ahead of the one asked for, in order, each once', async () => {
  const started: number[] = [];
  const ahead = readAheadFiles(files, {
    readAhead: (c) => {
      started.push(files.indexOf(c));
      return c.size === 1 << 20 ? undefined : Promise.resolve<SmallContent>({ data: Buffer.alloc(c.size) });
    },
  });
  for (const [i, f] of files.entries()) {
    const got = await ahead.next(f);
    assert.deepEqual(started, Array.from({ length: Math.min(files.length, i + 33) }, (_, k) => k), `asked for file ${i}`);
    if (f.size === 1 << 20) assert.equal(got, undefined, 'a file the reader declines is read when its turn comes');
    else assert.equal(got?.data?.length, f.size);
  }
});
