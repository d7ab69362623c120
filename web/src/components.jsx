// Building blocks shared by the pages. Everything is a real button, link or form control, so the
// whole UI works from the keyboard; destructive actions ask again in place (no modal dialogs).
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { focusOnMount, href, useLoad } from './hooks.js';
import { S } from './strings.js';

/** Shows a load's error or a loading line; renders `children(data)` once loaded. */
export function Loaded({ load, children }) {
  if (load.error) return <p class="error" role="alert">{S.failed(load.error.message)}</p>;
  if (load.data === undefined) return <p class="muted">{S.loading}</p>;
  return children(load.data);
}

/**
 * The frame the pages share: a section headed by `title`, the `intro` line when the page has one,
 * `render(data)` once `load` has loaded (its error or loading line until then; no `load`, no such
 * part), then `children`, which show at once whatever the load's state, so a page's forms stay
 * usable while its list loads or after the load failed.
 */
export function ConfigPage({ title, intro, load, render, children }) {
  return (
    <section>
      <h2>{title}</h2>
      {intro && <p class="muted">{intro}</p>}
      {load && <Loaded load={load}>{render}</Loaded>}
      {children}
    </section>
  );
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
 * A page about one datastore (content, options): a ConfigPage whose loaded part is the datastore
 * chooser and `children(store)` for the chosen one. The store is the route's first argument
 * (`#/page/<store>`), or the first store when that names none the caller may see; choosing another
 * changes the hash, so a reload or a link opens the same store.
 */
export function StorePage({ title, page, args, children }) {
  const stores = useStores();
  const render = (list) => {
    if (list.length === 0) return <p>{S.noStores}</p>;
    const store = list.some((s) => s.name === args[0]) ? args[0] : list[0].name;
    return (
      <>
        <StoreSelect stores={list} value={store} onChange={(name) => (location.hash = href(page, name))} />
        {children(store)}
      </>
    );
  };
  return <ConfigPage title={title} load={stores} render={render} />;
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
