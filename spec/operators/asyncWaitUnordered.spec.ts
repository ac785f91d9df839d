import { TestScheduler } from 'rxjs/testing';
import {
  NEVER, Subject, asyncScheduler, lastValueFrom, map, of, range, take, tap, throwError, timer, toArray, type Observable,
} from 'rxjs';
import {
  AsyncCallError, AsyncTimeoutError, asyncWaitMetrics, asyncWaitUnordered, barrier, record, toRecords, values, watermark,
  type AsyncWaitCounters, type RetryReason, type StreamElement,
} from 'rxjs-sluice';

/**
 * Marble tests of asyncWaitUnordered against /tmp/semantics.md. In `run` mode one frame is 1 ms of virtual time;
 * `Nms` advances N frames, and every character of a `(...)` group advances one frame too.
 */

type El = StreamElement<number>;

/** One call of fn: which value, which attempt, and at what virtual time. */
interface Call {
  value: number;
  attempt: number;
  at: number;
}

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** A fn whose call for `x` emits `10 * x` after `delays[x]` ms, logging every call. */
function delayedTimesTen(scheduler: TestScheduler, delays: Record<number, number>, calls: Call[] = []) {
  return (x: number, ctx: { attempt: number }): Observable<number> => {
    calls.push({ value: x, attempt: ctx.attempt, at: scheduler.now() });
    return timer(delays[x]!).pipe(map(() => 10 * x));
  };
}

/** Records every error that reaches the output, so its class and fields can be checked after the run. */
const captureError = <T>(errors: unknown[]) => tap<T>({ error: (e: unknown) => errors.push(e) });

const timeoutErrorLike = (fields: { input: unknown; timeout: number; attempts: number }) =>
  expect.objectContaining({ name: 'AsyncTimeoutError', ...fields });
const callErrorLike = (fields: { input: unknown; attempts: number; cause?: unknown }) =>
  expect.objectContaining({ name: 'AsyncCallError', ...fields });

const ZERO_GAUGES = { inFlight: 0, waiting: 0, buffered: 0 };

describe('asyncWaitUnordered', () => {
  describe('completion order and boundaries', () => {
    it('emits results in completion order when there are no watermarks', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: 1 takes 30 ms, 2 takes 10 ms, 3 takes 20 ms.
        const source = cold<El>('(abc|)', { a: record(1), b: record(2), c: record(3) });
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 30, 2: 10, 3: 20 })));
        // Assert
        expectObservable(out).toBe('10ms B 9ms C 9ms (A|)', { A: record(10), B: record(20), C: record(30) });
      });
    });

    it('emits a watermark only after every record before it, and nothing after it before it', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a 30 ms, b 10 ms | W | c 5 ms (done early, but behind W), d 40 ms.
        const source = cold<El>('(abWcd|)', { a: record(1), b: record(2), W: watermark(2), c: record(3), d: record(4) });
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 30, 2: 10, 3: 5, 4: 40 })));
        // Assert
        expectObservable(out).toBe('10ms B 19ms (AWC) 5ms (D|)', {
          A: record(10), B: record(20), W: watermark(2), C: record(30), D: record(40),
        });
      });
    });

    it('emits the records held behind a watermark in their completion order once the watermark has passed', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a 30 ms | W | b 20 ms, c 10 ms: c completes before b, both before a.
        const source = cold<El>('(aWbc|)', { a: record(1), W: watermark(1), b: record(2), c: record(3) });
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 30, 2: 20, 3: 10 })));
        // Assert: within the segment after W, completion order (c before b) still holds.
        expectObservable(out).toBe('30ms (AWCB|)', { A: record(10), W: watermark(1), B: record(20), C: record(30) });
      });
    });

    it('treats barriers and unknown element kinds as boundaries too', () => {
      const scheduler = newScheduler();
      const custom = { kind: 'custom', payload: 'x' } as unknown as El;
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a 20 ms | B | b 5 ms | X | c 1 ms.
        const source = cold<El>('(aBbXc|)', { a: record(1), B: barrier(3), b: record(2), X: custom, c: record(3) });
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 20, 2: 5, 3: 1 })));
        // Assert
        expectObservable(out).toBe('20ms (ABbXc|)', { A: record(10), B: barrier(3), b: record(20), X: custom, c: record(30) });
      });
    });

    it('emits a watermark at once when nothing is held ahead of it, and holds it behind an unfinished record', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: W@0 (nothing held), a@5 (10 ms), V@10 (a still running), U@20 (nothing held).
        const source = cold<El>('W 4ms a 4ms V 9ms U|', { W: watermark(1), a: record(1), V: watermark(2), U: watermark(3) });
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 10 })));
        // Assert
        expectObservable(out).toBe('W 14ms (AV) 1ms U|', { W: watermark(1), A: record(10), V: watermark(2), U: watermark(3) });
      });
    });
  });

  describe('promises', () => {
    it('resolves a flood of 10 000 promise results each exactly once', async () => {
      // Arrange
      const source = range(0, 10000).pipe(toRecords());
      // Act
      const out = await lastValueFrom(source.pipe(asyncWaitUnordered((x) => Promise.resolve(2 * x)), values(), toArray()));
      // Assert
      expect([...out].sort((x, y) => x - y)).toEqual(Array.from({ length: 10000 }, (_, i) => 2 * i));
    });
  });

  describe('capacity', () => {
    it('frees a slot as soon as a record is emitted, even while an earlier record is still in flight', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 2; a 20 ms, b 1 ms, c 1 ms (waits for a slot).
        const source = cold<El>('(abc|)', { a: record(1), b: record(2), c: record(3) });
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 20, 2: 1, 3: 1 }, calls), { capacity: 2 }));
        // Assert: c takes b's slot at 1.
        expectObservable(out).toBe('-BC 17ms (A|)', { A: record(10), B: record(20), C: record(30) });
      });
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 0], [3, 1]]);
    });

    it('keeps the slots of finished records that are held behind a watermark', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 2; a 20 ms | W | b 1 ms (done at 1, held), c 10 ms (waits for a slot).
        const source = cold<El>('(aWbc|)', { a: record(1), W: watermark(1), b: record(2), c: record(3) });
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 20, 2: 1, 3: 10 }, calls), { capacity: 2 }));
        // Assert
        expectObservable(out).toBe('20ms (AWB) 5ms (C|)', { A: record(10), W: watermark(1), B: record(20), C: record(30) });
      });
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 0], [3, 20]]);
    });

    it('does not count watermarks or barriers against capacity', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 2 with a, W, B, b: if markers took slots, b would have to wait for a.
        const source = cold<El>('(aWBb|)', { a: record(1), W: watermark(1), B: barrier(1), b: record(2) });
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 10, 2: 5 }, calls), { capacity: 2 }));
        // Assert
        expectObservable(out).toBe('10ms (AWBb|)', { A: record(10), W: watermark(1), B: barrier(1), b: record(20) });
      });
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 0]]);
    });

    it('starts waiting records in FIFO order as slots free', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 1; a 4 ms, b 1 ms, c 2 ms.
        const source = cold<El>('(abc|)', { a: record(1), b: record(2), c: record(3) });
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 4, 2: 1, 3: 2 }, calls), { capacity: 1 }));
        // Assert
        expectObservable(out).toBe('4ms AB-(C|)', { A: record(10), B: record(20), C: record(30) });
      });
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 4], [3, 5]]);
    });

    it('queues a watermark that arrives while records wait beyond capacity behind those records', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 1; b waits for a's slot, and W arrives after b.
        const source = cold<El>('(abW|)', { a: record(1), b: record(2), W: watermark(2) });
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 10, 2: 10 }), { capacity: 1 }));
        // Assert: W does not overtake the waiting b.
        expectObservable(out).toBe('10ms A 9ms (BW|)', { A: record(10), B: record(20), W: watermark(2) });
      });
    });
  });

  describe('results', () => {
    it('releases all results of one input together, and emits nothing for an empty call', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a emits 10 at 1 and 11 at 3 and completes at 6; b completes empty at 2; c answers [30] at once.
        const source = cold<El>('(abc|)', { a: record(1, 5), b: record(2, 6), c: record(3, 7) });
        const inners: Record<number, Observable<number> | number[]> = {
          1: cold('-x-y--|', { x: 10, y: 11 }),
          2: cold<number>('--|'),
          3: [30],
        };
        // Act
        const out = source.pipe(asyncWaitUnordered((x) => inners[x]!));
        // Assert
        expectObservable(out).toBe('C 5ms (XY|)', { C: record(30, 7), X: record(10, 5), Y: record(11, 5) });
      });
    });

    it('stamps every output with its input timestamp and passes that timestamp to fn', () => {
      const scheduler = newScheduler();
      const seen: Array<number | undefined> = [];
      const outputs: El[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a has timestamp 100 and answers at 6; b has none and answers at 2.
        const source = cold<El>('(ab|)', { a: record(1, 100), b: record(2) });
        // Act
        const out = source.pipe(
          asyncWaitUnordered((x, ctx) => {
            seen.push(ctx.timestamp);
            return cold(x === 1 ? '6ms (pq|)' : '2ms (pq|)', { p: 10 * x, q: 10 * x + 1 });
          }),
          tap((e) => outputs.push(e)),
        );
        // Assert
        expectObservable(out).toBe('2ms (CD) (AB|)', { A: record(10, 100), B: record(11, 100), C: record(20), D: record(21) });
      });
      expect(seen).toEqual([100, undefined]);
      expect(outputs.map((e) => 'timestamp' in e)).toEqual([false, false, true, true]);
    });
  });

  describe('timeout', () => {
    it('errors with AsyncTimeoutError at the deadline after the faster records, aborting the call', () => {
      const scheduler = newScheduler();
      const signals: AbortSignal[] = [];
      const errors: unknown[] = [];
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // Arrange: a would answer at 20, b answers at 3; budget 10 ms.
        const source = cold<El>('(ab|)', { a: record(1), b: record(2) });
        const slow = cold('20ms (x|)', { x: 10 });
        // Act
        const out = source.pipe(
          asyncWaitUnordered((x, ctx) => {
            signals.push(ctx.signal);
            return x === 1 ? slow : cold('3ms (y|)', { y: 20 });
          }, { timeout: 10 }),
          captureError(errors),
        );
        // Assert
        expectObservable(out).toBe('3ms B 6ms #', { B: record(20) }, timeoutErrorLike({ input: 1, timeout: 10, attempts: 1 }));
        expectSubscriptions(slow.subscriptions).toBe('^---------!');
      });
      expect(errors[0]).toBeInstanceOf(AsyncTimeoutError);
      expect(signals[0].aborted).toBe(true);
      expect(signals[0].reason).toBe(errors[0]);
    });

    it('emits onTimeout results at the deadline without holding back faster records, and ignores the late result', () => {
      const scheduler = newScheduler();
      const fallbackCtx: Array<{ attempt: number; aborted: boolean }> = [];
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // Arrange: a would answer at 15, b answers at 3; budget 10 ms; the source stays open until 20.
        const source = cold<El>('ab 18ms |', { a: record(1, 1), b: record(2, 2) });
        const slow = cold('15ms (x|)', { x: 10 });
        // Act
        const out = source.pipe(
          asyncWaitUnordered((x) => (x === 1 ? slow : cold('2ms (y|)', { y: 20 })), {
            timeout: 10,
            onTimeout: (x, ctx) => {
              fallbackCtx.push({ attempt: ctx.attempt, aborted: ctx.signal.aborted });
              return [-x];
            },
          }),
        );
        // Assert: b at 1 + 2 = 3, the fallback at 10, nothing at 15, completion at 20.
        expectObservable(out).toBe('3ms B 6ms F 9ms |', { B: record(20, 2), F: record(-1, 1) });
        expectSubscriptions(slow.subscriptions).toBe('^---------!');
      });
      expect(fallbackCtx).toEqual([{ attempt: 1, aborted: false }]);
    });

    it('measures the timeout from admission, not from arrival in the queue beyond capacity', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 1, budget 15 ms, each call 10 ms.
        const source = cold<El>('(ab|)', { a: record(1), b: record(2) });
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 10, 2: 10 }), { capacity: 1, timeout: 15 }));
        // Assert
        expectObservable(out).toBe('10ms A 9ms (B|)', { A: record(10), B: record(20) });
      });
    });

    it('never calls onTimeout for a call that completes before its deadline', () => {
      const scheduler = newScheduler();
      const onTimeout = jest.fn((x: number) => [-x]);
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: the answer comes at 9, the deadline is 10, the output stays open until 30.
        const source = cold<El>('a 29ms |', { a: record(1) });
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 9 }), { timeout: 10, onTimeout }));
        // Assert
        expectObservable(out).toBe('9ms A 20ms |', { A: record(10) });
      });
      expect(onTimeout).not.toHaveBeenCalled();
    });
  });

  describe('retry', () => {
    it('lets records that complete meanwhile pass a record that is waiting to retry', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a fails synchronously once and is retried after 10 ms; b answers at 3.
        const source = cold<El>('(ab|)', { a: record(1), b: record(2) });
        // Act
        const out = source.pipe(
          asyncWaitUnordered((x, ctx) => {
            calls.push({ value: x, attempt: ctx.attempt, at: scheduler.now() });
            if (x === 1 && ctx.attempt === 1) return throwError(() => new Error('down'));
            return x === 1 ? [10] : cold('3ms (y|)', { y: 20 });
          }, { retry: { maxRetries: 1, delay: 10 } }),
        );
        // Assert
        expectObservable(out).toBe('3ms B 6ms (A|)', { A: record(10), B: record(20) });
      });
      expect(calls.map((c) => [c.value, c.attempt, c.at])).toEqual([[1, 1, 0], [2, 1, 0], [1, 2, 10]]);
    });

    it('retries after a fixed delay and passes the attempt number to fn', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: attempts 1 and 2 fail after 2 ms, attempt 3 answers after 2 ms; delay 10 ms.
        const source = cold<El>('(a|)', { a: record(1) });
        // Act
        const out = source.pipe(
          asyncWaitUnordered((x, ctx) => {
            calls.push({ value: x, attempt: ctx.attempt, at: scheduler.now() });
            return ctx.attempt < 3 ? cold<number>('--#') : cold('--(v|)', { v: 10 * x });
          }, { retry: { maxRetries: 3, delay: 10 } }),
        );
        // Assert
        expectObservable(out).toBe('26ms (A|)', { A: record(10) });
      });
      expect(calls.map((c) => [c.attempt, c.at])).toEqual([[1, 0], [2, 12], [3, 24]]);
    });

    it('waits min(initial * multiplier^(n-1), max) before retry n, per element', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: two elements, each failing synchronously three times; delays 10, 30, min(90, 50).
        const source = cold<El>('a 4ms b|', { a: record(1), b: record(2) });
        // Act
        const out = source.pipe(
          asyncWaitUnordered((x, ctx) => {
            calls.push({ value: x, attempt: ctx.attempt, at: scheduler.now() });
            return ctx.attempt < 4 ? throwError(() => new Error('down')) : [10 * x];
          }, { retry: { maxRetries: 3, delay: { initial: 10, multiplier: 3, max: 50 } } }),
        );
        // Assert: element 1 answers at 90, element 2 (5 ms later, with its own backoff) at 95.
        expectObservable(out).toBe('90ms A 4ms (B|)', { A: record(10), B: record(20) });
      });
      expect(calls.filter((c) => c.value === 1).map((c) => c.at)).toEqual([0, 10, 40, 90]);
      expect(calls.filter((c) => c.value === 2).map((c) => c.at)).toEqual([5, 15, 45, 95]);
    });

    it('asks a delay function for each retry, with the retry number and the reason', () => {
      const scheduler = newScheduler();
      const reasons: Array<[number, RetryReason<number>]> = [];
      const failure = new Error('first');
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: attempt 1 fails, attempt 2 answers [] (rejected), attempt 3 answers [10].
        const source = cold<El>('(a|)', { a: record(1) });
        // Act
        const out = source.pipe(
          asyncWaitUnordered((x, ctx) => {
            if (ctx.attempt === 1) return throwError(() => failure);
            return ctx.attempt === 2 ? [] : [10 * x];
          }, {
            retry: {
              maxRetries: 2,
              delay: (n, reason) => {
                reasons.push([n, reason]);
                return 4 * n;
              },
              retryOnResult: (results) => results.length === 0,
            },
          }),
        );
        // Assert: retries at 4 and 4 + 8 = 12.
        expectObservable(out).toBe('12ms (A|)', { A: record(10) });
      });
      expect(reasons).toEqual([[1, { kind: 'error', error: failure }], [2, { kind: 'result', results: [] }]]);
    });

    it('accepts the last results once retryOnResult retries are exhausted', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: every attempt answers [100 * attempt], every answer is rejected; 2 retries 5 ms apart.
        const source = cold<El>('(a|)', { a: record(1) });
        // Act
        const out = source.pipe(
          asyncWaitUnordered((_x, ctx) => [100 * ctx.attempt], { retry: { maxRetries: 2, delay: 5, retryOnResult: () => true } }),
        );
        // Assert
        expectObservable(out).toBe('10ms (A|)', { A: record(300) });
      });
    });

    it('does not retry an error that retryOnError rejects, and fails with AsyncCallError', () => {
      const scheduler = newScheduler();
      const fatal = new Error('fatal');
      const fn = jest.fn(() => throwError(() => fatal));
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<El>('(a|)', { a: record(1) });
        // Act
        const out = source.pipe(asyncWaitUnordered(fn, { retry: { maxRetries: 5, delay: 10, retryOnError: () => false } }));
        // Assert
        expectObservable(out).toBe('#', undefined, callErrorLike({ input: 1, attempts: 1, cause: fatal }));
      });
      expect(fn).toHaveBeenCalledTimes(1);
    });

    it('fails with AsyncCallError carrying input, last cause and attempts once retries are exhausted', () => {
      const scheduler = newScheduler();
      const errors: unknown[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: every attempt fails with e<attempt>; 2 retries, 4 ms apart.
        const source = cold<El>('(a|)', { a: record(7) });
        // Act
        const out = source.pipe(
          asyncWaitUnordered((_x, ctx) => throwError(() => new Error(`e${ctx.attempt}`)), { retry: { maxRetries: 2, delay: 4 } }),
          captureError(errors),
        );
        // Assert
        expectObservable(out).toBe('8ms #', undefined, callErrorLike({ input: 7, attempts: 3 }));
      });
      const error = errors[0] as AsyncCallError;
      expect(error).toBeInstanceOf(AsyncCallError);
      expect((error.cause as Error).message).toBe('e3');
    });
  });

  describe('timeout across retries', () => {
    it('counts retries against the budget: a retry call still running at the deadline is cancelled', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const signals: AbortSignal[] = [];
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // Arrange: attempt 1 fails at 8, the retry starts at 13 and would answer at 33; budget 20 ms.
        const source = cold<El>('(a|)', { a: record(1) });
        const first = cold<number>('8ms #');
        const second = cold('20ms (v|)', { v: 10 });
        // Act
        const out = source.pipe(
          asyncWaitUnordered((x, ctx) => {
            calls.push({ value: x, attempt: ctx.attempt, at: scheduler.now() });
            signals.push(ctx.signal);
            return ctx.attempt === 1 ? first : second;
          }, { timeout: 20, retry: { maxRetries: 5, delay: 5 }, onTimeout: (x) => [-x] }),
        );
        // Assert
        expectObservable(out).toBe('20ms (F|)', { F: record(-1) });
        expectSubscriptions(second.subscriptions).toBe('13ms ^------!');
      });
      expect(calls.map((c) => [c.attempt, c.at])).toEqual([[1, 0], [2, 13]]);
      expect(signals[1].aborted).toBe(true);
    });

    it('does not schedule a retry that would start at or after the deadline; the timeout settles the element then', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const errors: unknown[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: failures after 3 ms, retries 10 ms later, budget 30 ms: calls at 0 and 13; the retry at 26 fits,
        // the one at 39 does not.
        const source = cold<El>('(a|)', { a: record(1) });
        // Act
        const out = source.pipe(
          asyncWaitUnordered((x, ctx) => {
            calls.push({ value: x, attempt: ctx.attempt, at: scheduler.now() });
            return cold<number>('---#', undefined, new Error(`e${ctx.attempt}`));
          }, { timeout: 30, retry: { maxRetries: 10, delay: 10 } }),
          captureError(errors),
        );
        // Assert
        expectObservable(out).toBe('30ms #', undefined, timeoutErrorLike({ input: 1, timeout: 30, attempts: 3 }));
      });
      expect(calls.map((c) => [c.attempt, c.at])).toEqual([[1, 0], [2, 13], [3, 26]]);
      expect(((errors[0] as AsyncTimeoutError).cause as Error).message).toBe('e3');
    });
  });

  describe('onError and synchronous throws', () => {
    it('uses onError results once the call has failed for good', () => {
      const scheduler = newScheduler();
      const failure = new Error('down');
      const onError = jest.fn((_e: unknown, x: number) => [-x]);
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a fails at 6; b answers at 2.
        const source = cold<El>('(ab|)', { a: record(1, 1), b: record(2, 2) });
        // Act
        const out = source.pipe(
          asyncWaitUnordered((x) => (x === 1 ? cold<number>('6ms #', undefined, failure) : cold('--(y|)', { y: 20 })), { onError }),
        );
        // Assert
        expectObservable(out).toBe('--B 3ms (F|)', { B: record(20, 2), F: record(-1, 1) });
      });
      expect(onError).toHaveBeenCalledTimes(1);
      expect(onError).toHaveBeenCalledWith(failure, 1);
    });

    it('treats a synchronous throw from fn as a failed call: retried, then handed to onError', () => {
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
        const out = source.pipe(asyncWaitUnordered(fn, { retry: { maxRetries: 1, delay: 5 }, onError }));
        // Assert
        expectObservable(out).toBe('5ms (F|)', { F: record(-1) });
      });
      expect(fn).toHaveBeenCalledTimes(2);
      expect(onError).toHaveBeenCalledWith(thrown, 1);
    });

    it('fails with AsyncCallError whose cause is the error a synchronous throw raised', () => {
      const scheduler = newScheduler();
      const thrown = new Error('sync');
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<El>('(a|)', { a: record(3) });
        // Act
        const out = source.pipe(asyncWaitUnordered(() => {
          throw thrown;
        }));
        // Assert
        expectObservable(out).toBe('#', undefined, callErrorLike({ input: 3, attempts: 1, cause: thrown }));
      });
    });
  });

  describe('upstream error', () => {
    it('is passed on at once, discarding results held behind a watermark and aborting in-flight signals', () => {
      const scheduler = newScheduler();
      const upstream = new Error('upstream');
      const signals: Record<number, AbortSignal> = {};
      const metrics = asyncWaitMetrics();
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // Arrange: a (slow) at 0, W at 1, b (answers at once, held behind W) at 2, source error at 5.
        const source = cold<El>('aWb 2ms #', { a: record(1), W: watermark(1), b: record(2) }, upstream);
        const slow = cold('20ms (x|)', { x: 10 });
        // Act
        const out = source.pipe(
          asyncWaitUnordered((x, ctx) => {
            signals[x] = ctx.signal;
            return x === 1 ? slow : [20];
          }, { metrics }),
        );
        // Assert
        expectObservable(out).toBe('5ms #', undefined, upstream);
        expectSubscriptions(slow.subscriptions).toBe('^----!');
      });
      expect(signals[1].aborted).toBe(true);
      expect(metrics.snapshot()).toEqual(expect.objectContaining({ ...ZERO_GAUGES, emitted: 0, started: 2 }));
    });
  });

  describe('completion', () => {
    it('completes only after the records held behind a watermark have been emitted', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: the source completes at 0; a takes 10 ms; b is done at 1 but behind W.
        const source = cold<El>('(aWb|)', { a: record(1), W: watermark(1), b: record(2) });
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 10, 2: 1 })));
        // Assert
        expectObservable(out).toBe('10ms (AWB|)', { A: record(10), W: watermark(1), B: record(20) });
      });
    });

    it('waits for a call with zero results before completing', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<El>('(a|)', { a: record(1) });
        // Act
        const out = source.pipe(asyncWaitUnordered(() => cold<number>('----|')));
        // Assert
        expectObservable(out).toBe('----|');
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
        // Act
        const out = source.pipe(
          asyncWaitUnordered((x, ctx) => {
            calls.push({ value: x, attempt: ctx.attempt, at: scheduler.now() });
            signals.push(ctx.signal);
            return x === 2 ? cold<number>('--#') : slow;
          }, { capacity: 3, timeout: 20, onTimeout, retry: { maxRetries: 3, delay: 10 }, metrics }),
        );
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
          asyncWaitUnordered((x) => {
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
        input.pipe(asyncWaitUnordered((x) => timer(5).pipe(map(() => x + 1)))).subscribe((e) => {
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

    it('keeps a watermark pushed from inside next behind the records still held', () => {
      const scheduler = newScheduler();
      const seen: Array<[number, El]> = [];
      scheduler.run(() => {
        // Arrange: 1 answers at 5, 2 at 10; when 1's result arrives, the subscriber pushes W(7).
        const input = new Subject<El>();
        input.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 5, 2: 10 }))).subscribe((e) => {
          seen.push([scheduler.now(), e]);
          if (e.kind === 'record' && e.value === 10) input.next(watermark(7));
        });
        // Act
        input.next(record(1));
        input.next(record(2));
      });
      // Assert
      expect(seen).toEqual([[5, record(10)], [10, record(20)], [10, watermark(7)]]);
    });

    it('does not let input pushed from inside next overtake inputs already waiting beyond capacity', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(() => {
        // Arrange: capacity 1, 5 ms calls; 2 waits for 1's slot; 1's output pushes 3 from inside next.
        const input = new Subject<El>();
        input.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 5, 2: 5, 3: 5 }, calls), { capacity: 1 })).subscribe((e) => {
          if (e.kind === 'record' && e.value === 10) input.next(record(3));
        });
        // Act
        input.next(record(1));
        input.next(record(2));
      });
      // Assert
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 5], [3, 10]]);
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
        const out = source.pipe(
          asyncWaitUnordered((x, ctx) => {
            calls.push({ value: x, attempt: ctx.attempt, at: scheduler.now() });
            signals.push(ctx.signal);
            return inners[x]!;
          }, { capacity: 2, metrics }),
        );
        // Act
        const subscription = out.subscribe((e) => {
          got.push(e);
          subscription.unsubscribe();
        });
      });
      // Assert
      expect(got).toEqual([record(10)]);
      expect(calls.map((c) => c.value)).toEqual([1, 2]);
      expect(signals[1].aborted).toBe(true);
      expect(metrics.snapshot()).toEqual(expect.objectContaining({ emitted: 1, started: 2, ...ZERO_GAUGES }));
    });
  });

  describe('metrics', () => {
    it('counts records held behind a watermark as waiting, and queued ones as buffered', () => {
      const scheduler = newScheduler();
      const metrics = asyncWaitMetrics();
      const snaps: AsyncWaitCounters[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 2; a 20 ms | W | b 5 ms (held behind W), c 5 ms (waits for a slot until 20).
        const source = cold<El>('(aWbc|)', { a: record(1), W: watermark(1), b: record(2), c: record(3) });
        for (const at of [10, 22, 30]) scheduler.schedule(() => snaps.push(metrics.snapshot()), at);
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 20, 2: 5, 3: 5 }), { capacity: 2, metrics }));
        // Assert
        expectObservable(out).toBe('20ms (AWB)(C|)', { A: record(10), W: watermark(1), B: record(20), C: record(30) });
      });
      const base = { failed: 0, timedOut: 0, retried: 0 };
      expect(snaps).toEqual([
        { ...base, started: 2, succeeded: 1, emitted: 0, inFlight: 1, waiting: 1, buffered: 1 },
        { ...base, started: 3, succeeded: 2, emitted: 2, inFlight: 1, waiting: 0, buffered: 0 },
        { ...base, started: 3, succeeded: 3, emitted: 3, inFlight: 0, waiting: 0, buffered: 0 },
      ]);
    });

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
          asyncWaitUnordered((x) => inners[x]!, {
            metrics,
            timeout: 50,
            onTimeout: (x) => [-x],
            retry: { maxRetries: 1, delay: 10 },
            onError: (_e, x) => [-10 * x],
          }),
        );
        // Assert
        expectObservable(out).toBe('5ms (CD) 1ms A 39ms (B|)', { A: record(-10), B: record(-2), C: record(30), D: record(31) });
      });
      expect(snaps).toEqual([
        { started: 3, succeeded: 1, failed: 0, timedOut: 0, retried: 0, emitted: 2, inFlight: 2, waiting: 0, buffered: 0 },
        { started: 3, succeeded: 1, failed: 1, timedOut: 0, retried: 1, emitted: 3, inFlight: 1, waiting: 0, buffered: 0 },
        { started: 3, succeeded: 1, failed: 1, timedOut: 1, retried: 1, emitted: 4, inFlight: 0, waiting: 0, buffered: 0 },
      ]);
    });
  });

  describe('scheduler option', () => {
    it('uses the scheduler passed in the options for timeouts, retry delays and clock reads (outside run mode)', () => {
      // Arrange: outside run mode one marble frame is 10 virtual ms and nothing patches asyncScheduler.
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const source = scheduler.createColdObservable<El>('(ab|)', { a: record(1), b: record(2) });
      // Act
      const out = source.pipe(
        asyncWaitUnordered((x, ctx) => {
          calls.push({ value: x, attempt: ctx.attempt, at: scheduler.now() });
          if (x === 2) return [20];
          return ctx.attempt === 1 ? throwError(() => new Error('down')) : NEVER;
        }, { scheduler, timeout: 40, retry: { maxRetries: 3, delay: 30 }, onTimeout: (x) => [-x] }),
      );
      // Assert: b at once, a's retry at 30, a's timeout at 40.
      scheduler.expectObservable(out).toBe('B---(F|)', { B: record(20), F: record(-1) });
      scheduler.flush();
      expect(calls.map((c) => [c.value, c.attempt, c.at])).toEqual([[1, 1, 0], [2, 1, 0], [1, 2, 30]]);
    });

    it('runs on the virtualised asyncScheduler by default in run mode, even when created before run', () => {
      // Arrange
      const operator = asyncWaitUnordered<number, number>(() => NEVER, { timeout: 30, onTimeout: (x) => [-x] });
      newScheduler().run(({ cold, expectObservable }) => {
        // Act
        const out = cold<El>('(a|)', { a: record(1) }).pipe(operator);
        // Assert
        expectObservable(out).toBe('30ms (F|)', { F: record(-1) });
      });
    });

    it('accepts asyncScheduler explicitly, which run mode virtualises too', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<El>('(a|)', { a: record(1) });
        // Act
        const out = source.pipe(asyncWaitUnordered(() => NEVER, { scheduler: asyncScheduler, timeout: 9, onTimeout: (x) => [-x] }));
        // Assert
        expectObservable(out).toBe('9ms (F|)', { F: record(-1) });
      });
    });
  });
});
