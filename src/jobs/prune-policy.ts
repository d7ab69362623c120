/**
 * The prune decision for one backup group, as a pure function (pbs-format.md §8.3, the
 * algorithm facts of VECTORS.md §8.5). No I/O: the runner lists snapshots, calls `computePrune`
 * and removes what it says.
 *
 * 1. No keep option > 0: keep everything (`keep-all`).
 * 2. Newest first. An unfinished snapshot is kept (`keep-partial`) only if it is newer than every
 *    finished one; every other unfinished snapshot is removed.
 * 3. Rules in order last, hourly, daily, weekly, monthly, yearly. Each maps a snapshot to a period
 *    id in local time (`%Y/%m/%d/%H`, `%Y/%m/%d`, ISO `%G/%V`, `%Y/%m`, `%Y`). Periods already
 *    holding a snapshot kept by an earlier rule are pre-counted as included. Walking newest first,
 *    already-marked snapshots are skipped, protected ones are marked `protected` and never count,
 *    the first snapshot of a new period is kept until N periods are counted (then the rule
 *    stops), a later one in a counted period is marked remove.
 * 4. Unmarked snapshots are removed; a protected snapshot is always kept.
 *
 * "Local time" is injectable: pass an IANA zone name (`'UTC'`, `'Europe/Vienna'`); without one the
 * process's zone is used, as upstream does.
 */
import { fail } from '../core/errors.ts';
import { isoWeek, type CivilTime } from '../core/time.ts';

export interface PruneSnapshot {
  /** Backup time, epoch seconds; unique within a group. */
  readonly time: number;
  /** Has a manifest (`index.json.blob`). */
  readonly finished: boolean;
  readonly protected: boolean;
}

export const KEEP_OPTIONS = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;
export type KeepOption = (typeof KEEP_OPTIONS)[number];
export type PrunePolicy = { readonly [K in KeepOption]?: number };

export const PRUNE_REASONS = [
  'keep-last',
  'keep-hourly',
  'keep-daily',
  'keep-weekly',
  'keep-monthly',
  'keep-yearly',
  'protected',
  'keep-partial',
  'keep-all',
  'remove',
] as const;
export type PruneReason = (typeof PRUNE_REASONS)[number];

export interface PruneDecision {
  readonly time: number;
  readonly keep: boolean;
  readonly reason: PruneReason;
}

type RuleReason = Exclude<PruneReason, 'protected' | 'keep-partial' | 'keep-all' | 'remove'>;

interface Rule {
  readonly option: KeepOption;
  readonly reason: RuleReason;
  readonly period: (time: number, civil: CivilTime) => string;
}

const two = (n: number): string => String(n).padStart(2, '0');

const RULES: readonly Rule[] = [
  { option: 'keepLast', reason: 'keep-last', period: (time) => String(time) },
  { option: 'keepHourly', reason: 'keep-hourly', period: (_, c) => `${c.year}/${two(c.month)}/${two(c.day)}/${two(c.hour)}` },
  { option: 'keepDaily', reason: 'keep-daily', period: (_, c) => `${c.year}/${two(c.month)}/${two(c.day)}` },
  {
    option: 'keepWeekly',
    reason: 'keep-weekly',
    period: (_, c) => {
      const w = isoWeek(c.year, c.month, c.day);
      return `${w.year}/${two(w.week)}`;
    },
  },
  { option: 'keepMonthly', reason: 'keep-monthly', period: (_, c) => `${c.year}/${two(c.month)}` },
  { option: 'keepYearly', reason: 'keep-yearly', period: (_, c) => String(c.year) },
];

/** Maps epoch seconds to wall-clock fields in a time zone (undefined = the process's zone). */
export function civilClock(timeZone?: string): (epoch: number) => CivilTime {
  if (timeZone === undefined) {
    return (epoch) => {
      const d = new Date(epoch * 1000);
      const [year, month, day] = [d.getFullYear(), d.getMonth() + 1, d.getDate()];
      return { year, month, day, hour: d.getHours(), minute: d.getMinutes(), second: d.getSeconds() };
    };
  }
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  return (epoch) => {
    const parts = new Map(format.formatToParts(new Date(epoch * 1000)).map((p) => [p.type, Number(p.value)]));
    const get = (type: Intl.DateTimeFormatPartTypes): number => parts.get(type) ?? 0;
    return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') };
  };
}

function checkPolicy(policy: PrunePolicy): void {
  for (const option of KEEP_OPTIONS) {
    const n = policy[option];
    if (n !== undefined && (!Number.isSafeInteger(n) || n < 0)) {
      throw fail('INVALID_ARGUMENT', `${option} must be a non-negative integer, got ${n}`, { option, value: n });
    }
  }
}

interface Item {
  readonly snapshot: PruneSnapshot;
  readonly civil: CivilTime;
}

/**
 * Marks snapshots by one rule; `marks` holds the decisions so far, indexed like `items`.
 * A period already held by a kept snapshot is skipped (left unmarked, for later rules); a repeat
 * of a period this rule counted is removed; the walk stops at the first new period after `keep`.
 */
function applyRule(rule: Rule, keep: number, items: readonly Item[], marks: (PruneReason | undefined)[]): void {
  const periods = items.map((item) => rule.period(item.snapshot.time, item.civil));
  const alreadyIncluded = new Set(periods.filter((_, i) => isRuleKeep(marks[i])));
  const counted = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    if (marks[i] !== undefined) continue;
    if (items[i]?.snapshot.protected === true) {
      marks[i] = 'protected';
      continue;
    }
    const period = periods[i] ?? '';
    if (alreadyIncluded.has(period)) continue;
    if (counted.has(period)) {
      marks[i] = 'remove';
      continue;
    }
    if (counted.size >= keep) break;
    counted.add(period);
    marks[i] = rule.reason;
  }
}

function isRuleKeep(mark: PruneReason | undefined): boolean {
  return RULES.some((r) => r.reason === mark);
}

/**
 * Decides keep/remove for each snapshot of one group; returns them newest first.
 * `timeZone` is an IANA name for the period selectors (default: the process's zone).
 */
export function computePrune(snapshots: readonly PruneSnapshot[], policy: PrunePolicy, timeZone?: string): PruneDecision[] {
  checkPolicy(policy);
  const sorted = [...snapshots].sort((a, b) => b.time - a.time);
  const keepsSomething = KEEP_OPTIONS.some((o) => (policy[o] ?? 0) > 0);
  if (!keepsSomething) {
    return sorted.map((s) => ({ time: s.time, keep: true, reason: s.protected ? 'protected' : 'keep-all' }));
  }
  const marks: (PruneReason | undefined)[] = sorted.map(() => undefined);
  const firstFinished = sorted.findIndex((s) => s.finished);
  sorted.forEach((s, i) => {
    if (!s.finished) marks[i] = i === 0 && firstFinished !== 0 ? 'keep-partial' : 'remove';
  });
  const clock = civilClock(timeZone);
  const items = sorted.map((snapshot) => ({ snapshot, civil: clock(snapshot.time) }));
  for (const rule of RULES) {
    const keep = policy[rule.option] ?? 0;
    if (keep > 0) applyRule(rule, keep, items, marks);
  }
  return sorted.map((s, i) => {
    const reason: PruneReason = s.protected ? 'protected' : (marks[i] ?? 'remove');
    return { time: s.time, keep: reason !== 'remove', reason };
  });
}
