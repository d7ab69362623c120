import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHoldfastError } from '../core/errors.ts';
import { formatSectionConfig, parseSectionConfig, type Section } from './section-config.ts';

const EXAMPLE =
  'datastore: store1\n' +
  '\tpath /mnt/datastore/store1\n' +
  '\tgc-schedule daily\n' +
  '\ttuning sync-level=file,chunk-order=none,gc-atime-cutoff=1445\n' +
  '\tverify-new true\n';

function assertConfigError(text: string, line: number, mentions: string): void {
  assert.throws(
    () => parseSectionConfig(text, 'datastore.cfg'),
    (e: unknown) => {
      assert.ok(isHoldfastError(e, 'INVALID_CONFIG'), String(e));
      assert.equal(e.details['line'], line);
      assert.ok(e.message.startsWith(`datastore.cfg:${line}: `), e.message);
      assert.ok(e.message.includes(mentions), `'${e.message}' should mention '${mentions}'`);
      return true;
    },
  );
}

test('parseSectionConfig reads the pbs-format.md §1.1 example', () => {
  const [section, ...rest] = parseSectionConfig(EXAMPLE, 'datastore.cfg');
  assert.equal(rest.length, 0);
  assert.equal(section?.type, 'datastore');
  assert.equal(section?.id, 'store1');
  assert.deepEqual(
    [...(section?.props ?? [])],
    [
      ['path', '/mnt/datastore/store1'],
      ['gc-schedule', 'daily'],
      ['tuning', 'sync-level=file,chunk-order=none,gc-atime-cutoff=1445'],
      ['verify-new', 'true'],
    ],
  );
});

test('parseSectionConfig trims header parts and property values, and splits at the first whitespace', () => {
  const [s] = parseSectionConfig('datastore :  a1 \n   comment   two  words  \n', 'x.cfg');
  assert.equal(s?.type, 'datastore');
  assert.equal(s?.id, 'a1');
  assert.equal(s?.props.get('comment'), 'two  words');
});

test('parseSectionConfig ends a section at a whitespace-only line and skips blank lines before headers', () => {
  const text = '\n \ndatastore: a1\n\tpath /a\n \t\n\n\ndatastore: b2\n\tpath /b\n';
  const sections = parseSectionConfig(text, 'x.cfg');
  assert.deepEqual(
    sections.map((s) => [s.id, s.props.get('path')]),
    [
      ['a1', '/a'],
      ['b2', '/b'],
    ],
  );
});

test('parseSectionConfig accepts CRLF line ends and a missing final newline', () => {
  const sections = parseSectionConfig('datastore: a1\r\n\tpath /a', 'x.cfg');
  assert.equal(sections[0]?.props.get('path'), '/a');
});

test('parseSectionConfig rejects a # line with its line number (no comment syntax)', () => {
  assertConfigError('# comment\ndatastore: a1\n', 1, 'expected header');
  assertConfigError('datastore: a1\n\tpath /a\n\n# comment\n', 4, 'expected header');
});

test('parseSectionConfig rejects duplicate ids, duplicate keys and unindented property lines', () => {
  assertConfigError('datastore: a1\n\tpath /a\n\ndatastore: a1\n\tpath /b\n', 4, "duplicate section id 'a1'");
  assertConfigError('datastore: a1\n\tpath /a\n\tpath /b\n', 3, "duplicate property 'path'");
  assertConfigError('datastore: a1\npath /a\n', 2, 'expected property line');
  assertConfigError('datastore a1\n', 1, 'expected header');
  assertConfigError('datastore:\n', 1, 'invalid section id');
});

test('formatSectionConfig writes TAB key SPACE value and one blank line between sections', () => {
  const sections: Section[] = [
    { type: 'datastore', id: 'a1', props: new Map([['path', '/a'], ['comment', 'x y']]) },
    { type: 'datastore', id: 'b2', props: new Map([['path', '/b']]) },
  ];
  assert.equal(formatSectionConfig(sections), 'datastore: a1\n\tpath /a\n\tcomment x y\n\ndatastore: b2\n\tpath /b\n');
});

test('formatSectionConfig refuses values the reader would change', () => {
  const bad = (value: string): Section[] => [{ type: 'datastore', id: 'a1', props: new Map([['comment', value]]) }];
  for (const v of ['two\nlines', ' padded', 'padded ']) {
    assert.throws(() => formatSectionConfig(bad(v)), (e: unknown) => isHoldfastError(e, 'INVALID_CONFIG'));
  }
});

test('formatSectionConfig then parseSectionConfig round-trips (property)', () => {
  const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
  const value = fc
    .string({ maxLength: 20 })
    .map((s) => s.replace(/[\r\n]/g, ' ').trim());
  const section = fc.record({
    type: word,
    id: word,
    props: fc.uniqueArray(fc.tuple(word, value), { selector: ([k]) => k, maxLength: 5 }),
  });
  fc.assert(
    fc.property(fc.uniqueArray(section, { selector: (s) => s.id, maxLength: 5 }), (list) => {
      const sections: Section[] = list.map((s) => ({ ...s, props: new Map(s.props) }));
      const back = parseSectionConfig(formatSectionConfig(sections), 'x.cfg');
      assert.deepEqual(
        back.map((s) => ({ ...s, props: [...s.props] })),
        sections.map((s) => ({ ...s, props: [...s.props] })),
      );
    }),
  );
});
