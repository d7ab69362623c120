import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../core/errors.ts';
import { decodeFileIdentities, FileIdentityWriter } from './file-identities.ts';

test('FileIdentityWriter and decodeFileIdentities round-trip inode and ctime in order, across growth', () => {
  const w = new FileIdentityWriter();
  const ids = Array.from({ length: 3000 }, (_, i) => ({ ino: BigInt(i * 7 + 1), ctimeNs: BigInt(i) * 1_000_000_007n - 5n }));
  for (const id of ids) w.add(id);
  assert.equal(w.count, 3000);
  assert.deepEqual(decodeFileIdentities(w.bytes()), ids);
});

test('decodeFileIdentities rejects foreign bytes (BAD_MAGIC) and a wrong length (CORRUPT)', () => {
  assert.throws(() => decodeFileIdentities(Buffer.from('not an identity record')), (e) => isHoldfastError(e, 'BAD_MAGIC'));
  const w = new FileIdentityWriter();
  w.add({ ino: 1n, ctimeNs: 2n });
  const bytes = w.bytes();
  assert.throws(() => decodeFileIdentities(bytes.subarray(0, bytes.length - 1)), (e) => isHoldfastError(e, 'CORRUPT'));
});
