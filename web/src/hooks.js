// Small hooks shared by the pages: loading data with a reload handle, the current hash route,
// and the status line that gives feedback after every action.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { S } from './strings.js';

/** Runs `fn` now and whenever `deps` change; `reload()` runs it again (the Refresh buttons). */
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error) => live && setState({ data: undefined, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** The route is the hash: `#/page/arg…`, each part URI-encoded. */
export function parseHash(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'dashboard', args: parts.slice(1) };
}

export const href = (...parts) => `#/${parts.map(encodeURIComponent).join('/')}`;

export function useRoute() {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

const noticeListeners = new Set();

/** Shows `text` in the status line (an aria-live region); kind is 'ok' or 'error'. */
export function notify(text, kind = 'ok') {
  for (const fn of noticeListeners) fn({ text, kind, at: Date.now() });
}

export function useNotice() {
  const [notice, setNotice] = useState(null);
  useEffect(() => {
    noticeListeners.add(setNotice);
    return () => noticeListeners.delete(setNotice);
  }, []);
  return notice;
}

/** Wraps an action: a busy flag while it runs, then a notice of its outcome. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const run = useCallback(async (fn, okText) => {
    setBusy(true);
    try {
      const r = await fn();
      if (okText) notify(okText);
      return r;
    } catch (e) {
      notify(S.failed(e.message), 'error');
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return [busy, run];
}

/**
 * A ref callback that focuses its element when it mounts (`ref={focusOnMount}`). HTML's autofocus
 * does not act on elements added after the page loaded, so a confirm button, or a form opened
 * by Edit, would leave a keyboard user's focus behind. Being one function, the ref never changes
 * identity, so it runs on mount only, not on every render.
 */
export const focusOnMount = (el) => el?.focus();
