import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatAclConfig } from '../../format/acl-config.ts';
import { deleteToken, deleteUser, openAccountStores, updateAcl } from './account-admin.ts';

async function withStores(fn: (s: ReturnType<typeof openAccountStores>) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-accounts-'));
  try {
    await fn(openAccountStores(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('updateAcl grants to existing ids only, checks the role, and deletes', () =>
  withStores(async (s) => {
    await s.users.create('a@pbs');
    await updateAcl(s, { path: '/datastore', role: 'DatastoreBackup', authId: 'a@pbs' });
    await updateAcl(s, { path: '/system/tasks', role: 'Audit', authId: 'a@pbs', propagate: false });
    assert.equal(formatAclConfig(await s.acl.load()), 'acl:1:/datastore:a@pbs:DatastoreBackup\nacl:0:/system/tasks:a@pbs:Audit\n');
    await assert.rejects(updateAcl(s, { path: '/etc/passwd', role: 'Audit', authId: 'a@pbs' }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(updateAcl(s, { path: '/', role: 'Admin', authId: 'ghost@pbs' }), { code: 'NOT_FOUND' });
    await assert.rejects(updateAcl(s, { path: '/', role: 'Root', authId: 'a@pbs' }), { code: 'INVALID_ARGUMENT' });
    await updateAcl(s, { path: '/system/tasks', role: 'Audit', authId: 'a@pbs', delete: true });
    assert.equal(formatAclConfig(await s.acl.load()), 'acl:1:/datastore:a@pbs:DatastoreBackup\n');
  }));

test('deleteUser and deleteToken also drop their ACL entries', () =>
  withStores(async (s) => {
    await s.users.create('a@pbs');
    const { tokenid } = await s.users.createToken('a@pbs', 't');
    await updateAcl(s, { path: '/', role: 'Audit', authId: tokenid });
    await updateAcl(s, { path: '/', role: 'Audit', authId: 'a@pbs' });
    await deleteToken(s, tokenid);
    assert.equal(formatAclConfig(await s.acl.load()), 'acl:1:/:a@pbs:Audit\n');
    await deleteUser(s, 'a@pbs');
    assert.equal(formatAclConfig(await s.acl.load()), '');
    assert.deepEqual(await s.users.list(), []);
  }));
