import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryLogger } from '../core/log.ts';
import { NodeFs } from '../storage/node-fs.ts';
import { makeTempDir } from '../../test/helpers/tmp.ts';
import type { SetTimer } from './scheduler.ts';
import { UsageSampler, type StoreUsage } from './usage-sampler.ts';

/** A timer that only records what was armed; the test fires it. */
function manualTimer(): SetTimer & { armed: { fn: () => void; ms: number }[] } {
  const armed: { fn: () => void; ms: number }[] = [];
  const timer = ((fn: () => void, ms: number) => {
    armed.push({ fn, ms });
    return () => undefined;
  }) as SetTimer & { armed: typeof armed };
  timer.armed = armed;
  return timer;
}

test('UsageSampler arms its timer for the next whole interval, samples each store when it fires, and keeps the series on disk', async () => {
  const dir = makeTempDir();
  try {
    let now = 1_800_000_015_000;
    let used = 1000;
    const figures = async (): Promise<StoreUsage[]> => [{ name: 'store1', sample: { used, dedup: 1.5 } }];
    const timer = manualTimer();
    const o = { fs: new NodeFs(), dir: join(dir, 'rrd'), figures, log: memoryLogger(), now: () => now, setTimer: timer };
    const sampler = new UsageSampler(o);
    sampler.start();
    assert.equal(timer.armed[0]?.ms, 45_000, 'aims at the next minute');
    now += 45_000;
    await sampler.sampleNow();
    used = 3000;
    now += 60_000;
    await sampler.sampleNow();
    await sampler.stop();
    assert.deepEqual((await sampler.series('store1')).points('hour').map((p) => p.used), [1000, 3000]);
    assert.ok(existsSync(join(dir, 'rrd', 'store1.json')));

    const reopened = new UsageSampler(o);
    assert.deepEqual((await reopened.series('store1')).points('hour').map((p) => p.used), [1000, 3000], 'read back after a restart');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('UsageSampler starts an unreadable series anew with a warning, and skips a round whose figures fail', async () => {
  const dir = makeTempDir();
  try {
    const log = memoryLogger();
    const fs = new NodeFs();
    await fs.mkdir(join(dir, 'rrd'), { recursive: true });
    writeFileSync(join(dir, 'rrd', 'store1.json'), '{broken');
    let fail = true;
    const figures = async (): Promise<StoreUsage[]> => {
      if (fail) throw new Error('statfs failed');
      return [{ name: 'store1', sample: { used: 7 } }];
    };
    const sampler = new UsageSampler({ fs, dir: join(dir, 'rrd'), figures, log, now: () => 1_800_000_000_000 });
    await sampler.sampleNow();
    assert.match(log.lines.join('\n'), /cannot read the datastores: statfs failed/);
    fail = false;
    await sampler.sampleNow();
    assert.match(log.lines.join('\n'), /usage series of store1 unreadable/);
    assert.deepEqual((await sampler.series('store1')).points('hour').map((p) => p.used), [7]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
