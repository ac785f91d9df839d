import { type TestScheduler } from 'rxjs/testing';
import { Subject, map, take, tap, timer, type Observable } from 'rxjs';
import {
  AsyncCallError, AsyncTimeoutError, asyncWaitMetrics, asyncWaitOrdered, asyncWaitUnordered, record, watermark,
  type AsyncWaitOptions,
} from 'rxjs-sluice';
import {
  callErrorLike, captureError, newScheduler, operatorOf, timeoutErrorLike, type Call, type El, type Mode,
} from '../support/marbles';

/**
 * Ports of Apache Flink's AsyncWaitOperatorTest, OrderedStreamElementQueueTest and UnorderedStreamElementQueueTest
 * (see /work/shared/reference/flink-async-io.md, "test scenarios worth porting"). Each test is named after the
 * Flink test it ports. Flink's thread pools and latches become virtual time (TestScheduler.run: 1 frame = 1 ms)
 * or Subjects completed step by step. Snapshot/restore tests are ported elsewhere.
 */

/** Flink's TIMEOUT constant in AsyncWaitOperatorTest. */
const TIMEOUT = 1000;

/**
 * Shared by testEventTimeOrdered and testEventTimeUnordered: capacity 2, input 1@1, 2@2, W(2), 3@3, and
 * MyAsyncFunction (2 * x, completed asynchronously). Here 1 takes 10 ms, 2 takes 5 ms, 3 takes 5 ms.
 */
function eventTimeOutput(mode: Mode, cold: TestScheduler['createColdObservable'], collected: El[]): Observable<El> {
  const source = cold<El>('(abWc|)', { a: record(1, 1), b: record(2, 2), W: watermark(2), c: record(3, 3) });
  const delays: Record<number, number> = { 1: 10, 2: 5, 3: 5 };
  return source.pipe(
    operatorOf(mode)((x: number) => timer(delays[x]!).pipe(map(() => 2 * x)), { capacity: 2 }),
    tap((e) => collected.push(e)),
  );
}

describe('AsyncWaitOperatorTest (Apache Flink, ported)', () => {
  it('testEventTimeOrdered', () => {
    const scheduler = newScheduler();
    const collected: El[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange + Act
      const out = eventTimeOutput('ordered', cold, collected);
      // Assert: 2@1, 4@2, W2 when 1 completes at 10; 3 starts then (capacity 2) and yields 6@3 at 15.
      expectObservable(out).toBe('10ms (abW)(c|)', { a: record(2, 1), b: record(4, 2), W: watermark(2), c: record(6, 3) });
    });
    expect(collected).toEqual([record(2, 1), record(4, 2), watermark(2), record(6, 3)]);
  });

  it('testEventTimeUnordered', () => {
    const scheduler = newScheduler();
    const collected: El[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange + Act
      const out = eventTimeOutput('unordered', cold, collected);
      // Assert: 4@2 at 5 (its slot goes to 3), then 2@1, W2 and 6@3 at 10.
      expectObservable(out).toBe('5ms b 4ms (aWc|)', { a: record(2, 1), b: record(4, 2), W: watermark(2), c: record(6, 3) });
    });
    // Flink's own assertions: the watermark at index 2, 6@3 last, and the same records as in ordered mode.
    expect(collected[2]).toEqual(watermark(2));
    expect(collected[3]).toEqual(record(6, 3));
    expect(collected.slice(0, 2)).toEqual(expect.arrayContaining([record(2, 1), record(4, 2)]));
  });

  describe.each<Mode>(['ordered', 'unordered'])('%s', (mode) => {
    it(`testProcessingTime${mode === 'ordered' ? 'Ordered' : 'Unordered'}WithRetry`, () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: inputs 1..6 (x@x); OddInputEmptyResultAsyncFunction: odd inputs answer [] after 1 ms, even
        // inputs [2x] after 7 - x ms; capacity 6; retry on an empty result, at most 2 retries, 10 ms apart.
        const source = cold<El>('(abcdef|)', {
          a: record(1, 1), b: record(2, 2), c: record(3, 3), d: record(4, 4), e: record(5, 5), f: record(6, 6),
        });
        // Act
        const out = source.pipe(
          operatorOf(mode)((x: number, ctx) => {
            calls.push({ value: x, attempt: ctx.attempt, at: scheduler.now() });
            return x % 2 === 1 ? cold<number>('-|') : timer(7 - x).pipe(map(() => 2 * x));
          }, { capacity: 6, timeout: TIMEOUT, retry: { maxRetries: 2, delay: 10, retryOnResult: (r) => r.length === 0 } }),
        );
        // Assert: only the even inputs produce output; the odd ones end empty after their last retry at 22..23.
        const expected = { A: record(4, 2), B: record(8, 4), C: record(12, 6) };
        if (mode === 'ordered') expectObservable(out).toBe('23ms (ABC|)', expected);
        else expectObservable(out).toBe('-C-B-A 17ms |', expected);
      });
      for (const odd of [1, 3, 5]) {
        expect(calls.filter((c) => c.value === odd).map((c) => [c.attempt, c.at])).toEqual([[1, 0], [2, 11], [3, 22]]);
      }
      for (const even of [2, 4, 6]) {
        expect(calls.filter((c) => c.value === even).map((c) => [c.attempt, c.at])).toEqual([[1, 0]]);
      }
    });

    it(`testProcessingTimeWithTimeoutFunction${mode === 'ordered' ? 'Ordered' : 'Unordered'}WithRetry`, () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const signals: AbortSignal[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: AlwaysTimeoutWithDefaultValueAsyncFunction: every call fails after 501 ms; retry on any error
        // after 100 ms (up to 3 retries); TIMEOUT 1000; the timeout handler answers [-1].
        const source = cold<El>('(ab|)', { a: record(1, 1), b: record(2, 2) });
        // Act
        const out = source.pipe(
          operatorOf(mode)((x: number, ctx) => {
            calls.push({ value: x, attempt: ctx.attempt, at: scheduler.now() });
            signals.push(ctx.signal);
            return cold<number>('501ms #', undefined, new Error('Dummy error'));
          }, { capacity: 10, timeout: TIMEOUT, retry: { maxRetries: 3, delay: 100 }, onTimeout: () => [-1] }),
        );
        // Assert: attempt 1 at 0 fails at 501, attempt 2 at 601 is cut off by the deadline at 1000.
        expectObservable(out).toBe('1000ms (AB|)', { A: record(-1, 1), B: record(-1, 2) });
      });
      for (const value of [1, 2]) {
        const own = calls.filter((c) => c.value === value);
        expect(own.length).toBeLessThanOrEqual(2);
        expect(own.map((c) => [c.attempt, c.at])).toEqual([[1, 0], [2, 601]]);
      }
      expect(signals.filter((_s, i) => calls[i].attempt === 2).map((s) => s.aborted)).toEqual([true, true]);
    });

    it(`test${mode === 'ordered' ? 'Ordered' : 'Unordered'}WaitUserExceptionHandling`, () => {
      const scheduler = newScheduler();
      const errors: unknown[] = [];
      const userException = new Error('Test exception');
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: UserExceptionAsyncFunction throws from asyncInvoke.
        const source = cold<El>('(a|)', { a: record(1) });
        // Act
        const out = source.pipe(
          operatorOf(mode)((): number[] => {
            throw userException;
          }),
          captureError(errors),
        );
        // Assert: the job fails with the user's exception as the cause.
        expectObservable(out).toBe('#', undefined, callErrorLike({ input: 1, attempts: 1 }));
      });
      expect(errors[0]).toBeInstanceOf(AsyncCallError);
      expect((errors[0] as AsyncCallError).cause).toBe(userException);
    });

    it(`test${mode === 'ordered' ? 'Ordered' : 'Unordered'}WaitUserExceptionHandlingWithRetry`, () => {
      const scheduler = newScheduler();
      const errors: unknown[] = [];
      const calls: number[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: 1 always throws, 2 throws once; exception retry strategy (3 retries, 100 ms apart).
        const source = cold<El>('(ab|)', { a: record(1), b: record(2) });
        // Act
        const out = source.pipe(
          operatorOf(mode)((x: number, ctx) => {
            calls.push(scheduler.now());
            if (x === 1 || ctx.attempt === 1) throw new Error(`Test exception ${x}/${ctx.attempt}`);
            return [2 * x];
          }, { timeout: TIMEOUT, retry: { maxRetries: 3, delay: 100 } }),
          captureError(errors),
        );
        // Assert: 2 recovers on its first retry; 1 fails for good after its third retry at 300.
        if (mode === 'ordered') {
          expectObservable(out).toBe('300ms #', undefined, callErrorLike({ input: 1, attempts: 4 }));
        } else {
          expectObservable(out).toBe('100ms B 199ms #', { B: record(4) }, callErrorLike({ input: 1, attempts: 4 }));
        }
      });
      expect(calls).toEqual([0, 0, 100, 100, 200, 300]);
      expect(((errors[0] as AsyncCallError).cause as Error).message).toBe('Test exception 1/4');
    });
  });

  describe('testAsyncTimeout (ordered, capacity 2, timeout 10)', () => {
    // LazyAsyncFunction answers [x] only when its latch opens (here: at 11). Record 1 arrives at 0, record 2 at 5.
    const lazyOutput = (cold: TestScheduler['createColdObservable'], hot: TestScheduler['createHotObservable'], options: AsyncWaitOptions<number, number>) => {
      const latch = hot('11ms x');
      const source = cold<El>('a 4ms b|', { a: record(1, 0), b: record(2, 5) });
      return source.pipe(asyncWaitOrdered((x: number) => latch.pipe(take(1), map(() => x)), { capacity: 2, timeout: 10, ...options }));
    };

    it('testAsyncTimeoutFailure', () => {
      const scheduler = newScheduler();
      const errors: unknown[] = [];
      scheduler.run(({ cold, hot, expectObservable }) => {
        // Arrange + Act
        const out = lazyOutput(cold, hot, {}).pipe(captureError(errors));
        // Assert: record 1's timeout at 10 fails the stream.
        expectObservable(out).toBe('10ms #', undefined, timeoutErrorLike({ input: 1, timeout: 10 }));
      });
      expect(errors[0]).toBeInstanceOf(AsyncTimeoutError);
    });

    it('testAsyncTimeoutIgnore', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, hot, expectObservable }) => {
        // Arrange + Act: IgnoreTimeoutLazyAsyncFunction answers a timeout with [3x].
        const out = lazyOutput(cold, hot, { onTimeout: (x) => [3 * x] });
        // Assert: 3@0 at 10 (record 1's late answer at 11 is ignored), then 2@5 at 11.
        expectObservable(out).toBe('10ms A (B|)', { A: record(3, 0), B: record(2, 5) });
      });
    });
  });

  it('testTimeoutAfterComplete', () => {
    const scheduler = newScheduler();
    const onTimeout = jest.fn((x: number) => [-x]);
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange: TimeoutAfterCompletionTestFunction completes at once; unordered, capacity 1, TIMEOUT 1000;
      // the input stays open until 2000, well past the deadline.
      const source = cold<El>('a 1999ms |', { a: record(1) });
      // Act
      const out = source.pipe(asyncWaitUnordered((x: number) => [x], { capacity: 1, timeout: TIMEOUT, onTimeout }));
      // Assert: exactly one output, and the timeout handler is never called (FLINK-22573).
      expectObservable(out).toBe('A 1999ms |', { A: record(1) });
    });
    expect(onTimeout).not.toHaveBeenCalled();
  });
});

/** Completes one call driven by a Subject: Flink's `ResultFuture.complete(singleton(value))`. */
function completeWith(futures: Map<number, Subject<number>>, input: number, value: number): void {
  const future = futures.get(input)!;
  future.next(value);
  future.complete();
}

/** Subscribes `operator` to a Subject input whose calls are Subjects, keyed by input value. */
function queueHarness(make: (fn: (x: number) => Observable<number>) => (source: Observable<El>) => Observable<El>) {
  const futures = new Map<number, Subject<number>>();
  const input = new Subject<El>();
  const output: El[] = [];
  input
    .pipe(
      make((x) => {
        const future = new Subject<number>();
        futures.set(x, future);
        return future;
      }),
    )
    .subscribe((e) => output.push(e));
  /** What was emitted since the last call: Flink's popCompleted(queue). */
  let popped = 0;
  const popCompleted = (): El[] => {
    const fresh = output.slice(popped);
    popped = output.length;
    return fresh;
  };
  return { futures, input, popCompleted };
}

describe('OrderedStreamElementQueueTest (Apache Flink, ported)', () => {
  it('testCompletionOrder', () => {
    // Arrange: R1@0, R2@1, W(2), R3@3, each call an uncompleted future.
    const metrics = asyncWaitMetrics();
    const { futures, input, popCompleted } = queueHarness((fn) => asyncWaitOrdered(fn, { capacity: 4, metrics }));
    input.next(record(1, 0));
    input.next(record(2, 1));
    input.next(watermark(2));
    input.next(record(3, 3));
    expect(popCompleted()).toEqual([]);
    expect(metrics.snapshot()).toEqual(expect.objectContaining({ inFlight: 3, waiting: 0 }));

    // Act + Assert: completing R2 and R3 pops nothing: R1 is still the head.
    completeWith(futures, 2, 11);
    completeWith(futures, 3, 13);
    expect(popCompleted()).toEqual([]);
    expect(metrics.snapshot()).toEqual(expect.objectContaining({ inFlight: 1, waiting: 2 }));

    // Act + Assert: completing R1 pops all four, in input order.
    completeWith(futures, 1, 10);
    expect(popCompleted()).toEqual([record(10, 0), record(11, 1), watermark(2), record(13, 3)]);
    expect(metrics.snapshot()).toEqual(expect.objectContaining({ inFlight: 0, waiting: 0, emitted: 3 }));
  });
});

describe('UnorderedStreamElementQueueTest (Apache Flink, ported)', () => {
  it('testCompletionOrder', () => {
    // Arrange: R1@0, R2@1, W(2), R3@3, R4@4, W(5), R5@6, R6@7, each call an uncompleted future.
    const metrics = asyncWaitMetrics();
    const { futures, input, popCompleted } = queueHarness((fn) => asyncWaitUnordered(fn, { capacity: 8, metrics }));
    input.next(record(1, 0));
    input.next(record(2, 1));
    input.next(watermark(2));
    input.next(record(3, 3));
    input.next(record(4, 4));
    input.next(watermark(5));
    input.next(record(5, 6));
    input.next(record(6, 7));
    expect(popCompleted()).toEqual([]);
    expect(metrics.snapshot()).toEqual(expect.objectContaining({ inFlight: 6, waiting: 0 }));

    // Completing R3 pops nothing: it is behind W(2).
    completeWith(futures, 3, 13);
    expect(popCompleted()).toEqual([]);

    // Completing R2 pops R2: it is in the head segment.
    completeWith(futures, 2, 12);
    expect(popCompleted()).toEqual([record(12, 1)]);

    // Completing R6, then R4, pops nothing: R1 still holds W(2).
    completeWith(futures, 6, 16);
    completeWith(futures, 4, 14);
    expect(popCompleted()).toEqual([]);
    expect(metrics.snapshot()).toEqual(expect.objectContaining({ inFlight: 2, waiting: 3 }));

    // Completing R1 pops R1, W(2), R3, R4, W(5), R6.
    completeWith(futures, 1, 11);
    expect(popCompleted()).toEqual([record(11, 0), watermark(2), record(13, 3), record(14, 4), watermark(5), record(16, 7)]);

    // Completing R5 pops R5.
    completeWith(futures, 5, 15);
    expect(popCompleted()).toEqual([record(15, 6)]);
    expect(metrics.snapshot()).toEqual(expect.objectContaining({ inFlight: 0, waiting: 0, emitted: 6 }));
  });
});
