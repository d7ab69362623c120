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
