// Datastores: the configured stores (config/datastore) and the form that adds one, as PBS's "Add
// Datastore": a name, a directory on the server, the sync level (what each promises), and for an
// object store an S3 endpoint and bucket (the directory is then the local chunk cache). "Reuse"
// attaches a directory or bucket that already holds a datastore. Creating one builds 65,536
// chunk directories, which takes seconds: the button says so while it runs. Remove drops the
// config entry and keeps the data (reuse attaches it again); Destroy deletes the data too; both
// ask again in place.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ConfigPage, ConfirmButton, DataTable } from '../components.jsx';
import { datastoreCreateParams, seg } from '../format.js';
import { useAction, useLoad } from '../hooks.js';
import { S, SYNC_LEVELS } from '../strings.js';

export function Datastores() {
  const list = useLoad(() => api('GET', 'config/datastore'), []);
  const endpoints = useLoad(() => api('GET', 'config/s3'), []);
  const [busy, run] = useAction();
  const [s3, setS3] = useState('');
  // controlled, so that the default (filesystem, as the CLI's) is shown and comes back after an add
  const [level, setLevel] = useState('filesystem');
  const add = async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const params = datastoreCreateParams(Object.fromEntries(new FormData(form)));
    if ((await run(() => api('POST', 'config/datastore', params).then(() => true), S.stores.added(params.name))) === true) {
      form.reset();
      setS3('');
      setLevel('filesystem');
    }
    list.reload();
  };
  const remove = (name, destroy) => run(() => api('DELETE', `config/datastore/${seg(name)}`, destroy ? { 'destroy-data': 1 } : {}), S.stores.removed(name)).then(list.reload);
  return (
    <ConfigPage
      title={S.stores.title}
      intro={S.stores.intro}
      load={list}
      render={(stores) => (
        <DataTable
          class="datastores"
          rows={stores}
          rowKey={(d) => d.name}
          rowProps={(d) => ({ 'data-name': d.name })}
          empty={S.noEntries}
          columns={[
            { title: S.stores.name, cell: (d) => d.name },
            { title: S.stores.path, cell: (d) => d.path, class: 'wrap' },
            { title: S.stores.syncLevel, cell: (d) => d['sync-level'] },
            { title: S.stores.backend, cell: (d) => d.backend ?? S.stores.local, class: 'wrap' },
            { title: S.stores.comment, cell: (d) => d.comment ?? '', class: 'wrap' },
            {
              title: S.actionsTitle,
              cell: (d) => (
                <span class="row-actions">
                  <ConfirmButton label={S.remove} what={S.stores.removeWhat(d.name)} class="remove" disabled={busy} onConfirm={() => void remove(d.name, false)} />{' '}
                  <ConfirmButton label={S.stores.destroy} what={S.stores.destroyWhat(d.name)} class="destroy" disabled={busy} onConfirm={() => void remove(d.name, true)} />
                </span>
              ),
            },
          ]}
        />
      )}
    >
      <h3>{S.stores.add}</h3>
      <form class="row" id="datastore-form" onSubmit={add}>
        <label>
          {S.stores.name} <input name="name" required pattern="[A-Za-z0-9_][A-Za-z0-9._\-]{2,31}" />
        </label>
        <label>
          {s3 ? S.stores.cachePath : S.stores.path} <input name="path" required placeholder="/srv/backup/store1" />
        </label>
        <label>
          {S.stores.syncLevel}{' '}
          <select name="sync-level" value={level} onChange={(e) => setLevel(e.currentTarget.value)}>
            {SYNC_LEVELS.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label>
          {S.stores.s3Endpoint}{' '}
          <select name="s3-endpoint" value={s3} onChange={(e) => setS3(e.currentTarget.value)}>
            <option value="">{S.stores.noS3}</option>
            {(endpoints.data ?? []).map((ep) => (
              <option key={ep.id} value={ep.id}>
                {ep.id}
              </option>
            ))}
          </select>
        </label>
        {s3 && (
          <label>
            {S.stores.bucket} <input name="bucket" required pattern="[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]" />
          </label>
        )}
        <label>
          {S.stores.comment} <input name="comment" maxLength={256} />
        </label>
        <label class="check">
          <input name="reuse-datastore" type="checkbox" /> {S.stores.reuse}
        </label>
        <button type="submit" disabled={busy}>
          {busy ? S.stores.creating : S.stores.addButton}
        </button>
      </form>
    </ConfigPage>
  );
}
