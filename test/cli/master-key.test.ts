/**
 * PBS's master-key recovery, end to end: a master key pair, its public half imported, an
 * encrypted backup that then carries `rsa-encrypted.key.blob` (plain, so it restores without the
 * key), and `key import-with-master-key` recovering a key file that restores the backup.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTime } from '../../src/core/backup-ref.ts';
import { runCreateMasterKey } from '../../src/cli/commands/key-master.ts';
import type { CliContext } from '../../src/cli/context.ts';
import { describeCli, fastRandom, startTestServer } from '../helpers/server-fixture.ts';

const T = 1_800_000_000;

test('an encrypted backup stores rsa-encrypted.key.blob under the imported master key, and import-with-master-key recovers the key', { timeout: 120_000 }, async () => {
  const srv = await startTestServer();
  try {
    const home = join(srv.dir, 'home');
    const work = join(srv.dir, 'work');
    mkdirSync(home);
    mkdirSync(work);
    const extra = { HOME: home, HOLDFAST_MASTER_KEY_PASSWORD: 'master secret' };
    const cli = async (args: string[]): Promise<string> => {
      const r = await srv.cli(args, undefined, extra);
      assert.equal(r.code, 0, `${args.join(' ')}: ${describeCli(r)}`);
      return r.stdout;
    };
    const ctx: CliContext = { env: extra, isTTY: false, out: () => undefined, err: () => undefined };
    await runCreateMasterKey(ctx, work, 2048);
    await cli(['key', 'import-master-pubkey', join(work, 'master-public.pem')]);
    assert.ok(existsSync(join(home, '.config', 'holdfast', 'master-public.pem')));

    const key = join(work, 'key.json');
    await cli(['key', 'create', key, '--kdf', 'none']);
    const secret = fastRandom(5000, 3);
    writeFileSync(join(work, 'secret.conf'), secret);
    await cli(['backup', `secret.conf:${join(work, 'secret.conf')}`, '--backup-id', 'm', '--backup-time', String(T), '--keyfile', key]);
    const snap = `host/m/${formatTime(T)}`;
    assert.match(await cli(['snapshot', 'files', snap]), /^rsa-encrypted\.key\.blob +\d+ B +none$/m);

    const copy = join(work, 'rsa-encrypted.key');
    await cli(['restore', snap, 'rsa-encrypted.key', copy]);
    const recovered = join(work, 'recovered.json');
    await cli(['key', 'import-with-master-key', recovered, '--master-keyfile', join(work, 'master-private.pem'), '--encrypted-keyfile', copy, '--kdf', 'none']);
    const [a, b] = [key, recovered].map((p) => JSON.parse(readFileSync(p, 'utf8')) as { fingerprint: string; created: string });
    assert.equal(b!.fingerprint, a!.fingerprint);
    assert.equal(b!.created, a!.created);
    await cli(['restore', snap, 'secret.conf', join(work, 'out.conf'), '--keyfile', recovered]);
    assert.ok(readFileSync(join(work, 'out.conf')).equals(secret));
  } finally {
    await srv.close();
  }
});
