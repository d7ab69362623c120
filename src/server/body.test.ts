import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyArgs, mediaType, readBody } from './body.ts';

function source(chunks: Uint8Array[], headers: Record<string, string> = {}) {
  return {
    headers,
    async *[Symbol.asyncIterator]() {
      yield* chunks;
    },
  };
}

test('readBody concatenates chunks up to the limit', async () => {
  const body = await readBody(source([Buffer.from('ab'), Buffer.from('cd')]), 4);
  assert.equal(body.toString(), 'abcd');
});

test('readBody fails with INVALID_ARGUMENT past the limit, and early on a large content-length', async () => {
  await assert.rejects(readBody(source([Buffer.alloc(3), Buffer.alloc(3)]), 5), { code: 'INVALID_ARGUMENT' });
  let pulled = false;
  const lazy = {
    headers: { 'content-length': '100' },
    async *[Symbol.asyncIterator]() {
      pulled = true;
      yield Buffer.alloc(1);
    },
  };
  await assert.rejects(readBody(lazy, 10), { code: 'INVALID_ARGUMENT' });
  assert.equal(pulled, false);
});

test('bodyArgs parses JSON objects and forms; repeated form keys become arrays', () => {
  assert.deepEqual(bodyArgs('application/json; charset=utf-8', Buffer.from('{"a":1,"b":[2]}')), { a: 1, b: [2] });
  assert.deepEqual(bodyArgs('application/x-www-form-urlencoded', Buffer.from('a=1&b=x%20y&a=2')), { a: ['1', '2'], b: 'x y' });
  assert.deepEqual(bodyArgs(undefined, Buffer.alloc(0)), {});
  assert.throws(() => bodyArgs('application/json', Buffer.from('[1]')), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => bodyArgs('application/json', Buffer.from('{')), { code: 'INVALID_ARGUMENT' });
});

test('bodyArgs matches the JSON media type case-insensitively and ignores what follows ;', () => {
  assert.deepEqual(bodyArgs('Application/JSON;Charset=UTF-8', Buffer.from('{"wid":1}')), { wid: 1 });
  assert.deepEqual(bodyArgs(' application/json ; x=y', Buffer.from('{"wid":1}')), { wid: 1 });
  assert.deepEqual(bodyArgs('application/jsonx', Buffer.from('wid=1')), { wid: '1' });
  assert.equal(mediaType('Application/X-WWW-Form-Urlencoded; charset=UTF-8'), 'application/x-www-form-urlencoded');
  assert.equal(mediaType(undefined), '');
});
