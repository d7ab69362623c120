import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatAclConfig, parseAclConfig } from '../../format/acl-config.ts';
import { AclStore, aclApiEntries, withoutAuthId, withoutGrant, withoutUser } from './acl-store.ts';
import { ConfigDir } from './config-dir.ts';

const TEXT = 'acl:1:/:a@pbs:Admin\nacl:1:/x:a@pbs!t,b@pbs:Audit\nacl:1:/x:b@pbs:DatastoreAudit\n';

test('withoutAuthId, withoutUser and withoutGrant drop exactly the selected grants', () => {
  const tree = parseAclConfig(TEXT, 'acl.cfg');
  assert.equal(formatAclConfig(withoutAuthId(tree, 'a@pbs!t')), 'acl:1:/:a@pbs:Admin\nacl:1:/x:b@pbs:Audit,DatastoreAudit\n');
  assert.equal(formatAclConfig(withoutUser(tree, 'a@pbs')), 'acl:1:/x:b@pbs:Audit,DatastoreAudit\n');
  assert.equal(formatAclConfig(withoutGrant(tree, '/x', 'b@pbs', 'Audit')), 'acl:1:/:a@pbs:Admin\nacl:1:/x:a@pbs!t:Audit\nacl:1:/x:b@pbs:DatastoreAudit\n');
  assert.equal(formatAclConfig(tree), TEXT);
});

test('aclApiEntries lists grants in PBS API shape', () => {
  assert.deepEqual(aclApiEntries(parseAclConfig('acl:0:/d:a@pbs:DatastoreAudit\n', 'acl.cfg')), [
    { path: '/d', ugid: 'a@pbs', ugid_type: 'user', roleid: 'DatastoreAudit', propagate: false },
  ]);
});

test('AclStore.update re-reads, applies the edit and writes acl.cfg', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-aclstore-'));
  try {
    const store = new AclStore(new ConfigDir(dir));
    assert.equal((await store.load()).entries().length, 0);
    await store.update((t) => {
      t.insert('/datastore', 'a@pbs', 'DatastoreBackup', true);
      return t;
    });
    await store.update((t) => withoutUser(t, 'nobody@pbs'));
    assert.equal(await readFile(join(dir, 'acl.cfg'), 'utf8'), 'acl:1:/datastore:a@pbs:DatastoreBackup\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
