/**
 * `holdfast mount` against a real server and a real FUSE mount (as root): a split (metadata-mode)
 * and a unified (legacy) directory archive each show the source tree exactly (names, kinds,
 * modes, owners, sizes, mtimes, bytes, symlink targets, hardlinks as one inode, xattrs, and a
 * directory of 2000 files, more than one READDIR reply), nothing can be written, and Ctrl-C or an
 * outside `umount` ends the command; an image archive shows as one file with the image's bytes;
 * a busy mount survives Ctrl-C; another local user is kept out unless `--allow-other`; a damaged
 * chunk fails only the read that needs it (EIO, the chunk named on stderr); a mount outlives the
 * server closing its idle session; an encrypted snapshot needs its key; bad arguments get typed
 * errors.
 *
 * The server runs in this process, so everything here that touches the mount is asynchronous and
 * one at a time: a blocked event loop, or a thread pool filled by reads waiting on the mount,
 * would keep the server from answering the very chunk fetch the mount waits for.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { lstat, open, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDynamicIndex } from '../../src/format/dynamic-index.ts';
import { cliOk, describeCli, HOLDFAST_BIN, startTestServer, type CliResult, type TestServer } from '../helpers/server-fixture.ts';

const TIMEOUT = { timeout: 180_000 };
const IS_ROOT = process.getuid?.() === 0;
const SKIP = !IS_ROOT ? 'mounting needs root' : !existsSync('/dev/fuse') ? 'needs /dev/fuse' : false;

let srv: TestServer;
let src: string;
let image: Buffer;

function run(cmd: string, args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Mount commands still running: `after` ends them (and their mounts) when a test failed midway. */
const running = new Set<Mounted>();

interface Mounted {
  readonly child: ChildProcess;
  readonly dir: string;
  readonly stderr: () => string;
  readonly exited: Promise<CliResult>;
}

/**
 * Starts `holdfast mount …` and resolves once it says the mount is up (or rejects if it exits
 * first). `name` is a directory made in the server's work dir, unless it is an absolute path.
 */
async function mount(snapshot: string, archive: string, name: string, extra: readonly string[] = [], env: Readonly<Record<string, string>> = {}): Promise<Mounted> {
  const dir = name.startsWith('/') ? name : join(srv.dir, name);
  mkdirSync(dir, { recursive: true });
  const child = spawn(process.execPath, [HOLDFAST_BIN, 'mount', snapshot, archive, dir, ...extra], { env: { ...srv.env(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<CliResult>((resolve) => child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/^mounted /m.test(stderr)) resolve();
    });
    void exited.then((r) => reject(new Error(`mount exited before mounting: ${describeCli(r)}`)));
  });
  const m = { child, dir, stderr: () => stderr, exited };
  running.add(m);
  void exited.then(() => running.delete(m));
  return m;
}

const isMounted = async (dir: string): Promise<boolean> => (await readFile('/proc/self/mounts', 'utf8')).split('\n').some((l) => l.split(' ')[1] === dir);

/** A line per entry under `root`: path, kind, mode, owner, size, mtime, content hash or link target. */
async function describeTree(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const p = join(dir, name);
    const s = await lstat(p);
    const rel = p.slice(root.length + 1);
    let what = '';
    if (s.isFile()) what = createHash('sha256').update(await readFile(p)).digest('hex');
    else if (s.isSymbolicLink()) what = `-> ${await readlink(p)}`;
    out.push(`${rel} mode=${s.mode.toString(8)} uid=${s.uid} gid=${s.gid} size=${s.isFile() || s.isSymbolicLink() ? s.size : '-'} mtime=${s.isSymbolicLink() ? '-' : Math.floor(s.mtimeMs / 1000)} ${what}`);
    if (s.isDirectory()) out.push(...(await describeTree(root, p)));
  }
  return out;
}

async function getXattr(path: string, name: string): Promise<string> {
  const r = await run('python3', ['-c', 'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2]).decode())', path, name]);
  return r.code === 0 ? r.stdout : `error: ${r.stderr.trim().split('\n').at(-1)}`;
}

before(async () => {
  if (SKIP) return;
  srv = await startTestServer();
  src = join(srv.dir, 'src');
  mkdirSync(join(src, 'docs', 'deep'), { recursive: true });
  mkdirSync(join(src, 'empty-dir'));
  writeFileSync(join(src, 'a.txt'), 'alpha');
  writeFileSync(join(src, 'empty'), '');
  // several chunks' worth of data that does not compress: reads cross chunk boundaries, and
  // it is longer than the largest chunk (16 MiB), so some chunk holds nothing but its bytes
  writeFileSync(join(src, 'docs', 'big.bin'), randomBytes(20 << 20));
  writeFileSync(join(src, 'docs', 'deep', 'c.txt'), 'gamma');
  // a directory larger than one READDIR reply and one goodbye-table page
  mkdirSync(join(src, 'many'));
  for (let i = 0; i < 2000; i++) writeFileSync(join(src, 'many', `file-${i}`), String(i));
  writeFileSync(join(src, 'name with space ü.txt'), 'spaced\n');
  symlinkSync('docs/deep/c.txt', join(src, 'link'));
  linkSync(join(src, 'a.txt'), join(src, 'docs', 'hard-a.txt'));
  const x = await run('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], "user.holdfast", b"xattr-value")', join(src, 'a.txt')]);
  assert.equal(x.code, 0, `setxattr on the test tree: ${x.stderr}`);
  cliOk(await srv.cli(['backup', `t.pxar:${src}`, '--backup-id', 'm', '--backup-time', '1800000000']), 'backup (metadata mode)');
  cliOk(await srv.cli(['backup', `t.pxar:${src}`, '--backup-id', 'legacy', '--backup-time', '1800000000', '--change-detection-mode', 'legacy']), 'backup (legacy)');
  image = Buffer.alloc(9 << 20);
  for (let i = 0; i < image.length; i += 4096) image.writeUInt32LE(i * 7 + 1, i);
  writeFileSync(join(srv.dir, 'disk.raw'), image);
  cliOk(await srv.cli(['backup', `disk.img:${join(srv.dir, 'disk.raw')}`, '--backup-id', 'vm', '--backup-time', '1800000000']), 'backup (image)');
}, TIMEOUT);

/** Ends the mount commands a failed test left running, and their mounts. */
async function cleanupMounts(): Promise<void> {
  for (const m of running) {
    await run('umount', ['-l', m.dir]);
    m.child.kill('SIGKILL');
    await m.exited;
  }
}

after(async () => {
  await cleanupMounts();
  await srv?.close();
});

test('a split archive mounts as the source tree, read-only, and Ctrl-C unmounts it', { ...TIMEOUT, skip: SKIP }, async () => {
  const m = await mount('host/m/1800000000', 't.pxar', 'mnt-split');
  assert.ok(await isMounted(m.dir), 'listed in /proc/mounts');
  assert.deepEqual(await describeTree(m.dir), await describeTree(src));
  const [a, hard] = [await lstat(join(m.dir, 'a.txt')), await lstat(join(m.dir, 'docs', 'hard-a.txt'))];
  assert.equal(a.ino, hard.ino, 'a hardlink is the same inode as its target');
  assert.equal(await getXattr(join(m.dir, 'a.txt'), 'user.holdfast'), 'xattr-value');
  assert.match(await getXattr(join(m.dir, 'a.txt'), 'user.none'), /No data available/);
  // a read in the middle of the big file, across a chunk boundary, gives those bytes
  const fh = await open(join(m.dir, 'docs', 'big.bin'));
  const piece = Buffer.alloc(300_000);
  await fh.read(piece, 0, piece.length, (4 << 20) - 100_000);
  await fh.close();
  const whole = await readFile(join(src, 'docs', 'big.bin'));
  assert.ok(piece.equals(whole.subarray((4 << 20) - 100_000, (4 << 20) + 200_000)));
  await assert.rejects(writeFile(join(m.dir, 'new.txt'), 'x'), (e: NodeJS.ErrnoException) => e.code === 'EROFS');
  await assert.rejects(writeFile(join(m.dir, 'a.txt'), 'x'), (e: NodeJS.ErrnoException) => e.code === 'EROFS');
  await assert.rejects(lstat(join(m.dir, 'missing')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  m.child.kill('SIGINT');
  const r = await m.exited;
  assert.equal(r.code, 0, describeCli(r));
  assert.match(r.stderr, /unmounted /);
  assert.equal(await isMounted(m.dir), false);
});

test('many lookups at once each find their own name', { ...TIMEOUT, skip: SKIP }, async () => {
  const m = await mount('host/m/1800000000', 't.pxar', 'mnt-parallel');
  // 16 processes stat 2000 names without listing the directory first: the kernel asks for them
  // in parallel, and each answer must be the entry of the name asked for
  const r = await run('sh', ['-c', `seq 0 1999 | sed 's|^|${m.dir}/many/file-|' | xargs -P 16 -n 25 stat -c '%n %s'`]);
  assert.equal(r.code, 0, describeCli(r));
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2000);
  for (const line of lines) {
    const [path, size] = line.split(' ');
    const i = path!.slice(path!.lastIndexOf('-') + 1);
    assert.equal(Number(size), i.length, line);
  }
  m.child.kill('SIGINT');
  assert.equal((await m.exited).code, 0);
});

test('a unified (legacy) archive mounts the same, and an outside umount ends the command', { ...TIMEOUT, skip: SKIP }, async () => {
  const m = await mount('host/legacy/1800000000', 't.pxar', 'mnt-legacy');
  assert.deepEqual(await describeTree(m.dir), await describeTree(src));
  const u = await run('umount', [m.dir]);
  assert.equal(u.code, 0, describeCli(u));
  const r = await m.exited;
  assert.equal(r.code, 0, describeCli(r));
});

test('an image archive mounts as one file with the image bytes', { ...TIMEOUT, skip: SKIP }, async () => {
  const m = await mount('host/vm/1800000000', 'disk.img', 'mnt-image');
  assert.deepEqual(await readdir(m.dir), ['disk.img']);
  assert.equal((await lstat(join(m.dir, 'disk.img'))).size, image.length);
  assert.ok((await readFile(join(m.dir, 'disk.img'))).equals(image));
  m.child.kill('SIGTERM');
  assert.equal((await m.exited).code, 0);
});

test('Ctrl-C while a file is open keeps the mount and says why; the next one unmounts', { ...TIMEOUT, skip: SKIP }, async () => {
  const m = await mount('host/m/1800000000', 't.pxar', 'mnt-busy');
  const fh = await open(join(m.dir, 'a.txt'));
  const said = new Promise<void>((resolve) => m.child.stderr!.on('data', () => /is in use/.test(m.stderr()) && resolve()));
  m.child.kill('SIGINT');
  await said;
  assert.ok(await isMounted(m.dir));
  assert.equal((await fh.readFile()).toString(), 'alpha', 'the open file still reads');
  await fh.close();
  m.child.kill('SIGINT');
  assert.equal((await m.exited).code, 0);
  assert.equal(await isMounted(m.dir), false);
});

test('a damaged chunk fails only the reads that need it, with EIO and the chunk named', { ...TIMEOUT, skip: SKIP }, async () => {
  // a chunk of the payload archive that holds some of big.bin and none of a.txt: any but the
  // first (a.txt, the first file, lies in it) that starts inside big.bin (20 MiB from ~50 bytes in)
  const snapshotDir = join(srv.datastorePath(), 'host', 'm', new Date(1_800_000_000_000).toISOString().replace('.000Z', 'Z'));
  const index = parseDynamicIndex(await readFile(join(snapshotDir, 't.ppxar.didx')));
  const inside = index.entries.find((_, i) => i > 0 && index.entries[i - 1]!.end < 20 << 20);
  assert.ok(inside, 'a chunk inside big.bin');
  const hex = Buffer.from(inside.digest).toString('hex');
  const chunk = join(srv.datastorePath(), '.chunks', hex.slice(0, 4), hex);
  const original = await readFile(chunk);
  const damaged = Buffer.from(original);
  damaged[damaged.length >> 1] = damaged[damaged.length >> 1]! ^ 0xff;
  await writeFile(chunk, damaged);
  try {
    const m = await mount('host/m/1800000000', 't.pxar', 'mnt-damaged');
    await assert.rejects(readFile(join(m.dir, 'docs', 'big.bin')), (e: NodeJS.ErrnoException) => e.code === 'EIO');
    assert.equal((await readFile(join(m.dir, 'a.txt'))).toString(), 'alpha', 'other files still read');
    m.child.kill('SIGINT');
    const r = await m.exited;
    assert.equal(r.code, 0, describeCli(r));
    assert.match(r.stderr, /read failed \(EIO\): (DIGEST_MISMATCH|BAD_CRC|CORRUPT)\b.*[0-9a-f]{64}/);
  } finally {
    await writeFile(chunk, original);
  }
});

test('a mount outlives the server closing its idle session: the next read opens a new one', { ...TIMEOUT, skip: SKIP }, async () => {
  let idleClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (idleClosed = resolve));
  const log = { info: () => undefined, warn: (msg: string) => /idle/.test(msg) && idleClosed() };
  const idle = await startTestServer({ limits: { sessionIdleMs: 2000 }, log });
  const saved = srv;
  try {
    srv = idle;
    cliOk(await idle.cli(['backup', `t.pxar:${src}`, '--backup-id', 'idle', '--backup-time', '1800000000']), 'backup');
    const m = await mount('host/idle/1800000000', 't.pxar', 'mnt-idle');
    assert.equal((await readFile(join(m.dir, 'a.txt'))).toString(), 'alpha');
    await closed; // the server closed the mount's session
    const whole = await readFile(join(src, 'docs', 'big.bin'));
    const got = await readFile(join(m.dir, 'docs', 'big.bin')).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${m.stderr()}`);
    });
    assert.ok(got.equals(whole), 'read through a new session');
    m.child.kill('SIGINT');
    assert.equal((await m.exited).code, 0);
  } finally {
    srv = saved;
    await cleanupMounts();
    await idle.close();
  }
});

test('only the user who mounted it may enter, unless --allow-other (then the stored modes decide)', { ...TIMEOUT, skip: SKIP }, async () => {
  // a mount point another user can reach (the server's work dir is private to root)
  const parent = mkdtempSync('/tmp/holdfast-mount-');
  chmodSync(parent, 0o755);
  const asNobody = (cmd: string): Promise<CliResult> => run('runuser', ['-u', 'nobody', '--', 'sh', '-c', cmd]);
  try {
    const own = await mount('host/m/1800000000', 't.pxar', join(parent, 'own'));
    const denied = await asNobody(`ls ${own.dir}`);
    assert.notEqual(denied.code, 0, describeCli(denied));
    assert.match(denied.stderr, /Permission denied/);
    own.child.kill('SIGINT');
    assert.equal((await own.exited).code, 0);
    const shared = await mount('host/m/1800000000', 't.pxar', join(parent, 'shared'), ['--allow-other']);
    const listed = await asNobody(`ls ${shared.dir} && cat ${join(shared.dir, 'a.txt')}`);
    assert.equal(listed.code, 0, describeCli(listed));
    assert.match(listed.stdout, /a\.txt/);
    assert.match(listed.stdout, /alpha/);
    shared.child.kill('SIGINT');
    assert.equal((await shared.exited).code, 0);
  } finally {
    await cleanupMounts();
    rmSync(parent, { recursive: true, force: true });
  }
});

test('an encrypted snapshot mounts with its key, and without it is refused before anything is mounted', { ...TIMEOUT, skip: SKIP }, async () => {
  const key = join(srv.dir, 'mount.key');
  const env = { HOLDFAST_ENCRYPTION_PASSWORD: 'mount-key-pass' };
  cliOk(await srv.cli(['key', 'create', key], 'default', env), 'key create');
  cliOk(await srv.cli(['backup', `t.pxar:${src}`, '--backup-id', 'enc', '--backup-time', '1800000000', '--keyfile', key], 'default', env), 'encrypted backup');
  const dir = join(srv.dir, 'mnt-enc-nokey');
  mkdirSync(dir, { recursive: true });
  const refused = await srv.cli(['mount', 'host/enc/1800000000', 't.pxar', dir]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /KEY_REQUIRED/);
  assert.equal(await isMounted(dir), false);
  const m = await mount('host/enc/1800000000', 't.pxar', 'mnt-enc', ['--keyfile', key], env);
  assert.equal((await readFile(join(m.dir, 'docs', 'deep', 'c.txt'))).toString(), 'gamma');
  assert.ok((await readFile(join(m.dir, 'docs', 'big.bin'))).equals(await readFile(join(src, 'docs', 'big.bin'))));
  m.child.kill('SIGINT');
  assert.equal((await m.exited).code, 0);
});

test('mount refuses a missing mount point, a blob and an unknown archive with typed errors', { ...TIMEOUT, skip: SKIP }, async () => {
  const dir = join(srv.dir, 'mnt-errors');
  mkdirSync(dir, { recursive: true });
  const missing = await srv.cli(['mount', 'host/m/1800000000', 't.pxar', join(srv.dir, 'nowhere')]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /NOT_FOUND|mount point .*nowhere/);
  const blob = await srv.cli(['mount', 'host/m/1800000000', 'index.json', dir]);
  assert.notEqual(blob.code, 0, describeCli(blob));
  const unknown = await srv.cli(['mount', 'host/m/1800000000', 'nope.pxar', dir]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /not in this snapshot/);
  assert.equal(await isMounted(dir), false);
});
