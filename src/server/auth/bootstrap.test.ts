import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapAdmin } from './bootstrap.ts';
import { ConfigDir } from './config-dir.ts';
import { UserStore } from './user-store.ts';

test('bootstrapAdmin creates admin@pbs with Admin on / once, and returns null later', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-boot-'));
  try {
    const password = await bootstrapAdmin(dir);
    assert.ok(password !== null && password.length >= 20);
    assert.equal(await readFile(join(dir, 'acl.cfg'), 'utf8'), 'acl:1:/:admin@pbs:Admin\n');
    assert.equal(await new UserStore(new ConfigDir(dir)).verifyPassword('admin@pbs', password, 0), true);
    assert.equal(await bootstrapAdmin(dir), null);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
