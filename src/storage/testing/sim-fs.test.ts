import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../../core/errors.ts';
import { failEverySync, failNthSync } from './fault-fs.ts';
import { readTree } from './read-tree.ts';
import { SimFs, type SimFsOptions, type SimOpInfo } from './sim-fs.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function newFs(options: SimFsOptions = {}): SimFs {
  let t = Date.UTC(2025, 0, 1);
  return new SimFs({ now: () => (t += 1000), ...options });
}

async function put(fs: SimFs, path: string, data: string, sync = false): Promise<void> {
  const h = await fs.open(path, 'w');
  await h.write(enc.encode(data), 0);
  if (sync) await h.sync();
  await h.close();
}

/** What survives when nothing pending does (the posix-weak floor): exactly the durable image. */
async function durableTree(fs: SimFs): Promise<Map<string, unknown>> {
  return readTree(fs.crashStates('posix-weak', { seed: 1, max: 1 })[0]!.mount());
}

test('SimFs.onOp runs before each mutating call with its kind, path and sequence number', async () => {
  const fs = newFs();
  const seen: SimOpInfo[] = [];
  fs.onOp((op) => seen.push(op));
  await fs.mkdir('/d');
  const h = await fs.open('/d/f', 'wx');
  await h.write(enc.encode('x'), 0);
  await h.truncate(0);
  await h.sync();
  await h.close();
  await fs.readFile('/d/f');
  await fs.stat('/d/f');
  await fs.readdir('/d');
  await fs.rename('/d/f', '/d/g');
  await fs.touchAtime('/d/g');
  await fs.unlink('/d/g');
  await fs.fsyncDir('/d');
  await fs.rmdir('/d');
  await fs.syncfs('/');
  const kinds = ['mkdir', 'open', 'write', 'truncate', 'fsync', 'rename', 'touchAtime', 'unlink', 'fsyncDir', 'rmdir', 'syncfs'];
  assert.deepEqual(seen.map((op) => op.kind), kinds);
  assert.deepEqual(seen.map((op) => op.seq), kinds.map((_, i) => i + 1));
  assert.equal(seen[5]!.path, '/d/g');
  assert.equal(fs.opCount, kinds.length);
});

test('SimFs.onOp: a hook that throws fails the call before it changes anything', async () => {
  const fs = newFs();
  await put(fs, '/f', 'before');
  const cut = new Error('power cut');
  const remove = fs.onOp((op) => {
    if (op.kind === 'write') throw cut;
  });
  const h = await fs.open('/f', 'r+');
  await assert.rejects(h.write(enc.encode('after!'), 0), cut);
  remove();
  await h.write(enc.encode('later'), 0);
  await h.close();
  assert.equal(dec.decode(await fs.readFile('/f')), 'latere');
});

test('SimFs.powerCut freezes the crash point and fails every later call with ABORTED', async () => {
  const fs = newFs();
  await put(fs, '/f', 'data');
  const h = await fs.open('/f', 'r');
  const point = fs.powerCut();
  const aborted = (e: unknown): boolean => isHoldfastError(e, 'ABORTED');
  await assert.rejects(fs.syncfs('/'), aborted);
  await assert.rejects(fs.readFile('/f'), aborted);
  await assert.rejects(h.read(0, 4), aborted);
  assert.equal(point.opCount, 2);
  assert.equal(point.pendingOps.length, 3);
  const ceiling = point.crashStates('ext4-ordered', { seed: 1, max: 10 })[1]!;
  assert.equal(dec.decode(await ceiling.mount().readFile('/f')), 'data');
});

test('SimFs.snapshot is unaffected by what the filesystem does afterwards', async () => {
  const fs = newFs();
  await put(fs, '/f', 'one');
  await fs.syncfs('/');
  await put(fs, '/f', 'two');
  const point = fs.snapshot();
  await put(fs, '/f', 'three', true);
  await fs.syncfs('/');
  const seen = new Set<string>();
  for (const state of point.crashStates('posix-weak', { seed: 1, max: 100 })) {
    seen.add(dec.decode(await state.mount().readFile('/f')));
  }
  assert.ok(seen.has('one') && seen.has('two') && !seen.has('three'));
});

test('FileHandle.sync makes data durable but not the name; fsyncDir makes the name durable', async () => {
  const fs = newFs();
  await fs.mkdir('/d');
  await fs.syncfs('/');
  await put(fs, '/d/f', 'payload', true);
  assert.equal((await durableTree(fs)).has('/d/f'), false);
  await fs.fsyncDir('/d');
  assert.equal(dec.decode((await durableTree(fs)).get('/d/f') as Uint8Array), 'payload');
});

test('SimFs.fsyncDir of a new directory does not make the directory itself durable', async () => {
  const fs = newFs();
  await fs.mkdir('/a/b', { recursive: true });
  await put(fs, '/a/b/f', 'x', true);
  await fs.fsyncDir('/a/b');
  assert.equal((await durableTree(fs)).has('/a'), false);
  await fs.fsyncDir('/a');
  await fs.fsyncDir('/');
  assert.equal(dec.decode((await durableTree(fs)).get('/a/b/f') as Uint8Array), 'x');
});

test('SimFs failSync: a failed fsyncDir loses the entries it covered for good', async () => {
  const fs = newFs({ failSync: failNthSync('fsyncDir', 1) });
  await fs.mkdir('/d');
  await fs.syncfs('/');
  await put(fs, '/d/f', 'x', true);
  await assert.rejects(fs.fsyncDir('/d'), (e: unknown) => isHoldfastError(e, 'SYNC_FAILED') && e.details['errno'] === 'EIO');
  await fs.fsyncDir('/d');
  await fs.syncfs('/');
  assert.equal(fs.pendingCount, 0);
  assert.equal(dec.decode(await fs.readFile('/d/f')), 'x');
  assert.equal((await durableTree(fs)).has('/d/f'), false);
});

test('SimFs failSync: a failed syncfs drops everything pending', async () => {
  const fs = newFs({ failSync: failEverySync('syncfs') });
  await put(fs, '/f', 'x');
  await assert.rejects(fs.syncfs('/'), (e: unknown) => isHoldfastError(e, 'SYNC_FAILED'));
  assert.equal(fs.pendingCount, 0);
  assert.deepEqual([...(await durableTree(fs)).keys()], []);
});

test('SimFs.touchAtime sets atime from the injected clock; ignoreAtime keeps the old atime, even for an explicit time', async () => {
  let now = 1_000_000;
  const fs = new SimFs({ now: () => now });
  await put(fs, '/f', 'x');
  now = 5_000_000;
  await fs.touchAtime('/f');
  assert.deepEqual([(await fs.stat('/f'))?.atimeMs, (await fs.stat('/f'))?.mtimeMs], [5_000_000, 1_000_000]);

  const ignoring = new SimFs({ now: () => now, ignoreAtime: true });
  await put(ignoring, '/f', 'x');
  now = 9_000_000;
  await ignoring.touchAtime('/f');
  await ignoring.touchAtime('/f', 7_000_000);
  assert.equal((await ignoring.stat('/f'))?.atimeMs, 5_000_000);
  await assert.rejects(ignoring.touchAtime('/missing'), (e: unknown) => isHoldfastError(e, 'NOT_FOUND'));
});

test('SimFs: an atime update is pending until fsync or syncfs', async () => {
  let now = 1000;
  const fs = new SimFs({ now: () => now });
  await put(fs, '/f', 'x', true);
  await fs.syncfs('/');
  now = 2000;
  await fs.touchAtime('/f');
  const atimeAfterCrash = async (): Promise<number | undefined> =>
    (await fs.crashStates('posix-weak', { seed: 1, max: 1 })[0]!.mount().stat('/f'))?.atimeMs;
  assert.equal(await atimeAfterCrash(), 1000);
  await fs.syncfs('/');
  assert.equal(await atimeAfterCrash(), 2000);
});

test('CrashState.mount gives a working filesystem with nothing pending and the same clock', async () => {
  let now = 42_000;
  const fs = new SimFs({ now: () => now, failSync: failEverySync() });
  await fs.mkdir('/d');
  const state = fs.crashStates('lazyfs', { seed: 1, max: 5 })[0]!;
  const mounted = state.mount();
  assert.equal(mounted.pendingCount, 0);
  now = 43_000;
  await put(mounted, '/d/new', 'hello', true);
  await mounted.fsyncDir('/d');
  assert.equal((await mounted.stat('/d/new'))?.mtimeMs, 43_000);
  assert.equal(dec.decode(await mounted.readFile('/d/new')), 'hello');
  assert.notEqual((await mounted.stat('/d/new'))?.ino, (await mounted.stat('/d'))?.ino);
});

test('SimFs rename rejects moving a directory into itself and onto a non-empty directory', async () => {
  const fs = newFs();
  await fs.mkdir('/a/b', { recursive: true });
  await fs.mkdir('/c/d', { recursive: true });
  await assert.rejects(fs.rename('/a', '/a/b/x'), (e: unknown) => isHoldfastError(e, 'IO_ERROR') && e.details['errno'] === 'EINVAL');
  await assert.rejects(fs.rename('/a', '/c'), (e: unknown) => isHoldfastError(e, 'DIRECTORY_NOT_EMPTY'));
  await put(fs, '/f', 'x');
  await assert.rejects(fs.rename('/f', '/c'), (e: unknown) => isHoldfastError(e, 'IO_ERROR') && e.details['errno'] === 'EISDIR');
  await fs.rename('/a/b', '/c/d');
  assert.equal((await fs.stat('/c/d'))?.isDirectory, true);
  assert.equal(await fs.stat('/a/b'), undefined);
});
