import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHoldfastError } from './errors.ts';
import {
  archiveNameFromPath,
  archiveType,
  authIdParts,
  namespaceComponents,
  parseArchiveName,
  parseAuthId,
  parseBackupId,
  parseBackupType,
  parseDatastoreName,
  parseNamespace,
  parseUserid,
  withoutTypeExtension,
} from './names.ts';

function assertInvalidName(fn: () => unknown, value: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isHoldfastError(e, 'INVALID_NAME'), String(e));
    assert.equal(e.details['value'], value);
    assert.ok(e.message.includes(JSON.stringify(value).slice(1, -1)), e.message);
    return true;
  });
}

test('parseDatastoreName accepts safe ids of length 3..32', () => {
  for (const ok of ['abc', 'store1', '_x.y-z', 'A'.repeat(32), '0ab']) assert.equal(parseDatastoreName(ok), ok);
  for (const bad of ['ab', 'A'.repeat(33), '.abc', '-abc', 'a/bc', 'a bc', '..', 'ab\n', 'äbc']) {
    assertInvalidName(() => parseDatastoreName(bad), bad);
  }
});

test('parseBackupType accepts vm, ct and host only', () => {
  for (const t of ['vm', 'ct', 'host']) assert.equal(parseBackupType(t), t);
  for (const bad of ['VM', 'lxc', '']) assertInvalidName(() => parseBackupType(bad), bad);
});

test('parseBackupId accepts safe ids and rejects path tricks', () => {
  for (const ok of ['100', 'elsa', 'my.host_1-a']) assert.equal(parseBackupId(ok), ok);
  for (const bad of ['', '..', '.', 'a/b', 'a\u0000b', ' x', '-x']) assertInvalidName(() => parseBackupId(bad), bad);
});

test('parseNamespace accepts up to 7 safe-id levels and 256 characters', () => {
  assert.equal(parseNamespace(''), '');
  assert.deepEqual(namespaceComponents(parseNamespace('a/b/c')), ['a', 'b', 'c']);
  assert.deepEqual(namespaceComponents(parseNamespace('')), []);
  parseNamespace('1/2/3/4/5/6/7');
  const long = Array.from({ length: 7 }, (_, i) => String(i).repeat(36)).join('/');
  assert.equal(long.length, 258);
  for (const bad of ['1/2/3/4/5/6/7/8', '/a', 'a/', 'a//b', 'a/../b', 'a/./b', 'a b', long]) {
    assertInvalidName(() => parseNamespace(bad), bad);
  }
});

test('archiveNameFromPath rejects the upstream invalid names (VECTORS §9)', () => {
  for (const bad of ['/invalid/', '/invalid/archive-name.pxar/', '/invalid/archive-name.pxar.didx/', '/invalid/..']) {
    assertInvalidName(() => archiveNameFromPath(bad), bad);
  }
  assertInvalidName(() => archiveNameFromPath('/invalid/archive-name.invalid'), 'archive-name.invalid');
});

test('archiveNameFromPath maps pxar, mpxar, ppxar and pcat1 to .didx (VECTORS §9)', () => {
  for (const ext of ['pxar', 'mpxar', 'ppxar', 'pcat1']) {
    for (const path of [`/valid/archive-name.${ext}`, `/valid/archive-name.${ext}.didx`]) {
      const name = archiveNameFromPath(path);
      assert.equal(name, `archive-name.${ext}.didx`);
      assert.equal(archiveType(name), 'dynamic');
    }
  }
});

test('archiveNameFromPath maps .img to .fidx (VECTORS §9)', () => {
  for (const path of ['/valid/archive-name.img', '/valid/archive-name.img.fidx']) {
    const name = archiveNameFromPath(path);
    assert.equal(name, 'archive-name.img.fidx');
    assert.equal(withoutTypeExtension(name), 'archive-name.img');
    assert.equal(archiveType(name), 'fixed');
  }
});

test('archiveNameFromPath maps json, key, log and conf to .blob (VECTORS §9)', () => {
  const inputs = ['/valid/index.json', 'rsa-encrypted.key', 'archive-name.log', 'qemu-server.conf'];
  for (const input of inputs) {
    for (const path of [input, `${input}.blob`]) {
      const name = archiveNameFromPath(path);
      assert.ok(name.endsWith('.blob'), name);
      assert.equal(archiveType(name), 'blob');
    }
  }
  assert.equal(parseArchiveName('index.json'), 'index.json.blob');
  assert.equal(parseArchiveName('catalog.pcat1'), 'catalog.pcat1.didx');
  assert.equal(parseArchiveName('client.log'), 'client.log.blob');
});

test('parseArchiveName rejects names that are not safe file names', () => {
  for (const bad of ['a/b.blob', '../x.blob', '.hidden.blob', 'sp ace.blob', 'x\u0007.blob', '']) {
    assertInvalidName(() => parseArchiveName(bad), bad);
  }
});

test('parseUserid rejects the upstream invalid ids (VECTORS §14)', () => {
  const invalid = ['x', 'xx', 'xxx', 'xxx@', 'xx x@test', 'xx\nx@test', 'x:xx@test', 'xx/x@test', `${'x'.repeat(60)}@test`];
  for (const bad of invalid) assertInvalidName(() => parseUserid(bad), bad);
});

test('parseUserid accepts the upstream valid ids (VECTORS §14)', () => {
  for (const ok of ['xxx@y', 'name@y', 'xxx@test-it.com', 'xxx@_T_E_S_T-it.com', 'x_x-x.x@test-it.com']) {
    assert.equal(parseUserid(ok), ok);
  }
});

test('parseAuthId accepts user ids and token ids and splits them', () => {
  const token = parseAuthId('user@pbs!token');
  assert.deepEqual(authIdParts(token), { user: 'user@pbs', realm: 'pbs', tokenName: 'token' });
  assert.deepEqual(authIdParts(parseAuthId('root@pam')), { user: 'root@pam', realm: 'pam', tokenName: undefined });
  for (const bad of ['user@pbs!', 'user@pbs!to ken', 'user@pbs!a/b', '!tok', 'x@!tok', 'user@pbs!.x']) {
    assertInvalidName(() => parseAuthId(bad), bad);
  }
});

test('parseNamespace accepts every generated valid namespace and returns it unchanged (property)', () => {
  const component = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,20}$/);
  fc.assert(
    fc.property(fc.array(component, { minLength: 1, maxLength: 7 }), (parts) => {
      const ns = parts.join('/');
      assert.deepEqual(namespaceComponents(parseNamespace(ns)), parts);
    }),
  );
});
