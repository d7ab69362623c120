import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogShell, CatalogTree, resolvePath, splitWords } from './catalog-shell.ts';
import type { ListedEntry } from '../format/pxar/listing.ts';
import { isHoldfastError } from '../core/errors.ts';
import type { ErrorCode } from '../core/error-codes.ts';

const entry = (path: string, kind: ListedEntry['kind'], size?: number): ListedEntry => ({ path: Buffer.from(path), kind, ...(size === undefined ? {} : { size, mtime: 1_800_000_000 }) });

function shell(restored: unknown[] = []): CatalogShell {
  const tree = new CatalogTree();
  for (const e of [entry('etc', 'directory'), entry('etc/a.conf', 'file', 3), entry('etc/ssl', 'directory'), entry('etc/ssl/k.pem', 'file', 9), entry('x.txt', 'file', 1)]) tree.add(e);
  return new CatalogShell(tree, {
    restore: async (target, selection) => {
      restored.push({ target, ...selection });
      return `restored to ${target}`;
    },
  });
}

test('splitWords keeps quoted blanks and escapes, and refuses an open quote', () => {
  assert.deepEqual(splitWords(`  select "a b" 'c d' e\\ f  ''`), ['select', 'a b', 'c d', 'e f', '']);
  assert.throws(() => splitWords('cd "open'), (e) => isHoldfastError(e, 'INVALID_ARGUMENT'));
});

test('resolvePath takes absolute and relative paths, . and .., never above the root', () => {
  assert.equal(resolvePath('etc/ssl', '..'), 'etc');
  assert.equal(resolvePath('etc', 'ssl/./k.pem'), 'etc/ssl/k.pem');
  assert.equal(resolvePath('etc', '/x.txt'), 'x.txt');
  assert.equal(resolvePath('etc', '../../..'), '');
});

test('the shell moves, lists, finds, selects and hands restores their selection', async () => {
  const restored: unknown[] = [];
  const sh = shell(restored);
  assert.equal(await sh.run('cd etc'), '');
  assert.equal(await sh.run('pwd'), '/etc');
  assert.match(await sh.run('ls'), /a\.conf\n.*ssl\/$/);
  assert.equal(await sh.run('find *.pem --select'), '/etc/ssl/k.pem');
  await sh.run('select /x.txt');
  assert.equal(await sh.run('list-selected'), '/etc/ssl/k.pem\n/x.txt');
  await sh.run('restore-selected /tmp/t');
  await sh.run('restore /tmp/u');
  await sh.run("restore /tmp/v --pattern '*.conf'");
  await sh.run('cd');
  await sh.run('restore /tmp/w');
  assert.deepEqual(restored, [
    { target: '/tmp/t', path: ['etc/ssl/k.pem', 'x.txt'] },
    { target: '/tmp/u', path: ['etc'] },
    { target: '/tmp/v', pattern: ['*.conf'] },
    { target: '/tmp/w', path: [] },
  ]);
});

test('bad commands are coded errors and change nothing', async () => {
  const sh = shell();
  const refused = async (line: string, code: ErrorCode): Promise<void> => {
    await assert.rejects(sh.run(line), (e) => isHoldfastError(e, code), line);
  };
  await refused('frobnicate', 'INVALID_ARGUMENT');
  await refused('cd x.txt', 'INVALID_ARGUMENT');
  await refused('cd nowhere', 'NOT_FOUND');
  await refused('select /', 'INVALID_ARGUMENT');
  await refused('deselect etc', 'NOT_FOUND');
  await refused('restore-selected /tmp/t', 'INVALID_ARGUMENT');
  await refused('restore', 'INVALID_ARGUMENT');
  await refused('find', 'INVALID_ARGUMENT');
  assert.equal(await sh.run('pwd'), '/');
  assert.equal(await sh.run('list-selected'), '');
});

test('the tree refuses a listing larger than its bound (a server is not trusted to send a small one)', () => {
  const tree = new CatalogTree(2);
  tree.add(entry('a', 'file', 1));
  tree.add(entry('b', 'file', 1));
  assert.throws(() => tree.add(entry('c', 'file', 1)), (e) => isHoldfastError(e, 'INVALID_ARGUMENT') && /more than 2 entries/.test(e.message));
});
