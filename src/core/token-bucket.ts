/**
 * A token bucket on bytes, for the rate limits of sync jobs (`rate-in`/`burst-in` on the bytes a
 * pull reads, `rate-out`/`burst-out` on the bytes a push writes) and of the client's backups and
 * restores (`--rate`/`--burst`), as PBS limits them.
 *
 * The bucket holds up to `burst` tokens (default: one second's worth of `rate`) and refills at
 * `rate` tokens per second. `take(n)` spends n tokens; when that leaves the bucket in debt it
 * waits until the debt is paid back. A transfer larger than the burst is therefore allowed, then
 * paid for, so the long-run rate never exceeds `rate` (plus one burst). Callers share one bucket:
 * every worker of a job draws from it, so the limit holds for the job as a whole.
 *
 * Time and sleeping are injected, so tests move a fake clock instead of waiting.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface TokenBucketOptions {
  /** tokens (bytes) per second, ≥ 1 */
  readonly rate: number;
  /** the most tokens the bucket holds (default `rate`) */
  readonly burst?: number;
  /** ms since the epoch (default Date.now) */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #tokens: number;
  #at: number;
  /** bytes taken so far, for the job's report */
  taken = 0;

  constructor(o: TokenBucketOptions) {
    this.#rate = o.rate;
    this.#burst = Math.max(1, o.burst ?? o.rate);
    this.#now = o.now ?? Date.now;
    this.#sleep = o.sleep ?? ((ms) => delay(ms));
    this.#tokens = this.#burst;
    this.#at = this.#now();
  }

  /** Spends `n` tokens, waiting as long as the bucket is in debt. */
  async take(n: number): Promise<void> {
    this.#refill();
    this.#tokens -= n;
    this.taken += n;
    if (this.#tokens >= 0) return;
    await this.#sleep(Math.ceil((-this.#tokens / this.#rate) * 1000));
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#rate);
    this.#at = now;
  }
}

/** A bucket when a rate is set, else none (no limit). */
export function bucketFor(rate: number | undefined, burst: number | undefined): TokenBucket | undefined {
  return rate === undefined ? undefined : new TokenBucket({ rate, ...(burst === undefined ? {} : { burst }) });
}
