import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { isHoldfastError } from '../core/errors.ts';
import { HttpClient } from './http-client.ts';

/** A stand-in server that records what it was sent and answers per path. */
const seen: { method: string; url: string; headers: Record<string, unknown>; body: string }[] = [];
let server: https.Server;
let port = 0;
let fingerprint = '';

before(async () => {
  const pems = await generate([{ name: 'commonName', value: 'test' }], { keyType: 'ec', algorithm: 'sha256' });
  fingerprint = new X509Certificate(pems.cert).fingerprint256.toLowerCase();
  server = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, body: Buffer.concat(parts).toString() });
      const json = (status: number, v: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
      if (req.url?.startsWith('/api2/json/access/ticket')) json(200, { data: { username: 'u@pbs', ticket: 'PBS:u@pbs:00000000::sig', CSRFPreventionToken: 'csrf!' } });
      else if (req.url?.startsWith('/api2/json/text-error')) res.writeHead(400).end('plain failure');
      else if (req.url?.startsWith('/api2/json/coded')) json(409, { data: null, message: 'locked', code: 'LOCKED', details: {} });
      else json(200, { data: { ok: true } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
});

test('HttpClient.login stores the ticket; later calls send the cookie, and the CSRF token on non-GET', async () => {
  const c = new HttpClient({ host: '127.0.0.1', port, fingerprint });
  await c.login('u@pbs', 'pw');
  assert.equal(c.authId, 'u@pbs');
  assert.deepEqual(JSON.parse(seen.at(-1)?.body ?? ''), { username: 'u@pbs', password: 'pw' });
  assert.deepEqual(await c.get('x', { a: 1 }), { ok: true });
  assert.equal(seen.at(-1)?.url, '/api2/json/x?a=1');
  assert.equal(seen.at(-1)?.headers['cookie'], 'PBSAuthCookie=PBS%3Au%40pbs%3A00000000%3A%3Asig');
  assert.equal(seen.at(-1)?.headers['csrfpreventiontoken'], undefined);
  await c.put('x', { b: 'c' });
  assert.equal(seen.at(-1)?.headers['csrfpreventiontoken'], 'csrf!');
  assert.equal(seen.at(-1)?.body, '{"b":"c"}');
  await c.delete('x', { d: 1 });
  assert.equal(seen.at(-1)?.url, '/api2/json/x?d=1');
});

test('HttpClient sends API tokens as PBSAPIToken=<id>:<percent-encoded secret>', async () => {
  const c = new HttpClient({ host: '127.0.0.1', port, fingerprint, token: { tokenid: 'u@pbs!t', secret: 'a:b c' } });
  await c.get('x');
  assert.equal(seen.at(-1)?.headers['authorization'], 'PBSAPIToken=u@pbs!t:a%3Ab%20c');
});

test('HttpClient errors carry the server code, or UPSTREAM_ERROR with the status and text', async () => {
  const c = new HttpClient({ host: '127.0.0.1', port, fingerprint });
  await assert.rejects(c.get('text-error'), (e: unknown) => isHoldfastError(e, 'UPSTREAM_ERROR') && e.message === 'plain failure' && e.details['status'] === 400);
  await assert.rejects(c.post('coded'), (e: unknown) => isHoldfastError(e, 'LOCKED') && e.details['status'] === 409);
});

test('HttpClient refuses an unpinned self-signed certificate before sending anything', async () => {
  const before = seen.length;
  const c = new HttpClient({ host: '127.0.0.1', port, token: { tokenid: 'u@pbs!t', secret: 's' } });
  await assert.rejects(c.get('x'), (e: unknown) => isHoldfastError(e, 'UNTRUSTED_CERTIFICATE') && e.message.includes(fingerprint));
  assert.equal(seen.length, before);
});

test('HttpClient.upgrade rejects with the server error when the answer is not 101', async () => {
  const c = new HttpClient({ host: '127.0.0.1', port, fingerprint });
  await assert.rejects(c.upgrade('text-error', {}, 'proxmox-backup-protocol-v1'), (e: unknown) => isHoldfastError(e, 'UPSTREAM_ERROR') && e.details['status'] === 400);
});
