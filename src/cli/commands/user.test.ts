import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../main.ts';
import type { CliContext } from '../context.ts';
import { ConfigDir } from '../../server/auth/config-dir.ts';
import { UserStore } from '../../server/auth/user-store.ts';
import { runTokenCreate, runTokenRemove, runUserCreate, runUserList, runUserPasswd, runUserRemove, type UserDeps } from './user.ts';

function capture(env: Record<string, string> = {}, isTTY = false): CliContext & { lines: string[] } {
  const lines: string[] = [];
  return { env, isTTY, lines, out: (t) => lines.push(t), err: (t) => lines.push(`ERR ${t}`) };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-cli-user-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const verify = (dir: string, userid: string, pw: string) => new UserStore(new ConfigDir(dir)).verifyPassword(userid, pw, 0);

test('runUserCreate takes --password, else a TTY prompt (typed twice), else $HOLDFAST_PASSWORD', () =>
  withDir(async (dir) => {
    await runUserCreate({ userid: 'a@pbs', password: 'flagpass' }, { configDir: dir, ctx: capture() });
    assert.equal(await verify(dir, 'a@pbs', 'flagpass'), true);
    const prompted: string[] = [];
    const tty: UserDeps = { configDir: dir, ctx: capture({}, true), readPassword: async (p) => (prompted.push(p), 'typedpass') };
    await runUserCreate({ userid: 'b@pbs' }, tty);
    assert.deepEqual(prompted, ['Password: ', 'Retype password: ']);
    assert.equal(await verify(dir, 'b@pbs', 'typedpass'), true);
    await runUserCreate({ userid: 'c@pbs' }, { configDir: dir, ctx: capture({ HOLDFAST_PASSWORD: 'envpass1' }) });
    assert.equal(await verify(dir, 'c@pbs', 'envpass1'), true);
    const ctx = capture();
    await runUserCreate({ userid: 'd@pbs' }, { configDir: dir, ctx });
    assert.match(ctx.lines[0] ?? '', /without a password/);
  }));

test('runUserCreate refuses mismatched prompted passwords', () =>
  withDir(async (dir) => {
    let n = 0;
    const deps: UserDeps = { configDir: dir, ctx: capture({}, true), readPassword: async () => `pass${n++}word` };
    await assert.rejects(runUserCreate({ userid: 'a@pbs' }, deps), { code: 'INVALID_ARGUMENT' });
  }));

test('runUserList renders text and JSON; runTokenCreate prints the secret once; runUserRemove removes', () =>
  withDir(async (dir) => {
    await runUserCreate({ userid: 'a@pbs', password: 'apassword', comment: 'first' }, { configDir: dir, ctx: capture() });
    const tok = capture();
    await runTokenCreate({ userid: 'a@pbs', name: 'job' }, { configDir: dir, ctx: tok });
    assert.match(tok.lines[0] ?? '', /^token id: a@pbs!job\nsecret: +[0-9a-f-]{36}\n/);
    const text = capture();
    await runUserList({ outputFormat: 'text' }, { configDir: dir, ctx: text });
    assert.match(text.lines[0] ?? '', /userid +enable +expire +tokens +comment\n.*\na@pbs +true +0 +\["a@pbs!job"\] +first/);
    const json = capture();
    await runUserList({ outputFormat: 'json' }, { configDir: dir, ctx: json });
    assert.deepEqual(JSON.parse(json.lines[0] ?? ''), [{ userid: 'a@pbs', enable: true, expire: 0, comment: 'first', tokens: ['a@pbs!job'] }]);
    await runUserRemove({ userid: 'a@pbs' }, { configDir: dir, ctx: capture() });
    assert.deepEqual(await new UserStore(new ConfigDir(dir)).list(), []);
  }));

test('runUserPasswd sets a new password (flag, prompt, env) and refuses none; runTokenRemove revokes a token', () =>
  withDir(async (dir) => {
    await runUserCreate({ userid: 'a@pbs', password: 'oldpassword' }, { configDir: dir, ctx: capture() });
    await runUserPasswd({ userid: 'a@pbs', password: 'newpassword' }, { configDir: dir, ctx: capture() });
    assert.equal(await verify(dir, 'a@pbs', 'oldpassword'), false);
    assert.equal(await verify(dir, 'a@pbs', 'newpassword'), true);
    await runUserPasswd({ userid: 'a@pbs' }, { configDir: dir, ctx: capture({}, true), readPassword: async () => 'typedagain' });
    assert.equal(await verify(dir, 'a@pbs', 'typedagain'), true);
    await runUserPasswd({ userid: 'a@pbs' }, { configDir: dir, ctx: capture({ HOLDFAST_PASSWORD: 'fromenv1' }) });
    assert.equal(await verify(dir, 'a@pbs', 'fromenv1'), true);
    await assert.rejects(runUserPasswd({ userid: 'a@pbs' }, { configDir: dir, ctx: capture() }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(runUserPasswd({ userid: 'nobody@pbs', password: 'whatever1' }, { configDir: dir, ctx: capture() }), { code: 'NOT_FOUND' });
    assert.equal(await verify(dir, 'a@pbs', 'fromenv1'), true, 'a refused change keeps the password');

    const tok = capture();
    await runTokenCreate({ userid: 'a@pbs', name: 'job' }, { configDir: dir, ctx: tok });
    const secret = /secret: +(\S+)/.exec(tok.lines[0] ?? '')?.[1] ?? '';
    const store = new UserStore(new ConfigDir(dir));
    assert.equal(await store.verifyToken('a@pbs!job', secret, 0), true);
    await runTokenRemove({ tokenid: 'a@pbs!job' }, { configDir: dir, ctx: capture() });
    assert.equal(await store.verifyToken('a@pbs!job', secret, 0), false);
    await assert.rejects(runTokenRemove({ tokenid: 'a@pbs!job' }, { configDir: dir, ctx: capture() }), { code: 'NOT_FOUND' });
  }));

test('holdfast user commands run through main with --config-dir and have --help', () =>
  withDir(async (dir) => {
    const ctx = capture();
    assert.equal(await main(['--config-dir', dir, 'user', 'create', 'm@pbs', '--password', 'mainpass'], ctx), 0);
    assert.equal(await main(['--config-dir', dir, 'user', 'create', 'm@pbs', '--password', 'mainpass'], ctx), 4);
    assert.ok(ctx.lines.some((l) => l.includes('ALREADY_EXISTS')));
    for (const args of [['user', '--help'], ['user', 'create', '--help'], ['user', 'list', '--help'], ['user', 'remove', '--help'], ['user', 'passwd', '--help'], ['user', 'token', 'create', '--help'], ['user', 'token', 'remove', '--help']]) {
      const help = capture();
      assert.equal(await main(args, help), 0, args.join(' '));
      assert.match(help.lines.join(''), /Usage: holdfast user/);
    }
  }));
