import {
  NEVER, Subject, asyncScheduler, lastValueFrom, map, of, range, take, tap, throwError, timer, toArray, type Observable,
} from 'rxjs';
import {
  AsyncCallError, AsyncTimeoutError, asyncWaitMetrics, barrier, record, toRecords, values, watermark,
  type AsyncWaitCounters, type RetryReason,
} from 'rxjs-sluice';
import {
  ASYNC_WAIT_OPERATORS, ZERO_GAUGES, ZERO_OPTIONAL_COUNTERS, callErrorLike, captureError, delayedTimesTen, forMode, logCalls, newScheduler,
  timeoutErrorLike, type Call, type El,
} from '../support/marbles';

/**
 * Marble tests of the behaviour asyncWaitOrdered and asyncWaitUnordered share (docs/async-io.md): timeouts,
 * retries, fallbacks, failures, completion, unsubscription, re-entrancy, metrics and the scheduler option. Every
 * scenario runs for both operators; where the two differ only in emission order, `forMode` names the expectation
 * of each. What only one operator does (ordering, watermark boundaries, capacity-slot nuances) is tested in
 * asyncWaitOrdered.spec.ts and asyncWaitUnordered.spec.ts.
 *
 * In `run` mode one frame is 1 ms of virtual time; `Nms` advances N frames, and every character of a `(...)` group
 * advances one frame too.
 */

describe.each(ASYNC_WAIT_OPERATORS)('%s', (_name, operator, mode) => {
  describe('promises', () => {
    it('resolves a flood of 10 000 promise results each exactly once, in input order when ordered', async () => {
      // Arrange
      const source = range(0, 10000).pipe(toRecords());
      // Act
      const out = await lastValueFrom(source.pipe(operator((x) => Promise.resolve(2 * x)), values(), toArray()));
      // Assert
      const sortedIfUnordered = forMode(mode, { ordered: out, unordered: [...out].sort((x, y) => x - y) });
      expect(sortedIfUnordered).toEqual(Array.from({ length: 10000 }, (_, i) => 2 * i));
    });
  });

  describe('capacity', () => {
    it('does not count watermarks or barriers against capacity', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 2 with a, W, B, b: if markers took slots, b would have to wait for a.
        const source = cold<El>('(aWBb|)', { a: record(1), W: watermark(1), B: barrier(1), b: record(2) });
        // Act
        const out = source.pipe(operator(delayedTimesTen(scheduler, { 1: 10, 2: 5 }, calls), { capacity: 2 }));
        // Assert: B is forwarded on arrival; b (done at 5) stays behind a (ordered) or behind W (unordered).
        expectObservable(out).toBe('B 9ms (AWb|)', { A: record(10), W: watermark(1), B: barrier(1), b: record(20) });
      });
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 0]]);
    });

    it('queues a watermark that arrives while records wait beyond capacity behind those records', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 1; b waits for a's slot, and W arrives after b.
        const source = cold<El>('(abW|)', { a: record(1), b: record(2), W: watermark(2) });
        // Act
        const out = source.pipe(operator(delayedTimesTen(scheduler, { 1: 10, 2: 10 }), { capacity: 1 }));
        // Assert: W does not overtake the waiting b.
        expectObservable(out).toBe('10ms A 9ms (BW|)', { A: record(10), B: record(20), W: watermark(2) });
      });
    });
  });

  describe('barriers', () => {
    it('forwards a barrier on arrival, overtaking a record whose call is in flight', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a@0 takes 10 ms, B@3, b@4 takes 2 ms (done at 6), source done at 5.
        const source = cold<El>('a 2ms B b|', { a: record(1), B: barrier(1), b: record(2) });
        // Act
        const out = source.pipe(operator(delayedTimesTen(scheduler, { 1: 10, 2: 2 }, calls)));
        // Assert: B leaves at 3, ahead of a; b waits for a when ordered, and, as B is no boundary, leaves
        // when done when unordered.
        const expected = forMode(mode, { ordered: '3ms B 6ms (AC|)', unordered: '3ms B 2ms C 3ms (A|)' });
        expectObservable(out).toBe(expected, { A: record(10), B: barrier(1), C: record(20) });
      });
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 4]]);
    });

    it('forwards a barrier on arrival, overtaking inputs queued beyond capacity; a watermark behind it still waits', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const metrics = asyncWaitMetrics();
      const atBarrier: AsyncWaitCounters[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 1, 10 ms calls; b waits for a's slot; then B and W arrive, all at 0.
        const source = cold<El>('(abBW|)', { a: record(1), b: record(2), B: barrier(1), W: watermark(2) });
        // Act
        const out = source.pipe(
          operator(delayedTimesTen(scheduler, { 1: 10, 2: 10 }, calls), { capacity: 1, metrics }),
          tap((e) => {
            if (e.kind === 'barrier') atBarrier.push(metrics.snapshot());
          }),
        );
        // Assert: B leaves at 0, while a is in flight and b still queued; W keeps its place behind b.
        expectObservable(out).toBe('B 9ms A 9ms (CW|)', { A: record(10), B: barrier(1), C: record(20), W: watermark(2) });
      });
      expect(atBarrier).toEqual([expect.objectContaining({ inFlight: 1, waiting: 0, buffered: 1, started: 1, emitted: 0 })]);
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 10]]);
    });

    it('lets a barrier overtake held watermarks, while watermarks keep their order relative to records', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a@0 (10 ms), V@1, b@2 (5 ms, done at 7), B@3, c@4 (1 ms, done at 5), W@5, source done at 6.
        const source = cold<El>('aVbBcW|', {
          a: record(1), V: watermark(1), b: record(2), B: barrier(1), c: record(3), W: watermark(2),
        });
        // Act
        const out = source.pipe(operator(delayedTimesTen(scheduler, { 1: 10, 2: 5, 3: 1 })));
        // Assert: B leaves at 3, ahead of a and V; at 10, V still follows a, b and c still sit between V and W
        // (in completion order when unordered).
        const expected = forMode(mode, { ordered: '3ms B 6ms (AVPQW|)', unordered: '3ms B 6ms (AVQPW|)' });
        expectObservable(out).toBe(expected, {
          A: record(10), V: watermark(1), P: record(20), B: barrier(1), Q: record(30), W: watermark(2),
        });
      });
    });

    it('forwards a barrier pushed from inside next while draining once the drain loop ends, never between results of one record', () => {
      const scheduler = newScheduler();
      const seen: Array<[number, El]> = [];
      scheduler.run(({ cold }) => {
        // Arrange: a answers two values at 5; W; b answers two values at 1, held behind a (ordered) or W
        // (unordered); so at 5 one drain loop emits a's results, W and b's results. The subscriber pushes
        // barrier 1 into the source as soon as it sees a's first result.
        const input = new Subject<El>();
        const inners: Record<number, Observable<number>> = {
          1: cold('5ms (pq|)', { p: 10, q: 11 }),
          2: cold('1ms (rs|)', { r: 20, s: 21 }),
        };
        input.pipe(operator((x) => inners[x]!)).subscribe((e) => {
          seen.push([scheduler.now(), e]);
          if (e.kind === 'record' && e.value === 10) input.next(barrier(1));
        });
        // Act
        input.next(record(1));
        input.next(watermark(1));
        input.next(record(2));
      });
      // Assert: the barrier comes after the whole loop, not between 10 and 11, nor anywhere inside it.
      expect(seen).toEqual([
        [5, record(10)], [5, record(11)], [5, watermark(1)], [5, record(20)], [5, record(21)], [5, barrier(1)],
      ]);
    });
  });

  describe('results', () => {
    it('releases all results of one input together when its call completes', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: the call emits 10 at 1 and 11 at 3, and completes at 6.
        const source = cold<El>('(a|)', { a: record(1, 7) });
        const inner = cold('-x-y--|', { x: 10, y: 11 });
        // Act
        const out = source.pipe(operator(() => inner));
        // Assert
        expectObservable(out).toBe('6ms (XY|)', { X: record(10, 7), Y: record(11, 7) });
      });
    });

    it('stamps every output with its input timestamp and passes that timestamp to fn', () => {
      const scheduler = newScheduler();
      const seen: Array<{ timestamp: number | undefined; hasKey: boolean }> = [];
      const outputs: El[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a has timestamp 100 and answers two values at 6; b has none and answers two values at 2.
        const source = cold<El>('(ab|)', { a: record(1, 100), b: record(2) });
        // Act
        const out = source.pipe(
          operator((x, ctx) => {
            seen.push({ timestamp: ctx.timestamp, hasKey: 'timestamp' in ctx });
            return cold(x === 1 ? '6ms (pq|)' : '2ms (pq|)', { p: 10 * x, q: 10 * x + 1 });
          }),
          tap((e) => outputs.push(e)),
        );
        // Assert: b's results wait for a's when ordered.
        const expected = forMode(mode, { ordered: '6ms (ABCD|)', unordered: '2ms (CD) (AB|)' });
        expectObservable(out).toBe(expected, { A: record(10, 100), B: record(11, 100), C: record(20), D: record(21) });
      });
      expect(seen).toEqual([{ timestamp: 100, hasKey: true }, { timestamp: undefined, hasKey: false }]);
      const stamped = ['kind', 'timestamp', 'value'];
      const unstamped = ['kind', 'value'];
      expect(outputs.map((e) => Object.keys(e).sort())).toEqual(forMode(mode, {
        ordered: [stamped, stamped, unstamped, unstamped],
        unordered: [unstamped, unstamped, stamped, stamped],
      }));
    });
  });

  describe('timeout', () => {
    it('errors with AsyncTimeoutError at the deadline, aborting ctx.signal and unsubscribing the call', () => {
      const scheduler = newScheduler();
      const signals: AbortSignal[] = [];
      const errors: unknown[] = [];
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // Arrange: the call would answer at 8; the budget is 5 ms.
        const source = cold<El>('a', { a: record(1) });
        const inner = cold('8ms (x|)', { x: 10 });
        // Act
        const out = source.pipe(
          operator((_x, ctx) => {
            signals.push(ctx.signal);
            return inner;
          }, { timeout: 5 }),
          captureError(errors),
        );
        // Assert
        expectObservable(out).toBe('5ms #', undefined, timeoutErrorLike({ input: 1, timeout: 5, attempts: 1 }));
        expectSubscriptions(inner.subscriptions).toBe('^----!');
      });
      const error = errors[0] as AsyncTimeoutError;
      expect(error).toBeInstanceOf(AsyncTimeoutError);
      expect(error.cause).toBeUndefined();
      expect(signals).toHaveLength(1);
      expect(signals[0].aborted).toBe(true);
      expect(signals[0].reason).toBe(error);
    });

    it('uses onTimeout results at the deadline and ignores the late real result', () => {
      const scheduler = newScheduler();
      const signals: AbortSignal[] = [];
      const fallbackCtx: Array<{ attempt: number; aborted: boolean; timestamp: number | undefined }> = [];
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // Arrange: the real answer would come at 15; the budget is 10 ms; the source stays open until 20.
        const source = cold<El>('a 19ms |', { a: record(1, 50) });
        const inner = cold('15ms (x|)', { x: 10 });
        // Act
        const out = source.pipe(
          operator((_x, ctx) => {
            signals.push(ctx.signal);
            return inner;
          }, {
            timeout: 10,
            onTimeout: (x, ctx) => {
              fallbackCtx.push({ attempt: ctx.attempt, aborted: ctx.signal.aborted, timestamp: ctx.timestamp });
              return [-x];
            },
          }),
        );
        // Assert: the fallback at 10, nothing at 15, completion with the source at 20.
        expectObservable(out).toBe('10ms F 9ms |', { F: record(-1, 50) });
        expectSubscriptions(inner.subscriptions).toBe('^---------!');
      });
      expect(signals[0].aborted).toBe(true);
      expect(signals[0].reason).toBeInstanceOf(AsyncTimeoutError);
      expect(fallbackCtx).toEqual([{ attempt: 1, aborted: false, timestamp: 50 }]);
    });

    it('emits the results of an observable returned by onTimeout when it completes', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: fn never answers; the fallback answers 2 ms after the 5 ms deadline.
        const source = cold<El>('(a|)', { a: record(1) });
        // Act
        const out = source.pipe(operator(() => NEVER, { timeout: 5, onTimeout: () => cold('--(y|)', { y: -1 }) }));
        // Assert
        expectObservable(out).toBe('7ms (F|)', { F: record(-1) });
      });
    });

    it('measures the timeout from admission, not from arrival in the queue beyond capacity', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 1, budget 15 ms, each call 10 ms: b waits 10 ms for a slot, then needs 10 ms.
        const source = cold<El>('(ab|)', { a: record(1), b: record(2) });
        // Act
        const out = source.pipe(operator(delayedTimesTen(scheduler, { 1: 10, 2: 10 }), { capacity: 1, timeout: 15 }));
        // Assert: b finishes at 20, before its deadline 10 + 15 = 25 (arrival + 15 would be 15).
        expectObservable(out).toBe('10ms A 9ms (B|)', { A: record(10), B: record(20) });
      });
    });

    it('gives every record its own deadline, counted from its own admission', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a at 0 and b at 5, neither answers, budget 10 ms.
        const source = cold<El>('a 4ms b|', { a: record(1), b: record(2) });
        // Act
        const out = source.pipe(operator(() => NEVER, { timeout: 10, onTimeout: (x) => [-x] }));
        // Assert
        expectObservable(out).toBe('10ms A 4ms (B|)', { A: record(-1), B: record(-2) });
      });
    });

    it('never calls onTimeout for a call that completes before its deadline', () => {
      const scheduler = newScheduler();
      const onTimeout = jest.fn((x: number) => [-x]);
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: the answer comes at 9, the deadline is 10, the output stays open until 30.
        const source = cold<El>('a 29ms |', { a: record(1) });
        // Act
        const out = source.pipe(operator(delayedTimesTen(scheduler, { 1: 9 }), { timeout: 10, onTimeout }));
        // Assert
        expectObservable(out).toBe('9ms A 20ms |', { A: record(10) });
      });
      expect(onTimeout).not.toHaveBeenCalled();
    });
  });

  describe('retry', () => {
    it('retries after a fixed delay and passes the attempt number to fn', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: attempts 1 and 2 fail after 2 ms, attempt 3 answers after 2 ms; delay 10 ms.
        const source = cold<El>('(a|)', { a: record(1) });
        const fn = logCalls(scheduler, calls, (x, ctx) =>
          ctx.attempt < 3 ? cold<number>('--#', undefined, new Error(`boom ${ctx.attempt}`)) : cold('--(v|)', { v: 10 * x }));
        // Act
        const out = source.pipe(operator(fn, { retry: { maxRetries: 3, delay: 10 } }));
        // Assert: calls at 0, 2 + 10 = 12, 14 + 10 = 24; answer at 26.
        expectObservable(out).toBe('26ms (A|)', { A: record(10) });
      });
      expect(calls.map((c) => [c.attempt, c.at])).toEqual([[1, 0], [2, 12], [3, 24]]);
    });

    it('waits min(initial * multiplier^(n-1), max) before retry n with exponential backoff', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: four synchronous failures, then success; delays 10, 20, min(40, 25), min(80, 25).
        const source = cold<El>('(a|)', { a: record(1) });
        const fn = logCalls(scheduler, calls, (x, ctx) => (ctx.attempt < 5 ? throwError(() => new Error('down')) : [10 * x]));
        // Act
        const out = source.pipe(operator(fn, { retry: { maxRetries: 4, delay: { initial: 10, multiplier: 2, max: 25 } } }));
        // Assert
        expectObservable(out).toBe('80ms (A|)', { A: record(10) });
      });
      expect(calls.map((c) => [c.attempt, c.at])).toEqual([[1, 0], [2, 10], [3, 30], [4, 55], [5, 80]]);
    });

    it('waits min(initial * multiplier^(n-1), max) before retry n, per element', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: two elements, each failing synchronously three times; delays 10, 30, min(90, 50).
        const source = cold<El>('a 4ms b|', { a: record(1), b: record(2) });
        const fn = logCalls(scheduler, calls, (x, ctx) => (ctx.attempt < 4 ? throwError(() => new Error('down')) : [10 * x]));
        // Act
        const out = source.pipe(operator(fn, { retry: { maxRetries: 3, delay: { initial: 10, multiplier: 3, max: 50 } } }));
        // Assert: element 1 answers at 90, element 2 (5 ms later, with its own backoff) at 95.
        expectObservable(out).toBe('90ms A 4ms (B|)', { A: record(10), B: record(20) });
      });
      expect(calls.filter((c) => c.value === 1).map((c) => c.at)).toEqual([0, 10, 40, 90]);
      expect(calls.filter((c) => c.value === 2).map((c) => c.at)).toEqual([5, 15, 45, 95]);
    });

    it('asks a delay function for each retry, with the retry number and the reason', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const reasons: Array<[number, RetryReason<number>]> = [];
      const failure = new Error('first');
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: attempt 1 fails, attempt 2 answers [] (rejected by retryOnResult), attempt 3 answers [10].
        const source = cold<El>('(a|)', { a: record(1) });
        const fn = logCalls(scheduler, calls, (x, ctx) => {
          if (ctx.attempt === 1) return throwError(() => failure);
          return ctx.attempt === 2 ? [] : [10 * x];
        });
        const delay = (n: number, reason: RetryReason<number>) => {
          reasons.push([n, reason]);
          return 3 * n;
        };
        // Act
        const out = source.pipe(operator(fn, { retry: { maxRetries: 2, delay, retryOnResult: (results) => results.length === 0 } }));
        // Assert: retry 1 after 3 ms, retry 2 after 6 ms.
        expectObservable(out).toBe('9ms (A|)', { A: record(10) });
      });
      expect(calls.map((c) => [c.attempt, c.at])).toEqual([[1, 0], [2, 3], [3, 9]]);
      expect(reasons).toEqual([[1, { kind: 'error', error: failure }], [2, { kind: 'result', results: [] }]]);
      expect(reasons[0][1]).toEqual(expect.objectContaining({ error: failure }));
    });

    it('retries a completed call that retryOnResult rejects, and accepts the last results once retries are exhausted', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: every attempt answers [100 * attempt], and every answer is rejected.
        const source = cold<El>('(a|)', { a: record(1, 9) });
        const fn = logCalls(scheduler, calls, (_x, ctx) => [100 * ctx.attempt]);
        // Act
        const out = source.pipe(operator(fn, { retry: { maxRetries: 2, delay: 5, retryOnResult: () => true } }));
        // Assert: the third (last allowed) answer goes out.
        expectObservable(out).toBe('10ms (A|)', { A: record(300, 9) });
      });
      expect(calls.map((c) => [c.attempt, c.at])).toEqual([[1, 0], [2, 5], [3, 10]]);
    });

    const transient = new Error('transient');
    const fatal = new Error('fatal');
    it.each([
      {
        which: 'a later error', failures: [transient, fatal], errorAt: '10ms #', callTimes: [[1, 0], [2, 10]],
        retryOnError: (e: unknown) => (e as Error).message !== 'fatal',
      },
      { which: 'the first error', failures: [fatal], errorAt: '#', callTimes: [[1, 0]], retryOnError: () => false },
    ])('does not retry $which that retryOnError rejects, and fails with AsyncCallError', ({ failures, errorAt, callTimes, retryOnError }) => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: attempt n fails with failures[n - 1]; the last of them is the fatal one.
        const source = cold<El>('(a|)', { a: record(1) });
        const fn = logCalls(scheduler, calls, (_x, ctx) => throwError(() => failures[ctx.attempt - 1]));
        // Act
        const out = source.pipe(operator(fn, { retry: { maxRetries: 5, delay: 10, retryOnError } }));
        // Assert
        expectObservable(out).toBe(errorAt, undefined, callErrorLike({ input: 1, attempts: failures.length, cause: fatal }));
      });
      expect(calls.map((c) => [c.attempt, c.at])).toEqual(callTimes);
    });

    it('fails with AsyncCallError carrying input, last cause and attempts once retries are exhausted', () => {
      const scheduler = newScheduler();
      const errors: unknown[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: every attempt fails with e<attempt>; 2 retries, 4 ms apart.
        const source = cold<El>('(a|)', { a: record(7) });
        // Act
        const out = source.pipe(
          operator((_x, ctx) => throwError(() => new Error(`e${ctx.attempt}`)), { retry: { maxRetries: 2, delay: 4 } }),
          captureError(errors),
        );
        // Assert
        expectObservable(out).toBe('8ms #', undefined, callErrorLike({ input: 7, attempts: 3 }));
      });
      const error = errors[0] as AsyncCallError;
      expect(error).toBeInstanceOf(AsyncCallError);
      expect(error.name).toBe('AsyncCallError');
      expect((error.cause as Error).message).toBe('e3');
    });
  });

  describe('timeout across retries', () => {
    it.each([
      {
        outcome: 'fails with AsyncTimeoutError', fallback: {},
        expected: { marbles: '20ms #', values: undefined, error: timeoutErrorLike({ input: 1, timeout: 20, attempts: 2 }) },
      },
      {
        outcome: 'gets the onTimeout results', fallback: { onTimeout: (x: number) => [-x] },
        expected: { marbles: '20ms (F|)', values: { F: record(-1) }, error: undefined },
      },
    ])('counts retries against the budget: a retry call still running at the deadline is cancelled, and the element $outcome', ({ fallback, expected }) => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const signals: AbortSignal[] = [];
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // Arrange: attempt 1 fails at 8, the retry starts at 13 and would answer at 33; budget 20 ms.
        const source = cold<El>('(a|)', { a: record(1) });
        const first = cold<number>('8ms #', undefined, new Error('first'));
        const second = cold('20ms (v|)', { v: 10 });
        const fn = logCalls(scheduler, calls, (_x, ctx) => {
          signals.push(ctx.signal);
          return ctx.attempt === 1 ? first : second;
        });
        // Act
        const out = source.pipe(operator(fn, { timeout: 20, retry: { maxRetries: 5, delay: 5 }, ...fallback }));
        // Assert
        expectObservable(out).toBe(expected.marbles, expected.values, expected.error);
        expectSubscriptions(second.subscriptions).toBe('13ms ^------!');
      });
      expect(calls.map((c) => [c.attempt, c.at])).toEqual([[1, 0], [2, 13]]);
      expect(signals[1].aborted).toBe(true);
      expect(signals[1].reason).toBeInstanceOf(AsyncTimeoutError);
    });

    it.each([
      // Retries every 10 ms, budget 25 ms: calls at 0, 10, 20; the retry at 30 would be too late.
      { failing: 'synchronously', failAfter: 0, timeout: 25, callTimes: [[1, 0], [2, 10], [3, 20]] },
      // Retries 10 ms after each failure, budget 30 ms: calls at 0, 13, 26; the retry at 39 would be too late.
      { failing: 'after 3 ms', failAfter: 3, timeout: 30, callTimes: [[1, 0], [2, 13], [3, 26]] },
    ])('does not schedule a retry that would start after the deadline; the timeout settles the element at its deadline (calls failing $failing)', ({ failAfter, timeout, callTimes }) => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const errors: unknown[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: every call fails with e<attempt>.
        const source = cold<El>('(a|)', { a: record(1) });
        const fn = logCalls<number>(scheduler, calls, (_x, ctx) => {
          const failure = new Error(`e${ctx.attempt}`);
          return failAfter === 0 ? throwError(() => failure) : cold<number>(`${failAfter}ms #`, undefined, failure);
        });
        // Act
        const out = source.pipe(operator(fn, { timeout, retry: { maxRetries: 10, delay: 10 } }), captureError(errors));
        // Assert: no error when the retries stop (the element idles), the timeout at the deadline.
        expectObservable(out).toBe(`${timeout}ms #`, undefined, timeoutErrorLike({ input: 1, timeout, attempts: 3 }));
      });
      expect(calls.map((c) => [c.attempt, c.at])).toEqual(callTimes);
      const error = errors[0] as AsyncTimeoutError;
      expect(error).toBeInstanceOf(AsyncTimeoutError);
      expect((error.cause as Error).message).toBe('e3');
    });

    it('does not schedule a retry that would start exactly at the deadline', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: budget 20 ms, retries 10 ms apart. a (never answers) is admitted at 0, b at 5; b throws at 5
        // and 15, and its next retry would start at 25, exactly its deadline.
        const source = cold<El>('a 4ms b|', { a: record(1), b: record(2) });
        const fn = logCalls(scheduler, calls, (x) => (x === 1 ? NEVER : throwError(() => new Error('down'))));
        // Act
        const out = source.pipe(
          operator(fn, { timeout: 20, retry: { maxRetries: 10, delay: 10 }, onTimeout: (x, ctx) => [-100 * x - ctx.attempt] }),
        );
        // Assert: a's fallback at 20, b's at 25 after 2 attempts; no third call of b at 25.
        expectObservable(out).toBe('20ms A 4ms (B|)', { A: record(-101), B: record(-202) });
      });
      expect(calls.map((c) => [c.value, c.attempt, c.at])).toEqual([[1, 1, 0], [2, 1, 5], [2, 2, 15]]);
    });

    it('fails with AsyncTimeoutError when the last retry that fits has failed', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: synchronous failures, retries every 10 ms, budget 20 ms: the retry at 20 is not made.
        const source = cold<El>('(a|)', { a: record(1) });
        const fn = logCalls(scheduler, calls, () => throwError(() => new Error('down')));
        // Act
        const out = source.pipe(operator(fn, { timeout: 20, retry: { maxRetries: 10, delay: 10 } }));
        // Assert
        expectObservable(out).toBe('20ms #', undefined, timeoutErrorLike({ input: 1, timeout: 20, attempts: 2 }));
      });
      expect(calls.map((c) => [c.attempt, c.at])).toEqual([[1, 0], [2, 10]]);
    });

    it('hands an element whose retry would not fit to onTimeout at the deadline, with the attempts made so far', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const fallbackCtx: Array<{ attempt: number; aborted: boolean }> = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a retry-on-result that keeps rejecting, 10 ms apart, budget 25 ms.
        const source = cold<El>('(a|)', { a: record(4, 1) });
        const fn = logCalls(scheduler, calls, () => [] as number[]);
        // Act
        const out = source.pipe(
          operator<number, number>(fn, {
            timeout: 25,
            retry: { maxRetries: 10, delay: 10, retryOnResult: (r) => r.length === 0 },
            onTimeout: (x, ctx) => {
              fallbackCtx.push({ attempt: ctx.attempt, aborted: ctx.signal.aborted });
              return [-x];
            },
          }),
        );
        // Assert
        expectObservable(out).toBe('25ms (F|)', { F: record(-4, 1) });
      });
      expect(calls.map((c) => [c.attempt, c.at])).toEqual([[1, 0], [2, 10], [3, 20]]);
      expect(fallbackCtx).toEqual([{ attempt: 3, aborted: false }]);
    });
  });

  describe('onError', () => {
    it('uses onError results once the call has failed for good, after the retries', () => {
      const scheduler = newScheduler();
      const failures = [new Error('e1'), new Error('e2')];
      const onError = jest.fn((_error: unknown, x: number) => [-x]);
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: each attempt fails after 3 ms; one retry after 5 ms.
        const source = cold<El>('(a|)', { a: record(1, 4) });
        // Act
        const out = source.pipe(
          operator((_x, ctx) => cold<number>('---#', undefined, failures[ctx.attempt - 1]), {
            retry: { maxRetries: 1, delay: 5 },
            onError,
          }),
        );
        // Assert: attempt 1 fails at 3, attempt 2 runs 8..11, fallback at 11.
        expectObservable(out).toBe('11ms (F|)', { F: record(-1, 4) });
      });
      expect(onError).toHaveBeenCalledTimes(1);
      expect(onError.mock.calls[0][0]).toBe(failures[1]);
      expect(onError.mock.calls[0][1]).toBe(1);
    });

    it('uses onError results in place of the failed record only, next to the other records\' results', () => {
      const scheduler = newScheduler();
      const failure = new Error('down');
      const onError = jest.fn((_e: unknown, x: number) => [-x]);
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a fails at 6; b answers at 2.
        const source = cold<El>('(ab|)', { a: record(1, 1), b: record(2, 2) });
        // Act
        const out = source.pipe(
          operator((x) => (x === 1 ? cold<number>('6ms #', undefined, failure) : cold('--(y|)', { y: 20 })), { onError }),
        );
        // Assert: b's result waits for a's fallback when ordered.
        const expected = forMode(mode, { ordered: '6ms (FB|)', unordered: '--B 3ms (F|)' });
        expectObservable(out).toBe(expected, { B: record(20, 2), F: record(-1, 1) });
      });
      expect(onError).toHaveBeenCalledTimes(1);
      expect(onError).toHaveBeenCalledWith(failure, 1);
    });

    it('emits the results of an observable returned by onError when it completes', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: the call fails at 2; the fallback answers 3 ms later.
        const source = cold<El>('(a|)', { a: record(1) });
        // Act
        const out = source.pipe(operator(() => cold<number>('--#'), { onError: () => cold('---(y|)', { y: -1 }) }));
        // Assert
        expectObservable(out).toBe('5ms (F|)', { F: record(-1) });
      });
    });
  });

  describe('synchronous throw from fn', () => {
    it('counts as a failed call and is retried', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: attempt 1 throws synchronously; one retry after 5 ms.
        const source = cold<El>('(a|)', { a: record(1) });
        // Act
        const out = source.pipe(
          operator((x, ctx) => {
            if (ctx.attempt === 1) throw new Error('sync');
            return [10 * x];
          }, { retry: { maxRetries: 1, delay: 5 } }),
        );
        // Assert
        expectObservable(out).toBe('5ms (A|)', { A: record(10) });
      });
    });

    it('fails with AsyncCallError whose cause is the thrown error when it is not retried', () => {
      const scheduler = newScheduler();
      const thrown = new Error('sync');
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<El>('(a|)', { a: record(3) });
        // Act
        const out = source.pipe(operator(() => {
          throw thrown;
        }));
        // Assert
        expectObservable(out).toBe('#', undefined, callErrorLike({ input: 3, attempts: 1, cause: thrown }));
      });
    });

    it('is handed to onError', () => {
      const scheduler = newScheduler();
      const thrown = new Error('sync');
      const onError = jest.fn(() => [0]);
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<El>('(a|)', { a: record(3) });
        // Act
        const out = source.pipe(operator<number, number>(() => {
          throw thrown;
        }, { onError }));
        // Assert
        expectObservable(out).toBe('(F|)', { F: record(0) });
      });
      expect(onError).toHaveBeenCalledWith(thrown, 3);
    });

    it('is retried like any failed call, then handed to onError', () => {
      const scheduler = newScheduler();
      const thrown = new Error('sync');
      const onError = jest.fn((_e: unknown, x: number) => [-x]);
      const fn = jest.fn((): number[] => {
        throw thrown;
      });
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: every call throws; one retry after 5 ms.
        const source = cold<El>('(a|)', { a: record(1) });
        // Act
        const out = source.pipe(operator(fn, { retry: { maxRetries: 1, delay: 5 }, onError }));
        // Assert
        expectObservable(out).toBe('5ms (F|)', { F: record(-1) });
      });
      expect(fn).toHaveBeenCalledTimes(2);
      expect(onError).toHaveBeenCalledWith(thrown, 1);
    });
  });

  describe('fn returning a non-ObservableInput', () => {
    it('fails with AsyncCallError whose cause is a TypeError, without retrying and without onError', () => {
      const scheduler = newScheduler();
      const errors: unknown[] = [];
      const fn = jest.fn(() => 42 as unknown as number[]);
      const onError = jest.fn(() => [0]);
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<El>('(a|)', { a: record(1) });
        // Act
        const out = source.pipe(operator(fn, { retry: { maxRetries: 3, delay: 1 }, onError }), captureError(errors));
        // Assert
        expectObservable(out).toBe('#', undefined, callErrorLike({ input: 1, attempts: 1 }));
      });
      const error = errors[0] as AsyncCallError;
      expect(error).toBeInstanceOf(AsyncCallError);
      expect(error.cause).toBeInstanceOf(TypeError);
      expect((error.cause as TypeError).message).toContain('fn returned 42, which is not an ObservableInput');
      expect(fn).toHaveBeenCalledTimes(1);
      expect(onError).not.toHaveBeenCalled();
    });
  });

  describe('upstream error', () => {
    it('is passed on at once, discarding held results and aborting in-flight signals', () => {
      const scheduler = newScheduler();
      const upstream = new Error('upstream');
      const signals: Record<number, AbortSignal> = {};
      const metrics = asyncWaitMetrics();
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // Arrange: a (slow) at 0; b answers at once but is held (ordered: behind a; unordered: behind W, which waits
        // for a); the source errors at 5.
        const marbles = forMode(mode, { ordered: 'ab 3ms #', unordered: 'aWb 2ms #' });
        const source = cold<El>(marbles, { a: record(1), W: watermark(1), b: record(2) }, upstream);
        const slow = cold('20ms (x|)', { x: 10 });
        // Act
        const out = source.pipe(
          operator((x, ctx) => {
            signals[x] = ctx.signal;
            return x === 1 ? slow : [20];
          }, { metrics }),
        );
        // Assert
        expectObservable(out).toBe('5ms #', undefined, upstream);
        expectSubscriptions(slow.subscriptions).toBe('^----!');
      });
      expect(signals[1].aborted).toBe(true);
      expect(signals[2].aborted).toBe(false);
      expect(metrics.snapshot()).toEqual(expect.objectContaining({ ...ZERO_GAUGES, emitted: 0, started: 2 }));
    });
  });

  describe('completion', () => {
    it('completes only after every held record has been emitted', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: the source completes at 0, the calls answer at 5.
        const source = cold<El>('(ab|)', { a: record(1), b: record(2) });
        // Act
        const out = source.pipe(operator(delayedTimesTen(scheduler, { 1: 5, 2: 5 })));
        // Assert
        expectObservable(out).toBe('5ms (AB|)', { A: record(10), B: record(20) });
      });
    });

    it('waits for a call with zero results before completing', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<El>('(a|)', { a: record(1) });
        // Act
        const out = source.pipe(operator(() => cold<number>('-----|')));
        // Assert
        expectObservable(out).toBe('-----|');
      });
    });

    it('waits for records still queued beyond capacity before completing', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 1, three records of 4 ms each, source done at 1.
        const source = cold<El>('(abc|)', { a: record(1), b: record(2), c: record(3) });
        // Act
        const out = source.pipe(operator(delayedTimesTen(scheduler, { 1: 4, 2: 4, 3: 4 }), { capacity: 1 }));
        // Assert
        expectObservable(out).toBe('4ms A 3ms B 3ms (C|)', { A: record(10), B: record(20), C: record(30) });
      });
    });
  });

  describe('unsubscribe', () => {
    it('aborts in-flight signals, cancels retry and timeout timers, and makes no further calls', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const signals: AbortSignal[] = [];
      const onTimeout = jest.fn((x: number) => [-x]);
      const metrics = asyncWaitMetrics();
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // Arrange: capacity 3; 1 and 3 answer at 30, 2 fails at 2 and would retry at 12, 4 waits for a slot;
        // budget 20 ms; the subscriber leaves at 6.
        const source = cold<El>('(abcd)', { a: record(1), b: record(2), c: record(3), d: record(4) });
        const slow = cold('30ms (x|)', { x: 0 });
        const fn = logCalls(scheduler, calls, (x, ctx) => {
          signals.push(ctx.signal);
          return x === 2 ? cold<number>('--#') : slow;
        });
        // Act
        const out = source.pipe(operator(fn, { capacity: 3, timeout: 20, onTimeout, retry: { maxRetries: 3, delay: 10 }, metrics }));
        // Assert
        expectObservable(out, '^-----!').toBe('-------');
        expectSubscriptions(slow.subscriptions).toBe(['^-----!', '^-----!']);
      });
      expect(calls.map((c) => [c.value, c.attempt, c.at])).toEqual([[1, 1, 0], [2, 1, 0], [3, 1, 0]]);
      expect(signals.map((s) => s.aborted)).toEqual([true, true, true]);
      expect(onTimeout).not.toHaveBeenCalled();
      expect(metrics.snapshot()).toEqual(expect.objectContaining({ ...ZERO_GAUGES, started: 3, retried: 0, timedOut: 0 }));
    });

    it('stops fn calls when take(2) unsubscribes over a synchronous source and synchronous inner observables', () => {
      // Arrange
      let calls = 0;
      const out: number[] = [];
      // Act
      range(0, 1000)
        .pipe(
          toRecords(),
          operator((x) => {
            calls++;
            return of(x);
          }),
          values(),
          take(2),
        )
        .subscribe((v) => out.push(v));
      // Assert
      expect(out).toEqual([0, 1]);
      expect(calls).toBe(2);
    });
  });

  describe('re-entrancy', () => {
    it('accepts new input pushed from inside next', () => {
      const scheduler = newScheduler();
      const seen: Array<[number, number]> = [];
      scheduler.run(() => {
        // Arrange: every output feeds back as a new input until the value reaches 4.
        const input = new Subject<El>();
        input.pipe(operator((x) => timer(5).pipe(map(() => x + 1)))).subscribe((e) => {
          if (e.kind !== 'record') return;
          seen.push([scheduler.now(), e.value]);
          if (e.value < 4) input.next(record(e.value));
        });
        // Act
        input.next(record(1));
      });
      // Assert
      expect(seen).toEqual([[5, 2], [10, 3], [15, 4]]);
    });

    it('emits input pushed from inside next after the results already being emitted, with synchronous calls', () => {
      // Arrange: each call answers [x + 1, x + 1001] synchronously; small outputs feed back.
      const input = new Subject<El>();
      const seen: number[] = [];
      input.pipe(operator((x) => [x + 1, x + 1001]), values()).subscribe((v) => {
        seen.push(v);
        if (v < 4) input.next(record(v));
      });
      // Act
      input.next(record(1));
      // Assert
      expect(seen).toEqual([2, 1002, 3, 1003, 4, 1004]);
    });

    it('does not let input pushed from inside next overtake inputs already waiting beyond capacity', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const seen: Array<[number, number]> = [];
      scheduler.run(() => {
        // Arrange: capacity 1, 5 ms calls; 2 waits for 1's slot; 1's output pushes 3 from inside next.
        const input = new Subject<El>();
        input.pipe(operator(delayedTimesTen(scheduler, { 1: 5, 2: 5, 3: 5 }, calls), { capacity: 1 })).subscribe((e) => {
          if (e.kind !== 'record') return;
          seen.push([scheduler.now(), e.value]);
          if (e.value === 10) input.next(record(3));
        });
        // Act
        input.next(record(1));
        input.next(record(2));
      });
      // Assert
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 5], [3, 10]]);
      expect(seen).toEqual([[5, 10], [10, 20], [15, 30]]);
    });

    it('stops at once when the subscriber unsubscribes from inside next', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const signals: AbortSignal[] = [];
      const got: El[] = [];
      const metrics = asyncWaitMetrics();
      scheduler.run(({ cold }) => {
        // Arrange: capacity 2; 1 answers two values at 5, 2 answers at 10, 3 waits for a slot.
        const source = cold<El>('(abc|)', { a: record(1), b: record(2), c: record(3) });
        const inners: Record<number, Observable<number>> = {
          1: cold('5ms (pq|)', { p: 10, q: 11 }),
          2: cold('10ms (r|)', { r: 20 }),
          3: cold('1ms (s|)', { s: 30 }),
        };
        const fn = logCalls(scheduler, calls, (x, ctx) => {
          signals.push(ctx.signal);
          return inners[x]!;
        });
        const out = source.pipe(operator(fn, { capacity: 2, metrics }));
        // Act
        const subscription = out.subscribe((e) => {
          got.push(e);
          subscription.unsubscribe();
        });
      });
      // Assert: only the first value, no call for 3, and 2's signal aborted.
      expect(got).toEqual([record(10)]);
      expect(calls.map((c) => c.value)).toEqual([1, 2]);
      expect(signals[1].aborted).toBe(true);
      expect(metrics.snapshot()).toEqual(expect.objectContaining({ emitted: 1, started: 2, ...ZERO_GAUGES }));
    });
  });

  describe('metrics', () => {
    it('counts retried, failed and timedOut records, and returns the gauges to 0 at the end', () => {
      const scheduler = newScheduler();
      const metrics = asyncWaitMetrics();
      const snaps: AsyncWaitCounters[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: 1 always fails (one retry after 10 ms, then onError); 2 never answers (timeout 50, onTimeout);
        // 3 answers two values at 5.
        const source = cold<El>('(abc|)', { a: record(1), b: record(2), c: record(3) });
        const inners: Record<number, Observable<number>> = {
          1: throwError(() => new Error('down')),
          2: NEVER,
          3: cold('5ms (pq|)', { p: 30, q: 31 }),
        };
        for (const at of [6, 20, 60]) scheduler.schedule(() => snaps.push(metrics.snapshot()), at);
        // Act
        const out = source.pipe(
          operator((x) => inners[x]!, {
            metrics,
            timeout: 50,
            onTimeout: (x) => [-x],
            retry: { maxRetries: 1, delay: 10 },
            onError: (_e, x) => [-10 * x],
          }),
        );
        // Assert: when ordered, 3's results wait for 2's fallback at 50.
        const expected = forMode(mode, { ordered: '10ms A 39ms (BCD|)', unordered: '5ms (CD) 1ms A 39ms (B|)' });
        expectObservable(out).toBe(expected, { A: record(-10), B: record(-2), C: record(30), D: record(31) });
      });
      // Three records never exceed the default capacity (100): nothing waits beyond it, so backPressureTime stays 0.
      expect(snaps).toEqual(forMode(mode, {
        ordered: [
          { ...ZERO_OPTIONAL_COUNTERS, started: 3, succeeded: 1, failed: 0, timedOut: 0, retried: 0, emitted: 0, watermarksCoalesced: 0, backPressureTime: 0, inFlight: 2, waiting: 1, buffered: 0, oldestInFlightSince: 0, oldestInFlightAge: 6 },
          { ...ZERO_OPTIONAL_COUNTERS, started: 3, succeeded: 1, failed: 1, timedOut: 0, retried: 1, emitted: 1, watermarksCoalesced: 0, backPressureTime: 0, inFlight: 1, waiting: 1, buffered: 0, oldestInFlightSince: 0, oldestInFlightAge: 20 },
          { ...ZERO_OPTIONAL_COUNTERS, started: 3, succeeded: 1, failed: 1, timedOut: 1, retried: 1, emitted: 4, watermarksCoalesced: 0, backPressureTime: 0, inFlight: 0, waiting: 0, buffered: 0, oldestInFlightSince: null, oldestInFlightAge: 0 },
        ],
        unordered: [
          { ...ZERO_OPTIONAL_COUNTERS, started: 3, succeeded: 1, failed: 0, timedOut: 0, retried: 0, emitted: 2, watermarksCoalesced: 0, backPressureTime: 0, inFlight: 2, waiting: 0, buffered: 0, oldestInFlightSince: 0, oldestInFlightAge: 6 },
          { ...ZERO_OPTIONAL_COUNTERS, started: 3, succeeded: 1, failed: 1, timedOut: 0, retried: 1, emitted: 3, watermarksCoalesced: 0, backPressureTime: 0, inFlight: 1, waiting: 0, buffered: 0, oldestInFlightSince: 0, oldestInFlightAge: 20 },
          { ...ZERO_OPTIONAL_COUNTERS, started: 3, succeeded: 1, failed: 1, timedOut: 1, retried: 1, emitted: 4, watermarksCoalesced: 0, backPressureTime: 0, inFlight: 0, waiting: 0, buffered: 0, oldestInFlightSince: null, oldestInFlightAge: 0 },
        ],
      }));
    });

    it('shows the sum of several subscriptions sharing one metrics object', () => {
      const scheduler = newScheduler();
      const metrics = asyncWaitMetrics();
      const snaps: AsyncWaitCounters[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: two subscriptions of the same pipeline, capacity 1 each, three 10 ms records each.
        const source = cold<El>('(abc|)', { a: record(1), b: record(2), c: record(3) });
        const out = source.pipe(operator(delayedTimesTen(scheduler, { 1: 10, 2: 10, 3: 10 }), { capacity: 1, metrics }));
        for (const at of [5, 40]) scheduler.schedule(() => snaps.push(metrics.snapshot()), at);
        // Act + Assert
        const expected = '10ms A 9ms B 9ms (C|)';
        const vals = { A: record(10), B: record(20), C: record(30) };
        expectObservable(out).toBe(expected, vals);
        expectObservable(out).toBe(expected, vals);
      });
      expect(snaps[0]).toEqual(expect.objectContaining({ started: 2, inFlight: 2, buffered: 4, emitted: 0 }));
      expect(snaps[1]).toEqual(expect.objectContaining({ started: 6, succeeded: 6, emitted: 6, ...ZERO_GAUGES }));
    });
  });

  describe('scheduler option', () => {
    it('uses the scheduler passed in the options for timeouts, retry delays and clock reads (outside run mode)', () => {
      // Arrange: outside run mode one marble frame is 10 virtual ms and nothing patches asyncScheduler.
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const source = scheduler.createColdObservable<El>('(a|)', { a: record(1, 3) });
      const fn = logCalls(scheduler, calls, (_x, ctx) => (ctx.attempt === 1 ? throwError(() => new Error('down')) : NEVER));
      // Act
      const out = source.pipe(operator(fn, { scheduler, timeout: 50, retry: { maxRetries: 3, delay: 20 }, onTimeout: (x) => [-x] }));
      // Assert: the retry at 20 and the timeout at 50 both ran on the TestScheduler's clock.
      scheduler.expectObservable(out).toBe('-----(F|)', { F: record(-1, 3) });
      scheduler.flush();
      expect(calls.map((c) => [c.attempt, c.at])).toEqual([[1, 0], [2, 20]]);
    });

    it('uses the scheduler passed in the options for the retries and timeout of each record (outside run mode)', () => {
      // Arrange: outside run mode one marble frame is 10 virtual ms; b answers at once, a fails once and hangs.
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const source = scheduler.createColdObservable<El>('(ab|)', { a: record(1), b: record(2) });
      const fn = logCalls(scheduler, calls, (x, ctx) => {
        if (x === 2) return [20];
        return ctx.attempt === 1 ? throwError(() => new Error('down')) : NEVER;
      });
      // Act
      const out = source.pipe(operator(fn, { scheduler, timeout: 40, retry: { maxRetries: 3, delay: 30 }, onTimeout: (x) => [-x] }));
      // Assert: a's retry at 30, a's timeout at 40; b at once (unordered) or behind a's fallback (ordered).
      const expected = forMode(mode, { ordered: '----(FB|)', unordered: 'B---(F|)' });
      scheduler.expectObservable(out).toBe(expected, { B: record(20), F: record(-1) });
      scheduler.flush();
      expect(calls.map((c) => [c.value, c.attempt, c.at])).toEqual([[1, 1, 0], [2, 1, 0], [1, 2, 30]]);
    });

    it('runs on the virtualised asyncScheduler by default in run mode, even when created before run', () => {
      // Arrange: the operator (and its default scheduler) is created outside the run callback.
      const created = operator<number, number>(() => NEVER, { timeout: 30, onTimeout: (x) => [-x] });
      newScheduler().run(({ cold, expectObservable }) => {
        // Act
        const out = cold<El>('(a|)', { a: record(1) }).pipe(created);
        // Assert
        expectObservable(out).toBe('30ms (F|)', { F: record(-1) });
      });
    });

    it('accepts asyncScheduler explicitly for retry delays, which run mode virtualises too', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<El>('(a|)', { a: record(1) });
        const fn = logCalls(scheduler, calls, (x, ctx) => (ctx.attempt === 1 ? throwError(() => new Error('down')) : [10 * x]));
        // Act
        const out = source.pipe(operator(fn, { scheduler: asyncScheduler, retry: { maxRetries: 1, delay: 7 } }));
        // Assert
        expectObservable(out).toBe('7ms (A|)', { A: record(10) });
      });
      expect(calls.map((c) => [c.attempt, c.at])).toEqual([[1, 0], [2, 7]]);
    });

    it('accepts asyncScheduler explicitly for timeouts, which run mode virtualises too', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<El>('(a|)', { a: record(1) });
        // Act
        const out = source.pipe(operator(() => NEVER, { scheduler: asyncScheduler, timeout: 9, onTimeout: (x) => [-x] }));
        // Assert
        expectObservable(out).toBe('9ms (F|)', { F: record(-1) });
      });
    });

    it('accepts the TestScheduler instance itself inside run mode', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<El>('(a|)', { a: record(1) });
        // Act
        const out = source.pipe(operator(() => NEVER, { scheduler, timeout: 12, onTimeout: (x) => [-x] }));
        // Assert
        expectObservable(out).toBe('12ms (F|)', { F: record(-1) });
      });
    });
  });
});
