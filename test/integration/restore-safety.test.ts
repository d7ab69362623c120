/**
 * `holdfast restore` never overwrites without being asked and never leaves something that looks
 * complete: an existing target (blob or image) is refused with ALREADY_EXISTS until
 * `--overwrite`; a restore that fails on a missing chunk exits with the integrity status, names
 * the archive and the chunk digest, and leaves neither the target nor a partial file.
 *
 * A directory archive is refused for `-` (stdout) before anything is read or created.
 *
 * The tests run in order and share one server and one snapshot (an image of three 4 MiB chunks,
 * a blob and a small directory tree).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../../src/core/digest.ts';
import { formatTime } from '../../src/core/backup-ref.ts';
import { chunkPath } from '../../src/chunks/chunk-path.ts';
import { parseFixedIndex } from '../../src/format/fixed-index.ts';
import { parseDynamicIndex } from '../../src/format/dynamic-index.ts';
import { describeCli, fastRandom, startTestServer, type TestServer } from '../helpers/server-fixture.ts';

const TIME = 1_800_000_000;
const SNAPSHOT = `host/safe/${formatTime(TIME)}`;
const TIMEOUT = { timeout: 120_000 };
let srv: TestServer;
let work = '';

before(async () => {
  srv = await startTestServer();
  work = join(srv.dir, 'work');
  mkdirSync(work);
  writeFileSync(join(work, 'disk.img'), fastRandom(9 * 1024 * 1024, 3));
  writeFileSync(join(work, 'app.conf'), 'new = true\n');
  mkdirSync(join(work, 'tree'));
  writeFileSync(join(work, 'tree', 'a.txt'), 'a\n');
  const r = await srv.cli(['backup', `disk.img:${join(work, 'disk.img')}`, `app.conf:${join(work, 'app.conf')}`, `root.pxar:${join(work, 'tree')}`, '--backup-id', 'safe', '--backup-time', String(TIME)]);
  assert.equal(r.code, 0, describeCli(r));
}, TIMEOUT);

after(async () => {
  await srv?.close();
});

test('holdfast restore of a blob onto an existing file is refused without --overwrite and replaces it with', TIMEOUT, async () => {
  const target = join(work, 'existing.conf');
  writeFileSync(target, 'old = true\n');
  const refused = await srv.cli(['restore', SNAPSHOT, 'app.conf', target]);
  assert.equal(refused.code, 4, describeCli(refused));
  assert.match(refused.stderr, /ALREADY_EXISTS.*--overwrite/);
  assert.equal(readFileSync(target, 'utf8'), 'old = true\n', 'the existing file is untouched');
  const replaced = await srv.cli(['restore', SNAPSHOT, 'app.conf', target, '--overwrite']);
  assert.equal(replaced.code, 0, describeCli(replaced));
  assert.equal(readFileSync(target, 'utf8'), 'new = true\n');
});

test('holdfast restore of an image onto an existing file is ALREADY_EXISTS (exit 4), not INTERNAL', TIMEOUT, async () => {
  const target = join(work, 'existing.img');
  writeFileSync(target, 'keep me');
  const refused = await srv.cli(['restore', SNAPSHOT, 'disk.img', target]);
  assert.equal(refused.code, 4, describeCli(refused));
  assert.match(refused.stderr, /error \[ALREADY_EXISTS\]/);
  assert.equal(readFileSync(target, 'utf8'), 'keep me');
  const replaced = await srv.cli(['restore', SNAPSHOT, 'disk.img', target, '--overwrite']);
  assert.equal(replaced.code, 0, describeCli(replaced));
  assert.ok(readFileSync(target).equals(readFileSync(join(work, 'disk.img'))));
});

test('holdfast restore of a directory archive to - (stdout) is INVALID_ARGUMENT (exit 2) and creates nothing', TIMEOUT, async () => {
  for (const archive of ['root.pxar', 'root.mpxar.didx', 'root.ppxar']) {
    const r = await srv.cli(['restore', SNAPSHOT, archive, '-']);
    assert.equal(r.code, 2, describeCli(r));
    assert.match(r.stderr, /error \[INVALID_ARGUMENT\]: .*directory archive/);
    assert.equal(r.stdout, '');
  }
  assert.equal(existsSync(join(process.cwd(), '-')), false, 'no directory named -');
  // into a directory it restores
  const target = join(work, 'tree-restored');
  const ok = await srv.cli(['restore', SNAPSHOT, 'root.pxar', target]);
  assert.equal(ok.code, 0, describeCli(ok));
  assert.equal(readFileSync(join(target, 'a.txt'), 'utf8'), 'a\n');
});

test('holdfast restore with a missing chunk exits 6 (MISSING_CHUNK) naming archive and digest, and leaves no file', TIMEOUT, async () => {
  const store = srv.datastorePath();
  const index = parseFixedIndex(readFileSync(join(store, 'host', 'safe', formatTime(TIME), 'disk.img.fidx')));
  assert.equal(index.digests.length, 3);
  const last = toHex(index.digests[2]!);
  rmSync(chunkPath(store, last));
  const target = join(work, 'broken.img');
  const r = await srv.cli(['restore', SNAPSHOT, 'disk.img', target]);
  assert.equal(r.code, 6, describeCli(r));
  assert.match(r.stderr, /error \[MISSING_CHUNK\]/);
  assert.ok(r.stderr.includes('disk.img.fidx') && r.stderr.includes(last), `the error names the archive and the digest: ${r.stderr}`);
  assert.equal(existsSync(target), false, 'no target file');
  assert.deepEqual(readdirSync(work).filter((n) => n.startsWith('broken')), [], 'no partial file either');
});

for (const [mode, index] of [['legacy', 'tree.pxar.didx'], ['metadata', 'tree.ppxar.didx']] as const) {
  test(`holdfast restore of a directory archive (${mode}) with a missing chunk removes the file it was writing`, TIMEOUT, async () => {
    const id = `tree-${mode}`;
    const tree = join(work, id);
    mkdirSync(tree);
    writeFileSync(join(tree, 'a-small.txt'), 'complete\n');
    writeFileSync(join(tree, 'z-big.bin'), fastRandom(12 * 1024 * 1024, 4));
    const b = await srv.cli(['backup', `tree.pxar:${tree}`, '--backup-id', id, '--backup-time', String(TIME), '--change-detection-mode', mode]);
    assert.equal(b.code, 0, describeCli(b));
    const store = srv.datastorePath();
    // the index that holds the file data: the unified archive, or the payload stream of a split one
    const { entries } = parseDynamicIndex(readFileSync(join(store, 'host', id, formatTime(TIME), index)));
    assert.ok(entries.length >= 2, 'the big file spans several chunks');
    const last = toHex(entries.at(-1)!.digest);
    rmSync(chunkPath(store, last));
    const target = join(work, `${id}-restored`);
    const r = await srv.cli(['restore', `host/${id}/${formatTime(TIME)}`, 'tree.pxar', target]);
    assert.equal(r.code, 6, describeCli(r));
    assert.ok(r.stderr.includes(index) && r.stderr.includes(last), r.stderr);
    assert.equal(existsSync(join(target, 'z-big.bin')), false, 'no truncated file that looks restored');
    assert.equal(readFileSync(join(target, 'a-small.txt'), 'utf8'), 'complete\n');
  });
}
