import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { processContext } from '../context.ts';
import { main } from '../main.ts';
import { COMMAND_MODULES, modulesFor } from './index.ts';

test('COMMAND_MODULES names exactly the top-level commands and aliases each module registers', async () => {
  for (const m of COMMAND_MODULES) {
    const program = new Command('holdfast');
    (await m.load())(program, processContext());
    const registered = program.commands.flatMap((c) => [c.name(), ...c.aliases()]).sort();
    assert.deepEqual(registered, [...m.names].sort());
  }
});

test('modulesFor loads only the module of the command run, and every module for help or an unknown command', () => {
  assert.deepEqual(modulesFor(['backup', 'root.pxar:/']).map((m) => m.names[0]), ['backup']);
  assert.deepEqual(modulesFor(['--config-dir', 'backup', 'gc', 'store']).map((m) => m.names[0]), ['garbage-collection']);
  assert.deepEqual(modulesFor(['prune-job', 'x']).map((m) => m.names[0]), ['prune']);
  for (const argv of [[], ['--help'], ['help', 'backup'], ['bakcup'], ['--version', 'bakcup']]) assert.equal(modulesFor(argv).length, COMMAND_MODULES.length, argv.join(' '));
});

test('modulesFor loads no command for --version alone, and main still prints the version', async () => {
  assert.deepEqual(modulesFor(['--version']), []);
  assert.deepEqual(modulesFor(['-V']), []);
  let out = '';
  const code = await main(['--version'], { env: {}, out: (t) => (out += t), err: () => undefined, isTTY: false });
  assert.equal(code, 0);
  assert.equal(out.trim(), '0.1.0');
});
