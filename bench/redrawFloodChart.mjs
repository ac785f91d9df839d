// Redraws docs/benchmarks-flood.svg from the figures already in docs/benchmarks.md (the flood table's medians),
// with the chart code of bench/report.mjs: for a change to the chart's drawing, without running the suite again.
// The subtitle (runs, Node, date) is kept from the chart it replaces.
//
//   node bench/redrawFloodChart.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { floodSvg } from './report.mjs';

const docs = new URL('../docs/', import.meta.url);
const page = readFileSync(new URL('benchmarks.md', docs), 'utf8');
const section = page.slice(page.indexOf('## Flood:'), page.indexOf('\n## ', page.indexOf('## Flood:') + 1));
const unescape = (s) => s.replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');

const byContender = new Map(); // contender -> [[n, median ms]], in the table's order
for (const line of section.split('\n')) {
  const cells = line.split('|').map((c) => c.trim());
  const n = Number(cells[2]);
  const ms = Number(cells[4]);
  if (cells.length < 6 || !Number.isFinite(n) || !Number.isFinite(ms) || n <= 0) continue;
  if (!byContender.has(cells[1])) byContender.set(cells[1], []);
  byContender.get(cells[1]).push([n, ms]);
}
if (byContender.size === 0) throw new Error('no flood table found in docs/benchmarks.md');
const svgPath = new URL('benchmarks-flood.svg', docs);
const subtitle = unescape(/<text x="[\d.]+" y="46"[^>]*>([^<]*)<\/text>/.exec(readFileSync(svgPath, 'utf8'))?.[1] ?? '');
const series = [...byContender].map(([name, points]) => ({ name, points }));
writeFileSync(svgPath, floodSvg(series, { subtitle }));
console.log(`redrew ${svgPath.pathname} from ${series.length} contenders in docs/benchmarks.md`);
