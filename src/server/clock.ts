/**
 * The server's notion of time, injected so ticket lifetimes and expiry can be tested without
 * waiting. Milliseconds since the epoch, like `Date.now()`.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that stands still until moved; for tests. */
export function fixedClock(startMs: number): Clock & { set(ms: number): void; advance(ms: number): void } {
  let t = startMs;
  return {
    now: () => t,
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

export function epochSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
