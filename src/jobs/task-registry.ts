/**
 * TaskRegistry: every job and every backup runs as a task with a PBS-style UPID, a log file and a
 * final state (`OK`, `WARNINGS: n`, `ERROR: message`), listed by the tasks API.
 *
 * Files under `dir` (`<configDir>/tasks`):
 *
 *     <dir>/<XX>/<UPID>          the task's log (task-log.ts); XX = low byte of the start time
 *     <dir>/index                one line per ended task (task-index.ts)
 *
 * Invariants:
 * - a UPID is unique: node, pid and process start time name the process, a counter the task;
 * - a task is in memory while it runs, and in `index` once it ended; the index line is appended
 *   after the log's final line, so a crash in between leaves a log that `open` recovers;
 * - `open` adds every log missing from the index (tasks of a process that died): with the state of
 *   its final line if it has one, else `unknown`;
 * - stop is cooperative: it aborts the task's signal and calls its `onStop`; the job ends itself.
 * Results and error codes of tasks are kept in memory only (a Holdfast extension for the CLI).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { ErrorCode } from '../core/error-codes.ts';
import { fail, isHoldfastError, toHoldfastError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { formatUpid, parseUpid, type Upid } from '../core/upid.ts';
import type { Fs } from '../storage/fs-port.ts';
import { isUpid, TaskIndex } from './task-index.ts';
import { splitLogText, stateOfLastLine, TaskLog, type TaskState } from './task-log.ts';

export interface TaskSpec {
  /** worker type, e.g. `garbage_collection`, `verify`, `backup` */
  readonly type: string;
  /** worker id, e.g. the datastore name; escaped into the UPID */
  readonly id?: string;
  readonly authId: string;
  /** called by `stop` besides aborting the signal (e.g. to abort a backup session) */
  readonly onStop?: () => Promise<void> | void;
}

/** What a job sees of its task: a Logger bound to the task log, a stop signal, progress. */
export interface TaskContext extends Logger {
  readonly upid: string;
  readonly signal: AbortSignal;
  /** Logs `percentage done: P% (done/total what)`, which the CLI draws as a bar on a TTY. */
  progress(done: number, total: number, what: string): void;
  /** The task's report, returned by the status API while this process runs. */
  setResult(value: unknown): void;
}

export interface RunningTask extends TaskContext {
  /** Ends the task: `ERROR` when `error` is given, else `WARNINGS: n` or `OK`. Idempotent. */
  end(error?: unknown): Promise<TaskInfo>;
}

export interface TaskInfo {
  readonly upid: string;
  readonly task: Upid;
  /** epoch seconds; undefined while running */
  readonly endTime: number | undefined;
  /** undefined while running */
  readonly state: TaskState | undefined;
  readonly errorCode: ErrorCode | undefined;
  readonly result: unknown;
}

export interface TaskListOptions {
  readonly running?: boolean;
  readonly start?: number;
  readonly limit?: number;
  readonly typeFilter?: string;
  readonly filter?: (t: TaskInfo) => boolean;
}

export interface TaskRegistryOptions {
  readonly fs: Fs;
  readonly dir: string;
  readonly now?: () => number;
  readonly node?: string;
  /** the server log, for failures of the task files themselves */
  readonly log: Logger;
  /** told of every task that ended, after its final state is recorded (notifications, metrics) */
  readonly onEnded?: (info: TaskInfo) => void;
}

interface Active {
  readonly task: RunningTask;
  readonly log: TaskLog;
  readonly controller: AbortController;
  readonly spec: TaskSpec;
  readonly done: Promise<TaskInfo>;
}

interface Outcome {
  readonly errorCode: ErrorCode | undefined;
  readonly result: unknown;
}

const INDEX_NAME = 'index';
const RECENT_OUTCOMES = 256;

export class TaskRegistry {
  readonly dir: string;
  readonly node: string;
  readonly #fs: Fs;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #onEnded: (info: TaskInfo) => void;
  readonly #pid = process.pid;
  readonly #pstart = processStartTicks();
  readonly #running = new Map<string, Active>();
  readonly #outcomes = new Map<string, Outcome>();
  readonly #index: TaskIndex;
  #nextTaskId = 0;
  #closed = false;

  private constructor(o: TaskRegistryOptions) {
    this.#fs = o.fs;
    this.dir = o.dir;
    this.#now = o.now ?? Date.now;
    this.#log = o.log;
    this.#onEnded = o.onEnded ?? (() => undefined);
    this.node = o.node ?? defaultNodeName();
    this.#index = new TaskIndex(o.fs, join(o.dir, INDEX_NAME), o.log);
  }

  /** Opens (creating) the task dir and recovers the tasks of a process that died. */
  static async open(o: TaskRegistryOptions): Promise<TaskRegistry> {
    await o.fs.mkdir(o.dir, { recursive: true, mode: 0o750 });
    const registry = new TaskRegistry(o);
    await registry.#recover();
    return registry;
  }

  /** Starts a task whose end the caller reports (`end`), e.g. a backup session. */
  async begin(spec: TaskSpec): Promise<RunningTask> {
    if (this.#closed) throw fail('ABORTED', 'the server is shutting down; no new tasks start', {});
    const upid = formatUpid({
      node: this.node,
      pid: this.#pid,
      pstart: this.#pstart,
      taskId: this.#nextTaskId++,
      startTime: Math.floor(this.#now() / 1000),
      workerType: spec.type,
      workerId: spec.id,
      authId: spec.authId,
    });
    const path = this.logPath(upid);
    await this.#fs.mkdir(dirname(path), { recursive: true, mode: 0o750 });
    const log = await TaskLog.create(this.#fs, path, this.#now);
    const controller = new AbortController();
    let settle!: (info: TaskInfo) => void;
    const done = new Promise<TaskInfo>((resolve) => (settle = resolve));
    let result: unknown;
    let ending: Promise<TaskInfo> | undefined;
    const task: RunningTask = {
      upid,
      signal: controller.signal,
      info: (m) => log.info(m),
      warn: (m) => log.warn(m),
      progress: (n, total, what) => log.info(`percentage done: ${total > 0 ? ((100 * n) / total).toFixed(2) : '100.00'}% (${n}/${total} ${what})`),
      setResult: (value) => (result = value),
      end: (error) => {
        ending ??= this.#end(upid, log, error, () => result).then((info) => {
          settle(info);
          return info;
        });
        return ending;
      },
    };
    this.#running.set(upid, { task, log, controller, spec, done });
    return task;
  }

  /** Starts `fn` as a task in the background; resolves with the UPID once the task exists. */
  async spawn<T>(spec: TaskSpec, fn: (task: TaskContext) => Promise<T>): Promise<string> {
    const task = await this.begin(spec);
    void this.#drive(task, fn).catch(() => undefined);
    return task.upid;
  }

  /** Runs `fn` as a task and waits for it; its error is thrown after the task ended with it. */
  async run<T>(spec: TaskSpec, fn: (task: TaskContext) => Promise<T>): Promise<{ upid: string; result: T }> {
    const task = await this.begin(spec);
    return { upid: task.upid, result: await this.#drive(task, fn) };
  }

  /** Resolves once the task ended. */
  async wait(upid: string): Promise<TaskInfo> {
    const active = this.#running.get(upid);
    return active ? active.done : this.status(upid);
  }

  /** Aborts a running task's signal; false when it is not running (any more). */
  async stop(upid: string): Promise<boolean> {
    const active = this.#running.get(upid);
    if (!active) {
      await this.status(upid); // NOT_FOUND for a task that never existed
      return false;
    }
    active.log.info('received a stop request');
    active.controller.abort();
    try {
      await active.spec.onStop?.();
    } catch (e) {
      active.log.warn(`stopping failed: ${toHoldfastError(e).message}`);
    }
    return true;
  }

  async status(upid: string): Promise<TaskInfo> {
    const path = this.logPath(upid);
    const active = this.#running.get(upid);
    if (active) return this.#info(upid, undefined, undefined);
    const indexed = (await this.#index.read()).find((e) => e.upid === upid);
    if (indexed) return this.#info(upid, indexed.endTime, indexed.state);
    const st = await this.#fs.stat(path);
    if (!st) throw fail('NOT_FOUND', `no task ${upid}`, { upid });
    return this.#info(upid, Math.floor(st.mtimeMs / 1000), await this.#stateOfLog(path));
  }

  /** Running tasks first (newest first), then ended ones, most recently ended first. */
  async list(o: TaskListOptions = {}): Promise<TaskInfo[]> {
    // One snapshot of the running set serves both halves: a task that ends while the index is
    // read is then listed once, as running, not also as ended.
    const runningNow = new Set(this.#running.keys());
    const running = [...runningNow].map((upid) => this.#info(upid, undefined, undefined));
    running.sort((a, b) => b.task.startTime - a.task.startTime);
    const ended = o.running === true ? [] : (await this.#index.read()).reverse().filter((e) => !runningNow.has(e.upid));
    const all = [...running, ...ended.map((e) => this.#info(e.upid, e.endTime, e.state))]
      .filter((t) => o.typeFilter === undefined || t.task.workerType === o.typeFilter)
      .filter((t) => o.filter?.(t) ?? true);
    const start = o.start ?? 0;
    return all.slice(start, o.limit === undefined ? undefined : start + o.limit);
  }

  /** Lines `start`… of a task's log (at most `limit`), and how many it has in all. */
  async readLog(upid: string, start = 0, limit?: number): Promise<{ lines: string[]; total: number }> {
    const path = this.logPath(upid);
    await this.#running.get(upid)?.log.flush();
    let text: string;
    try {
      text = Buffer.from(await this.#fs.readFile(path)).toString('utf8');
    } catch (e) {
      if (isHoldfastError(e, 'NOT_FOUND')) throw fail('NOT_FOUND', `no task ${upid}`, { upid });
      throw e;
    }
    const all = splitLogText(text);
    return { lines: all.slice(start, limit === undefined ? undefined : start + limit), total: all.length };
  }

  isRunning(upid: string): boolean {
    return this.#running.has(upid);
  }

  /** Refuses new tasks, stops the running ones and waits until they ended. */
  async close(): Promise<void> {
    this.#closed = true;
    const active = [...this.#running.values()];
    for (const a of active) await this.stop(a.task.upid);
    await Promise.all(active.map((a) => a.done));
  }

  /** Where a task's log lives; refuses anything that is not a UPID or could leave the dir. */
  logPath(upid: string): string {
    if (!/^[\x21-\x7e]+$/.test(upid) || upid.includes('/')) throw fail('INVALID_ARGUMENT', `invalid UPID '${upid}'`, { value: upid });
    const parsed = parseUpid(upid);
    return join(this.dir, (parsed.startTime & 0xff).toString(16).toUpperCase().padStart(2, '0'), upid);
  }

  async #drive<T>(task: RunningTask, fn: (task: TaskContext) => Promise<T>): Promise<T> {
    try {
      const value = await fn(task);
      if (value !== undefined) task.setResult(value);
      await task.end();
      return value;
    } catch (e) {
      await task.end(e);
      throw e;
    }
  }

  async #end(upid: string, log: TaskLog, error: unknown, result: () => unknown): Promise<TaskInfo> {
    const state: TaskState =
      error !== undefined
        ? { kind: 'error', message: toHoldfastError(error).message.replace(/\s*\n\s*/g, ' ') }
        : log.warnings > 0
          ? { kind: 'warnings', count: log.warnings }
          : { kind: 'ok' };
    await log.finish(state);
    if (log.writeError !== undefined) this.#log.warn(`task log ${log.path} is incomplete: ${toHoldfastError(log.writeError).message}`);
    const endTime = Math.floor(this.#now() / 1000);
    this.#remember(upid, { errorCode: error === undefined ? undefined : toHoldfastError(error).code, result: result() });
    await this.#index.append({ upid, endTime, state });
    this.#running.delete(upid);
    const info = this.#info(upid, endTime, state);
    this.#onEnded(info);
    return info;
  }

  #remember(upid: string, outcome: Outcome): void {
    this.#outcomes.set(upid, outcome);
    if (this.#outcomes.size > RECENT_OUTCOMES) this.#outcomes.delete(this.#outcomes.keys().next().value!);
  }

  #info(upid: string, endTime: number | undefined, state: TaskState | undefined): TaskInfo {
    const outcome = this.#outcomes.get(upid);
    return { upid, task: parseUpid(upid), endTime, state, errorCode: outcome?.errorCode, result: outcome?.result };
  }

  async #stateOfLog(path: string): Promise<TaskState> {
    const lines = splitLogText(Buffer.from(await this.#fs.readFile(path)).toString('utf8'));
    return stateOfLastLine(lines.at(-1) ?? '') ?? { kind: 'unknown' };
  }

  async #recover(): Promise<void> {
    const indexed = new Set((await this.#index.read()).map((e) => e.upid));
    for (const sub of (await this.#fs.readdir(this.dir)).filter((n) => /^[0-9A-F]{2}$/.test(n)).sort()) {
      for (const name of await this.#fs.readdir(join(this.dir, sub))) {
        if (indexed.has(name) || !isUpid(name)) continue;
        const path = join(this.dir, sub, name);
        const st = await this.#fs.stat(path);
        if (!st?.isFile) continue;
        await this.#index.append({ upid: name, endTime: Math.floor(st.mtimeMs / 1000), state: await this.#stateOfLog(path) });
      }
    }
  }
}

/** Host name as a UPID node (first label), or `localhost` when it does not fit. */
function defaultNodeName(): string {
  const name = hostname().split('.')[0] ?? '';
  return /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(name) ? name : 'localhost';
}

/** Field 22 of /proc/self/stat (start time in clock ticks since boot); 0 where there is none. */
function processStartTicks(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isSafeInteger(ticks) && ticks >= 0 ? ticks : 0;
  } catch {
    return 0;
  }
}
