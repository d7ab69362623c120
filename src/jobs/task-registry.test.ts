import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail, isHoldfastError } from '../core/errors.ts';
import { memoryLogger } from '../core/log.ts';
import { formatUpid, parseUpid } from '../core/upid.ts';
import { NodeFs } from '../storage/node-fs.ts';
import { FsWrapper } from '../storage/fs-wrapper.ts';
import { formatTaskState } from './task-log.ts';
import { TaskRegistry } from './task-registry.ts';

const NOW = 1_700_000_000_000;

async function withRegistry(fn: (r: TaskRegistry, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-tasks-'));
  try {
    await fn(await TaskRegistry.open({ fs: new NodeFs(), dir, now: () => NOW, node: 'testnode', log: memoryLogger() }), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A promise with its resolver, so a test decides when a job may finish. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  return { promise: new Promise<void>((r) => (open = r)), open };
}

test('TaskRegistry.spawn gives a PBS UPID, lists the task as running, then with its final state', async () => {
  await withRegistry(async (r) => {
    const g = gate();
    const upid = await r.spawn({ type: 'garbage_collection', id: 'store1', authId: 'admin@pbs' }, async (t) => {
      t.info('phase 1');
      await g.promise;
      return { removed: 3 };
    });
    const u = parseUpid(upid);
    assert.deepEqual([u.node, u.pid, u.startTime, u.workerType, u.workerId, u.authId], ['testnode', process.pid, NOW / 1000, 'garbage_collection', 'store1', 'admin@pbs']);
    assert.deepEqual((await r.list({ running: true })).map((t) => t.upid), [upid]);
    assert.equal((await r.status(upid)).state, undefined);
    assert.match((await r.readLog(upid)).lines[0] ?? '', /: phase 1$/);
    g.open();
    const info = await r.wait(upid);
    assert.deepEqual(info.state, { kind: 'ok' });
    assert.deepEqual(info.result, { removed: 3 });
    assert.deepEqual(await r.list({ running: true }), []);
    assert.deepEqual((await r.list()).map((t) => [t.upid, t.state]), [[upid, { kind: 'ok' }]]);
    assert.match((await r.readLog(upid)).lines.at(-1) ?? '', /: TASK OK$/);
  });
});

test('TaskRegistry ends a task with WARNINGS: n after warnings and with ERROR: message and its code after a throw', async () => {
  await withRegistry(async (r) => {
    const warned = await r.spawn({ type: 'verify', authId: 'admin@pbs' }, async (t) => {
      t.warn('one');
      t.warn('two');
    });
    const failed = await r.spawn({ type: 'verify', authId: 'admin@pbs' }, async () => {
      throw fail('ATIME_UNSUPPORTED', 'the filesystem ignores atime');
    });
    assert.equal(formatTaskState((await r.wait(warned)).state!), 'WARNINGS: 2');
    const info = await r.wait(failed);
    assert.equal(formatTaskState(info.state!), 'ERROR: the filesystem ignores atime');
    assert.equal(info.errorCode, 'ATIME_UNSUPPORTED');
    await assert.rejects(
      r.run({ type: 'prune', authId: 'admin@pbs' }, async () => Promise.reject(fail('LOCKED', 'busy'))),
      (e) => isHoldfastError(e, 'LOCKED'),
    );
    assert.equal((await r.list({ typeFilter: 'prune' })).length, 1);
  });
});

test('TaskRegistry.stop aborts the signal and calls onStop; the job ends itself', async () => {
  await withRegistry(async (r) => {
    let stopped = 0;
    const upid = await r.spawn({ type: 'verify', authId: 'admin@pbs', onStop: () => void stopped++ }, async (t) => {
      await new Promise<void>((resolve) => t.signal.addEventListener('abort', () => resolve()));
      throw fail('ABORTED', 'verification was stopped');
    });
    assert.equal(await r.stop(upid), true);
    assert.equal(stopped, 1);
    assert.deepEqual((await r.wait(upid)).state, { kind: 'error', message: 'verification was stopped' });
    assert.equal(await r.stop(upid), false);
    const lines = (await r.readLog(upid)).lines;
    assert.ok(lines.some((l) => l.endsWith('received a stop request')));
  });
});

test('TaskRegistry.open recovers the logs a dead process left: their final state, else unknown', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-tasks-'));
  try {
    const base = { node: 'old', pid: 42, pstart: 7, startTime: 0x65000000, workerId: 'store1', authId: 'root@pam' };
    const finished = formatUpid({ ...base, taskId: 0, workerType: 'garbage_collection' });
    const died = formatUpid({ ...base, taskId: 1, workerType: 'verify' });
    mkdirSync(join(dir, '00'));
    writeFileSync(join(dir, '00', finished), '2023-09-12T00:00:00Z: start\n2023-09-12T00:00:01Z: TASK WARNINGS: 2\n');
    writeFileSync(join(dir, '00', died), '2023-09-12T00:00:00Z: start\n');
    const r = await TaskRegistry.open({ fs: new NodeFs(), dir, now: () => NOW, log: memoryLogger() });
    const states = new Map((await r.list()).map((t) => [t.upid, t.state]));
    assert.deepEqual(states.get(finished), { kind: 'warnings', count: 2 });
    assert.deepEqual(states.get(died), { kind: 'unknown' });
    const again = await TaskRegistry.open({ fs: new NodeFs(), dir, now: () => NOW, log: memoryLogger() });
    assert.equal((await again.list()).length, 2, 'recovered once, not again on the next start');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('TaskRegistry refuses a UPID that is malformed or would leave the task dir', async () => {
  await withRegistry(async (r) => {
    await assert.rejects(r.readLog('UPID:n:00000001:00000001:00000000:65000000:x:../../etc/passwd:u@pbs:'), (e) => isHoldfastError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(r.status('nonsense'), (e) => isHoldfastError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(r.status(formatUpid({ node: 'n', pid: 1, pstart: 1, taskId: 9, startTime: 1, workerType: 'x', workerId: undefined, authId: 'u@pbs' })), (e) => isHoldfastError(e, 'NOT_FOUND'));
  });
});

test('TaskRegistry.close stops running tasks, waits for them and refuses new ones', async () => {
  await withRegistry(async (r) => {
    const upid = await r.spawn({ type: 'verify', authId: 'admin@pbs' }, async (t) => {
      await new Promise<void>((resolve) => t.signal.addEventListener('abort', () => resolve()));
    });
    await r.close();
    assert.equal(r.isRunning(upid), false);
    await assert.rejects(r.begin({ type: 'verify', authId: 'admin@pbs' }), (e) => isHoldfastError(e, 'ABORTED'));
  });
});

test('TaskRegistry.list shows a task once even when it ends while the index is being read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-tasks-'));
  let hold: Promise<void> | undefined;
  let reading: () => void = () => undefined;
  class HeldIndexReads extends FsWrapper {
    override async readFile(path: string): Promise<Uint8Array> {
      const bytes = await this.inner.readFile(path).catch(() => new Uint8Array(0));
      if (hold && path.endsWith('/index')) {
        reading();
        await hold;
        return this.inner.readFile(path); // what the disk holds by now
      }
      return bytes;
    }
  }
  try {
    const r = await TaskRegistry.open({ fs: new HeldIndexReads(new NodeFs()), dir, now: () => NOW, node: 'testnode', log: memoryLogger() });
    const g = gate();
    const upid = await r.spawn({ type: 'verify', authId: 'admin@pbs' }, () => g.promise);
    const release = gate();
    hold = release.promise;
    const inRead = new Promise<void>((resolve) => (reading = resolve));
    const listing = r.list();
    await inRead; // list() took its running snapshot and is now reading the index
    hold = undefined;
    g.open();
    await r.wait(upid); // the task ended and is in the index now
    release.open();
    assert.deepEqual((await listing).map((t) => t.upid), [upid]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
