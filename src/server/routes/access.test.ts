import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/log.ts';
import { createApp } from '../app.ts';
import { AuthService } from '../auth/authenticator.ts';
import { systemClock } from '../clock.ts';
import { accessRoutes } from './access.ts';
import { isHoldfastError } from '../../core/errors.ts';

let dir = '';
let auth: AuthService;
let server: http.Server;
let base = '';
const sessions = new Map<string, { cookie: string; csrf: string }>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holdfast-access-'));
  auth = await AuthService.open(dir);
  await auth.users.create('root@pbs', { password: 'rootpass' });
  await auth.users.create('plain@pbs', { password: 'plainpass' });
  await auth.acl.update((t) => {
    t.insert('/', 'root@pbs', 'Admin', true);
    return t;
  });
  const app = createApp({ configDir: dir, auth, log: silentLogger, clock: systemClock, routes: accessRoutes(auth) });
  server = http.createServer((req, res) => void app.handleRequest(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api2/json/access`;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function as(user: string, method: string, path: string, body?: Record<string, unknown>) {
  let s = sessions.get(user);
  if (!s) {
    const login = await auth.login(user, `${user.split('@')[0] ?? ''}pass`);
    s = { cookie: `PBSAuthCookie=${encodeURIComponent(login.ticket)}`, csrf: login.CSRFPreventionToken };
    sessions.set(user, s);
  }
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { cookie: s.cookie, csrfpreventiontoken: s.csrf, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as { data: unknown; code?: string };
  return { status: res.status, data: json.data, code: json.code };
}

test('POST /access/ticket answers username, ticket and CSRF token and sets the __Host- cookie', async () => {
  const res = await fetch(`${base}/ticket`, { method: 'POST', body: new URLSearchParams({ username: 'plain@pbs', password: 'plainpass' }) });
  const { data } = (await res.json()) as { data: Record<string, string> };
  assert.equal(data['username'], 'plain@pbs');
  assert.match(data['ticket'] ?? '', /^PBS:plain@pbs:[0-9A-F]{8}::/);
  assert.match(data['CSRFPreventionToken'] ?? '', /^[0-9A-F]{8}:/);
  assert.match(res.headers.get('set-cookie') ?? '', /^__Host-PBSAuthCookie=PBS%3Aplain%40pbs%3A.*; Secure; HttpOnly/);
  const bad = await fetch(`${base}/ticket`, { method: 'POST', body: new URLSearchParams({ username: 'plain@pbs', password: 'x' }) });
  assert.equal(bad.status, 401);
});

test('DELETE /access/ticket (logout) clears both auth cookies, the HttpOnly one included, without credentials', async () => {
  const res = await fetch(`${base}/ticket`, { method: 'DELETE' });
  assert.equal(res.status, 200);
  const cookies = res.headers.getSetCookie();
  assert.equal(cookies.length, 2);
  assert.match(cookies[0] ?? '', /^__Host-PBSAuthCookie=; Path=\/; Secure; HttpOnly; SameSite=Lax; Max-Age=0$/);
  assert.match(cookies[1] ?? '', /^PBSAuthCookie=; Path=\/; Max-Age=0$/);
});

test('PUT /access/acl refuses paths outside PBS\'s templates', async () => {
  const r = await as('root@pbs', 'PUT', '/acl', { path: '/etc/passwd', role: 'Admin', 'auth-id': 'plain@pbs' });
  assert.equal(r.status, 400);
  assert.equal(r.code, 'INVALID_ARGUMENT');
  assert.equal((await auth.acl.load()).entries().some((e) => e.path === '/etc/passwd'), false);
});

test('GET /access/users: an auditor sees everyone, a plain user only itself', async () => {
  const all = (await as('root@pbs', 'GET', '/users')).data as { userid: string }[];
  assert.deepEqual(all.map((u) => u.userid), ['plain@pbs', 'root@pbs']);
  const own = (await as('plain@pbs', 'GET', '/users')).data as { userid: string }[];
  assert.deepEqual(own.map((u) => u.userid), ['plain@pbs']);
});

test('POST and DELETE /access/users need Permissions.Modify; deleting drops ACL entries', async () => {
  assert.equal((await as('plain@pbs', 'POST', '/users', { userid: 'x@pbs' })).status, 403);
  assert.equal((await as('root@pbs', 'POST', '/users', { userid: 'gone@pbs', password: 'gonepass', comment: 'temp' })).status, 200);
  assert.equal((await as('root@pbs', 'POST', '/users', { userid: 'gone@pbs' })).code, 'ALREADY_EXISTS');
  assert.equal((await as('root@pbs', 'PUT', '/acl', { path: '/datastore', role: 'DatastoreAudit', 'auth-id': 'gone@pbs' })).status, 200);
  assert.equal((await as('plain@pbs', 'DELETE', '/users/gone@pbs')).status, 403);
  assert.equal((await as('root@pbs', 'DELETE', '/users/gone%40pbs')).status, 200);
  assert.equal((await auth.acl.load()).entries().filter((e) => e.ugid === 'gone@pbs').length, 0);
  assert.equal((await as('root@pbs', 'DELETE', '/users/gone@pbs')).status, 404);
});

test('token routes: users manage their own tokens, not other users\'; the secret is returned once', async () => {
  const own = await as('plain@pbs', 'POST', '/users/plain@pbs/token/mine');
  assert.equal((own.data as { tokenid: string }).tokenid, 'plain@pbs!mine');
  assert.equal(typeof (own.data as { value: unknown }).value, 'string');
  assert.equal((await as('plain@pbs', 'POST', '/users/root@pbs/token/evil')).status, 403);
  const list = (await as('plain@pbs', 'GET', '/users/plain@pbs/token')).data as { tokenid: string }[];
  assert.deepEqual(list.map((t) => t.tokenid), ['plain@pbs!mine']);
  assert.equal((await as('plain@pbs', 'DELETE', '/users/plain@pbs/token/mine')).status, 200);
  assert.equal((await as('plain@pbs', 'DELETE', '/users/plain@pbs/token/mine')).status, 404);
});

test('ACL routes: PUT validates role and id, GET filters by path and exact, delete removes', async () => {
  assert.equal((await as('root@pbs', 'PUT', '/acl', { path: '/datastore/s1', role: 'Wizard', 'auth-id': 'plain@pbs' })).status, 400);
  assert.equal((await as('root@pbs', 'PUT', '/acl', { path: '/datastore/s1', role: 'DatastoreBackup', 'auth-id': 'nobody@pbs' })).status, 404);
  assert.equal((await as('plain@pbs', 'PUT', '/acl', { path: '/', role: 'Admin', 'auth-id': 'plain@pbs' })).status, 403);
  assert.equal((await as('root@pbs', 'PUT', '/acl', { path: '/datastore/s1', role: 'DatastoreBackup', 'auth-id': 'plain@pbs', propagate: false })).status, 200);
  const under = (await as('root@pbs', 'GET', '/acl?path=/datastore')).data as { path: string; propagate: boolean }[];
  assert.deepEqual(under, [{ path: '/datastore/s1', ugid: 'plain@pbs', ugid_type: 'user', roleid: 'DatastoreBackup', propagate: false }]);
  assert.deepEqual((await as('root@pbs', 'GET', '/acl?path=/datastore&exact=1')).data, []);
  assert.equal((await as('plain@pbs', 'GET', '/acl')).status, 403);
  assert.equal((await as('root@pbs', 'PUT', '/acl', { path: '/datastore/s1', role: 'DatastoreBackup', 'auth-id': 'plain@pbs', delete: true })).status, 200);
  assert.deepEqual((await as('root@pbs', 'GET', '/acl?path=/datastore/s1')).data, []);
});

test('PUT /access/password: own password only with the current one, anyone\'s with Permissions.Modify', async () => {
  await auth.users.create('pw@pbs', { password: 'pwpass' });
  const own = { userid: 'pw@pbs', password: 'newpass1' };
  assert.equal((await as('pw@pbs', 'PUT', '/password', own)).code, 'INVALID_ARGUMENT', 'confirmation-password is required');
  assert.equal((await as('pw@pbs', 'PUT', '/password', { ...own, 'confirmation-password': 'wrong' })).code, 'FORBIDDEN');
  assert.equal((await as('pw@pbs', 'PUT', '/password', { ...own, 'confirmation-password': 'pwpass' })).status, 200);
  assert.equal(await auth.users.verifyPassword('pw@pbs', 'newpass1', Math.floor(Date.now() / 1000)), true);
  assert.equal((await as('pw@pbs', 'PUT', '/password', { userid: 'plain@pbs', password: 'stolen1', 'confirmation-password': 'newpass1' })).code, 'FORBIDDEN', 'not another user\'s');
  assert.equal((await as('root@pbs', 'PUT', '/password', { userid: 'pw@pbs', password: 'adminset' })).status, 200);
  assert.equal(await auth.users.verifyPassword('pw@pbs', 'adminset', Math.floor(Date.now() / 1000)), true);
  assert.equal((await as('root@pbs', 'PUT', '/password', { userid: 'pw@pbs', password: 'abc' })).code, 'INVALID_ARGUMENT', 'too short');
});

test('DELETE /access/ticket revokes the ticket it carries: it no longer authenticates nor renews', async () => {
  await auth.users.create('out@pbs', { password: 'outpass' });
  const login = await auth.login('out@pbs', 'outpass');
  const cookie = `PBSAuthCookie=${encodeURIComponent(login.ticket)}`;
  const users = () => fetch(`${base}/users`, { headers: { cookie } });
  assert.equal((await users()).status, 200);
  assert.equal((await fetch(`${base}/ticket`, { method: 'DELETE', headers: { cookie } })).status, 200);
  const after = await users();
  assert.equal(after.status, 401);
  assert.match(((await after.json()) as { message: string }).message, /logged out/);
  await assert.rejects(auth.login('out@pbs', login.ticket), (e: unknown) => isHoldfastError(e, 'UNAUTHENTICATED'));
  const again = await auth.login('out@pbs', 'outpass');
  assert.equal((await fetch(`${base}/users`, { headers: { cookie: `PBSAuthCookie=${encodeURIComponent(again.ticket)}` } })).status, 200, 'a new login works');
});
