// A pxar archive of one snapshot, browsed as PBS's file browser does: the catalog route lists a
// directory (through the catalog or the metadata archive), folders open in place with a
// breadcrumb back, and every file or folder has a download link (a folder as .zip or .tar.zst).
// Downloads are plain links: the browser sends the HttpOnly ticket cookie itself, and a GET needs
// no CSRF token, so no file passes through script memory.
import { useState } from 'preact/hooks';
import { api, storePath } from '../api.js';
import { DataTable, Loaded } from '../components.jsx';
import { iso, size } from '../format.js';
import { useLoad } from '../hooks.js';
import { S } from '../strings.js';

/** Archives the file browser can open (unified and split pxar). */
export const isBrowsable = (filename) => /\.m?pxar\.didx$/.test(filename);

const b64 = (text) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

function downloadHref(store, refArgs, filepath, tar) {
  const q = new URLSearchParams({ ...refArgs, filepath, ...(tar ? { tar: '1' } : {}) });
  return `/api2/json/${storePath(store, '/pxar-file-download')}?${q}`;
}

export function FileBrowser({ store, refArgs, archive }) {
  // the breadcrumb: the archive's root, then each folder opened
  const [trail, setTrail] = useState([{ text: archive, filepath: b64(`/${archive}`) }]);
  const here = trail[trail.length - 1];
  const list = useLoad(() => api('GET', storePath(store, '/catalog'), { ...refArgs, filepath: here.filepath }), [here.filepath]);
  return (
    <section class="files" aria-label={S.files.title(archive)}>
      <nav class="crumbs" aria-label={S.files.path}>
        {trail.map((c, i) =>
          i === trail.length - 1 ? (
            <span key={c.filepath} aria-current="location">
              {c.text}
            </span>
          ) : (
            <button type="button" class="link" key={c.filepath} onClick={() => setTrail(trail.slice(0, i + 1))}>
              {c.text}
            </button>
          ),
        )}
      </nav>
      <p class="folder-downloads">
        <a href={downloadHref(store, refArgs, here.filepath, false)} download>
          {S.files.zip}
        </a>{' '}
        <a href={downloadHref(store, refArgs, here.filepath, true)} download>
          {S.files.tar}
        </a>
      </p>
      <Loaded load={list}>
        {(entries) => (
          <DataTable
            class="files"
            rows={entries}
            rowKey={(e) => e.filepath}
            rowProps={(e) => ({ 'data-entry': e.text, 'data-type': e.type })}
            empty={S.files.empty}
            columns={[
              {
                title: S.files.name,
                cell: (e) =>
                  e.type === 'd' ? (
                    <button type="button" class="link open-dir" onClick={() => setTrail([...trail, { text: e.text, filepath: e.filepath }])}>
                      {S.files.folder(e.text)}
                    </button>
                  ) : (
                    <span>{S.files.typed(e.type, e.text)}</span>
                  ),
              },
              { title: S.files.size, cell: (e) => (e.type === 'f' ? size(e.size) : '') },
              { title: S.files.mtime, cell: (e) => iso(e.mtime) },
              { title: S.files.download, cell: (e) => <EntryDownload store={store} refArgs={refArgs} entry={e} /> },
            ]}
          />
        )}
      </Loaded>
    </section>
  );
}

function EntryDownload({ store, refArgs, entry: e }) {
  if (e.type === 'f') {
    return (
      <a class="download" href={downloadHref(store, refArgs, e.filepath, false)} download={e.text}>
        {S.files.downloadFile}
      </a>
    );
  }
  if (e.type !== 'd') return null;
  return (
    <a class="download" href={downloadHref(store, refArgs, e.filepath, false)} download>
      {S.files.zip}
    </a>
  );
}
