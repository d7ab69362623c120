import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHoldfastError } from '../core/errors.ts';
import { canonicalJson, canonicalJsonBytes, jsonNumber, serdePrettyJson, sortKeysBytewise } from './canonical-json.ts';

const invalid = (e: unknown): boolean => isHoldfastError(e, 'INVALID_ARGUMENT');

test('canonicalJson writes the manifest of test_manifest_signature byte for byte (VECTORS §4)', () => {
  const value = {
    'backup-type': 'host',
    'backup-id': 'elsa',
    'backup-time': 1593179765,
    files: [
      { filename: 'test1.img.fidx', 'crypt-mode': 'encrypt', size: 200, csum: '01'.repeat(32) },
      { filename: 'abc.blob', 'crypt-mode': 'none', size: 200, csum: '02'.repeat(32) },
    ],
  };
  const expected =
    '{"backup-id":"elsa","backup-time":1593179765,"backup-type":"host","files":[{"crypt-mode":"encrypt","csum":"0101010101010101010101010101010101010101010101010101010101010101","filename":"test1.img.fidx","size":200},{"crypt-mode":"none","csum":"0202020202020202020202020202020202020202020202020202020202020202","filename":"abc.blob","size":200}]}';
  assert.equal(canonicalJson(value), expected);
  assert.deepEqual(canonicalJsonBytes(value), new TextEncoder().encode(expected));
});

test('canonicalJson rejects null anywhere with INVALID_ARGUMENT', () => {
  for (const v of [null, { a: null }, [1, null], { a: { b: [null] } }]) assert.throws(() => canonicalJson(v), invalid);
});

test('canonicalJson rejects values JSON cannot hold', () => {
  for (const v of [undefined, { a: undefined }, NaN, Infinity, () => 1, new Uint8Array(1), new Date(0), Symbol('x'), 'lone \uD800 surrogate']) {
    assert.throws(() => canonicalJson(v), invalid);
  }
});

test('canonicalJson sorts keys by UTF-8 bytes, not UTF-16 units, at every depth', () => {
  const astral = '\u{1F600}';
  assert.deepEqual(sortKeysBytewise([astral, '\uFFFD', 'b', 'B', 'a-b', 'a', '10', '9']), ['10', '9', 'B', 'a', 'a-b', 'b', '\uFFFD', astral]);
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: true } }), '{"a":{"c":true,"d":[3,{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson({ '9': 1, '10': 2 }), '{"10":2,"9":1}');
});

test('canonicalJson escapes strings as serde_json does', () => {
  assert.equal(canonicalJson('a"b\\c/d\n\t\r\b\f\u0001\u001f\u007f é 😀 \u2028'), '"a\\"b\\\\c/d\\n\\t\\r\\b\\f\\u0001\\u001f\u007f é 😀 \u2028"');
});

test('jsonNumber prints integers as integers and other numbers in ryu layout', () => {
  const cases: [number, string][] = [
    [0, '0'],
    [-5, '-5'],
    [1593179765, '1593179765'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [2 ** 63, '9223372036854775808'],
    [0.1, '0.1'],
    [-2.5, '-2.5'],
    [123.456, '123.456'],
    [0.00001, '0.00001'],
    [0.000001, '1e-6'],
    [1.5e-7, '1.5e-7'],
    [1e300, '1e300'],
    [2 ** 70, '1.1805916207174113e21'],
    [-0, '-0.0'],
  ];
  for (const [n, text] of cases) assert.equal(jsonNumber(n), text, String(n));
});

const jsonish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;

test('canonicalJson output parses back to the same value and is a fixed point (property)', () => {
  fc.assert(
    fc.property(jsonish, (v) => {
      const text = canonicalJson(v);
      assert.deepEqual(JSON.parse(text), v);
      assert.equal(canonicalJson(JSON.parse(text)), text);
      assert.ok(!/\s/.test(text.replace(/"(?:[^"\\]|\\.)*"/g, '')), 'whitespace outside strings');
    }),
    { numRuns: 300 },
  );
});

test('serdePrettyJson matches serde to_string_pretty layout and parses back (property)', () => {
  assert.equal(serdePrettyJson({ b: [], a: {}, c: [1, { x: null }] }), '{\n  "a": {},\n  "b": [],\n  "c": [\n    1,\n    {\n      "x": null\n    }\n  ]\n}');
  assert.equal(serdePrettyJson({ a: 1 }, 1), '{\n    "a": 1\n  }');
  fc.assert(
    fc.property(jsonish, (v) => {
      assert.deepEqual(JSON.parse(serdePrettyJson(v)), v);
    }),
    { numRuns: 200 },
  );
});

test('canonicalJson refuses nesting deeper than serde_json allows', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 130; i++) deep = [deep];
  assert.throws(() => canonicalJson(deep), invalid);
  let ok: unknown = 1;
  for (let i = 0; i < 100; i++) ok = [ok];
  assert.doesNotThrow(() => canonicalJson(ok));
});
