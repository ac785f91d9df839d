import { catchError, lastValueFrom, map, merge, of, repeat, retry, take, tap, timer, toArray, type Observable } from 'rxjs';
import {
  arraySource, asyncBatchOrdered, asyncWaitMetrics, asyncWaitOrdered, checkpointable, MemoryCheckpointStore, pulled, sourceMetrics, values,
  type CheckpointedOutput,
} from 'rxjs-sluice';
import { newScheduler } from '../support/marbles';
import { indices } from '../support/flowHarness';

/**
 * A gate belongs to one chain: the pull sources subscribed as the chain is subscribed, and nothing else. What an
 * operator does with its elements (its calls, batch functions, fallbacks, and the operators downstream of it) may
 * read pull sources of its own, which must not join the chain's gate; and a gate must never stay shut for a source
 * that can only be resumed by an operator that has ended. Each case here hung, silently, or lost the bound.
 */

/** Two pages for x, read asynchronously (an async generator): a pull source a call reads to its end. */
async function* pages(x: number): AsyncGenerator<string> {
  yield `${x}a`;
  await Promise.resolve();
  yield `${x}b`;
}

/** Resolves with what `source` emitted and how it ended; 'hung' when it has not ended within `ms` of real time. */
function outcome<T>(source: Observable<T>, ms = 2000): Promise<{ outputs: T[]; end: 'complete' | 'error' | 'hung' }> {
  return new Promise((resolve) => {
    const outputs: T[] = [];
    const guard = setTimeout(() => {
      subscription.unsubscribe();
      resolve({ outputs, end: 'hung' });
    }, ms);
    const subscription = source.subscribe({
      next: (v) => outputs.push(v),
      error: () => {
        clearTimeout(guard);
        resolve({ outputs, end: 'error' });
      },
      complete: () => {
        clearTimeout(guard);
        resolve({ outputs, end: 'complete' });
      },
    });
  });
}

/** Reads x's pages to the end and joins them. */
const readPages = async (x: number): Promise<string> => (await lastValueFrom(pulled(pages(x)).pipe(toArray()))).join(',');

describe('a gate stays with its chain', () => {
  it.each([
    ['asyncWaitOrdered', () => asyncWaitOrdered(readPages, { capacity: 1, input: 'values' })],
    ['asyncBatchOrdered', () =>
      asyncBatchOrdered(async (xs: number[]) => [await readPages(xs[0]!)], { maxBatchSize: 1, linger: 0, maxInFlightBatches: 1, capacity: 1, input: 'values' })],
  ])('%s: a call that reads a pull source, fed by a synchronous push source, completes (it never joins the operator\'s gate)', async (_name, make) => {
    // Arrange: of() floods inside the operator's subscribe, where the gate is in the flow slot; each call reads a
    // pull source to its end. Had it joined the operator's gate, the second input, waiting beyond capacity 1, would
    // shut it between two pages, and the first call could never finish: a silent hang.
    const pipeline = of(1, 2, 3).pipe(make(), values());

    // Act
    const result = await outcome(pipeline);

    // Assert
    expect(result).toEqual({ outputs: ['1a,1b', '2a,2b', '3a,3b'], end: 'complete' });
  });

  it('a restore replays held inputs whose calls read pull sources: it completes, with every result once', async () => {
    // Arrange: A's calls read a pull source; B downstream. Run 1 is crashed once a checkpoint holds A's inputs
    // beyond its capacity; the restore replays them (calling A's fn) while B subscribes its input with its gate in
    // the flow slot.
    const store = new MemoryCheckpointStore({ retain: 100 });
    const job = () => checkpointable({ source: arraySource(indices(8).map((i) => i + 1)), store, every: { records: 1 } }).pipe(
      asyncWaitOrdered((x: number) => readPages(x), { id: 'A', capacity: 2 }),
      asyncWaitOrdered(async (joined: string) => joined.toUpperCase(), { id: 'B', capacity: 4 }),
    );
    const first: string[] = [];
    const crashed = job().subscribe((o: CheckpointedOutput<string>) => first.push(o.element.value as string));
    crashed.unsubscribe(); // at once: the checkpoints of the synchronous first reads hold A's 3 inputs

    // Act
    const second = await outcome(job());

    // Assert
    expect(second.end).toBe('complete');
    expect([...first, ...second.outputs.map((o) => o.element.value)]).toEqual(indices(8).map((i) => `${i + 1}A,${i + 1}B`));
  });
});

describe('a full operator that ends lets the other sources of its gate go on', () => {
  it.each([
    ['take(1)', (o: Observable<string>) => o.pipe(take(1))],
    ['an error caught by catchError', (o: Observable<string>) => o.pipe(
      tap((v) => {
        if (v === 'a1') throw new Error('boom');
      }),
      catchError(() => of('caught')),
    )],
  ])('a merged branch whose operator is full ends by %s: the other source resumes and the merge completes', (_name, end) => {
    newScheduler().run(({ flush }) => {
      // Arrange: branch a's operator (capacity 1) fills, which pauses b too (one gate); then the branch ends.
      const later = (x: string): Observable<string> => timer(5).pipe(map(() => x));
      const a = end(pulled(['a1', 'a2', 'a3']).pipe(asyncWaitOrdered(later, { capacity: 1, input: 'values' }), values()));
      const bMetrics = sourceMetrics();
      const outputs: string[] = [];
      let completed = false;

      // Act
      merge(a, pulled(['b1', 'b2'], { metrics: bMetrics })).pipe(asyncWaitOrdered(later, { capacity: 10, input: 'values' }), values())
        .subscribe({ next: (v) => outputs.push(v), complete: () => (completed = true) });
      flush();

      // Assert
      expect(outputs.filter((v) => v.startsWith('b'))).toEqual(['b1', 'b2']);
      expect(completed).toBe(true);
      expect(bMetrics.paused).toBe(0);
    });
  });
});

describe('a source resubscribed inside its chain keeps the gate', () => {
  it.each([
    ['repeat(2)', (source: Observable<number>) => source.pipe(repeat(2)), 2 * 100],
    ['retry(1) after an error at item 5', (source: Observable<number>) => source.pipe(retry(1)), 5 + 100],
  ])('%s between a pull source and the operator: the read-ahead stays within capacity + 1 on every subscription', (_name, wrap, total) => {
    newScheduler().run(({ flush }) => {
      // Arrange: the first subscription of the retry case fails at its 6th item
      let subscriptions = 0;
      const items = {
        *[Symbol.iterator]() {
          const failing = total !== 200 && subscriptions++ === 0;
          for (let i = 0; i < 100; i++) {
            if (failing && i === 5) throw new Error('flaky input');
            yield i;
          }
        },
      };
      const metrics = asyncWaitMetrics();
      let maxBuffered = 0;
      const outputs: number[] = [];

      // Act
      wrap(pulled(items)).pipe(
        asyncWaitOrdered((x: number) => timer(1).pipe(map(() => x)), { capacity: 2, input: 'values', metrics }),
        tap(() => (maxBuffered = Math.max(maxBuffered, metrics.buffered))),
        values(),
      ).subscribe((v) => outputs.push(v));
      flush();

      // Assert
      expect(outputs).toHaveLength(total);
      expect(maxBuffered).toBeLessThanOrEqual(1);
    });
  });
});
