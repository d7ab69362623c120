/**
 * Login throttling: failed password logins slow down further attempts for the same user and from
 * the same client address, so guessing passwords costs time, while other users and addresses are
 * not slowed at all (the wait is a timer, never a busy loop or a lock).
 *
 * The rule (docs/protocol.md, "Login throttling"): an attempt waits before its password is
 * checked, the longer of `delayFor(n, USER_FREE_FAILURES)` for its user's failure count and
 * `delayFor(n, ADDRESS_FREE_FAILURES)` for its address's (more are free there: many users may share
 * one NAT address). Attempts still in flight count as failures, so parallel guesses queue up too.
 * Past the free failures the delay doubles from BASE_DELAY_MS up to MAX_DELAY_MS.
 * A key's count is forgotten FORGET_AFTER_MS after its last failure; a successful login clears
 * its user's count (not the address's, or one valid account would unlock guessing for others).
 *
 * Memory is bounded: at most MAX_KEYS keys are kept; the least recently failed go first.
 */
import type { Clock } from '../clock.ts';

export const USER_FREE_FAILURES = 3;
export const ADDRESS_FREE_FAILURES = 10;
export const BASE_DELAY_MS = 500;
export const MAX_DELAY_MS = 8_000;
export const FORGET_AFTER_MS = 15 * 60_000;
export const MAX_KEYS = 10_000;

/** The wait before an attempt that follows `failures` failures (or attempts in flight). */
export function delayFor(failures: number, free: number): number {
  if (failures < free) return 0;
  return Math.min(BASE_DELAY_MS * 2 ** Math.min(failures - free, 30), MAX_DELAY_MS);
}

interface KeyState {
  failures: number;
  inFlight: number;
  lastFailure: number;
}

/** One attempt under way: `finish` once the password was checked. */
export interface LoginAttempt {
  /** How long to wait before checking the password. */
  readonly delayMs: number;
  finish(ok: boolean): void;
}

export class LoginThrottle {
  readonly #clock: Clock;
  readonly #keys = new Map<string, KeyState>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Starts an attempt for `user` from `address` and says how long it must wait. */
  begin(user: string, address: string): LoginAttempt {
    const userKey = `user:${user}`;
    const keys = [userKey, `addr:${address}`];
    const states = keys.map((k) => this.#state(k));
    const [u, a] = states as [KeyState, KeyState];
    const delayMs = Math.max(delayFor(u.failures + u.inFlight, USER_FREE_FAILURES), delayFor(a.failures + a.inFlight, ADDRESS_FREE_FAILURES));
    for (const s of states) s.inFlight++;
    let finished = false;
    return {
      delayMs,
      finish: (ok) => {
        if (finished) return;
        finished = true;
        keys.forEach((k, i) => this.#finish(k, states[i]!, ok, k === userKey));
      },
    };
  }

  /** Keys currently tracked (for tests of the memory bound). */
  get size(): number {
    return this.#keys.size;
  }

  #state(key: string): KeyState {
    const now = this.#clock.now();
    let s = this.#keys.get(key);
    if (s && s.inFlight === 0 && now - s.lastFailure > FORGET_AFTER_MS) s = undefined;
    if (!s) {
      s = { failures: 0, inFlight: 0, lastFailure: now };
      this.#keys.set(key, s);
      this.#evict();
    }
    return s;
  }

  #finish(key: string, s: KeyState, ok: boolean, isUser: boolean): void {
    s.inFlight--;
    if (ok && isUser) s.failures = 0;
    else if (!ok) {
      s.failures++;
      s.lastFailure = this.#clock.now();
      // re-insert: Map order is then "least recently failed first", which eviction relies on
      this.#keys.delete(key);
      this.#keys.set(key, s);
    }
    if (s.failures === 0 && s.inFlight === 0) this.#keys.delete(key);
  }

  #evict(): void {
    for (const [key, s] of this.#keys) {
      if (this.#keys.size <= MAX_KEYS) return;
      if (s.inFlight === 0) this.#keys.delete(key);
    }
  }
}
