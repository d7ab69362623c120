import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHoldfastError } from '../core/errors.ts';
import { AclTree, ROLES, formatAclConfig, parseAclConfig, privilegesOf } from './acl-config.ts';

const roleNames = (tree: AclTree, ugid: string, path: string): string[] => [...tree.roles(ugid, path).keys()].sort();

test('formatAclConfig compresses lines with the same users (VECTORS §13.1)', () => {
  const text = [
    'acl:0:/store/store2:user1@pbs:Admin',
    'acl:0:/store/store2:user2@pbs:Admin',
    'acl:0:/store/store2:user1@pbs:DatastoreBackup',
    'acl:0:/store/store2:user2@pbs:DatastoreBackup',
  ].join('\n');
  assert.equal(formatAclConfig(parseAclConfig(text, 'acl.cfg')), 'acl:0:/store/store2:user1@pbs,user2@pbs:Admin,DatastoreBackup\n');
});

test('AclTree.roles lets a more specific node replace inherited roles (VECTORS §13.2)', () => {
  const tree = parseAclConfig(
    'acl:1:/storage:user1@pbs:Admin\nacl:1:/storage/store1:user1@pbs:DatastoreBackup\nacl:1:/storage/store2:user2@pbs:DatastoreBackup\n',
    'acl.cfg',
  );
  assert.deepEqual(roleNames(tree, 'user1@pbs', '/'), []);
  assert.deepEqual(roleNames(tree, 'user1@pbs', '/storage'), ['Admin']);
  assert.deepEqual(roleNames(tree, 'user1@pbs', '/storage/store1'), ['DatastoreBackup']);
  assert.deepEqual(roleNames(tree, 'user1@pbs', '/storage/store2'), ['Admin']);
  assert.deepEqual(roleNames(tree, 'user2@pbs', '/storage/store2'), ['DatastoreBackup']);
  for (const path of ['/', '/storage', '/storage/store1']) assert.deepEqual(roleNames(tree, 'user2@pbs', path), []);
});

test('AclTree.roles applies NoAccess and non-propagating nodes (VECTORS §13.3)', () => {
  const lines = (p: number): string => `acl:1:/:user1@pbs:Admin\nacl:${p}:/storage:user1@pbs:NoAccess\nacl:1:/storage/store1:user1@pbs:DatastoreBackup\n`;
  const tree = parseAclConfig(lines(1), 'acl.cfg');
  const expected: [string, string[]][] = [
    ['/', ['Admin']],
    ['/storage', ['NoAccess']],
    ['/storage/store1', ['DatastoreBackup']],
    ['/storage/store2', ['NoAccess']],
    ['/system', ['Admin']],
  ];
  for (const [path, roles] of expected) assert.deepEqual(roleNames(tree, 'user1@pbs', path), roles, path);
  assert.deepEqual(roleNames(parseAclConfig(lines(0), 'acl.cfg'), 'user1@pbs', '/storage/store2'), ['Admin']);
});

test('AclTree.insert: NoAccess replaces other roles and is replaced by them (VECTORS §13.4)', () => {
  const tree = new AclTree();
  tree.insert('/', 'user1@pbs', 'Admin', true);
  tree.insert('/', 'user1@pbs', 'Audit', true);
  tree.insert('/', 'user1@pbs', 'NoAccess', true);
  assert.deepEqual(roleNames(tree, 'user1@pbs', '/'), ['NoAccess']);
  assert.equal(formatAclConfig(tree), 'acl:1:/:user1@pbs:NoAccess\n');
  tree.insert('/', 'user1@pbs', 'DatastoreBackup', true);
  assert.deepEqual(roleNames(tree, 'user1@pbs', '/'), ['DatastoreBackup']);
});

test('privilegesOf maps roles to upstream privileges', () => {
  assert.deepEqual([...privilegesOf(['DatastoreBackup'])], ['Datastore.Backup']);
  assert.deepEqual([...privilegesOf(['NoAccess'])], []);
  assert.ok(privilegesOf(['Admin']).has('Permissions.Modify'));
  assert.deepEqual([...privilegesOf(['Audit', 'DatastoreAudit'])].sort(), ['Datastore.Audit', 'Sys.Audit']);
});

test('parseAclConfig rejects malformed lines with file and line number', () => {
  const bad: [string, string][] = [
    ['acl:2:/:root@pam:Admin', 'propagate'],
    ['acl:1:/a//b:root@pam:Admin', 'invalid path'],
    ['acl:1:/:root@pam:Superuser', "unknown role 'Superuser'"],
    ['acl:1:/:root@pam', 'expected'],
    ['# comment', 'expected'],
    ['acl:1:/::Admin', 'user/token list'],
  ];
  for (const [line, mentions] of bad) {
    assert.throws(
      () => parseAclConfig(`acl:1:/:root@pam:Admin\n\n${line}\n`, 'acl.cfg'),
      (e: unknown) => isHoldfastError(e, 'INVALID_CONFIG') && e.message.startsWith('acl.cfg:3: ') && e.message.includes(mentions),
      line,
    );
  }
});

test('formatAclConfig then parseAclConfig keeps every grant (property)', () => {
  const path = fc.array(fc.constantFrom('datastore', 'store1', 'remote', 'system'), { maxLength: 3 }).map((c) => `/${c.join('/')}`);
  const grant = fc.record({
    path,
    ugid: fc.constantFrom('root@pam', 'user1@pbs', 'user2@pbs', 'user1@pbs!tok'),
    role: fc.constantFrom(...ROLES),
    propagate: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(grant, { maxLength: 20 }), (grants) => {
      const tree = new AclTree();
      for (const g of grants) tree.insert(g.path, g.ugid, g.role, g.propagate);
      const key = (t: AclTree): string[] => t.entries().map((e) => `${e.path} ${e.ugid} ${e.role} ${e.propagate}`).sort();
      assert.deepEqual(key(parseAclConfig(formatAclConfig(tree), 'acl.cfg')), key(tree));
    }),
  );
});
