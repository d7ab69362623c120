/**
 * The log file of one task, and the task's final state (PBS worker-task logs):
 *
 *     2024-05-06T08:00:00Z: starting garbage collection on store default
 *     2024-05-06T08:00:01Z: WARN: unable to access non-existent chunk …
 *     2024-05-06T08:00:02Z: TASK WARNINGS: 1
 *
 * The last line carries the final state: `TASK OK`, `TASK WARNINGS: n` (the count of `warn`
 * calls) or `TASK ERROR: message`. A log without that line belongs to a task that is running, or
 * whose process died; the registry reports the latter as `unknown`.
 *
 * `TaskLog` implements the synchronous `Logger` the jobs already take: lines are queued and
 * written in order at the end of the file through the `Fs` port. Task logs are diagnostics, not
 * backup data: they are never fsynced (as upstream), so a power loss may cut their tail.
 * A failed write never fails the task; the log just stops growing and the failure is remembered.
 */
import { formatRfc3339 } from '../core/time.ts';
import type { Logger } from '../core/log.ts';
import type { FileHandle, Fs } from '../storage/fs-port.ts';

export type TaskState =
  | { readonly kind: 'ok' }
  | { readonly kind: 'warnings'; readonly count: number }
  | { readonly kind: 'error'; readonly message: string }
  /** the process ended before the task wrote its final line */
  | { readonly kind: 'unknown' };

/** `OK`, `WARNINGS: n`, `ERROR: message` or `unknown`: the status text PBS lists. */
export function formatTaskState(s: TaskState): string {
  switch (s.kind) {
    case 'ok':
      return 'OK';
    case 'warnings':
      return `WARNINGS: ${s.count}`;
    case 'error':
      return `ERROR: ${s.message}`;
    case 'unknown':
      return 'unknown';
  }
}

export function parseTaskState(text: string): TaskState {
  if (text === 'OK') return { kind: 'ok' };
  const warnings = /^WARNINGS: (\d+)$/.exec(text);
  if (warnings) return { kind: 'warnings', count: Number(warnings[1]) };
  if (text.startsWith('ERROR: ')) return { kind: 'error', message: text.slice('ERROR: '.length) };
  return { kind: 'unknown' };
}

const FINAL_LINE = /: TASK (OK|WARNINGS: \d+|ERROR: .*)$/;

/** The state in a log's last line, or undefined when the line is not a final one. */
export function stateOfLastLine(line: string): TaskState | undefined {
  const m = FINAL_LINE.exec(line);
  return m?.[1] === undefined ? undefined : parseTaskState(m[1]);
}

/** One line per entry; a message with newlines becomes several lines. */
export function splitLogText(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

export class TaskLog implements Logger {
  readonly path: string;
  readonly #handle: FileHandle;
  readonly #now: () => number;
  #size = 0;
  #tail: Promise<void> = Promise.resolve();
  #warnings = 0;
  #writeError: unknown;
  #closed = false;

  private constructor(path: string, handle: FileHandle, now: () => number) {
    this.path = path;
    this.#handle = handle;
    this.#now = now;
  }

  /** Creates the log file; fails with ALREADY_EXISTS rather than append to another task's log. */
  static async create(fs: Fs, path: string, now: () => number): Promise<TaskLog> {
    return new TaskLog(path, await fs.open(path, 'wx', 0o640), now);
  }

  get warnings(): number {
    return this.#warnings;
  }

  /** The first write error, if writing the log failed. */
  get writeError(): unknown {
    return this.#writeError;
  }

  info(msg: string): void {
    this.#append(msg);
  }

  warn(msg: string): void {
    this.#warnings++;
    this.#append(`WARN: ${msg}`);
  }

  /** Waits until every queued line is written. */
  async flush(): Promise<void> {
    await this.#tail;
  }

  /** Writes the final line and closes the file; later log calls are dropped. */
  async finish(state: TaskState): Promise<void> {
    if (this.#closed) return;
    const text = formatTaskState(state).replace(/\s*\n\s*/g, ' ');
    this.#append(`TASK ${text}`);
    this.#closed = true;
    await this.#tail;
    await this.#handle.close().catch(() => undefined);
  }

  #append(msg: string): void {
    if (this.#closed) return;
    const stamp = formatRfc3339(Math.floor(this.#now() / 1000));
    const text = splitLogText(msg).map((line) => `${stamp}: ${line}\n`).join('');
    const bytes = Buffer.from(text === '' ? `${stamp}: \n` : text);
    this.#tail = this.#tail.then(() => this.#write(bytes));
  }

  async #write(bytes: Uint8Array): Promise<void> {
    if (this.#writeError !== undefined) return;
    try {
      await this.#handle.write(bytes, this.#size);
      this.#size += bytes.length;
    } catch (e) {
      this.#writeError = e;
    }
  }
}
