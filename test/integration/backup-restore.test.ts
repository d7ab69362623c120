/**
 * End to end through the real CLI against a real HTTPS server: a tree of ~300 files (0 B to
 * 20 MiB, symlinks, hardlinks, a fifo, empty dirs, odd names, varied modes, owners and mtimes),
 * a 100 MiB image and a config blob are backed up with `holdfast backup` and restored with
 * `holdfast restore` byte- and metadata-identical; an unchanged second backup uploads almost
 * nothing; an encrypted backup restores only with its key and leaves no plaintext in any chunk;
 * `snapshot list` and `snapshot forget` see and remove snapshots.
 *
 * The tests of this file run in order and share the server and the generated data.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp, type BigIntStats } from 'node:fs';
import { existsSync, lchownSync, linkSync, lutimesSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, chmodSync, writeFileSync, utimesSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { cliOk, describeCli, fastRandom, HOLDFAST_BIN, startTestServer, type TestServer } from '../helpers/server-fixture.ts';
import { rng } from '../helpers/seeded.ts';
import { directIoStats } from '../../src/storage/direct-io.ts';
import { nativeFunction } from '../../src/core/native-addon.ts';

const MIB = 1024 * 1024;
const IS_ROOT = process.getuid?.() === 0;
const T0 = 1_800_000_000;

let srv: TestServer;
let work = '';
let src = '';
let image = '';
let conf = '';

const TIMEOUT = { timeout: 120_000 };

before(async () => {
  srv = await startTestServer();
  work = join(srv.dir, 'work');
  src = join(work, 'src');
  image = join(work, 'disk.img');
  conf = join(work, 'app.conf');
  mkdirSync(work);
  buildTree(src);
  writeImage(image, 100 * MIB);
  writeFileSync(conf, 'listen = 0.0.0.0:8080\nworkers = 4\n# ünïcödé comment\n');
}, TIMEOUT);

after(async () => {
  await srv?.close();
});

// ---- the source tree ---------------------------------------------------------------------

const ODD_NAMES = [
  'with space.txt',
  '  two leading spaces',
  'trailing space ',
  'ünïcödé ☃.txt',
  '日本語のファイル名',
  'emoji 🎉 party.bin',
  `quote's "double"`,
  'back\\slash',
  '-starts-with-dash',
  'tab\there',
  'new\nline',
  '#hash%percent&amp*star?',
  '.hidden',
  '..two-dots-prefix',
  `${'long-name-'.repeat(24)}12345.txt`, // 255 bytes
];
const FILE_MODES = [0o644, 0o600, 0o755, 0o400, 0o640, 0o700, 0o444, 0o4755, 0o2750, 0o664];
const OWNERS: [number, number][] = [[0, 0], [1000, 1000], [1234, 5678], [65534, 65534]];
const DIRS = ['docs', 'docs/deep', 'docs/deep/er', 'docs/deep/er/est', 'media', 'with space dir', 'ünïcödé ☃', 'ünïcödé ☃/日本', 'many'];
const EMPTY_DIRS = ['empty', 'docs/deep/er/est/empty-leaf', 'empty-700', 'sticky-1777', 'readonly-555'];

/** Sizes 0 .. 1 MiB, weighted to small files as real trees are. */
function smallSize(i: number, r: () => number): number {
  switch (i % 10) {
    case 0:
      return 0;
    case 1:
      return 1 + Math.floor(r() * 100);
    case 2:
    case 3:
    case 4:
      return Math.floor(r() * 4096);
    case 5:
    case 6:
      return 4096 + Math.floor(r() * 60_000);
    case 7:
      return Math.floor(r() * 300_000);
    case 8:
      return 4096 * (1 + Math.floor(r() * 64)); // page multiples
    default:
      return Math.floor(r() * MIB);
  }
}

/** Writes the tree; metadata last (deepest directory first), since creating entries moves mtimes. */
function buildTree(root: string): void {
  const r = rng(42);
  const pool = fastRandom(2 * MIB, 1);
  const text = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog\n`).join(''));
  mkdirSync(root);
  for (const d of [...DIRS, ...EMPTY_DIRS]) mkdirSync(join(root, d), { recursive: true });
  const files: string[] = [];
  const put = (rel: string, data: Uint8Array): void => {
    writeFileSync(join(root, rel), data);
    files.push(rel);
  };
  // ~270 small files spread over the directories
  for (let i = 0; i < 270; i++) {
    const dir = i < 150 ? 'many' : (DIRS[i % DIRS.length] ?? 'docs');
    const size = smallSize(i, r);
    const start = Math.floor(r() * (pool.length - size));
    const data = i % 7 === 3 ? text.subarray(0, Math.min(size, text.length)) : pool.subarray(start, start + size);
    put(join(dir, `file-${String(i).padStart(3, '0')}.dat`), data);
  }
  ODD_NAMES.forEach((n, i) => put(i % 2 ? join('with space dir', n) : n, Buffer.from(`odd name #${i}: ${n}\n`)));
  put('media/big 20MiB.bin', fastRandom(20 * MIB, 2));
  put('media/eight-ish.bin', fastRandom(8 * MIB + 12_345, 3));
  put('docs/log.txt', text);
  put('zero-byte', Buffer.alloc(0));
  // hardlinks: one file with three names in three directories, one pair
  put('docs/hard-a', Buffer.from('hardlinked content, three names\n'));
  linkSync(join(root, 'docs/hard-a'), join(root, 'media/hard-b'));
  linkSync(join(root, 'docs/hard-a'), join(root, 'hard c'));
  put('pair-1', fastRandom(70_000, 4));
  linkSync(join(root, 'pair-1'), join(root, 'ünïcödé ☃/pair-2'));
  execFileSync('mkfifo', [join(root, 'docs/a fifo')]);
  // symlinks: relative, absolute and dangling, to a directory, UTF-8, upwards
  const links: [string, string][] = [
    ['link-rel', 'docs/log.txt'],
    ['link-abs-dangling', '/nonexistent/target path'],
    ['link-dir', 'docs'],
    ['link-utf8', 'ünïcödé ☃/日本'],
    ['docs/deep/up', '../../with space dir'],
  ];
  for (const [at, target] of links) symlinkSync(target, join(root, at));

  files.forEach((rel, i) => {
    const p = join(root, rel);
    if (IS_ROOT) {
      const [uid, gid] = OWNERS[i % OWNERS.length]!;
      chownSync(p, uid, gid);
    }
    chmodSync(p, FILE_MODES[i % FILE_MODES.length]!);
    utimesSync(p, 1_700_000_000, i === 4 ? 4_102_444_800.25 : 1_500_000_000 + i * 3607 + (i % 1000) / 1000);
  });
  // before 1970 (node's utimes turns negative times into "now", touch does not)
  execFileSync('touch', ['-m', '-d', '@-86400.5', join(root, files[3]!)]);
  links.forEach(([at], i) => {
    if (IS_ROOT) lchownSync(join(root, at), 1000 + i, 2000 + i);
    lutimesSync(join(root, at), 1_700_000_000, 1_400_000_000 + i * 11.5);
  });
  const dirModes: Record<string, number> = { 'empty-700': 0o700, 'sticky-1777': 0o1777, 'readonly-555': 0o555, media: 0o2775, docs: 0o750 };
  const allDirs = [...DIRS, ...EMPTY_DIRS].sort((a, b) => b.split('/').length - a.split('/').length);
  allDirs.forEach((d, i) => {
    const p = join(root, d);
    if (IS_ROOT) chownSync(p, OWNERS[i % OWNERS.length]![0], OWNERS[i % OWNERS.length]![1]);
    chmodSync(p, dirModes[d] ?? 0o755);
    utimesSync(p, 1_700_000_000, 1_600_000_000 + i * 86_400 + 0.5);
  });
  utimesSync(root, 1_700_000_000, 1_650_000_000);
}

/** A disk image: mostly random data, with zeroed stretches as real images have; not 4 MiB aligned. */
function writeImage(path: string, size: number): void {
  const data = fastRandom(size - 12_345, 5);
  data.fill(0, 20 * MIB, 30 * MIB);
  data.fill(0, 61 * MIB + 7, 62 * MIB);
  writeFileSync(path, Buffer.concat([data, Buffer.alloc(12_345, 0x5a)]));
}

// ---- comparing trees ---------------------------------------------------------------------

interface Entry {
  readonly type: string;
  readonly mode: string;
  readonly owner: string;
  readonly mtimeNs: string;
  readonly size?: string;
  readonly sha256?: string;
  readonly target?: string;
  readonly linkGroup?: string;
}

function typeOf(st: BigIntStats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  return 'other';
}

/** Every entry under root (root itself as '.'), with hardlink groups named by their first path. */
async function describeTree(root: string): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  const byInode = new Map<bigint, string>();
  const visit = async (rel: string): Promise<void> => {
    const abs = join(root, rel);
    const st = await fsp.lstat(abs, { bigint: true });
    const type = typeOf(st);
    const e: Record<string, string> = { type, mode: st.mode.toString(8), owner: `${st.uid}:${st.gid}`, mtimeNs: st.mtimeNs.toString() };
    if (type === 'file') {
      e['size'] = st.size.toString();
      e['sha256'] = createHash('sha256').update(await fsp.readFile(abs)).digest('hex');
      if (st.nlink > 1n) {
        const first = byInode.get(st.ino) ?? rel;
        byInode.set(st.ino, first);
        e['linkGroup'] = first;
      }
    }
    if (type === 'symlink') e['target'] = await fsp.readlink(abs);
    out.set(rel, e as unknown as Entry);
    if (type === 'dir') for (const name of (await fsp.readdir(abs)).sort()) await visit(rel === '.' ? name : join(rel, name));
  };
  await visit('.');
  return out;
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

// ---- CLI helpers -------------------------------------------------------------------------

interface ArchiveReport {
  readonly archive: string;
  readonly size: number;
  readonly chunks?: number;
  readonly uploadedChunks?: number;
  readonly uploadedBytes?: number;
}
interface BackupReport {
  readonly snapshot: string;
  readonly archives: ArchiveReport[];
}

async function backup(args: readonly string[], store?: string): Promise<BackupReport> {
  const r = cliOk(await srv.cli(['backup', ...args, '--output-format', 'json'], store), 'holdfast backup');
  return JSON.parse(r.stdout) as BackupReport;
}

interface Listed {
  readonly 'backup-type': string;
  readonly 'backup-id': string;
  readonly 'backup-time': number;
  readonly files?: { filename: string }[];
}

async function listSnapshots(store?: string): Promise<Listed[]> {
  return JSON.parse(cliOk(await srv.cli(['snapshot', 'list', '--output-format', 'json'], store), 'snapshot list').stdout) as Listed[];
}

// ---- the tests ---------------------------------------------------------------------------

const SPECS = (): string[] => [`root.pxar:${src}`, `disk.img:${image}`, `app.conf:${conf}`];
let first: BackupReport;

test('holdfast backup stores a tree, an image and a blob, and restore gives back identical bytes and metadata', TIMEOUT, async () => {
  first = await backup([...SPECS(), '--backup-id', 'web1', '--backup-time', String(T0)]);
  assert.equal(first.snapshot, 'host/web1/2027-01-15T08:00:00Z');
  // directories default to change-detection mode metadata: a split archive (.mpxar + .ppxar)
  assert.deepEqual(first.archives.map((a) => a.archive), ['root.mpxar.didx', 'root.ppxar.didx', 'disk.img.fidx', 'app.conf.blob']);
  const img = first.archives[2]!;
  assert.equal(img.size, 100 * MIB);
  assert.equal(img.chunks, 25);

  const treeTarget = join(work, 'restored-tree');
  const imgTarget = join(work, 'restored.img');
  const confTarget = join(work, 'restored.conf');
  cliOk(await srv.cli(['restore', first.snapshot, 'root.pxar', treeTarget]), 'restore root.pxar');
  cliOk(await srv.cli(['restore', first.snapshot, 'disk.img', imgTarget]), 'restore disk.img');
  cliOk(await srv.cli(['restore', String(`host/web1/${T0}`), 'app.conf', confTarget]), 'restore app.conf');

  const [want, got] = await Promise.all([describeTree(src), describeTree(treeTarget)]);
  assert.ok(want.size >= 300, `the source tree has ${want.size} entries`);
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), 'restored paths differ');
  for (const [rel, e] of want) assert.deepEqual(got.get(rel), e, `restored entry '${rel}' differs`);
  assert.equal(sha256File(imgTarget), sha256File(image), 'restored image differs');
  assert.equal(statSync(imgTarget).size, 100 * MIB);
  assert.deepEqual(readFileSync(confTarget), readFileSync(conf), 'restored blob differs');
});

test('the server writes each uploaded chunk file from its upload buffer and reads it for a restore into the buffer it sends (O_DIRECT in place, no copies)', TIMEOUT, async (t) => {
  if (nativeFunction('misalign') === undefined) return t.skip('the native addon is not built: buffers cannot be aligned (npm run build:native)');
  const img = join(work, 'inplace.img');
  writeFileSync(img, fastRandom(9 * MIB + 5, 77)); // new bytes: three chunks this store has not seen
  const chunkFiles = (): number => readdirSync(join(srv.datastorePath(), '.chunks'), { recursive: true }).filter((n) => /[0-9a-f]{64}$/.test(String(n))).length;
  const files0 = chunkFiles();
  const s0 = directIoStats();
  const r = await backup([`inplace.img:${img}`, '--backup-id', 'inplace', '--backup-time', String(T0)]);
  const s1 = directIoStats();
  const written = chunkFiles() - files0;
  assert.equal(written, r.archives[0]!.chunks, 'each chunk is a new file');
  if (s1.inPlaceBytes === s0.inPlaceBytes && s1.copiedBytes === s0.copiedBytes) return t.skip('the datastore filesystem refuses O_DIRECT');
  assert.ok(s1.inPlaceBytes - s0.inPlaceBytes >= 9 * MIB - written * 4096, `${s1.inPlaceBytes - s0.inPlaceBytes} bytes written in place`);
  assert.ok(s1.copiedBytes - s0.copiedBytes < written * 4096, `${s1.copiedBytes - s0.copiedBytes} bytes copied: at most each file's last partial block`);
  const target = join(work, 'inplace.restored');
  cliOk(await srv.cli(['restore', r.snapshot, 'inplace.img', target]), 'restore inplace.img');
  const s2 = directIoStats();
  assert.deepEqual(readFileSync(target), readFileSync(img));
  assert.ok(s2.inPlaceBytes - s1.inPlaceBytes >= 9 * MIB, `${s2.inPlaceBytes - s1.inPlaceBytes} bytes read in place`);
  assert.equal(s2.copiedBytes, s1.copiedBytes, 'no chunk read through a copy');
  cliOk(await srv.cli(['snapshot', 'forget', r.snapshot]), 'snapshot forget'); // the listing test below sees web1 only
});

test('restore of an image to stdout (-) gives its exact bytes through a pipe the reader drains slowly (chunk memory is reused only after stdout is done with it)', TIMEOUT, async () => {
  const child = spawn(process.execPath, [HOLDFAST_BIN, 'restore', `host/web1/${T0}`, 'disk.img', '-'], { env: srv.env(), stdio: ['ignore', 'pipe', 'pipe'] });
  const hash = createHash('sha256');
  let bytes = 0;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    hash.update(d);
    bytes += d.length;
    // hold the pipe full for a turn of the event loop: the CLI's writes then wait (backpressure)
    child.stdout.pause();
    setImmediate(() => child.stdout.resume());
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, stderr);
  assert.equal(bytes, statSync(image).size);
  assert.equal(hash.digest('hex'), sha256File(image), 'the bytes on stdout are the image');
});

test('a second backup of unchanged data uploads less than 1% of its bytes', TIMEOUT, async () => {
  const second = await backup([...SPECS(), '--backup-id', 'web1', '--backup-time', String(T0 + 3600)]);
  const total = second.archives.reduce((a, x) => a + x.size, 0);
  const uploaded = second.archives.reduce((a, x) => a + (x.uploadedBytes ?? x.size), 0);
  assert.ok(total > 150 * MIB, `backup size ${total}`);
  assert.ok(uploaded < total / 100, `second backup uploaded ${uploaded} of ${total} bytes: ${JSON.stringify(second.archives)}`);
  for (const a of second.archives) {
    if (a.chunks === undefined) continue;
    // A first reuse rewrites the split archive's small parts: the payload stream's new start and
    // tail markers sit in chunks of their own, and the metadata archive's payload offsets move.
    if (a.archive === 'root.ppxar.didx') assert.ok((a.uploadedBytes ?? 0) <= 64, `${a.archive} uploaded ${a.uploadedBytes} bytes again`);
    else if (a.archive !== 'root.mpxar.didx') assert.equal(a.uploadedChunks, 0, `${a.archive} uploaded chunks again`);
  }
});

test('snapshot list shows both snapshots; snapshot forget removes one and the other still restores', TIMEOUT, async () => {
  const listed = await listSnapshots();
  assert.deepEqual(
    listed.map((s) => `${s['backup-type']}/${s['backup-id']}/${s['backup-time']}`),
    [`host/web1/${T0}`, `host/web1/${T0 + 3600}`],
  );
  for (const s of listed) {
    const files = (s.files ?? []).map((f) => f.filename).filter((f) => f !== 'index.json.blob');
    assert.deepEqual(files.sort(), ['app.conf.blob', 'disk.img.fidx', 'root.fileid.blob', 'root.mpxar.didx', 'root.ppxar.didx']);
  }
  const text = cliOk(await srv.cli(['snapshot', 'list']), 'snapshot list (text)').stdout;
  assert.match(text, /host\/web1\/2027-01-15T08:00:00Z/);
  assert.match(text, /host\/web1\/2027-01-15T09:00:00Z/);

  cliOk(await srv.cli(['snapshot', 'forget', first.snapshot]), 'snapshot forget');
  assert.deepEqual((await listSnapshots()).map((s) => s['backup-time']), [T0 + 3600]);
  assert.equal(existsSync(join(srv.datastorePath(), 'host', 'web1', '2027-01-15T08:00:00Z')), false, 'the forgotten snapshot dir is still on disk');
  const imgTarget = join(work, 'restored-2.img');
  cliOk(await srv.cli(['restore', 'host/web1/2027-01-15T09:00:00Z', 'disk.img', imgTarget]), 'restore from the remaining snapshot');
  assert.equal(sha256File(imgTarget), sha256File(image));
});

test('an encrypted backup restores with its key, fails clearly without it, and no chunk holds plaintext', TIMEOUT, async () => {
  await srv.addDatastore('vault', 'filesystem');
  const keyfile = join(work, 'keys', 'backup-key.json');
  cliOk(await srv.cli(['key', 'create', keyfile, '--kdf', 'none']), 'key create');
  assert.equal(statSync(keyfile).mode & 0o777, 0o600);

  const secretDir = join(work, 'secret');
  mkdirSync(secretDir);
  const secretFile = fastRandom(6 * MIB + 999, 77);
  const secretImage = fastRandom(5 * MIB, 78);
  const secretConf = Buffer.from(`password = ${fastRandom(48, 79).toString('hex')}\n`);
  writeFileSync(join(secretDir, 'payload.bin'), secretFile);
  writeFileSync(join(work, 'vault.img'), secretImage);
  writeFileSync(join(work, 'secret.conf'), secretConf);
  const specs = [`data.pxar:${secretDir}`, `vault.img:${join(work, 'vault.img')}`, `secret.conf:${join(work, 'secret.conf')}`];
  const rep = await backup([...specs, '--backup-id', 'enc', '--backup-time', String(T0), '--keyfile', keyfile], 'vault');

  const dataTarget = join(work, 'secret-restored');
  cliOk(await srv.cli(['restore', rep.snapshot, 'data.pxar', dataTarget, '--keyfile', keyfile], 'vault'), 'encrypted restore (pxar)');
  assert.ok(readFileSync(join(dataTarget, 'payload.bin')).equals(secretFile), 'decrypted pxar content differs');
  cliOk(await srv.cli(['restore', rep.snapshot, 'vault.img', join(work, 'vault-restored.img'), '--keyfile', keyfile], 'vault'), 'encrypted restore (img)');
  assert.ok(readFileSync(join(work, 'vault-restored.img')).equals(secretImage), 'decrypted image differs');
  cliOk(await srv.cli(['restore', rep.snapshot, 'secret.conf', join(work, 'secret-restored.conf'), '--keyfile', keyfile], 'vault'), 'encrypted restore (blob)');
  assert.ok(readFileSync(join(work, 'secret-restored.conf')).equals(secretConf), 'decrypted blob differs');

  for (const archive of ['vault.img', 'data.pxar', 'secret.conf']) {
    const target = join(work, `no-key-${archive}`);
    const r = await srv.cli(['restore', rep.snapshot, archive, target], 'vault');
    assert.notEqual(r.code, 0, `restore of ${archive} without the key succeeded`);
    assert.match(r.stderr, /error \[KEY_REQUIRED\]: .*key/i, describeCli(r));
    assert.equal(existsSync(target) && statSync(target).isFile() && statSync(target).size > 0, false, `restore of ${archive} without the key wrote data`);
  }

  // No chunk file may hold any 64-byte window of the plaintext (random data would be stored
  // verbatim if it were not encrypted, since it does not compress).
  const r = rng(7);
  const windows: Buffer[] = [];
  for (const plain of [secretFile, secretImage]) {
    for (let i = 0; i < 24; i++) {
      const at = Math.floor(r() * (plain.length - 64));
      windows.push(plain.subarray(at, at + 64));
    }
  }
  const chunkRoot = join(srv.datastorePath('vault'), '.chunks');
  let chunkFiles = 0;
  for (const prefix of readdirSync(chunkRoot)) {
    for (const name of readdirSync(join(chunkRoot, prefix))) {
      const bytes = readFileSync(join(chunkRoot, prefix, name));
      chunkFiles++;
      for (const w of windows) assert.equal(bytes.indexOf(w), -1, `chunk ${name} contains plaintext`);
    }
  }
  assert.ok(chunkFiles >= 3, `only ${chunkFiles} chunk files in the vault datastore`);
  const blobPath = join(srv.datastorePath('vault'), 'host', 'enc', '2027-01-15T08:00:00Z', 'secret.conf.blob');
  assert.equal(readFileSync(blobPath).indexOf(secretConf.subarray(0, 32)), -1, 'the blob holds its plaintext');
});

test('--rate and --burst: a rate-limited backup and restore give the same bytes; a rate that is no byte count fails before connecting', TIMEOUT, async () => {
  const limited = await backup([`disk.img:${image}`, '--backup-id', 'rated', '--backup-time', String(T0), '--rate', '4GiB', '--burst', '256MiB']);
  const target = join(work, 'rated.img');
  cliOk(await srv.cli(['restore', limited.snapshot, 'disk.img', target, '--rate', '4GiB']), 'rate-limited restore');
  assert.equal(sha256File(target), sha256File(image));
  for (const [args, message] of [[['--rate', 'fast'], /is not a byte rate/], [['--burst', '1M'], /--burst needs --rate/]] as const) {
    const r = await srv.cli(['backup', `disk.img:${image}`, ...args, '--repository', 'nobody@pam@127.0.0.1:1:store']);
    assert.equal(r.code, 2, describeCli(r));
    assert.match(r.stderr, message);
  }
});
