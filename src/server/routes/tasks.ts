/**
 * The tasks API under `/api2/json/nodes/{node}/tasks` (PBS paths; `{node}` is `localhost` or the
 * UPID node name):
 *
 *     GET    …/tasks                 list (running, start, limit, typefilter, errors, store)
 *     GET    …/tasks/{upid}/status   {status: running|stopped, exitstatus, …} (wait)
 *     GET    …/tasks/{upid}/log      {data: [{n, t}], total, active} (start, limit)
 *     DELETE …/tasks/{upid}          stop: aborts the task's signal; the job ends itself
 *
 * Who sees what (as upstream): a caller sees its own tasks and its tokens' tasks; `Sys.Audit` on
 * `/system/tasks` shows everyone's, and `Sys.Modify` there allows stopping them.
 * Beyond PBS, `status` also carries `error-code` and `result` (the job's report) of tasks that this
 * server process ran; the CLI uses them for exit codes and `--output-format json`. Also beyond
 * PBS, `status?wait=S` (1..MAX_WAIT_S seconds) answers as soon as a running task stops, or after S
 * seconds: a follower learns of the end at once instead of up to one poll interval late (the CLI
 * used to lose ~0.5 s per job that way), for no more requests than polling each second. The hold
 * is bounded in time, ends when the caller hangs up, and holds no lock or buffer.
 */
import { bool, int, text } from '../../core/args.ts';
import { fail } from '../../core/errors.ts';
import type { TaskInfo } from '../../jobs/task-registry.ts';
import { formatTaskState } from '../../jobs/task-log.ts';
import type { AuthPort } from '../auth/authenticator.ts';
import type { JobServices } from '../job-services.ts';
import { RawResponse, type Route, type RouteContext } from '../router.ts';
import { hasPrivilege, ownerMatches } from './backup-protocols.ts';

const BASE = '/api2/json/nodes/{node}/tasks';
const TASKS_ACL = '/system/tasks';
const DEFAULT_LIMIT = 50;
/** The longest a status request may be held; the CLI asks for 1 s. */
export const MAX_WAIT_S = 30;

/**
 * Resolves when `done` does, after `ms`, or when the caller's connection closes, whichever first.
 * The socket's 'close', not the request's: an IncomingMessage closes once its body is read.
 */
async function holdUntil(done: Promise<unknown>, ms: number, ctx: RouteContext): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onClose: (() => void) | undefined;
  try {
    await Promise.race([
      done,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
      new Promise<void>((resolve) => {
        onClose = resolve;
        ctx.req.socket.once('close', resolve);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onClose) ctx.req.socket.off('close', onClose);
  }
}

/** PBS `TaskListItem`. */
export function taskListItem(t: TaskInfo): Record<string, unknown> {
  return {
    upid: t.upid,
    node: t.task.node,
    pid: t.task.pid,
    pstart: t.task.pstart,
    starttime: t.task.startTime,
    worker_type: t.task.workerType,
    worker_id: t.task.workerId ?? null,
    user: t.task.authId,
    ...(t.endTime === undefined ? {} : { endtime: t.endTime }),
    ...(t.state === undefined ? {} : { status: formatTaskState(t.state) }),
  };
}

/** PBS task status, plus Holdfast's `error-code` and `result`. */
export function taskStatus(t: TaskInfo): Record<string, unknown> {
  return {
    upid: t.upid,
    node: t.task.node,
    pid: t.task.pid,
    pstart: t.task.pstart,
    starttime: t.task.startTime,
    type: t.task.workerType,
    id: t.task.workerId ?? null,
    user: t.task.authId,
    status: t.state === undefined ? 'running' : 'stopped',
    ...(t.state === undefined ? {} : { exitstatus: formatTaskState(t.state), endtime: t.endTime }),
    ...(t.errorCode === undefined ? {} : { 'error-code': t.errorCode }),
    ...(t.result === undefined ? {} : { result: t.result }),
  };
}

export function taskRoutes(jobs: JobServices, auth: AuthPort): Route[] {
  const checkNode = (ctx: RouteContext): void => {
    const node = ctx.params['node'] ?? '';
    if (node !== 'localhost' && node !== jobs.tasks.node) throw fail('NOT_FOUND', `no node '${node}'`, { node });
  };
  const mayAccess = async (authId: string, t: TaskInfo, priv: 'Sys.Audit' | 'Sys.Modify'): Promise<boolean> =>
    ownerMatches(t.task.authId, authId) || hasPrivilege(auth, authId, TASKS_ACL, [priv]);
  const visibleTask = async (ctx: RouteContext): Promise<TaskInfo> => {
    checkNode(ctx);
    const t = await jobs.tasks.status(ctx.params['upid'] ?? '');
    if (!(await mayAccess(ctx.authId, t, 'Sys.Audit'))) throw fail('FORBIDDEN', `${ctx.authId} may not see task ${t.upid}`, { upid: t.upid });
    return t;
  };
  return [
    {
      method: 'GET',
      path: BASE,
      privilege: () => null,
      handler: async (ctx) => {
        checkNode(ctx);
        const all = await hasPrivilege(auth, ctx.authId, TASKS_ACL, ['Sys.Audit']);
        const store = text(ctx.args, 'store');
        const errorsOnly = bool(ctx.args, 'errors') === true;
        const typeFilter = text(ctx.args, 'typefilter');
        const list = await jobs.tasks.list({
          running: bool(ctx.args, 'running') === true,
          start: int(ctx.args, 'start') ?? 0,
          limit: int(ctx.args, 'limit') ?? DEFAULT_LIMIT,
          ...(typeFilter === undefined ? {} : { typeFilter }),
          filter: (t) =>
            (all || ownerMatches(t.task.authId, ctx.authId)) &&
            (store === undefined || t.task.workerId === store || (t.task.workerId ?? '').startsWith(`${store}:`)) &&
            (!errorsOnly || (t.state !== undefined && t.state.kind !== 'ok')),
        });
        return list.map(taskListItem);
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{upid}/status`,
      privilege: () => null,
      handler: async (ctx) => {
        const waitS = int(ctx.args, 'wait', { min: 0, max: MAX_WAIT_S }) ?? 0;
        const t = await visibleTask(ctx);
        if (waitS === 0 || t.state !== undefined) return taskStatus(t);
        await holdUntil(jobs.tasks.wait(t.upid), waitS * 1000, ctx);
        return taskStatus(await jobs.tasks.status(t.upid));
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{upid}/log`,
      privilege: () => null,
      handler: async (ctx) => {
        const t = await visibleTask(ctx);
        const start = int(ctx.args, 'start') ?? 0;
        const limit = int(ctx.args, 'limit') ?? DEFAULT_LIMIT;
        const { lines, total } = await jobs.tasks.readLog(t.upid, start, limit === 0 ? undefined : limit);
        const body = { data: lines.map((text, i) => ({ n: start + i + 1, t: text })), total, active: jobs.tasks.isRunning(t.upid) };
        return new RawResponse(Buffer.from(JSON.stringify(body)), { 'content-type': 'application/json; charset=utf-8' });
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/{upid}`,
      privilege: () => null,
      handler: async (ctx) => {
        checkNode(ctx);
        const t = await jobs.tasks.status(ctx.params['upid'] ?? '');
        if (!(await mayAccess(ctx.authId, t, 'Sys.Modify'))) throw fail('FORBIDDEN', `${ctx.authId} may not stop task ${t.upid}`, { upid: t.upid });
        await jobs.tasks.stop(t.upid);
        return null;
      },
    },
  ];
}
