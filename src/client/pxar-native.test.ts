import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { makeTempDir } from '../../test/helpers/tmp.ts';
import { addonLibc, koffiLibc, type LibcCalls } from './pxar-native.ts';

const z = (s: string): Buffer => Buffer.from(`${s}\0`);
const { EEXIST, ENODATA, ENOENT, EOPNOTSUPP } = os.constants.errno as Record<string, number>;

/** Both ways to libc answer the same: the addon's (the default) and koffi's (without the addon). */
const impls: [string, () => LibcCalls | undefined][] = [
  ['the native addon', addonLibc],
  ['koffi', koffiLibc],
];

for (const [name, make] of impls) {
  test(`libc calls through ${name}: xattrs, mknod and a nanosecond mtime that does not follow a symlink`, { skip: make() === undefined ? 'the native addon is not built (npm run build)' : false }, (t) => {
    const libc = make()!;
    const dir = makeTempDir('holdfast-libc-');
    const file = join(dir, 'f');
    writeFileSync(file, 'x');

    assert.equal(libc.llistxattr(z(file), null), 0, 'no xattrs yet');
    assert.equal(libc.llistxattr(z(join(dir, 'missing')), null), -ENOENT!);
    const set = libc.lsetxattr(z(file), z('user.holdfast'), Buffer.from('value'), 0);
    if (set === -EOPNOTSUPP!) {
      t.diagnostic('this tmpfs keeps no user xattrs (Linux before 6.6): only the error was checked');
    } else {
      assert.equal(set, 0);
      const size = libc.llistxattr(z(file), null);
      const list = Buffer.alloc(size);
      assert.equal(libc.llistxattr(z(file), list), size);
      assert.equal(list.toString(), 'user.holdfast\0');
      const value = Buffer.alloc(16);
      assert.equal(libc.lgetxattr(z(file), z('user.holdfast'), null), 5, 'a size query');
      assert.equal(libc.lgetxattr(z(file), z('user.holdfast'), value), 5);
      assert.equal(value.subarray(0, 5).toString(), 'value');
      assert.equal(libc.lgetxattr(z(file), z('user.none'), null), -ENODATA!);
      assert.equal(libc.lsetxattr(z(file), z('user.empty'), new Uint8Array(0), 0), 0, 'an empty value');
      assert.equal(libc.lgetxattr(z(file), z('user.empty'), null), 0);
    }

    const fifo = join(dir, 'fifo');
    assert.equal(libc.mknod(z(fifo), 0o010644, 0n), 0); // S_IFIFO
    assert.ok(lstatSync(fifo).isFIFO());
    assert.equal(libc.mknod(z(fifo), 0o010644, 0n), -EEXIST!);

    utimesSync(file, 1000, 1000);
    const link = join(dir, 'link');
    symlinkSync(file, link);
    assert.equal(libc.setmtime(z(link), 1_700_000_000n, 123_456_789), 0);
    assert.equal(lstatSync(link, { bigint: true }).mtimeNs, 1_700_000_000_123_456_789n, 'the link itself');
    assert.equal(statSync(file).mtimeMs, 1_000_000, 'not its target');
    assert.notEqual(lstatSync(link, { bigint: true }).atimeNs, 1_700_000_000_123_456_789n, 'atime left alone');
    assert.equal(libc.setmtime(z(join(dir, 'missing')), 1n, 0), -ENOENT!);
  });
}
