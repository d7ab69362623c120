import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queryString, responseError } from './h2-session.ts';

test('queryString encodes scalars and repeats array keys, skipping undefined', () => {
  assert.equal(queryString({}), '');
  assert.equal(queryString({ 'archive-name': 'a b.didx', wid: 3, x: undefined, debug: false }), '?archive-name=a+b.didx&wid=3&debug=false');
  assert.equal(queryString({ d: ['1', 2] }), '?d=1&d=2');
});

test('responseError keeps a plain-text PBS message and marks it UPSTREAM_ERROR with the status', () => {
  const e = responseError(400, undefined, Buffer.from('no such chunk\n'));
  assert.equal(e.code, 'UPSTREAM_ERROR');
  assert.equal(e.message, 'no such chunk');
  assert.equal(e.details['status'], 400);
});

test('responseError takes the code from the header or a Holdfast JSON body', () => {
  assert.equal(responseError(400, 'UNKNOWN_CHUNK', Buffer.from('x')).code, 'UNKNOWN_CHUNK');
  const e = responseError(404, undefined, Buffer.from(JSON.stringify({ data: null, message: 'gone', code: 'NOT_FOUND', details: { id: 1 } })));
  assert.deepEqual([e.code, e.message, e.details], ['NOT_FOUND', 'gone', { id: 1, status: 404 }]);
  assert.equal(responseError(500, 'NOT_A_CODE', Buffer.alloc(0)).message, 'server answered 500');
});
