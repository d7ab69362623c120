import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router, type Route } from './router.ts';

const route = (method: Route['method'], path: string): Route => ({ method, path, handler: () => path });

test('Router.match captures {param} segments URL-decoded', () => {
  const r = new Router([route('POST', '/api2/json/access/users/{userid}/token/{name}')]);
  const m = r.match('POST', '/api2/json/access/users/a%40pbs/token/t1');
  assert.equal(m.kind, 'found');
  if (m.kind === 'found') assert.deepEqual(m.params, { userid: 'a@pbs', name: 't1' });
});

test('Router.match ignores a trailing slash and requires the same number of segments', () => {
  const r = new Router([route('GET', '/api2/json/version')]);
  assert.equal(r.match('GET', '/api2/json/version/').kind, 'found');
  assert.equal(r.match('GET', '/api2/json/version/x').kind, 'none');
  assert.equal(r.match('GET', '/api2/json').kind, 'none');
});

test('Router.match reports the allowed methods when only the method differs', () => {
  const r = new Router([route('GET', '/a/{x}'), route('PUT', '/a/{x}')]);
  assert.deepEqual(r.match('DELETE', '/a/1'), { kind: 'wrong-method', allowed: ['GET', 'PUT'] });
});

test('Router.match prefers the first matching route and rejects empty or undecodable params', () => {
  const r = new Router([route('GET', '/a/fixed'), route('GET', '/a/{x}')]);
  const m = r.match('GET', '/a/fixed');
  assert.ok(m.kind === 'found' && m.route.path === '/a/fixed');
  assert.equal(r.match('GET', '/a/%zz').kind, 'none');
});
