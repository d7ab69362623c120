import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHoldfastError } from '../core/errors.ts';
import { NodeFs } from '../storage/node-fs.ts';
import { formatTaskState, parseTaskState, stateOfLastLine, TaskLog, type TaskState } from './task-log.ts';

test('formatTaskState and parseTaskState round-trip OK, WARNINGS: n and ERROR: message', () => {
  const states: TaskState[] = [{ kind: 'ok' }, { kind: 'warnings', count: 3 }, { kind: 'error', message: 'chunk store is locked: try later' }, { kind: 'unknown' }];
  for (const s of states) assert.deepEqual(parseTaskState(formatTaskState(s)), s);
  assert.equal(formatTaskState({ kind: 'warnings', count: 2 }), 'WARNINGS: 2');
  assert.equal(formatTaskState({ kind: 'error', message: 'boom' }), 'ERROR: boom');
});

test('stateOfLastLine reads the final line only', () => {
  assert.deepEqual(stateOfLastLine('2024-01-01T00:00:00Z: TASK OK'), { kind: 'ok' });
  assert.deepEqual(stateOfLastLine('2024-01-01T00:00:00Z: TASK ERROR: a: b'), { kind: 'error', message: 'a: b' });
  assert.equal(stateOfLastLine('2024-01-01T00:00:00Z: removed 3 chunks'), undefined);
});

test('TaskLog writes timestamped lines in order, counts warnings and ends with the TASK line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-tasklog-'));
  try {
    const path = join(dir, 'log');
    const log = await TaskLog.create(new NodeFs(), path, () => 1_700_000_000_000);
    log.info('first');
    log.warn('careful\nsecond line');
    log.info('last');
    assert.equal(log.warnings, 1);
    await log.finish({ kind: 'warnings', count: log.warnings });
    log.info('dropped after finish');
    await log.flush();
    assert.deepEqual(readFileSync(path, 'utf8').split('\n'), [
      '2023-11-14T22:13:20Z: first',
      '2023-11-14T22:13:20Z: WARN: careful',
      '2023-11-14T22:13:20Z: second line',
      '2023-11-14T22:13:20Z: last',
      '2023-11-14T22:13:20Z: TASK WARNINGS: 1',
      '',
    ]);
    await assert.rejects(TaskLog.create(new NodeFs(), path, Date.now), (e) => isHoldfastError(e, 'ALREADY_EXISTS'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
