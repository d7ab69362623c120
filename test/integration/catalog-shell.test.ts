/**
 * `holdfast catalog shell` against a real server, driven as a script through stdin: walking a
 * split (metadata-mode) archive, finding and selecting, and the three ways to restore (the
 * selection, the current directory, a pattern), each checked by what lands in its target; a
 * failed command is reported and counted in the exit status while the others still run; and a
 * legacy archive, whose listing comes from the snapshot's catalog. On a terminal (a pty driven by
 * test/helpers/pty-drive.py) it prompts with the current directory, and Ctrl-C leaves it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cliOk, describeCli, HOLDFAST_BIN, spawnCli, startTestServer, type TestServer } from '../helpers/server-fixture.ts';

const TIMEOUT = { timeout: 120_000 };
let srv: TestServer;
let src: string;

function files(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? [`${relative(root, p)}/`, ...files(root, p)] : [relative(root, p)];
  }).sort();
}

const shell = (args: readonly string[], script: readonly string[]) => spawnCli(['catalog', 'shell', ...args], srv.env(), `${script.join('\n')}\n`).result;

before(async () => {
  srv = await startTestServer();
  src = join(srv.dir, 'src');
  mkdirSync(join(src, 'docs', 'deep'), { recursive: true });
  mkdirSync(join(src, 'etc'));
  writeFileSync(join(src, 'a.txt'), 'alpha');
  writeFileSync(join(src, 'docs', 'b.bin'), Buffer.alloc(70_000, 2));
  writeFileSync(join(src, 'docs', 'notes.txt'), 'notes');
  writeFileSync(join(src, 'docs', 'deep', 'c.txt'), 'gamma');
  writeFileSync(join(src, 'etc', 'app.conf'), 'key = value\n');
  writeFileSync(join(src, 'etc', 'name with space.conf'), 'spaced\n');
  cliOk(await srv.cli(['backup', `t.pxar:${src}`, '--backup-id', 'sh', '--backup-time', '1800000000']), 'backup (metadata mode)');
  cliOk(await srv.cli(['backup', `t.pxar:${src}`, '--backup-id', 'legacy', '--backup-time', '1800000000', '--change-detection-mode', 'legacy']), 'backup (legacy)');
}, TIMEOUT);

after(async () => {
  await srv?.close();
});

test('catalog shell walks a split archive, selects, and restores the selection, a directory and a pattern', TIMEOUT, async () => {
  const t1 = join(srv.dir, 'sel');
  const t2 = join(srv.dir, 'pattern');
  const t3 = join(srv.dir, 'cwd');
  const r = await shell(['host/sh/1800000000'], [
    'pwd',
    'ls',
    'find /etc/*.conf --select',
    'cd docs',
    'pwd',
    'stat b.bin',
    'find *.txt',
    'select ../a.txt deep',
    'deselect /etc/app.conf',
    'list-selected',
    `restore-selected ${t1}`,
    'cd /',
    `restore ${t2} --pattern '*.conf'`,
    'cd docs/deep',
    `restore ${t3}`,
    'cd nowhere',
    'exit',
    'ls',
  ]);
  assert.notEqual(r.code, 0, `the failed cd counts: ${describeCli(r)}`);
  assert.match(r.stderr, /1 catalog shell command\(s\) failed/);
  assert.match(r.stderr, /error: \/docs\/deep\/nowhere is not in the archive/);
  assert.equal(r.stderr.match(/error:/g)?.length, 1, describeCli(r));
  const out = r.stdout.split('\n');
  assert.equal(out[0], '/', 'pwd at the start: the archive root');
  assert.match(r.stdout, /^d +- \S+ docs\/$/m, 'ls shows the root directory');
  assert.match(r.stdout, /^f +5 \S+ a\.txt$/m);
  assert.ok(out.includes('/docs'), 'pwd after cd');
  assert.match(r.stdout, /^path: \/docs\/b\.bin\ntype: file\nsize: 70000\nmtime: /m);
  // find runs below the current directory (/docs)
  const found = out.indexOf('/docs/deep/c.txt');
  assert.deepEqual(out.slice(found - 1, found + 3), [out[found - 1], '/docs/deep/c.txt', '/docs/notes.txt', '/a.txt'], describeCli(r));
  assert.match(out[found - 1]!, /^mtime: /, 'find *.txt printed only what lies below /docs (then list-selected follows)');
  assert.deepEqual(out.slice(out.indexOf('/a.txt')).slice(0, 3), ['/a.txt', '/docs/deep', '/etc/name with space.conf'], 'list-selected after select, find --select and deselect');
  assert.match(r.stdout, /restored t\.mpxar\.didx \+ t\.ppxar\.didx/);

  assert.deepEqual(files(t1), ['a.txt', 'docs/', 'docs/deep/', 'docs/deep/c.txt', 'etc/', 'etc/name with space.conf']);
  assert.deepEqual(files(t2), ['etc/', 'etc/app.conf', 'etc/name with space.conf']);
  assert.deepEqual(files(t3), ['docs/', 'docs/deep/', 'docs/deep/c.txt']);
  assert.equal(readFileSync(join(t3, 'docs', 'deep', 'c.txt'), 'utf8'), 'gamma');
});

test('catalog shell reads a legacy archive through its catalog, and says which archive to name when there are several', TIMEOUT, async () => {
  const r = await shell(['host/legacy/1800000000', 't.pxar'], ['cd etc', 'ls', 'help']);
  assert.equal(r.code, 0, describeCli(r));
  assert.match(r.stdout, /^f +12 \S+ app\.conf$/m);
  assert.match(r.stdout, /^restore-selected TARGET +restore the selection/m, 'help lists the commands');
  cliOk(await srv.cli(['backup', `one.pxar:${join(src, 'docs')}`, `two.pxar:${join(src, 'etc')}`, '--backup-id', 'two', '--backup-time', '1800000000']), 'backup of two archives');
  const several = await shell(['host/two/1800000000'], ['ls']);
  assert.notEqual(several.code, 0);
  assert.match(several.stderr, /several directory archives \(one\.pxar, two\.pxar\): name one/);
});

test('catalog shell on a terminal prompts with the current directory, and Ctrl-C leaves it', TIMEOUT, async (t) => {
  if (spawnSync('python3', ['-c', 'import pty']).status !== 0) {
    t.skip('needs python3 (with its pty module) to drive a terminal');
    return;
  }
  const steps = [
    [null, '/ > '],
    ['cd docs\r', '/docs > '],
    ['ls\r', 'notes.txt'],
    ['\x03', null],
  ];
  const driver = new URL('../helpers/pty-drive.py', import.meta.url).pathname;
  const child = spawn('python3', [driver, JSON.stringify(steps), process.execPath, HOLDFAST_BIN, 'catalog', 'shell', 'host/sh/1800000000'], { env: srv.env() });
  let shown = '';
  child.stdout.on('data', (d: Buffer) => (shown += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, shown);
  assert.match(shown, /t\.pxar of host\/sh\/1800000000: \d+ entries\. 'help' lists the commands/);
  assert.match(shown, /f +5 \S+ notes\.txt/);
});
