// Runs the flood comparison and prints medians and ratios. `npm run bench -- --quick` for a spot check.
// (Issue 5 grows this into the full suite.)
import { floodContenders } from './flood.mjs';

const quick = process.argv.includes('--quick');
const runs = quick ? 3 : 5;
const sizes = quick ? [1e4, 1e5] : [1e4, 1e5, 1e6];
// mergeMap is quadratic: at 1e6 it needs minutes, so it is measured once there, and only without --quick.
const mergeMapRuns = (n) => (n >= 1e6 ? (quick ? 0 : 1) : runs);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(run, n) {
  globalThis.gc?.();
  const t0 = process.hrtime.bigint();
  const result = await run(n);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const expected = n * (n - 1);
  if (result !== expected) throw new Error(`wrong result ${result} != ${expected}`);
  return ms;
}

const rows = [];
for (const n of sizes) {
  for (const [name, run] of Object.entries(floodContenders)) {
    const count = name.startsWith('mergeMap') ? mergeMapRuns(n) : runs;
    if (count === 0) continue;
    await time(run, Math.min(n, 1e4)); // warm-up
    const times = [];
    for (let i = 0; i < count; i++) times.push(await time(run, n));
    rows.push({ n, name, median: median(times), runs: count });
    console.error(`flood n=${n} ${name}: median ${median(times).toFixed(1)} ms over ${count} run(s)`);
  }
}

const at = (n, name) => rows.find((r) => r.n === n && r.name === name)?.median;
console.log(`\nFlood (capacity 100, fn = x => Promise.resolve(2x)), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
console.log('| N | contender | median ms | vs raw loop | mergeMap / this |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  const floor = at(r.n, 'raw loop (floor)');
  const mm = at(r.n, 'mergeMap(fn, 100)');
  console.log(`| ${r.n.toExponential(0)} | ${r.name} | ${r.median.toFixed(1)} | ${(r.median / floor).toFixed(2)}x | ${mm ? (mm / r.median).toFixed(1) + 'x' : 'n/a'} |`);
}
for (const name of ['asyncWaitOrdered', 'asyncWaitUnordered']) {
  const big = at(sizes[sizes.length - 1], name), small = at(sizes[sizes.length - 2], name);
  console.log(`${name}: time(${sizes[sizes.length - 1]}) / time(${sizes[sizes.length - 2]}) = ${(big / small).toFixed(1)} (linear is 10)`);
}
