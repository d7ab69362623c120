/**
 * The datastore, user and acl listings read the server's local config dir; pointed at a dir
 * without the config (another host, a wrong --config-dir) they say so on stderr instead of
 * printing an empty table without a word.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import type { CliContext } from '../../src/cli/context.ts';
import { makeTempDir } from '../helpers/tmp.ts';

test('datastore list, user list and acl list note a config dir without their config file', async () => {
  const dir = makeTempDir('holdfast-noconfig-');
  try {
    for (const [cmd, file] of [['datastore', 'datastore.cfg'], ['user', 'user.cfg'], ['acl', 'acl.cfg']] as const) {
      let err = '';
      const ctx: CliContext = { env: { HOLDFAST_CONFIG_DIR: join(dir, 'cfg') }, out: () => undefined, err: (t) => (err += t), isTTY: false };
      const code = await main([cmd, 'list'], ctx);
      assert.equal(code, 0, err);
      assert.match(err, new RegExp(`^note: no ${file.replace('.', '\\.')} in .*--config-dir or HOLDFAST_CONFIG_DIR`), `${cmd} list`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
