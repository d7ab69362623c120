/**
 * DatastoreRegistry.remove: while a store is being removed it is not opened again. Opening writes
 * the in-use marker into the store's directory, and an open during a destroy (a dashboard
 * refresh, the usage sampler) made the removal fail with "not empty".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isHoldfastError } from '../../core/errors.ts';
import { memoryLogger } from '../../core/log.ts';
import { FlockLocker } from '../../storage/locker.ts';
import { NodeFs } from '../../storage/node-fs.ts';
import { makeTempDir } from '../../../test/helpers/tmp.ts';
import { DatastoreRegistry } from './datastore-registry.ts';

test('DatastoreRegistry.remove with destroyData refuses to open the store meanwhile, and the tree goes', async (t) => {
  const dir = makeTempDir('holdfast-registry-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const registry = new DatastoreRegistry({ fs: new NodeFs(), configDir: join(dir, 'config'), locker: new FlockLocker(), log: memoryLogger() });
  const path = join(dir, 'store1');
  await registry.admin.create({ name: 'store1', path, tuning: 'gc-atime-safety-check=false' });
  await registry.get('store1', 'read'); // open, as a server has it

  const removal = registry.remove('store1', { destroyData: true });
  // asked for while the removal runs (the dashboard, the usage sampler): refused, nothing written
  const opens = await Promise.allSettled([registry.get('store1', 'read'), registry.get('store1', 'write')]);
  assert.deepEqual(await removal, { objectsRemoved: 0 });
  for (const o of opens) {
    if (o.status !== 'rejected') assert.fail('an open during the removal was allowed');
    const e: unknown = o.reason;
    assert.ok(isHoldfastError(e, 'LOCKED') || isHoldfastError(e, 'DATASTORE_NOT_FOUND'), String(e));
  }
  assert.equal(existsSync(path), false, 'the directory tree is gone');
  await assert.rejects(registry.get('store1', 'read'), (e: unknown) => isHoldfastError(e, 'DATASTORE_NOT_FOUND'));
  await assert.rejects(registry.remove('store1'), (e: unknown) => isHoldfastError(e, 'DATASTORE_NOT_FOUND'));
});
