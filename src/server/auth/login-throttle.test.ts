import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedClock } from '../clock.ts';
import { ADDRESS_FREE_FAILURES, delayFor, FORGET_AFTER_MS, LoginThrottle, MAX_DELAY_MS, MAX_KEYS, USER_FREE_FAILURES } from './login-throttle.ts';

/** Fails `n` attempts for `user` from `addr` one after another; returns each attempt's delay. */
function failMany(t: LoginThrottle, n: number, user: string, addr: string): number[] {
  return Array.from({ length: n }, () => {
    const a = t.begin(user, addr);
    a.finish(false);
    return a.delayMs;
  });
}

test('delayFor is free for the first failures, then doubles up to MAX_DELAY_MS', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => delayFor(n, 3)), [0, 0, 0, 500, 1000, 2000, 4000, 8000, 8000, MAX_DELAY_MS]);
});

test('LoginThrottle delays failed logins per user, whatever the address', () => {
  const t = new LoginThrottle(fixedClock(0));
  const delays = Array.from({ length: 6 }, (_, i) => {
    const a = t.begin('a@pbs', `10.0.0.${i}`);
    a.finish(false);
    return a.delayMs;
  });
  assert.deepEqual(delays, [0, 0, 0, 500, 1000, 2000]);
  assert.equal(t.begin('b@pbs', '10.0.0.99').delayMs, 0, 'another user from another address is not slowed');
});

test('LoginThrottle delays failed logins per address, across users', () => {
  const t = new LoginThrottle(fixedClock(0));
  const delays = Array.from({ length: ADDRESS_FREE_FAILURES + 2 }, (_, i) => {
    const a = t.begin(`u${i}@pbs`, '192.0.2.1');
    a.finish(false);
    return a.delayMs;
  });
  assert.deepEqual(delays.slice(ADDRESS_FREE_FAILURES - 1), [0, 500, 1000]);
});

test('LoginThrottle counts attempts in flight, so parallel guesses wait too; 30 guesses cost minutes', () => {
  const t = new LoginThrottle(fixedClock(0));
  const attempts = Array.from({ length: 30 }, () => t.begin('a@pbs', '192.0.2.1'));
  assert.deepEqual(attempts.slice(0, 5).map((a) => a.delayMs), [0, 0, 0, 500, 1000]);
  const total = attempts.reduce((sum, a) => sum + a.delayMs, 0);
  assert.ok(total >= 3 * 60_000, `30 parallel guesses wait ${total} ms in all`);
  for (const a of attempts) a.finish(false);
});

test('LoginThrottle: success clears the user count, not the address count; failures are forgotten in time', () => {
  const clock = fixedClock(0);
  const t = new LoginThrottle(clock);
  failMany(t, USER_FREE_FAILURES, 'a@pbs', 'x');
  t.begin('a@pbs', 'x').finish(true);
  const again = t.begin('a@pbs', 'y');
  assert.equal(again.delayMs, 0);
  again.finish(true);
  failMany(t, ADDRESS_FREE_FAILURES, 'b@pbs', 'z');
  t.begin('c@pbs', 'z').finish(true);
  const d = t.begin('d@pbs', 'z');
  assert.ok(d.delayMs > 0, 'the address stays slowed');
  d.finish(true);
  clock.advance(FORGET_AFTER_MS + 1);
  assert.equal(t.begin('b@pbs', 'z').delayMs, 0, 'forgotten after the window');
});

test('LoginThrottle keeps at most MAX_KEYS keys', () => {
  const t = new LoginThrottle(fixedClock(0));
  for (let i = 0; i < MAX_KEYS + 100; i++) t.begin(`u${i}@pbs`, `a${i}`).finish(false);
  assert.ok(t.size <= MAX_KEYS, `${t.size} keys`);
});
