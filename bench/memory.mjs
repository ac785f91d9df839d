// Memory scenario: 1e6 records (1e5 with --quick) emitted synchronously through a 1 ms call
// (setTimeout 1 ms, in a Promise), capacity 100, ordered and unordered.
// - Baseline: heapUsed after a forced gc, just before the run.
// - Peak: heapUsed sampled at the start and end of the synchronous emit, every 1000 outputs, and every 10 ms.
//   heapUsed counts garbage not yet collected, and the sampled peak comes during the drain (not when all N are
//   held), so growth / N overstates the cost of a buffered element. An extra untimed pass therefore forces a gc
//   at the end of the emit, when all N records are held, and reports the live bytes per buffered element too.
// - After completion every reference is dropped, gc() runs twice, and the heap must be back within 10% of
//   the baseline: nothing retained.
import { Observable, lastValueFrom, tap, reduce } from 'rxjs';
import { asyncWaitOrdered, asyncWaitUnordered, record } from 'rxjs-sluice';
import { expectEqual, fmtMB, fmtMs, fmtN, fmtPct, heapAfterGc, measure, median, peakHeapSampler, settle } from './harness.mjs';

const CAPACITY = 100;
const slowDouble = (x) => new Promise((resolve) => setTimeout(resolve, 1, 2 * x));
const operators = {
  asyncWaitUnordered: () => asyncWaitUnordered(slowDouble, { capacity: CAPACITY }),
  asyncWaitOrdered: () => asyncWaitOrdered(slowDouble, { capacity: CAPACITY }),
};

/**
 * One pass: returns { count, sum, peak, live } once the output completes. With `probeLive` (an extra, untimed
 * pass) it forces a gc at the end of the synchronous emit, when all N records are held, and returns the live
 * heap then in `live`.
 */
function pass(makeOperator, n, { probeLive = false } = {}) {
  const sampler = peakHeapSampler();
  let live;
  const source = new Observable((subscriber) => {
    sampler.sample();
    for (let i = 0; i < n && !subscriber.closed; i++) subscriber.next(record(i));
    sampler.sample(); // every record is now held (100 in flight, the rest queued)
    if (probeLive) live = heapAfterGc(1);
    subscriber.complete();
  });
  let count = 0;
  sampler.start(10);
  return lastValueFrom(source.pipe(
    makeOperator(),
    tap(() => { if (++count % 1000 === 0) sampler.sample(); }),
    reduce((acc, el) => (el.kind === 'record' ? { count: acc.count + 1, sum: acc.sum + el.value } : acc), { count: 0, sum: 0 }),
  )).then((r) => ({ ...r, peak: sampler.stop(), live }));
}

export async function run({ quick = false, runs: requested = 5, log = console.error } = {}) {
  const runs = quick ? 1 : requested; // --quick: one run (about 1 s at 1e5); full mode: 5 runs of ~11 s
  const n = quick ? 1e5 : 1e6;
  const warmN = n / 10;
  const rows = [];
  const targets = [];
  for (const [name, makeOperator] of Object.entries(operators)) {
    log(`  memory n=${fmtN(n)} ${name}: warm-up at ${fmtN(warmN)}, ${runs} run(s) (~${((n / CAPACITY) * 1.1 / 1000).toFixed(0)} s each)...`);
    const perRun = [];
    let baseline;
    const m = await measure(() => pass(makeOperator, n), {
      runs,
      warmup: () => pass(makeOperator, warmN).then((r) => ({ ...r, warm: true })),
      setup: () => { baseline = heapAfterGc(2); },
      verify: async (r, { warmup }) => {
        const k = warmup ? warmN : n;
        expectEqual(r.count, k, `memory ${name} n=${k}: records out`);
        expectEqual(r.sum, k * (k - 1), `memory ${name} n=${k}: sum`);
        if (warmup) return;
        const peak = r.peak; // r itself is four numbers (measure() keeps it): nothing of the run's records
        await settle();
        const final = heapAfterGc(2);
        perRun.push({ baseline, peak, growth: peak - baseline, final, retained: (final - baseline) / baseline });
      },
    });
    // The sampled peak includes garbage not yet collected (promises, timers and closures of calls already done),
    // and it comes during the drain, not at the end of the emit. So one more pass, untimed, measures the live
    // heap after a forced gc at the moment all N records are held: the true cost of a buffered element.
    await settle();
    const liveBase = heapAfterGc(2);
    const probe = await pass(makeOperator, n, { probeLive: true });
    expectEqual(probe.count, n, `memory ${name} n=${n} (live probe): records out`);
    const liveGrowth = probe.live - liveBase;
    const growth = median(perRun.map((p) => p.growth));
    const worst = perRun.reduce((a, b) => (b.retained > a.retained ? b : a)); // the run that kept the most
    const signed = (x) => `${x >= 0 ? '+' : ''}${fmtPct(x)}`;
    rows.push({
      contender: name,
      n,
      medianMs: m.median,
      runs,
      times: m.times,
      extra: {
        'baseline heap': fmtMB(median(perRun.map((p) => p.baseline))),
        'sampled peak growth': fmtMB(growth),
        'sampled peak growth / N': `${(growth / n).toFixed(1)} B`,
        'live bytes per buffered element (gc, all N held)': `${(liveGrowth / n).toFixed(1)} B`,
        'heap after gc vs baseline (worst run)': `${fmtMB(worst.final)} (${signed(worst.retained)})`,
      },
      ...(quick ? { note: '--quick: a single run' } : {}),
    });
    targets.push({
      target: `Memory, ${name}: nothing retained, heap back within 10% of baseline after a forced gc`,
      measured: `${signed(worst.retained)} (worst of ${runs} run(s): ${fmtMB(worst.final)} vs ${fmtMB(worst.baseline)})`,
      pass: worst.retained <= 0.1,
      setAtN: 1e6, // at the 1e5 of --quick: no verdict (n/a)
      measuredAtN: n,
    });
    targets.push({
      target: `Memory, ${name}: peak heap growth per buffered element (reported, no threshold)`,
      measured: `${(liveGrowth / n).toFixed(1)} B live per buffered element (forced gc with all ${fmtN(n)} held); `
        + `sampled peak growth ${fmtMB(growth)} = ${(growth / n).toFixed(1)} B per element, garbage included`,
      pass: null,
    });
    log(`  memory ${name}: median ${fmtMs(m.median)} ms, sampled peak growth ${fmtMB(growth)} = ${(growth / n).toFixed(1)} B/element, live ${(liveGrowth / n).toFixed(1)} B/element, after gc ${signed(worst.retained)} (worst)`);
  }
  return {
    id: 'memory',
    title: `Memory: ${fmtN(n)} records emitted synchronously through a 1 ms call (setTimeout), capacity 100`,
    rows,
    targets,
  };
}
