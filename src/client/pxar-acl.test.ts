import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACL_NO_MASK } from '../format/pxar/constants.ts';
import { accessAclXattr, aclFromXattrs, defaultAclXattr } from './pxar-acl.ts';
import { aclXattrBytes } from './pxar-test-tree.ts';

const NONE = 0xffffffff;


test('aclFromXattrs keeps named entries and group_obj only when a mask exists; accessAclXattr rebuilds the bytes from the mode', () => {
  const access = aclXattrBytes([[1, 6, NONE], [2, 6, 1001], [2, 4, 1000], [4, 4, NONE], [8, 5, 50], [0x10, 6, NONE], [0x20, 4, NONE]]);
  const acl = aclFromXattrs(access, undefined);
  assert.deepEqual(acl.users, [{ id: 1001n, permissions: 6n }, { id: 1000n, permissions: 4n }]);
  assert.deepEqual(acl.groups, [{ id: 50n, permissions: 5n }]);
  assert.equal(acl.groupObj, 4n);
  assert.equal(acl.default, undefined);
  assert.deepEqual(Buffer.from(accessAclXattr(acl, 0o100664) ?? []), aclXattrBytes([[1, 6, NONE], [2, 4, 1000], [2, 6, 1001], [4, 4, NONE], [8, 5, 50], [0x10, 6, NONE], [0x20, 4, NONE]]));
});

test('aclFromXattrs: a minimal ACL (no mask, no named entries) stores nothing and restores nothing', () => {
  const acl = aclFromXattrs(aclXattrBytes([[1, 6, NONE], [4, 4, NONE], [0x20, 4, NONE]]), undefined);
  assert.deepEqual(acl, { users: [], groups: [], defaultUsers: [], defaultGroups: [] });
  assert.equal(accessAclXattr(acl, 0o100644), undefined);
  assert.equal(defaultAclXattr(acl), undefined);
});

test('aclFromXattrs maps a default ACL to ACL_DEFAULT with NO_MASK for absent objects, and back', () => {
  const dflt = aclXattrBytes([[1, 7, NONE], [2, 5, 1001], [4, 5, NONE], [0x20, 1, NONE]]);
  const acl = aclFromXattrs(undefined, dflt);
  assert.deepEqual(acl.default, { userObj: 7n, groupObj: 5n, other: 1n, mask: ACL_NO_MASK });
  assert.deepEqual(acl.defaultUsers, [{ id: 1001n, permissions: 5n }]);
  assert.deepEqual(Buffer.from(defaultAclXattr(acl) ?? []), dflt);
});

test('aclFromXattrs ignores malformed values (wrong version or length)', () => {
  assert.deepEqual(aclFromXattrs(Uint8Array.of(1, 0, 0, 0), Uint8Array.of(2, 0, 0, 0, 1)), { users: [], groups: [], defaultUsers: [], defaultGroups: [] });
});
