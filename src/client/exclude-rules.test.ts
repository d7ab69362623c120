import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliExcludeRecord, ExcludeScope, globToRegExp, parseRules, ruleMatches } from './exclude-rules.ts';
import { makeTempDir } from '../../test/helpers/tmp.ts';

test('globToRegExp: ? and * stay within a component, ** crosses them, classes and escapes work', () => {
  assert.ok(globToRegExp('*.tmp').test('a.tmp'));
  assert.ok(!globToRegExp('*.tmp').test('d/a.tmp'));
  assert.ok(globToRegExp('**/*.tmp').test('d/e/a.tmp'));
  assert.ok(globToRegExp('**/*.tmp').test('a.tmp'), '**/ also matches no directory');
  assert.ok(globToRegExp('file?.[0-9]').test('file1.7'));
  assert.ok(!globToRegExp('file[!0-9]').test('file5'));
  assert.ok(globToRegExp('file[!0-9]').test('filex'));
  assert.ok(globToRegExp('a\\*b').test('a*b'));
  assert.ok(!globToRegExp('a\\*b').test('axb'));
});

test('parseRules skips blanks and comments; ! includes, trailing / means directories only, leading / anchors', () => {
  const rules = parseRules('# comment\n\n*.log\n!keep.log\ncache/\n/top.txt\n', '');
  assert.deepEqual(rules.map((r) => [r.text, r.include, r.dirOnly, r.anchored]), [
    ['*.log', false, false, false],
    ['!keep.log', true, false, false],
    ['cache/', false, true, false],
    ['/top.txt', false, false, true],
  ]);
});

test('ruleMatches: unanchored patterns match at any depth below their base, anchored ones only from it', () => {
  const [star, anchored] = parseRules('*.o\n/build\n', 'src');
  assert.ok(ruleMatches(star!, 'src/a.o', false));
  assert.ok(ruleMatches(star!, 'src/x/y/a.o', false));
  assert.ok(!ruleMatches(star!, 'other/a.o', false), 'patterns match only below their .pxarexclude');
  assert.ok(ruleMatches(anchored!, 'src/build', true));
  assert.ok(!ruleMatches(anchored!, 'src/x/build', true));
  const [dirOnly] = parseRules('cache/\n', '');
  assert.ok(ruleMatches(dirOnly!, 'a/cache', true));
  assert.ok(!ruleMatches(dirOnly!, 'a/cache', false), 'a file named like a directory-only pattern stays');
});

test('ExcludeScope: the last matching rule wins, so a deeper .pxarexclude overrides the CLI and its parents', async () => {
  const dir = makeTempDir('holdfast-excl-');
  try {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, '.pxarexclude'), '*.log\n');
    writeFileSync(join(dir, 'sub', '.pxarexclude'), '!important.log\n');
    const root = await ExcludeScope.fromPatterns(['*.iso', '!keep.iso']).enter(Buffer.from(dir), '');
    assert.equal(root.excludes('a.iso', false), true);
    assert.equal(root.excludes('keep.iso', false), false);
    assert.equal(root.excludes('x.log', false), true);
    const sub = await root.enter(Buffer.from(join(dir, 'sub')), 'sub');
    assert.equal(sub.excludes('sub/important.log', false), false);
    assert.equal(sub.excludes('sub/other.log', false), true);
    assert.equal(root.excludes('important.log', false), true, 'the deeper rule applies only below its directory');
    assert.equal(await root.enter(Buffer.from(join(dir, 'missing')), 'missing'), root, 'no .pxarexclude, same scope');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cliExcludeRecord writes the --exclude patterns as PBS records them: ! for includes, / for directories', () => {
  assert.equal(Buffer.from(cliExcludeRecord(ExcludeScope.fromPatterns(['*.iso', '!keep.iso', 'cache//', '/top']))!).toString(), '*.iso\n!keep.iso\ncache/\n/top\n');
  assert.equal(cliExcludeRecord(ExcludeScope.fromPatterns([])), undefined);
});
