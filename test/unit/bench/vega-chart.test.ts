import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barSpec, distributionSpec, renderSvg, timelineSpec } from '../../../bench/vega-chart.js';
import { num, tableRows } from '../../../bench/md-table.js';

/** The elements Vega drew in the group of one role-mark (e.g. `mark-symbol`). */
function marks(svg: string, kind: string): number {
  const at = svg.indexOf(`<g class="${kind} role-mark`);
  assert.ok(at >= 0, `no ${kind} group in the SVG`);
  const body = svg.slice(svg.indexOf('>', at) + 1, svg.indexOf('</g>', at));
  return body.match(/<(path|line|text|rect)\b/g)?.length ?? 0;
}

const samples = {
  warden: [3.1, 2.9, 3.4, 3.1, 40],
  runsvdir: [2.4, 2.2, 2.6],
  supervisord: [1007, 1006, 1010, 1008],
};
const distribution = () =>
  distributionSpec({ title: 'restart', subtitle: ['test'], axis: 'ms', samples, highlight: 'warden', log: true, summary: (s) => `n ${s.length}` });

test('a distribution draws one dot per sample and each row with its summary', async () => {
  const svg = await renderSvg(distribution());
  assert.equal(marks(svg, 'mark-symbol'), 5 + 3 + 4);
  for (const n of ['n 5', 'n 3', 'n 4']) assert.ok(svg.includes(`>${n}<`), `summary "${n}" missing`);
  for (const row of Object.keys(samples)) assert.ok(svg.includes(`>${row}<`), `row label ${row} missing`);
});

test('the same data renders to the same SVG, byte for byte', async () => {
  const timeline = timelineSpec({
    title: 't',
    subtitle: [],
    points: [0, 1, 2].map((s) => ({ seconds: s, answered: 100 + s, failed: s === 1 ? 3 : 0, refused: 0 })),
    marks: [{ seconds: 1.5, label: 'kill -9 HAProxy' }],
  });
  const bars = barSpec({ title: 'b', subtitle: [], axis: 'MB', bars: [{ label: 'warden', value: 47.6, highlight: true, text: '47.6 MB' }] });
  for (const spec of [distribution(), timeline, bars]) assert.equal(await renderSvg(spec), await renderSvg(spec));
});

test('bars on a log scale are drawn from the left edge, with their value beside them', async () => {
  const svg = await renderSvg(
    barSpec({ title: 'boot', subtitle: [], axis: 'ms', log: true, bars: [{ label: 'warden', value: 105, whisker: 119, text: '105 / 119' }, { label: 'sh', value: 1.5, text: '1.5' }] }),
  );
  const rects = svg.slice(svg.indexOf('<g class="mark-rect role-mark'));
  const bars = [...rects.slice(0, rects.indexOf('</g>')).matchAll(/<path[^>]* d="M([\d.]+),[\d.]+h([\d.]+)/g)].map((m) => ({ x: Number(m[1]), width: Number(m[2]) }));
  assert.equal(bars.length, 2);
  assert.ok(bars.every((b) => b.x === 0 && b.width > 0), `bars ${JSON.stringify(bars)}`);
  assert.ok(svg.includes('>105 / 119<'));
});

test("the benchmarks' tables are read back by their header", () => {
  const doc = '# x\n\n| supervisor | RSS MB |\n|---|---:|\n| warden | 47.6 |\n| tini | — |\n\ntext\n';
  const table = tableRows(doc, 'supervisor');
  assert.deepEqual(table?.rows, [['warden', '47.6'], ['tini', '—']]);
  assert.equal(num('3,115,219 lines/s'), 3115219);
  assert.equal(num('—'), null);
  assert.equal(tableRows(doc, 'method'), null);
});
