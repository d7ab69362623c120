// Benchmark results as the server finds them in its results directory (nodes/localhost/benchmarks):
// for each sync-level run, one table per filesystem (median seconds per level and size, the ratio
// to `none`, whether the sync counts matched the level's promise); for each daily-cycle run, one
// table of median seconds per tool and step. Newest first.
import { api } from '../api.js';
import { Loaded } from '../components.jsx';
import { size } from '../format.js';
import { useLoad } from '../hooks.js';
import { S } from '../strings.js';

const secs = (v) => (typeof v === 'number' ? `${v.toFixed(2)} s` : '');

export function Benchmarks() {
  const reports = useLoad(() => api('GET', 'nodes/localhost/benchmarks'), []);
  return (
    <section>
      <h2>{S.bench.title}</h2>
      <p class="muted">{S.bench.intro}</p>
      <Loaded load={reports}>
        {(list) => (list.length === 0 ? <p class="muted">{S.bench.none}</p> : list.map((r) => (r.kind === 'daily' ? <Daily key={r.file} r={r} /> : <SyncLevel key={r.file} r={r} />)))}
      </Loaded>
    </section>
  );
}

function SyncLevel({ r }) {
  return (
    <article class="bench sync-level-report" data-file={r.file}>
      <h3>{S.bench.syncLevel(r.startedAt ?? r.file)}</h3>
      {r.summary.map((t) => (
        <div class="scroll" key={t.fs}>
          <table class="bench-table">
            <caption>{S.bench.onFs(t.fs)}</caption>
            <thead>
              <tr>
                <th scope="col">{S.bench.size}</th>
                {t.columns.map((c) => (
                  <th scope="col" key={c}>
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {t.rows.map((row) => (
                <tr key={row.sizeLabel}>
                  <th scope="row">{row.sizeLabel}</th>
                  {t.columns.map((c) => {
                    const cell = row.cells.find((x) => x.column === c);
                    return <td key={c}>{cell ? S.bench.cell(secs(cell.medianSeconds), cell.ratioToNone, cell.syncOk) : ''}</td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
      {r.notes.length > 0 && (
        <ul class="muted">
          {r.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </article>
  );
}

function Daily({ r }) {
  const tools = [...new Set(r.cells.map((c) => c.tool))];
  const steps = [...new Set(r.cells.map((c) => c.step))];
  return (
    <article class="bench daily-report" data-file={r.file}>
      <h3>{S.bench.daily(r.startedAt ?? r.file)}</h3>
      <p class="muted">{S.bench.dailyData(r.data ?? '', size(r.bytes), r.runs)}</p>
      <div class="scroll">
        <table class="bench-table">
          <thead>
            <tr>
              <th scope="col">{S.bench.tool}</th>
              {steps.map((s) => (
                <th scope="col" key={s}>
                  {S.bench.steps[s] ?? s}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {tools.map((tool) => (
              <tr key={tool}>
                <th scope="row">{tool}</th>
                {steps.map((s) => (
                  <td key={s}>{secs(r.cells.find((c) => c.tool === tool && c.step === s)?.median)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </article>
  );
}
