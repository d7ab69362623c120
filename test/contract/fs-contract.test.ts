/**
 * Runs the Fs port contract against every adapter: NodeFs in a temp directory, the power-loss
 * simulator, and the fault wrapper with an empty plan (a wrapper must be transparent).
 */
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeFs } from '../../src/storage/node-fs.ts';
import { FaultFs } from '../../src/storage/testing/fault-fs.ts';
import { SimFs } from '../../src/storage/testing/sim-fs.ts';
import { fsContract, type FsUnderTest } from './fs-contract.ts';

/** A clock that advances one second per reading, so every simulated call happens later. */
function tickingClock(): () => number {
  let t = Date.UTC(2025, 0, 1);
  return () => (t += 1000);
}

async function simUnderTest(): Promise<FsUnderTest> {
  const fs = new SimFs({ now: tickingClock() });
  await fs.mkdir('/work');
  return { fs, root: '/work', cleanup: async () => undefined };
}

fsContract('NodeFs', async () => {
  const root = await mkdtemp(join(tmpdir(), 'holdfast-contract-'));
  return {
    fs: new NodeFs(),
    root,
    age: async (path, ms) => {
      const past = (Date.now() - ms) / 1000;
      await utimes(path, past, past);
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

fsContract('SimFs', simUnderTest);

fsContract('FaultFs over SimFs, no faults planned', async () => {
  const inner = await simUnderTest();
  return { ...inner, fs: new FaultFs(inner.fs, {}) };
});
