// Datastore options: the sync level (with what it promises and what it costs), the GC, prune and
// verify schedules, verify-new, the prune policy and maintenance mode (read-only/offline, as PBS). Saving changes only the tuning key it edits: the
// other keys of the tuning string stay as they were.
import { api } from '../api.js';
import { Loaded, StorePage } from '../components.jsx';
import { seg, withTuning } from '../format.js';
import { useAction, useLoad } from '../hooks.js';
import { S, SYNC_LEVELS } from '../strings.js';

const KEEP = ['keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly'];
const TEXT = ['gc-schedule', 'prune-schedule', 'verify-schedule'];
const TEXT_LABEL = { 'gc-schedule': 'gcSchedule', 'prune-schedule': 'pruneSchedule', 'verify-schedule': 'verifySchedule' };

export function Options({ args }) {
  return (
    <StorePage title={S.options.title} page="options" args={args}>
      {(store) => <OptionsForm key={store} store={store} />}
    </StorePage>
  );
}

/** The PUT parameters: changed fields, and `delete` for the ones emptied. */
function changes(cfg, form) {
  const out = {};
  const del = [];
  const level = String(form.get('sync-level'));
  if (level !== cfg['sync-level']) out.tuning = withTuning(cfg.tuning, 'sync-level', level);
  for (const k of [...TEXT, ...KEEP]) {
    const v = String(form.get(k) ?? '').trim();
    const was = cfg[k] === undefined ? '' : String(cfg[k]);
    if (v === was) continue;
    if (v === '') del.push(k);
    else out[k] = v;
  }
  const type = String(form.get('maintenance-type') ?? '');
  const message = String(form.get('maintenance-message') ?? '').trim();
  const mode = type === '' ? '' : `type=${type}${message ? `,message=${quoteValue(message)}` : ''}`;
  if (mode !== (cfg['maintenance-mode'] ?? '')) {
    if (mode === '') del.push('maintenance-mode');
    else out['maintenance-mode'] = mode;
  }
  const verifyNew = form.get('verify-new') === 'on';
  if (verifyNew !== (cfg['verify-new'] === true || cfg['verify-new'] === 'true')) out['verify-new'] = verifyNew;
  if (del.length) out.delete = del.join(',');
  return out;
}

/** A property-string value, quoted when it holds a comma, a quote or a backslash. */
function quoteValue(v) {
  return /[,"\\]/.test(v) ? `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"` : v;
}

/** `type=read-only,message=…` (or a bare type) as { type, message }. */
function parseMode(text) {
  if (!text) return { type: '', message: '' };
  const type = /(?:^|,)(?:type=)?(read-only|offline)(?:,|$)/.exec(text)?.[1] ?? '';
  const m = /message=("(?:[^"\\]|\\.)*"|[^,]*)/.exec(text)?.[1] ?? '';
  return { type, message: m.startsWith('"') ? m.slice(1, -1).replace(/\\(.)/g, '$1') : m };
}

const MODES = [
  ['', 'maintenanceNone'],
  ['read-only', 'maintenanceReadOnly'],
  ['offline', 'maintenanceOffline'],
];

function OptionsForm({ store }) {
  const cfg = useLoad(() => api('GET', `config/datastore/${seg(store)}`), [store]);
  const [busy, run] = useAction();
  const save = async (e) => {
    e.preventDefault();
    const params = changes(cfg.data, new FormData(e.currentTarget));
    await run(() => api('PUT', `config/datastore/${seg(store)}`, params), S.options.saved);
    cfg.reload();
  };
  return (
    <Loaded load={cfg}>
      {(c) => (
        <form class="options" onSubmit={save}>
          <fieldset>
            <legend>{S.options.syncLevel}</legend>
            {SYNC_LEVELS.map((l) => (
              <label key={l} class="radio">
                <input type="radio" name="sync-level" value={l} defaultChecked={c['sync-level'] === l} />
                <strong>{l}</strong>
                <span class="promise">{S.syncPromise[l]}</span>
                <span class="muted">{S.syncCost[l]}</span>
              </label>
            ))}
          </fieldset>
          <fieldset>
            <legend>{S.options.schedules}</legend>
            {TEXT.map((k) => (
              <label key={k}>
                {S.options[TEXT_LABEL[k]]}{' '}
                <input name={k} defaultValue={c[k] ?? ''} placeholder={S.options.schedulePlaceholder} />
              </label>
            ))}
            <label class="check">
              <input type="checkbox" name="verify-new" defaultChecked={c['verify-new'] === true || c['verify-new'] === 'true'} /> {S.options.verifyNew}
            </label>
          </fieldset>
          <fieldset class="keep">
            <legend>{S.options.keep}</legend>
            {KEEP.map((k) => (
              <label key={k}>
                {k}{' '}
                <input name={k} type="number" min="1" defaultValue={c[k] ?? ''} />
              </label>
            ))}
          </fieldset>
          <fieldset class="maintenance">
            <legend>{S.options.maintenance}</legend>
            {MODES.map(([value, label]) => (
              <label key={value || 'none'} class="radio">
                <input type="radio" name="maintenance-type" value={value} defaultChecked={parseMode(c['maintenance-mode']).type === value} />
                <span>{S.options[label]}</span>
              </label>
            ))}
            <label>
              {S.options.maintenanceMessage} <input name="maintenance-message" maxLength={256} defaultValue={parseMode(c['maintenance-mode']).message} />
            </label>
          </fieldset>
          <button type="submit" disabled={busy}>
            {S.save}
          </button>
        </form>
      )}
    </Loaded>
  );
}
