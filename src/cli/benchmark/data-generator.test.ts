import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressIfSmaller } from '../../format/zstd.ts';
import { DATA_FILE_SIZE, Keystream, datasetPlan, fillText, generateDataset } from './data-generator.ts';

test('datasetPlan covers the size exactly with 32 MiB files, half random and half text by bytes', () => {
  const total = 5 * DATA_FILE_SIZE + 12345;
  const plan = datasetPlan(total);
  assert.equal(plan.reduce((s, f) => s + f.bytes, 0), total);
  assert.equal(plan.length, 6);
  const random = plan.filter((f) => f.kind === 'random').reduce((s, f) => s + f.bytes, 0);
  assert.ok(Math.abs(random - (total - random)) <= DATA_FILE_SIZE);
  assert.equal(new Set(plan.map((f) => f.path)).size, plan.length);
  assert.equal(datasetPlan(64 * DATA_FILE_SIZE)[16]!.path.split('/')[0], 'd001');
});

test('fillText writes only words, spaces, dots and newlines, the same for the same stream', () => {
  const a = new Uint8Array(100_000);
  const b = new Uint8Array(100_000);
  fillText(a, new Keystream(1, 2));
  fillText(b, new Keystream(1, 2));
  assert.deepEqual(a, b);
  assert.match(Buffer.from(a).toString('latin1'), /^[a-z .\n]+$/);
  const c = new Uint8Array(100_000);
  fillText(c, new Keystream(2, 2));
  assert.notDeepEqual(a, c);
});

test('text-like data compresses, random data does not', () => {
  const text = new Uint8Array(1 << 20);
  fillText(text, new Keystream(1, 1));
  const random = new Keystream(1, 2).next(1 << 20);
  assert.ok((compressIfSmaller(text)?.length ?? Infinity) < text.length / 2);
  assert.ok((compressIfSmaller(random)?.length ?? random.length) > random.length * 0.99);
});

test('generateDataset is deterministic, has no repeated 4 KiB block, and reuses a complete tree', async () => {
  const root = mkdtempSync(join(tmpdir(), 'holdfast-gen-'));
  try {
    const digestTree = (dir: string): string => {
      const h = createHash('sha256');
      const blocks = new Set<string>();
      for (const sub of readdirSync(dir).sort()) {
        for (const f of readdirSync(join(dir, sub)).sort()) {
          const bytes = readFileSync(join(dir, sub, f));
          h.update(f).update(bytes);
          for (let i = 0; i + 4096 <= bytes.length; i += 4096) blocks.add(createHash('sha1').update(bytes.subarray(i, i + 4096)).digest('hex'));
        }
      }
      return `${h.digest('hex')}:${blocks.size}`;
    };
    const fileSize = 1 << 20;
    const size = 3 * fileSize + 8192;
    assert.deepEqual(await generateDataset(join(root, 'a'), size, 3, fileSize), { reused: false });
    assert.deepEqual(await generateDataset(join(root, 'b'), size, 3, fileSize), { reused: false });
    assert.equal(digestTree(join(root, 'a')), digestTree(join(root, 'b')));
    assert.equal(digestTree(join(root, 'a')).split(':')[1], String(size / 4096));
    assert.equal(statSync(join(root, 'a', 'd000', 'f00001.txt')).size, fileSize);
    assert.equal(statSync(join(root, 'a', 'd000', 'f00003.txt')).size, 8192);
    assert.deepEqual(await generateDataset(join(root, 'a'), size, 3, fileSize), { reused: true });
    assert.deepEqual(await generateDataset(join(root, 'a'), size, 4, fileSize), { reused: false });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
