import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fail } from '../core/errors.ts';
import { errorResponse } from './http-error.ts';

test('errorResponse maps the code to the registry status and a PBS-like JSON body', () => {
  const r = errorResponse(fail('NOT_FOUND', 'no such snapshot', { snapshot: 'vm/1' }));
  assert.equal(r.status, 404);
  assert.deepEqual(r.body, { data: null, message: 'no such snapshot', code: 'NOT_FOUND', details: { snapshot: 'vm/1' } });
});

test('errorResponse names the offending parameter in errors', () => {
  const r = errorResponse(fail('INVALID_ARGUMENT', "missing parameter 'userid'", { param: 'userid' }));
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.errors, { userid: "missing parameter 'userid'" });
});

test('errorResponse turns foreign throws into INTERNAL 500 and hides 5xx details', () => {
  assert.equal(errorResponse(new Error('boom')).status, 500);
  assert.equal(errorResponse('text').body.code, 'INTERNAL');
  assert.deepEqual(errorResponse(fail('IO_ERROR', 'disk', { path: '/secret' })).body.details, {});
});

test('errorResponse never shows an absolute server path, in the message or the details', () => {
  const missing = errorResponse(fail('NOT_FOUND', 'open: /srv/data/default/host/a/2026-01-01T00:00:00Z/x.blob does not exist', { op: 'open', path: '/srv/data/default/host/a/2026-01-01T00:00:00Z/x.blob', errno: 'ENOENT' }));
  assert.equal(missing.body.message, 'open: x.blob does not exist');
  assert.deepEqual(missing.body.details, { op: 'open', path: 'x.blob', errno: 'ENOENT' });
  const io = errorResponse(fail('IO_ERROR', 'read /srv/data/x failed: EIO', { op: 'read', path: '/srv/data/x' }));
  assert.doesNotMatch(io.body.message, /\/srv/);
  const locked = errorResponse(fail('LOCKED', 'group host/a is locked by another operation', { path: '/srv/data/default/host/a', kind: 'exclusive' }));
  assert.deepEqual(locked.body.details, { path: 'a', kind: 'exclusive' });
  const api = errorResponse(fail('NOT_FOUND', "no such API path '/api2/json/nothing'", { path: '/api2/json/nothing' }));
  assert.equal(api.body.message, "no such API path '/api2/json/nothing'");
  const acl = errorResponse(fail('FORBIDDEN', "lacks Datastore.Audit on '/datastore/s1'", { path: '/datastore/s1' }));
  assert.equal(acl.body.details['path'], '/datastore/s1');
});
