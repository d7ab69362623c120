import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyPiece, BLOCK_SIZE, Image, readRange, ROOT_INO, setFileSize, splitIntoPieces, type FileInode } from './sim-image.ts';

function fileIn(image: Image, ino: number): FileInode {
  const inode = image.writable(ino);
  assert.ok(inode?.kind === 'file');
  return inode;
}

function writeAt(file: FileInode, position: number, bytes: Uint8Array): void {
  for (const piece of splitIntoPieces(position, bytes)) applyPiece(file, piece);
  file.size = Math.max(file.size, position + bytes.length);
}

test('Image.fork: writes on either side stay invisible to the other', () => {
  const base = Image.empty(0);
  base.create({ kind: 'file', ino: 2, perm: 0o644, timeMs: 0 });
  writeAt(fileIn(base, 2), 0, new Uint8Array(10).fill(1));
  const fork = base.fork();
  writeAt(fileIn(fork, 2), 0, new Uint8Array(5).fill(2));
  writeAt(fileIn(base, 2), 5, new Uint8Array(5).fill(3));
  const root = fork.writable(ROOT_INO);
  assert.ok(root?.kind === 'dir');
  root.entries.set('only-in-fork', 2);
  assert.deepEqual([...readRange(fileIn(base, 2), 0, 10)], [1, 1, 1, 1, 1, 3, 3, 3, 3, 3]);
  assert.deepEqual([...readRange(fileIn(fork, 2), 0, 10)], [2, 2, 2, 2, 2, 1, 1, 1, 1, 1]);
  const baseRoot = base.get(ROOT_INO);
  assert.ok(baseRoot?.kind === 'dir' && !baseRoot.entries.has('only-in-fork'));
});

test('splitIntoPieces cuts a write at 4 KiB block boundaries', () => {
  const pieces = splitIntoPieces(BLOCK_SIZE - 10, new Uint8Array(BLOCK_SIZE + 20));
  assert.deepEqual(
    pieces.map((p) => [p.block, p.offset, p.bytes.length]),
    [
      [0, BLOCK_SIZE - 10, 10],
      [1, 0, BLOCK_SIZE],
      [2, 0, 10],
    ],
  );
});

test('setFileSize: shrinking then growing reads zeros where the old bytes were', () => {
  const image = Image.empty(0);
  image.create({ kind: 'file', ino: 2, perm: 0o644, timeMs: 0 });
  const file = fileIn(image, 2);
  writeAt(file, 0, new Uint8Array(3 * BLOCK_SIZE).fill(7));
  setFileSize(file, BLOCK_SIZE + 1);
  setFileSize(file, 3 * BLOCK_SIZE);
  const data = readRange(file, 0, 3 * BLOCK_SIZE);
  assert.ok(data.subarray(0, BLOCK_SIZE + 1).every((x) => x === 7));
  assert.ok(data.subarray(BLOCK_SIZE + 1).every((x) => x === 0));
});

test('readRange after random writes equals a flat reference buffer', () => {
  const write = fc.record({ at: fc.nat(20_000), bytes: fc.uint8Array({ minLength: 1, maxLength: 9000 }) });
  fc.assert(
    fc.property(fc.array(write, { maxLength: 12 }), (writes) => {
      const image = Image.empty(0);
      image.create({ kind: 'file', ino: 2, perm: 0o644, timeMs: 0 });
      const file = fileIn(image, 2);
      let reference = new Uint8Array(0);
      for (const { at, bytes } of writes) {
        writeAt(file, at, bytes);
        if (at + bytes.length > reference.length) {
          const grown = new Uint8Array(at + bytes.length);
          grown.set(reference);
          reference = grown;
        }
        reference.set(bytes, at);
      }
      assert.deepEqual(readRange(file, 0, reference.length + 100), reference);
    }),
    { numRuns: 60 },
  );
});
