import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../../core/errors.ts';
import { encodeArchivePath, parseArchivePath } from './archive-path.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('parseArchivePath reads root, an archive root and a path in a unified or split archive', () => {
  assert.equal(parseArchivePath('root').archive, undefined);
  assert.equal(parseArchivePath(b64('/')).archive, undefined);
  const top = parseArchivePath(b64('/root.pxar.didx'));
  assert.deepEqual([top.archive, top.kind, top.inner.length], ['root.pxar.didx', 'unified', 0]);
  const p = parseArchivePath(b64('/root.mpxar.didx/etc/hosts'));
  assert.equal(p.kind, 'split');
  assert.equal(Buffer.from(p.inner).toString(), 'etc/hosts');
  assert.equal(encodeArchivePath('root.mpxar.didx', p.inner), b64('/root.mpxar.didx/etc/hosts'));
});

test('parseArchivePath refuses non-base64, non-pxar archives and unsafe components with INVALID_ARGUMENT', () => {
  for (const bad of ['%%%', b64('/disk.img.fidx/x'), b64('/root.pxar.didx/../x'), b64('/root.pxar.didx/a//b'), b64('/root.pxar.didx/a\0b')]) {
    assert.throws(() => parseArchivePath(bad), (e) => isHoldfastError(e, 'INVALID_ARGUMENT'), bad);
  }
});
