// Building blocks shared by the pages. Everything is a real button, link or form control, so the
// whole UI works from the keyboard; destructive actions ask again in place (no modal dialogs).
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { focusOnMount, useLoad } from './hooks.js';
import { S } from './strings.js';

/** Shows a load's error or a loading line; renders `children(data)` once loaded. */
export function Loaded({ load, children }) {
  if (load.error) return <p class="error" role="alert">{S.failed(load.error.message)}</p>;
  if (load.data === undefined) return <p class="muted">{S.loading}</p>;
  return children(load.data);
}

/** A button that asks "Really …?" on the first press and acts on the second. */
export function ConfirmButton({ label, what, onConfirm, disabled, class: cls }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" class={cls} disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span class="confirm">
      <button
        type="button"
        class="danger"
        ref={focusOnMount}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {S.confirm(what)}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        {S.cancel}
      </button>
    </span>
  );
}

export function Badge({ kind, children }) {
  return <span class={`badge ${kind}`}>{children}</span>;
}

/** The datastores the caller may see (with their config), loaded once per page. */
export function useStores() {
  return useLoad(() => api('GET', 'config/datastore'), []);
}

export function StoreSelect({ stores, value, onChange, id = 'store-select' }) {
  return (
    <label class="inline" for={id}>
      {S.chooseStore}{' '}
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {stores.map((s) => (
          <option key={s.name} value={s.name}>
            {s.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * A table of `rows` in its own scroll box (so the page never scrolls sideways), or the `empty`
 * text when there are none. Each column is `{ title, cell(row), class? }`; every cell carries its
 * column's title as data-label, which `stack` tables show at phone width, where each row becomes
 * a card. `rowKey(row)` keys a row; `rowProps(row)` adds attributes (data-… for tests and CSS).
 */
export function DataTable({ class: cls, columns, rows, rowKey, rowProps, empty, stack }) {
  if (rows.length === 0 && empty !== undefined) return <p class="muted">{empty}</p>;
  return (
    <div class="scroll">
      <table class={[cls, stack ? 'stack' : ''].filter(Boolean).join(' ')}>
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th scope="col" key={i}>
                {c.title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)} {...(rowProps?.(row) ?? {})}>
              {columns.map((c, i) => (
                <td key={i} class={c.class} data-label={c.title || undefined}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
