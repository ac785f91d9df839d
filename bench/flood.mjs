// Flood scenario: N records emitted synchronously, capacity 100, fn = x => Promise.resolve(2 * x).
// The sluice operators run twice: fed records made by toRecords() (the default input: 'elements'), and fed
// the plain values (input: 'values').
// Every contender runs in this same process, so the figures that matter are the ratios between them.
import { Readable } from 'node:stream';
import { defer, dematerialize, from, lastValueFrom, map, materialize, mergeMap, range, reduce } from 'rxjs';
import { asyncWaitOrdered, asyncWaitUnordered, toRecords } from 'rxjs-sluice';
import { expectEqual, fmtMs, fmtN, fmtRatio, measure } from './harness.mjs';

const fn = (x) => Promise.resolve(2 * x);
const sumRecords = reduce((acc, el) => (el.kind === 'record' ? acc + el.value : acc), 0);
const sum = reduce((a, v) => a + v, 0);

function* upTo(n) {
  for (let i = 0; i < n; i++) yield i;
}

// The usual "concatMapEager" reorder stage: inner notifications arrive tagged with their input's index,
// in completion order. The head index's values go out at once; any other index's notifications wait in a
// map until every index before it has completed. Inner completions only advance the head, and
// dematerialize() downstream turns the values (and any error) back into a plain stream.
export const reorderByIndex = () => (source) => defer(() => {
  const pending = new Map(); // index -> notifications held until its turn
  let head = 0;
  return source.pipe(
    mergeMap(([i, note]) => {
      if (i !== head) {
        const held = pending.get(i);
        if (held) held.push(note);
        else pending.set(i, [note]);
        return [];
      }
      if (note.kind !== 'C') return [note];
      const out = [];
      head++;
      for (let held = pending.get(head); held; held = pending.get(head)) {
        pending.delete(head);
        let done = false;
        for (const n of held) {
          if (n.kind === 'C') done = true;
          else out.push(n);
        }
        if (!done) break; // the new head is still running: its later notes come straight through
        head++;
      }
      return out;
    }),
  );
});

// Contenders: { name: (n) => Promise<number> }, resolving to the sum of 2*x for x in 0..n-1 (= n*(n-1)).
// Names starting with 'asyncWait' are checked against the targets; names containing 'mergeMap'
// are the quadratic peers (skipped at 1e6 in --quick mode); 'raw loop (floor)' is the floor.
export const floodContenders = {
  asyncWaitOrdered: (n) => lastValueFrom(range(0, n).pipe(toRecords(), asyncWaitOrdered(fn, { capacity: 100 }), sumRecords)),
  asyncWaitUnordered: (n) => lastValueFrom(range(0, n).pipe(toRecords(), asyncWaitUnordered(fn, { capacity: 100 }), sumRecords)),
  // The same operators fed plain values: queued inputs stay bare numbers, a record is made on admission.
  "asyncWaitOrdered, input: 'values'": (n) => lastValueFrom(range(0, n).pipe(asyncWaitOrdered(fn, { capacity: 100, input: 'values' }), sumRecords)),
  "asyncWaitUnordered, input: 'values'": (n) => lastValueFrom(range(0, n).pipe(asyncWaitUnordered(fn, { capacity: 100, input: 'values' }), sumRecords)),
  'mergeMap(fn, 100)': (n) => lastValueFrom(range(0, n).pipe(mergeMap(fn, 100), sum)),
  'concatMapEager (mergeMap+materialize+reorder)': (n) => lastValueFrom(range(0, n).pipe(
    mergeMap((x, i) => from(fn(x)).pipe(materialize(), map((note) => [i, note])), 100),
    reorderByIndex(),
    dematerialize(),
    sum,
  )),
  'Readable.from().map(fn, {concurrency: 100})': async (n) => {
    let total = 0;
    for await (const v of Readable.from(upTo(n)).map(fn, { concurrency: 100 })) total += v;
    return total;
  },
  'raw loop (floor)': async (n) => {
    // 100 promises in flight, refilled as each settles: the least work any solution can do.
    let next = 0, sum = 0;
    const worker = async () => {
      while (next < n) {
        const v = await fn(next++); // read sum only after the await, or workers overwrite each other
        sum += v;
      }
    };
    await Promise.all(Array.from({ length: 100 }, worker));
    return sum;
  },
};

const RAW = 'raw loop (floor)';
const MERGEMAP = 'mergeMap(fn, 100)';
const isQuadraticPeer = (name) => name.includes('mergeMap');

export async function run({ quick = false, runs = quick ? 3 : 5, log = console.error } = {}) {
  const sizes = [1e4, 1e5, 1e6];
  const results = new Map(); // name -> Map(n -> median ms)
  const rows = [];
  for (const n of sizes) {
    for (const [name, contender] of Object.entries(floodContenders)) {
      if (quick && n >= 1e6 && isQuadraticPeer(name)) continue; // minutes at 1e6: full mode only
      const warmN = n / 10;
      const expected = (k) => k * (k - 1);
      log(`  flood n=${fmtN(n)} ${name}: warm-up at ${fmtN(warmN)}, ${runs} runs${isQuadraticPeer(name) && n >= 1e6 ? ' (quadratic: about a minute per run)' : ''}...`);
      const m = await measure(() => contender(n), {
        runs,
        warmup: async () => ({ warm: await contender(warmN) }),
        verify: (r, { warmup }) => (warmup
          ? expectEqual(r.warm, expected(warmN), `flood ${name} n=${warmN} (warm-up)`)
          : expectEqual(r, expected(n), `flood ${name} n=${n}`)),
      });
      if (!results.has(name)) results.set(name, new Map());
      results.get(name).set(n, m.median);
      rows.push({ contender: name, n, medianMs: m.median, runs, times: m.times });
      log(`  flood n=${fmtN(n)} ${name}: median ${fmtMs(m.median)} ms [${m.times.map(fmtMs).join(', ')}]`);
    }
  }

  const at = (name, n) => results.get(name)?.get(n);
  for (const row of rows) {
    const raw = at(RAW, row.n);
    const mm = at(MERGEMAP, row.n);
    const prev = at(row.contender, row.n / 10);
    row.extra = {
      'vs raw loop': raw ? fmtRatio(row.medianMs / raw) : 'n/a',
      'mergeMap / this': mm ? fmtRatio(mm / row.medianMs) : 'n/a',
      'time(N) / time(N/10)': prev ? fmtRatio(row.medianMs / prev) : '',
    };
    if (quick && row.n >= 1e6 && !mm) row.note = 'mergeMap not run at 1e6 in --quick';
  }

  // The largest N at which both contenders were measured.
  const commonN = (a, b) => [...sizes].reverse().find((n) => at(a, n) !== undefined && at(b, n) !== undefined);
  const targets = [];
  for (const name of Object.keys(floodContenders).filter((k) => k.startsWith('asyncWait'))) {
    {
      const big = at(name, 1e6), small = at(name, 1e5);
      const r = big / small;
      targets.push({
        target: `Flood, ${name}: time(1e6) / time(1e5) <= 12 (linear)`,
        measured: fmtRatio(r),
        pass: r <= 12,
      });
    }
    {
      // mergeMap is not run at 1e6 in --quick: the ratio at a smaller N gets no verdict (the report says n/a).
      const n = commonN(MERGEMAP, name);
      const r = at(MERGEMAP, n) / at(name, n);
      targets.push({
        target: `Flood, ${name}: at N = 1e6, >= 50x faster than mergeMap(fn, 100)`,
        measured: fmtRatio(r),
        pass: r >= 50,
        setAtN: 1e6,
        measuredAtN: n,
      });
    }
    {
      const n = commonN(RAW, name);
      const r = at(name, n) / at(RAW, n);
      targets.push({
        target: `Flood, ${name}: within 2.5x of the raw loop (N = 1e6)`,
        measured: fmtRatio(r),
        pass: r <= 2.5,
        setAtN: 1e6,
        measuredAtN: n,
      });
    }
  }

  const series = [...results].map(([name, byN]) => ({ name, points: [...byN].sort((a, b) => a[0] - b[0]) }));
  return {
    id: 'flood',
    title: 'Flood: N records emitted synchronously, capacity 100, fn = x => Promise.resolve(2x)',
    rows,
    targets,
    series,
  };
}
