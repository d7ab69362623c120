/**
 * Samples each datastore's usage at a fixed interval into its round-robin series
 * (usage-series.ts) and keeps the series on disk: `<dir>/<store>.json`, one small file per
 * datastore (a few KiB whatever the uptime), rewritten atomically after each sample.
 *
 * The files are statistics, not backups: they are written without fsync (a power loss costs at
 * most the samples since the kernel last flushed) through the one atomic-write routine, so a
 * reader never sees half a file. A store whose figures cannot be read is skipped for that round.
 *
 * Time and timers are injected like the scheduler's: tests move a fake clock and call
 * `sampleNow()`; they never wait. The timer aims at the next multiple of the interval.
 */
import { join } from 'node:path';
import { toHoldfastError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { parseDatastoreName } from '../core/names.ts';
import { atomicWrite } from '../storage/atomic-write.ts';
import type { Fs } from '../storage/fs-port.ts';
import { readTextIfExists } from '../storage/read-text.ts';
import type { SetTimer } from './scheduler.ts';
import { UsageSeries, type UsageSample } from './usage-series.ts';

export const DEFAULT_SAMPLE_INTERVAL_MS = 60_000;

export interface StoreUsage {
  readonly name: string;
  readonly sample: UsageSample;
}

export interface UsageSamplerOptions {
  readonly fs: Fs;
  /** where the series files live (the config dir's `rrd/`) */
  readonly dir: string;
  /** the current figures of every datastore that is to be sampled */
  readonly figures: () => Promise<readonly StoreUsage[]>;
  readonly log: Logger;
  readonly now?: () => number;
  readonly setTimer?: SetTimer;
  readonly intervalMs?: number;
}

const realTimer: SetTimer = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

export class UsageSampler {
  readonly #o: UsageSamplerOptions;
  readonly #now: () => number;
  readonly #series = new Map<string, UsageSeries>();
  #cancel: (() => void) | undefined;
  #sampling: Promise<void> | undefined;
  #stopped = true;

  constructor(o: UsageSamplerOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  start(): void {
    this.#stopped = false;
    this.#arm();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = undefined;
    await this.#sampling;
  }

  /** Takes one sample of every store now and writes their series (what the timer runs). */
  async sampleNow(): Promise<void> {
    this.#sampling ??= this.#sample().finally(() => (this.#sampling = undefined));
    return this.#sampling;
  }

  /** The series of `store` as last written (empty when it has none yet). */
  async series(store: string): Promise<UsageSeries> {
    const known = this.#series.get(store);
    if (known !== undefined) return known;
    const text = await readTextIfExists(this.#o.fs, this.#path(store));
    let series = new UsageSeries();
    if (text !== undefined) {
      try {
        series = UsageSeries.fromJson(text);
      } catch (e) {
        this.#o.log.warn(`usage series of ${store} unreadable, starting anew: ${toHoldfastError(e).message}`);
      }
    }
    this.#series.set(store, series);
    return series;
  }

  #path(store: string): string {
    return join(this.#o.dir, `${parseDatastoreName(store)}.json`);
  }

  async #sample(): Promise<void> {
    let stores: readonly StoreUsage[] = [];
    try {
      stores = await this.#o.figures();
    } catch (e) {
      this.#o.log.warn(`usage sampler: cannot read the datastores: ${toHoldfastError(e).message}`);
    }
    const nowSecs = Math.floor(this.#now() / 1000);
    for (const { name, sample } of stores) {
      try {
        await this.#o.fs.mkdir(this.#o.dir, { recursive: true });
        const series = await this.series(name);
        series.add(nowSecs, sample);
        await atomicWrite(this.#o.fs, this.#path(name), Buffer.from(series.toJson()), { durable: false });
      } catch (e) {
        this.#o.log.warn(`usage sampler: ${name}: ${toHoldfastError(e).message}`);
      }
    }
  }

  #arm(): void {
    if (this.#stopped) return;
    const interval = this.#o.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
    const wait = interval - (this.#now() % interval);
    this.#cancel = (this.#o.setTimer ?? realTimer)(() => {
      // #sample logs every failure itself; the catch only keeps a surprise from being unhandled
      void this.sampleNow()
        .catch((e: unknown) => this.#o.log.warn(`usage sampler: ${toHoldfastError(e).message}`))
        .finally(() => this.#arm());
    }, wait);
  }
}
