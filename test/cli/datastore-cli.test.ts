import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import type { CliContext } from '../../src/cli/context.ts';
import { makeTempDir } from '../helpers/tmp.ts';

function cli(configDir: string): { run(args: string[]): Promise<{ code: number; out: string; err: string }> } {
  return {
    async run(args) {
      let out = '';
      let err = '';
      const ctx: CliContext = { env: { HOLDFAST_CONFIG_DIR: configDir }, out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), isTTY: false };
      const code = await main(args, ctx);
      return { code, out, err };
    },
  };
}

test('holdfast datastore create makes 65536 prefix dirs and show reports the tuning', async () => {
  const t = makeTempDir();
  try {
    const c = cli(join(t, 'cfg'));
    const r = await c.run(['datastore', 'create', 's01', join(t, 's01'), '--tuning', 'sync-level=file']);
    assert.equal(r.code, 0, r.err);
    assert.equal(readdirSync(join(t, 's01', '.chunks')).length, 65536);
    assert.ok(existsSync(join(t, 's01', '.lock')));
    const show = await c.run(['datastore', 'show', 's01', '--output-format', 'json']);
    const d = JSON.parse(show.out) as Record<string, unknown>;
    assert.equal(d['sync-level'], 'file');
    assert.equal(d['tuning'], 'sync-level=file');
    assert.match(readFileSync(join(t, 'cfg', 'datastore.cfg'), 'utf8'), /^datastore: s01\n\tpath .*\n\ttuning sync-level=file\n/m);
    const list = JSON.parse((await c.run(['datastore', 'list', '--output-format', 'json'])).out) as { name: string }[];
    assert.deepEqual(list.map((x) => x.name), ['s01']);
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});

test('holdfast datastore create with a bad tuning names the key and the value and leaves nothing behind', async () => {
  const t = makeTempDir();
  try {
    const c = cli(join(t, 'cfg'));
    const r = await c.run(['datastore', 'create', 's01', join(t, 's01'), '--tuning', 'sync-level=bogus']);
    assert.equal(r.code, 2);
    assert.match(r.err, /INVALID_TUNING/);
    assert.match(r.err, /sync-level/);
    assert.match(r.err, /bogus/);
    assert.equal(existsSync(join(t, 's01')), false);
    assert.equal(existsSync(join(t, 'cfg', 'datastore.cfg')), false);
    const unknown = await c.run(['datastore', 'create', 's01', join(t, 's01'), '--tuning', 'colour=blue']);
    assert.match(unknown.err, /colour/);
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});

test('holdfast datastore create refuses a non-empty directory and bad names, untouched', async () => {
  const t = makeTempDir();
  try {
    const c = cli(join(t, 'cfg'));
    const dir = join(t, 'busy');
    mkdirSync(dir);
    writeFileSync(join(dir, 'data.txt'), 'keep me');
    writeFileSync(join(dir, '.hidden'), 'dot-files are fine');
    const r = await c.run(['datastore', 'create', 'busy', dir]);
    assert.equal(r.code, 4);
    assert.match(r.err, /DIRECTORY_NOT_EMPTY/);
    assert.deepEqual(readdirSync(dir).sort(), ['.hidden', 'data.txt']);
    for (const name of ['ab', 'a/b', '../x', '-x', 'x'.repeat(33)]) {
      const bad = await c.run(['datastore', 'create', name, join(t, 'n')]);
      assert.equal(bad.code, 2, `${name}: ${bad.err}`);
      assert.equal(existsSync(join(t, 'n')), false);
    }
    mkdirSync(join(t, 'withdots'));
    mkdirSync(join(t, 'withdots', 'lost+found'));
    assert.equal((await c.run(['datastore', 'create', 'dots', join(t, 'withdots')])).code, 0);
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});

test('holdfast datastore update, concurrent creates and remove --destroy-data', async () => {
  const t = makeTempDir();
  try {
    const c = cli(join(t, 'cfg'));
    const results = await Promise.all(['s01', 's02', 's03'].map((n) => c.run(['datastore', 'create', n, join(t, n)])));
    assert.deepEqual(results.map((r) => r.code), [0, 0, 0]);
    const names = (JSON.parse((await c.run(['datastore', 'list', '--output-format', 'json'])).out) as { name: string }[]).map((x) => x.name).sort();
    assert.deepEqual(names, ['s01', 's02', 's03'], 'the config lock kept every concurrent create');
    assert.equal((await c.run(['datastore', 'update', 's02', '--tuning', 'sync-level=none,gc-atime-cutoff=60'])).code, 0);
    const d = JSON.parse((await c.run(['datastore', 'show', 's02', '--output-format', 'json'])).out) as Record<string, unknown>;
    assert.equal(d['sync-level'], 'none');
    assert.equal((await c.run(['datastore', 'update', 's02', '--tuning', 'gc-atime-cutoff=0'])).code, 2);
    assert.equal((await c.run(['datastore', 'remove', 's01'])).code, 0);
    assert.ok(existsSync(join(t, 's01', '.chunks')), 'data stays without --destroy-data');
    assert.equal((await c.run(['datastore', 'remove', 's03', '--destroy-data'])).code, 0);
    assert.equal(existsSync(join(t, 's03')), false);
    assert.equal((await c.run(['datastore', 'show', 's03'])).code, 3);
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});

test('holdfast datastore update changes only the options it names: a new comment keeps the sync level; maintenance mode is checked and cleared with an empty value', async () => {
  const t = makeTempDir();
  try {
    const c = cli(join(t, 'cfg'));
    assert.equal((await c.run(['datastore', 'create', 's02', join(t, 's02'), '--tuning', 'sync-level=file'])).code, 0);
    const show = async (): Promise<Record<string, unknown>> => JSON.parse((await c.run(['datastore', 'show', 's02', '--output-format', 'json'])).out) as Record<string, unknown>;
    assert.equal((await c.run(['datastore', 'update', 's02', '--comment', 'hi'])).code, 0);
    assert.equal((await show())['sync-level'], 'file', 'an update of the comment must not reset the durability level');
    assert.equal((await c.run(['datastore', 'update', 's02', '--maintenance-mode', 'type=read-only,message=disk swap'])).code, 0);
    const d = await show();
    assert.equal(d['comment'], 'hi');
    assert.equal(d['maintenance-mode'], 'type=read-only,message=disk swap');
    const bad = await c.run(['datastore', 'update', 's02', '--maintenance-mode', 'sleeping']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /INVALID_ARGUMENT.*read-only or offline/);
    assert.equal((await c.run(['datastore', 'update', 's02', '--maintenance-mode', ''])).code, 0);
    assert.equal((await show())['maintenance-mode'], undefined);
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});

test('holdfast datastore update checks schedules, keep-* and verify-new when they are set, and keeps the old value on a refusal', async () => {
  const t = makeTempDir();
  try {
    const c = cli(join(t, 'cfg'));
    assert.equal((await c.run(['datastore', 'create', 's02', join(t, 's02')])).code, 0);
    const show = async (): Promise<Record<string, unknown>> => JSON.parse((await c.run(['datastore', 'show', 's02', '--output-format', 'json'])).out) as Record<string, unknown>;
    assert.equal((await c.run(['datastore', 'update', 's02', '--gc-schedule', 'daily', '--prune-schedule', 'mon..fri 02:30', '--verify-schedule', 'sat 03:00'])).code, 0);
    for (const [flag, value, reason] of [
      ['--gc-schedule', 'every full moon', /gc-schedule 'every full moon' is not a calendar event/],
      ['--prune-schedule', '25:00', /prune-schedule '25:00' is not a calendar event/],
      ['--verify-schedule', 'sat 3pm', /verify-schedule 'sat 3pm' is not a calendar event/],
      ['--verify-new', 'maybe', /verify-new must be true or false/],
    ] as const) {
      const bad = await c.run(['datastore', 'update', 's02', flag, value]);
      assert.equal(bad.code, 2, `${flag} ${value}: ${bad.err}`);
      assert.match(bad.err, reason);
    }
    const d = await show();
    assert.deepEqual([d['gc-schedule'], d['prune-schedule'], d['verify-schedule']], ['daily', 'mon..fri 02:30', 'sat 03:00'], 'refusals changed nothing');
    assert.equal((await c.run(['datastore', 'update', 's02', '--verify-schedule', ''])).code, 0, 'an empty value clears');
    assert.equal((await show())['verify-schedule'], undefined);
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});
