/**
 * Scheduler: runs jobs at the times their calendar events name (`gc-schedule daily`,
 * `prune-schedule 'mon..fri 02:30'`), for the server.
 *
 * Each `tick` re-reads the job list (so a changed `datastore.cfg` applies without a restart) and
 * starts every job with an event in (previous tick, now]. Then it arms one timer for the earliest
 * next event, but never further than `recheckMs` ahead, so that new or changed schedules are seen.
 * Events missed while the server was down are not caught up (the first tick starts from `start`).
 * A job still running when its next event comes is skipped, with a log line.
 *
 * Time and timers are injected: tests move a fake clock and call `tick()`; they never wait.
 * The schedule syntax is calendar-event.ts's subset of systemd.time(7).
 */
import { toHoldfastError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { nextEvent, parseCalendarEvent, type CalendarEvent } from '../format/calendar-event.ts';

export interface ScheduledJob {
  /** unique per job, e.g. `gc:store1` */
  readonly key: string;
  /** a calendar event */
  readonly schedule: string;
  run(): Promise<void>;
}

export type SetTimer = (fn: () => void, ms: number) => () => void;

export interface SchedulerOptions {
  readonly jobs: () => Promise<readonly ScheduledJob[]>;
  readonly log: Logger;
  /** ms since the epoch; default Date.now */
  readonly now?: () => number;
  /** default: an unref'd setTimeout */
  readonly setTimer?: SetTimer;
  /** the longest sleep between two ticks (default one minute) */
  readonly recheckMs?: number;
}

const DEFAULT_RECHECK_MS = 60_000;

const realTimer: SetTimer = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

export class Scheduler {
  readonly #o: SchedulerOptions;
  readonly #now: () => number;
  readonly #running = new Map<string, Promise<void>>();
  /** the schedules already reported as invalid, so each is logged once */
  readonly #reported = new Set<string>();
  readonly #parsed = new Map<string, CalendarEvent>();
  #lastTick: number | undefined;
  #cancel: (() => void) | undefined;
  #ticking: Promise<void> | undefined;
  #stopped = false;

  constructor(o: SchedulerOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /** Starts counting from now and arms the first timer. */
  async start(): Promise<void> {
    this.#lastTick = this.#now();
    this.#stopped = false;
    await this.#arm();
  }

  /**
   * Starts the jobs that came due since the last tick and arms the next timer. Resolves when the
   * due jobs have been started (not when they finished); `idle()` waits for those.
   */
  async tick(): Promise<void> {
    this.#ticking ??= this.#tick().finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  /** Waits until every job started by a tick has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.#running.values()]);
  }

  /** Cancels the timer and waits for running jobs. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = undefined;
    await this.#ticking;
    await this.idle();
  }

  /** When each job runs next (epoch seconds), for status displays. */
  async nextRuns(): Promise<Map<string, number | undefined>> {
    const from = Math.floor(this.#now() / 1000);
    const out = new Map<string, number | undefined>();
    for (const job of await this.#o.jobs()) {
      const ev = this.#event(job);
      out.set(job.key, ev === undefined ? undefined : nextEvent(ev, from));
    }
    return out;
  }

  async #tick(): Promise<void> {
    const now = this.#now();
    const since = Math.floor((this.#lastTick ?? now) / 1000);
    this.#lastTick = now;
    let jobs: readonly ScheduledJob[] = [];
    try {
      jobs = await this.#o.jobs();
    } catch (e) {
      this.#o.log.warn(`scheduler: cannot read the job list: ${toHoldfastError(e).message}`);
    }
    for (const job of jobs) {
      const ev = this.#event(job);
      const due = ev === undefined ? undefined : nextEvent(ev, since);
      if (due !== undefined && due <= Math.floor(now / 1000)) this.#startJob(job);
    }
    if (!this.#stopped) await this.#arm(jobs);
  }

  #startJob(job: ScheduledJob): void {
    if (this.#running.has(job.key)) {
      this.#o.log.warn(`scheduler: ${job.key} is still running; skipping this run`);
      return;
    }
    const run = (async () => {
      try {
        await job.run();
      } catch (e) {
        this.#o.log.warn(`scheduler: ${job.key} failed to start: ${toHoldfastError(e).message}`);
      }
    })().finally(() => this.#running.delete(job.key));
    this.#running.set(job.key, run);
  }

  async #arm(known?: readonly ScheduledJob[]): Promise<void> {
    this.#cancel?.();
    const now = this.#now();
    let jobs = known;
    if (jobs === undefined) jobs = await this.#o.jobs().catch(() => []);
    let wait = this.#o.recheckMs ?? DEFAULT_RECHECK_MS;
    for (const job of jobs) {
      const ev = this.#event(job);
      const next = ev === undefined ? undefined : nextEvent(ev, Math.floor(now / 1000));
      if (next !== undefined) wait = Math.min(wait, Math.max(0, next * 1000 - now));
    }
    const setTimer = this.#o.setTimer ?? realTimer;
    this.#cancel = setTimer(() => void this.tick(), wait);
  }

  #event(job: ScheduledJob): CalendarEvent | undefined {
    const cached = this.#parsed.get(job.schedule);
    if (cached) return cached;
    try {
      const ev = parseCalendarEvent(job.schedule);
      this.#parsed.set(job.schedule, ev);
      return ev;
    } catch (e) {
      const key = `${job.key} ${job.schedule}`;
      if (!this.#reported.has(key)) {
        this.#reported.add(key);
        this.#o.log.warn(`scheduler: ${job.key}: ${toHoldfastError(e).message}; the job does not run`);
      }
      return undefined;
    }
  }
}
