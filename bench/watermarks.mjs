// Watermark-heavy unordered scenario: asyncWaitUnordered, fn = x => Promise.resolve(2x), capacity 100,
// N = 1e6 records (1e5 with --quick). One source emits records only; the other inserts watermark(i) after
// every 10th record. Both are the same synchronous `new Observable` loop; only records are counted.
import { Observable, lastValueFrom, reduce } from 'rxjs';
import { asyncWaitUnordered, record, watermark } from 'rxjs-sluice';
import { expectEqual, fmtMs, fmtN, fmtRate, fmtRatio, measure } from './harness.mjs';

const fn = (x) => Promise.resolve(2 * x);

const recordsOnly = (n) => new Observable((subscriber) => {
  for (let i = 0; i < n && !subscriber.closed; i++) {
    subscriber.next(record(i));
  }
  subscriber.complete();
});

const withWatermarks = (n) => new Observable((subscriber) => {
  for (let i = 0; i < n && !subscriber.closed; i++) {
    subscriber.next(record(i));
    if (i % 10 === 9) subscriber.next(watermark(i));
  }
  subscriber.complete();
});

// The seed object is the accumulator itself, so the reduce is built per call: a shared one would carry
// counts over from one run to the next.
const counted = (source) => lastValueFrom(source.pipe(
  asyncWaitUnordered(fn, { capacity: 100 }),
  reduce((acc, el) => {
    if (el.kind === 'record') { acc.records++; acc.sum += el.value; } else if (el.kind === 'watermark') acc.watermarks++;
    return acc;
  }, { records: 0, sum: 0, watermarks: 0 }),
));

const contenders = {
  'asyncWaitUnordered, records only': { source: recordsOnly, watermarks: () => 0 },
  'asyncWaitUnordered, a watermark every 10 records': { source: withWatermarks, watermarks: (n) => Math.floor(n / 10) },
};

export async function run({ quick = false, runs = quick ? 3 : 5, log = console.error } = {}) {
  const n = quick ? 1e5 : 1e6;
  const warmN = n / 10;
  const rows = [];
  const medians = {};
  for (const [name, { source, watermarks }] of Object.entries(contenders)) {
    log(`  watermarks n=${fmtN(n)} ${name}: warm-up at ${fmtN(warmN)}, ${runs} runs...`);
    const m = await measure(() => counted(source(n)), {
      runs,
      warmup: () => counted(source(warmN)).then((r) => ({ ...r, warm: true })),
      verify: (r) => {
        const k = r.warm ? warmN : n;
        expectEqual(r.records, k, `watermarks ${name} n=${k}: records`);
        expectEqual(r.sum, k * (k - 1), `watermarks ${name} n=${k}: sum`);
        expectEqual(r.watermarks, watermarks(k), `watermarks ${name} n=${k}: watermarks out`);
      },
    });
    medians[name] = m.median;
    rows.push({ contender: name, n, medianMs: m.median, runs, times: m.times });
    log(`  watermarks ${name}: median ${fmtMs(m.median)} ms [${m.times.map(fmtMs).join(', ')}]`);
  }
  const base = medians['asyncWaitUnordered, records only'];
  for (const row of rows) {
    row.extra = {
      'record throughput': fmtRate(n / (row.medianMs / 1000)),
      'vs records only': fmtRatio(base / row.medianMs),
    };
  }
  const ratio = base / medians['asyncWaitUnordered, a watermark every 10 records'];
  return {
    id: 'watermarks',
    title: `Watermark-heavy unordered: N = ${fmtN(n)} records, fn = x => Promise.resolve(2x), capacity 100`,
    rows,
    targets: [{
      target: 'Watermarks: a watermark every 10 records keeps >= 0.7x the no-watermark throughput',
      measured: fmtRatio(ratio),
      pass: ratio >= 0.7,
      setAtN: 1e6, // at the 1e5 of --quick: no verdict (n/a)
      measuredAtN: n,
    }],
  };
}
