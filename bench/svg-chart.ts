/**
 * Two kinds of chart as standalone SVG text, drawn here without a browser or a library: a
 * horizontal bar chart (a bar per row, with an optional second value drawn as a whisker, e.g.
 * median and p95) and a time series (lines and bars over seconds, with vertical marks for
 * events). Text is measured by an estimate of the glyph width (no font metrics headless), so
 * labels get room by character count.
 */

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Drawn as a whisker beyond the bar (p95 where the bar is a median). */
  readonly whisker?: number;
  /** Highlighted (warden's own row). */
  readonly highlight?: boolean;
}

export interface BarChart {
  readonly title: string;
  /** Axis caption, unit included: "restart after kill -9, ms". */
  readonly axis: string;
  /** Below the title: what the bar and the whisker are, the source. */
  readonly note?: string;
  readonly bars: readonly Bar[];
  /** Log scale: for values apart by orders of magnitude (3 ms vs 1000 ms). */
  readonly log?: boolean;
  /** How a value is printed at the end of its bar. */
  readonly format?: (v: number) => string;
}

export interface Series {
  readonly name: string;
  readonly kind: 'line' | 'bars';
  readonly color: string;
  /** [seconds from start, value] */
  readonly points: readonly (readonly [number, number])[];
}

export interface EventMark {
  readonly at: number;
  readonly label: string;
}

export interface TimeChart {
  readonly title: string;
  readonly note?: string;
  readonly axis: string;
  readonly series: readonly Series[];
  readonly marks: readonly EventMark[];
}

const FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"';
const CHAR_W = 6.6;
const WARDEN = '#1f6feb';
const OTHER = '#8b949e';

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const r1 = (n: number): string => String(Math.round(n * 10) / 10);

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${r1(x)}" y="${r1(y)}" ${attrs}>${escapeXml(s)}</text>`;
}

/** Round steps for a linear axis from 0 to about `max`: 1, 2 or 5 × 10^k. */
export function linearTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

/** Powers of ten covering [min, max]. */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(Math.max(min, 1e-9)));
  const hi = Math.ceil(Math.log10(Math.max(max, min * 10)));
  return Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
}

const tickLabel = (v: number): string => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v));

function frame(width: number, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function header(title: string, note: string | undefined): { lines: string[]; height: number } {
  const lines = [text(12, 22, title, 'font-size="15" font-weight="bold" fill="#24292f"')];
  if (note) lines.push(text(12, 40, note, 'fill="#57606a"'));
  return { lines, height: note ? 52 : 34 };
}

export function barChart(chart: BarChart): string {
  const fmt = chart.format ?? ((v: number) => (v >= 100 ? String(Math.round(v)) : v.toPrecision(3)));
  const labelW = Math.max(...chart.bars.map((b) => b.label.length * (b.highlight ? CHAR_W * 1.1 : CHAR_W))) + 20;
  const plotW = 460;
  const rowH = 26;
  const { lines, height: top } = header(chart.title, chart.note);
  const width = Math.max(Math.round(labelW + plotW + 90), Math.round(((chart.note?.length ?? 0) + 4) * CHAR_W));
  const height = top + chart.bars.length * rowH + 52;
  const values = chart.bars.flatMap((b) => (b.whisker === undefined ? [b.value] : [b.value, b.whisker]));
  const max = Math.max(...values);
  const ticks = chart.log ? logTicks(Math.min(...values.filter((v) => v > 0)), max) : linearTicks(max);
  const lo = ticks[0]!;
  const hi = ticks[ticks.length - 1]!;
  const x = (v: number): number =>
    labelW + (chart.log ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo)) * plotW;
  const bottom = top + chart.bars.length * rowH + 6;
  const body = [...lines];
  for (const t of ticks) {
    body.push(`<line x1="${r1(x(t))}" y1="${top}" x2="${r1(x(t))}" y2="${bottom}" stroke="#d0d7de" stroke-width="1"/>`);
    body.push(text(x(t), bottom + 16, tickLabel(t), 'text-anchor="middle" fill="#57606a"'));
  }
  body.push(text(labelW + plotW / 2, bottom + 36, chart.axis, 'text-anchor="middle" fill="#24292f"'));
  chart.bars.forEach((b, i) => {
    const y = top + 6 + i * rowH;
    const color = b.highlight ? WARDEN : OTHER;
    body.push(text(labelW - 8, y + 14, b.label, `text-anchor="end" fill="#24292f"${b.highlight ? ' font-weight="bold"' : ''}`));
    const w = Math.max(1, x(b.value) - x(lo));
    body.push(`<rect x="${r1(labelW)}" y="${y + 3}" width="${r1(w)}" height="${rowH - 10}" fill="${color}"/>`);
    let end = labelW + w;
    if (b.whisker !== undefined && b.whisker > b.value) {
      const wx = x(b.whisker);
      const mid = y + 3 + (rowH - 10) / 2;
      body.push(`<line x1="${r1(end)}" y1="${r1(mid)}" x2="${r1(wx)}" y2="${r1(mid)}" stroke="${color}" stroke-width="1.5"/>`);
      body.push(`<line x1="${r1(wx)}" y1="${y + 5}" x2="${r1(wx)}" y2="${y + rowH - 9}" stroke="${color}" stroke-width="1.5"/>`);
      end = wx;
    }
    const value = b.whisker === undefined ? fmt(b.value) : `${fmt(b.value)} / ${fmt(b.whisker)}`;
    body.push(text(end + 6, y + 14, value, 'fill="#24292f"'));
  });
  return frame(width, height, body);
}

export function timeChart(chart: TimeChart): string {
  const width = 900;
  const left = 64;
  const right = 20;
  const plotW = width - left - right;
  const { lines, height: headerH } = header(chart.title, chart.note);
  const legendH = 22;
  const top = headerH + legendH + 8;
  const plotH = 260;
  const marksH = 16 * Math.max(1, chart.marks.length) + 8;
  const height = top + plotH + 40 + marksH;
  const xs = chart.series.flatMap((s) => s.points.map((p) => p[0]));
  const tMax = Math.max(1, ...xs, ...chart.marks.map((m) => m.at));
  const xTicks = linearTicks(tMax, 10);
  const tHi = xTicks[xTicks.length - 1]!;
  const yMax = Math.max(1, ...chart.series.flatMap((s) => s.points.map((p) => p[1])));
  const yTicks = linearTicks(yMax, 5);
  const yHi = yTicks[yTicks.length - 1]!;
  const x = (t: number): number => left + (t / tHi) * plotW;
  const y = (v: number): number => top + plotH - (v / yHi) * plotH;
  const body = [...lines];
  let lx = left;
  for (const s of chart.series) {
    body.push(`<rect x="${lx}" y="${headerH + 6}" width="12" height="12" fill="${s.color}"/>`);
    body.push(text(lx + 17, headerH + 16, s.name, 'fill="#24292f"'));
    lx += 17 + s.name.length * CHAR_W + 22;
  }
  for (const t of yTicks) {
    body.push(`<line x1="${left}" y1="${r1(y(t))}" x2="${left + plotW}" y2="${r1(y(t))}" stroke="#d0d7de"/>`);
    body.push(text(left - 6, y(t) + 4, tickLabel(t), 'text-anchor="end" fill="#57606a"'));
  }
  for (const t of xTicks) body.push(text(x(t), top + plotH + 16, `${t}`, 'text-anchor="middle" fill="#57606a"'));
  body.push(text(left + plotW / 2, top + plotH + 34, chart.axis, 'text-anchor="middle" fill="#24292f"'));
  body.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#57606a"/>`);
  for (const s of chart.series) {
    if (s.kind === 'bars') {
      const w = Math.max(2, (plotW / tHi) * 0.8);
      for (const [t, v] of s.points) if (v > 0) body.push(`<rect x="${r1(x(t) - w / 2)}" y="${r1(y(v))}" width="${r1(w)}" height="${r1(top + plotH - y(v))}" fill="${s.color}"/>`);
    } else {
      const d = s.points.map(([t, v], i) => `${i === 0 ? 'M' : 'L'}${r1(x(t))},${r1(y(v))}`).join(' ');
      body.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`);
    }
  }
  chart.marks.forEach((m, i) => {
    const mx = x(m.at);
    const ly = top + plotH + 52 + i * 16;
    body.push(`<line x1="${r1(mx)}" y1="${top}" x2="${r1(mx)}" y2="${r1(ly - 10)}" stroke="#cf222e" stroke-dasharray="3,3" stroke-width="1"/>`);
    const anchor = mx > left + plotW * 0.7 ? 'end' : 'start';
    body.push(text(mx + (anchor === 'end' ? -4 : 4), ly, `${m.label} (${m.at.toFixed(1)} s)`, `text-anchor="${anchor}" fill="#cf222e"`));
  });
  return frame(width, height, body);
}
