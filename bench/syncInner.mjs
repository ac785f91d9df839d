// Synchronous inner scenario: fn = x => of(2 * x), capacity 100, N = 1e6 (1e5 with --quick).
// The inner result is complete the moment it is subscribed, so this measures per-record overhead.
import { lastValueFrom, mergeMap, of, range, reduce } from 'rxjs';
import { asyncWaitOrdered, asyncWaitUnordered, toRecords } from 'rxjs-sluice';
import { expectEqual, fmtMs, fmtN, fmtRatio, fmtRate, measure } from './harness.mjs';

const fn = (x) => of(2 * x);
const sumRecords = reduce((acc, el) => (el.kind === 'record' ? acc + el.value : acc), 0);

export const syncInnerContenders = {
  asyncWaitUnordered: (n) => lastValueFrom(range(0, n).pipe(toRecords(), asyncWaitUnordered(fn, { capacity: 100 }), sumRecords)),
  asyncWaitOrdered: (n) => lastValueFrom(range(0, n).pipe(toRecords(), asyncWaitOrdered(fn, { capacity: 100 }), sumRecords)),
  'mergeMap(fn, 100)': (n) => lastValueFrom(range(0, n).pipe(mergeMap(fn, 100), reduce((a, v) => a + v, 0))),
};

export async function run({ quick = false, runs = quick ? 3 : 5, log = console.error } = {}) {
  const n = quick ? 1e5 : 1e6;
  const warmN = n / 10;
  const medians = {};
  const rows = [];
  for (const [name, contender] of Object.entries(syncInnerContenders)) {
    log(`  syncInner n=${fmtN(n)} ${name}: warm-up at ${fmtN(warmN)}, ${runs} runs...`);
    const m = await measure(() => contender(n), {
      runs,
      warmup: async () => ({ warm: await contender(warmN) }),
      verify: (r, { warmup }) => (warmup
        ? expectEqual(r.warm, warmN * (warmN - 1), `syncInner ${name} n=${warmN} (warm-up)`)
        : expectEqual(r, n * (n - 1), `syncInner ${name} n=${n}`)),
    });
    medians[name] = m.median;
    rows.push({ contender: name, n, medianMs: m.median, runs, times: m.times });
    log(`  syncInner ${name}: median ${fmtMs(m.median)} ms [${m.times.map(fmtMs).join(', ')}]`);
  }
  const mm = medians['mergeMap(fn, 100)'];
  for (const row of rows) {
    row.extra = {
      throughput: fmtRate(n / (row.medianMs / 1000)),
      'throughput vs mergeMap': fmtRatio(mm / row.medianMs),
    };
  }
  const ratio = (name) => mm / medians[name];
  return {
    id: 'syncInner',
    title: `Synchronous inner: fn = x => of(2x), capacity 100, N = ${fmtN(n)}`,
    rows,
    targets: [
      // Set at N = 1e6: at the smaller N of --quick the report gives them no verdict (n/a).
      { target: 'Sync inner: asyncWaitUnordered >= 0.8x the throughput of mergeMap(fn, 100)', measured: fmtRatio(ratio('asyncWaitUnordered')), pass: ratio('asyncWaitUnordered') >= 0.8, setAtN: 1e6, measuredAtN: n },
      { target: 'Sync inner: asyncWaitOrdered >= 0.7x the throughput of mergeMap(fn, 100)', measured: fmtRatio(ratio('asyncWaitOrdered')), pass: ratio('asyncWaitOrdered') >= 0.7, setAtN: 1e6, measuredAtN: n },
    ],
  };
}
