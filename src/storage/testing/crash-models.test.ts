import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../../core/errors.ts';
import { CRASH_MODELS, type CrashModel } from './crash-models.ts';
import { failNthSync } from './fault-fs.ts';
import { readTree, type TreeEntry } from './read-tree.ts';
import { SimFs, type SimFsOptions } from './sim-fs.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function newFs(options: SimFsOptions = {}): SimFs {
  let t = Date.UTC(2025, 0, 1);
  return new SimFs({ now: () => (t += 1000), ...options });
}

async function put(fs: SimFs, path: string, data: Uint8Array | string, how: { sync?: boolean; mode?: 'w' | 'wx' | 'r+' } = {}): Promise<void> {
  const h = await fs.open(path, how.mode ?? 'w');
  await h.write(typeof data === 'string' ? enc.encode(data) : data, 0);
  if (how.sync === true) await h.sync();
  await h.close();
}

/** create + write + fsync + close + fsyncDir: the durable way to add a file. */
async function putDurably(fs: SimFs, path: string, data: string): Promise<void> {
  await put(fs, path, data, { sync: true, mode: 'wx' });
  await fs.fsyncDir(path.slice(0, path.lastIndexOf('/')) || '/');
}

async function fsWithDurableDir(options: SimFsOptions = {}): Promise<SimFs> {
  const fs = newFs(options);
  await fs.mkdir('/d');
  await fs.syncfs('/');
  return fs;
}

async function trees(fs: SimFs, model: CrashModel, max = 200, seed = 1): Promise<Map<string, TreeEntry>[]> {
  const out: Map<string, TreeEntry>[] = [];
  for (const state of fs.crashStates(model, { seed, max })) out.push(await readTree(state.mount()));
  return out;
}

function text(tree: Map<string, TreeEntry>, path: string): string | undefined {
  const entry = tree.get(path);
  return entry === undefined || entry === 'dir' ? undefined : dec.decode(entry);
}

for (const model of CRASH_MODELS) {
  test(`crashStates(${model}) loses an unsynced overwrite in its floor and keeps it in its ceiling`, async () => {
    const fs = await fsWithDurableDir();
    await putDurably(fs, '/d/f', 'old');
    await put(fs, '/d/f', 'new', { mode: 'r+' });
    const states = fs.crashStates(model, { seed: 1, max: 50 });
    assert.deepEqual(states.slice(0, 2).map((s) => s.kind), ['floor', 'ceiling']);
    assert.equal(text(await readTree(states[0]!.mount()), '/d/f'), 'old');
    assert.equal(text(await readTree(states[1]!.mount()), '/d/f'), 'new');
  });

  test(`crashStates(${model}) keeps a fsynced file in a fsynced directory in every state`, async () => {
    const fs = await fsWithDurableDir();
    await put(fs, '/d/other', 'x'.repeat(9000));
    await putDurably(fs, '/d/kept', 'acknowledged');
    await fs.mkdir('/d/sub');
    await put(fs, '/d/sub/tmp', 'y'.repeat(5000));
    await fs.rename('/d/sub/tmp', '/d/sub/chunk');
    await fs.unlink('/d/other');
    const all = await trees(fs, model);
    assert.ok(all.length > 2, 'the workload leaves pending ops to explore');
    for (const tree of all) assert.equal(text(tree, '/d/kept'), 'acknowledged');
  });

  test(`crashStates(${model}) after syncfs has one state, equal to what the process saw`, async () => {
    const fs = await fsWithDurableDir();
    await put(fs, '/d/a', 'aaaa');
    await fs.mkdir('/d/e/f', { recursive: true });
    await put(fs, '/d/e/f/b', 'b'.repeat(10_000));
    await fs.rename('/d/a', '/d/e/a');
    const h = await fs.open('/d/e/f/b', 'r+');
    await h.truncate(3);
    await h.close();
    await fs.syncfs('/d');
    assert.equal(fs.pendingCount, 0);
    const all = await trees(fs, model);
    assert.equal(all.length, 1);
    assert.deepEqual(all[0], await readTree(fs));
  });

  test(`crashStates(${model}) never brings back data whose fsync failed (fsyncgate)`, async () => {
    const fs = await fsWithDurableDir({ failSync: failNthSync('fsync', 2) });
    await putDurably(fs, '/d/f', 'old');
    const h = await fs.open('/d/f', 'r+');
    await h.write(enc.encode('new'), 0);
    await assert.rejects(h.sync(), (e: unknown) => isHoldfastError(e, 'SYNC_FAILED') && e.details['errno'] === 'EIO');
    await h.sync();
    await h.close();
    await fs.syncfs('/');
    assert.equal(dec.decode(await fs.readFile('/d/f')), 'new', 'the page cache still shows the lost data');
    for (const tree of await trees(fs, model)) assert.equal(text(tree, '/d/f'), 'old');
  });

  test(`crashStates(${model}) is deterministic for a seed`, async () => {
    const fs = await fsWithDurableDir();
    for (let i = 0; i < 12; i++) await put(fs, `/d/f${i}`, `${i}`.repeat(3000 + i * 1000));
    const pick = (seed: number): string[] => fs.crashStates(model, { seed, max: 30 }).map((s) => s.survivors.map((x) => `${x.op.id}${x.fill}`).join());
    assert.deepEqual(pick(7), pick(7));
    assert.notDeepEqual(pick(7), pick(8));
    assert.deepEqual(await trees(fs, model, 30, 7), await trees(fs, model, 30, 7));
  });
}

test('crashStates(ext4-ordered) after a rename to a new name shows the old name, nothing, or a possibly empty new file', async () => {
  const fs = await fsWithDurableDir();
  await put(fs, '/d/chunk.tmp', 'chunk data', { mode: 'wx' });
  await fs.rename('/d/chunk.tmp', '/d/chunk');
  const all = await trees(fs, 'ext4-ordered');
  const outcomes = new Set(all.map((t) => `tmp=${text(t, '/d/chunk.tmp') ?? '-'} chunk=${text(t, '/d/chunk') ?? '-'}`));
  assert.ok(outcomes.has('tmp=- chunk=-'));
  assert.ok(outcomes.has('tmp= chunk=-'), 'the create committed before any data');
  assert.ok(outcomes.has('tmp=- chunk='), 'the rename committed, the data never came: a zero-length chunk');
  assert.ok(outcomes.has('tmp=- chunk=chunk data'));
  for (const tree of all) assert.ok(!(tree.has('/d/chunk.tmp') && tree.has('/d/chunk')), 'rename is atomic in the journal');
});

test('crashStates(ext4-ordered) after a rename over an existing file shows the old or the new content, never an empty file (auto_da_alloc)', async () => {
  const fs = await fsWithDurableDir();
  await putDurably(fs, '/d/manifest', 'old manifest');
  await put(fs, '/d/manifest.tmp', 'new manifest', { mode: 'wx' });
  await fs.rename('/d/manifest.tmp', '/d/manifest');
  const seen = new Set((await trees(fs, 'ext4-ordered')).map((t) => text(t, '/d/manifest')));
  assert.deepEqual([...seen].sort(), ['new manifest', 'old manifest']);
});

test('crashStates(posix-weak) after a rename over an existing file may lose both names or show an empty file', async () => {
  const fs = await fsWithDurableDir();
  await putDurably(fs, '/d/manifest', 'old manifest');
  await put(fs, '/d/manifest.tmp', 'new manifest', { mode: 'wx' });
  await fs.rename('/d/manifest.tmp', '/d/manifest');
  const all = await trees(fs, 'posix-weak', 500);
  assert.ok(all.some((t) => !t.has('/d/manifest') && !t.has('/d/manifest.tmp')), 'the file vanished');
  assert.ok(all.some((t) => text(t, '/d/manifest') === ''), 'the new name points at an empty file');
  assert.ok(all.some((t) => t.has('/d/manifest') && t.has('/d/manifest.tmp')), "the rename's unlink and link split");
});

test('crashStates(posix-weak) tears an unsynced multi-block overwrite at 4 KiB', async () => {
  const fs = await fsWithDurableDir();
  await putDurably(fs, '/d/f', 'a'.repeat(3 * 4096));
  await put(fs, '/d/f', 'b'.repeat(3 * 4096), { mode: 'r+' });
  const blockViews = new Set((await trees(fs, 'posix-weak')).map((t) => [0, 1, 2].map((b) => text(t, '/d/f')!.charAt(b * 4096)).join('')));
  assert.equal(blockViews.size, 8, `every mix of old and new blocks: ${[...blockViews].join(' ')}`);
});

test('crashStates(posix-weak) can leave an unsynced append as zeros or garbage', async () => {
  const fs = await fsWithDurableDir();
  await putDurably(fs, '/d/log', '');
  const h = await fs.open('/d/log', 'r+');
  await h.write(new Uint8Array(8192).fill(0x11), 0);
  await h.close();
  const contents = (await trees(fs, 'posix-weak')).map((t) => t.get('/d/log') as Uint8Array);
  const grown = contents.filter((c) => c.length === 8192);
  assert.ok(grown.some((c) => c.every((x) => x === 0)), 'size survived, data did not: zeros');
  assert.ok(grown.some((c) => c.some((x) => x !== 0 && x !== 0x11)), 'size survived with garbage');
  assert.ok(contents.some((c) => c.length === 0));
});

test('crashStates(lazyfs) keeps every rename and create but drops unsynced data', async () => {
  const fs = await fsWithDurableDir();
  await put(fs, '/d/chunk.tmp', 'chunk data', { mode: 'wx' });
  await fs.rename('/d/chunk.tmp', '/d/chunk');
  await fs.mkdir('/d/new');
  const all = await trees(fs, 'lazyfs');
  assert.equal(text(all[0]!, '/d/chunk'), '', 'the floor: entry present, data gone');
  for (const tree of all) {
    assert.ok(tree.has('/d/chunk') && !tree.has('/d/chunk.tmp') && tree.get('/d/new') === 'dir');
  }
});

test('crashStates never exceeds max and starts with the floor', async () => {
  const fs = await fsWithDurableDir();
  for (let i = 0; i < 20; i++) await put(fs, `/d/f${i}`, 'z'.repeat(5000));
  for (const model of CRASH_MODELS) {
    const states = fs.crashStates(model, { seed: 3, max: 25 });
    assert.equal(states.length, 25);
    assert.equal(states[0]!.kind, 'floor');
    assert.ok(states.slice(2).every((s) => s.kind === 'sampled'));
  }
  assert.throws(() => fs.crashStates('posix-weak', { seed: 1, max: 0 }), (e: unknown) => isHoldfastError(e, 'INVALID_ARGUMENT'));
});

test('CrashState.describe names the model, the state and the lost ops', async () => {
  const fs = await fsWithDurableDir();
  await put(fs, '/d/f', 'data', { mode: 'wx' });
  const floor = fs.crashStates('posix-weak', { seed: 5, max: 4 })[0]!;
  const report = floor.describe();
  assert.match(report, /^posix-weak state 0 \(floor, seed 5\): 3 of 3 pending ops lost/);
  assert.match(report, /lost #\d+ link \/d\/f/);
  assert.match(report, /lost #\d+ data \/d\/f \[0\+4\)/);
});
