/**
 * `holdfast restore … --path P` through the real CLI and server: only P (and the directories on
 * the way to it, with their metadata) is restored, from split (the default) and unified archives
 * alike; several paths at once; a path that is not there is NOT_FOUND before the target is
 * created; a hardlink whose target lies outside the selection is left out with a warning; an
 * image has no paths to select. `holdfast catalog dump` lists what --path can name, from the
 * metadata archive or the catalog alike.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { snapshotTree } from '../../src/client/pxar-test-tree.ts';
import { listXattrs, setXattr } from '../../src/client/pxar-native.ts';
import { cliOk, describeCli, startTestServer, type TestServer } from '../helpers/server-fixture.ts';
import { pseudoRandom } from '../helpers/seeded.ts';

let srv: TestServer;
let src = '';
let time = 1_800_000_000;
const snapshots: Record<'split' | 'unified', string> = { split: '', unified: '' };

before(async () => {
  srv = await startTestServer();
  src = join(srv.dir, 'src');
  mkdirSync(join(src, 'a', 'b'), { recursive: true });
  mkdirSync(join(src, 'c'), { recursive: true });
  for (let i = 0; i < 4; i++) writeFileSync(join(src, 'a', 'b', `f${i}`), pseudoRandom(300_000 + i, i));
  writeFileSync(join(src, 'a', 'note.txt'), 'a note\n');
  writeFileSync(join(src, 'c', 'big'), pseudoRandom(2_000_000, 9));
  linkSync(join(src, 'a', 'note.txt'), join(src, 'c', 'same-note'));
  writeFileSync(join(src, 'top.txt'), 'top\n');
  setXattr(Buffer.from(join(src, 'top.txt')), Buffer.from('user.origin'), Buffer.from('laptop'));
  utimesSync(join(src, 'a'), 1_700_000_000, 1_700_000_000);
  for (const mode of ['split', 'unified'] as const) {
    const args = ['backup', `root.pxar:${src}`, '--backup-id', 'pr', '--backup-time', String((time += 60)), '--output-format', 'json'];
    if (mode === 'unified') args.push('--change-detection-mode', 'legacy');
    snapshots[mode] = (JSON.parse(cliOk(await srv.cli(args), `backup ${mode}`).stdout) as { snapshot: string }).snapshot;
  }
});

after(async () => {
  await srv?.close();
});

const sub = async (root: string, path: string): Promise<unknown> => snapshotTree(join(root, path), { skipRootOwner: true });

for (const mode of ['split', 'unified'] as const) {
  test(`restore --path: one directory of a ${mode} archive, at its place, with the directories on the way`, { timeout: 120_000 }, async () => {
    const target = join(srv.dir, `one-${mode}`);
    const r = cliOk(await srv.cli(['restore', snapshots[mode], 'root.pxar', target, '--path', 'a/b']), `restore ${mode}`);
    assert.match(r.stdout, /\(a\/b\): \d+ entries/);
    assert.deepEqual(readdirSync(target), ['a']);
    assert.deepEqual(readdirSync(join(target, 'a')), ['b']);
    assert.deepEqual(await sub(target, 'a/b'), await sub(src, 'a/b'));
    // the directory on the way has its own metadata, as in a full restore
    assert.equal(statSync(join(target, 'a')).mtimeMs, statSync(join(src, 'a')).mtimeMs);
    assert.equal(statSync(join(target, 'a')).mode, statSync(join(src, 'a')).mode);
  });

  test(`restore --path twice, a file and a directory, of a ${mode} archive; a hardlink to outside is left out with a warning`, { timeout: 120_000 }, async () => {
    const target = join(srv.dir, `two-${mode}`);
    const r = cliOk(await srv.cli(['restore', snapshots[mode], 'root.pxar', target, '--path', '/top.txt', '--path', 'c/']), `restore ${mode}`);
    assert.deepEqual(readdirSync(target).sort(), ['c', 'top.txt']);
    assert.deepEqual(readdirSync(join(target, 'c')), ['big']);
    assert.deepEqual(await sub(target, 'c/big'), await sub(src, 'c/big'));
    assert.deepEqual(await sub(target, 'top.txt'), await sub(src, 'top.txt'));
    assert.match(r.stderr, /warning: c\/same-note: hardlink to 'a\/note\.txt', which is not among the selected entries: not restored/);
    assert.match(r.stdout, /\(1 skipped\)/);
  });

  test(`restore --path of what a ${mode} archive does not hold: NOT_FOUND`, { timeout: 120_000 }, async () => {
    const target = join(srv.dir, `missing-${mode}`);
    const r = await srv.cli(['restore', snapshots[mode], 'root.pxar', target, '--path', 'a/nope']);
    assert.equal(r.code, 3, describeCli(r));
    assert.match(r.stderr, /'a\/nope' is not in the archive/);
    // a split archive's metadata is read before the target is touched
    if (mode === 'split') assert.equal(existsSync(target), false);
  });
}

test('restore --path FILE to - writes the file to stdout, from split and unified archives; a directory or a hardlink is refused', { timeout: 120_000 }, async () => {
  for (const snapshot of [snapshots.split, snapshots.unified]) {
    const r = cliOk(await srv.cli(['restore', snapshot, 'root.pxar', '-', '--path', 'a/note.txt']), `cat ${snapshot}`);
    assert.equal(r.stdout, 'a note\n');
    for (const [path, message] of [['a/b', /'a\/b' is a directory, not a file/], ['c/same-note', /is a hardlink to 'a\/note\.txt', not a file/]] as const) {
      const bad = await srv.cli(['restore', snapshot, 'root.pxar', '-', '--path', path]);
      assert.equal(bad.code, 2, describeCli(bad));
      assert.match(bad.stderr, message);
    }
  }
  const two = await srv.cli(['restore', snapshots.split, 'root.pxar', '-', '--path', 'top.txt', '--path', 'a/note.txt']);
  assert.equal(two.code, 2, describeCli(two));
  assert.match(two.stderr, /one file of it to - \(stdout\) with --path FILE/);
});

test('restore and catalog dump --pattern: globs at any depth or from the root, split and unified alike', { timeout: 120_000 }, async () => {
  for (const snapshot of [snapshots.split, snapshots.unified]) {
    const target = join(srv.dir, `pattern-${snapshot.replace(/[/:]/g, '_')}`);
    const r = cliOk(await srv.cli(['restore', snapshot, 'root.pxar', target, '--pattern', '*.txt', '--pattern', '/c/big']), `restore --pattern ${snapshot}`);
    assert.match(r.stdout, /\('\*\.txt', '\/c\/big'\)/);
    assert.deepEqual(readdirSync(target).sort(), ['a', 'c', 'top.txt']);
    assert.deepEqual(readdirSync(join(target, 'a')), ['note.txt']); // a/b holds no match: not made
    assert.deepEqual(readdirSync(join(target, 'c')), ['big']);
    assert.equal(readFileSync(join(target, 'a/note.txt'), 'utf8'), 'a note\n'); // its hardlink twin c/same-note is not selected
    assert.deepEqual(await sub(target, 'c/big'), await sub(src, 'c/big'));
    assert.equal(statSync(join(target, 'a')).mtimeMs, statSync(join(src, 'a')).mtimeMs, 'a directory on the way has its metadata');

    const listed = (JSON.parse(cliOk(await srv.cli(['catalog', 'dump', snapshot, '--pattern', 'b/', '--output-format', 'json']), 'dump --pattern').stdout) as Listed[]).map((e) => e.path);
    assert.deepEqual(listed, ['a/b', 'a/b/f0', 'a/b/f1', 'a/b/f2', 'a/b/f3']);
    const none = await srv.cli(['restore', snapshot, 'root.pxar', join(srv.dir, 'never'), '--pattern', '*.nothing']);
    assert.equal(none.code, 3, describeCli(none));
    assert.match(none.stderr, /nothing in the archive matches '\*\.nothing'/);
  }
  const both = await srv.cli(['restore', snapshots.split, 'root.pxar', join(srv.dir, 'never'), '--path', 'a', '--pattern', '*.txt']);
  assert.equal(both.code, 2, describeCli(both));
  assert.match(both.stderr, /--path and --pattern cannot be combined/);
});

test('restore --ignore-xattrs leaves the extended attributes out (and restores them without it)', { timeout: 120_000 }, async () => {
  const names = (path: string): string[] => listXattrs(Buffer.from(path)).map((n) => Buffer.from(n).toString());
  for (const [name, extra] of [['with', []], ['without', ['--ignore-xattrs', '--ignore-acls', '--ignore-ownership']]] as const) {
    const target = join(srv.dir, `xattrs-${name}`);
    cliOk(await srv.cli(['restore', snapshots.split, 'root.pxar', target, '--path', 'top.txt', ...extra]), `restore ${name}`);
    assert.deepEqual(names(join(target, 'top.txt')), name === 'with' ? ['user.origin'] : []);
  }
});

test('restore --path: a path the archive cannot hold, or an image, is INVALID_ARGUMENT before connecting', async () => {
  for (const args of [['root.pxar', '--path', '../etc'], ['root.pxar', '--path', '/'], ['disk.img', '--path', 'x']]) {
    const r = await srv.cli(['restore', snapshots.split, args[0]!, join(srv.dir, 'never'), ...args.slice(1), '--repository', 'nobody@pam@127.0.0.1:1:store']);
    assert.equal(r.code, 2, describeCli(r));
    assert.match(r.stderr, /INVALID_ARGUMENT|cannot be selected|is an image/);
  }
});

interface Listed {
  readonly archive: string;
  readonly path: string;
  readonly type: string;
  readonly size?: number;
  readonly mtime?: number;
  readonly target?: string;
}

test('catalog dump lists the same entries from a split archive (metadata archive) and a unified one (its catalog)', { timeout: 120_000 }, async () => {
  const dump = async (snapshot: string, ...args: string[]): Promise<Listed[]> => JSON.parse(cliOk(await srv.cli(['catalog', 'dump', snapshot, ...args, '--output-format', 'json']), `dump ${snapshot}`).stdout) as Listed[];
  const split = await dump(snapshots.split);
  const unified = await dump(snapshots.unified, 'root.pxar');
  const shape = (l: readonly Listed[]): unknown[] => l.map((e) => [e.archive, e.path, e.type, e.size]);
  assert.deepEqual(shape(split), shape(unified));
  assert.deepEqual(split.map((e) => e.path), ['a', 'a/b', 'a/b/f0', 'a/b/f1', 'a/b/f2', 'a/b/f3', 'a/note.txt', 'c', 'c/big', 'c/same-note', 'top.txt']);
  const big = split.find((e) => e.path === 'c/big');
  assert.deepEqual({ size: big?.size, mtime: big?.mtime }, { size: 2_000_000, mtime: Math.floor(statSync(join(src, 'c', 'big')).mtimeMs / 1000) });
  assert.equal(split.find((e) => e.path === 'c/same-note')?.target, 'a/note.txt');
  assert.equal(split.find((e) => e.path === 'a')?.mtime, 1_700_000_000);

  for (const snapshot of [snapshots.split, snapshots.unified]) {
    assert.deepEqual((await dump(snapshot, '--path', 'a/b', '--path', 'top.txt')).map((e) => e.path), ['a/b', 'a/b/f0', 'a/b/f1', 'a/b/f2', 'a/b/f3', 'top.txt']);
    const missing = await srv.cli(['catalog', 'dump', snapshot, '--path', 'a/nope']);
    assert.equal(missing.code, 3, `${snapshot}: ${describeCli(missing)}`);
    assert.match(missing.stderr, /'a\/nope' is not in the archive/);
  }
  const text = cliOk(await srv.cli(['catalog', 'dump', snapshots.split, '--path', 'c']), 'text dump').stdout.trimEnd().split('\n');
  assert.equal(text.length, 3, text.join('|'));
  assert.match(text[1]!, /^f +2000000 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ root\.pxar\/c\/big$/);
  assert.match(text[2]!, /^h +- +- +root\.pxar\/c\/same-note -> a\/note\.txt$/);
  const image = await srv.cli(['catalog', 'dump', snapshots.split, 'root.fileid.blob']);
  assert.equal(image.code, 2, describeCli(image));
});

test('restore --path and catalog dump read an encrypted split snapshot with its key, and not without', { timeout: 120_000 }, async () => {
  const keyfile = join(srv.dir, 'key.json');
  cliOk(await srv.cli(['key', 'create', keyfile, '--kdf', 'none']), 'key create');
  const r = cliOk(await srv.cli(['backup', `root.pxar:${src}`, '--backup-id', 'enc', '--backup-time', String((time += 60)), '--keyfile', keyfile, '--output-format', 'json']), 'encrypted backup');
  const snapshot = (JSON.parse(r.stdout) as { snapshot: string }).snapshot;
  const target = join(srv.dir, 'enc-one');
  cliOk(await srv.cli(['restore', snapshot, 'root.pxar', target, '--path', 'c/big', '--keyfile', keyfile]), 'encrypted partial restore');
  assert.deepEqual(await sub(target, 'c/big'), await sub(src, 'c/big'));
  const listed = cliOk(await srv.cli(['catalog', 'dump', snapshot, '--path', 'a/b', '--keyfile', keyfile]), 'encrypted dump').stdout.trimEnd().split('\n');
  assert.equal(listed.length, 5);
  const keyless = await srv.cli(['catalog', 'dump', snapshot]);
  assert.match(keyless.stderr, /KEY_REQUIRED/);
});
