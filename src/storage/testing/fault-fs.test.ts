import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../../core/errors.ts';
import { CountingFs } from '../counting-fs.ts';
import { FaultFs, failNthSync } from './fault-fs.ts';
import { SimFs } from './sim-fs.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function put(fs: FaultFs | SimFs, path: string, data: string): Promise<void> {
  const h = await fs.open(path, 'w');
  await h.write(enc.encode(data), 0);
  await h.close();
}

test('FaultFs failNthSync fails only that call, with SYNC_FAILED and errno EIO, without syncing', async () => {
  const inner = new CountingFs(new SimFs());
  const fs = new FaultFs(inner, { failSync: failNthSync('fsyncDir', 2) });
  await fs.mkdir('/d');
  await fs.fsyncDir('/d');
  await assert.rejects(fs.fsyncDir('/d'), (e: unknown) => isHoldfastError(e, 'SYNC_FAILED') && e.details['errno'] === 'EIO');
  await fs.fsyncDir('/d');
  await fs.syncfs('/');
  assert.deepEqual(inner.snapshot(), { fsyncFile: 0, fsyncDir: 2, syncfs: 1 });
  assert.deepEqual(fs.counts, { fsync: 0, fsyncDir: 3, syncfs: 1, write: 0 });
});

test('FaultFs failWrite fails the nth write with IO_ERROR after a torn prefix', async () => {
  const sim = new SimFs();
  const fs = new FaultFs(sim, { failWrite: { nth: 2, tornBytes: 3 } });
  const h = await fs.open('/f', 'w');
  await h.write(enc.encode('first'), 0);
  await assert.rejects(h.write(enc.encode('second'), 5), (e: unknown) => isHoldfastError(e, 'IO_ERROR') && e.details['errno'] === 'EIO');
  await h.write(enc.encode('!'), 20);
  await h.close();
  assert.equal(dec.decode((await sim.readFile('/f')).subarray(0, 8)), 'firstsec');
});

test('FaultFs flipByteOnRead corrupts one byte of reads of the matching path only', async () => {
  const sim = new SimFs();
  const fs = new FaultFs(sim, { flipByteOnRead: { path: '/chunk', offset: 4, mask: 0x01 } });
  await put(fs, '/chunk', 'aaaaaaaa');
  await put(fs, '/other', 'aaaaaaaa');
  assert.equal(dec.decode(await fs.readFile('/chunk')), 'aaaa`aaa');
  const h = await fs.open('/chunk', 'r');
  assert.equal(dec.decode(await h.read(2, 4)), 'aa`a');
  assert.equal(dec.decode(await h.read(5, 3)), 'aaa');
  await h.close();
  assert.equal(dec.decode(await fs.readFile('/other')), 'aaaaaaaa');
  assert.equal(dec.decode(await sim.readFile('/chunk')), 'aaaaaaaa', 'the stored bytes are untouched');
});

test('FaultFs truncateOnRead shortens what reads see but not what stat reports', async () => {
  const fs = new FaultFs(new SimFs(), { truncateOnRead: { path: (p) => p.endsWith('.blob'), length: 3 } });
  await put(fs, '/x.blob', 'abcdefgh');
  assert.equal(dec.decode(await fs.readFile('/x.blob')), 'abc');
  const h = await fs.open('/x.blob', 'r');
  assert.equal(dec.decode(await h.read(1, 10)), 'bc');
  assert.equal((await h.read(5, 10)).length, 0);
  await h.close();
  assert.equal((await fs.stat('/x.blob'))?.size, 8);
});
