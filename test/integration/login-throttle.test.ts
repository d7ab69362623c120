/**
 * Login throttling on a real server: failed logins for one user are delayed (the delays are
 * recorded by an injected sleep, never waited for in real time), and while one of them is held
 * back, other users log in and the API answers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { isHoldfastError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/log.ts';
import { HttpClient } from '../../src/remote/http-client.ts';
import { startHoldfastServer, type HoldfastServer } from '../../src/server/holdfast-server.ts';
import { makeTempDir } from '../helpers/tmp.ts';

const dir = makeTempDir('holdfast-throttle-');
/** Delays asked for, each with the function that ends it. */
const held: { ms: number; release: () => void }[] = [];
let waiter: (() => void) | undefined;
let hs: HoldfastServer;
let password = '';

before(async () => {
  hs = await startHoldfastServer({
    configDir: join(dir, 'config'),
    host: '127.0.0.1',
    port: 0,
    log: silentLogger,
    workerThreads: false,
    loginSleep: (ms) =>
      new Promise<void>((resolve) => {
        held.push({ ms, release: resolve });
        waiter?.();
      }),
  });
  password = hs.firstStart.adminPassword ?? '';
  await hs.auth.users.create('other@pbs', { password: 'other-password' });
});

after(async () => {
  await hs?.close();
  rmSync(dir, { recursive: true, force: true });
});

const client = (): HttpClient => new HttpClient({ host: '127.0.0.1', port: hs.server.port, fingerprint: hs.server.fingerprint });
const unauthenticated = (e: unknown): boolean => isHoldfastError(e, 'UNAUTHENTICATED');

test('AuthService.login delays failed logins of a user, and the server stays responsive meanwhile', async () => {
  for (let i = 0; i < 3; i++) await assert.rejects(client().login('admin@pbs', `wrong ${i}`), unauthenticated);
  assert.equal(held.length, 0, 'the first failures are free');
  const asked = new Promise<void>((resolve) => (waiter = resolve));
  const fourth = client().login('admin@pbs', 'wrong 3');
  await asked;
  assert.deepEqual(held.map((h) => h.ms), [500]);
  // the held-back attempt blocks nobody else: another user logs in and calls the API
  const other = client();
  await other.login('other@pbs', 'other-password');
  assert.equal(((await other.get('version')) as { version: string }).version, '0.1');
  held[0]!.release();
  await assert.rejects(fourth, unauthenticated);
  // the right password after failures still works, once its delay has passed
  const nextAsked = new Promise<void>((resolve) => (waiter = resolve));
  const ok = client().login('admin@pbs', password);
  await nextAsked;
  assert.deepEqual(held.map((h) => h.ms), [500, 1000]);
  held[1]!.release();
  await ok;
});
