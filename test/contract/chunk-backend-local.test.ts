/**
 * Runs the ChunkBackend contract against LocalChunkBackend: on the real filesystem in a temp
 * directory, and on the power-loss simulator, where the durability tests can crash it.
 *
 * Making 65536 prefix dirs takes seconds, so the tests share one initialised store per adapter:
 * on NodeFs one directory, emptied after each test; on SimFs each test mounts a fork of an image
 * taken right after init (a fork is cheap).
 */
import { after } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalChunkBackend } from '../../src/chunks/local-chunk-backend.ts';
import type { PutOptions } from '../../src/chunks/chunk-backend.ts';
import { NodeFs } from '../../src/storage/node-fs.ts';
import { SimFs, type CrashPoint } from '../../src/storage/testing/sim-fs.ts';
import { chunkBackendContract } from './chunk-backend.contract.ts';

const BASE = '/srv/store';

/** A clock that advances one second per reading, so every simulated call happens later. */
function tickingClock(): () => number {
  let t = Date.UTC(2025, 0, 1);
  return () => (t += 1000);
}

/** Remembers the digests a test stored, so emptying the shared store needs no full listing. */
class RecordingBackend extends LocalChunkBackend {
  readonly digests = new Set<string>();

  override async put(digest: string, bytes: Uint8Array, options: PutOptions): Promise<void> {
    await super.put(digest, bytes, options);
    this.digests.add(digest);
  }

  async empty(): Promise<void> {
    for (const d of this.digests) {
      await this.remove(d);
      for (const k of await this.quarantinedCopies(d)) await this.remove(k);
    }
    this.digests.clear();
  }
}

async function nodeStore(): Promise<{ backend: RecordingBackend; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'holdfast-backend-'));
  return { backend: new RecordingBackend({ fs: new NodeFs(), base: root }), cleanup: () => rm(root, { recursive: true, force: true }) };
}

let sharedNode: ReturnType<typeof nodeStore> | undefined;
after(async () => (await sharedNode)?.cleanup());

chunkBackendContract('LocalChunkBackend on NodeFs', async ({ fresh }) => {
  if (fresh) return nodeStore();
  sharedNode ??= nodeStore().then(async (t) => (await t.backend.init(), t));
  const { backend } = await sharedNode;
  return { backend, ready: true, cleanup: () => backend.empty() };
});

const simStatfs = async (): Promise<{ blocks: number; bfree: number; bavail: number; bsize: number }> => ({ blocks: 100, bfree: 60, bavail: 50, bsize: 4096 });

async function simImage(init: boolean): Promise<CrashPoint> {
  const fs = new SimFs();
  await fs.mkdir(BASE, { recursive: true });
  if (init) await new LocalChunkBackend({ fs, base: BASE }).init();
  await fs.syncfs(BASE);
  return fs.snapshot();
}

let initialised: Promise<CrashPoint> | undefined;

chunkBackendContract('LocalChunkBackend on SimFs', async ({ fresh }) => {
  const now = tickingClock();
  const image = fresh ? await simImage(false) : await (initialised ??= simImage(true));
  const fs = image.crashStates('posix-weak', { seed: 1, max: 1 })[0]!.mount({ now });
  return {
    backend: new LocalChunkBackend({ fs, base: BASE, statfs: simStatfs }),
    ready: !fresh,
    // the worst case a power loss allows: only what was made durable survives
    crash: async () => new LocalChunkBackend({ fs: fs.snapshot().crashStates('posix-weak', { seed: 1, max: 1 })[0]!.mount({ now }), base: BASE, statfs: simStatfs }),
    cleanup: async () => undefined,
  };
});
