import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashSecret, verifySecret } from './secret-hash.ts';

test('hashSecret salts: equal secrets hash differently and both verify', async () => {
  const [a, b] = [await hashSecret('correct horse'), await hashSecret('correct horse')];
  assert.notEqual(a, b);
  assert.match(a, /^scrypt\$16384\$8\$1\$/);
  assert.equal(await verifySecret('correct horse', a), true);
  assert.equal(await verifySecret('correct horse', b), true);
});

test('verifySecret is false for a wrong secret and for text that is not a hash', async () => {
  const h = await hashSecret('s3cret');
  assert.equal(await verifySecret('s3cret!', h), false);
  assert.equal(await verifySecret('s3cret', 'plain'), false);
  assert.equal(await verifySecret('s3cret', 'scrypt$x$8$1$AAAA$AAAA'), false);
});
