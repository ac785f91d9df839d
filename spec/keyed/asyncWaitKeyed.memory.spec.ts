import { Subject } from 'rxjs';
import { asyncWaitKeyed, asyncWaitMetrics, record, type StreamElement } from 'rxjs-sluice';
import { settledHeap } from '../support/heap';
import { soak } from '../support/soak';

/**
 * Per-key bookkeeping follows what is held, not how many keys were seen: a stream of a million distinct keys must
 * not grow the heap. Measured after a full gc (spec/support/heap.ts).
 */

const DISTINCT_KEYS = soak(200_000, 1_000_000);

describe('asyncWaitKeyed memory', () => {
  it.each([
    ['key', true],
    ['input', false], // a record held throughout would hold every later one back in input order
  ] as const)(`order '%s': ${DISTINCT_KEYS} distinct keys (a slow record held throughout: %s) do not grow the heap`, async (order, slow) => {
    // Arrange: record 0's call never answers when `slow`; every other record, each of its own key, answers at once.
    const metrics = asyncWaitMetrics();
    const source = new Subject<StreamElement<number>>();
    const never = new Subject<number>();
    let emitted = 0;
    const subscription = source.pipe(asyncWaitKeyed((x: number) => (x === 0 && slow ? never : [x]), {
      key: (x) => `user-${x}`, capacity: 100, order, metrics,
    })).subscribe(() => emitted++);
    for (let i = 0; i <= 1_000; i++) source.next(record(i)); // warm-up: code and structures settle
    const before = await settledHeap();

    // Act
    for (let i = 1; i <= DISTINCT_KEYS; i++) source.next(record(1_000 + i));
    const after = await settledHeap();

    // Assert: every fast record went out, and only the slow record's key is still held
    expect(emitted).toBe(1_000 + DISTINCT_KEYS + (slow ? 0 : 1));
    expect(metrics.activeKeys).toBe(slow ? 1 : 0);
    expect(after - before).toBeLessThan(2_000_000);
    subscription.unsubscribe();
    expect(metrics.activeKeys).toBe(0);
  });

  it('a hot key of 100,000 records answering synchronously starts each call from one loop, not a nested stack', () => {
    // Arrange: the first call answers later; every other one at once, so each settle lets the next record start.
    const first = new Subject<number>();
    const source = new Subject<StreamElement<number>>();
    let emitted = 0;
    let error: unknown;
    source.pipe(asyncWaitKeyed((x: number) => (x === 0 ? first : [x]), { key: () => 'hot', capacity: 100_000 }))
      .subscribe({ next: () => emitted++, error: (e: unknown) => (error = e) });
    for (let i = 0; i < 100_000; i++) source.next(record(i));

    // Act
    first.next(0);
    first.complete();

    // Assert
    expect(error).toBeUndefined();
    expect(emitted).toBe(100_000);
  });
});
