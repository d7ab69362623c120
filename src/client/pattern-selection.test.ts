/**
 * PatternSelection: `covers` (what a split restore reads payload for, and what a hardlink may
 * point to) agrees entry by entry with what `select` gives out, for patterns of every kind; bad
 * patterns are INVALID_ARGUMENT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../core/errors.ts';
import { decodePxar } from '../format/pxar/decoder.ts';
import type { PxarMetadata } from '../format/pxar/metadata.ts';
import { encodeMemTree, streamOf, type MemNode } from '../format/pxar/testing.ts';
import { PatternSelection } from './pattern-selection.ts';

const enc = new TextEncoder();
const meta = (type: number): PxarMetadata => ({ stat: { mode: type | 0o644, flags: 0n, uid: 0, gid: 0, mtime: { secs: 1n, nanos: 0 } }, xattrs: [], acl: { users: [], groups: [], defaultUsers: [], defaultGroups: [] } });
const file = (): MemNode => ({ kind: 'file', meta: meta(0o100000), data: enc.encode('x') });
const dir = (children: [string, MemNode][]): MemNode & { kind: 'directory' } => ({ kind: 'directory', meta: meta(0o040000), children: children.map(([name, node]) => ({ name: enc.encode(name), node })) });
const TREE = dir([
  ['etc', dir([['app.conf', file()], ['ssl', dir([['key.pem', file()], ['x.conf', file()]])]])],
  ['logs', dir([['a.log', file()]])],
  ['var', dir([['logs', dir([['b.log', file()]])], ['app.conf', file()]])],
]);

test('PatternSelection.covers agrees with select on every entry, for unanchored, anchored, ** and directory-only patterns', async () => {
  const { archive } = encodeMemTree(TREE);
  const all: { path: string; isDir: boolean }[] = [];
  for await (const ev of decodePxar(streamOf(archive))) if (ev.type === 'entry' && ev.entry.path.length > 0) all.push({ path: Buffer.from(ev.entry.path).toString(), isDir: ev.entry.kind === 'directory' });
  const cases: [string[], string[]][] = [
    [['*.conf'], ['etc/app.conf', 'etc/ssl/x.conf', 'var/app.conf']],
    [['/etc/ssl'], ['etc/ssl', 'etc/ssl/key.pem', 'etc/ssl/x.conf']],
    [['logs/'], ['logs', 'logs/a.log', 'var/logs', 'var/logs/b.log']],
    [['/var/**/*.log'], ['var/logs/b.log']],
    [['*.pem', '/logs'], ['etc/ssl/key.pem', 'logs', 'logs/a.log']],
  ];
  for (const [patterns, want] of cases) {
    const s = PatternSelection.parse(patterns);
    assert.deepEqual(all.filter((e) => s.covers(enc.encode(e.path), e.isDir)).map((e) => e.path), want, patterns.join(' '));
    const given: string[] = [];
    for await (const ev of s.select(decodePxar(streamOf(archive)))) if (ev.type === 'entry' && ev.entry.path.length > 0) given.push(Buffer.from(ev.entry.path).toString());
    // what select gives is what covers says, plus the directories on the way to it
    assert.deepEqual(given.filter((p) => want.includes(p)), want, patterns.join(' '));
    for (const p of given.filter((g) => !want.includes(g))) assert.ok(want.some((w) => w.startsWith(`${p}/`)), `${p} leads to a match (${patterns.join(' ')})`);
  }
  for (const bad of [[], [''], ['!*.conf'], ['#x'], ['/'], ['[a']]) {
    assert.throws(() => PatternSelection.parse(bad), (e) => isHoldfastError(e, 'INVALID_ARGUMENT'), JSON.stringify(bad));
  }
});
