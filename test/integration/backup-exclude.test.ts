/**
 * Directory backups leave out what the user excluded, with PBS's semantics: `.pxarexclude` files
 * (archived themselves), repeatable `--exclude` (recorded as `.pxarexclude-cli`), and no descent into other mounted filesystems
 * unless `--include-dev PATH` (the mount point itself stays, empty). Checked by restoring.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describeCli, startTestServer, type TestServer } from '../helpers/server-fixture.ts';

const TIMEOUT = { timeout: 120_000 };
let srv: TestServer;
let time = 1_800_000_000;

function files(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? [`${relative(root, p)}/`, ...files(root, p)] : [relative(root, p)];
  }).sort();
}

async function backupAndRestore(src: string, args: readonly string[]): Promise<string[]> {
  time++;
  const b = await srv.cli(['backup', `t.pxar:${src}`, '--backup-id', 'excl', '--backup-time', String(time), ...args]);
  assert.equal(b.code, 0, describeCli(b));
  const target = join(srv.dir, `restored-${time}`);
  const r = await srv.cli(['restore', `host/excl/${time}`, 't.pxar', target]);
  assert.equal(r.code, 0, describeCli(r));
  return files(target);
}

before(async () => {
  srv = await startTestServer();
}, TIMEOUT);

after(async () => {
  await srv?.close();
});

test('holdfast backup honours .pxarexclude files (deeper ones override) and repeatable --exclude', TIMEOUT, async () => {
  const src = join(srv.dir, 'src');
  mkdirSync(join(src, 'logs', 'keep'), { recursive: true });
  mkdirSync(join(src, 'cache'));
  mkdirSync(join(src, 'iso'));
  writeFileSync(join(src, '.pxarexclude'), '# comment\n*.log\ncache/\n');
  writeFileSync(join(src, 'a.log'), 'x');
  writeFileSync(join(src, 'a.txt'), 'x');
  writeFileSync(join(src, 'cache', 'big'), 'x');
  writeFileSync(join(src, 'logs', 'keep', '.pxarexclude'), '!important.log\n');
  writeFileSync(join(src, 'logs', 'keep', 'important.log'), 'x');
  writeFileSync(join(src, 'logs', 'keep', 'noise.log'), 'x');
  writeFileSync(join(src, 'iso', 'disk.iso'), 'x');
  writeFileSync(join(src, 'iso', 'notes.md'), 'x');
  writeFileSync(join(src, 'tmp.bak'), 'x');
  const got = await backupAndRestore(src, ['--exclude', '*.iso', '--exclude', '/tmp.bak']);
  assert.deepEqual(got, ['.pxarexclude', '.pxarexclude-cli', 'a.txt', 'iso/', 'iso/notes.md', 'logs/', 'logs/keep/', 'logs/keep/.pxarexclude', 'logs/keep/important.log']);
  const record = join(srv.dir, `restored-${time}`, '.pxarexclude-cli');
  assert.equal(readFileSync(record, 'utf8'), '*.iso\n/tmp.bak\n', "PBS's record of the --exclude patterns");
  assert.equal(statSync(record).mode & 0o777, 0o600);
});

function tryMount(dir: string): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('mount', ['-t', 'tmpfs', 'holdfast-test', dir]).status === 0;
}

test('holdfast backup stays on its filesystem unless --include-dev names the mount point', TIMEOUT, async (t) => {
  const src = join(srv.dir, 'src-mounts');
  const mnt = join(src, 'mnt');
  mkdirSync(mnt, { recursive: true });
  writeFileSync(join(src, 'here.txt'), 'x');
  if (!tryMount(mnt)) {
    t.skip('needs root and mount(8) to mount a tmpfs');
    return;
  }
  try {
    writeFileSync(join(mnt, 'there.txt'), 'x');
    assert.deepEqual(await backupAndRestore(src, []), ['here.txt', 'mnt/'], 'the mount point is archived empty');
    assert.deepEqual(await backupAndRestore(src, ['--include-dev', mnt]), ['here.txt', 'mnt/', 'mnt/there.txt']);
  } finally {
    spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});
