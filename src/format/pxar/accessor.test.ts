import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHoldfastError } from '../../core/errors.ts';
import { PxarAccessor, type AccessedEntry, type RandomAccess } from './accessor.ts';
import { HEADER_SIZE, PXAR_HARDLINK } from './constants.ts';
import { listPxar } from './decoder.ts';
import type { PxarEntry } from './entry.ts';
import { pathComponents } from './names.ts';
import { encodeMemTree, streamOf, type MemNode } from './testing.ts';
import { treeArb } from './tree-arbitrary.ts';

/** An in-memory archive that counts the bytes read, so a test can see that access is partial. */
function memory(bytes: Uint8Array): RandomAccess & { readBytes: number } {
  return {
    size: bytes.length,
    readBytes: 0,
    async read(offset: number, length: number) {
      if (offset < 0 || offset + length > bytes.length) throw new Error(`read out of range ${offset}+${length}`);
      this.readBytes += length;
      return bytes.subarray(offset, offset + length);
    },
  };
}

/** The components of a path from the archive root; none for the root itself. */
const components = (path: Uint8Array): Uint8Array[] => (path.length === 0 ? [] : pathComponents(path));

async function walkTo(acc: PxarAccessor, path: Uint8Array): Promise<AccessedEntry | undefined> {
  let at: AccessedEntry | undefined = await acc.root();
  for (const name of components(path)) {
    if (at === undefined) return undefined;
    at = await acc.lookup(at, name);
  }
  return at;
}

function dataOf(e: AccessedEntry, archive: Uint8Array, payload: Uint8Array): Uint8Array {
  const d = e.data!;
  return d.in === 'archive' ? archive.subarray(d.offset, d.offset + d.size) : payload.subarray(d.headerOffset + HEADER_SIZE, d.headerOffset + HEADER_SIZE + d.size);
}

test('the accessor finds every entry the streaming decoder yields, with the same metadata, kind and bytes (v1 and v2)', async () => {
  await fc.assert(
    fc.asyncProperty(treeArb, fc.boolean(), async (tree, split) => {
      const { archive, payload } = encodeMemTree(tree, { split });
      const entries = await listPxar(streamOf(archive, 97), split ? { payload: streamOf(payload, 97) } : {});
      const acc = new PxarAccessor(memory(archive));
      const byOffset = new Map<number, PxarEntry>(entries.map((e) => [e.fileOffset, e]));
      for (const e of entries) {
        const got = await walkTo(acc, e.path);
        assert.ok(got !== undefined, `not found: ${Buffer.from(e.path).toString()}`);
        const real = e.kind === 'hardlink' ? byOffset.get(e.targetOffset)! : e;
        assert.equal(got.fileOffset, real.fileOffset);
        assert.equal(got.kind, real.kind);
        if (real.kind === 'hardlink') continue;
        assert.deepEqual(got.metadata, real.metadata);
        if (real.kind === 'symlink') assert.deepEqual(got.target, real.target);
        if (real.kind === 'char-device' || real.kind === 'block-device') assert.deepEqual(got.device, real.device);
        if (real.kind === 'file') assert.equal(got.data!.size, real.size);
      }
      // listing a directory gives its members in archive order, by name
      const dirs = entries.filter((e) => e.kind === 'directory');
      for (const d of dirs) {
        const listed = await acc.list((await walkTo(acc, d.path))!);
        const direct = entries.filter((e) => e.path.length > d.path.length && components(e.path).length === components(d.path).length + 1 && Buffer.from(e.path).subarray(0, d.path.length).equals(Buffer.from(d.path)) && (d.path.length === 0 || e.path[d.path.length] === 0x2f));
        assert.deepEqual(listed.map((x) => Buffer.from(x.name).toString('hex')), direct.map((x) => Buffer.from(components(x.path).at(-1)!).toString('hex')));
      }
      assert.equal(await acc.lookup(await acc.root(), new TextEncoder().encode('no such name')), undefined);
    }),
    { numRuns: 150 },
  );
});

test('file bytes are where the accessor says, inline or in the payload archive', async () => {
  const meta = (mode: number) => ({ stat: { mode, flags: 0n, uid: 0, gid: 0, mtime: { secs: 0n, nanos: 0 } }, xattrs: [], acl: { users: [], groups: [], defaultUsers: [], defaultGroups: [] } });
  const data = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
  const tree: MemNode & { kind: 'directory' } = {
    kind: 'directory', meta: meta(0o40755),
    children: [{ name: new TextEncoder().encode('big'), node: { kind: 'file', meta: meta(0o100644), data } }],
  };
  for (const split of [false, true]) {
    const { archive, payload } = encodeMemTree(tree, { split, pieceSize: 4096 });
    const ra = memory(archive);
    const acc = new PxarAccessor(ra);
    const big = await acc.lookup(await acc.root(), new TextEncoder().encode('big'));
    assert.ok(Buffer.from(dataOf(big!, archive, payload)).equals(Buffer.from(data)));
    assert.equal(acc.split, split);
    // finding the file read its entry and the goodbye table, not its 300 kB of data
    assert.ok(ra.readBytes < 2 * 64 * 1024 + 1024, `read ${ra.readBytes} bytes`);
  }
});

test('a damaged archive gives a coded error, never a wrong entry or a read outside it', async () => {
  await fc.assert(
    fc.asyncProperty(treeArb, fc.boolean(), fc.nat(), fc.nat({ max: 255 }), async (tree, split, at, value) => {
      const { archive } = encodeMemTree(tree, { split });
      const bad = archive.slice();
      bad[at % bad.length] = value;
      const acc = new PxarAccessor(memory(bad));
      const visit = async (dir: AccessedEntry, depth: number): Promise<void> => {
        for (const child of await acc.list(dir)) if (child.kind === 'directory' && depth < 16) await visit(child, depth + 1);
      };
      try {
        await visit(await acc.root(), 0);
      } catch (e) {
        assert.ok(isHoldfastError(e), `uncoded error: ${String(e)}`);
      }
    }),
    { numRuns: 300 },
  );
});

test('item sizes are checked before they are read: a hardlink claiming petabytes is CORRUPT, not an allocation', async () => {
  const meta = (mode: number) => ({ stat: { mode, flags: 0n, uid: 0, gid: 0, mtime: { secs: 0n, nanos: 0 } }, xattrs: [], acl: { users: [], groups: [], defaultUsers: [], defaultGroups: [] } });
  const name = (n: string) => new TextEncoder().encode(n);
  const tree: MemNode & { kind: 'directory' } = {
    kind: 'directory', meta: meta(0o40755),
    children: [{ name: name('a'), node: { kind: 'file', meta: meta(0o100644), data: name('x') } }, { name: name('b'), node: { kind: 'hardlink', pick: 0 } }],
  };
  const { archive } = encodeMemTree(tree);
  const bad = Buffer.from(archive);
  const magic = Buffer.alloc(8);
  magic.writeBigUInt64LE(PXAR_HARDLINK);
  const at = bad.indexOf(magic);
  assert.ok(at > 0, 'the archive has a HARDLINK item');
  bad.writeBigUInt64LE(2n ** 52n, at + 8);
  const acc = new PxarAccessor(memory(bad));
  await assert.rejects(acc.lookup(await acc.root(), name('b')), (e) => isHoldfastError(e, 'CORRUPT'));
});
