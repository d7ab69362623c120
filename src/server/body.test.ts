import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { bodyArgs, mediaType, readBody, readBodyInto } from './body.ts';

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

/** A body on a real stream, as the HTTP/1 and HTTP/2 servers hand it over. */
function streamSource(headers: Record<string, string> = {}): PassThrough & { headers: Record<string, string> } {
  return Object.assign(new PassThrough(), { headers });
}

const tooLong = (room: number, seen: number): Error => Object.assign(new Error(`${seen} > ${room}`), { code: 'SIZE_MISMATCH' });

test('readBodyInto gathers a streamed body in order, also from a stream paused before', async () => {
  const req = streamSource();
  req.pause();
  const dest = new Uint8Array(8);
  const read = readBodyInto(req, dest, tooLong);
  req.write(Buffer.from('abc'));
  req.write(Buffer.from('de'));
  req.end();
  assert.equal(await read, 5);
  assert.equal(Buffer.from(dest.subarray(0, 5)).toString(), 'abcde');
});

test('readBodyInto stops at the first piece past its room without destroying the stream', async () => {
  const req = streamSource();
  const read = readBodyInto(req, new Uint8Array(4), tooLong);
  req.write(Buffer.from('abc'));
  req.write(Buffer.from('de'));
  await assert.rejects(read, { code: 'SIZE_MISMATCH', message: '5 > 4' });
  assert.equal(req.destroyed, false); // the answer still goes out on it
  assert.equal(req.listenerCount('data'), 0);
  req.end(Buffer.from('rest'));
  req.resume(); // what the server does with an unread body
  await new Promise((r) => req.once('end', r));
});

test('readBodyInto fails when the stream errors or closes before its end', async () => {
  const failing = streamSource();
  const read = readBodyInto(failing, new Uint8Array(8), tooLong);
  failing.write(Buffer.from('ab'));
  failing.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
  await assert.rejects(read, { code: 'ECONNRESET' });
  const closed = streamSource();
  const cut = readBodyInto(closed, new Uint8Array(8), tooLong);
  closed.write(Buffer.from('ab'));
  closed.destroy(); // the peer reset the stream: no error, no end
  await assert.rejects(cut, { code: 'ERR_STREAM_PREMATURE_CLOSE' });
});

test('readBody reads a streamed body and fails past its limit', async () => {
  const req = streamSource();
  const read = readBody(req, 4);
  req.end(Buffer.from('abcd'));
  assert.equal((await read).toString(), 'abcd');
  const big = streamSource();
  const over = readBody(big, 4);
  big.write(Buffer.from('abcde'));
  await assert.rejects(over, { code: 'INVALID_ARGUMENT' });
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
