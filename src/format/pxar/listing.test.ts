/**
 * The two sources of a listing agree: a unified archive's decoded entries and PBS's catalog of the
 * same tree give the same paths, kinds and file sizes, whole or through a selection; a selected
 * path that is not in the catalog is NOT_FOUND.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../../core/errors.ts';
import { CatalogWriter } from './catalog.ts';
import { decodePxar } from './decoder.ts';
import { listedFromCatalog, listedFromEvents, type ListedEntry } from './listing.ts';
import type { PxarMetadata } from './metadata.ts';
import { PathSelection, selectEvents } from './selection.ts';
import { encodeMemTree, streamOf, type MemNode } from './testing.ts';

const enc = new TextEncoder();
const meta = (type: number): PxarMetadata => ({ stat: { mode: type | 0o644, flags: 0n, uid: 0, gid: 0, mtime: { secs: 7n, nanos: 0 } }, xattrs: [], acl: { users: [], groups: [], defaultUsers: [], defaultGroups: [] } });
const file = (n: number): MemNode => ({ kind: 'file', meta: meta(0o100000), data: new Uint8Array(n) });
const dir = (children: [string, MemNode][]): MemNode & { kind: 'directory' } => ({ kind: 'directory', meta: meta(0o040000), children: children.map(([name, node]) => ({ name: enc.encode(name), node })) });
const TREE = dir([['a', dir([['b', dir([['x', file(3)]])], ['y', file(5)]])], ['l', { kind: 'symlink', meta: meta(0o120000), target: enc.encode('a') }], ['z', file(0)]]);

async function catalogOf(archive: Uint8Array): Promise<Uint8Array> {
  const w = new CatalogWriter();
  w.startDirectory(enc.encode('root.pxar.didx'));
  for await (const ev of decodePxar(streamOf(archive))) {
    if (ev.type === 'directory-end' && ev.entry.path.length > 0) w.endDirectory();
    if (ev.type !== 'entry' || ev.entry.path.length === 0) continue;
    const e = ev.entry;
    const name = e.path.subarray(e.path.lastIndexOf(0x2f) + 1);
    if (e.kind === 'directory') w.startDirectory(name);
    else if (e.kind === 'file') w.addFile(name, e.size, e.metadata.stat.mtime.secs);
    else w.addOther(e.kind, name);
  }
  w.endDirectory();
  return Buffer.concat([...w.take(), ...w.finish()]);
}

const shape = (l: readonly ListedEntry[]): string[] => l.map((e) => `${e.kind} ${Buffer.from(e.path).toString()} ${e.size ?? '-'}`);

async function all<T>(it: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('a catalog and the archive list the same entries, whole and selected', async () => {
  const { archive } = encodeMemTree(TREE);
  const catalog = await catalogOf(archive);
  const whole = await all(listedFromEvents(decodePxar(streamOf(archive))));
  assert.deepEqual(shape(whole), ['directory a -', 'directory a/b -', 'file a/b/x 3', 'file a/y 5', 'symlink l -', 'file z 0']);
  assert.deepEqual(shape(await all(listedFromCatalog(catalog, 'root.pxar.didx')!)), shape(whole));
  const select = PathSelection.parse(['a/b', 'z']);
  const selected = await all(listedFromEvents(selectEvents(decodePxar(streamOf(archive)), select), select));
  assert.deepEqual(shape(selected), ['directory a/b -', 'file a/b/x 3', 'file z 0']);
  assert.deepEqual(shape(await all(listedFromCatalog(catalog, 'root.pxar.didx', select)!)), shape(selected));
  assert.equal(listedFromCatalog(catalog, 'other.pxar.didx'), undefined);
  assert.throws(() => [...listedFromCatalog(catalog, 'root.pxar.didx', PathSelection.parse(['a/q']))!], (e) => isHoldfastError(e, 'NOT_FOUND'));
});
