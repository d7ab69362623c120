import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHoldfastError } from '../core/errors.ts';
import {
  formatPropertyString,
  parseBoolean,
  parsePropertyMap,
  parsePropertyString,
  splitPropertyString,
  type PropertyEntry,
} from './property-string.ts';

function assertInvalid(fn: () => unknown, mentions: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isHoldfastError(e, 'INVALID_PROPERTY_STRING'), String(e));
    assert.ok(e.message.includes(mentions), `'${e.message}' should mention '${mentions}'`);
    return true;
  });
}

test('splitPropertyString yields the upstream iterator vector (VECTORS §12.1)', () => {
  const text = String.raw`"value w/o key",fst=v1,sec="with = in it",third=3,"and \" and '\\'"`;
  assert.deepEqual(splitPropertyString(text), [
    { key: undefined, value: 'value w/o key' },
    { key: 'fst', value: 'v1' },
    { key: 'sec', value: 'with = in it' },
    { key: 'third', value: '3' },
    { key: undefined, value: String.raw`and " and '\'` },
  ]);
});

test('splitPropertyString rejects an unterminated quote (VECTORS §12.1)', () => {
  assertInvalid(() => splitPropertyString(String.raw`key="open \\ value`), 'unterminated');
  assertInvalid(() => splitPropertyString(String.raw`key="open \\ value\"`), 'unterminated');
});

test('splitPropertyString rejects garbage after a quoted value and unknown escapes', () => {
  assertInvalid(() => splitPropertyString('a="x"y'), 'garbage');
  assertInvalid(() => splitPropertyString(String.raw`a="x\ty"`), '\\t');
});

test('splitPropertyString decodes \\n and allows = in unquoted values', () => {
  assert.deepEqual(splitPropertyString(String.raw`a="l1\nl2",b=x=y`), [
    { key: 'a', value: 'l1\nl2' },
    { key: 'b', value: 'x=y' },
  ]);
});

test('splitPropertyString accepts an empty string, empty values and a trailing comma', () => {
  assert.deepEqual(splitPropertyString(''), []);
  assert.deepEqual(splitPropertyString('list='), [{ key: 'list', value: '' }]);
  assert.deepEqual(splitPropertyString('a=1,'), [{ key: 'a', value: '1' }]);
});

test('parsePropertyString maps bare values to the default key (VECTORS §12.4 net0)', () => {
  assert.deepEqual(parsePropertyString('virtio,enable=no', { defaultKey: 'model' }), [
    ['model', 'virtio'],
    ['enable', 'no'],
  ]);
  assert.deepEqual(parsePropertyString('model=virtio,enable=1', { defaultKey: 'model' }), [
    ['model', 'virtio'],
    ['enable', '1'],
  ]);
});

test('parsePropertyString rejects duplicate keys and bare values without a default key', () => {
  assertInvalid(() => parsePropertyString('a=1,b=2,a=3'), "duplicate key 'a'");
  assertInvalid(() => parsePropertyString('virtio,model=e1000', { defaultKey: 'model' }), "duplicate key 'model'");
  assertInvalid(() => parsePropertyString('sync-level=file,bogus'), "value 'bogus' has no key");
  assertInvalid(() => parsePropertyString('=x'), 'empty key');
});

test('parsePropertyMap keeps text order', () => {
  assert.deepEqual([...parsePropertyMap('b=2,a=1').keys()], ['b', 'a']);
});

test('formatPropertyString quotes only when needed and writes the default key bare first', () => {
  assert.equal(formatPropertyString([['a', '1']]), 'a=1');
  assert.equal(formatPropertyString([['a', 'x,y'], ['b', 'say "hi"\n']]), String.raw`a="x,y",b="say \"hi\"\n"`);
  assert.equal(formatPropertyString([['enable', '1'], ['model', 'virtio']], { defaultKey: 'model' }), 'virtio,enable=1');
  assert.equal(formatPropertyString([['model', 'a=b']], { defaultKey: 'model' }), '"a=b"');
});

test('formatPropertyString rejects keys that cannot be read back', () => {
  assertInvalid(() => formatPropertyString([['a b', '1']]), "'a b'");
  assertInvalid(() => formatPropertyString([['a', '1'], ['a', '2']]), "'a'");
});

test('formatPropertyString then parsePropertyString round-trips (property)', () => {
  const key = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);
  const entries = fc.uniqueArray(fc.tuple(key, fc.string({ maxLength: 20 })), { selector: ([k]) => k, maxLength: 6 });
  fc.assert(
    fc.property(entries, fc.boolean(), (list, useDefault) => {
      const defaultKey = useDefault && list.length > 0 ? list[0]![0] : undefined;
      const options = defaultKey === undefined ? {} : { defaultKey };
      const text = formatPropertyString(list, options);
      const back = parsePropertyString(text, options);
      const sorted = (xs: readonly PropertyEntry[]): PropertyEntry[] => [...xs].sort(([a], [b]) => a.localeCompare(b));
      assert.deepEqual(sorted(back), sorted(list));
    }),
  );
});

test('parseBoolean accepts upstream spellings case-insensitively (VECTORS §12.4)', () => {
  for (const t of ['yes', '1', 'On', 'TRUE', 'true', 'on']) assert.equal(parseBoolean(t), true, t);
  for (const f of ['NO', '0', 'off', 'False']) assert.equal(parseBoolean(f), false, f);
  for (const bad of ['TREU', 'force', '', '2']) assert.equal(parseBoolean(bad), undefined, bad);
});
