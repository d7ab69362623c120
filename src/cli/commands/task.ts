/**
 * `holdfast task list [--running]`, `task log UPID`, `task stop UPID`: the server's tasks through
 * the API (`/nodes/localhost/tasks`), like `proxmox-backup-client task`.
 *
 * Shared with the job commands (garbage-collection, verify, prune-job): `runTaskCommand` starts a
 * task, then (unless `--no-wait`) follows it with `followTask`, which prints the log as it grows,
 * draws `percentage done` lines as a progress bar on a TTY, and waits with `status?wait=1`: the
 * server holds each status request up to a second and answers the moment the task stops, so the
 * command ends with its task, not up to a poll interval later. Should a server answer at once
 * anyway, the loop falls back to polling with a growing interval (0.05 s up to 1 s). A task that ends in ERROR makes the command fail with the
 * task's error code (Holdfast's status extension), so exit codes match docs/errors.md.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import { Option } from 'commander';
import { fail, HoldfastError } from '../../core/errors.ts';
import { isErrorCode } from '../../core/error-codes.ts';
import { formatTime } from '../../core/backup-ref.ts';
import type { HttpClient } from '../../remote/http-client.ts';
import { addClientOptions, openClient, type ClientFlags } from '../client-options.ts';
import type { CliContext, OutputFormat } from '../context.ts';
import { emit, outputFormatOption, progressLine, renderTable } from '../render.ts';

const TASKS = 'nodes/localhost/tasks';

export interface TaskStatus {
  readonly upid: string;
  readonly status: 'running' | 'stopped';
  readonly exitstatus?: string;
  readonly 'error-code'?: string;
  readonly result?: unknown;
}

export interface TaskListEntry {
  readonly upid: string;
  readonly starttime: number;
  readonly endtime?: number;
  readonly worker_type: string;
  readonly worker_id: string | null;
  readonly user: string;
  readonly status?: string;
}

export interface FollowedTask {
  readonly status: TaskStatus;
  readonly log: string[];
}

const taskPath = (upid: string): string => `${TASKS}/${encodeURIComponent(upid)}`;

/** `waitS`: let the server hold the answer up to this many seconds while the task runs. */
export async function taskStatus(client: HttpClient, upid: string, waitS = 0): Promise<TaskStatus> {
  return (await client.get(`${taskPath(upid)}/status`, waitS > 0 ? { wait: waitS } : {})) as TaskStatus;
}

/** How long followTask lets the server hold a status request: also the log's refresh interval. */
const FOLLOW_WAIT_S = 1;

async function logLines(client: HttpClient, upid: string, start: number): Promise<string[]> {
  const data = (await client.get(`${taskPath(upid)}/log`, { start, limit: 0 })) as { t: string }[];
  return data.map((l) => l.t);
}

const PROGRESS = /percentage done: [\d.]+% \((\d+)\/(\d+)[^)]*\)$/;

/** Prints the task log as it grows (when `print`), until the task ended; returns status and log. */
export async function followTask(ctx: CliContext, client: HttpClient, upid: string, o: { readonly print: boolean; readonly label: string }): Promise<FollowedTask> {
  const bar = progressLine(ctx, o.label);
  const log: string[] = [];
  let wait = 50;
  try {
    for (;;) {
      const asked = Date.now();
      const status = await taskStatus(client, upid, FOLLOW_WAIT_S);
      for (const line of await logLines(client, upid, log.length)) {
        log.push(line);
        const p = PROGRESS.exec(line);
        if (p && ctx.isTTY) bar.update(Number(p[1]), Number(p[2]));
        else if (o.print) ctx.out(line);
      }
      if (status.status === 'stopped') return { status, log };
      // A server that held the request has already paced this loop; one that did not gets polled.
      const held = Date.now() - asked;
      if (held < wait) await delay(wait - held);
      wait = Math.min(wait * 2, 1000);
    }
  } finally {
    bar.end();
  }
}

/** The error a task ended with, as a HoldfastError with the task's code; undefined when it did not fail. */
export function taskError(status: TaskStatus): HoldfastError | undefined {
  const exit = status.exitstatus ?? '';
  if (!exit.startsWith('ERROR')) return undefined;
  const code = status['error-code'];
  return new HoldfastError(code !== undefined && isErrorCode(code) ? code : 'INTERNAL', `task ${status.upid} failed: ${exit.replace(/^ERROR: /, '')}`, { upid: status.upid });
}

export interface JobFlags extends ClientFlags {
  readonly wait: boolean;
  readonly outputFormat: OutputFormat;
}

/** Options every job command takes: the server connection, `--no-wait`, `--output-format`. */
export function addJobOptions(cmd: Command): Command {
  return addClientOptions(cmd).addOption(new Option('--no-wait', 'print the task id and return at once instead of following the task')).addOption(outputFormatOption());
}

/**
 * Starts a task with `start`, then follows it (text: the log; json: one report at the end with the
 * task's `result`). Throws the task's error when it failed, after printing.
 */
export async function runTaskCommand(ctx: CliContext, f: JobFlags, label: string, start: (client: HttpClient) => Promise<unknown>): Promise<FollowedTask | undefined> {
  const { client } = await openClient(ctx, f);
  const upid = await start(client);
  if (typeof upid !== 'string') throw fail('UPSTREAM_ERROR', 'the server did not answer with a task id', { answer: upid });
  if (!f.wait) {
    emit(ctx, f.outputFormat, { upid }, () => upid);
    return undefined;
  }
  const followed = await followTask(ctx, client, upid, { print: f.outputFormat === 'text', label });
  const s = followed.status;
  emit(ctx, f.outputFormat, { upid, exitstatus: s.exitstatus, result: s.result ?? null, log: followed.log }, () => `task ${upid}: ${s.exitstatus ?? '?'}`);
  const error = taskError(s);
  if (error) throw error;
  return followed;
}

function time(t: number | undefined): string {
  return t === undefined ? '' : formatTime(t);
}

export function register(program: Command, ctx: CliContext): void {
  const task = program.command('task').description('list, show and stop server tasks (jobs and backups)');

  addClientOptions(task.command('list').description('list tasks, running ones first'))
    .option('--running', 'only running tasks')
    .option('--limit <n>', 'at most this many tasks', '50')
    .addOption(outputFormatOption())
    .action(async (o: ClientFlags & { running?: boolean; limit: string; outputFormat: OutputFormat }) => {
      const { client } = await openClient(ctx, o);
      const list = (await client.get(TASKS, { ...(o.running ? { running: 1 } : {}), limit: o.limit })) as TaskListEntry[];
      const rows = list.map((t) => ({ started: time(t.starttime), ended: time(t.endtime), type: t.worker_type, id: t.worker_id ?? '', user: t.user, status: t.status ?? 'running', upid: t.upid }));
      emit(ctx, o.outputFormat, list, () => (rows.length ? renderTable(rows, ['started', 'ended', 'type', 'id', 'user', 'status', 'upid']) : 'no tasks'));
    });

  addClientOptions(task.command('log').description("print a task's log; follows a running task until it ends").argument('<upid>', 'task id (UPID:…)')).action(async (upid: string, o: ClientFlags) => {
    const { client } = await openClient(ctx, o);
    await followTask(ctx, client, upid, { print: true, label: 'task' });
  });

  addClientOptions(task.command('stop').description('ask a running task to stop').argument('<upid>', 'task id (UPID:…)')).action(async (upid: string, o: ClientFlags) => {
    const { client } = await openClient(ctx, o);
    await client.delete(taskPath(upid));
    ctx.out(`asked task ${upid} to stop`);
  });
}
