// Notifications: targets (webhook, SMTP) and the matchers that route task outcomes to them
// (config/notifications). Secrets (a webhook's Authorization header, an SMTP password) go in
// password fields and are never shown: the list says only whether one is stored.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ConfigPage, ConfirmButton, Loaded } from '../components.jsx';
import { seg } from '../format.js';
import { useAction, useLoad } from '../hooks.js';
import { S, SEVERITIES, TASK_TYPES } from '../strings.js';

const BASE = 'config/notifications';

export function Notifications() {
  const targets = useLoad(() => api('GET', `${BASE}/targets`), []);
  const matchers = useLoad(() => api('GET', `${BASE}/matchers`), []);
  return (
    <ConfigPage title={S.notify.title}>
      <Targets targets={targets} />
      <Matchers matchers={matchers} targets={targets} />
    </ConfigPage>
  );
}

const destination = (t) => (t.type === 'webhook' ? t.url : S.notify.smtpTo(t.mailto.join(', '), `${t.server}:${t.port}`, t.mode));

function Targets({ targets }) {
  const [busy, run] = useAction();
  const [kind, setKind] = useState('webhook');
  const add = async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const { kind: _kind, ...params } = Object.fromEntries(new FormData(form));
    if ((await run(() => api('POST', `${BASE}/endpoints/${kind}`, params).then(() => true), S.notify.targetAdded)) === true) form.reset();
    targets.reload();
  };
  return (
    <>
      <h3>{S.notify.targets}</h3>
      <Loaded load={targets}>
        {(list) =>
          list.length === 0 ? (
            <p class="muted">{S.noEntries}</p>
          ) : (
            <ul class="entries targets">
              {list.map((t) => (
                <li key={t.name} data-name={t.name}>
                  <strong>{t.name}</strong> <span class="muted">{t.type}</span> <span class="wrap">{destination(t)}</span> {t['secret-set'] && <span class="badge none">{S.notify.secretSet}</span>}{' '}
                  <ConfirmButton label={S.remove} what={S.notify.removeWhat(t.name)} disabled={busy} onConfirm={() => void run(() => api('DELETE', `${BASE}/endpoints/${seg(t.name)}`), S.notify.removed).then(targets.reload)} />
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
      <form class="row" id="target-form" onSubmit={add}>
        <label>
          {S.notify.type}{' '}
          <select name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
            <option value="webhook">webhook</option>
            <option value="smtp">smtp</option>
          </select>
        </label>
        <label>
          {S.notify.name} <input name="name" required pattern="[A-Za-z0-9_.\-]{1,64}" />
        </label>
        {kind === 'webhook' ? (
          <>
            <label>
              {S.notify.url} <input name="url" type="url" required />
            </label>
            <label>
              {S.notify.webhookSecret} <input name="secret" type="password" autoComplete="off" />
            </label>
          </>
        ) : (
          <>
            <label>
              {S.notify.server} <input name="server" required />
            </label>
            <label>
              {S.notify.mode}{' '}
              <select name="mode">
                <option value="starttls">starttls</option>
                <option value="tls">tls</option>
                <option value="insecure">insecure</option>
              </select>
            </label>
            <label>
              {S.notify.from} <input name="from-address" type="email" required />
            </label>
            <label>
              {S.notify.mailto} <input name="mailto" required />
            </label>
            <label>
              {S.notify.username} <input name="username" autoComplete="off" />
            </label>
            <label>
              {S.notify.password} <input name="password" type="password" autoComplete="new-password" />
            </label>
          </>
        )}
        <button type="submit" disabled={busy}>
          {S.notify.addTarget}
        </button>
      </form>
    </>
  );
}

function Matchers({ matchers, targets }) {
  const [busy, run] = useAction();
  const add = async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const params = { name: f.get('name'), 'match-severity': f.getAll('match-severity').join(','), 'match-type': f.getAll('match-type').join(','), target: f.getAll('target').join(',') };
    if ((await run(() => api('POST', `${BASE}/matchers`, params).then(() => true), S.notify.matcherAdded)) === true) form.reset();
    matchers.reload();
  };
  return (
    <>
      <h3>{S.notify.matchers}</h3>
      <Loaded load={matchers}>
        {(list) =>
          list.length === 0 ? (
            <p class="muted">{S.noEntries}</p>
          ) : (
            <ul class="entries matchers">
              {list.map((m) => (
                <li key={m.name} data-name={m.name}>
                  <strong>{m.name}</strong> {S.notify.matcherText(m['match-severity'], m['match-type'], m.target)}{' '}
                  <ConfirmButton label={S.remove} what={S.notify.removeWhat(m.name)} disabled={busy} onConfirm={() => void run(() => api('DELETE', `${BASE}/matchers/${seg(m.name)}`), S.notify.removed).then(matchers.reload)} />
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
      <form id="matcher-form" onSubmit={add}>
        <label>
          {S.notify.name} <input name="name" required pattern="[A-Za-z0-9_.\-]{1,64}" />
        </label>
        <fieldset>
          <legend>{S.notify.severities}</legend>
          {SEVERITIES.map((s) => (
            <label class="check" key={s}>
              <input type="checkbox" name="match-severity" value={s} /> {s}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>{S.notify.types}</legend>
          {TASK_TYPES.map((t) => (
            <label class="check" key={t}>
              <input type="checkbox" name="match-type" value={t} /> {t}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>{S.notify.sendTo}</legend>
          {(targets.data ?? []).map((t) => (
            <label class="check" key={t.name}>
              <input type="checkbox" name="target" value={t.name} /> {t.name}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={busy}>
          {S.notify.addMatcher}
        </button>
      </form>
    </>
  );
}
