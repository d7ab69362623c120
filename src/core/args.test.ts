import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argsFromSearchParams, backupTime, bool, digest, groupRef, int, list, requiredInt, requiredText, snapshotRef, text } from './args.ts';

const D = 'ab'.repeat(32);

test('argsFromSearchParams decodes a query; repeated keys become arrays', () => {
  assert.deepEqual(argsFromSearchParams(new URLSearchParams('x=1&y=a%20b&x=2')), { x: ['1', '2'], y: 'a b' });
});

test('text accepts strings, numbers and booleans, treats empty as absent, refuses lists', () => {
  const a = { s: 'v', n: 7, b: true, e: '', arr: ['a', 'b'], o: { k: 1 } };
  assert.equal(text(a, 's'), 'v');
  assert.equal(text(a, 'n'), '7');
  assert.equal(text(a, 'b'), 'true');
  assert.equal(text(a, 'e'), undefined);
  assert.equal(text(a, 'missing'), undefined);
  assert.throws(() => text(a, 'arr'), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => text(a, 'o'), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => requiredText(a, 'missing'), { code: 'INVALID_ARGUMENT', message: "parameter 'missing' is required" });
});

test('int takes decimal text and JSON integers alike, in range, and nothing else', () => {
  assert.equal(int({ w: '12' }, 'w'), 12);
  assert.equal(int({ w: 12 }, 'w'), 12);
  assert.equal(int({ w: '-3' }, 'w', { min: -5 }), -3);
  assert.equal(int({}, 'w'), undefined);
  for (const bad of ['1e10', '1.5', '0x10', ' 7', '7 ', '+7', 'abc', '99999999999999999', 1.5, Number.NaN, Infinity, true, ['1']]) {
    assert.throws(() => int({ w: bad }, 'w'), { code: 'INVALID_ARGUMENT' }, `accepted ${String(bad)}`);
  }
  assert.throws(() => int({ w: '-1' }, 'w'), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => int({ w: 11 }, 'w', { max: 10 }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => requiredInt({}, 'w'), { code: 'INVALID_ARGUMENT' });
});

test('bool takes PBS spellings in any case and JSON booleans', () => {
  for (const t of ['1', 'true', 'Yes', 'ON', true]) assert.equal(bool({ b: t }, 'b'), true);
  for (const f of ['0', 'false', 'No', 'off', false, 0]) assert.equal(bool({ b: f }, 'b'), false);
  assert.equal(bool({}, 'b'), undefined);
  assert.throws(() => bool({ b: 'maybe' }, 'b'), { code: 'INVALID_ARGUMENT' });
});

test('list splits repeated keys, arrays and comma lists', () => {
  assert.deepEqual(list({ d: ['a', 'b,c'] }, 'd'), ['a', 'b', 'c']);
  assert.deepEqual(list({ d: 'x' }, 'd'), ['x']);
  assert.deepEqual(list({}, 'd'), []);
  assert.throws(() => list({ d: [{}] }, 'd'), { code: 'INVALID_ARGUMENT' });
});

test('digest wants 64 lowercase hex digits', () => {
  assert.equal(digest({ d: D }, 'd'), D);
  assert.throws(() => digest({ d: D.toUpperCase() }, 'd'), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => digest({}, 'd'), { code: 'INVALID_ARGUMENT' });
});

test('groupRef and snapshotRef validate names and an integer backup-time in PBS range', () => {
  assert.deepEqual(groupRef({ 'backup-type': 'host', 'backup-id': 'a' }), { ns: '', type: 'host', id: 'a' });
  assert.deepEqual(snapshotRef({ ns: 'x/y', 'backup-type': 'vm', 'backup-id': '100', 'backup-time': 1700000000 }), { ns: 'x/y', type: 'vm', id: '100', time: 1700000000 });
  assert.equal(backupTime({ 'backup-time': '1' }), 1);
  for (const t of ['1e10', '0', '-5', '1700000000.0', '253402300800', 1e10 + 0.5, '']) {
    assert.throws(() => backupTime({ 'backup-time': t }), { code: 'INVALID_ARGUMENT' }, `accepted ${String(t)}`);
  }
  assert.throws(() => groupRef({ 'backup-type': 'disk', 'backup-id': 'a' }), { code: 'INVALID_NAME' });
  assert.throws(() => groupRef({ 'backup-type': 'host', 'backup-id': 'a\0b' }), { code: 'INVALID_NAME' });
});
