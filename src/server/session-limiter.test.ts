import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../core/errors.ts';
import { SessionLimiter } from './session-limiter.ts';

test('SessionLimiter.take refuses a user past the limit with TOO_MANY_SESSIONS, counting tokens as their user', () => {
  const l = new SessionLimiter(2);
  const a = l.take('alice@pbs');
  l.take('alice@pbs!t1');
  assert.throws(() => l.take('alice@pbs!t2'), (e) => isHoldfastError(e, 'TOO_MANY_SESSIONS') && e.httpStatus === 429);
  l.take('bob@pbs'); // other users are not affected
  a();
  a(); // idempotent: frees one place only
  assert.equal(l.openFor('alice@pbs'), 1);
  l.take('alice@pbs');
  assert.throws(() => l.take('alice@pbs'), (e) => isHoldfastError(e, 'TOO_MANY_SESSIONS'));
});
