import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHoldfastError } from '../../core/errors.ts';
import { CRASH_MODELS } from './crash-models.ts';
import { readTree } from './read-tree.ts';
import { SimFs } from './sim-fs.ts';

const DIRS = ['', '/a', '/a/b', '/c'] as const;
const NAMES = ['x', 'y', 'a'] as const;

const path = fc.tuple(fc.constantFrom(...DIRS), fc.constantFrom(...NAMES)).map(([d, n]) => `${d}/${n}`);
const command = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), path, mode: fc.constantFrom('w' as const, 'wx' as const, 'r+' as const), at: fc.nat(9000), length: fc.integer({ min: 1, max: 6000 }), sync: fc.boolean() }),
  fc.record({ kind: fc.constant('truncate' as const), path, length: fc.nat(9000) }),
  fc.record({ kind: fc.constant('rename' as const), path, to: path }),
  fc.record({ kind: fc.constantFrom('unlink' as const, 'mkdir' as const, 'rmdir' as const, 'touchAtime' as const), path }),
  fc.record({ kind: fc.constantFrom('fsyncDir' as const, 'syncfs' as const), path: fc.constantFrom(...DIRS).map((d) => d || '/') }),
);
type Command = typeof command extends fc.Arbitrary<infer C> ? C : never;

async function run(fs: SimFs, c: Command, salt: number): Promise<void> {
  switch (c.kind) {
    case 'write': {
      const h = await fs.open(c.path, c.mode);
      await h.write(new Uint8Array(c.length).fill(salt & 0xff), c.at);
      if (c.sync) await h.sync();
      return h.close();
    }
    case 'truncate': {
      const h = await fs.open(c.path, 'r+');
      await h.truncate(c.length);
      return h.close();
    }
    case 'rename':
      return fs.rename(c.path, c.to);
    case 'mkdir':
      return fs.mkdir(c.path);
    default:
      return fs[c.kind](c.path);
  }
}

test('SimFs: replaying every pending op (each model’s ceiling) rebuilds exactly what the process sees', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { maxLength: 25 }), async (commands) => {
      const fs = new SimFs({ now: () => 0 });
      for (const [i, c] of commands.entries()) {
        await run(fs, c, i + 1).catch((e: unknown) => {
          if (!isHoldfastError(e)) throw e;
        });
      }
      const visible = await readTree(fs);
      for (const model of CRASH_MODELS) {
        const [floor, ceiling] = fs.crashStates(model, { seed: 1, max: 2 });
        assert.equal(floor?.kind, 'floor');
        assert.deepEqual(await readTree((ceiling ?? floor).mount()), visible, `${model} ceiling`);
      }
      await fs.syncfs('/');
      assert.deepEqual(await readTree(fs.crashStates('posix-weak', { seed: 1, max: 1 })[0]!.mount()), visible, 'after syncfs');
    }),
    { numRuns: 60 },
  );
});
