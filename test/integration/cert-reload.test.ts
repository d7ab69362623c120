/**
 * The server's certificate through the real CLI and a real `holdfast serve`: `cert info` shows the
 * fingerprint the server presents; `cert update` needs --force and makes a new pair; the running
 * server presents it after SIGHUP (and not before); a key that does not match the certificate is
 * refused on SIGHUP (the old pair stays in use) and at start (a clear INVALID_CONFIG, not a server
 * that cannot finish a handshake), and that failed start exits instead of hanging; so does a
 * start on an address in use (INVALID_ARGUMENT naming the address).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { connect } from 'node:tls';
import { cleanEnv, describeCli, runCli, spawnServe, type ServeProcess } from '../helpers/server-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';

const dir = makeTempDir('holdfast-cert-');
const configDir = join(dir, 'config');
const env = cleanEnv({ HOLDFAST_CONFIG_DIR: configDir, HOLDFAST_DATA_DIR: join(dir, 'data') });
let server: ServeProcess | undefined;

after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The fingerprint of the certificate the server presents to a new connection. */
function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().fingerprint256.toLowerCase());
      s.end();
    });
    s.once('error', reject);
  });
}

test('cert info, cert update --force and SIGHUP: the server presents the new certificate without a restart; a mismatched key is refused', { timeout: 120_000 }, async () => {
  server = await spawnServe(['--listen', '127.0.0.1:0', '--no-default-datastore'], env);
  const info = JSON.parse((await runCli(['cert', 'info', '--output-format', 'json'], env)).stdout) as { fingerprint: string; san: string };
  assert.equal(info.fingerprint, server.fingerprint);
  assert.match(info.san, /DNS:localhost/);
  assert.equal(await presented(server.port), server.fingerprint);

  const refused = await runCli(['cert', 'update'], env);
  assert.equal(refused.code, 2, describeCli(refused));
  const updated = await runCli(['cert', 'update', '--force'], env);
  assert.equal(updated.code, 0, describeCli(updated));
  const renewed = /fingerprint: (\S+)/.exec(updated.stdout)?.[1] ?? '';
  assert.notEqual(renewed, server.fingerprint);
  assert.equal(await presented(server.port), server.fingerprint, 'no reload yet');

  process.kill(server.child.pid!, 'SIGHUP');
  assert.equal((await server.waitForLine(/^SIGHUP: certificate reloaded, fingerprint: (\S+)$/))[1], renewed);
  assert.equal(await presented(server.port), renewed);

  // a key from another pair: refused on reload, the pair in use stays
  const other = join(dir, 'other');
  assert.equal((await runCli(['cert', 'update', '--force'], cleanEnv({ HOLDFAST_CONFIG_DIR: other }))).code, 0);
  copyFileSync(join(other, 'proxy.key'), join(configDir, 'proxy.key'));
  process.kill(server.child.pid!, 'SIGHUP');
  assert.match((await server.waitForErrLine(/^SIGHUP: certificate not reloaded.*/))[0], /proxy\.key is not the key of the certificate/);
  assert.equal(await presented(server.port), renewed);

  assert.equal(await server.stop(), 0);
  server = undefined;
  await assert.rejects(spawnServe(['--listen', '127.0.0.1:0', '--no-default-datastore'], env), /INVALID_CONFIG.*proxy\.key is not the key of the certificate.*cert update --force/s);
});

test('serve on an address in use exits at once with INVALID_ARGUMENT (it used to print INTERNAL and hang)', { timeout: 60_000 }, async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  try {
    const port = (blocker.address() as { port: number }).port;
    const r = await runCli(['serve', '--listen', `127.0.0.1:${port}`, '--no-default-datastore'], cleanEnv({ HOLDFAST_CONFIG_DIR: join(dir, 'busy') }));
    assert.equal(r.code, 2, describeCli(r));
    assert.match(r.stderr, new RegExp(`INVALID_ARGUMENT.*cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use`));
  } finally {
    blocker.close();
  }
});
