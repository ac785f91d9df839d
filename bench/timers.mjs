// Timers: N keys each register one event-time timer, then one watermark fires them all.
// 1e6 keys (1e5 with --quick). Reports the rate of registrations plus firings, and the heap per pending timer
// (heap after a forced gc with all N timers pending, minus the heap before, over the number of timers).
// Part of `npm run bench`; it also runs on its own after a build: `node --expose-gc bench/timers.mjs [--quick]`.
import { pathToFileURL } from 'node:url';
import { Subject } from 'rxjs';
import { keyedTimers, keyedTimersMetrics, record, watermark } from 'rxjs-sluice';
import { expectEqual, fmtMs, fmtN, fmtRate, gc, measure, median } from './harness.mjs';
import { verdictOf } from './report.mjs';

/** One pass: registration time, firing time (ms) and heap per pending timer (bytes). */
function pass(n) {
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const input = new Subject();
  const metrics = keyedTimersMetrics();
  let fired = 0;
  input.pipe(keyedTimers({
    key: (k) => k,
    processElement: (k, ctx) => ctx.timerService.registerEventTimeTimer(k),
    onTimer: () => void fired++,
  }, { metrics })).subscribe();
  const t0 = performance.now();
  for (let k = 0; k < n; k++) input.next(record(k, k));
  const t1 = performance.now();
  const pending = metrics.eventTimers;
  gc(); // outside both timed regions
  const bytesPerTimer = (process.memoryUsage().heapUsed - heapBefore) / pending;
  const t2 = performance.now();
  input.next(watermark(n));
  const t3 = performance.now();
  input.complete();
  return { register: t1 - t0, fire: t3 - t2, bytesPerTimer, pending, fired };
}

export async function run({ quick = false, runs = quick ? 3 : 5, log = console.error } = {}) {
  const n = quick ? 1e5 : 1e6;
  const warmN = n / 10;
  log(`  timers n=${fmtN(n)}: warm-up at ${fmtN(warmN)}, ${runs} runs...`);
  const m = await measure(() => pass(n), {
    runs,
    warmup: () => pass(warmN),
    verify: (r, { warmup }) => {
      const k = warmup ? warmN : n;
      expectEqual(r.pending, k, `timers n=${k}: pending timers before the watermark`);
      expectEqual(r.fired, k, `timers n=${k}: timers fired`);
    },
  });
  const total = median(m.results.map((r) => r.register + r.fire));
  const register = median(m.results.map((r) => r.register));
  const fire = median(m.results.map((r) => r.fire));
  const rate = median(m.results.map((r) => (2 * n) / ((r.register + r.fire) / 1000)));
  const bytes = median(m.results.map((r) => r.bytesPerTimer));
  log(`  timers: register ${fmtMs(register)} ms, fire ${fmtMs(fire)} ms, ${fmtRate(rate)}, ${bytes.toFixed(0)} B/timer`);
  return {
    id: 'timers',
    title: `Timers: ${fmtN(n)} keys, one event-time timer each, then one watermark fires them all`,
    rows: [{
      contender: 'keyedTimers',
      n,
      medianMs: total,
      runs,
      times: m.results.map((r) => r.register + r.fire),
      extra: {
        'register ms': fmtMs(register),
        'fire ms': fmtMs(fire),
        'registrations + firings': fmtRate(rate),
        'heap per pending timer': `${bytes.toFixed(0)} B`,
      },
      note: 'median ms = registration + firing time (the gc between them is not timed)',
    }],
    targets: [
      // Set at 1e6 keys: at the 1e5 of --quick the report gives them no verdict (n/a).
      { target: 'Timers: >= 1e6 registrations plus firings per second', measured: `${(rate / 1e6).toFixed(2)}e6 /s`, pass: rate >= 1e6, setAtN: 1e6, measuredAtN: n },
      { target: 'Timers: < 300 bytes of heap per pending timer', measured: `${bytes.toFixed(0)} B`, pass: bytes < 300, setAtN: 1e6, measuredAtN: n },
    ],
  };
}

// Standalone: node --expose-gc bench/timers.mjs [--quick]
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await run({ quick: process.argv.includes('--quick') });
  const [row] = result.rows;
  console.log(`${result.title}, Node ${process.version}, median of ${row.runs} runs`);
  for (const [k, v] of Object.entries(row.extra)) console.log(`  ${k}: ${v}`);
  for (const t of result.targets) console.log(`  ${verdictOf(t).padEnd(4)}  ${t.target}: ${t.measured}`);
}
