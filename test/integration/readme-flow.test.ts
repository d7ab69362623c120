/**
 * The README's quick start, as a new user runs it: start `holdfast serve` (what `npm start` runs)
 * with a fresh config and data dir, read the admin password and the fingerprint it prints, point
 * the client at it with the three environment variables, back up a directory, list the
 * snapshots, restore the one the listing shows, and find the directory identical.
 *
 * The commands are the README's, with a random port (`--listen 127.0.0.1:0`) instead of 8007 and
 * temp dirs for HOLDFAST_CONFIG_DIR / HOLDFAST_DATA_DIR.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../helpers/tmp.ts';
import { cleanEnv, cliOk, type CliResult, fastRandom, runCli, spawnServe } from '../helpers/server-fixture.ts';

/** path → sha256 of a file, `-> target` of a symlink, `dir` of a directory. */
function treeDigest(root: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(root, rel)).sort()) {
    const p = join(rel, name);
    const abs = join(root, p);
    const st = lstatSync(abs);
    if (st.isSymbolicLink()) out[p] = `-> ${readlinkSync(abs)}`;
    else if (st.isDirectory()) Object.assign(out, { [p]: `dir ${(st.mode & 0o7777).toString(8)}` }, treeDigest(root, p));
    else out[p] = `${(st.mode & 0o7777).toString(8)} ${createHash('sha256').update(readFileSync(abs)).digest('hex')}`;
  }
  return out;
}

const ok = (r: CliResult, what: string): string => cliOk(r, what).stdout;

test('README quick start: serve, read the printed login, back up, list, restore, identical', { timeout: 120_000 }, async () => {
  const dir = makeTempDir('holdfast-readme-');
  const home = join(dir, 'home-me');
  mkdirSync(join(home, 'docs', 'notes'), { recursive: true });
  writeFileSync(join(home, 'docs', 'letter.txt'), 'Dear reader,\nthis is backed up.\n');
  writeFileSync(join(home, 'docs', 'notes', 'ünïcödé notes.md'), '# notes\n'.repeat(1000));
  writeFileSync(join(home, 'photo.raw'), fastRandom(3 * 1024 * 1024 + 7, 21));
  writeFileSync(join(home, '.profile'), 'export EDITOR=vi\n', { mode: 0o600 });
  mkdirSync(join(home, 'empty'));
  symlinkSync('docs/letter.txt', join(home, 'latest-letter'));

  // $ HOLDFAST_CONFIG_DIR=… HOLDFAST_DATA_DIR=… npm start -- --listen 127.0.0.1:8007
  const serverEnv = cleanEnv({ HOLDFAST_CONFIG_DIR: join(dir, 'config'), HOLDFAST_DATA_DIR: join(dir, 'data') });
  const server = await spawnServe(['--listen', '127.0.0.1:0'], serverEnv);
  try {
    const login = await server.waitForLine(/^first start: user (\S+), password (\S+)$/);
    await server.waitForLine(/^created datastore 'default'$/);
    const [user, password] = [login[1]!, login[2]!];
    assert.equal(user, 'admin@pbs');
    assert.match(server.fingerprint, /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
    assert.equal(readFileSync(join(dir, 'config', 'initial-admin-password'), 'utf8').trim(), password, 'the saved password differs from the printed one');

    // $ export HOLDFAST_REPOSITORY=admin@pbs@127.0.0.1:8007:default HOLDFAST_PASSWORD=… HOLDFAST_FINGERPRINT=…
    const env = cleanEnv({
      HOLDFAST_REPOSITORY: `${user}@127.0.0.1:${server.port}:default`,
      HOLDFAST_PASSWORD: readFileSync(join(dir, 'config', 'initial-admin-password'), 'utf8').trim(),
      HOLDFAST_FINGERPRINT: server.fingerprint,
    });
    // $ holdfast backup home.pxar:/home/me --backup-id laptop
    const backupOut = ok(await runCli(['backup', `home.pxar:${home}`, '--backup-id', 'laptop'], env), 'backup');
    assert.match(backupOut, /^snapshot host\/laptop\/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ finished in /m);
    // $ holdfast snapshot list
    const listOut = ok(await runCli(['snapshot', 'list'], env), 'snapshot list');
    const snapshots = [...listOut.matchAll(/^(host\/laptop\/\S+Z)\s/gm)].map((m) => m[1]!);
    assert.equal(snapshots.length, 1, `snapshot list should show one snapshot:\n${listOut}`);
    assert.match(listOut, /home\.mpxar\.didx/);
    // $ holdfast restore host/laptop/<time> home.pxar /tmp/restored
    const target = join(dir, 'restored');
    const restoreOut = ok(await runCli(['restore', snapshots[0]!, 'home.pxar', target], env), 'restore');
    assert.match(restoreOut, /^restored home\.mpxar\.didx \+ home\.ppxar\.didx: \d+ entries/);
    assert.deepEqual(treeDigest(target), treeDigest(home));
    // Ctrl-C / SIGTERM stops the server cleanly
    assert.equal(await server.stop(), 0, `holdfast serve did not shut down cleanly on SIGTERM: ${server.stderr()}`);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
