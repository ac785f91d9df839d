// Batching scenario, in two parts.
//
// 1. Against a simulated service: each request costs a fixed 2 ms plus 0.02 ms per item, at most 8 requests are
//    served at once and the rest queue inside the service (FIFO). The time is real (timers): the service computes
//    when each request is done and answers then, never earlier. It measures its own busy time: the slot-ms
//    between a request taking a slot and its answer, over 8 x the run's wall time. 1e5 records (1e4 with
//    --quick) go through asyncBatchOrdered and asyncBatchUnordered (maxBatchSize 100, linger 5,
//    maxInFlightBatches 8); asyncWaitUnordered at capacity 100, one request of one item per record (run at N/10:
//    it takes about 25 s per run at 1e5, and its throughput is steady long before); DataLoader (default options:
//    one batch per tick, no size limit) behind mergeMap(load, 1000); and bufferTime(5, null, 100) +
//    mergeMap(batch => service(batch), 8), the usual hand-rolled batcher (it loses order and emits empty
//    buffers, which are skipped).
// 2. A flood: 1e6 records (1e5 with --quick) emitted synchronously into an instant batch function
//    `values => values.map(x => 2 * x)` (input: 'values'), against asyncWaitOrdered's values mode with the
//    flood scenario's `x => Promise.resolve(2 * x)`: the per-record overhead of the batching path.
// Every output is checked after every run: each record's result exactly once and, for ordered contenders,
// in input order. Warm-ups run at N/10 and then at N (see serviceContenders), except the per-record one's.
import DataLoader from 'dataloader';
import { bufferTime, concatAll, filter, mergeMap, range } from 'rxjs';
import { asyncBatchMetrics, asyncBatchOrdered, asyncBatchUnordered, asyncWaitOrdered, asyncWaitUnordered, toRecords } from 'rxjs-sluice';
import { expectEqual, fmtMs, fmtN, fmtPct, fmtRate, fmtRatio, measure, median } from './harness.mjs';
import { SimulatedService } from './service.mjs';

const SLOTS = 8;
const PER_REQUEST_MS = 2;
const PER_ITEM_MS = 0.02;
const BATCH = { maxBatchSize: 100, linger: 5, maxInFlightBatches: 8 };
const CAPACITY = 100; // asyncWait's, one request per record
const LOADER_CONCURRENCY = 1000;

/**
 * The simulated service (bench/service.mjs): request(items) resolves to items.map(x => 2 * x) once the request has
 * had a slot for 2 ms + 0.02 ms per item. At most SLOTS requests are served at once; the others wait in a FIFO
 * queue (unbounded, no slowdown). stats() adds the items served to the service's own figures.
 */
function batchService() {
  const service = new SimulatedService({ slots: SLOTS });
  let items = 0;
  return {
    request: (xs) => service.request(PER_REQUEST_MS + PER_ITEM_MS * xs.length, () => {
      items += xs.length;
      return xs.map((x) => 2 * x);
    }),
    stats: () => ({ ...service.stats(), items }),
  };
}

/**
 * A checker for n results 2 * i, i in 0..n-1: counts them, flags a value out of range or seen twice, and
 * whether they came in input order. `add` takes one plain value.
 */
function tally(n) {
  const seen = new Uint8Array(n);
  const acc = { n, count: 0, bad: 0, dup: 0, inOrder: true };
  const add = (v) => {
    const i = v / 2;
    if (!(Number.isInteger(i) && i >= 0 && i < n)) {
      acc.bad++;
      return;
    }
    if (seen[i] === 1) acc.dup++;
    else seen[i] = 1;
    if (i !== acc.count) acc.inOrder = false;
    acc.count++;
  };
  return { acc, add };
}

/** Subscribes to `output` and resolves to the tally once it completes; elements are StreamElements when `elements`. */
function drain(output, n, elements) {
  const { acc, add } = tally(n);
  const next = elements ? (el) => { if (el.kind === 'record') add(el.value); } : add;
  return new Promise((resolve, reject) => output.subscribe({ next, error: reject, complete: () => resolve(acc) }));
}

/** Throws unless every result came exactly once, and in order when `ordered`. */
function verifyTally(acc, ordered, what) {
  expectEqual(acc.bad, 0, `${what}: values out of range`);
  expectEqual(acc.dup, 0, `${what}: duplicated results`);
  expectEqual(acc.count, acc.n, `${what}: results`);
  if (ordered) expectEqual(acc.inOrder, true, `${what}: in input order`);
}

// ------------------------------------------------------------------------------------------- the service

const ORDERED = 'asyncBatchOrdered';
const UNORDERED = 'asyncBatchUnordered';
const PER_RECORD = 'asyncWaitUnordered, 1 record a request';
const LOADER = `DataLoader behind mergeMap(load, ${LOADER_CONCURRENCY})`;
const BUFFER_TIME = 'bufferTime(5, null, 100) + mergeMap(call, 8)';

// Each contender: run(n, service, metrics) resolves to the tally after feeding records 0..n-1 through `service`
// (fresh for each run); the batching operators also publish to `metrics` (fresh for each run, for the flush
// reasons). `ordered`: its output must be in input order; `scale`: the share of N it runs at; `warmFull`: warm
// up at N as well as at N/10 (at 1e3 records, N/10 under --quick, a batching pipeline makes only 10 calls, too
// few to be compiled: its first measured runs would still be cold).
const serviceContenders = {
  [ORDERED]: {
    ordered: true,
    warmFull: true,
    run: (n, service, metrics) => drain(range(0, n).pipe(toRecords(), asyncBatchOrdered((xs) => service.request(xs), { ...BATCH, metrics })), n, true),
  },
  [UNORDERED]: {
    warmFull: true,
    run: (n, service, metrics) => drain(range(0, n).pipe(toRecords(), asyncBatchUnordered((xs) => service.request(xs), { ...BATCH, metrics })), n, true),
  },
  [PER_RECORD]: {
    scale: 0.1,
    run: (n, service) => drain(range(0, n).pipe(
      toRecords(),
      asyncWaitUnordered((x) => service.request([x]).then((ys) => ys[0]), { capacity: CAPACITY }),
    ), n, true),
  },
  // Default options: one batch per tick, no size limit, its cache on (every key is distinct). A concurrency of
  // 1000 bounds the loads in flight as the batching operators' capacity does (900); an unbounded mergeMap makes
  // one request of all N, and at 1e5 its list of 1e5 inner subscriptions costs it seconds (quadratic removal).
  [LOADER]: {
    warmFull: true,
    run: (n, service) => {
      const loader = new DataLoader((keys) => service.request(keys));
      return drain(range(0, n).pipe(mergeMap((x) => loader.load(x), LOADER_CONCURRENCY)), n, false);
    },
  },
  [BUFFER_TIME]: {
    warmFull: true,
    run: (n, service) => drain(range(0, n).pipe(
      bufferTime(5, null, 100),
      filter((batch) => batch.length > 0),
      mergeMap((batch) => service.request(batch), SLOTS),
      concatAll(),
    ), n, false),
  },
};

/** The flush reasons that occurred, as "size 300, linger 2"; '' when none (not a batching operator). */
const flushText = (flushes) => Object.entries(flushes).filter(([, count]) => count > 0).map(([reason, count]) => `${reason} ${count}`).join(', ');

async function runService({ quick, runs, log }) {
  const n = quick ? 1e4 : 1e5;
  const res = {};
  const rows = [];
  for (const [name, { run, ordered = false, scale = 1, warmFull = false }] of Object.entries(serviceContenders)) {
    const k = n * scale;
    const once = async (size) => {
      const metrics = asyncBatchMetrics();
      const service = batchService();
      const acc = await run(size, service, metrics);
      return { acc, service: service.stats(), flushes: metrics.flushes };
    };
    log(`  batching service n=${fmtN(k)} ${name}: warm-up at ${fmtN(k / 10)}${warmFull ? ` and ${fmtN(k)}` : ''}, ${runs} runs...`);
    const measured = [];
    const m = await measure(() => once(k), {
      runs,
      warmup: warmFull ? [() => once(k / 10), () => once(k)] : () => once(k / 10),
      verify: (r, { warmup }) => {
        const what = `batching ${name} n=${r.acc.n}${warmup ? ' (warm-up)' : ''}`;
        verifyTally(r.acc, ordered, what);
        expectEqual(r.service.items, r.acc.n, `${what}: items served`);
        if (!warmup) measured.push(r);
      },
    });
    const pick = (f) => median(measured.map(f));
    res[name] = {
      n: k,
      ms: m.median,
      rate: k / (m.median / 1000),
      requests: pick((r) => r.service.requests),
      maxQueued: pick((r) => r.service.maxQueued),
      busy: pick((r) => r.service.busy),
      modelled: pick((r) => r.service.modelled),
      late: pick((r) => r.service.meanLateMs),
      inOrder: measured.every((r) => r.acc.inOrder),
      // Flush reasons of the batching operators, summed over the measured runs.
      flushes: measured.reduce((sum, r) => {
        for (const [reason, count] of Object.entries(r.flushes)) sum[reason] = (sum[reason] ?? 0) + count;
        return sum;
      }, {}),
    };
    rows.push({ contender: name, n: k, medianMs: m.median, runs, times: m.times });
    log(`  batching ${name}: median ${fmtMs(m.median)} ms [${m.times.map(fmtMs).join(', ')}], slots busy ${fmtPct(res[name].busy)}, `
      + `modelled work ${fmtPct(res[name].modelled)}, answers ${res[name].late.toFixed(2)} ms late, ${res[name].requests} requests${flushText(res[name].flushes) ? `, flushes: ${flushText(res[name].flushes)}` : ''}`);
  }

  const perRecord = res[PER_RECORD];
  for (const row of rows) {
    const r = res[row.contender];
    row.extra = {
      throughput: fmtRate(r.rate),
      'vs 1 record a request': fmtRatio(r.rate / perRecord.rate),
      requests: String(r.requests),
      'mean items a request': (r.n / r.requests).toFixed(1),
      'slots busy': fmtPct(r.busy),
      'modelled work': fmtPct(r.modelled),
      'mean answer delay': `${r.late.toFixed(2)} ms`,
      'peak queued in the service': String(r.maxQueued),
      'in input order': r.inOrder ? 'yes' : 'no',
    };
    row.extra['flush reasons (all runs)'] = flushText(r.flushes) || '-';
  }
  rows.find((r) => r.contender === PER_RECORD).note = `run at N/10: one request per record takes about ${Math.round((n * (PER_REQUEST_MS + PER_ITEM_MS)) / SLOTS / 1000)} s a run at N = ${fmtN(n)}, and its throughput is steady long before`;

  const idealRate = (SLOTS * BATCH.maxBatchSize) / (PER_REQUEST_MS + PER_ITEM_MS * BATCH.maxBatchSize) * 1000;
  const targets = [];
  for (const name of [UNORDERED, ORDERED]) {
    const ratio = res[name].rate / perRecord.rate;
    targets.push({
      target: `Batching, ${name}: throughput >= 20x asyncWaitUnordered's with one request per record`,
      measured: `${fmtRatio(ratio)} (${fmtRate(res[name].rate)} against ${fmtRate(perRecord.rate)}; ${fmtPct(res[name].rate / idealRate)} of the service's ${fmtRate(idealRate)} in batches of 100)`,
      pass: ratio >= 20,
      setAtN: 1e5,
      measuredAtN: n,
    });
  }
  {
    const ratio = res[ORDERED].rate / res[LOADER].rate;
    targets.push({
      target: `Batching: asyncBatchOrdered (in input order) >= 1x the throughput of DataLoader behind mergeMap(load, ${LOADER_CONCURRENCY})`,
      measured: `${fmtRatio(ratio)} (${fmtRate(res[ORDERED].rate)} against ${fmtRate(res[LOADER].rate)}, ${(res[LOADER].n / res[LOADER].requests).toFixed(0)} items a request)`,
      pass: ratio >= 1,
      setAtN: 1e5,
      measuredAtN: n,
    });
  }
  for (const name of [UNORDERED, ORDERED]) {
    targets.push({
      target: `Batching, ${name}: the service's ${SLOTS} slots busy >= 90% of the wall time`,
      measured: `${fmtPct(res[name].busy)} (modelled work ${fmtPct(res[name].modelled)})`,
      pass: res[name].busy >= 0.9,
      setAtN: 1e5,
      measuredAtN: n,
    });
  }
  targets.push({
    target: 'Batching: report bufferTime(5, null, 100) + mergeMap(call, 8), unordered (no threshold)',
    measured: `asyncBatchUnordered ${fmtRatio(res[UNORDERED].rate / res[BUFFER_TIME].rate)} its throughput, asyncBatchOrdered ${fmtRatio(res[ORDERED].rate / res[BUFFER_TIME].rate)}; from this synchronous source, all ${fmtN(res[BUFFER_TIME].n / 100)} buffers waited in mergeMap's queue at once (no backpressure)`,
    pass: null,
  });
  return {
    id: 'batching',
    title: `Batching against a service (${PER_REQUEST_MS} ms + ${PER_ITEM_MS} ms an item a request, ${SLOTS} at once, FIFO queue): ${fmtN(n)} records; asyncBatch* with maxBatchSize 100, linger 5, maxInFlightBatches 8`,
    rows,
    targets,
  };
}

// ---------------------------------------------------------------------------------------------- the flood

const double = (xs) => xs.map((x) => 2 * x);
const fn = (x) => Promise.resolve(2 * x);
const WAIT_VALUES = "asyncWaitOrdered, input: 'values'";
const BATCH_ORDERED_VALUES = "asyncBatchOrdered, input: 'values'";
const BATCH_UNORDERED_VALUES = "asyncBatchUnordered, input: 'values'";

const floodContenders = {
  [WAIT_VALUES]: { ordered: true, run: (n) => drain(range(0, n).pipe(asyncWaitOrdered(fn, { capacity: 100, input: 'values' })), n, true) },
  [BATCH_ORDERED_VALUES]: { ordered: true, run: (n) => drain(range(0, n).pipe(asyncBatchOrdered(double, { ...BATCH, input: 'values' })), n, true) },
  [BATCH_UNORDERED_VALUES]: { run: (n) => drain(range(0, n).pipe(asyncBatchUnordered(double, { ...BATCH, input: 'values' })), n, true) },
};

async function runFlood({ quick, runs, log }) {
  const n = quick ? 1e5 : 1e6;
  const rows = [];
  const ms = {};
  for (const [name, { run, ordered = false }] of Object.entries(floodContenders)) {
    log(`  batching flood n=${fmtN(n)} ${name}: warm-up at ${fmtN(n / 10)} and ${fmtN(n)}, ${runs} runs...`);
    const m = await measure(() => run(n), {
      runs,
      warmup: [() => run(n / 10), () => run(n)],
      verify: (acc, { warmup }) => verifyTally(acc, ordered, `batching flood ${name} n=${acc.n}${warmup ? ' (warm-up)' : ''}`),
    });
    ms[name] = m.median;
    rows.push({ contender: name, n, medianMs: m.median, runs, times: m.times });
    log(`  batching flood ${name}: median ${fmtMs(m.median)} ms [${m.times.map(fmtMs).join(', ')}]`);
  }
  for (const row of rows) {
    row.extra = {
      'ns a record': ((row.medianMs * 1e6) / n).toFixed(0),
      'vs asyncWaitOrdered': fmtRatio(row.medianMs / ms[WAIT_VALUES]),
    };
  }
  const ratio = ms[BATCH_ORDERED_VALUES] / ms[WAIT_VALUES];
  return {
    id: 'batchingFlood',
    title: `Batching flood: ${fmtN(n)} values emitted synchronously; batchFn = xs => xs.map(x => 2x) (maxBatchSize 100, linger 5, maxInFlightBatches 8) against asyncWaitOrdered's fn = x => Promise.resolve(2x), capacity 100`,
    rows,
    targets: [
      {
        target: "Batching flood: asyncBatchOrdered's time per record <= 1.5x asyncWaitOrdered's (input: 'values')",
        measured: `${fmtRatio(ratio)} (${((ms[BATCH_ORDERED_VALUES] * 1e6) / n).toFixed(0)} ns against ${((ms[WAIT_VALUES] * 1e6) / n).toFixed(0)} ns a record)`,
        pass: ratio <= 1.5,
        setAtN: 1e6,
        measuredAtN: n,
      },
      {
        target: "Batching flood: report asyncBatchUnordered's time per record (no threshold)",
        measured: `${fmtRatio(ms[BATCH_UNORDERED_VALUES] / ms[WAIT_VALUES])} asyncWaitOrdered's (${((ms[BATCH_UNORDERED_VALUES] * 1e6) / n).toFixed(0)} ns a record)`,
        pass: null,
      },
    ],
  };
}

/** Both parts; the suite prints (and writes) them as two scenarios. */
export async function run({ quick = false, runs = quick ? 3 : 5, log = console.error } = {}) {
  return [await runService({ quick, runs, log }), await runFlood({ quick, runs, log })];
}
