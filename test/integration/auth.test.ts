/**
 * Auth end to end over real HTTPS on 127.0.0.1: ticket login and CSRF, API tokens in both header
 * forms, ACL roles and propagation, token privileges bounded by their user, a dummy protocol
 * upgraded to h2 with concurrent streams, session cleanup on disconnect, and certificate pinning.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail, isHoldfastError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/log.ts';
import { HttpClient } from '../../src/remote/http-client.ts';
import { createApp } from '../../src/server/app.ts';
import { AuthService } from '../../src/server/auth/authenticator.ts';
import { bootstrapAdmin } from '../../src/server/auth/bootstrap.ts';
import { systemClock } from '../../src/server/clock.ts';
import { BACKUP_PROTOCOL, type ProtocolSession } from '../../src/server/h2-upgrade.ts';
import { startServer, type RunningServer } from '../../src/server/listen.ts';
import { accessRoutes } from '../../src/server/routes/access.ts';
import { versionRoute } from '../../src/server/routes/version.ts';
import type { Route } from '../../src/server/router.ts';

let dir = '';
let server: RunningServer;
let adminPassword = '';
const closedSessions: string[] = [];
let onSessionClosed: (() => void) | undefined;

const storeRoute: Route = {
  method: 'GET',
  path: '/api2/json/test/store/{store}',
  privilege: ({ params }) => ({ path: `/datastore/${params['store'] ?? ''}`, privs: ['Datastore.Backup'] }),
  handler: ({ params, authId }) => ({ store: params['store'], authId }),
};

const readRoute: Route = {
  method: 'GET',
  path: '/api2/json/test/read',
  privilege: ({ args }) => ({ path: String(args['path']), privs: ['Datastore.Read'] }),
  handler: () => 'ok',
};

function echoSession(authId: string): ProtocolSession {
  return {
    handle: async (method, path, query, body) => {
      if (path === 'fail') throw fail('UNKNOWN_WRITER', 'no such writer', { wid: query['wid'] });
      if (path === 'json') return { json: { method, query, authId } };
      return { stream: await body.bytes() };
    },
    onClose: async () => {
      closedSessions.push(authId);
      onSessionClosed?.();
    },
  };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holdfast-auth-'));
  adminPassword = (await bootstrapAdmin(dir)) ?? '';
  const auth = await AuthService.open(dir);
  const app = createApp({ configDir: dir, auth, log: silentLogger, clock: systemClock, routes: [...accessRoutes(auth), versionRoute(), storeRoute, readRoute] });
  app.registerProtocol(BACKUP_PROTOCOL, async (query, authId) => {
    await auth.checkPrivilege(authId, `/datastore/${String(query['store'])}`, ['Datastore.Backup']);
    return echoSession(authId);
  });
  server = await startServer({ host: '127.0.0.1', port: 0, configDir: dir, app });
});

after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function client(extra: { token?: { tokenid: string; secret: string }; fingerprint?: string } = {}): HttpClient {
  return new HttpClient({ host: '127.0.0.1', port: server.port, fingerprint: extra.fingerprint ?? server.fingerprint, ...(extra.token ? { token: extra.token } : {}) });
}

async function admin(): Promise<HttpClient> {
  const c = client();
  await c.login('admin@pbs', adminPassword);
  return c;
}

/** A request with hand-made headers; certificate checks are off because only headers are under test. */
function raw(method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: server.port, method, path, headers, rejectUnauthorized: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function rejectsWith(p: Promise<unknown>, code: string, status?: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => isHoldfastError(e) && e.code === code && (status === undefined || e.details['status'] === status));
}

async function createUserWithToken(c: HttpClient, userid: string, password: string): Promise<{ tokenid: string; secret: string }> {
  await c.post('access/users', { userid, password });
  const t = (await c.post(`access/users/${userid}/token/t1`)) as { tokenid: string; value: string };
  return { tokenid: t.tokenid, secret: t.value };
}

test('ticket login: admin logs in, reads the version and the user list', async () => {
  const c = await admin();
  assert.deepEqual(await c.get('version'), { version: '0.1', release: '0', repoid: 'holdfast', features: [] });
  const users = (await c.get('access/users')) as { userid: string }[];
  assert.ok(users.some((u) => u.userid === 'admin@pbs'));
});

test('login with a wrong password is 401 UNAUTHENTICATED', async () => {
  await rejectsWith(client().login('admin@pbs', 'not the password'), 'UNAUTHENTICATED', 401);
});

test('a request without credentials is 401', async () => {
  const r = await raw('GET', '/api2/json/version', {});
  assert.equal(r.status, 401);
  assert.equal((JSON.parse(r.body) as { code: string }).code, 'UNAUTHENTICATED');
});

test('CSRF token is required on POST with a ticket, not on GET', async () => {
  const login = await raw('POST', `/api2/json/access/ticket?username=admin%40pbs&password=${encodeURIComponent(adminPassword)}`, {});
  const { ticket, CSRFPreventionToken } = (JSON.parse(login.body) as { data: { ticket: string; CSRFPreventionToken: string } }).data;
  const cookie = `PBSAuthCookie=${encodeURIComponent(ticket)}`;
  assert.equal((await raw('GET', '/api2/json/access/users', { cookie })).status, 200);
  assert.equal((await raw('POST', '/api2/json/access/users?userid=csrf%40pbs', { cookie })).status, 401);
  const ok = await raw('POST', '/api2/json/access/users?userid=csrf%40pbs', { cookie: `__Host-${cookie}`, CSRFPreventionToken });
  assert.equal(ok.status, 200);
});

test('API token works with a space or `=` after PBSAPIToken, and a wrong secret is 401', async () => {
  const c = await admin();
  const token = await createUserWithToken(c, 'tok@pbs', 'tokpass1');
  await c.put('access/acl', { path: '/', role: 'Audit', 'auth-id': 'tok@pbs' });
  await c.put('access/acl', { path: '/', role: 'Audit', 'auth-id': token.tokenid });
  const secret = encodeURIComponent(token.secret);
  for (const sep of [' ', '=']) {
    const r = await raw('GET', '/api2/json/access/users', { authorization: `PBSAPIToken${sep}${token.tokenid}:${secret}` });
    assert.equal(r.status, 200, `separator '${sep}'`);
  }
  const bad = await raw('GET', '/api2/json/version', { authorization: `PBSAPIToken=${token.tokenid}:wrong` });
  assert.equal(bad.status, 401);
});

test('a token without a role is 403 even when its user has one; ACL roles propagate', async () => {
  const c = await admin();
  const token = await createUserWithToken(c, 'backup@pbs', 'backuppass');
  const user = client();
  await user.login('backup@pbs', 'backuppass');
  const tok = client({ token });
  await rejectsWith(user.get('test/store/store1'), 'FORBIDDEN', 403);
  await c.put('access/acl', { path: '/datastore', role: 'DatastoreBackup', 'auth-id': 'backup@pbs' });
  assert.deepEqual(await user.get('test/store/store1'), { store: 'store1', authId: 'backup@pbs' });
  await rejectsWith(tok.get('test/store/store1'), 'FORBIDDEN', 403);
  await c.put('access/acl', { path: '/datastore/store1', role: 'DatastoreBackup', 'auth-id': token.tokenid });
  assert.deepEqual(await tok.get('test/store/store1'), { store: 'store1', authId: token.tokenid });
  await c.put('access/acl', { path: '/datastore/store2', role: 'NoAccess', 'auth-id': 'backup@pbs' });
  await rejectsWith(user.get('test/store/store2'), 'FORBIDDEN', 403);
  await c.put('access/acl', { path: '/datastore/store1', role: 'DatastoreReader', 'auth-id': 'backup@pbs', propagate: false });
  assert.equal(await user.get('test/read', { path: '/datastore/store1' }), 'ok');
  await rejectsWith(user.get('test/read', { path: '/datastore/store1/ns1' }), 'FORBIDDEN', 403);
});

test('protocol upgrade: h2 echoes concurrent bodies incl. 4 MiB, maps errors, runs onClose on disconnect', async () => {
  const c = await admin();
  const h2 = await c.upgrade('backup', { store: 'store1' }, BACKUP_PROTOCOL);
  const sizes = [4 * 1024 * 1024, 0, 1, 65_536, 1_000_003, 12, 300_000, 2];
  const bodies = sizes.map((n, i) => Buffer.alloc(n, i + 1));
  const replies = await Promise.all(bodies.map((b, i) => h2.request('POST', 'echo', { i }, b)));
  replies.forEach((r, i) => {
    assert.equal(r.kind, 'bytes');
    if (r.kind === 'bytes') assert.ok(Buffer.from(r.bytes).equals(bodies[i] ?? Buffer.alloc(0)), `body ${i}`);
  });
  const json = await h2.request('GET', 'json', { a: 'b' });
  assert.deepEqual(json, { kind: 'json', status: 200, json: { method: 'GET', query: { a: 'b' }, authId: 'admin@pbs' } });
  await rejectsWith(h2.request('POST', 'fail', { wid: 7 }), 'UNKNOWN_WRITER', 400);
  const closed = new Promise<void>((resolve) => (onSessionClosed = resolve));
  h2.destroy();
  await closed;
  assert.deepEqual(closedSessions, ['admin@pbs']);
});

test('protocol upgrade without the privilege is refused with 403', async () => {
  await (await admin()).post('access/users', { userid: 'norole@pbs', password: 'norolepass' });
  const c = client();
  await c.login('norole@pbs', 'norolepass');
  await rejectsWith(c.upgrade('backup', { store: 'elsewhere' }, BACKUP_PROTOCOL), 'FORBIDDEN', 403);
});

test('fingerprint pinning accepts the right fingerprint and rejects a wrong or missing one', async () => {
  const wrong = server.fingerprint.replace(/^../, server.fingerprint.startsWith('00') ? '11' : '00');
  await rejectsWith(client({ fingerprint: wrong }).login('admin@pbs', adminPassword), 'UNTRUSTED_CERTIFICATE');
  const none = new HttpClient({ host: '127.0.0.1', port: server.port });
  await assert.rejects(none.login('admin@pbs', adminPassword), (e: unknown) => isHoldfastError(e, 'UNTRUSTED_CERTIFICATE') && e.message.includes(server.fingerprint));
  await client({ fingerprint: server.fingerprint.toUpperCase() }).login('admin@pbs', adminPassword);
});
