// Tasks: a filterable list (type, datastore, errors only, running only) and one task's log,
// which follows a running task by asking for the lines after the last one it has until the
// server says the task is no longer active, then shows the final status.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, taskPath } from '../api.js';
import { Badge, ConfirmButton, DataTable, Loaded, useStores } from '../components.jsx';
import { iso, isTaskOk } from '../format.js';
import { href, useAction, useLoad } from '../hooks.js';
import { S, TASK_TYPES } from '../strings.js';

const FOLLOW_INTERVAL_MS = 1000;

export function Tasks({ args }) {
  return args[0] ? <TaskView upid={args[0]} /> : <TaskList />;
}

function TaskList() {
  const [filter, setFilter] = useState({ typefilter: '', store: '', errors: false, running: false });
  const stores = useStores();
  const tasks = useLoad(
    () => api('GET', 'nodes/localhost/tasks', { ...filter, errors: filter.errors ? 1 : undefined, running: filter.running ? 1 : undefined, limit: 200 }),
    [filter.typefilter, filter.store, filter.errors, filter.running],
  );
  const set = (k) => (e) => setFilter({ ...filter, [k]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value });
  return (
    <section>
      <div class="titlebar">
        <h2>{S.tasks.title}</h2>
        <button type="button" onClick={tasks.reload}>
          {S.refresh}
        </button>
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          {S.tasks.type}{' '}
          <select name="typefilter" value={filter.typefilter} onChange={set('typefilter')}>
            <option value="">{S.tasks.anyType}</option>
            {TASK_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          {S.tasks.store}{' '}
          <select name="store" value={filter.store} onChange={set('store')}>
            <option value="">{S.tasks.anyStore}</option>
            {(stores.data ?? []).map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" name="errors" checked={filter.errors} onChange={set('errors')} /> {S.tasks.errorsOnly}
        </label>
        <label class="check">
          <input type="checkbox" name="running" checked={filter.running} onChange={set('running')} /> {S.tasks.runningOnly}
        </label>
      </form>
      <Loaded load={tasks}>{(list) => (list.length === 0 ? <p class="muted">{S.tasks.empty}</p> : <TaskTable tasks={list} />)}</Loaded>
    </section>
  );
}

export function TaskTable({ tasks }) {
  return (
    <DataTable
      class="tasks"
      rows={tasks}
      rowKey={(t) => t.upid}
      columns={[
        {
          title: S.tasks.type,
          cell: (t) => (
            <a href={href('tasks', t.upid)}>
              {t.worker_type} {t.worker_id ?? ''}
            </a>
          ),
        },
        { title: S.tasks.started, cell: (t) => iso(t.starttime) },
        { title: S.tasks.user, cell: (t) => t.user },
        { title: S.tasks.status, cell: (t) => <StatusBadge status={t.status} /> },
      ]}
    />
  );
}

/** A task status: running, ok (OK or warnings) or failed. */
export function StatusBadge({ status }) {
  if (status === undefined) return <Badge kind="running">{S.tasks.running}</Badge>;
  return <Badge kind={isTaskOk(status) ? 'ok' : 'failed'}>{status}</Badge>;
}

/** Follows the log: fetches lines after `lines.length` until the task is no longer active. */
function useTaskLog(upid) {
  const [state, setState] = useState({ lines: [], active: true, status: undefined, error: undefined });
  useEffect(() => {
    let live = true;
    let timer;
    let lines = [];
    const step = async () => {
      try {
        const r = await api('GET', taskPath(upid, '/log'), { start: lines.length, limit: 0 });
        lines = lines.concat(r.data.map((l) => l.t));
        const status = r.active ? undefined : await api('GET', taskPath(upid, '/status'));
        if (!live) return;
        setState({ lines, active: r.active, status, error: undefined });
        if (r.active) timer = setTimeout(() => void step(), FOLLOW_INTERVAL_MS);
      } catch (e) {
        if (live) setState((s) => ({ ...s, active: false, error: e }));
      }
    };
    void step();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [upid]);
  return state;
}

function TaskView({ upid }) {
  return (
    <section>
      <div class="titlebar">
        <h2>{S.tasks.log}</h2>
        <a href={href('tasks')}>{S.tasks.back}</a>
      </div>
      <TaskLog upid={upid} />
    </section>
  );
}

/**
 * One task's live log: its state line, Stop while it runs, and the lines, followed to the end.
 * `onEnd` is called once when the task has ended (a page that started it reloads what it shows).
 */
export function TaskLog({ upid, onEnd }) {
  const log = useTaskLog(upid);
  const [busy, run] = useAction();
  const end = useRef(null);
  useEffect(() => end.current?.scrollIntoView?.({ block: 'nearest' }), [log.lines.length]);
  const ended = !log.active;
  useEffect(() => {
    if (ended) onEnd?.();
  }, [ended]);
  const exit = log.status?.exitstatus;
  return (
    <>
      <p class="upid">{upid}</p>
      <p id="task-state" role="status">
        {log.error ? <span class="error">{S.failed(log.error.message)}</span> : log.active ? S.tasks.following : S.tasks.finished(exit ?? '')}
        {exit !== undefined && (
          <>
            {' '}
            <StatusBadge status={exit} />
          </>
        )}
      </p>
      {log.active && !log.error && (
        <ConfirmButton label={S.tasks.stop} what={S.tasks.stopWhat} disabled={busy} onConfirm={() => void run(() => api('DELETE', taskPath(upid)), S.tasks.stopped)} />
      )}
      <pre id="task-log" tabIndex={0} aria-label={S.tasks.log}>
        {log.lines.join('\n')}
        <span ref={end} />
      </pre>
    </>
  );
}
