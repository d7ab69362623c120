/**
 * Notifier: turns every ended task (GC, verify, prune, backup, …) into a notification and sends it
 * to the targets of the matchers that match it, as PBS's notification system does.
 *
 * - Severity: a task that ended OK is `info`, with warnings `warning`, failed (or cut short by a
 *   crash) `error`.
 * - A matcher matches when the severity is in its `match-severity` (empty: any) and the task's
 *   type in its `match-type` (empty: any; `gc` stands for `garbage_collection`). A target named by
 *   several matching matchers gets the notification once.
 * - The config is read for every event, so an edit applies at once without a restart.
 * - Delivery never affects the task: a failure is logged in the server log; sends of one event run
 *   concurrently and are not retried.
 */
import { fail } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { DEFAULT_JOB_KINDS } from '../../jobs/registry.ts';
import { formatTaskState, type TaskState } from '../../jobs/task-log.ts';
import { BACKUP_WORKER_TYPE } from '../job-services.ts';
import type { TaskInfo } from '../../jobs/task-registry.ts';
import type { Matcher, NotificationConfigFile, Severity, Target } from './notification-config.ts';
import { senderFor, type Notification, type NotificationSender } from './targets.ts';

export const TYPE_ALIASES: Readonly<Record<string, string>> = { gc: 'garbage_collection' };

/**
 * The task types a matcher can name: backup sessions, every registered job kind (a new kind is
 * matched without a change here), and the alias `gc`.
 */
export const TASK_TYPES: readonly string[] = [...new Set([BACKUP_WORKER_TYPE, ...DEFAULT_JOB_KINDS.map((k) => k.workerType), ...Object.keys(TYPE_ALIASES)])];

/**
 * Refuses a `match-type` no task has (a typo would make a matcher that never fires, and nobody
 * would learn of it until a failure went unreported). Checked where a matcher is made, not when
 * the file is read, so a server keeps loading what an older release wrote.
 */
export function checkMatchTypes(types: readonly string[]): void {
  for (const t of types) {
    if (!TASK_TYPES.includes(t)) throw fail('INVALID_ARGUMENT', `match-type '${t}' is not a task type (${TASK_TYPES.join(', ')})`, { param: 'match-type', value: t });
  }
}

export function severityOf(state: TaskState | undefined): Severity {
  if (state?.kind === 'ok') return 'info';
  if (state?.kind === 'warnings') return 'warning';
  return 'error';
}

export function matches(m: Matcher, n: Notification): boolean {
  const type = n.fields['type'] ?? '';
  return (m.severities.length === 0 || m.severities.includes(n.severity)) && (m.types.length === 0 || m.types.some((t) => (TYPE_ALIASES[t] ?? t) === type));
}

export function taskNotification(info: TaskInfo): Notification {
  const t = info.task;
  const what = t.workerId ? `${t.workerType} ${t.workerId}` : t.workerType;
  const state = info.state ? formatTaskState(info.state) : 'unknown';
  return {
    title: `${what}: ${state.split(':')[0]}`,
    message: `Task ${what} started by ${t.authId} ended: ${state}`,
    severity: severityOf(info.state),
    fields: { type: t.workerType, ...(t.workerId ? { id: t.workerId, store: t.workerId.split(':')[0]! } : {}), upid: info.upid, user: t.authId },
    timestamp: info.endTime ?? Math.floor(Date.now() / 1000),
  };
}

export interface NotifierOptions {
  readonly config: NotificationConfigFile;
  readonly log: Logger;
  /** the sender of a target (tests may wrap it) */
  readonly sender?: (t: Target, secret: string | undefined) => NotificationSender;
}

export class Notifier {
  readonly #o: NotifierOptions;
  /** sends in flight, so shutdown and tests can wait for them */
  readonly #inflight = new Set<Promise<void>>();

  constructor(o: NotifierOptions) {
    this.#o = o;
  }

  /** Sends the notification of `info` in the background. */
  taskEnded(info: TaskInfo): void {
    const p = this.notify(taskNotification(info)).finally(() => this.#inflight.delete(p));
    this.#inflight.add(p);
  }

  /** Sends `n` to every target a matcher selects; resolves when all sends settled (failures logged). */
  async notify(n: Notification): Promise<void> {
    let targets: Target[];
    try {
      const cfg = await this.#o.config.load();
      const names = new Set(cfg.matchers.filter((m) => matches(m, n)).flatMap((m) => m.targets));
      targets = cfg.targets.filter((t) => names.has(t.name));
    } catch (e) {
      this.#o.log.warn(`notifications: cannot read the config: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    await Promise.all(
      targets.map(async (t) => {
        try {
          await this.#sender(t).then((s) => s.send(n));
        } catch (e) {
          this.#o.log.warn(`notification '${n.title}' to target '${t.name}' failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }),
    );
  }

  /** A test notification to one target; rejects when it cannot be delivered. */
  async test(name: string): Promise<void> {
    const cfg = await this.#o.config.load();
    const t = cfg.targets.find((x) => x.name === name);
    if (!t) throw fail('NOT_FOUND', `no notification target '${name}'`, { target: name });
    await (await this.#sender(t)).send({ title: 'test notification', message: `This is a test of notification target '${name}' from Holdfast.`, severity: 'info', fields: { type: 'test' }, timestamp: Math.floor(Date.now() / 1000) });
  }

  /** Waits for the sends in flight. */
  async idle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
  }

  async #sender(t: Target): Promise<NotificationSender> {
    const secret = await this.#o.config.secret(t.name);
    return (this.#o.sender ?? senderFor)(t, secret);
  }
}
