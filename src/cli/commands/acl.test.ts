import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../main.ts';
import type { CliContext } from '../context.ts';
import { runAclList, runAclUpdate } from './acl.ts';
import { runUserCreate } from './user.ts';

function capture(): CliContext & { lines: string[] } {
  const lines: string[] = [];
  return { env: {}, isTTY: false, lines, out: (t) => lines.push(t), err: (t) => lines.push(`ERR ${t}`) };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-cli-acl-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('runAclUpdate grants, honours --no-propagate and --delete, and writes PBS acl.cfg lines', () =>
  withDir(async (dir) => {
    const deps = { configDir: dir, ctx: capture() };
    await runUserCreate({ userid: 'b@pbs' }, deps);
    await runAclUpdate({ path: '/datastore/s1', role: 'DatastoreBackup', authId: 'b@pbs', propagate: true, delete: false }, deps);
    await runAclUpdate({ path: '/datastore', role: 'DatastoreAudit', authId: 'b@pbs', propagate: false, delete: false }, deps);
    assert.equal(await readFile(join(dir, 'acl.cfg'), 'utf8'), 'acl:0:/datastore:b@pbs:DatastoreAudit\nacl:1:/datastore/s1:b@pbs:DatastoreBackup\n');
    await runAclUpdate({ path: '/datastore', role: 'DatastoreAudit', authId: 'b@pbs', propagate: false, delete: true }, deps);
    const list = capture();
    await runAclList({ outputFormat: 'json' }, { configDir: dir, ctx: list });
    assert.deepEqual(JSON.parse(list.lines[0] ?? ''), [{ path: '/datastore/s1', ugid: 'b@pbs', ugid_type: 'user', roleid: 'DatastoreBackup', propagate: true }]);
    await assert.rejects(runAclUpdate({ path: '/', role: 'Admin', authId: 'ghost@pbs', propagate: true, delete: false }, deps), { code: 'NOT_FOUND' });
  }));

test('holdfast acl update parses --auth-id and --no-propagate; acl commands have --help', () =>
  withDir(async (dir) => {
    const ctx = capture();
    assert.equal(await main(['--config-dir', dir, 'user', 'create', 'b@pbs'], ctx), 0);
    assert.equal(await main(['--config-dir', dir, 'acl', 'update', '/datastore', 'DatastoreReader', '--auth-id', 'b@pbs', '--no-propagate'], ctx), 0);
    assert.equal(await readFile(join(dir, 'acl.cfg'), 'utf8'), 'acl:0:/datastore:b@pbs:DatastoreReader\n');
    assert.equal(await main(['--config-dir', dir, 'acl', 'update', '/', 'Wizard', '--auth-id', 'b@pbs'], ctx), 2);
    assert.equal(await main(['--config-dir', dir, 'acl', 'list'], ctx), 0);
    assert.match(ctx.lines.at(-1) ?? '', /\/datastore +b@pbs +DatastoreReader +false/);
    for (const args of [['acl', '--help'], ['acl', 'update', '--help'], ['acl', 'list', '--help']]) {
      const help = capture();
      assert.equal(await main(args, help), 0);
      assert.match(help.lines.join(''), /Usage: holdfast acl/);
    }
  }));
