import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fail } from '../core/errors.ts';
import { memoryLogger } from '../core/log.ts';
import { createApp, type App } from './app.ts';
import type { AuthPort } from './auth/authenticator.ts';
import { fixedClock } from './clock.ts';
import { BACKUP_PROTOCOL } from './h2-upgrade.ts';
import { RawResponse, type Route } from './router.ts';

/** Auth double: `x-user` names the caller; privilege checks are recorded and fail for user "weak". */
const checks: string[] = [];
const fakeAuth: AuthPort = {
  authenticate: async (_method, headers) => {
    const user = headers['x-user'];
    if (typeof user !== 'string' || user === '') throw fail('UNAUTHENTICATED', 'no credentials');
    return user;
  },
  checkPrivilege: async (authId, path, privs) => {
    checks.push(`${authId} ${path} ${privs.join(',')}`);
    if (authId === 'weak@pbs') throw fail('FORBIDDEN', 'permission check failed');
  },
};

const routes: Route[] = [
  { method: 'GET', path: '/api2/json/public', public: true, handler: ({ authId }) => ({ authId }) },
  { method: 'GET', path: '/api2/json/echo/{name}', handler: ({ params, args, authId }) => ({ params, args, authId }) },
  { method: 'POST', path: '/api2/json/echo', bodyLimit: 100, handler: ({ args }) => args },
  { method: 'POST', path: '/api2/json/raw', rawBody: true, handler: ({ body, args }) => ({ size: body?.length, args }) },
  {
    method: 'GET',
    path: '/api2/json/store/{store}',
    privilege: ({ params }) => ({ path: `/datastore/${params['store'] ?? ''}`, privs: ['Datastore.Audit'] }),
    handler: () => 'seen',
  },
  { method: 'GET', path: '/api2/json/file', handler: () => new RawResponse(Buffer.from('bytes!'), { 'content-type': 'application/octet-stream' }) },
  { method: 'GET', path: '/api2/json/broken', handler: () => Promise.reject(new Error('secret internals')) },
  { method: 'GET', path: '/api2/json/void', handler: () => undefined },
];

const log = memoryLogger();
let app: App;
let server: http.Server;
let base = '';

before(async () => {
  app = createApp({ configDir: '/nonexistent', auth: fakeAuth, log, clock: fixedClock(0), routes });
  app.registerProtocol(BACKUP_PROTOCOL, async () => ({ handle: async () => ({ json: null }), onClose: async () => undefined }));
  server = http.createServer((req, res) => void app.handleRequest(req, res));
  server.on('upgrade', (req, socket, head: Buffer) => void app.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await app.close();
  await new Promise((resolve) => server.close(resolve));
});

async function call(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const res = await fetch(`${base}${path}`, { method, headers: { 'x-user': 'u@pbs', ...init.headers }, ...(init.body === undefined ? {} : { body: init.body }) });
  const text = await res.text();
  return { status: res.status, text, json: (res.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

test('App wraps a handler result as {"data": value} with query args and path params', async () => {
  const r = await call('GET', '/api2/json/echo/a%2Fb?x=1&x=2&y=z');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { data: { params: { name: 'a/b' }, args: { x: ['1', '2'], y: 'z' }, authId: 'u@pbs' } });
  assert.deepEqual((await call('GET', '/api2/json/void')).json, { data: null });
});

test('App merges the query with a JSON or form body, the body winning', async () => {
  const json = await call('POST', '/api2/json/echo?a=q&b=q', { headers: { 'content-type': 'application/json' }, body: '{"b":"body","n":3}' });
  assert.deepEqual(json.json, { data: { a: 'q', b: 'body', n: 3 } });
  const form = await call('POST', '/api2/json/echo', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'k=v%21' });
  assert.deepEqual(form.json, { data: { k: 'v!' } });
});

test('App enforces the route body limit with 400', async () => {
  const r = await call('POST', '/api2/json/echo', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ s: 'x'.repeat(200) }) });
  assert.equal(r.status, 400);
  assert.equal(r.json?.['code'], 'INVALID_ARGUMENT');
});

test('App refuses an oversized chunked body with 400 and still answers on the connection', async () => {
  const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(`${base}/api2/json/echo`, { method: 'POST', headers: { 'x-user': 'u@pbs', 'content-type': 'application/json' } });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    req.write('{"s":"');
    req.write('x'.repeat(300));
    req.end('"}');
  });
  assert.equal(r.status, 400);
  assert.equal((JSON.parse(r.body) as { code: string }).code, 'INVALID_ARGUMENT');
});

test('App hands raw bodies to rawBody routes unparsed', async () => {
  const r = await call('POST', '/api2/json/raw?q=1', { body: 'not=a&form' });
  assert.deepEqual(r.json, { data: { size: 10, args: { q: '1' } } });
});

test('App answers 401 without credentials, except on public routes', async () => {
  const r = await call('GET', '/api2/json/echo/x', { headers: { 'x-user': '' } });
  assert.equal(r.status, 401);
  assert.deepEqual(r.json, { data: null, message: 'no credentials', code: 'UNAUTHENTICATED', details: {} });
  const res = await fetch(`${base}/api2/json/public`);
  assert.deepEqual(await res.json(), { data: { authId: '' } });
});

test('App checks the route privilege on the computed path before the handler', async () => {
  checks.length = 0;
  assert.equal((await call('GET', '/api2/json/store/s1')).status, 200);
  assert.deepEqual(checks, ['u@pbs /datastore/s1 Datastore.Audit']);
  const denied = await call('GET', '/api2/json/store/s1', { headers: { 'x-user': 'weak@pbs' } });
  assert.equal(denied.status, 403);
  assert.equal(denied.json?.['code'], 'FORBIDDEN');
});

test('App answers unknown paths and wrong methods with 404 NOT_FOUND', async () => {
  assert.equal((await call('GET', '/api2/json/nope')).status, 404);
  const wrong = await call('DELETE', '/api2/json/echo');
  assert.equal(wrong.status, 404);
  assert.deepEqual((wrong.json?.['details'] as Record<string, unknown>)['allowed'], ['POST']);
});

test('App writes RawResponse bodies as they are', async () => {
  const r = await call('GET', '/api2/json/file');
  assert.equal(r.status, 200);
  assert.equal(r.text, 'bytes!');
});

test('App maps unexpected errors to 500 INTERNAL without leaking details, and logs them', async () => {
  const r = await call('GET', '/api2/json/broken');
  assert.equal(r.status, 500);
  assert.deepEqual(r.json?.['details'], {});
  assert.ok(log.lines.some((l) => l.includes('secret internals')));
});

function upgrade(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { headers: { connection: 'upgrade', ...headers } });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('error', reject);
    req.end();
  });
}

test('App.handleUpgrade refuses unknown paths, wrong Upgrade headers and missing credentials', async () => {
  assert.equal((await upgrade('/api2/json/reader', { upgrade: BACKUP_PROTOCOL, 'x-user': 'u@pbs' })).status, 404);
  const wrong = await upgrade('/api2/json/backup', { upgrade: 'websocket', 'x-user': 'u@pbs' });
  assert.equal(wrong.status, 400);
  assert.equal((JSON.parse(wrong.body) as { code: string }).code, 'PROTOCOL_ERROR');
  assert.equal((await upgrade('/api2/json/backup', { upgrade: BACKUP_PROTOCOL })).status, 401);
  assert.equal((await upgrade('/api2/json/backup', { upgrade: BACKUP_PROTOCOL, 'x-user': 'u@pbs' })).status, 101);
});
