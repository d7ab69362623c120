/**
 * A datastore's usage over time as a small round-robin series, like PBS's RRD: a few
 * resolutions, each a fixed number of slots of one step, so the series never grows. A sample
 * goes into the current slot of every resolution, averaged with the samples already there; slots
 * older than the resolution's span are dropped whenever a sample arrives.
 *
 * Pure data: no clock, no I/O. The sampler (usage-sampler.ts) adds samples and persists
 * `toJson`; `fromJson` accepts only well-formed input and drops what it does not recognise, so a
 * damaged file costs history, never the server.
 */
import { fail } from '../core/errors.ts';

export const TIMEFRAMES = ['hour', 'day', 'month'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];

/** Step (seconds) and slot count of each resolution. */
export const RESOLUTIONS: Readonly<Record<Timeframe, { readonly step: number; readonly slots: number }>> = {
  hour: { step: 60, slots: 60 },
  day: { step: 15 * 60, slots: 96 },
  month: { step: 6 * 3600, slots: 124 },
};

/** What is sampled; a value is absent when unknown (no GC yet, a filesystem without statfs). */
export const USAGE_FIELDS = ['used', 'chunks', 'dedup', 'fs-used', 'fs-total'] as const;
export type UsageField = (typeof USAGE_FIELDS)[number];
export type UsageSample = Partial<Record<UsageField, number>>;

interface Slot {
  /** slot start, epoch seconds (a multiple of the step) */
  readonly time: number;
  readonly count: number;
  readonly values: UsageSample;
}

/** One point of a resolution as the API reports it: the slot's start and its averages. */
export type UsagePoint = { readonly time: number } & UsageSample;

function average(slot: Slot | undefined, time: number, s: UsageSample): Slot {
  if (slot === undefined) return { time, count: 1, values: { ...s } };
  const values: UsageSample = { ...slot.values };
  for (const f of USAGE_FIELDS) {
    const v = s[f];
    if (v === undefined) continue;
    const old = slot.values[f];
    values[f] = old === undefined ? v : old + (v - old) / (slot.count + 1);
  }
  return { time, count: slot.count + 1, values };
}

function cleanSample(raw: unknown): UsageSample {
  const out: UsageSample = {};
  if (typeof raw !== 'object' || raw === null) return out;
  for (const f of USAGE_FIELDS) {
    const v = (raw as Record<string, unknown>)[f];
    if (typeof v === 'number' && Number.isFinite(v)) out[f] = v;
  }
  return out;
}

export class UsageSeries {
  readonly #slots = new Map<Timeframe, Slot[]>(TIMEFRAMES.map((t) => [t, []]));

  /** Adds a sample taken at `nowSecs` (epoch seconds) to every resolution. */
  add(nowSecs: number, sample: UsageSample): void {
    for (const tf of TIMEFRAMES) {
      const { step, slots } = RESOLUTIONS[tf];
      const time = Math.floor(nowSecs / step) * step;
      const list = (this.#slots.get(tf) ?? []).filter((s) => s.time > time - step * slots && s.time <= time);
      const last = list.at(-1);
      if (last?.time === time) list[list.length - 1] = average(last, time, sample);
      else list.push(average(undefined, time, sample));
      this.#slots.set(tf, list);
    }
  }

  /** The points of one resolution, oldest first (only slots that hold a sample). */
  points(tf: Timeframe): UsagePoint[] {
    return (this.#slots.get(tf) ?? []).map((s) => ({ time: s.time, ...s.values }));
  }

  toJson(): string {
    return JSON.stringify({ version: 1, series: Object.fromEntries(TIMEFRAMES.map((tf) => [tf, this.#slots.get(tf)])) });
  }

  static fromJson(text: string): UsageSeries {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw fail('CORRUPT', 'usage series is not JSON', {}, e);
    }
    const series = new UsageSeries();
    const raw = (doc as { series?: Record<string, unknown> } | null)?.series ?? {};
    for (const tf of TIMEFRAMES) {
      const list = raw[tf];
      if (!Array.isArray(list)) continue;
      const { step, slots } = RESOLUTIONS[tf];
      const clean = list
        .filter((s): s is Slot => typeof s === 'object' && s !== null && Number.isSafeInteger((s as Slot).time) && (s as Slot).time % step === 0 && Number.isSafeInteger((s as Slot).count) && (s as Slot).count > 0)
        .map((s) => ({ time: s.time, count: s.count, values: cleanSample(s.values) }))
        .sort((a, b) => a.time - b.time)
        .slice(-slots);
      series.#slots.set(tf, clean);
    }
    return series;
  }
}
