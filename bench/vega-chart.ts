/**
 * The benchmarks' charts as Vega-Lite specs, compiled to Vega and rendered to SVG by Vega's
 * headless view (no browser, no canvas). Three kinds: the distribution of latency samples per
 * supervisor (box plot with every sample beside it), bars (a value per row, with an optional
 * second value as a whisker, e.g. median and p95), and a time series with event marks.
 *
 * The SVG must be the same file for the same data (the charts are committed): jitter is computed
 * from the sample's index, not drawn at random, and text is measured by Vega's estimate, never by
 * a canvas that happens to be installed.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { quantile } from './stats.js';

const WARDEN = '#1f6feb';
const OTHER = '#8b949e';
const FAILED = '#cf222e';
const REFUSED = '#bf8700';
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

// Not in vega's typings: with a canvas module present Vega would measure text with it, and the
// same data would give another file on another machine.
(vega as unknown as { textMetrics: { canvas(use: boolean): void } }).textMetrics.canvas(false);

/** Renders a Vega-Lite spec to standalone SVG text. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return `${await view.toSVG()}\n`;
  } finally {
    view.finalize();
  }
}

const config = {
  font: FONT,
  background: '#ffffff',
  title: { anchor: 'start', fontSize: 15, subtitleFontSize: 12, subtitleColor: '#57606a', offset: 12 },
  axis: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#d0d7de' },
  view: { stroke: null },
} as const;

const color = (highlight: string) => ({
  field: 'group',
  type: 'nominal',
  scale: { domain: [highlight, 'peer'], range: [WARDEN, OTHER] },
  legend: null,
}) as const;

export interface Distribution {
  readonly title: string;
  readonly subtitle: readonly string[];
  /** Axis caption, unit included. */
  readonly axis: string;
  /** Row → samples, rows in this order. */
  readonly samples: Readonly<Record<string, readonly number[]>>;
  /** The row drawn in warden's colour. */
  readonly highlight: string;
  /** Log scale: for rows apart by orders of magnitude (3 ms vs 1000 ms). */
  readonly log?: boolean;
  /** The text at the right of each row (its median and p95, say). */
  readonly summary: (samples: readonly number[]) => string;
}

/**
 * A row per supervisor: a box from the first to the third quartile with the median across it,
 * a line from min to max, and every sample as a dot, spread across the row by its index so that
 * equal values stay visible. Quartiles are nearest-rank (bench/stats.ts), as in the tables.
 */
export function distributionSpec(d: Distribution): TopLevelSpec {
  const rows = Object.keys(d.samples);
  const group = (name: string): string => (name === d.highlight ? name : 'peer');
  const values = rows.flatMap((name, row) =>
    d.samples[name]!.map((ms, i) => ({ group: group(name), ms, y: row + 0.55 * (((i * 0.618034) % 1) - 0.5) })),
  );
  const boxes = rows.map((name, row) => {
    const s = d.samples[name]!;
    return {
      row,
      group: group(name),
      min: Math.min(...s),
      q1: quantile(s, 0.25),
      median: quantile(s, 0.5),
      q3: quantile(s, 0.75),
      max: Math.max(...s),
      top: row - 0.36,
      bottom: row + 0.36,
      text: d.summary(s),
    };
  });
  // Rows are numbers (so a dot can sit anywhere across its row), named on the axis.
  const y = {
    type: 'quantitative' as const,
    scale: { domain: [-0.5, rows.length - 0.5], reverse: true, nice: false, zero: false },
    axis: { title: null, values: rows.map((_, i) => i), labelExpr: `${JSON.stringify(rows)}[datum.value]`, grid: false, ticks: false, domain: false, labelFontSize: 12, labelLimit: 220 },
  };
  const x = { type: 'quantitative', title: d.axis, scale: d.log ? { type: 'log' as const } : { zero: true }, axis: { grid: true } } as const;
  const height = 44 * rows.length;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config,
    title: { text: d.title, subtitle: [...d.subtitle] },
    resolve: { scale: { y: 'shared' } },
    spacing: 12,
    hconcat: [
      {
        width: 560,
        height,
        layer: [
          {
            data: { values: boxes },
            mark: { type: 'rule', strokeWidth: 1.2 },
            encoding: { x: { ...x, field: 'min' }, x2: { field: 'max' }, y: { ...y, field: 'row' }, color: color(d.highlight) },
          },
          {
            data: { values: boxes },
            mark: { type: 'rect', opacity: 0.25, stroke: '#57606a', strokeWidth: 1 },
            encoding: { x: { ...x, field: 'q1' }, x2: { field: 'q3' }, y: { ...y, field: 'top' }, y2: { field: 'bottom' }, color: color(d.highlight) },
          },
          {
            data: { values },
            mark: { type: 'circle', size: 12, opacity: 0.7 },
            encoding: { x: { ...x, field: 'ms' }, y: { ...y, field: 'y' }, color: color(d.highlight) },
          },
          {
            data: { values: boxes },
            mark: { type: 'rule', strokeWidth: 2.5, color: '#24292f' },
            encoding: { x: { ...x, field: 'median' }, y: { ...y, field: 'top' }, y2: { field: 'bottom' } },
          },
        ],
      },
      {
        width: 200,
        height,
        data: { values: boxes },
        mark: { type: 'text', align: 'left', fontSize: 12, color: '#24292f' },
        encoding: { x: { value: 0 }, y: { ...y, field: 'row', axis: null }, text: { field: 'text' } },
      },
    ],
  } as TopLevelSpec;
}

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Drawn as a whisker beyond the bar (p95 where the bar is a median). */
  readonly whisker?: number;
  /** In warden's colour (its own row). */
  readonly highlight?: boolean;
  /** Printed at the end of the bar. */
  readonly text: string;
}

export interface Bars {
  readonly title: string;
  readonly subtitle: readonly string[];
  readonly axis: string;
  readonly bars: readonly Bar[];
  readonly log?: boolean;
  /** d3-format of the axis' numbers ('~s': 800k, 1.6M). */
  readonly axisFormat?: string;
}

/** A horizontal bar per row, rows in the given order, the value printed beyond the bar or its whisker. */
export function barSpec(b: Bars): TopLevelSpec {
  const labels = b.bars.map((bar) => bar.label);
  const values = b.bars.map((bar) => ({
    label: bar.label,
    group: bar.highlight ? 'highlight' : 'peer',
    value: bar.value,
    whisker: bar.whisker ?? bar.value,
    text: bar.text,
  }));
  const y = { field: 'label', type: 'nominal', sort: labels, title: null, axis: { labelLimit: 600 } } as const;
  // Not stacked: a stacked bar starts at 0, which a log scale does not have, and is not drawn;
  // unstacked it starts at the plot's left edge.
  const x = { field: 'value', type: 'quantitative', title: b.axis, scale: b.log ? { type: 'log' as const } : { zero: true }, stack: null, axis: b.axisFormat ? { format: b.axisFormat } : {} } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config,
    title: { text: b.title, subtitle: [...b.subtitle] },
    width: 520,
    height: { step: 26 },
    data: { values },
    layer: [
      { mark: { type: 'bar', height: { band: 0.7 } }, encoding: { y, x, color: color('highlight') } },
      { mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { y, x, x2: { field: 'whisker' }, color: color('highlight') } },
      { mark: { type: 'tick', thickness: 1.5, size: 12 }, encoding: { y, x: { field: 'whisker', type: 'quantitative' }, color: color('highlight') } },
      { mark: { type: 'text', align: 'left', dx: 5, color: '#24292f' }, encoding: { y, x: { field: 'whisker', type: 'quantitative' }, text: { field: 'text' } } },
    ],
  } as TopLevelSpec;
}

/** One interval of a load run: answered, failed and refused requests per second. */
export interface RatePoint {
  readonly seconds: number;
  readonly answered: number;
  readonly failed: number;
  readonly refused: number;
}

export interface Timeline {
  readonly title: string;
  readonly subtitle: readonly string[];
  readonly points: readonly RatePoint[];
  /** Events, at seconds from the start. */
  readonly marks: readonly { readonly seconds: number; readonly label: string }[];
}

/** Requests per second as a line, failures and refusals as bars, each event as a labelled dashed rule. */
export function timelineSpec(t: Timeline): TopLevelSpec {
  const series = ['answered / s', 'failed / s', 'refused / s'];
  const rates = t.points.flatMap((p) => [
    { seconds: p.seconds, series: series[0], rate: p.answered },
    { seconds: p.seconds, series: series[1], rate: p.failed },
    { seconds: p.seconds, series: series[2], rate: p.refused },
  ]);
  const colour = { field: 'series', type: 'nominal', scale: { domain: series, range: [WARDEN, FAILED, REFUSED] }, title: null } as const;
  const marks = t.marks.map((m, row) => ({ seconds: m.seconds, row, label: `${m.label} (${m.seconds.toFixed(1)} s)` }));
  const end = Math.ceil(Math.max(1, ...t.points.map((p) => p.seconds), ...t.marks.map((m) => m.seconds)));
  const x = { field: 'seconds', type: 'quantitative' as const, title: 'seconds from the start', scale: { domain: [0, end], nice: false } };
  const below = { ...x, axis: null };
  // The events are listed under the plot, one per line, each joined to its moment by a dashed
  // rule: labels written over the plot would cover the line and each other.
  const row = { field: 'row', type: 'quantitative', scale: { domain: [-0.5, Math.max(1, marks.length) - 0.5], reverse: true }, axis: null } as const;
  const late = 0.7 * end;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: { ...config, legend: { orient: 'top', labelFontSize: 12 } },
    title: { text: t.title, subtitle: [...t.subtitle] },
    resolve: { scale: { x: 'shared' } },
    spacing: 0,
    vconcat: [
      {
        width: 820,
        height: 280,
        layer: [
          {
            data: { values: rates },
            transform: [{ filter: `datum.series !== '${series[0]}' && datum.rate > 0` }],
            mark: { type: 'bar', width: 6 },
            encoding: { x, y: { field: 'rate', type: 'quantitative', title: 'requests per second', stack: null }, color: colour },
          },
          {
            data: { values: rates },
            transform: [{ filter: `datum.series === '${series[0]}'` }],
            mark: { type: 'line', strokeWidth: 1.8 },
            encoding: { x, y: { field: 'rate', type: 'quantitative' }, color: colour },
          },
          { data: { values: marks }, mark: { type: 'rule', strokeDash: [3, 3], color: '#57606a' }, encoding: { x } },
        ],
      },
      {
        width: 820,
        height: 18 * Math.max(1, marks.length) + 24,
        data: { values: marks },
        layer: [
          { mark: { type: 'rule', strokeDash: [3, 3], color: '#57606a' }, encoding: { x: below, y: row, y2: { value: 0 } } },
          {
            transform: [{ filter: `datum.seconds <= ${late}` }],
            mark: { type: 'text', fontSize: 12, color: '#24292f', align: 'left', dx: 4, baseline: 'middle' },
            encoding: { x: below, y: row, text: { field: 'label' } },
          },
          {
            transform: [{ filter: `datum.seconds > ${late}` }],
            mark: { type: 'text', fontSize: 12, color: '#24292f', align: 'right', dx: -4, baseline: 'middle' },
            encoding: { x: below, y: row, text: { field: 'label' } },
          },
        ],
      },
    ],
  } as TopLevelSpec;
}
