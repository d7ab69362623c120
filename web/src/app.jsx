// The shell: login until there is a session, then a header (user, logout), the page navigation,
// the status line and the page the hash names. Pages keep no state across navigation: each loads
// what it shows when it opens, so a reload always shows the server's current state.
import { useEffect, useState } from 'preact/hooks';
import { currentSession, login, logout, onSession } from './api.js';
import { href, notify, useNotice, useRoute } from './hooks.js';
import { S } from './strings.js';
import { Dashboard } from './pages/dashboard.jsx';
import { Content } from './pages/content.jsx';
import { Options } from './pages/options.jsx';
import { Tasks } from './pages/tasks.jsx';
import { Access } from './pages/access.jsx';
import { Remotes } from './pages/remotes.jsx';
import { SyncJobs } from './pages/sync-jobs.jsx';
import { S3 } from './pages/s3.jsx';
import { Datastores } from './pages/datastores.jsx';
import { Notifications } from './pages/notifications.jsx';
import { Benchmarks } from './pages/benchmarks.jsx';

const PAGES = { dashboard: Dashboard, content: Content, options: Options, tasks: Tasks, access: Access, remotes: Remotes, sync: SyncJobs, stores: Datastores, s3: S3, notifications: Notifications, benchmarks: Benchmarks };
const NAV = ['dashboard', 'content', 'options', 'tasks', 'access', 'remotes', 'sync', 'stores', 's3', 'notifications', 'benchmarks'];

export function App() {
  const [session, setSession] = useState(currentSession());
  useEffect(
    () =>
      onSession((s, why) => {
        setSession(s);
        if (why === 'expired') notify(S.sessionExpired, 'error');
      }),
    [],
  );
  return (
    <>
      <a class="skip" href="#main">
        {S.skip}
      </a>
      <header>
        <h1>{S.app}</h1>
        {session && (
          <>
            <span id="who">{session.username}</span>
            <button type="button" id="logout" onClick={() => void logout()}>
              {S.logout}
            </button>
          </>
        )}
      </header>
      {session ? <Main /> : <Login />}
    </>
  );
}

function Main() {
  const route = useRoute();
  const Page = PAGES[route.page] ?? Dashboard;
  return (
    <>
      <nav aria-label={S.nav.label}>
        <ul>
          {NAV.map((p) => (
            <li key={p}>
              <a href={href(p)} aria-current={route.page === p ? 'page' : undefined}>
                {S.nav[p]}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <Notice />
      <main id="main" tabIndex={-1}>
        <Page args={route.args} />
      </main>
    </>
  );
}

function Notice() {
  const notice = useNotice();
  return (
    <p id="notice" class={notice ? `notice ${notice.kind}` : 'notice'} role="status" aria-live="polite">
      {notice?.text ?? ''}
    </p>
  );
}

function Login() {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setBusy(true);
    try {
      await login(String(f.get('username')), String(f.get('password')));
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  };
  return (
    <main id="login-view">
      <h2>{S.login.title}</h2>
      <form id="login" onSubmit={submit}>
        <label>
          {S.login.user} <input name="username" defaultValue="admin@pbs" autoComplete="username" required />
        </label>
        <label>
          {S.login.password} <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? S.login.busy : S.login.submit}
        </button>
        <p class="error" id="login-error" role="alert">
          {error}
        </p>
      </form>
    </main>
  );
}
