import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHoldfastError } from './errors.ts';
import { escapeWorkerId, formatUpid, parseUpid, type Upid } from './upid.ts';

test('parseUpid reads the upstream example UPID', () => {
  assert.deepEqual(parseUpid('UPID:elsa:00004F37:0039E469:00000000:5CA78B83:garbage_collection::root@pam:'), {
    node: 'elsa',
    pid: 0x4f37,
    pstart: 0x39e469,
    taskId: 0,
    startTime: 0x5ca78b83,
    workerType: 'garbage_collection',
    workerId: undefined,
    authId: 'root@pam',
  });
});

test('parseUpid unescapes the worker id and accepts a 9-digit pstart', () => {
  const upid = parseUpid(String.raw`UPID:pbs:000004D2:1FFFFFFFF:0000000A:5F000000:backup:store1\x3ahost-elsa:user@pbs!tok:`);
  assert.equal(upid.workerId, 'store1:host/elsa');
  assert.equal(upid.pstart, 0x1ffffffff);
  assert.equal(upid.authId, 'user@pbs!tok');
});

test('escapeWorkerId uses systemd unit-name escaping', () => {
  assert.equal(escapeWorkerId('store1:host/elsa'), String.raw`store1\x3ahost-elsa`);
  assert.equal(escapeWorkerId('.a-b c'), String.raw`\x2ea\x2db\x20c`);
  assert.equal(escapeWorkerId('ä'), String.raw`\xc3\xa4`);
});

test('formatUpid pads numbers to 8 uppercase hex digits', () => {
  const upid: Upid = {
    node: 'elsa',
    pid: 0x4f37,
    pstart: 0x39e469,
    taskId: 0,
    startTime: 0x5ca78b83,
    workerType: 'verify',
    workerId: 'store1:vm/100',
    authId: 'root@pam',
  };
  assert.equal(formatUpid(upid), String.raw`UPID:elsa:00004F37:0039E469:00000000:5CA78B83:verify:store1\x3avm-100:root@pam:`);
});

test('parseUpid and formatUpid reject malformed input, naming it', () => {
  for (const bad of ['', 'UPID:elsa:4F37:0039E469:00000000:5CA78B83:gc::root@pam:', 'UPID:-x:00004F37:0039E469:00000000:5CA78B83:gc::root@pam:', String.raw`UPID:e:00004F37:0039E469:00000000:5CA78B83:gc:a\x4:root@pam:`]) {
    assert.throws(() => parseUpid(bad), (e: unknown) => isHoldfastError(e, 'INVALID_ARGUMENT') && e.message.includes(`'${bad}'`));
  }
  const upid: Upid = { node: 'n', pid: 1, pstart: 1, taskId: 1, startTime: 1, workerType: 'a:b', workerId: undefined, authId: 'root@pam' };
  assert.throws(() => formatUpid(upid), (e: unknown) => isHoldfastError(e, 'INVALID_ARGUMENT'));
});

test('formatUpid then parseUpid round-trips (property)', () => {
  const upid = fc.record({
    node: fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/),
    pid: fc.integer({ min: 0, max: 0x7fffffff }),
    pstart: fc.integer({ min: 0, max: 0xfffffffff }),
    taskId: fc.integer({ min: 0, max: 0xffffffff }),
    startTime: fc.integer({ min: 0, max: 0xffffffff }),
    workerType: fc.stringMatching(/^[a-z_]{1,12}$/),
    workerId: fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
    authId: fc.constantFrom('root@pam', 'user@pbs!tok'),
  });
  fc.assert(
    fc.property(upid, (u) => {
      assert.deepEqual(parseUpid(formatUpid(u)), { ...u });
    }),
  );
});
