// Per-key ordering under random latency: 1e5 records (1e4 with --quick) over 1000 keys drawn uniformly by a seeded
// generator, each call a real delay of 1-20 ms (the latency scenario's seeded sequence), capacity 100.
// Contenders: asyncWaitUnordered (no order: the ceiling), asyncWaitKeyed (order: 'key'), asyncWaitKeyed
// (order: 'input'), asyncWaitOrdered (global order), and the plain RxJS composition
// groupBy(key) + concatMap(fn) + mergeAll(), which has no global bound (one call per key in flight: up to 1000).
// Measured in rounds (measureRounds) after a warm-up at N/10 each. Every run is checked: each record once (the sum),
// each key's records in input order for the per-key contenders, input order for the ordered ones.
import { concatMap, from, groupBy, lastValueFrom, map, mergeAll, range, reduce, tap } from 'rxjs';
import { asyncWaitKeyed, asyncWaitOrdered, asyncWaitUnordered, toRecords, values } from 'rxjs-sluice';
import { expectEqual, fmtMs, fmtN, fmtPct, fmtRate, fmtRatio, measureRounds } from './harness.mjs';
import { latencies, mulberry32 } from './latency.mjs';

const CAPACITY = 100;
const KEYS = 1000;
const KEY_SEED = 0x6b657973;

/** The key of record x, uniform over 0..KEYS-1. */
function keysOf(n) {
  const rnd = mulberry32(KEY_SEED);
  return Int32Array.from({ length: n }, () => Math.floor(rnd() * KEYS));
}

/** A call that answers x after its latency, counting calls and the most in flight. */
function makeCall(lat) {
  const stats = { calls: 0, inFlight: 0, peak: 0 };
  const fn = (x) => {
    stats.calls++;
    stats.peak = Math.max(stats.peak, ++stats.inFlight);
    return new Promise((resolve) => setTimeout(() => {
      stats.inFlight--;
      resolve(x);
    }, lat[x]));
  };
  return { fn, stats };
}

/** Sums the outputs and checks their order: per key, and (when `global`) overall. */
function checked(key, global) {
  const last = new Int32Array(KEYS).fill(-1);
  const state = { sum: 0, keyOrder: true, inputOrder: true, previous: -1 };
  return [
    tap((x) => {
      state.sum += x;
      const k = key[x];
      if (x < last[k]) state.keyOrder = false;
      last[k] = x;
      if (x < state.previous) state.inputOrder = false;
      state.previous = x;
    }),
    reduce(() => state, state),
    map((s) => ({ sum: s.sum, keyOrder: s.keyOrder, inputOrder: s.inputOrder, global })),
  ];
}

const sluice = (operator) => (fn, n, key) => lastValueFrom(range(0, n).pipe(toRecords(), operator(fn), values(), ...checked(key)));
const CONTENDERS = {
  asyncWaitUnordered: { run: sluice((fn) => asyncWaitUnordered(fn, { capacity: CAPACITY })), order: 'none' },
  "asyncWaitKeyed (order: 'key')": { run: null, order: 'key' },
  "asyncWaitKeyed (order: 'input')": { run: null, order: 'input' },
  asyncWaitOrdered: { run: sluice((fn) => asyncWaitOrdered(fn, { capacity: CAPACITY })), order: 'input' },
  'groupBy + concatMap + mergeAll()': {
    run: (fn, n, key) => lastValueFrom(range(0, n).pipe(
      groupBy((x) => key[x]),
      map((group) => group.pipe(concatMap((x) => from(fn(x))))),
      mergeAll(),
      ...checked(key),
    )),
    order: 'key',
  },
};
for (const order of ['key', 'input']) {
  CONTENDERS[`asyncWaitKeyed (order: '${order}')`].run = (fn, n, key) =>
    sluice((f) => asyncWaitKeyed(f, { key: (x) => key[x], capacity: CAPACITY, order }))(fn, n, key);
}

export async function run({ quick = false, runs = quick ? 3 : 5, log = console.error } = {}) {
  const n = quick ? 1e4 : 1e5;
  const warmN = n / 10;
  const lat = latencies(n);
  const key = keysOf(n);
  const meanDrawn = lat.reduce((a, b) => a + b, 0) / n;
  const idealMs = (n * meanDrawn) / CAPACITY;
  log(`  keyed: n=${fmtN(n)} over ${KEYS} keys, drawn mean latency ${meanDrawn.toFixed(3)} ms, ideal time ${fmtMs(idealMs)} ms; ${runs} rounds`);

  const peaks = new Map();
  const contenders = Object.entries(CONTENDERS).map(([name, { run: go, order }]) => {
    const verify = (r, { warmup }) => {
      const size = warmup ? warmN : n;
      expectEqual(r.sum, (size * (size - 1)) / 2, `keyed ${name} n=${size}: sum`);
      if (order !== 'none') expectEqual(r.keyOrder, true, `keyed ${name}: per-key order`);
      if (order === 'input') expectEqual(r.inputOrder, true, `keyed ${name}: input order`);
    };
    return {
      name,
      warmup: () => go(makeCall(lat).fn, warmN, key),
      fn: () => {
        const call = makeCall(lat);
        return go(call.fn, n, key).then((r) => {
          expectEqual(call.stats.calls, n, `keyed ${name}: calls`);
          peaks.set(name, Math.max(peaks.get(name) ?? 0, call.stats.peak));
          return r;
        });
      },
      verify,
    };
  });
  const m = await measureRounds(contenders, { runs });

  const u = m.get('asyncWaitUnordered').median;
  const rows = [...m.entries()].map(([name, { median, times }]) => ({
    contender: name, n, medianMs: median, runs, times,
    extra: {
      throughput: fmtRate(n / (median / 1000)),
      '% of ideal': fmtPct(idealMs / median),
      'vs unordered (throughput)': fmtPct(u / median),
      'peak calls in flight': String(peaks.get(name)),
    },
  }));
  rows.find((r) => r.contender.startsWith('groupBy')).note =
    'no global bound: one call per key at once, up to 1000 in flight';
  const keyed = m.get("asyncWaitKeyed (order: 'key')").median;
  const keyedInput = m.get("asyncWaitKeyed (order: 'input')").median;
  const ordered = m.get('asyncWaitOrdered').median;
  const grouped = m.get('groupBy + concatMap + mergeAll()').median;
  return {
    id: 'keyed',
    title: `Per-key order: ${fmtN(n)} records over ${KEYS} keys, each call 1-20 ms (seeded uniform, mean ${meanDrawn.toFixed(2)} ms), capacity 100`,
    rows,
    targets: [
      {
        target: "Keyed: asyncWaitKeyed (order: 'key') >= 85% of asyncWaitUnordered's throughput",
        measured: `${fmtPct(u / keyed)} (unordered ${fmtMs(u)} ms, keyed ${fmtMs(keyed)} ms; ${fmtPct(idealMs / keyed)} of ideal)`,
        pass: u / keyed >= 0.85,
        setAtN: 1e5,
        measuredAtN: n,
      },
      {
        target: 'Keyed: report ordered, keyed in input order and groupBy + concatMap + mergeAll() against unordered (no threshold)',
        measured: `asyncWaitOrdered ${fmtPct(u / ordered)}, asyncWaitKeyed (order: 'input') ${fmtPct(u / keyedInput)}, `
          + `groupBy ${fmtPct(u / grouped)} of unordered's throughput (groupBy with up to ${peaks.get('groupBy + concatMap + mergeAll()')} calls in flight: `
          + `no global bound); keyed takes ${fmtRatio(keyed / u)} unordered's time`,
        pass: null,
      },
    ],
    info: { meanDrawnMs: meanDrawn, idealMs, keys: KEYS },
  };
}
