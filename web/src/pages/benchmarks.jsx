// Benchmark results as the server finds them in its results directory (nodes/localhost/benchmarks):
// for each sync-level run, one table per filesystem (median seconds per level and size, the ratio
// to `none`, whether the sync counts matched the level's promise); for each daily-cycle run, one
// table of median seconds per tool and step. Newest first. Each table has a bar chart beside it
// (SVG, no library): an image whose text alternative is the table it draws.
import { api } from '../api.js';
import { ConfigPage } from '../components.jsx';
import { size } from '../format.js';
import { useLoad } from '../hooks.js';
import { S } from '../strings.js';

const secs = (v) => (typeof v === 'number' ? `${v.toFixed(2)} s` : '');

/** Horizontal bars, one row per bar, grouped; `title` names what the bars measure. */
function Bars({ title, groups }) {
  const bars = groups.flatMap((g) => g.bars.filter((b) => typeof b.value === 'number'));
  if (bars.length === 0) return null;
  const max = Math.max(...bars.map((b) => b.value));
  const row = 16;
  const labelW = 110;
  const W = 320;
  let y = 0;
  const items = [];
  for (const g of groups) {
    items.push(
      <text key={`g-${g.label}`} x="0" y={y + 11} class="group-label">
        {g.label}
      </text>,
    );
    y += row;
    for (const b of g.bars) {
      if (typeof b.value !== 'number') continue;
      const w = Math.max(1, ((W - labelW - 50) * b.value) / max);
      items.push(
        <g key={`${g.label}-${b.label}`}>
          <text x="4" y={y + 11} class="tick">
            {b.label}
          </text>
          <rect x={labelW} y={y + 2} width={w} height={row - 5} class="bar" />
          <text x={labelW + w + 4} y={y + 11} class="tick">
            {secs(b.value)}
          </text>
        </g>,
      );
      y += row;
    }
  }
  return (
    <svg viewBox={`0 0 ${W} ${y + 4}`} role="img" aria-label={title} class="chart bars">
      <title>{title}</title>
      {items}
    </svg>
  );
}

export function Benchmarks() {
  const reports = useLoad(() => api('GET', 'nodes/localhost/benchmarks'), []);
  return (
    <ConfigPage
      title={S.bench.title}
      intro={S.bench.intro}
      load={reports}
      render={(list) => (list.length === 0 ? <p class="muted">{S.bench.none}</p> : list.map((r) => (r.kind === 'daily' ? <Daily key={r.file} r={r} /> : <SyncLevel key={r.file} r={r} />)))}
    />
  );
}

function SyncLevel({ r }) {
  return (
    <article class="bench sync-level-report" data-file={r.file}>
      <h3>{S.bench.syncLevel(r.startedAt ?? r.file)}</h3>
      {r.summary.map((t) => (
        <div key={t.fs}>
          <p class="muted caption">{S.bench.onFs(t.fs)}</p>
          <div class="scroll">
            <table class="bench-table" aria-label={S.bench.onFs(t.fs)}>
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
          <Bars title={S.bench.onFs(t.fs)} groups={t.rows.map((row) => ({ label: row.sizeLabel, bars: t.columns.map((c) => ({ label: c, value: row.cells.find((x) => x.column === c)?.medianSeconds })) }))} />
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
      <Bars title={S.bench.daily(r.startedAt ?? r.file)} groups={steps.map((st) => ({ label: S.bench.steps[st] ?? st, bars: tools.map((tool) => ({ label: tool, value: r.cells.find((c) => c.tool === tool && c.step === st)?.median })) }))} />
    </article>
  );
}
