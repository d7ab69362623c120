import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkArchiveName, MAX_ARCHIVE_NAME_LENGTH, protocolArgs, SessionNames } from './params.ts';
import { bufferBody } from './request-body.ts';

const body = (text: string, type?: string) => bufferBody(Buffer.from(text), type);

test('protocolArgs merges the query with a JSON or form body, the body winning', async () => {
  assert.deepEqual(await protocolArgs({ a: '1' }, bufferBody()), { a: '1' });
  assert.deepEqual(await protocolArgs({ a: '1', b: '2' }, body('{"a":3}', 'application/json; charset=UTF-8')), { a: 3, b: '2' });
  assert.deepEqual(await protocolArgs({}, body('{"wid":1}', 'APPLICATION/JSON')), { wid: 1 });
  assert.deepEqual(await protocolArgs({}, body('wid=1&x=a&x=b', 'application/x-www-form-urlencoded')), { wid: '1', x: ['a', 'b'] });
  assert.deepEqual(await protocolArgs({}, body('wid=1')), { wid: '1' }, 'no content type: a form, as PBS');
  await assert.rejects(protocolArgs({}, body('{"a":"x\\u0000"}', 'application/json')), { code: 'INVALID_NAME' });
});

test('protocolArgs with the json fallback reads a PUT index body as JSON unless it is a form', async () => {
  assert.deepEqual(await protocolArgs({}, body('{"wid":2}', 'application/octet-stream'), 'json'), { wid: 2 });
  assert.deepEqual(await protocolArgs({}, body('{"wid":2}'), 'json'), { wid: 2 });
  assert.deepEqual(await protocolArgs({}, body('wid=2', 'application/x-www-form-urlencoded'), 'json'), { wid: '2' });
  await assert.rejects(protocolArgs({}, body('wid=2'), 'json'), { code: 'INVALID_ARGUMENT' });
});

test('checkArchiveName wants a safe name with the extension, at most MAX_ARCHIVE_NAME_LENGTH long', () => {
  assert.equal(checkArchiveName('root.pxar.didx', '.didx'), 'root.pxar.didx');
  const longest = `${'a'.repeat(MAX_ARCHIVE_NAME_LENGTH - 5)}.didx`;
  assert.equal(checkArchiveName(longest, '.didx'), longest);
  for (const bad of [`a${longest}`, 'root.pxar.fidx', '.hidden.didx', '../x.didx', 'a/b.didx', 'a\0.didx', 'a b.didx']) {
    assert.throws(() => checkArchiveName(bad, '.didx'), { code: 'INVALID_NAME' }, bad);
  }
});

test('SessionNames: a name is claimed once per session, a released name again; writer kinds are kept apart', () => {
  const n = new SessionNames();
  n.claim('a.didx');
  assert.throws(() => n.claim('a.didx'), { code: 'ALREADY_EXISTS' });
  n.release('a.didx');
  n.claim('a.didx');
  n.opened(1, 'dynamic');
  n.opened(2, 'fixed');
  n.assertKind(1, 'dynamic');
  assert.throws(() => n.assertKind(1, 'fixed'), { code: 'PROTOCOL_ERROR' });
  assert.throws(() => n.assertKind(2, 'dynamic'), { code: 'PROTOCOL_ERROR' });
  n.assertKind(9, 'fixed'); // unknown wids are the session's to refuse (UNKNOWN_WRITER)
});
