// S3 endpoints: the object stores datastores can use (config/s3). The list shows what the server
// stores about each (never the secret key, which the server does not send back); the form adds
// one, with its secret key in a password field; a remove asks again in place.
import { api } from '../api.js';
import { ConfigPage, ConfirmButton, DataTable } from '../components.jsx';
import { seg } from '../format.js';
import { useAction, useLoad } from '../hooks.js';
import { S } from '../strings.js';

export function S3() {
  const list = useLoad(() => api('GET', 'config/s3'), []);
  const [busy, run] = useAction();
  const add = async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = Object.fromEntries(new FormData(form));
    const params = { ...f, 'path-style': f['path-style'] === 'on' ? 1 : 0 };
    if ((await run(() => api('POST', 'config/s3', params).then(() => true), S.s3.added)) === true) form.reset();
    list.reload();
  };
  return (
    <ConfigPage
      title={S.s3.title}
      intro={S.s3.intro}
      load={list}
      render={(endpoints) => (
        <DataTable
          class="s3-endpoints"
          rows={endpoints}
          rowKey={(e) => e.id}
          rowProps={(e) => ({ 'data-id': e.id })}
          empty={S.noEntries}
          columns={[
            { title: S.s3.id, cell: (e) => e.id },
            { title: S.s3.endpoint, cell: (e) => e.endpoint, class: 'wrap' },
            { title: S.s3.accessKey, cell: (e) => e['access-key'], class: 'wrap' },
            { title: S.s3.region, cell: (e) => e.region },
            { title: S.s3.pathStyle, cell: (e) => (e['path-style'] ? S.yes : S.no) },
            {
              title: S.actionsTitle,
              cell: (e) => <ConfirmButton label={S.remove} what={S.s3.removeWhat(e.id)} disabled={busy} onConfirm={() => void run(() => api('DELETE', `config/s3/${seg(e.id)}`), S.s3.removed).then(list.reload)} />,
            },
          ]}
        />
      )}
    >
      <h3>{S.s3.add}</h3>
      <form class="row" id="s3-form" onSubmit={add}>
        <label>
          {S.s3.id} <input name="id" required pattern="[A-Za-z0-9_][A-Za-z0-9._\-]{2,31}" />
        </label>
        <label>
          {S.s3.endpoint} <input name="endpoint" type="url" required placeholder="https://s3.example.com" />
        </label>
        <label>
          {S.s3.accessKey} <input name="access-key" required autoComplete="off" />
        </label>
        <label>
          {S.s3.secretKey} <input name="secret-key" type="password" required autoComplete="new-password" />
        </label>
        <label>
          {S.s3.region} <input name="region" placeholder="us-east-1" />
        </label>
        <label>
          {S.s3.fingerprint} <input name="fingerprint" />
        </label>
        <label class="check">
          <input name="path-style" type="checkbox" /> {S.s3.pathStyle}
        </label>
        <button type="submit" disabled={busy}>
          {S.s3.addButton}
        </button>
      </form>
    </ConfigPage>
  );
}
