// Timers: N keys each register one event-time timer, then one watermark fires them all (issue 5's scenario 5).
// Prints the median rate of registrations plus firings and the heap per pending timer. Run it after a build:
// `npm run build && node --expose-gc bench/timers.mjs` (`--quick` for N = 1e5). Issue 5 folds it into the suite.
import { Subject } from 'rxjs';
import { keyedTimers, keyedTimersMetrics, record, watermark } from 'rxjs-sluice';

const quick = process.argv.includes('--quick');
const N = quick ? 1e5 : 1e6;
const runs = 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One run: returns the registration and firing times (ms) and the heap growth per pending timer (bytes). */
function run(n) {
  globalThis.gc?.();
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
  globalThis.gc?.();
  const bytesPerTimer = (process.memoryUsage().heapUsed - heapBefore) / metrics.eventTimers;
  const t2 = performance.now();
  input.next(watermark(n));
  const t3 = performance.now();
  input.complete();
  if (fired !== n) throw new Error(`fired ${fired} of ${n}`);
  return { register: t1 - t0, fire: t3 - t2, bytesPerTimer };
}

run(Math.min(N, 1e5)); // warm-up
const results = Array.from({ length: runs }, () => run(N));
const rate = median(results.map((r) => (2 * N) / ((r.register + r.fire) / 1000)));
console.log(`Timers, N = ${N.toExponential(0)}, Node ${process.version}, median of ${runs} runs`);
console.log(`register ${median(results.map((r) => r.register)).toFixed(0)} ms, fire ${median(results.map((r) => r.fire)).toFixed(0)} ms`);
console.log(`${(rate / 1e6).toFixed(2)} million registrations + firings per second (target >= 1)`);
console.log(`${median(results.map((r) => r.bytesPerTimer)).toFixed(0)} bytes of heap per pending timer${globalThis.gc ? '' : ' (run with --expose-gc for a true figure)'} (target < 300)`);
