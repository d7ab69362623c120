import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '../core/log.ts';
import { parseRfc3339 } from '../core/time.ts';
import { Scheduler, type ScheduledJob, type SetTimer } from './scheduler.ts';

const at = (text: string): number => parseRfc3339(text) * 1000;

/** A fake clock and timer: the test moves time and fires ticks itself. */
function harness(jobs: () => ScheduledJob[], start: string) {
  let now = at(start);
  const armed: number[] = [];
  let cancelled = 0;
  const setTimer: SetTimer = (_fn, ms) => {
    armed.push(ms);
    return () => void cancelled++;
  };
  const log = memoryLogger();
  const scheduler = new Scheduler({ jobs: async () => jobs(), log, now: () => now, setTimer, recheckMs: 3_600_000 });
  return { scheduler, armed, log, cancelled: () => cancelled, set: (text: string) => (now = at(text)) };
}

function counter(key: string, schedule: string, runs: string[], wait?: Promise<void>): ScheduledJob {
  return {
    key,
    schedule,
    run: async () => {
      runs.push(key);
      await wait;
    },
  };
}

test('Scheduler arms its timer for the next event and starts a job once when its event passed', async () => {
  const runs: string[] = [];
  const h = harness(() => [counter('gc:a', '*:0/5 UTC', runs)], '2024-01-01T00:01:00Z');
  await h.scheduler.start();
  assert.deepEqual(h.armed, [240_000]);
  h.set('2024-01-01T00:05:00Z');
  await h.scheduler.tick();
  await h.scheduler.idle();
  assert.deepEqual(runs, ['gc:a']);
  assert.equal(h.armed.at(-1), 300_000);
  await h.scheduler.tick();
  assert.deepEqual(runs, ['gc:a'], 'no second run for the same event');
  h.set('2024-01-01T00:20:30Z');
  await h.scheduler.tick();
  await h.scheduler.idle();
  assert.deepEqual(runs, ['gc:a', 'gc:a'], 'missed events run once, not once each');
  await h.scheduler.stop();
  assert.ok(h.cancelled() >= 1);
});

test('Scheduler skips a job whose previous run is still going, and reports an invalid schedule once', async () => {
  const runs: string[] = [];
  let release!: () => void;
  const blocked = new Promise<void>((r) => (release = r));
  const h = harness(() => [counter('prune:a', 'hourly UTC', runs, blocked), counter('gc:b', 'every tuesday', runs)], '2024-01-01T00:30:00Z');
  await h.scheduler.start();
  h.set('2024-01-01T01:00:00Z');
  await h.scheduler.tick();
  h.set('2024-01-01T02:00:00Z');
  await h.scheduler.tick();
  assert.deepEqual(runs, ['prune:a']);
  assert.ok(h.log.lines.some((l) => l.includes('prune:a is still running')));
  assert.equal(h.log.lines.filter((l) => l.includes('gc:b')).length, 1);
  release();
  await h.scheduler.stop();
});

test('Scheduler re-reads the job list on every tick, so a schedule added later runs', async () => {
  const runs: string[] = [];
  let jobs: ScheduledJob[] = [];
  const h = harness(() => jobs, '2024-01-01T00:00:30Z');
  await h.scheduler.start();
  assert.deepEqual(h.armed, [3_600_000], 'nothing scheduled: sleep until the recheck');
  jobs = [counter('gc:new', 'minutely UTC', runs)];
  h.set('2024-01-01T00:01:00Z');
  await h.scheduler.tick();
  await h.scheduler.idle();
  assert.deepEqual(runs, ['gc:new']);
  assert.deepEqual([...(await h.scheduler.nextRuns())], [['gc:new', parseRfc3339('2024-01-01T00:02:00Z')]]);
  await h.scheduler.stop();
});
