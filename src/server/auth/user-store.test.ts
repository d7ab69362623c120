import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigDir } from './config-dir.ts';
import { SHADOW_FILE, USER_CFG, UserStore } from './user-store.ts';

const NOW = 1_700_000_000;

async function withStore(fn: (users: UserStore, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-users-'));
  try {
    await fn(new UserStore(new ConfigDir(dir)), dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('UserStore.create writes user.cfg as section config and the hash to shadow.json (0600)', () =>
  withStore(async (users, dir) => {
    assert.equal(await users.initialized(), false);
    await users.create('alice@pbs', { password: 'alicepw', comment: 'hi there' });
    assert.equal(await readFile(join(dir, USER_CFG), 'utf8'), 'user: alice@pbs\n\tenable true\n\texpire 0\n\tcomment hi there\n');
    const shadow = await readFile(join(dir, SHADOW_FILE), 'utf8');
    assert.ok(!shadow.includes('alicepw'));
    assert.equal((await stat(join(dir, SHADOW_FILE))).mode & 0o777, 0o600);
    assert.equal(await users.initialized(), true);
    assert.deepEqual(await users.list(), [{ userid: 'alice@pbs', enable: true, expire: 0, comment: 'hi there' }]);
  }));

test('UserStore.create refuses duplicates, other realms and bad ids', () =>
  withStore(async (users) => {
    await users.create('a@pbs');
    await assert.rejects(users.create('a@pbs'), { code: 'ALREADY_EXISTS' });
    await assert.rejects(users.create('root@pam'), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(users.create('x y@pbs'), { code: 'INVALID_NAME' });
    await assert.rejects(users.create('b@pbs', { password: 'shrt' }), { code: 'INVALID_ARGUMENT' });
  }));

test('UserStore.verifyPassword checks the password, the enable flag and the expiry', () =>
  withStore(async (users) => {
    await users.create('a@pbs', { password: 'apassword' });
    await users.create('off@pbs', { password: 'apassword', enable: false });
    await users.create('old@pbs', { password: 'apassword', expire: NOW - 1 });
    await users.create('nopw@pbs');
    assert.equal(await users.verifyPassword('a@pbs', 'apassword', NOW), true);
    assert.equal(await users.verifyPassword('a@pbs', 'wrong', NOW), false);
    assert.equal(await users.verifyPassword('off@pbs', 'apassword', NOW), false);
    assert.equal(await users.verifyPassword('old@pbs', 'apassword', NOW), false);
    assert.equal(await users.verifyPassword('nopw@pbs', 'apassword', NOW), false);
    assert.equal(await users.verifyPassword('ghost@pbs', 'apassword', NOW), false);
    await users.setPassword('a@pbs', 'newpassword');
    assert.equal(await users.verifyPassword('a@pbs', 'newpassword', NOW), true);
  }));

test('UserStore tokens: secret returned once, verified against its hash, removed with the user', () =>
  withStore(async (users, dir) => {
    await users.create('a@pbs');
    const t = await users.createToken('a@pbs', 'job');
    assert.equal(t.tokenid, 'a@pbs!job');
    assert.match(t.value, /^[0-9a-f-]{36}$/);
    assert.ok(!(await readFile(join(dir, SHADOW_FILE), 'utf8')).includes(t.value));
    assert.equal(await users.verifyToken('a@pbs!job', t.value, NOW), true);
    assert.equal(await users.verifyToken('a@pbs!job', 'wrong', NOW), false);
    assert.equal(await users.isActive('a@pbs!job', NOW), true);
    await assert.rejects(users.createToken('a@pbs', 'job'), { code: 'ALREADY_EXISTS' });
    await assert.rejects(users.createToken('ghost@pbs', 'job'), { code: 'NOT_FOUND' });
    await assert.rejects(users.createToken('a@pbs', 'bad name'), { code: 'INVALID_NAME' });
    await users.remove('a@pbs');
    assert.equal(await users.verifyToken('a@pbs!job', t.value, NOW), false);
    assert.deepEqual(await users.listTokens('a@pbs'), []);
    const shadow = JSON.parse(await readFile(join(dir, SHADOW_FILE), 'utf8')) as { tokens: Record<string, string> };
    assert.equal(shadow.tokens['a@pbs!job'], undefined);
  }));

test('UserStore: a token of a disabled user is not active', () =>
  withStore(async (users) => {
    await users.create('off@pbs', { enable: false });
    const t = await users.createToken('off@pbs', 'x');
    assert.equal(await users.isActive('off@pbs!x', NOW), false);
    assert.equal(await users.verifyToken('off@pbs!x', t.value, NOW), false);
  }));

test('UserStore.remove and removeToken fail with NOT_FOUND for unknown ids', () =>
  withStore(async (users) => {
    await assert.rejects(users.remove('ghost@pbs'), { code: 'NOT_FOUND' });
    await assert.rejects(users.removeToken('ghost@pbs!t'), { code: 'NOT_FOUND' });
  }));
