import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../core/errors.ts';
import { applyGroupFilters, formatGroupFilter, parseGroupFilter } from './group-filter.ts';

const groups = Array.from({ length: 9 }, (_, i) => ({ type: 'vm', id: String(101 + i) }));
const passing = (texts: string[]): string[] => groups.filter((g) => applyGroupFilters(texts.map(parseGroupFilter), g)).map((g) => g.id);

test('applyGroupFilters follows the upstream group_filter_tests vectors (VECTORS.md §10)', () => {
  assert.deepEqual(passing([]), ['101', '102', '103', '104', '105', '106', '107', '108', '109']);
  assert.deepEqual(passing(['regex:.*10[2-8]']), ['102', '103', '104', '105', '106', '107', '108']);
  assert.deepEqual(passing(['exclude:regex:.*10[1-3]', 'exclude:regex:.*10[5-7]']), ['104', '108', '109']);
  assert.deepEqual(passing(['exclude:regex:.*10[1-3]', 'regex:.*10[2-8]', 'exclude:regex:.*10[5-7]']), ['104', '108']);
});

test('applyGroupFilters matches type: and group: filters exactly', () => {
  const f = ['type:ct', 'group:vm/105'].map(parseGroupFilter);
  assert.equal(applyGroupFilters(f, { type: 'ct', id: 'x' }), true);
  assert.equal(applyGroupFilters(f, { type: 'vm', id: '105' }), true);
  assert.equal(applyGroupFilters(f, { type: 'vm', id: '1050' }), false);
  assert.equal(applyGroupFilters([parseGroupFilter('exclude:type:host')], { type: 'host', id: 'a' }), false);
});

test('parseGroupFilter refuses unknown kinds, bad types, bad groups and bad regexes with INVALID_ARGUMENT', () => {
  for (const text of ['vm/100', 'kind:x', 'type:pc', 'group:vm', 'group:vm/a/b', 'regex:(', 'regex:', `regex:${'a'.repeat(300)}`, 'exclude:']) {
    assert.throws(() => parseGroupFilter(text), (e: unknown) => isHoldfastError(e, 'INVALID_ARGUMENT') && e.details['param'] === 'group-filter', text);
  }
  assert.equal(formatGroupFilter(parseGroupFilter('exclude:regex:^vm/1,2$')), 'exclude:regex:^vm/1,2$');
});
