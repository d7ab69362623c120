// Sync jobs (config/sync): the list with each job's last run, one form that adds a job or, after
// Edit, changes one, and Run now, which starts a `syncjob` task (admin/sync/{id}/run) and shows
// its live log here with the tasks page's TaskLog until it ends, then reloads the list.
// The server keeps no last-run state per job, so the last run is the newest `syncjob` task whose
// worker id is the job's id among the tasks the caller may see (scheduled runs are root@pam's,
// visible with Sys.Audit). An edit sends every field as entered and `delete` for an option that
// was set and is now empty, so the job returns to that option's default.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ConfigPage, ConfirmButton, DataTable, Loaded, useStores } from '../components.jsx';
import { iso, lastTaskById, parseQuotedList, seg } from '../format.js';
import { focusOnMount, href, useAction, useLoad } from '../hooks.js';
import { S } from '../strings.js';
import { StatusBadge, TaskLog } from './tasks.jsx';

const BASE = 'config/sync';
/** Text options of the form; every one may be emptied (returned to its default) by an edit. */
const TEXT_KEYS = ['ns', 'remote-ns', 'max-depth', 'transfer-last', 'rate-in', 'burst-in', 'rate-out', 'burst-out', 'worker-threads', 'schedule', 'owner', 'comment'];
const FLAGS = ['remove-vanished', 'verified-only', 'encrypted-only', 'resync-corrupt'];
const DIRECTIONS = ['pull', 'push'];

export function SyncJobs() {
  const jobs = useLoad(() => api('GET', BASE), []);
  const tasks = useLoad(() => api('GET', 'nodes/localhost/tasks', { typefilter: 'syncjob', limit: 500 }), []);
  const remotes = useLoad(() => api('GET', 'config/remote'), []);
  const stores = useStores();
  const [editing, setEditing] = useState(null);
  const [running, setRunning] = useState(null);
  const [busy, act] = useAction();
  const runNow = async (id) => {
    const upid = await act(() => api('POST', `admin/sync/${seg(id)}/run`), S.sync.started(id));
    if (upid) setRunning({ id, upid });
    tasks.reload();
  };
  const done = () => {
    setEditing(null);
    jobs.reload();
  };
  return (
    <ConfigPage
      title={S.sync.title}
      intro={S.sync.intro}
      load={jobs}
      render={(list) => (
        <JobTable
          jobs={list}
          last={lastTaskById(tasks.data ?? [])}
          busy={busy}
          onRun={(id) => void runNow(id)}
          onEdit={setEditing}
          onRemove={(id) => void act(() => api('DELETE', `${BASE}/${seg(id)}`), S.sync.removed).then(jobs.reload)}
        />
      )}
    >
      {running && <RunLog key={running.upid} run={running} onEnd={tasks.reload} />}
      <Loaded load={remotes}>
        {(rs) =>
          rs.length === 0 ? (
            <p class="muted">
              <a href={href('remotes')}>{S.sync.noRemotes}</a>
            </p>
          ) : (
            <JobForm key={editing?.id ?? '+'} job={editing} remotes={rs} stores={stores.data ?? []} onDone={done} onCancel={() => setEditing(null)} />
          )
        }
      </Loaded>
    </ConfigPage>
  );
}

function JobTable({ jobs, last, busy, onRun, onEdit, onRemove }) {
  return (
    <DataTable
      class="sync-jobs"
      stack
      rows={jobs}
      rowKey={(j) => j.id}
      rowProps={(j) => ({ 'data-id': j.id })}
      empty={S.noEntries}
      columns={[
        { title: S.sync.id, cell: (j) => <JobId job={j} />, class: 'wrap' },
        { title: S.sync.direction, cell: (j) => j['sync-direction'] ?? 'pull' },
        { title: S.sync.local, cell: (j) => S.sync.placeLocal(j.store, j.ns), class: 'wrap' },
        { title: S.sync.remoteSide, cell: (j) => S.sync.place(j.remote, j['remote-store'], j['remote-ns']), class: 'wrap' },
        { title: S.sync.schedule, cell: (j) => j.schedule ?? S.sync.noSchedule },
        { title: S.sync.lastRun, cell: (j) => <LastRun task={last.get(j.id)} />, class: 'last-run' },
        {
          title: S.actionsTitle,
          cell: (j) => (
            <span class="cell-actions">
              <button type="button" class="run" disabled={busy} onClick={() => onRun(j.id)}>
                {S.sync.run}
              </button>
              <button type="button" class="edit" onClick={() => onEdit(j)}>
                {S.sync.edit}
              </button>
              <ConfirmButton label={S.remove} what={S.sync.removeWhat(j.id)} disabled={busy} onConfirm={() => onRemove(j.id)} />
            </span>
          ),
        },
      ]}
    />
  );
}

function JobId({ job }) {
  return (
    <>
      {job.id} {job.comment && <div class="comment">{job.comment}</div>}
    </>
  );
}

function LastRun({ task }) {
  if (!task) return <span class="muted">{S.sync.never}</span>;
  return (
    <a href={href('tasks', task.upid)}>
      <StatusBadge status={task.status} /> {iso(task.starttime)}
    </a>
  );
}

/** The live log of a run started here; focus moves to its heading so a keyboard user follows. */
function RunLog({ run, onEnd }) {
  return (
    <section class="run-log" aria-labelledby="run-log-title">
      <div class="titlebar">
        <h3 id="run-log-title" ref={focusOnMount} tabIndex={-1}>
          {S.sync.runTitle(run.id)}
        </h3>
        <a href={href('tasks', run.upid)}>{S.sync.openTask}</a>
      </div>
      <TaskLog upid={run.upid} onEnd={onEnd} />
    </section>
  );
}

/** The API parameters from the form: for a new job only what is set, for an edit also `delete`. */
function paramsOf(form, job) {
  const f = new FormData(form);
  const value = (k) => String(f.get(k) ?? '').trim();
  const out = { store: value('store'), remote: value('remote'), 'remote-store': value('remote-store'), 'sync-direction': value('sync-direction') };
  for (const k of TEXT_KEYS) out[k] = value(k);
  for (const k of FLAGS) out[k] = f.get(k) === 'on';
  const filters = value('group-filter')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (filters.length > 0) out['group-filter'] = filters;
  if (!job) return { id: value('id'), ...out };
  const drop = TEXT_KEYS.filter((k) => out[k] === '' && job[k] !== undefined);
  if (filters.length === 0 && job['group-filter'] !== undefined) drop.push('group-filter');
  return drop.length ? { ...out, delete: drop } : out;
}

function JobForm({ job, remotes, stores, onDone, onCancel }) {
  const [busy, run] = useAction();
  const submit = async (e) => {
    e.preventDefault();
    const params = paramsOf(e.currentTarget, job);
    const ok = job
      ? await run(() => api('PUT', `${BASE}/${seg(job.id)}`, params).then(() => true), S.sync.saved)
      : await run(() => api('POST', BASE, params).then(() => true), S.sync.added);
    if (ok) onDone();
  };
  const text = (k, label, props = {}) => (
    <label>
      {label} <input name={k} defaultValue={job?.[k]} {...props} />
    </label>
  );
  const flag = (k, label) => (
    <label class="check">
      <input type="checkbox" name={k} defaultChecked={job?.[k] === 'true'} /> {label}
    </label>
  );
  return (
    <>
      <h3>{job ? S.sync.editTitle(job.id) : S.sync.add}</h3>
      <form id="sync-form" class="sync-form" onSubmit={submit}>
        <fieldset>
          <legend>{S.sync.what}</legend>
          <div class="row">
            {!job && text('id', S.sync.id, { required: true, pattern: '[A-Za-z0-9_][A-Za-z0-9._\\-]{2,31}' })}
            <Choice name="sync-direction" label={S.sync.direction} value={job?.['sync-direction'] ?? 'pull'} options={DIRECTIONS.map((d) => [d, S.sync.directions[d]])} focus={!!job} />
            <Choice name="store" label={S.sync.store} value={job?.store} options={stores.map((s) => [s.name, s.name])} />
            {text('ns', S.sync.ns, { placeholder: S.sync.nsPlaceholder })}
            <Choice name="remote" label={S.sync.remote} value={job?.remote} options={remotes.map((r) => [r.name, r.name])} />
            {text('remote-store', S.sync.remoteStore, { required: true })}
            {text('remote-ns', S.sync.remoteNs, { placeholder: S.sync.nsPlaceholder })}
            {text('max-depth', S.sync.maxDepth, { type: 'number', min: 0, max: 7 })}
            {text('transfer-last', S.sync.transferLast, { type: 'number', min: 1 })}
          </div>
          <label>
            {S.sync.groupFilter} <textarea name="group-filter" rows={3} defaultValue={parseQuotedList(job?.['group-filter']).join('\n')} />
          </label>
          {flag('remove-vanished', S.sync.removeVanished)}
          {flag('verified-only', S.sync.verifiedOnly)}
          {flag('encrypted-only', S.sync.encryptedOnly)}
          {flag('resync-corrupt', S.sync.resyncCorrupt)}
        </fieldset>
        <fieldset>
          <legend>{S.sync.limits}</legend>
          <div class="row">
            {text('rate-in', S.sync.rateIn)}
            {text('burst-in', S.sync.burstIn)}
            {text('rate-out', S.sync.rateOut)}
            {text('burst-out', S.sync.burstOut)}
            {text('worker-threads', S.sync.workerThreads, { type: 'number', min: 1, max: 32 })}
            {text('schedule', S.sync.schedule, { placeholder: S.sync.schedulePlaceholder })}
            {text('owner', S.sync.owner, { placeholder: 'root@pam' })}
            {text('comment', S.sync.comment)}
          </div>
        </fieldset>
        <div class="actions">
          <button type="submit" disabled={busy}>
            {job ? S.sync.saveButton : S.sync.addButton}
          </button>
          {job && (
            <button type="button" onClick={onCancel}>
              {S.cancel}
            </button>
          )}
        </div>
      </form>
    </>
  );
}

function Choice({ name, label, value, options, focus }) {
  return (
    <label>
      {label}{' '}
      <select name={name} ref={focus ? focusOnMount : undefined}>
        {options.map(([v, text]) => (
          <option key={v} value={v} selected={v === value}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}
