import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAclPath, isValidAclPath } from './acl-path.ts';

test('isValidAclPath accepts the PBS path templates', () => {
  for (const p of ['/', '/access', '/access/acl', '/access/users', '/access/domains', '/access/openid/r1', '/datastore', '/datastore/s1', '/datastore/s1/a/b/c/d/e/f/g', '/remote/r/s/a', '/system', '/system/tasks', '/system/services/proxy', '/system/network/interfaces/eth0', '/system/network/dns', '/tape', '/tape/pool/p1']) {
    assert.ok(isValidAclPath(p), p);
  }
});

test('isValidAclPath refuses paths outside the templates, unsafe components and over-deep namespaces', () => {
  for (const p of ['/etc/passwd', '/etc', '', 'datastore', '/datastore/', '/datastore//x', '/datastore/s1/a/b/c/d/e/f/g/h', '/access/secrets', '/system/tasks/x', '/tape/drive', '/datastore/..', '/datastore/a\0b', '/access/acl/x']) {
    assert.equal(isValidAclPath(p), false, JSON.stringify(p));
  }
  assert.throws(() => checkAclPath('/etc/passwd'), { code: 'INVALID_ARGUMENT' });
});
