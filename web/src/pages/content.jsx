// Datastore content as a tree: namespace → group → snapshot → archive. Groups open on demand
// (<details>), so a large store costs one listing per group the operator opens. Namespaces are
// created by path (its parent must exist) and an empty one deleted (the server refuses one that
// holds a group, and says which). Per snapshot:
// verify state, encrypted, protected (toggle), notes (editable), size, archives, forget; per
// group: its owner and comment (its notes' first line), its notes (editable), a prune preview (dry run) with a keep-last policy, change owner, a move to
// another namespace (a `move-group` task, followed to its end; the tree is then read again), and
// remove (protected snapshots stay, and keep the group).
import { useState } from 'preact/hooks';
import { api, storePath, taskPath } from '../api.js';
import { Badge, ConfirmButton, Loaded, StorePage } from '../components.jsx';
import { iso, size, snapshotId } from '../format.js';
import { focusOnMount, href, notify, useAction, useLoad } from '../hooks.js';
import { S, VERIFY_LABEL } from '../strings.js';
import { FileBrowser, isBrowsable } from './file-browser.jsx';

export function Content({ args }) {
  return (
    <StorePage title={S.content.title} page="content" args={args}>
      {(store) => <Namespaces key={store} store={store} />}
    </StorePage>
  );
}

function Namespaces({ store }) {
  const nss = useLoad(() => api('GET', storePath(store, '/namespace')), [store]);
  // bumped after a move, so that every namespace's group list is read again
  const [generation, setGeneration] = useState(0);
  const moved = () => setGeneration((g) => g + 1);
  const [busy, run] = useAction();
  const create = async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const path = String(new FormData(form).get('ns') ?? '').trim().replace(/^\/+|\/+$/g, '');
    const cut = path.lastIndexOf('/');
    const params = cut < 0 ? { name: path } : { parent: path.slice(0, cut), name: path.slice(cut + 1) };
    if ((await run(() => api('POST', storePath(store, '/namespace'), params).then(() => true), S.content.nsCreated(path))) === true) {
      form.reset();
      nss.reload();
    }
  };
  const remove = (ns) => run(() => api('DELETE', storePath(store, '/namespace'), { ns }), S.content.nsDeleted(ns)).then(nss.reload);
  return (
    <>
      <form class="ns-create row" onSubmit={create}>
        <label>
          {S.content.nsNew} <input name="ns" required placeholder="dept/web" pattern="[A-Za-z0-9_][A-Za-z0-9._\-]*(/[A-Za-z0-9_][A-Za-z0-9._\-]*)*" />
        </label>{' '}
        <button type="submit" disabled={busy}>
          {S.content.nsCreate}
        </button>
      </form>
      <Loaded load={nss}>
        {(list) => (
          <ul class="tree" aria-label={S.content.namespace}>
            {list.map(({ ns }) => (
              <li key={ns} class="ns" data-ns={ns} style={{ marginInlineStart: `${ns === '' ? 0 : ns.split('/').length}rem` }}>
                <details open={ns === ''}>
                  <summary>
                    {S.content.namespace}: {ns === '' ? S.content.root : ns}
                  </summary>
                  {ns !== '' && <ConfirmButton label={S.content.nsDelete} what={S.content.nsDeleteWhat(ns)} class="ns-delete" disabled={busy} onConfirm={() => void remove(ns)} />}
                  <Groups key={`${ns}:${generation}`} store={store} ns={ns} namespaces={list.map((n) => n.ns)} onMoved={moved} />
                </details>
              </li>
            ))}
          </ul>
        )}
      </Loaded>
    </>
  );
}

function Groups({ store, ns, namespaces, onMoved }) {
  const groups = useLoad(() => api('GET', storePath(store, '/groups'), { ns }), [store, ns]);
  // a forget changes the group's snapshot count (or removes the group)
  return (
    <Loaded load={groups}>
      {(list) =>
        list.length === 0 ? (
          <p class="muted">{S.content.empty}</p>
        ) : (
          <ul class="groups">
            {list.map((g) => (
              <Group key={`${g['backup-type']}/${g['backup-id']}`} store={store} ns={ns} group={g} onChange={groups.reload} namespaces={namespaces} onMoved={onMoved} />
            ))}
          </ul>
        )
      }
    </Loaded>
  );
}

function Group({ store, ns, group, onChange, namespaces, onMoved }) {
  const [open, setOpen] = useState(false);
  const [editingNotes, setEditingNotes] = useState(false);
  const name = `${group['backup-type']}/${group['backup-id']}`;
  const refArgs = { ns, 'backup-type': group['backup-type'], 'backup-id': group['backup-id'] };
  return (
    <li class="group" data-group={name}>
      <details onToggle={(e) => setOpen(e.currentTarget.open)}>
        <summary>
          {name} <span class="muted">{S.content.snapshots(group['backup-count'])}</span> {group.owner && <span class="muted owner">{S.content.ownedBy(group.owner)}</span>}{' '}
          {group.comment && <span class="group-comment">{group.comment}</span>}
        </summary>
        {open && <Snapshots store={store} ns={ns} group={group} onChange={onChange} />}
        {open && !editingNotes && (
          <button type="button" class="edit-group-notes" onClick={() => setEditingNotes(true)}>
            {S.content.editGroupNotes}
          </button>
        )}
        {open && editingNotes && (
          <Notes
            store={store}
            refArgs={refArgs}
            path="/group-notes"
            label={S.content.notesFor(name)}
            onDone={(saved) => {
              setEditingNotes(false);
              if (saved) onChange();
            }}
          />
        )}
        {open && <ChangeOwner store={store} ns={ns} group={group} onChange={onChange} />}
        {open && namespaces.length > 1 && <MoveGroup store={store} ns={ns} group={group} name={name} namespaces={namespaces} onMoved={onMoved} />}
        {open && <RemoveGroup store={store} ns={ns} group={group} name={name} onChange={onChange} />}
      </details>
    </li>
  );
}

function Snapshots({ store, ns, group, onChange }) {
  const ref = { ns, 'backup-type': group['backup-type'], 'backup-id': group['backup-id'] };
  const snaps = useLoad(() => api('GET', storePath(store, '/snapshots'), ref), [store, ns, group['backup-type'], group['backup-id']]);
  return (
    <>
      <Loaded load={snaps}>
        {(list) => (
          <div class="scroll">
            <table class="snapshots">
              <thead>
                <tr>
                  <th scope="col">{S.content.time}</th>
                  <th scope="col">{S.content.size}</th>
                  <th scope="col">{S.content.archives}</th>
                  <th scope="col">{S.content.verify}</th>
                  <th scope="col">{S.content.encrypted}</th>
                  <th scope="col">{S.content.protected}</th>
                  <th scope="col">{S.content.actions}</th>
                </tr>
              </thead>
              <tbody>
                {[...list]
                  .sort((a, b) => b['backup-time'] - a['backup-time'])
                  .map((s) => (
                    <Snapshot
                      key={s['backup-time']}
                      store={store}
                      ns={ns}
                      snap={s}
                      onChange={() => {
                        snaps.reload();
                        onChange();
                      }}
                    />
                  ))}
              </tbody>
            </table>
          </div>
        )}
      </Loaded>
      <PrunePreview
        store={store}
        refArgs={ref}
        onChange={() => {
          snaps.reload();
          onChange();
        }}
      />
    </>
  );
}

function Snapshot({ store, ns, snap, onChange }) {
  const [busy, run] = useAction();
  const [editing, setEditing] = useState(false);
  const [browsing, setBrowsing] = useState(null);
  const ref = { ns, 'backup-type': snap['backup-type'], 'backup-id': snap['backup-id'], 'backup-time': snap['backup-time'] };
  const verify = snap.verification?.state ?? 'none';
  const encrypted = (snap.files ?? []).some((f) => f['crypt-mode'] === 'encrypt');
  const act = (fn, text) => run(fn, text).then(onChange);
  const verifyNow = () =>
    run(async () => {
      const upid = await api('POST', storePath(store, '/verify'), ref);
      location.hash = href('tasks', upid);
    }, S.content.verifyStarted);
  return (
    <>
      <tr data-snapshot={snapshotId(snap)}>
        <td data-label={S.content.time}>
          {iso(snap['backup-time'])}
          {snap.comment && <div class="comment">{snap.comment}</div>}
        </td>
        <td data-label={S.content.size}>{size(snap.size)}</td>
        <td data-label={S.content.archives}>
          <ul class="archives">
            {(snap.files ?? []).map((f) => (
              <li key={f.filename}>
                {f.filename} <span class="muted">{size(f.size)}</span>
                {isBrowsable(f.filename) && f['crypt-mode'] !== 'encrypt' && (
                  <>
                    {' '}
                    <button type="button" class="browse" aria-expanded={browsing === f.filename} onClick={() => setBrowsing(browsing === f.filename ? null : f.filename)}>
                      {browsing === f.filename ? S.files.close : S.files.browse}
                    </button>
                  </>
                )}
              </li>
            ))}
          </ul>
        </td>
        <td data-label={S.content.verify}>
          <Badge kind={verify}>{VERIFY_LABEL[verify] ?? verify}</Badge>
        </td>
        <td data-label={S.content.encrypted}>{encrypted ? S.yes : S.no}</td>
        <td data-label={S.content.protected}>{snap.protected ? S.yes : S.no}</td>
        <td class="row-actions">
          <div>
            <button type="button" class="edit-notes" onClick={() => setEditing(!editing)} aria-expanded={editing}>
              {S.content.editNotes}
            </button>
            <button type="button" class="verify" disabled={busy} onClick={() => void verifyNow()}>
              {S.content.verifyNow}
            </button>
            <button
              type="button"
              disabled={busy}
              onClick={() => void act(() => api('PUT', storePath(store, '/protected'), { ...ref, protected: !snap.protected }), S.content.protectedSet(!snap.protected))}
            >
              {snap.protected ? S.content.unprotect : S.content.protect}
            </button>
            <ConfirmButton
              label={S.content.forget}
              what={S.content.forgetWhat}
              class="forget"
              disabled={busy || snap.protected}
              onConfirm={() => void act(() => api('DELETE', storePath(store, '/snapshots'), ref), S.content.forgotten)}
            />
          </div>
        </td>
      </tr>
      {browsing && (
        <tr class="files-row">
          <td colSpan={7}>
            <FileBrowser key={browsing} store={store} refArgs={ref} archive={browsing} />
          </td>
        </tr>
      )}
      {editing && (
        <tr class="notes-row">
          <td colSpan={7}>
            <Notes
              store={store}
              refArgs={ref}
              label={S.content.notesFor(snapshotId(snap))}
              onDone={(saved) => {
                setEditing(false);
                if (saved) onChange();
              }}
            />
          </td>
        </tr>
      )}
    </>
  );
}

/** A snapshot's notes (`/notes`) or a group's (`path="/group-notes"`), edited in a textarea. */
function Notes({ store, refArgs, label, onDone, path = '/notes' }) {
  const notes = useLoad(() => api('GET', storePath(store, path), refArgs), []);
  const [busy, run] = useAction();
  const save = async (e) => {
    e.preventDefault();
    const text = String(new FormData(e.currentTarget).get('notes') ?? '');
    const ok = await run(() => api('PUT', storePath(store, path), { ...refArgs, notes: text }).then(() => true), S.content.notesSaved);
    onDone(ok === true);
  };
  return (
    <Loaded load={notes}>
      {(text) => (
        <form class="notes" onSubmit={save}>
          <label>
            {label}
            <textarea name="notes" rows={4} defaultValue={text} ref={focusOnMount} />
          </label>
          <div class="actions">
            <button type="submit" disabled={busy}>
              {S.save}
            </button>
            <button type="button" onClick={() => onDone(false)}>
              {S.cancel}
            </button>
          </div>
        </form>
      )}
    </Loaded>
  );
}

/** Removes the group with its snapshots; protected ones stay, and keep the group (the notice says how many). */
function RemoveGroup({ store, ns, group, name, onChange }) {
  const [busy, run] = useAction();
  const remove = async () => {
    const args = { ns, 'backup-type': group['backup-type'], 'backup-id': group['backup-id'], 'error-on-protected': false };
    const r = await run(() => api('DELETE', storePath(store, '/groups'), args));
    if (r) {
      notify(r['protected-snapshots'] > 0 ? S.content.groupKept(name, r['protected-snapshots']) : S.content.groupRemoved(name));
      onChange();
    }
  };
  return <ConfirmButton label={S.content.groupRemove} what={S.content.groupRemoveWhat(name, group['backup-count'])} class="group-remove" disabled={busy} onConfirm={() => void remove()} />;
}

/** Waits for a task to stop (the server holds each status request up to 10 s) and gives its exit status. */
async function taskOutcome(upid) {
  for (;;) {
    const s = await api('GET', taskPath(upid, '/status'), { wait: 10 });
    if (s.status === 'stopped') return s.exitstatus ?? 'unknown';
  }
}

/** Moves the group to another namespace (POST …/move-group: a task, followed to its end). */
function MoveGroup({ store, ns, group, name, namespaces, onMoved }) {
  const [busy, run] = useAction();
  const targets = namespaces.filter((n) => n !== ns);
  const submit = async (e) => {
    e.preventDefault();
    const target = String(new FormData(e.currentTarget).get('target-ns'));
    const args = { ns, 'backup-type': group['backup-type'], 'backup-id': group['backup-id'], 'target-ns': target };
    const outcome = await run(async () => taskOutcome(await api('POST', storePath(store, '/move-group'), args)));
    if (outcome === undefined) return; // refused before a task existed: the notice says why
    notify(outcome === 'OK' ? S.content.moved(name, target, group['backup-count']) : S.content.moveFailed(outcome), outcome === 'OK' ? 'ok' : 'error');
    onMoved();
  };
  return (
    <form class="move-group" onSubmit={submit}>
      <label class="inline">
        {S.content.moveTo}{' '}
        <select name="target-ns">
          {targets.map((n) => (
            <option key={n} value={n}>
              {n === '' ? S.content.root : n}
            </option>
          ))}
        </select>
      </label>{' '}
      <button type="submit" disabled={busy}>
        {S.content.move}
      </button>
    </form>
  );
}

/** Hands the group to another user or API token (server/routes/group-owner.ts has who may). */
function ChangeOwner({ store, ns, group, onChange }) {
  const [busy, run] = useAction();
  const submit = async (e) => {
    e.preventDefault();
    const newOwner = String(new FormData(e.currentTarget).get('new-owner')).trim();
    const args = { ns, 'backup-type': group['backup-type'], 'backup-id': group['backup-id'], 'new-owner': newOwner };
    const done = await run(() => api('POST', storePath(store, '/change-owner'), args).then(() => true), S.content.ownerChanged(newOwner));
    if (done) onChange();
  };
  return (
    <form class="change-owner" onSubmit={submit}>
      <label class="inline">
        {S.content.newOwner} <input name="new-owner" required placeholder="user@pbs!token" defaultValue={group.owner ?? ''} />
      </label>{' '}
      <button type="submit" disabled={busy}>
        {S.content.changeOwner}
      </button>
    </form>
  );
}

/** Preview first (a dry run), then prune with exactly the policy that was previewed. */
function PrunePreview({ store, refArgs, onChange }) {
  const [result, setResult] = useState(null);
  const [busy, run] = useAction();
  const prune = (keepLast, dryRun) => api('POST', storePath(store, '/prune'), { ...refArgs, 'keep-last': keepLast, 'dry-run': dryRun });
  const preview = async (e) => {
    e.preventDefault();
    const keepLast = String(new FormData(e.currentTarget).get('keep-last'));
    const r = await run(() => prune(keepLast, true));
    if (r) setResult({ keepLast, entries: r });
  };
  const apply = async () => {
    const r = await run(() => prune(result.keepLast, false), S.content.pruned);
    if (r) {
      setResult(null);
      onChange();
    }
  };
  return (
    <form class="prune" onSubmit={preview}>
      <label class="inline">
        {S.content.keepLast} <input name="keep-last" type="number" min="1" defaultValue="1" required />
      </label>{' '}
      <button type="submit" disabled={busy}>
        {S.content.pruneRun}
      </button>
      {result && (
        <>
          <p class="prune-summary">{S.content.pruneResult(result.entries.filter((x) => x.keep).length, result.entries.filter((x) => !x.keep).length)}</p>
          <ul class="prune-list">
            {result.entries.map((x) => (
              <li key={x['backup-time']}>
                <Badge kind={x.keep ? 'ok' : 'failed'}>{x.keep ? S.content.keep : S.content.drop}</Badge> {iso(x['backup-time'])}
              </li>
            ))}
          </ul>
          {result.entries.some((x) => !x.keep) && (
            <ConfirmButton label={S.content.pruneApply(result.keepLast)} what={S.content.pruneWhat} class="prune-apply" disabled={busy} onConfirm={() => void apply()} />
          )}
        </>
      )}
    </form>
  );
}
