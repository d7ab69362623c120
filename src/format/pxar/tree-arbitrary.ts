/**
 * Test support (not built into dist/, not used by production code): fast-check arbitraries for
 * in-memory pxar trees (testing.ts's MemNode) with every entry kind and attribute, hardlinks
 * among them, and names that collide in interesting ways (spaces, non-ASCII, dot names).
 */
import fc from 'fast-check';
import type { PxarAcl, PxarMetadata } from './metadata.ts';
import type { MemChild, MemNode } from './testing.ts';

const enc = new TextEncoder();
const NAME_POOL = ['a', 'b', 'file', 'with space', 'ünïcødé', '☃', '.hidden', '...', 'x'.repeat(40)];

const aclEntry = fc.record({ id: fc.bigInt({ min: 0n, max: 70000n }), permissions: fc.bigInt({ min: 0n, max: 7n }) });
const aclArb: fc.Arbitrary<PxarAcl> = fc.record(
  { users: fc.array(aclEntry, { maxLength: 2 }), groups: fc.array(aclEntry, { maxLength: 1 }), defaultUsers: fc.constant([]), defaultGroups: fc.constant([]), groupObj: fc.bigInt({ min: 0n, max: 7n }) },
  { requiredKeys: ['users', 'groups', 'defaultUsers', 'defaultGroups'] },
).map((a) => ({ ...a, users: sortAcl(a.users), groups: sortAcl(a.groups) }));

function sortAcl(list: readonly { id: bigint; permissions: bigint }[]): { id: bigint; permissions: bigint }[] {
  return [...list].sort((x, y) => (x.id === y.id ? Number(x.permissions - y.permissions) : x.id < y.id ? -1 : 1));
}

function metaArb(type: number): fc.Arbitrary<PxarMetadata> {
  return fc.record(
    {
      stat: fc.record({
        mode: fc.integer({ min: 0, max: 0o7777 }).map((p) => type | p),
        flags: fc.bigInt({ min: 0n, max: 0x3ffe000n }),
        uid: fc.nat({ max: 0xffffffff }),
        gid: fc.nat({ max: 0xffffffff }),
        mtime: fc.record({ secs: fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }), nanos: fc.nat({ max: 999_999_999 }) }),
      }),
      xattrs: fc.array(fc.record({ name: fc.stringMatching(/^user\.[a-z]{1,8}$/).map((s) => enc.encode(s)), value: fc.uint8Array({ maxLength: 12 }) }), { maxLength: 2 }),
      acl: aclArb,
      fcaps: fc.uint8Array({ maxLength: 20 }),
      quotaProjectId: fc.bigInt({ min: 1n, max: 2n ** 32n }),
    },
    { requiredKeys: ['stat', 'xattrs', 'acl'] },
  );
}

const leafArb: fc.Arbitrary<MemNode> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('file' as const), meta: metaArb(0o100000), data: fc.uint8Array({ maxLength: 300 }) }) },
  fc.record({ kind: fc.constant('symlink' as const), meta: metaArb(0o120000), target: fc.uint8Array({ minLength: 1, maxLength: 30 }).map((t) => t.map((b) => b || 1)) }),
  fc.record({ kind: fc.constantFrom('fifo' as const, 'socket' as const), meta: metaArb(0o010000) }).map((n) => ({ ...n, meta: { ...n.meta, stat: { ...n.meta.stat, mode: (n.kind === 'fifo' ? 0o010000 : 0o140000) | (n.meta.stat.mode & 0o7777) } } })),
  fc.record({ kind: fc.constantFrom('char-device' as const, 'block-device' as const), meta: metaArb(0o020000), device: fc.record({ major: fc.bigInt({ min: 0n, max: 4095n }), minor: fc.bigInt({ min: 0n, max: 2n ** 20n }) }) }).map((n) => ({ ...n, meta: { ...n.meta, stat: { ...n.meta.stat, mode: (n.kind === 'char-device' ? 0o020000 : 0o060000) | (n.meta.stat.mode & 0o7777) } } })),
  fc.record({ kind: fc.constant('hardlink' as const), pick: fc.nat() }),
);

export const treeArb = fc.letrec<{ dir: MemNode & { kind: 'directory' }; node: MemNode }>((tie) => ({
  dir: fc.record({
    kind: fc.constant('directory' as const),
    meta: metaArb(0o040000),
    children: fc.uniqueArray(fc.record({ name: fc.constantFrom(...NAME_POOL), node: tie('node') }), { maxLength: 4, selector: (c) => c.name }).map((cs) => cs.map((c): MemChild => ({ name: enc.encode(c.name), node: c.node }))),
  }),
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafArb, tie('dir')),
})).dir;

