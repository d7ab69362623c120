// Dashboard: one card per datastore (its own stored bytes from the last GC, the filesystem it
// lives on, dedup factor, sync level with its promise, the last GC/verify/prune, a usage chart
// over time) and the running tasks. Starting GC or verify opens the task's live log. What a client
// needs to connect (each store's repository string for the logged-in user, and the certificate
// fingerprint to pin, which only Sys.Audit may read) is shown as ready-to-paste lines.
import { useState } from 'preact/hooks';
import { api, currentSession, storePath } from '../api.js';
import { Badge, Loaded } from '../components.jsx';
import { iso, isTaskOk, seg, size } from '../format.js';
import { href, useAction, useLoad } from '../hooks.js';
import { S } from '../strings.js';
import { TaskTable } from './tasks.jsx';
import { UsageChart } from './usage-chart.jsx';

export function Dashboard() {
  const [round, setRound] = useState(0);
  const stores = useLoad(() => api('GET', 'config/datastore'), [round]);
  const running = useLoad(() => api('GET', 'nodes/localhost/tasks', { running: 1 }), [round]);
  // Sys.Audit only: others see the repository lines without the fingerprint
  const node = useLoad(() => api('GET', 'nodes/localhost/status').catch(() => null), [round]);
  return (
    <section>
      <div class="titlebar">
        <h2>{S.dash.title}</h2>
        <button
          type="button"
          class="refresh"
          onClick={() => setRound(round + 1)}
        >
          {S.refresh}
        </button>
      </div>
      <Loaded load={stores}>
        {(list) => (list.length === 0 ? <p>{S.noStores}</p> : <div class="cards">{list.map((c) => <StoreCard key={c.name} config={c} round={round} />)}</div>)}
      </Loaded>
      <Loaded load={node}>{(status) => status?.info?.fingerprint && <Connection fingerprint={status.info.fingerprint} />}</Loaded>
      <h3>{S.dash.running}</h3>
      <Loaded load={running}>{(tasks) => (tasks.length === 0 ? <p class="muted">{S.dash.noRunning}</p> : <TaskTable tasks={tasks} />)}</Loaded>
    </section>
  );
}

const lastTask = (store, type) => api('GET', 'nodes/localhost/tasks', { store, typefilter: type, limit: 1 }).then((l) => l[0]);

async function loadCard(name) {
  const [status, gc, verify, prune] = await Promise.all([
    api('GET', storePath(name, '/status')),
    lastTask(name, 'garbage_collection'),
    lastTask(name, 'verify'),
    lastTask(name, 'prunejob'),
  ]);
  return { status, last: { gc, verify, prune } };
}

/** `round` changes on Refresh, which reloads every card. */
function StoreCard({ config, round }) {
  const name = config.name;
  const load = useLoad(() => loadCard(name), [name, round]);
  const [busy, run] = useAction();
  const start = (job, started) =>
    run(async () => {
      const upid = await api('POST', storePath(name, `/${job}`));
      location.hash = href('tasks', upid);
    }, started);
  return (
    <article class="card" data-store={name} aria-labelledby={`card-${seg(name)}`}>
      <h3 id={`card-${seg(name)}`}>{name}</h3>
      {config.comment && <p class="muted">{config.comment}</p>}
      <Loaded load={load}>
        {({ status, last }) => {
          const gc = status['gc-status'];
          const dedup = status['deduplication-factor'];
          return (
            <dl>
              <dt>{S.dash.stored}</dt>
              <dd class="stored">{gc ? `${size(gc['disk-bytes'])} · ${S.dash.chunks(gc['disk-chunks'])}` : S.dash.storedNone}</dd>
              <dt>{S.dash.filesystem}</dt>
              <dd>{S.dash.fsUse(size(status.used), size(status.total))}</dd>
              <dt>{S.dash.dedup}</dt>
              <dd class="dedup">{typeof dedup === 'number' ? dedup.toFixed(2) : S.dash.noDedup}</dd>
              <dt>{S.dash.syncLevel}</dt>
              <dd class="sync-level">
                <strong>{status['sync-level']}</strong> <span class="promise">{S.syncPromise[status['sync-level']] ?? ''}</span>
              </dd>
              <LastTask label={S.dash.lastGc} task={last.gc} />
              <LastTask label={S.dash.lastVerify} task={last.verify} />
              <LastTask label={S.dash.lastPrune} task={last.prune} />
              <dt>{S.dash.repository}</dt>
              <dd class="repository">
                <code>{repositoryFor(currentSession()?.username ?? 'USER@REALM', location.host, name)}</code>
              </dd>
            </dl>
          );
        }}
      </Loaded>
      <UsageChart store={name} round={round} />
      <div class="actions">
        <button type="button" class="start-gc" disabled={busy} onClick={() => void start('gc', S.dash.gcStarted)}>
          {S.dash.startGc}
        </button>
        <button type="button" class="start-verify" disabled={busy} onClick={() => void start('verify', S.dash.verifyStarted)}>
          {S.dash.startVerify}
        </button>
      </div>
    </article>
  );
}

/** The repository string a client uses for `store` as the logged-in user, on the address this page came from. */
export const repositoryFor = (user, host, store) => `${user}@${host}:${store}`;

function Connection({ fingerprint }) {
  return (
    <div class="connection">
      <h3>{S.dash.connect}</h3>
      <p class="muted">{S.dash.connectHint}</p>
      <pre class="fingerprint">export HOLDFAST_FINGERPRINT={fingerprint}</pre>
    </div>
  );
}

function LastTask({ label, task }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>
        {task ? (
          <a href={href('tasks', task.upid)}>
            <Badge kind={task.status === undefined ? 'running' : isTaskOk(task.status) ? 'ok' : 'failed'}>{task.status ?? S.tasks.running}</Badge> {iso(task.starttime)}
          </a>
        ) : (
          S.dash.never
        )}
      </dd>
    </>
  );
}
