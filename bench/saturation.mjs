// Saturation scenario: protecting a service with adaptive concurrency. 1e5 records (1e4 with --quick) through
// asyncWaitUnordered against a simulated service in real time (bench/service.mjs): 8 servers, 5 ms a request, a
// FIFO queue of at most 64 that rejects with an `overload` error when full, and slower while more than 16 wait
// (each one beyond adds 5% to a request's time: a full queue makes it 17 ms). Every record has a 100 ms timeout
// (from its admission, so a record waiting for a call slot uses it up too) and retries on errors (3, backoff
// 5-10-20 ms; the adaptive contenders within a retry budget of 10%); fallbacks count timed-out and failed records
// instead of erroring.
// The service never learns that a caller gave up, so it still serves a call whose record has timed out (wasted
// work): once its queue holds more than a timeout of work (a full one holds 64 x 17 / 8 = 136 ms), all of it is.
// Contenders: fixed capacity 100 (no limit on calls in flight but the capacity), fixed capacity 8 (the oracle: the
// 8 servers exactly), and capacity 100 with `concurrency.adaptive` 'aimd' and 'gradient' (min 1, max 100,
// isOverload: e.overload === true). One measured run each after a warm-up at N/10 (a run is a minute at 1e5).
// Every record is accounted for: results + timed out + failed = N, each record once, checked against the metrics.
import { tap } from 'rxjs';
import { asyncWaitMetrics, asyncWaitUnordered, pulled } from 'rxjs-sluice';
import { expectEqual, fmtMs, fmtN, fmtPct, fmtRate, fmtRatio, measure, median } from './harness.mjs';
import { SimulatedService } from './service.mjs';

const SLOTS = 8;
const SERVICE_MS = 5;
const QUEUE_LIMIT = 64;
const KNEE = 16;
const SLOWDOWN = 0.05;
const TIMEOUT = 100;
const CAPACITY = 100;
const RETRY = { maxRetries: 3, delay: { initial: 5, multiplier: 2, max: 50 } };
const BUDGET = { ratio: 0.1 };
const SAMPLE_MS = 20;
/** The most points a series of the chart gets: longer runs are drawn in wider buckets (multiples of SAMPLE_MS). */
const CHART_POINTS = 600;

const isOverload = (e) => e?.overload === true;

const FIXED_100 = 'fixed capacity 100';
const ORACLE = 'fixed capacity 8 (the oracle)';
const AIMD = "adaptive 'aimd', capacity 100";
const GRADIENT = "adaptive 'gradient', capacity 100";

/**
 * capacity; limiter: the adaptive limiter, if any; budget: whether the retry policy has the retry budget. The fixed
 * ones retry plainly (the client that storms); the adaptive ones within the budget, the protection they come with
 * (given the budget, fixed capacity 100 fails its rejected records at once instead of storming: no more results).
 */
const CONTENDERS = {
  [FIXED_100]: { capacity: CAPACITY },
  [ORACLE]: { capacity: SLOTS },
  [AIMD]: { capacity: CAPACITY, limiter: 'aimd', budget: true },
  [GRADIENT]: { capacity: CAPACITY, limiter: 'gradient', budget: true },
};

/** Nearest-rank percentile of a sorted Float64Array (NaN when empty). */
function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
const sortedOf = (xs) => Float64Array.from(xs).sort();

function* upTo(n) {
  for (let i = 0; i < n; i++) yield i;
}

// Outputs: a result is 2 * x (>= 0); onTimeout emits -(2x + 1) and onError -(2x + 2), so each output names its
// record and its outcome.
const OK = 1;
const TIMED_OUT = 2;
const FAILED = 3;

/**
 * One run of `n` records with contender `c`: { capacity, limiter?, budget?, adaptive?: more adaptive options,
 * service?: other service settings }. Exported for investigations (another tolerance, a service without the
 * slowdown, from `node -e`). Resolves to its figures: outcomes, the service's figures, latencies, the operator's
 * metrics, the limit sampled every SAMPLE_MS, and the service's answer trace for the chart.
 */
export async function once(n, c) {
  const service = new SimulatedService({ slots: SLOTS, queueLimit: QUEUE_LIMIT, knee: KNEE, slowdown: SLOWDOWN, ...c.service, trace: true });
  const metrics = asyncWaitMetrics();
  const readAt = new Float64Array(n);
  const doneAt = new Float64Array(n);
  const outcome = new Uint8Array(n);
  const acc = { n, ok: 0, timedOut: 0, failed: 0, dup: 0, bad: 0 };
  const options = {
    input: 'values',
    capacity: c.capacity,
    timeout: TIMEOUT,
    onTimeout: (x) => [-(2 * x) - 1],
    onError: (_err, x) => [-(2 * x) - 2],
    retry: c.budget ? { ...RETRY, budget: BUDGET } : RETRY,
    metrics,
    ...(c.limiter ? { concurrency: { adaptive: { limiter: c.limiter, min: 1, max: CAPACITY, isOverload, ...c.adaptive } } } : {}),
  };
  const call = (x, ctx) => service.request(SERVICE_MS, () => 2 * x, ctx.signal);
  // Every SAMPLE_MS: [ms since the start, limit (null before an adaptive one is reported), sampleRtt, minRtt,
  // requests at the service (served or queued, abandoned ones included), records waiting for a call slot].
  const samples = [];
  const t0 = performance.now();
  const sample = () => samples.push([
    performance.now() - t0, metrics.concurrencyLimit ?? (c.limiter ? null : c.capacity), metrics.sampleRtt, metrics.minRtt,
    service.serving + service.queue.length - service.queueHead, metrics.waitingForCall,
  ]);
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  const add = (v) => {
    const now = performance.now();
    let x;
    let kind;
    if (v >= 0) [x, kind] = [v / 2, OK];
    else if (-v % 2 === 1) [x, kind] = [(-v - 1) / 2, TIMED_OUT];
    else [x, kind] = [(-v - 2) / 2, FAILED];
    if (!(Number.isInteger(x) && x >= 0 && x < n)) {
      acc.bad++;
      return;
    }
    if (outcome[x] !== 0) {
      acc.dup++;
      return;
    }
    outcome[x] = kind;
    doneAt[x] = now;
    if (kind === OK) acc.ok++;
    else if (kind === TIMED_OUT) acc.timedOut++;
    else acc.failed++;
  };
  await new Promise((resolve, reject) => pulled(upTo(n)).pipe(
    tap((x) => { readAt[x] = performance.now(); }),
    asyncWaitUnordered(call, options),
  ).subscribe({ next: (el) => { if (el.kind === 'record') add(el.value); }, error: reject, complete: resolve }));
  const wallMs = performance.now() - t0;
  sample();
  clearInterval(timer);
  const m = metrics.snapshot();
  // The calls the operator abandoned are still in the service: let it finish them before the next run starts.
  await service.idle();

  const recordMs = new Float64Array(n);
  for (let i = 0; i < n; i++) recordMs[i] = doneAt[i] - readAt[i];
  recordMs.sort();
  const callMs = sortedOf(service.latencies);
  return {
    acc,
    wallMs,
    rate: acc.ok / (wallMs / 1000),
    service: service.stats(),
    metrics: m,
    call: { p50: percentile(callMs, 0.5), p99: percentile(callMs, 0.99), count: callMs.length },
    record: { p50: percentile(recordMs, 0.5), p99: percentile(recordMs, 0.99) },
    samples,
    trace: { answeredAt: service.answeredAt, latencies: service.latencies, offset: service.createdAt - t0 },
  };
}

/** Throws unless every record came out exactly once, and the outcomes agree with the operator's metrics. */
function verify(r, what) {
  const { acc, metrics } = r;
  expectEqual(acc.bad, 0, `${what}: outputs naming no record`);
  expectEqual(acc.dup, 0, `${what}: records out more than once`);
  expectEqual(acc.ok + acc.timedOut + acc.failed, acc.n, `${what}: results + timed out + failed`);
  expectEqual(metrics.succeeded, acc.ok, `${what}: metrics.succeeded against the results`);
  expectEqual(metrics.timedOut, acc.timedOut, `${what}: metrics.timedOut against the onTimeout fallbacks`);
  expectEqual(metrics.failed, acc.failed, `${what}: metrics.failed against the onError fallbacks`);
}

/** The chart's series of one run: the limit (mean per bucket) and the call latency p50 per bucket, over time (s). */
function timelineOf(name, r, bucketMs) {
  const buckets = Math.max(1, Math.ceil(r.wallMs / bucketMs));
  const limitSum = new Float64Array(buckets);
  const limitCount = new Uint32Array(buckets);
  for (const [t, limit] of r.samples) {
    if (limit === null) continue; // an adaptive limit before the operator reported one
    const b = Math.min(buckets - 1, Math.floor(t / bucketMs));
    limitSum[b] += limit;
    limitCount[b]++;
  }
  const lat = Array.from({ length: buckets }, () => []);
  const { answeredAt, latencies, offset } = r.trace;
  for (let i = 0; i < answeredAt.length; i++) {
    const b = Math.floor((answeredAt[i] + offset) / bucketMs);
    if (b >= 0 && b < buckets) lat[b].push(latencies[i]);
  }
  const mid = (b) => ((b + 0.5) * bucketMs) / 1000;
  const limit = [];
  const latency = [];
  for (let b = 0; b < buckets; b++) {
    if (limitCount[b] > 0) limit.push([mid(b), limitSum[b] / limitCount[b]]);
    if (lat[b].length > 0) latency.push([mid(b), percentile(sortedOf(lat[b]), 0.5)]);
  }
  return { name, limit, latency };
}

const ms = (x) => (Number.isFinite(x) ? `${fmtMs(x)} ms` : 'n/a');
const int = (x) => x.toLocaleString('en-US');

/** The limit over the run's samples: "mean (min-max)", or the fixed bound. */
function limitText(r, c) {
  if (!c.limiter) return `${c.capacity} (fixed)`;
  const limits = r.samples.map((s) => s[1]).filter((v) => v !== null);
  if (limits.length === 0) return 'n/a';
  const mean = limits.reduce((a, b) => a + b, 0) / limits.length;
  return `${mean.toFixed(1)} (${Math.min(...limits)}-${Math.max(...limits)})`;
}

export async function run({ quick = false, log = console.error } = {}) {
  const n = quick ? 1e4 : 1e5;
  const runs = 1;
  const res = {};
  const rows = [];
  for (const [name, c] of Object.entries(CONTENDERS)) {
    log(`  saturation n=${fmtN(n)} ${name}: warm-up at ${fmtN(n / 10)}, ${runs} run...`);
    const measured = [];
    await measure(() => once(n, c), {
      runs,
      warmup: () => once(n / 10, c),
      verify: (r, { warmup }) => {
        verify(r, `saturation ${name} n=${r.acc.n}${warmup ? ' (warm-up)' : ''}`);
        if (!warmup) measured.push(r);
      },
    });
    const r = measured[0];
    res[name] = r;
    const { acc, metrics: mt, service: sv } = r;
    rows.push({ contender: name, n, medianMs: r.wallMs, runs, times: [r.wallMs] });
    log(`  saturation ${name}: ${fmtMs(r.wallMs)} ms, ${fmtRate(r.rate)} results; ${acc.ok} ok, ${acc.timedOut} timed out, ${acc.failed} failed; `
      + `${mt.retried} retries (${mt.retriesDenied} denied); service: ${sv.rejected} rejected, ${sv.wasted} wasted, slots busy ${fmtPct(sv.busy)}, `
      + `peak queue ${sv.maxQueued}; call p50/p99 ${fmtMs(r.call.p50)}/${fmtMs(r.call.p99)} ms, record p50/p99 ${fmtMs(r.record.p50)}/${fmtMs(r.record.p99)} ms; `
      + `limit ${limitText(r, c)}, minRtt ${mt.minRtt ?? '-'}, sampleRtt ${mt.sampleRtt === null ? '-' : mt.sampleRtt.toFixed(1)}`);
  }

  const oracle = res[ORACLE];
  const fixed = res[FIXED_100];
  for (const row of rows) {
    const r = res[row.contender];
    const c = CONTENDERS[row.contender];
    const sampleRtts = r.samples.map((s) => s[2]).filter((v) => v !== null);
    row.extra = {
      throughput: fmtRate(r.rate),
      'vs oracle': fmtRatio(r.rate / oracle.rate),
      'results / timed out / failed': `${int(r.acc.ok)} / ${int(r.acc.timedOut)} / ${int(r.acc.failed)}`,
      'call latency p50 / p99': `${fmtMs(r.call.p50)} / ${fmtMs(r.call.p99)} ms`,
      'record latency p50 / p99': `${fmtMs(r.record.p50)} / ${fmtMs(r.record.p99)} ms`,
      'retries (denied by the budget)': `${int(r.metrics.retried)} (${int(r.metrics.retriesDenied)})`,
      'rejected by the service': int(r.service.rejected),
      'wasted answers': int(r.service.wasted),
      'slots busy': fmtPct(r.service.busy),
      'peak service queue': String(r.service.maxQueued),
      'limit: mean (range)': limitText(r, c),
      'minRtt / median sampleRtt': c.limiter ? `${r.metrics.minRtt ?? '-'} / ${sampleRtts.length ? median(sampleRtts).toFixed(1) : '-'} ms` : '-',
    };
  }

  const targets = [];
  for (const name of [AIMD, GRADIENT]) {
    const r = res[name];
    const thr = r.rate / oracle.rate;
    targets.push({
      target: `Saturation, ${name}: throughput >= 0.9x the oracle's (fixed capacity 8)`,
      measured: `${fmtRatio(thr)} (${fmtRate(r.rate)} against ${fmtRate(oracle.rate)})`,
      pass: thr >= 0.9,
      setAtN: 1e5,
      measuredAtN: n,
    });
    const p99 = r.call.p99 / oracle.call.p99;
    targets.push({
      target: `Saturation, ${name}: call latency p99 <= 2x the oracle's`,
      measured: `${fmtRatio(p99)} (${ms(r.call.p99)} against ${ms(oracle.call.p99)}; p50 ${ms(r.call.p50)} against ${ms(oracle.call.p50)})`,
      pass: p99 <= 2,
      setAtN: 1e5,
      measuredAtN: n,
    });
    const share = r.acc.timedOut / n;
    targets.push({
      target: `Saturation, ${name}: timeouts < 0.1% of the records`,
      measured: `${fmtPct(share)} (${int(r.acc.timedOut)} of ${fmtN(n)}; ${int(r.acc.failed)} failed, ${int(r.metrics.retried)} retries)`,
      pass: share < 0.001,
      setAtN: 1e5,
      measuredAtN: n,
    });
    const vsFixed = r.rate / fixed.rate;
    targets.push({
      target: `Saturation, ${name}: throughput >= 3x fixed capacity 100's`,
      measured: fixed.acc.ok === 0
        ? `fixed capacity 100 got no result at all (${fmtRate(r.rate)} against none)`
        : `${fmtRatio(vsFixed)} (${fmtRate(r.rate)} against ${fmtRate(fixed.rate)})`,
      pass: vsFixed >= 3,
      setAtN: 1e5,
      measuredAtN: n,
    });
  }
  targets.push({
    target: 'Saturation: report fixed capacity 100 against the service (no threshold)',
    measured: `${int(fixed.acc.ok)} results, ${int(fixed.acc.timedOut)} timed out, ${int(fixed.acc.failed)} failed of ${fmtN(n)}; `
      + `${int(fixed.service.rejected)} calls rejected, ${int(fixed.service.wasted)} of ${int(fixed.service.requests)} served for records that had timed out; `
      + `call latency p99 ${ms(fixed.call.p99)}`,
    pass: null,
  });
  targets.push({
    target: 'Saturation: report the record latency, admission to output (no threshold)',
    measured: [ORACLE, AIMD, GRADIENT].map((name) => `${name} p50 ${ms(res[name].record.p50)}, p99 ${ms(res[name].record.p99)}`).join('; ')
      + `: capacity 100 holds up to 100 records, so at the service's rate (the oracle's ${fmtRate(oracle.rate)}) a record spends about `
      + `${fmtMs((CAPACITY / oracle.rate) * 1000)} ms in the operator whatever the limit (Little's law), against the oracle's capacity of 8`,
    pass: null,
  });

  const wall = Math.max(...Object.values(res).map((r) => r.wallMs));
  const bucketMs = SAMPLE_MS * Math.max(1, Math.ceil(wall / SAMPLE_MS / CHART_POINTS));
  return {
    id: 'saturation',
    title: `Saturation: ${fmtN(n)} records through asyncWaitUnordered against a service of ${SLOTS} servers (${SERVICE_MS} ms a request) `
      + `and a queue of ${QUEUE_LIMIT} (overload beyond), slower past ${KNEE} queued; timeout ${TIMEOUT} ms, 3 retries (5-10-20 ms; a 10% budget for the adaptive ones)`,
    rows,
    targets,
    timeline: {
      bucketMs,
      timeoutMs: TIMEOUT,
      series: Object.keys(CONTENDERS).map((name) => timelineOf(name, res[name], bucketMs)),
    },
  };
}
