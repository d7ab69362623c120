// A datastore's usage over time, as the server samples it (GET …/rrd): an SVG line chart, no chart
// library. The chart is an image with a text alternative (title and a summary: latest, highest,
// time span), and the same numbers are in a table under a disclosure for screen readers and
// anyone who wants figures. Timeframe and figure are ordinary selects, so it all works by keyboard.
import { useState } from 'preact/hooks';
import { api, storePath } from '../api.js';
import { Loaded } from '../components.jsx';
import { chartGeometry, iso, size } from '../format.js';
import { useLoad } from '../hooks.js';
import { S } from '../strings.js';

// each timeframe's span (seconds) and the largest step between samples that still draws a line
const FRAMES = { hour: { span: 3600, gap: 120 }, day: { span: 86400, gap: 1800 }, month: { span: 31 * 86400, gap: 43200 } };
const FIELDS = ['used', 'chunks', 'dedup', 'fs-used'];
const W = 320;
const H = 110;

const show = (field, v) => (typeof v !== 'number' ? S.none : field === 'used' || field === 'fs-used' ? size(v) : field === 'dedup' ? v.toFixed(2) : String(Math.round(v)));

export function UsageChart({ store, round }) {
  const [frame, setFrame] = useState('day');
  const [field, setField] = useState('used');
  const load = useLoad(() => api('GET', storePath(store, '/rrd'), { timeframe: frame, cf: 'AVERAGE' }), [store, frame, round]);
  const id = `chart-${store}`;
  return (
    <figure class="usage-chart" aria-labelledby={`${id}-cap`}>
      <figcaption id={`${id}-cap`}>
        {S.chart.title}{' '}
        <select aria-label={S.chart.figure} name="chart-field" value={field} onChange={(e) => setField(e.currentTarget.value)}>
          {FIELDS.map((f) => (
            <option key={f} value={f}>
              {S.chart.fields[f]}
            </option>
          ))}
        </select>{' '}
        <select aria-label={S.chart.timeframe} name="chart-frame" value={frame} onChange={(e) => setFrame(e.currentTarget.value)}>
          {Object.keys(FRAMES).map((f) => (
            <option key={f} value={f}>
              {S.chart.frames[f]}
            </option>
          ))}
        </select>
      </figcaption>
      <Loaded load={load}>{(points) => <Chart points={points} field={field} frame={frame} id={id} />}</Loaded>
    </figure>
  );
}

function Chart({ points, field, frame, id }) {
  const to = Math.floor(Date.now() / 1000);
  const from = to - FRAMES[frame].span;
  const g = chartGeometry(points, field, from, to, W, H, FRAMES[frame].gap);
  const known = points.filter((p) => typeof p[field] === 'number');
  const latest = known.at(-1);
  const summary = g.count === 0 ? S.chart.noData : S.chart.summary(show(field, latest?.[field]), show(field, Math.max(...known.map((p) => p[field]))), g.count);
  return (
    <>
      <svg viewBox={`-2 -6 ${W + 4} ${H + 20}`} role="img" aria-labelledby={`${id}-t ${id}-d`} class="chart">
        <title id={`${id}-t`}>{S.chart.alt(S.chart.fields[field], S.chart.frames[frame])}</title>
        <desc id={`${id}-d`}>{summary}</desc>
        <line x1="0" y1={H} x2={W} y2={H} class="axis" />
        <line x1="0" y1="0" x2={W} y2="0" class="grid" />
        <text x="2" y="8" class="tick">{show(field, g.top)}</text>
        <text x="2" y={H + 12} class="tick">{iso(from).slice(5, 16).replace('T', ' ')}</text>
        <text x={W - 2} y={H + 12} class="tick end">{iso(to).slice(5, 16).replace('T', ' ')}</text>
        {g.d && <path d={g.d} class="line" />}
        {g.dots.map(([x, y]) => (
          <circle key={`${x},${y}`} cx={x} cy={y} r="2.5" class="dot" />
        ))}
      </svg>
      <p class="muted chart-summary">{summary}</p>
      {known.length > 0 && (
        <details>
          <summary>{S.chart.table}</summary>
          <div class="scroll">
            <table class="chart-data">
              <thead>
                <tr>
                  <th scope="col">{S.chart.time}</th>
                  <th scope="col">{S.chart.fields[field]}</th>
                </tr>
              </thead>
              <tbody>
                {known.map((p) => (
                  <tr key={p.time}>
                    <td>{iso(p.time)}</td>
                    <td>{show(field, p[field])}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
    </>
  );
}
