import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onLoopFs } from '../../test/helpers/loop-fs.ts';
import { makeTempDir } from '../../test/helpers/tmp.ts';
import { HINT_BYTES, hintWillRead, readHintsAvailable } from './read-hint.ts';

const MIB = 1024 * 1024;

/** Bytes of `path` in the page cache (util-linux fincore, i.e. mincore(2)). */
function cachedBytes(path: string): number {
  return Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path], { encoding: 'utf8' }).trim());
}

test('hintWillRead starts reading the first HINT_BYTES of a file into the page cache, and no more', { skip: readHintsAvailable ? false : 'the native addon is not built' }, (t) =>
  onLoopFs(t, 'ext4', 64, 1000, async (mnt) => {
    const path = join(mnt, 'big');
    // written around the page cache, so none of it is cached to begin with
    execFileSync('dd', ['if=/dev/urandom', `of=${path}`, 'bs=1M', `count=${(HINT_BYTES + 4 * MIB) / MIB}`, 'oflag=direct', 'status=none']);
    assert.equal(cachedBytes(path), 0, 'nothing cached before the hint');
    // WILLNEED puts the pages into the page cache as it submits their reads, before it returns.
    // It is advice, though: the kernel allocates those pages without retrying, so under memory
    // pressure (CI runs this beside Ceph and a soak) one hint can add nothing. A few hints in a
    // row tell a hint that never works from one the kernel turned down once; each must still stay
    // within HINT_BYTES.
    let cached = 0;
    for (let attempt = 0; attempt < 5 && cached < HINT_BYTES / 2; attempt++) {
      await hintWillRead(path, HINT_BYTES + 4 * MIB);
      cached = cachedBytes(path);
      assert.ok(cached <= HINT_BYTES + MIB, `${cached} bytes cached: more than the hint asked for`);
    }
    assert.ok(cached >= HINT_BYTES / 2, `${cached} bytes cached after five hints`);
  }),
);

test('hintWillRead never fails and never blocks: a missing file, a directory, a FIFO, an empty file', async () => {
  const dir = makeTempDir('holdfast-read-hint-');
  try {
    mkdirSync(join(dir, 'sub'));
    execFileSync('mkfifo', [join(dir, 'fifo')]); // opened O_NONBLOCK: a FIFO without a writer does not hang the walk
    writeFileSync(join(dir, 'empty'), '');
    for (const name of ['missing', 'sub', 'fifo', 'empty']) await hintWillRead(join(dir, name), 1 << 20);
    await hintWillRead(Buffer.from(join(dir, 'empty')), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
