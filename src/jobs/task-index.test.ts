import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../core/log.ts';
import { formatUpid } from '../core/upid.ts';
import { NodeFs } from '../storage/node-fs.ts';
import { TaskIndex } from './task-index.ts';

test('TaskIndex appends entries in order and skips a line torn by a crash', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-index-'));
  try {
    const index = new TaskIndex(new NodeFs(), join(dir, 'index'), memoryLogger());
    const upid = (taskId: number): string => formatUpid({ node: 'n', pid: 1, pstart: 2, taskId, startTime: 0x65000000, workerType: 'verify', workerId: 'store1', authId: 'root@pam' });
    await index.append({ upid: upid(0), endTime: 0x65000010, state: { kind: 'ok' } });
    await index.append({ upid: upid(1), endTime: 0x65000020, state: { kind: 'error', message: 'a: b c' } });
    appendFileSync(join(dir, 'index'), 'UPID:n:0000');
    assert.deepEqual(await index.read(), [
      { upid: upid(0), endTime: 0x65000010, state: { kind: 'ok' } },
      { upid: upid(1), endTime: 0x65000020, state: { kind: 'error', message: 'a: b c' } },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
