// The report: on stdout, a table per scenario and the targets with their verdicts, in 120 columns; and (when
// asked) docs/benchmarks.md with the log-log flood chart docs/benchmarks-flood.svg and, when the saturation
// scenario ran, its chart docs/protecting-services-saturation.svg.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fmtMs, fmtN } from './harness.mjs';

/**
 * A target's verdict: 'info' for a figure reported without a threshold; 'n/a' when it was measured at a
 * smaller N than the one it is set at (`setAtN`, `measuredAtN`: --quick runs smaller N), so it is not judged;
 * else PASS or FAIL.
 */
export function verdictOf(t) {
  if (t.pass === null || t.pass === undefined) return 'info';
  if (t.setAtN !== undefined && t.measuredAtN !== t.setAtN) return 'n/a';
  return t.pass ? 'PASS' : 'FAIL';
}

/** The measured figure, saying at which N when that is not the N the target is set at. */
const measuredText = (t) => (verdictOf(t) === 'n/a'
  ? `${t.measured} (at N = ${fmtN(t.measuredAtN)}; the target is set at N = ${fmtN(t.setAtN)})`
  : t.measured);

/** The verdict counts, as one sentence. */
function summary(targets) {
  const count = (v) => targets.filter((t) => verdictOf(t) === v).length;
  const na = count('n/a');
  return `${count('PASS')} target(s) pass, ${count('FAIL')} fail, ${na ? `${na} n/a (measured at a smaller N than set), ` : ''}${count('info')} info.`;
}

// ---------------------------------------------------------------------------------------------- stdout

/** The terminal width the printed report keeps to. */
export const WIDTH = 120;

// Shorter column labels for the terminal; the legend under each table gives the full ones (as on the page).
const SHORT = {
  'time(N) / time(N/10)': 'time(N)/time(N/10)',
  'observed mean latency': 'observed latency',
  '% of ideal at observed latency': '% ideal at observed',
  'sampled peak growth': 'peak growth',
  'sampled peak growth / N': 'peak growth/N',
  'live bytes per buffered element (gc, all N held)': 'live B/element',
  'heap after gc vs baseline (worst run)': 'after gc (worst)',
  'registrations + firings': 'reg+fire rate',
  'heap per pending timer': 'heap/timer',
  'vs 1 record a request': 'vs per-record',
  'mean items a request': 'items/request',
  'mean answer delay': 'answer delay',
  'flush reasons (all runs)': 'flushes',
  'peak queued in the service': 'service queue',
  'most values held (read, not yet out)': 'most held',
  'source pauses': 'pauses',
  'back-pressured time': 'back-pressured',
  'vs its readline loop': 'vs readline',
  'results / timed out / failed': 'ok/timed out/failed',
  'call latency p50 / p99': 'call p50/p99',
  'record latency p50 / p99': 'record p50/p99',
  'retries (denied by the budget)': 'retries (denied)',
  'rejected by the service': 'rejected',
  'wasted answers': 'wasted',
  'peak service queue': 'service queue',
  'limit: mean (range)': 'limit',
  'minRtt / median sampleRtt': 'minRtt/sampleRtt',
};

/** Splits `text` into lines of at most `width` characters at spaces; continuation lines start with `indent`. */
function wrap(text, width = WIDTH, indent = '') {
  const lines = [];
  let line = '';
  for (const word of String(text).split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent + word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

const tableWidth = (header, body) => header
  .map((h, i) => Math.max(h.length, ...body.map((r) => String(r[i]).length)))
  .reduce((sum, w) => sum + w + 3, -3);

function textTable(header, body) {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)];
}

/**
 * One scenario as lines of at most WIDTH: its title and run count, a table of contender, N, median and
 * its figures (the last figure columns move below the table, row by row, while it would be wider), the
 * legend of shortened labels, and the notes.
 */
function scenarioText(result) {
  const out = [];
  const runs = [...new Set(result.rows.map((r) => r.runs))];
  out.push(...wrap(`${result.title} (median of ${runs.join('/')} run${runs.join('') === '1' ? '' : 's'})`, WIDTH, '  '));
  const labels = [...new Set(result.rows.flatMap((r) => Object.keys(r.extra ?? {})))];
  const cellsOf = (row, ls) => [row.contender, fmtN(row.n), fmtMs(row.medianMs), ...ls.map((l) => row.extra?.[l] ?? '')];
  let shown = labels;
  const header = (ls) => ['contender', 'N', 'median ms', ...ls.map((l) => SHORT[l] ?? l)];
  while (shown.length > 0 && tableWidth(header(shown), result.rows.map((r) => cellsOf(r, shown))) > WIDTH) shown = shown.slice(0, -1);
  out.push(...textTable(header(shown), result.rows.map((r) => cellsOf(r, shown))));
  const moved = labels.slice(shown.length);
  for (const row of moved.length ? result.rows : []) {
    out.push(...wrap(`  ${row.contender}: ${moved.map((l) => `${l} ${row.extra?.[l] ?? ''}`).join('; ')}`, WIDTH, '    '));
  }
  const squeezed = (l) => l.replace(/\s/g, '');
  const legend = shown.filter((l) => SHORT[l] && squeezed(SHORT[l]) !== squeezed(l)).map((l) => `${SHORT[l]} = ${l}`);
  if (legend.length) out.push(...wrap(`  (${legend.join('; ')})`, WIDTH, '   '));
  const notes = [...new Set(result.rows.filter((r) => r.note).map((r) => r.note))];
  for (const note of notes) {
    const rows = result.rows.filter((r) => r.note === note);
    const who = rows.length === result.rows.length ? '' : `${rows.map((r) => r.contender).join(', ')}: `;
    out.push(...wrap(`  note: ${who}${note}`, WIDTH, '    '));
  }
  return out;
}

/** Prints every scenario's table, then the targets with their verdicts, in lines of at most WIDTH. */
export function printReport(results, { machine, quick, runs, wallMs }) {
  const out = [];
  out.push(...wrap(`rxjs-sluice benchmarks${quick ? ' (--quick)' : ''}: Node ${machine.node}, ${machine.cpu} x ${machine.cpuCount}, ${machine.date}`));
  out.push(...wrap(`medians of ${runs} measured runs after gc() and a warm-up at N/10${wallMs ? `; suite wall time ${(wallMs / 1000).toFixed(1)} s` : ''}`));
  for (const r of results) {
    out.push('');
    out.push(...scenarioText(r));
  }
  out.push('');
  out.push('Targets');
  const targets = results.flatMap((r) => r.targets);
  for (const t of targets) out.push(...wrap(`${verdictOf(t).padEnd(4)}  ${t.target}: ${measuredText(t)}`, WIDTH, '      '));
  out.push('');
  out.push(summary(targets));
  console.log(out.join('\n'));
}

// ------------------------------------------------------------------------------------------------- SVG

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
const COLORS = ['#1f77b4', '#d62728', '#ff7f0e', '#9467bd', '#2ca02c', '#7f7f7f', '#17becf', '#e377c2', '#8c564b', '#bcbd22'];
const MARKERS = ['circle', 'square', 'diamond', 'triangle', 'circle', 'square', 'diamond', 'triangle', 'circle', 'square'];

function marker(kind, x, y, color) {
  const f = (v) => v.toFixed(1);
  switch (kind) {
    case 'square': return `<rect x="${f(x - 4)}" y="${f(y - 4)}" width="8" height="8" fill="${color}"/>`;
    case 'diamond': return `<polygon points="${f(x)},${f(y - 5)} ${f(x + 5)},${f(y)} ${f(x)},${f(y + 5)} ${f(x - 5)},${f(y)}" fill="${color}"/>`;
    case 'triangle': return `<polygon points="${f(x)},${f(y - 5)} ${f(x + 5)},${f(y + 4)} ${f(x - 5)},${f(y + 4)}" fill="${color}"/>`;
    default: return `<circle cx="${f(x)}" cy="${f(y)}" r="4" fill="${color}"/>`;
  }
}

const msLabel = (ms) => (ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`);

/** The opening of a chart: the XML declaration, the svg element, a white background, the title and subtitle. */
function svgHead(W, H, title, subtitle) {
  const parts = [];
  parts.push('<?xml version="1.0" encoding="UTF-8"?>');
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  parts.push(`<title>${esc(title)}</title>`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  parts.push(`<text x="${W / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>`);
  if (subtitle) parts.push(`<text x="${W / 2}" y="46" text-anchor="middle" fill="#555555">${esc(subtitle)}</text>`);
  return parts;
}

/** A hand-written log-log line chart of median time against N, one polyline and marker set per contender. */
export function floodSvg(series, { title = 'Flood: median time against N (log-log)', subtitle = '' } = {}) {
  const pts = series.flatMap((s) => s.points).filter(([n, ms]) => n > 0 && ms > 0);
  if (pts.length === 0) throw new Error('floodSvg: no points');
  const xMin = Math.floor(Math.log10(Math.min(...pts.map((p) => p[0]))));
  const xMax = Math.max(xMin + 1, Math.ceil(Math.log10(Math.max(...pts.map((p) => p[0])))));
  const yMin = Math.floor(Math.log10(Math.min(...pts.map((p) => p[1]))));
  const yMax = Math.max(yMin + 1, Math.ceil(Math.log10(Math.max(...pts.map((p) => p[1])))));

  const W = 820, left = 80, right = 30, top = 64, plotH = 380;
  const plotW = W - left - right;
  const legendTop = top + plotH + 56;
  const H = legendTop + (series.length + 1) * 20 + 16;
  const X = (n) => left + ((Math.log10(n) - xMin) / (xMax - xMin)) * plotW;
  const Y = (ms) => top + plotH - ((Math.log10(ms) - yMin) / (yMax - yMin)) * plotH;
  const f = (v) => v.toFixed(1);

  const parts = svgHead(W, H, title, subtitle);

  // Minor gridlines (2..9 within each decade), then decade gridlines with tick labels.
  parts.push('<g stroke="#eeeeee" stroke-width="1">');
  for (let d = xMin; d < xMax; d++) for (let k = 2; k <= 9; k++) parts.push(`<line x1="${f(X(k * 10 ** d))}" y1="${top}" x2="${f(X(k * 10 ** d))}" y2="${top + plotH}"/>`);
  for (let d = yMin; d < yMax; d++) for (let k = 2; k <= 9; k++) parts.push(`<line x1="${left}" y1="${f(Y(k * 10 ** d))}" x2="${left + plotW}" y2="${f(Y(k * 10 ** d))}"/>`);
  parts.push('</g>');
  parts.push('<g stroke="#c8c8c8" stroke-width="1">');
  for (let d = xMin; d <= xMax; d++) parts.push(`<line x1="${f(X(10 ** d))}" y1="${top}" x2="${f(X(10 ** d))}" y2="${top + plotH}"/>`);
  for (let d = yMin; d <= yMax; d++) parts.push(`<line x1="${left}" y1="${f(Y(10 ** d))}" x2="${left + plotW}" y2="${f(Y(10 ** d))}"/>`);
  parts.push('</g>');
  parts.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333333"/>`);
  parts.push('<g fill="#333333">');
  for (let d = xMin; d <= xMax; d++) parts.push(`<text x="${f(X(10 ** d))}" y="${top + plotH + 18}" text-anchor="middle">1e${d}</text>`);
  for (let d = yMin; d <= yMax; d++) parts.push(`<text x="${left - 8}" y="${f(Y(10 ** d) + 4)}" text-anchor="end">${esc(msLabel(10 ** d))}</text>`);
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 40}" text-anchor="middle">N (records, log scale)</text>`);
  parts.push(`<text x="18" y="${top + plotH / 2}" text-anchor="middle" transform="rotate(-90 18 ${top + plotH / 2})">median time (log scale)</text>`);
  parts.push('</g>');

  // Reference lines of slope 1 (linear cost) and 2 (quadratic), through the first contender's smallest N, clipped
  // to the plot: a contender parallel to the first scales linearly, one parallel to the second quadratically.
  const [n0, ms0] = [...series[0].points].filter(([n, ms]) => n > 0 && ms > 0).sort((a, b) => a[0] - b[0])[0] ?? [];
  const references = n0 === undefined ? [] : [1, 2].map((slope) => {
    const at = (lx) => Math.log10(ms0) + slope * (lx - Math.log10(n0));
    const lo = Math.max(xMin, Math.log10(n0) + (yMin - Math.log10(ms0)) / slope);
    const hi = Math.min(xMax, Math.log10(n0) + (yMax - Math.log10(ms0)) / slope);
    return { slope, from: [lo, at(lo)], to: [hi, at(hi)] };
  }).filter((r) => r.to[0] > r.from[0]);
  parts.push('<g stroke="#888888" stroke-width="1.2" stroke-dasharray="6,4" fill="none">');
  for (const r of references) {
    parts.push(`<line x1="${f(X(10 ** r.from[0]))}" y1="${f(Y(10 ** r.from[1]))}" x2="${f(X(10 ** r.to[0]))}" y2="${f(Y(10 ** r.to[1]))}"/>`);
  }
  parts.push('</g>');
  parts.push('<g fill="#666666" font-size="11">');
  for (const r of references) {
    // Labelled above the line, 60% of the way along: clear of the plot's edges and of the sluice contenders below.
    const lx = r.from[0] + 0.6 * (r.to[0] - r.from[0]);
    const ly = r.from[1] + 0.6 * (r.to[1] - r.from[1]);
    const [dx, dy, anchor] = [-8, -6, 'end'];
    parts.push(`<text x="${f(X(10 ** lx) + dx)}" y="${f(Y(10 ** ly) + dy)}" text-anchor="${anchor}">slope ${r.slope} (${r.slope === 1 ? 'linear' : 'quadratic'})</text>`);
  }
  parts.push('</g>');

  // One polyline and its markers per contender, then the legend.
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const p = s.points.filter(([n, ms]) => n > 0 && ms > 0).sort((a, b) => a[0] - b[0]);
    parts.push(`<g>`);
    parts.push(`<title>${esc(s.name)}</title>`);
    if (p.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${p.map(([n, ms]) => `${f(X(n))},${f(Y(ms))}`).join(' ')}"/>`);
    for (const [n, ms] of p) parts.push(marker(MARKERS[i % MARKERS.length], X(n), Y(ms), color));
    parts.push('</g>');
  });
  parts.push(`<g>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const y = legendTop + i * 20;
    parts.push(`<line x1="${left}" y1="${y}" x2="${left + 28}" y2="${y}" stroke="${color}" stroke-width="2"/>`);
    parts.push(marker(MARKERS[i % MARKERS.length], left + 14, y, color));
    const last = [...s.points].sort((a, b) => a[0] - b[0]).at(-1);
    parts.push(`<text x="${left + 38}" y="${y + 4}">${esc(s.name)}${last ? esc(`  (${fmtMs(last[1])} ms at N = ${fmtN(last[0])})`) : ''}</text>`);
  });
  const refY = legendTop + series.length * 20;
  parts.push(`<line x1="${left}" y1="${refY}" x2="${left + 28}" y2="${refY}" stroke="#888888" stroke-width="1.2" stroke-dasharray="6,4"/>`);
  parts.push(`<text x="${left + 38}" y="${refY + 4}">reference slopes 1 and 2, through ${esc(series[0].name)} at its smallest N</text>`);
  parts.push('</g>');
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** Round numbers for a linear axis from 0 to at least `max`: about 5 steps of 1, 2 or 5 times a power of ten. */
function linearTicks(max) {
  const raw = Math.max(max, 1e-9) / 5;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * pow).find((v) => v >= raw);
  const ticks = [];
  for (let v = 0; v < max + step; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/**
 * The saturation chart: two panels over the same time axis, one series per contender. Above, the limit on calls in
 * flight (linear; a fixed capacity is a flat line); below, the p50 latency of the calls answered in each time
 * bucket (log scale), with the records' timeout as a dashed line. `timeline`: { bucketMs, timeoutMs, series:
 * [{ name, limit: [[s, limit]], latency: [[s, ms]] }] }.
 */
export function saturationSvg(timeline, { title = 'Saturation: the limit on calls in flight and the call latency over time', subtitle = '' } = {}) {
  const { series, timeoutMs, bucketMs } = timeline;
  const all = (k) => series.flatMap((s) => s[k]);
  if (all('limit').length === 0 && all('latency').length === 0) throw new Error('saturationSvg: no points');
  const tMax = Math.max(...all('limit').map((p) => p[0]), ...all('latency').map((p) => p[0]), 1e-3);
  const xTicks = linearTicks(tMax);
  const xMax = xTicks.at(-1);
  const limitTicks = linearTicks(Math.max(...all('limit').map((p) => p[1]), 1));
  // A flat line on the frame is hard to see: one more step above a maximum that is a tick itself.
  if (limitTicks.at(-1) === Math.max(...all('limit').map((p) => p[1]))) limitTicks.push(2 * limitTicks.at(-1) - limitTicks.at(-2));
  const lMax = limitTicks.at(-1);
  const lat = all('latency').map((p) => p[1]).filter((v) => v > 0);
  const yMin = Math.floor(Math.log10(Math.min(...lat, timeoutMs)));
  const yMax = Math.max(yMin + 1, Math.ceil(Math.log10(Math.max(...lat, timeoutMs))));

  const W = 820, left = 80, right = 30, top = 64, panelH = 220, gap = 56;
  const plotW = W - left - right;
  const top2 = top + panelH + gap;
  const legendTop = top2 + panelH + 56;
  const H = legendTop + series.length * 20 + 16;
  const f = (v) => v.toFixed(1);
  const X = (t) => left + (t / xMax) * plotW;
  const YL = (v) => top + panelH - (v / lMax) * panelH;
  const YT = (ms) => top2 + panelH - ((Math.log10(ms) - yMin) / (yMax - yMin)) * panelH;

  const parts = svgHead(W, H, title, subtitle);
  // Gridlines: time ticks on both panels, limit ticks above, decades (and 2..9 within them) below.
  parts.push('<g stroke="#eeeeee" stroke-width="1">');
  for (let d = yMin; d < yMax; d++) for (let k = 2; k <= 9; k++) parts.push(`<line x1="${left}" y1="${f(YT(k * 10 ** d))}" x2="${left + plotW}" y2="${f(YT(k * 10 ** d))}"/>`);
  parts.push('</g>');
  parts.push('<g stroke="#c8c8c8" stroke-width="1">');
  for (const t of xTicks) for (const y0 of [top, top2]) parts.push(`<line x1="${f(X(t))}" y1="${y0}" x2="${f(X(t))}" y2="${y0 + panelH}"/>`);
  for (const v of limitTicks) parts.push(`<line x1="${left}" y1="${f(YL(v))}" x2="${left + plotW}" y2="${f(YL(v))}"/>`);
  for (let d = yMin; d <= yMax; d++) parts.push(`<line x1="${left}" y1="${f(YT(10 ** d))}" x2="${left + plotW}" y2="${f(YT(10 ** d))}"/>`);
  parts.push('</g>');
  for (const y0 of [top, top2]) parts.push(`<rect x="${left}" y="${y0}" width="${plotW}" height="${panelH}" fill="none" stroke="#333333"/>`);
  parts.push(`<line x1="${left}" y1="${f(YT(timeoutMs))}" x2="${left + plotW}" y2="${f(YT(timeoutMs))}" stroke="#333333" stroke-width="1" stroke-dasharray="6 4"/>`);
  parts.push('<g fill="#333333">');
  parts.push(`<text x="${left + plotW - 4}" y="${f(YT(timeoutMs) - 5)}" text-anchor="end">timeout ${esc(msLabel(timeoutMs))}</text>`);
  for (const t of xTicks) for (const y0 of [top, top2]) parts.push(`<text x="${f(X(t))}" y="${y0 + panelH + 18}" text-anchor="middle">${t}</text>`);
  for (const v of limitTicks) parts.push(`<text x="${left - 8}" y="${f(YL(v) + 4)}" text-anchor="end">${v}</text>`);
  for (let d = yMin; d <= yMax; d++) parts.push(`<text x="${left - 8}" y="${f(YT(10 ** d) + 4)}" text-anchor="end">${esc(msLabel(10 ** d))}</text>`);
  parts.push(`<text x="${left + plotW / 2}" y="${top2 + panelH + 40}" text-anchor="middle">time since the run started (s); ${esc(msLabel(bucketMs))} buckets</text>`);
  parts.push(`<text x="18" y="${top + panelH / 2}" text-anchor="middle" transform="rotate(-90 18 ${top + panelH / 2})">limit on calls in flight</text>`);
  parts.push(`<text x="18" y="${top2 + panelH / 2}" text-anchor="middle" transform="rotate(-90 18 ${top2 + panelH / 2})">call latency p50 (log scale)</text>`);
  parts.push('</g>');

  const line = (pts, project, color) => (pts.length > 1
    ? `<polyline fill="none" stroke="${color}" stroke-width="1.5" stroke-linejoin="round" points="${pts.map(([t, v]) => `${f(X(t))},${f(project(v))}`).join(' ')}"/>`
    : pts.map(([t, v]) => `<circle cx="${f(X(t))}" cy="${f(project(v))}" r="2" fill="${color}"/>`).join(''));
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    parts.push('<g>');
    parts.push(`<title>${esc(s.name)}</title>`);
    parts.push(line(s.limit, YL, color));
    parts.push(line(s.latency.filter(([, v]) => v > 0), YT, color));
    parts.push('</g>');
  });
  parts.push('<g>');
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const y = legendTop + i * 20;
    parts.push(`<line x1="${left}" y1="${y}" x2="${left + 28}" y2="${y}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${left + 38}" y="${y + 4}">${esc(s.name)}</text>`);
  });
  parts.push('</g>');
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

// ------------------------------------------------------------------------------------------- markdown

const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function scenarioTable(result) {
  const labels = [...new Set(result.rows.flatMap((r) => Object.keys(r.extra ?? {})))];
  const hasNote = result.rows.some((r) => r.note);
  const header = ['contender', 'N', 'runs', 'median ms', ...labels, ...(hasNote ? ['note'] : [])];
  const lines = [`| ${header.map(cell).join(' | ')} |`, `|${header.map((h, i) => (i >= 1 && i <= 3 + labels.length ? '---:' : '---')).join('|')}|`];
  for (const r of result.rows) {
    const cells = [r.contender, fmtN(r.n), r.runs, fmtMs(r.medianMs), ...labels.map((l) => r.extra?.[l] ?? ''), ...(hasNote ? [r.note ?? ''] : [])];
    lines.push(`| ${cells.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

const SCENARIO_NOTES = {
  flood: 'N records emitted synchronously into each contender, capacity 100, `fn = x => Promise.resolve(2 * x)`. '
    + 'Contenders: both sluice operators; `mergeMap(fn, 100)`; the "concatMapEager" composition '
    + '(`mergeMap((x, i) => from(fn(x)).pipe(materialize(), map((n) => [i, n])), 100)`, a reorder stage that holds '
    + 'notifications by index until their turn, then `dematerialize()`); Node\'s '
    + '`Readable.from(iterable).map(fn, { concurrency: 100 })` consumed with `for await`; and a raw loop of 100 async '
    + 'workers sharing a counter, the floor. Every contender\'s sum is checked after every run. '
    + '"vs raw loop" is this time over the raw loop\'s at the same N; "mergeMap / this" is how many times faster than '
    + '`mergeMap` it is; "time(N) / time(N/10)" is 10x when the cost is linear.',
  syncInner: '`fn = x => of(2 * x)`: the inner result is complete when subscribed, so this measures per-record overhead. '
    + 'Sources: `range(0, n).pipe(toRecords())` for sluice, `range(0, n)` for `mergeMap`. '
    + '"throughput vs mergeMap" is mergeMap\'s time over this one\'s.',
  latency: 'Each call is a real `setTimeout` of a whole number of ms drawn uniformly from 1..20 by a seeded generator '
    + '(the same sequence for every contender). Ideal throughput = capacity / mean drawn latency. '
    + 'The observed mean latency is the time from each call to its resolution, averaged: Node timers overshoot by up '
    + 'to about 1 ms, so "% of ideal at observed latency" separates timer overshoot from operator cost. '
    + 'Ordered mode keeps a finished record\'s slot until its turn comes (as in Flink): that is its head-of-line cost.',
  memory: 'A synchronous `new Observable` loop emits every record at once into a 1 ms call (`setTimeout` in a Promise). '
    + 'Baseline: heapUsed after two forced gcs just before the run. Sampled peak: heapUsed read at the start and end '
    + 'of the synchronous emit, every 1000 outputs and every 10 ms. heapUsed counts garbage not yet collected, and '
    + 'the sampled peak comes during the drain (when fewer than N records are held), so "sampled peak growth / N" '
    + 'overstates what one buffered element costs. The "live bytes per buffered element" column comes from one '
    + 'extra, untimed pass that forces a gc at the end of the emit, when all N records are held: that is the cost '
    + 'of one buffered element, the record object itself included. After completion every reference is dropped '
    + 'and gc() runs twice; the heap must be back within 10% of the baseline.',
  timers: 'N keys, each registering one event-time timer for its own timestamp, then one watermark fires them all. '
    + 'Time is registration plus firing; heap per pending timer is the heap after a forced gc with all N timers '
    + 'pending, minus the heap before, over N (key state included).',
  batching: 'A simulated service: a request of k items costs 2 ms + 0.02 ms x k of real time, at most 8 requests are '
    + 'served at once and the others wait in its FIFO queue; it answers `items.map(x => 2 * x)` when the time is up, '
    + 'never earlier (a timer, then `setImmediate` turns for the last 1-2 ms). "slots busy" is the slot-ms from a request '
    + 'taking a slot to its answer, over 8 x the wall time; "modelled work" counts only the cost model\'s time (so it is '
    + 'also the throughput as a share of what the service could do with those requests), and "answer delay" is the mean '
    + 'time an answer came after it was due: the event loop was busy, or the process was not running; "peak queued in '
    + 'the service" is the most requests waiting for a slot at once. '
    + 'Contenders: `asyncBatchOrdered` and `asyncBatchUnordered` (maxBatchSize 100, linger 5, maxInFlightBatches 8); '
    + '`asyncWaitUnordered` at capacity 100, one request of one item per record, run at N/10 (about 25 s a run at '
    + '1e5; its throughput is steady long before); DataLoader with its default options (one batch per tick, no size '
    + 'limit, its cache on: every key is distinct) behind `mergeMap((x) => loader.load(x), 1000)`, which bounds the '
    + 'loads in flight as the batching operators\' capacity (900) does; and `bufferTime(5, null, 100)`, empty buffers '
    + 'skipped, then `mergeMap(batch => call(batch), 8)`. DataLoader\'s time includes `mergeMap`\'s own cost on this '
    + 'synchronous source: its buffer of waiting values is an array it shifts from (see the flood scenario). '
    + 'Every output is checked after every run: each result exactly once, and in input order for `asyncBatchOrdered`. '
    + 'Warm-ups: at N/10 and then at N (at N/10 a batching pipeline makes too few calls to be compiled), except for '
    + 'the per-record contender (N/10 of its N).',
  batchingFlood: 'Values emitted synchronously (`input: \'values\'`) into an instant batch function '
    + '`xs => xs.map(x => 2 * x)` that returns the array itself, against `asyncWaitOrdered`\'s values mode with the flood '
    + 'scenario\'s `x => Promise.resolve(2 * x)` at capacity 100: the cost per record of the batching path. Outputs '
    + 'are checked as in the service scenario; warm-ups at N/10 and at N.',
  flowControlMemory: 'One pipeline, `asyncWaitOrdered(call, { capacity: 100, input: \'values\' })`, fed by a pull source, '
    + '`pulled(generator)` (the values are made as they are read, never held in an array), and by a push source, '
    + '`range()`, which emits every value at once into the operator\'s queue. The call returns `2 * x` after a seeded '
    + 'mix of waits: 79.9% resolve on a microtask, 20% after `setImmediate` and 0.1% after `setTimeout(1)` (a timer on '
    + 'every call would hold the ordered operator\'s head for 1-2 ms each time: hours at 1e7). Each source runs in a '
    + 'child process of its own (`--expose-gc --max-old-space-size=2048`), after a warm-up at 1e5: a push source that '
    + 'ran out of heap would end only its child, and the table would say how far it got. Baseline: heapUsed after two '
    + 'forced gcs just before the run. Sampled peak: heapUsed read every 1000 values read, every 1000 out and every '
    + '10 ms; it counts garbage not yet collected (the young generation alone holds several MB). "most values held" is '
    + 'the most values read and not yet out at any read; pauses and back-pressured time come from `sourceMetrics()`. '
    + 'One run per source; the count and sum of the output are checked.',
  flowControl: 'The flood scenario\'s pipeline, `fn = x => Promise.resolve(2 * x)` at capacity 100, through '
    + '`asyncWaitOrdered` and `asyncWaitUnordered`, fed plain values (`input: \'values\'`) and records (`toRecords()`), '
    + 'from `pulled(array)` (the array made once, outside the timed region), `pulled(generator)` and `range()`, the push '
    + 'source. "vs range()" is the throughput over `range()`\'s in the same pipeline. All twelve contenders are warmed up '
    + 'at N/10, then measured in rounds (each round runs every contender once), so they are compared in the same state '
    + 'of the JIT\'s type feedback and a slow spell of the machine falls on all of them. Every sum is checked.',
  flowControlFile: 'A generated NDJSON file (one object of about 100 bytes a line, in the system\'s temporary directory, '
    + 'removed at the end) read to the end: `fileLinesSource(path).open()` against '
    + '`for await (const line of readline.createInterface({ input: fs.createReadStream(path) }))`, both counting lines '
    + 'and characters; and `ndjsonSource(path).open()` against the same readline loop with `JSON.parse`, both summing '
    + 'the ids. One warm-up read each (the file is then in the page cache for every contender), then rounds as in the '
    + 'throughput table. Every count, character total and sum is checked.',
  saturation: 'A simulated service in real time (`bench/service.mjs`): 8 servers, 5 ms a request, and a FIFO queue of '
    + 'at most 64 in front of them; a call that finds it full is rejected at once with an Error whose `overload` is true. '
    + 'Past its knee the service slows down: a request starting while more than 16 others wait costs 5% more for each '
    + 'one beyond 16 (17 ms with the queue full, which then holds 136 ms of work). It never learns that a caller gave '
    + 'up: a call abandoned by its record\'s timeout is still served ("wasted answers"). Without the slowdown a bounded '
    + 'queue cannot collapse: 100 calls at once wait at most 100 x 5 / 8 = 62.5 ms, under the timeout, and the servers '
    + 'stay busy whatever the client does. Records come from `pulled(generator)` (read when the operator has room, so '
    + 'read is admission, give or take one) into `asyncWaitUnordered(call, { input: \'values\' })` with `timeout: 100` '
    + '(from admission: a record waiting for a call slot uses it up too), `retry: { maxRetries: 3, delay: { initial: 5, '
    + 'multiplier: 2, max: 50 } }` and fallbacks (`onTimeout`, `onError`) that count instead of erroring, so that results '
    + '+ timed out + failed = N, checked with every record out once and against the operator\'s metrics. Contenders: '
    + 'capacity 100 and capacity 8 (the oracle: exactly the 8 servers), both with plain retries; capacity 100 with '
    + '`concurrency: { adaptive: { limiter, min: 1, max: 100, isOverload: (e) => e.overload === true } }` (other '
    + 'options at their defaults) for `\'aimd\'` and `\'gradient\'`, both with `retry.budget: { ratio: 0.1 }`. '
    + '"throughput" is results (records whose call succeeded) per second of the run (subscribe to completion); "call '
    + 'latency" is from a call to the service\'s answer, for every call it answered, wasted ones included (rejections '
    + 'are immediate, and left out): what the limit controls, and what the p99 target judges; "record latency" is from '
    + 'the read to the output, for all N records whatever their outcome: with capacity 100 it is about 100 / throughput '
    + '(Little\'s law) whatever the limit. The limit is `metrics.concurrencyLimit` sampled every 20 ms, with its mean '
    + 'and range over the run; minRtt is the limiter\'s at the end, sampleRtt the median of the samples. One run each, '
    + 'after a warm-up at N/10. The chart shows the limit (a fixed capacity as a flat line) and the p50 call latency '
    + 'over time, in buckets of at least 20 ms.',
  keyed: 'Each record\'s key is drawn uniformly from 1000 by a seeded generator, and its call is the latency scenario\'s '
    + 'real `setTimeout` of 1-20 ms (the same seeded sequence); capacity 100 for every sluice operator. With 100 records '
    + 'held and 1000 keys, about 1 record in 10 finds its key busy and waits, holding its slot. Contenders: '
    + '`asyncWaitUnordered` (no order: the ceiling), `asyncWaitKeyed` in `order: \'key\'` (the default) and '
    + '`\'input\'`, `asyncWaitOrdered`, and `groupBy(key)` + `map(g => g.pipe(concatMap(fn)))` + `mergeAll()`, which '
    + 'has no global bound: it runs one call per key at once, up to 1000. Warm-ups at N/10, then rounds (each round runs '
    + 'every contender once). Every run is checked: the sum (each record once), each key\'s order for the per-key '
    + 'contenders, and input order for the ordered ones. "vs unordered" is unordered\'s time over this one\'s.',
  watermarks: '`asyncWaitUnordered`, `fn = x => Promise.resolve(2 * x)`, capacity 100. Both sources are the same '
    + 'synchronous `new Observable` loop; one also emits `watermark(i)` after every 10th record. Only records are counted '
    + 'toward throughput (the watermark count is checked too).',
};

/**
 * The three lines the page opens with: the targets' verdicts, the flood headline (the first flood contender at
 * its largest N against mergeMap and the raw loop, and how its time grows with N), and where to read on.
 */
export function pageSummary(results, targets) {
  const count = (v) => targets.filter((t) => verdictOf(t) === v).length;
  const judged = count('PASS') + count('FAIL');
  const lines = [`- **${count('PASS')} of ${judged} targets pass**, ${count('FAIL')} fail${count('n/a') ? `, ${count('n/a')} not judged at this N` : ''}; `
    + `${count('info')} more figures are reported without a threshold (see [Targets](#targets)).`];
  const flood = results.find((r) => r.id === 'flood');
  const rows = flood?.rows ?? [];
  const top = Math.max(...rows.map((r) => r.n));
  const head = rows.find((r) => r.n === top);
  if (head) {
    const extra = head.extra ?? {};
    lines.push(`- Flood of ${fmtN(top)} records: ${head.contender} takes ${fmtMs(head.medianMs)} ms, ${extra['mergeMap / this'] ?? 'n/a'} faster than `
      + `\`mergeMap(fn, 100)\` and ${extra['vs raw loop'] ?? 'n/a'} a raw promise loop's time; 10x the records cost ${extra['time(N) / time(N/10)'] ?? 'n/a'} `
      + 'the time (10x is linear).');
  } else {
    lines.push('- The flood scenario was not part of this run: its headline figures are missing from this page.');
  }
  lines.push('- The log-log chart below the flood table draws slope-1 (linear) and slope-2 (quadratic) reference lines; '
    + 'every figure is a median of runs, and ratios compare contenders measured in the same run.');
  return lines;
}

/** The saturation scenario's chart, in docs/ (docs/protecting-services.md shows it too). */
const SATURATION_SVG = 'protecting-services-saturation.svg';

/** Writes docs/benchmarks.md (and the charts of the flood and saturation scenarios, when they ran). Returns the paths written. */
export function writeDocs(results, { machine, quick, runs, wallMs, only, docsDir }) {
  const written = [];
  const flood = results.find((r) => r.id === 'flood');
  const svgPath = `${docsDir}/benchmarks-flood.svg`;
  if (flood?.series?.length) {
    writeFileSync(svgPath, floodSvg(flood.series, {
      subtitle: `capacity 100, fn = x => Promise.resolve(2x); median of ${runs} runs${quick ? ' (--quick: no mergeMap peer at 1e6)' : ''}; Node ${machine.node}, ${machine.date.slice(0, 10)}`,
    }));
    written.push(svgPath);
  }
  const saturation = results.find((r) => r.id === 'saturation');
  if (saturation?.timeline) {
    const satPath = `${docsDir}/${SATURATION_SVG}`;
    writeFileSync(satPath, saturationSvg(saturation.timeline, {
      subtitle: `${fmtN(saturation.rows[0].n)} records, 8 servers of 5 ms, timeout ${saturation.timeline.timeoutMs} ms; one run each${quick ? ' (--quick)' : ''}; Node ${machine.node}, ${machine.date.slice(0, 10)}`,
    }));
    written.push(satPath);
  }
  const targets = results.flatMap((r) => r.targets);
  const md = [];
  md.push('# Benchmarks');
  md.push('');
  md.push('<!-- Written by `npm run bench` (bench/run.mjs). Do not edit by hand: run the suite again. -->');
  md.push('');
  md.push(...pageSummary(results, targets));
  md.push('');
  md.push(`Measured on ${machine.date.slice(0, 10)}${quick ? ' in **--quick mode** (smaller N, fewer runs: a spot check, not the reference figures)' : ''}${only ? ` for the scenarios **${only.join(', ')}** only (\`--only\`)` : ''}.`);
  md.push('');
  md.push('## How to run');
  md.push('');
  md.push('```sh');
  md.push('npm run bench                              # build, run every scenario, print the tables, write this page and the chart');
  md.push('npm run bench -- --quick                   # a spot check in a minute or two: prints only (add --write to write)');
  md.push('npm run bench -- --only=flood,timers       # some scenarios only: prints only (add --write to write)');
  md.push('```');
  md.push('');
  md.push('Scenarios: `flood`, `syncInner`, `latency`, `memory`, `timers`, `watermarks`, `batching`, `flowControl`, `saturation`, `keyed`, one file each in `bench/`. '
    + 'Exit code 0 even when a target fails (the report says FAIL); non-zero only on an exception, such as a contender '
    + 'returning a wrong result.');
  md.push('');
  md.push('## Machine and method');
  md.push('');
  md.push(`- CPU: ${machine.cpu}, ${machine.cpuCount} cores; memory ${machine.totalMemGB.toFixed(1)} GiB; ${machine.platform}`);
  md.push(`- Node ${machine.node} (V8 ${machine.v8}), run with \`--expose-gc\``);
  md.push(`- Date: ${machine.date}${wallMs ? `; the suite took ${(wallMs / 1000).toFixed(0)} s of wall time` : ''}`);
  md.push(`- Runs: the median of ${runs} measured runs per contender and N${quick ? ' (memory: 1 run in --quick mode)' : ''}.`);
  md.push('- Warm-up: one untimed run at N/10 immediately before each contender\'s measured runs at N.');
  md.push('- `gc()` runs once before each contender\'s warm-up, so one contender\'s garbage is not collected on '
    + 'another\'s clock. It does not run between measured runs: a forced full gc makes V8 drop optimised code that '
    + 'holds weak references (about 16 deoptimisations per run of an RxJS pipeline), so every run would start cold '
    + 'and pay 15-35 ms of re-optimisation that a long-running pipeline never pays. The measured runs follow each '
    + 'other in steady state, each collecting its own garbage as it would in production, with one turn of the event '
    + 'loop (`setImmediate`) between them; the median absorbs the run that happens to take a major gc. The memory '
    + 'scenario forces its own gc where it reads a heap baseline.');
  md.push('- Time is wall-clock time from `process.hrtime.bigint()` around the whole run, from subscription to the final result.');
  md.push('- Every result is verified after every run (sums, counts, timers fired), outside the timed region: a contender '
    + 'that drops or duplicates work throws instead of looking fast.');
  md.push('- All contenders of a scenario run one after the other in the same process, and the figures that matter are '
    + 'ratios between them, so machine noise mostly cancels. Absolute times depend on the machine.');
  md.push('');
  md.push('## How to read');
  md.push('');
  md.push('- Lower ms is better. A ratio written "Nx" says how many times; each column header says which way round.');
  md.push('- In the chart both axes are logarithmic: a straight line of slope 1 is linear cost (10x the records, 10x the '
    + 'time), slope 2 is quadratic; the dashed reference lines show both slopes. `mergeMap` bends upward because its '
    + 'pending buffer is an array it shifts from.');
  md.push('- A target marked FAIL is reported as measured, never relaxed. "info" rows are figures reported without a threshold.');
  if (quick) md.push('- In --quick mode most scenarios run at a smaller N than their targets are set at: those targets show the figure '
    + 'measured, with the N, and the verdict n/a.');
  md.push('');
  md.push('## Targets');
  md.push('');
  md.push('| target | measured | verdict |');
  md.push('|---|---|---|');
  for (const t of targets) md.push(`| ${cell(t.target)} | ${cell(measuredText(t))} | ${verdictOf(t) === 'FAIL' ? '**FAIL**' : verdictOf(t)} |`);
  md.push('');
  for (const r of results) {
    md.push(`## ${r.title}`);
    md.push('');
    if (SCENARIO_NOTES[r.id]) md.push(SCENARIO_NOTES[r.id]);
    md.push('');
    md.push(scenarioTable(r));
    md.push('');
    if (r.id === 'flood') {
      md.push('![Flood: time against N](benchmarks-flood.svg)');
      md.push('');
    }
    if (r.id === 'saturation' && r.timeline) {
      md.push(`![Saturation: the limit on calls in flight and the call latency over time](${SATURATION_SVG})`);
      md.push('');
    }
  }
  if (!flood) {
    md.push('## Flood chart');
    md.push('');
    if (existsSync(svgPath)) {
      md.push('The flood scenario was not part of this run, so the chart below was **not redrawn**: it comes from an '
        + 'earlier run (its subtitle gives the date and run count). Run `npm run bench` for a consistent page.');
      md.push('');
      md.push('![Flood: time against N](benchmarks-flood.svg)');
    } else {
      md.push('The flood scenario was not part of this run and no chart exists yet: run `npm run bench` to draw it.');
    }
    md.push('');
  }
  // The hand-written analysis: what the profiles showed and why each failing target fails.
  const analysisPath = new URL('./analysis.md', import.meta.url);
  if (existsSync(analysisPath)) {
    md.push(readFileSync(analysisPath, 'utf8').trimEnd());
    md.push('');
  }
  const mdPath = `${docsDir}/benchmarks.md`;
  writeFileSync(mdPath, md.join('\n'));
  written.push(mdPath);
  return written;
}
