// Flood scenario: N records emitted synchronously, capacity 100, fn = x => Promise.resolve(2 * x).
// Every contender runs in this same process, so the figures that matter are the ratios between them.
import { lastValueFrom, mergeMap, range, reduce } from 'rxjs';
import { asyncWaitOrdered, asyncWaitUnordered, toRecords } from 'rxjs-sluice';

const fn = (x) => Promise.resolve(2 * x);
const sumRecords = reduce((acc, el) => (el.kind === 'record' ? acc + el.value : acc), 0);

export const floodContenders = {
  asyncWaitOrdered: (n) => lastValueFrom(range(0, n).pipe(toRecords(), asyncWaitOrdered(fn, { capacity: 100 }), sumRecords)),
  asyncWaitUnordered: (n) => lastValueFrom(range(0, n).pipe(toRecords(), asyncWaitUnordered(fn, { capacity: 100 }), sumRecords)),
  'mergeMap(fn, 100)': (n) => lastValueFrom(range(0, n).pipe(mergeMap(fn, 100), reduce((a, v) => a + v, 0))),
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
