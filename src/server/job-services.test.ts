import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { memoryLogger } from '../core/log.ts';
import { parseRfc3339 } from '../core/time.ts';
import { formatTaskState } from '../jobs/task-log.ts';
import { FlockLocker } from '../storage/locker.ts';
import { NodeFs } from '../storage/node-fs.ts';
import { fixedClock } from './clock.ts';
import { DatastoreRegistry } from './datastores/datastore-registry.ts';
import { registered, type JobKind } from '../jobs/job-kinds.ts';
import { JobServices, SCHEDULER_AUTH_ID } from './job-services.ts';
import { VERIFY_WORKER_TYPE } from '../jobs/verify-job.ts';
import { makeTempDir } from '../../test/helpers/tmp.ts';

const at = (text: string): number => parseRfc3339(text) * 1000;

test('JobServices runs gc-schedule, prune-schedule and verify-schedule of datastore.cfg as root@pam tasks when the scheduler ticks', async () => {
  const dir = makeTempDir('holdfast-jobs-');
  const fs = new NodeFs();
  const log = memoryLogger();
  const registry = new DatastoreRegistry({ fs, configDir: join(dir, 'config'), locker: new FlockLocker(), log });
  const clock = fixedClock(at('2024-01-01T00:30:00Z'));
  const armed: number[] = [];
  let jobs: JobServices | undefined;
  try {
    await registry.admin.create({ name: 'store1', path: join(dir, 'store1'), tuning: 'gc-atime-safety-check=false' });
    await registry.admin.update('store1', { 'gc-schedule': 'hourly UTC', 'prune-schedule': '01:00 UTC', 'verify-schedule': '01:00 UTC', 'keep-last': '2' });
    jobs = await JobServices.start({ configDir: join(dir, 'config'), fs, registry, log, clock, setTimer: (_fn, ms) => (armed.push(ms), () => undefined) });
    assert.deepEqual(armed, [60_000], 'the next event is 30 min away: sleep until the one-minute recheck');
    assert.deepEqual((await jobs.scheduledJobs()).map((j) => j.key).sort(), ['gc:store1', 'prune:store1', 'verify:store1']);
    clock.set(at('2024-01-01T01:00:00Z'));
    await jobs.scheduler.tick();
    await jobs.scheduler.idle();
    const tasks = await jobs.tasks.list();
    assert.deepEqual(tasks.map((t) => [t.task.workerType, t.task.workerId, t.task.authId]).sort(), [
      ['garbage_collection', 'store1', SCHEDULER_AUTH_ID],
      ['prunejob', 'store1', SCHEDULER_AUTH_ID],
      [VERIFY_WORKER_TYPE, 'store1', SCHEDULER_AUTH_ID],
    ]);
    for (const t of tasks) assert.equal(formatTaskState(t.state!), 'OK', (await jobs.tasks.readLog(t.upid)).lines.join('\n'));
    const pruneLog = (await jobs.tasks.readLog(tasks.find((t) => t.task.workerType === 'prunejob')!.upid)).lines.join('\n');
    assert.match(pruneLog, /keep-last 2/);
    const verifyLog = (await jobs.tasks.readLog(tasks.find((t) => t.task.workerType === VERIFY_WORKER_TYPE)!.upid)).lines.join('\n');
    assert.match(verifyLog, /TASK OK/);
  } finally {
    await jobs?.close();
    await registry.closeAll();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('JobServices starts any registered job kind as a task and schedules its instances (no per-kind method)', async () => {
  const dir = makeTempDir('holdfast-jobs-');
  const fs = new NodeFs();
  const log = memoryLogger();
  const registry = new DatastoreRegistry({ fs, configDir: join(dir, 'config'), locker: new FlockLocker(), log });
  const clock = fixedClock(at('2024-01-01T00:30:00Z'));
  const ran: string[] = [];
  const echo: JobKind<{ word: string }, string> = {
    workerType: 'echo',
    prepare: async (_host, p) => ({ id: p.word, run: async (task) => (task.info(`echo ${p.word}`), ran.push(p.word), p.word) }),
    scheduled: async () => [{ key: 'echo:tick', schedule: 'hourly UTC', params: { word: 'tick' } }],
  };
  let jobs: JobServices | undefined;
  try {
    jobs = await JobServices.start({ configDir: join(dir, 'config'), fs, registry, log, clock, kinds: [registered(echo)], setTimer: () => () => undefined });
    assert.equal(await jobs.run(echo, { word: 'now' }, 'admin@pbs'), 'now');
    assert.deepEqual((await jobs.scheduledJobs()).map((j) => j.key), ['echo:tick']);
    clock.set(at('2024-01-01T01:00:00Z'));
    await jobs.scheduler.tick();
    await jobs.scheduler.idle();
    assert.deepEqual(ran, ['now', 'tick']);
    const tasks = await jobs.tasks.list();
    assert.deepEqual(tasks.map((t) => [t.task.workerType, t.task.workerId, t.task.authId]).sort(), [
      ['echo', 'now', 'admin@pbs'],
      ['echo', 'tick', SCHEDULER_AUTH_ID],
    ]);
  } finally {
    await jobs?.close();
    await registry.closeAll();
    rmSync(dir, { recursive: true, force: true });
  }
});
