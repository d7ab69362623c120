// Remotes: the other servers sync jobs talk to (config/remote). The list shows what the server
// returns about each (never the password or token secret, which no answer carries); one form adds
// a remote or, after Edit, changes one (an empty password keeps the stored one; an emptied port,
// fingerprint or comment is deleted). A remote a sync job names cannot be removed: the server's
// LOCKED message, which names the jobs, stays on the page beside the list until the next action.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ConfigPage, ConfirmButton, DataTable } from '../components.jsx';
import { seg } from '../format.js';
import { focusOnMount, useAction, useLoad } from '../hooks.js';
import { S } from '../strings.js';

const BASE = 'config/remote';
/** What an edit may drop (the server's `delete` keys for a remote). */
const DELETABLE = ['port', 'fingerprint', 'comment'];

/** host:port, with an IPv6 address in brackets. */
const address = (r) => `${r.host.includes(':') ? `[${r.host}]` : r.host}:${r.port}`;

export function Remotes() {
  const list = useLoad(() => api('GET', BASE), []);
  const [editing, setEditing] = useState(null);
  const [error, setError] = useState('');
  const [busy, run] = useAction();
  const remove = (name) => {
    setError('');
    const del = async () => {
      try {
        await api('DELETE', `${BASE}/${seg(name)}`);
      } catch (e) {
        setError(S.remotes.removeFailed(name, e.message));
        throw e;
      }
    };
    return run(del, S.remotes.removed).then(list.reload);
  };
  const done = () => {
    setError('');
    setEditing(null);
    list.reload();
  };
  return (
    <ConfigPage
      title={S.remotes.title}
      intro={S.remotes.intro}
      load={list}
      render={(remotes) => (
        <DataTable
          class="remotes"
          stack
          rows={remotes}
          rowKey={(r) => r.name}
          rowProps={(r) => ({ 'data-name': r.name })}
          empty={S.noEntries}
          columns={[
            { title: S.remotes.name, cell: (r) => r.name },
            { title: S.remotes.address, cell: address },
            { title: S.remotes.authIdShort, cell: (r) => r['auth-id'] },
            { title: S.remotes.fingerprintShort, cell: (r) => (r.fingerprint ? <code class="fingerprint">{r.fingerprint}</code> : S.remotes.fingerprintNone), class: 'wrap' },
            { title: S.remotes.comment, cell: (r) => r.comment ?? '', class: 'wrap' },
            {
              title: S.actionsTitle,
              cell: (r) => (
                <span class="cell-actions">
                  <button type="button" class="edit" onClick={() => setEditing(r)}>
                    {S.remotes.edit}
                  </button>
                  <ConfirmButton label={S.remove} what={S.remotes.removeWhat(r.name)} disabled={busy} onConfirm={() => void remove(r.name)} />
                </span>
              ),
            },
          ]}
        />
      )}
    >
      {error && (
        <p class="error" id="remote-error" role="alert">
          {error}
        </p>
      )}
      <RemoteForm key={editing?.name ?? '+'} remote={editing} onDone={done} onCancel={() => setEditing(null)} />
    </ConfigPage>
  );
}

/** The PUT parameters of an edit: every field as entered, `delete` for what was emptied. */
function changes(remote, f) {
  const drop = DELETABLE.filter((k) => f[k] === '' && remote[k] !== undefined);
  return { host: f.host, port: f.port, 'auth-id': f['auth-id'], password: f.password, fingerprint: f.fingerprint, comment: f.comment, delete: drop.length ? drop : undefined };
}

function RemoteForm({ remote, onDone, onCancel }) {
  const [busy, run] = useAction();
  const submit = async (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(e.currentTarget));
    const ok = remote
      ? await run(() => api('PUT', `${BASE}/${seg(remote.name)}`, changes(remote, f)).then(() => true), S.remotes.saved)
      : await run(() => api('POST', BASE, f).then(() => true), S.remotes.added);
    if (ok) onDone();
  };
  return (
    <>
      <h3>{remote ? S.remotes.editTitle(remote.name) : S.remotes.add}</h3>
      <form class="row" id="remote-form" onSubmit={submit}>
        {!remote && (
          <label>
            {S.remotes.name} <input name="name" required pattern="[A-Za-z0-9_][A-Za-z0-9._\-]*" maxLength={32} />
          </label>
        )}
        <label>
          {S.remotes.host} <input name="host" required defaultValue={remote?.host} ref={remote ? focusOnMount : undefined} />
        </label>
        <label>
          {S.remotes.port} <input name="port" type="number" min={1} max={65535} placeholder="8007" defaultValue={remote?.port} />
        </label>
        <label>
          {S.remotes.authId} <input name="auth-id" required defaultValue={remote?.['auth-id']} autoComplete="off" />
        </label>
        <label>
          {remote ? S.remotes.passwordKeep : S.remotes.password} <input name="password" type="password" required={!remote} autoComplete="new-password" />
        </label>
        <label>
          {S.remotes.fingerprint} <input name="fingerprint" defaultValue={remote?.fingerprint} placeholder="64:d3:…" />
        </label>
        <label>
          {S.remotes.comment} <input name="comment" defaultValue={remote?.comment} />
        </label>
        <button type="submit" disabled={busy}>
          {remote ? S.remotes.saveButton : S.remotes.addButton}
        </button>
        {remote && (
          <button type="button" onClick={onCancel}>
            {S.cancel}
          </button>
        )}
      </form>
    </>
  );
}
