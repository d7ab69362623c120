import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyArgs, booleanArg, formArgs, integerArg, readBody, requiredString, stringArg } from './body.ts';

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
  assert.deepEqual(formArgs(new URLSearchParams('x=1')), { x: '1' });
});

test('argument helpers read strings, booleans and integers as PBS clients send them', () => {
  const args = { s: 'v', n: '42', m: 7, t: '1', f: 'false', b: true, arr: ['a', 'b'], neg: '-3', bad: '4x' };
  assert.equal(stringArg(args, 's'), 'v');
  assert.equal(stringArg(args, 'm'), '7');
  assert.equal(stringArg(args, 'missing'), undefined);
  assert.throws(() => stringArg(args, 'arr'), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => requiredString(args, 'missing'), { code: 'INVALID_ARGUMENT' });
  assert.equal(booleanArg(args, 't'), true);
  assert.equal(booleanArg(args, 'f'), false);
  assert.equal(booleanArg(args, 'b'), true);
  assert.throws(() => booleanArg(args, 's'), { code: 'INVALID_ARGUMENT' });
  assert.equal(integerArg(args, 'n'), 42);
  assert.equal(integerArg(args, 'm'), 7);
  assert.equal(integerArg(args, 'neg'), -3);
  assert.throws(() => integerArg(args, 'bad'), { code: 'INVALID_ARGUMENT' });
});
