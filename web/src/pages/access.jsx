// Access: users (add, remove), API tokens per user (the secret is shown once, right after
// creation, and never again: the server keeps only its hash) and the ACL editor.
import { useState } from 'preact/hooks';
import { api, currentSession } from '../api.js';
import { ConfigPage, ConfirmButton, DataTable, Loaded } from '../components.jsx';
import { seg } from '../format.js';
import { useAction, useLoad } from '../hooks.js';
import { ROLES, S } from '../strings.js';

export function Access() {
  const users = useLoad(() => api('GET', 'access/users', { include_tokens: 1 }), []);
  return (
    <ConfigPage title={S.access.title}>
      <Users users={users} />
      <Password users={users} />
      <Tokens users={users} />
      <Acl />
    </ConfigPage>
  );
}

function Users({ users }) {
  const [busy, run] = useAction();
  const add = async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const ok = await run(() => api('POST', 'access/users', { userid: f.get('userid'), password: f.get('password') }).then(() => true), S.access.userAdded);
    if (ok) form.reset();
    users.reload();
  };
  return (
    <>
      <h3>{S.access.users}</h3>
      <Loaded load={users}>
        {(list) => (
          <ul class="users">
            {list.map((u) => (
              <li key={u.userid}>
                {u.userid} {u.enable === false && <span class="muted">({S.no})</span>}{' '}
                <ConfirmButton label={S.remove} what={S.access.removeUser(u.userid)} disabled={busy} onConfirm={() => void run(() => api('DELETE', `access/users/${seg(u.userid)}`), S.access.userRemoved).then(users.reload)} />
              </li>
            ))}
          </ul>
        )}
      </Loaded>
      <form class="row" onSubmit={add}>
        <label>
          {S.access.userid} <input name="userid" required placeholder={S.access.useridPlaceholder} />
        </label>
        <label>
          {S.access.password} <input name="password" type="password" autoComplete="new-password" />
        </label>
        <button type="submit" disabled={busy}>
          {S.access.addUser}
        </button>
      </form>
    </>
  );
}

/** Own password (with the current one) or, for an admin, any user's. */
function Password({ users }) {
  const me = currentSession()?.username;
  const [who, setWho] = useState(me);
  const [busy, run] = useAction();
  const change = async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const params = { userid: who, password: f.get('new-password'), 'confirmation-password': who === me ? f.get('current-password') : undefined };
    if ((await run(() => api('PUT', 'access/password', params).then(() => true), S.access.passwordChanged)) === true) form.reset();
  };
  return (
    <>
      <h3>{S.access.passwordTitle}</h3>
      <form class="row" id="password-form" onSubmit={change}>
        <label>
          {S.access.userid}{' '}
          <select name="userid" value={who} onChange={(e) => setWho(e.currentTarget.value)}>
            {(users.data ?? [{ userid: me }]).map((u) => (
              <option key={u.userid} value={u.userid}>
                {u.userid}
              </option>
            ))}
          </select>
        </label>
        {who === me && (
          <label>
            {S.access.currentPassword} <input name="current-password" type="password" autoComplete="current-password" required />
          </label>
        )}
        <label>
          {S.access.newPassword} <input name="new-password" type="password" autoComplete="new-password" minLength={5} required />
        </label>
        <button type="submit" disabled={busy}>
          {S.access.changePassword}
        </button>
      </form>
    </>
  );
}

function Tokens({ users }) {
  const [secret, setSecret] = useState(null);
  const [busy, run] = useAction();
  const create = async (e) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const r = await run(() => api('POST', `access/users/${seg(f.get('userid'))}/token/${seg(f.get('name'))}`));
    if (r) setSecret(r);
    users.reload();
  };
  const remove = (tokenid) => {
    const [userid, name] = tokenid.split('!');
    return run(() => api('DELETE', `access/users/${seg(userid)}/token/${seg(name)}`), S.access.tokenRemoved).then(users.reload);
  };
  return (
    <>
      <h3>{S.access.tokens}</h3>
      <Loaded load={users}>
        {(list) => (
          <>
            <ul class="tokens">
              {list.flatMap((u) =>
                (u.tokens ?? []).map((t) => (
                  <li key={t.tokenid}>
                    {t.tokenid} <ConfirmButton label={S.remove} what={S.access.removeToken(t.tokenid)} disabled={busy} onConfirm={() => void remove(t.tokenid)} />
                  </li>
                )),
              )}
            </ul>
            <form class="row" id="token-form" onSubmit={create}>
              <label>
                {S.access.tokenName} <input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._-]*" />
              </label>
              <label>
                {S.access.tokenFor}{' '}
                <select name="userid">
                  {list.map((u) => (
                    <option key={u.userid} value={u.userid}>
                      {u.userid}
                    </option>
                  ))}
                </select>
              </label>
              <button type="submit" disabled={busy}>
                {S.access.addToken}
              </button>
            </form>
          </>
        )}
      </Loaded>
      {secret && (
        <div class="secret" role="alert">
          <p>{S.access.secretOnce}</p>
          <p>
            <code class="tokenid">{secret.tokenid}</code>
          </p>
          <label>
            {S.access.secret} <input id="token-secret" readOnly value={secret.value} onFocus={(e) => e.currentTarget.select()} />
          </label>
        </div>
      )}
    </>
  );
}

function Acl() {
  const acl = useLoad(() => api('GET', 'access/acl'), []);
  const [busy, run] = useAction();
  const update = (params, text) => run(() => api('PUT', 'access/acl', params), text).then(acl.reload);
  const grant = (e) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    void update({ path: f.get('path'), role: f.get('role'), 'auth-id': f.get('auth-id'), propagate: f.get('propagate') === 'on' }, S.access.aclAdded);
  };
  return (
    <>
      <h3>{S.access.acl}</h3>
      <Loaded load={acl}>
        {(list) => (
          <DataTable
            class="acl"
            rows={list}
            rowKey={(e) => `${e.path} ${e.ugid} ${e.roleid}`}
            empty={S.access.noEntries}
            columns={[
              { title: S.access.path, cell: (e) => e.path },
              { title: S.access.authId, cell: (e) => e.ugid },
              { title: S.access.role, cell: (e) => e.roleid },
              { title: S.access.propagate, cell: (e) => (e.propagate ? S.yes : S.no) },
              {
                title: S.actionsTitle,
                cell: (e) => <ConfirmButton label={S.remove} what={S.access.removeAcl} disabled={busy} onConfirm={() => void update({ path: e.path, role: e.roleid, 'auth-id': e.ugid, delete: true }, S.access.aclRemoved)} />,
              },
            ]}
          />
        )}
      </Loaded>
      <form class="row" onSubmit={grant}>
        <label>
          {S.access.path} <input name="path" required defaultValue={S.access.pathDefault} />
        </label>
        <label>
          {S.access.authId} <input name="auth-id" required />
        </label>
        <label>
          {S.access.role}{' '}
          <select name="role">
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" name="propagate" defaultChecked /> {S.access.propagate}
        </label>
        <button type="submit" disabled={busy}>
          {S.access.addAcl}
        </button>
      </form>
    </>
  );
}
