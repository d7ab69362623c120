import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPxarStream } from './pxar-create.ts';
import { extractPxar } from './pxar-extract.ts';
import { setMtime } from './pxar-native.ts';
import { collect, once, snapshotTree } from './pxar-test-tree.ts';

const IS_ROOT = process.getuid?.() === 0;

type Spec =
  | { kind: 'file'; data: Uint8Array; mode: number; secs: number; nanos: number }
  | { kind: 'symlink'; target: string }
  | { kind: 'hardlink'; pick: number }
  | { kind: 'dir'; mode: number; secs: number; nanos: number; children: [string, Spec][] };

const NAMES = ['a', 'B', 'with space', 'ünï', '☃', '.dot', 'long-' + 'n'.repeat(60)];
const time = { secs: fc.integer({ min: -(2 ** 31), max: 2 ** 33 }), nanos: fc.nat({ max: 999_999_999 }) };

const specArb = fc.letrec<{ dir: Spec; node: Spec }>((tie) => ({
  dir: fc.record({
    kind: fc.constant('dir' as const),
    mode: fc.constantFrom(0o755, 0o700, 0o555, 0o1777, 0o2750),
    ...time,
    children: fc.uniqueArray(fc.tuple(fc.constantFrom(...NAMES), tie('node')), { maxLength: 4, selector: (c) => c[0] }),
  }),
  node: fc.oneof(
    { depthSize: 'small' },
    fc.record({ kind: fc.constant('file' as const), data: fc.uint8Array({ maxLength: 3000 }), mode: fc.constantFrom(0o644, 0o600, 0o755, 0o444, 0o4755, 0o2711, ...(IS_ROOT ? [0o000] : [])), ...time }),
    fc.record({ kind: fc.constant('symlink' as const), target: fc.constantFrom('a', '../x', '/abs/path', 'dangling ☃') }),
    fc.record({ kind: fc.constant('hardlink' as const), pick: fc.nat() }),
    tie('dir'),
  ),
})).dir;

/** Creates the tree; mtimes and modes are set after children so they stick. */
function materialize(path: string, spec: Spec, files: string[]): void {
  switch (spec.kind) {
    case 'file':
      writeFileSync(path, spec.data);
      chmodSync(path, spec.mode);
      setMtime(Buffer.from(path), { secs: BigInt(spec.secs), nanos: spec.nanos });
      files.push(path);
      return;
    case 'symlink':
      symlinkSync(spec.target, path);
      return;
    case 'hardlink': {
      const target = files[spec.pick % Math.max(files.length, 1)];
      if (target === undefined) writeFileSync(path, 'no earlier file');
      else linkSync(target, path);
      return;
    }
    case 'dir':
      mkdirSync(path, { recursive: true });
      for (const [name, child] of spec.children) materialize(join(path, name), child, files);
      chmodSync(path, spec.mode);
      setMtime(Buffer.from(path), { secs: BigInt(spec.secs), nanos: spec.nanos });
  }
}

function unlock(dir: string): void {
  chmodSync(dir, 0o700);
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) unlock(join(dir, e.name));
}

test('extractPxar(createPxarStream(tree)) reproduces random small trees exactly (contents, modes, mtimes, links)', async () => {
  const base = mkdtempSync(join(tmpdir(), 'holdfast-pxar-prop-'));
  let run = 0;
  try {
    await fc.assert(
      fc.asyncProperty(specArb, fc.integer({ min: 1, max: 5000 }), async (spec, piece) => {
        const dir = join(base, String(run++));
        materialize(join(dir, 'src'), spec, []);
        try {
          const archive = await collect(createPxarStream(join(dir, 'src'), { readSize: 1024 }));
          await extractPxar(once(archive, piece), join(dir, 'out'));
          assert.deepEqual(await snapshotTree(join(dir, 'out')), await snapshotTree(join(dir, 'src')));
        } finally {
          unlock(dir);
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 25 },
    );
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
