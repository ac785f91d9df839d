import { NEVER, Subject, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  asyncWaitMetrics, asyncWaitOrdered, asyncWaitUnordered, outputTag, record, sideOutput, watermark,
  type AsyncCallContext, type AsyncFunction, type StreamElement,
} from 'rxjs-sluice';
import { settledHeap } from '../support/heap';

/**
 * Memory stays O(capacity) whatever the latency pattern: a record that sits in flight for a long time (a call
 * that hangs, or a long retry wait, under a long timeout) must not make the operator keep every record that
 * passed it in the meantime. Measured on the heap after a full gc (spec/support/heap.ts).
 */

/** The runtime's WeakRef (Node 14.6+), typed here: the project's type library is ES2020, which predates it. */
interface Weak<T extends object> {
  deref(): T | undefined;
}
const WeakRef = (globalThis as unknown as { WeakRef: new <T extends object>(target: T) => Weak<T> }).WeakRef;

const FAST_RECORDS = 200_000;
const CAPACITY = 10;

/** Record 0 takes the slow path; every other record completes synchronously with one result. */
const SLOW_PATHS: ReadonlyArray<readonly [string, AsyncFunction<number, number>]> = [
  ['a call that never settles', (x) => (x === 0 ? NEVER : [x])],
  // Its first call fails at once; its retry is due in an hour, well inside its two-day budget.
  ['a record waiting for a long retry', (x, ctx: AsyncCallContext) => (x === 0 && ctx.attempt === 1 ? throwError(() => new Error('down')) : [x])],
];

describe('asyncWait memory with a timeout', () => {
  it.each(SLOW_PATHS)('stays bounded while %s sits in flight and a long stream of fast records passes it', async (_name, fn) => {
    // Arrange: a virtual clock that is never flushed, so the slow record's deadline and retry never come.
    const scheduler = new TestScheduler(() => undefined);
    const source = new Subject<StreamElement<number>>();
    const out = source.pipe(asyncWaitUnordered(fn, {
      capacity: CAPACITY, timeout: 2 * 24 * 3_600_000, retry: { maxRetries: 1, delay: 3_600_000 }, scheduler,
    }));
    let emitted = 0;
    const subscription = out.subscribe(() => emitted++);
    source.next(record(0));
    for (let i = 1; i <= 1_000; i++) source.next(record(i)); // warm-up: code and structures settle
    const before = await settledHeap();

    // Act
    for (let i = 1; i <= FAST_RECORDS; i++) source.next(record(i));
    const after = await settledHeap();

    // Assert: every fast record went out, and none of them is still held (each one costs well over 100 bytes).
    expect(emitted).toBe(1_000 + FAST_RECORDS);
    expect(after - before).toBeLessThan(2_000_000);
    subscription.unsubscribe();
  });

  it('asyncWaitOrdered holds at most capacity records behind a slow head: the rest waits, visibly, in the input queue', () => {
    // Arrange: ordered mode cannot pass the slow head, so records queue beyond capacity, which `buffered` shows.
    const scheduler = new TestScheduler(() => undefined);
    const metrics = asyncWaitMetrics();
    const source = new Subject<StreamElement<number>>();
    const out = source.pipe(asyncWaitOrdered((x: number) => (x === 0 ? NEVER : [x]), { capacity: CAPACITY, timeout: 60_000, scheduler, metrics }));
    const subscription = out.subscribe();

    // Act
    for (let i = 0; i <= 1_000; i++) source.next(record(i));

    // Assert: at most `capacity` records held; the rest is the visible input backlog.
    expect(metrics.inFlight + metrics.waiting).toBe(CAPACITY);
    expect(metrics.buffered).toBe(1_001 - CAPACITY);
    subscription.unsubscribe();
  });
});

describe('asyncWait memory with non-record elements behind a record that does not settle (no timeout)', () => {
  /** Record 0's call never settles; every other record answers at once. */
  const hangOnZero = (x: number) => (x === 0 ? NEVER : [x]);

  it.each([
    ['asyncWaitOrdered', 'behind it in the held queue', asyncWaitOrdered, 10],
    ['asyncWaitUnordered', 'behind it in the held queue', asyncWaitUnordered, 10],
    ['asyncWaitOrdered', 'in the input queue beyond capacity', asyncWaitOrdered, 1],
    ['asyncWaitUnordered', 'in the input queue beyond capacity', asyncWaitUnordered, 1],
  ] as const)('%s stays bounded while a stream of watermarks waits %s', async (_name, _where, operator, capacity) => {
    // Arrange: with capacity 1, record 1 waits beyond capacity and the watermarks queue behind it.
    const metrics = asyncWaitMetrics();
    const source = new Subject<StreamElement<number>>();
    const subscription = source.pipe(operator(hangOnZero, { capacity, metrics })).subscribe();
    source.next(record(0));
    source.next(record(1));
    for (let t = 0; t < 1_000; t++) source.next(watermark(t)); // warm-up
    const before = await settledHeap();

    // Act: an idle source's watermark ticks, say.
    for (let t = 1_000; t < 1_000 + FAST_RECORDS; t++) source.next(watermark(t));
    const after = await settledHeap();

    // Assert: each watermark held would cost well over 30 bytes; all but one were coalesced, and counted.
    expect(after - before).toBeLessThan(2_000_000);
    expect(metrics.watermarksCoalesced).toBe(1_000 + FAST_RECORDS - 1);
    subscription.unsubscribe();
  });

  it.each([
    ['asyncWaitOrdered', asyncWaitOrdered],
    ['asyncWaitUnordered', asyncWaitUnordered],
  ] as const)('%s: after unsubscribe, a record whose promise is still referenced keeps none of its neighbours alive', async (_name, operator) => {
    // Arrange: record 0's promise is kept by the test (as a pending request would keep it); a side output and a
    // watermark sit next to it, and record 1, done, behind them.
    const resolvers: Array<(value: number) => void> = [];
    const source = new Subject<StreamElement<number>>();
    const fn = (x: number) => (x === 0 ? new Promise<number>((resolve) => resolvers.push(resolve)) : [x]);
    const subscription = source.pipe(operator(fn, { capacity: 10 })).subscribe();
    const refs = ((): Weak<object>[] => {
      const side = sideOutput(outputTag<number>('late'), 1);
      const mark = watermark(1);
      source.next(record(0));
      source.next(side);
      source.next(mark);
      source.next(record(1));
      return [new WeakRef(side), new WeakRef(mark)];
    })();

    // Act
    subscription.unsubscribe();
    await settledHeap();

    // Assert: both elements were collected, while record 0's call is still pending.
    expect(refs.map((ref) => ref.deref())).toEqual([undefined, undefined]);
    expect(resolvers).toHaveLength(1);
  });
});
