import { Subject, VirtualTimeScheduler, config, from, lastValueFrom, of, toArray, type Observable, type Subscription } from 'rxjs';
import {
  AsyncCallError, AsyncTimeoutError, asyncWaitMetrics, record, values,
  type AsyncCallContext, type AsyncWaitCounters, type RetryReason,
} from 'rxjs-sluice';
import { ASYNC_WAIT_OPERATORS, ZERO_GAUGES, ZERO_OPTIONAL_COUNTERS, forMode, type El } from '../support/marbles';
import { deferred, type Deferred } from '../support/deferred';

/**
 * The native-promise fast path of asyncWaitOrdered / asyncWaitUnordered: a `Promise` returned by fn (or by a
 * fallback) is awaited directly, with a per-record call id instead of an inner observer, and its one value is kept
 * without a results array. These specs pin what that path must still guarantee: a promise that settles after its
 * record timed out, was retried, or after the output ended is ignored; retryOnResult sees `[value]`; a Promise
 * subclass and a foreign thenable still work, and a misbehaving one (settling twice, or whose then throws) can
 * neither emit twice nor crash the source; a promise's value is ONE result, whatever it is; metrics stay exact.
 *
 * Promises are real and settled by the test (deferreds); time is a VirtualTimeScheduler advanced by hand, so the
 * order of a promise's settlement and a timeout or retry delay is chosen by the test.
 */

// ---- helpers ------------------------------------------------------------------------------------------------------


/** Lets every settled promise run its callbacks, then one macrotask (rxjs reports unhandled errors from a timeout). */
async function settleAll(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setTimeout(resolve, 0));
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Runs every action due up to virtual time `t`, and leaves the clock at `t`. */
function advanceTo(scheduler: VirtualTimeScheduler, t: number): void {
  scheduler.schedule(() => undefined, t - scheduler.now());
  scheduler.maxFrames = t;
  scheduler.flush();
}

/** A subscription's outcome, collected as it happens. */
interface Observed<T> {
  readonly outputs: T[];
  error: unknown;
  completed: boolean;
  readonly subscription: Subscription;
}

function observe<T>(observable: Observable<T>): Observed<T> {
  const run = { outputs: [] as T[], error: undefined as unknown, completed: false } as Observed<T>;
  (run as { subscription: Subscription }).subscription = observable.subscribe({
    next: (v) => run.outputs.push(v),
    error: (e: unknown) => (run.error = e),
    complete: () => (run.completed = true),
  });
  return run;
}

/** The counters a run must end with: the given totals, every other total 0, and the gauges back to 0. */
const finalCounters = (totals: Partial<AsyncWaitCounters>): AsyncWaitCounters => ({
  started: 0, succeeded: 0, failed: 0, timedOut: 0, retried: 0, emitted: 0, watermarksCoalesced: 0, backPressureTime: 0, ...totals, ...ZERO_GAUGES,
  ...ZERO_OPTIONAL_COUNTERS,
});

/** The oldest-in-flight gauges while something is in flight: read on the real clock, so only their type is known. */
const SOMETHING_IN_FLIGHT = { oldestInFlightSince: expect.any(Number), oldestInFlightAge: expect.any(Number) };

/**
 * backPressureTime once inputs have waited beyond capacity on the real clock: a number of ms, possibly 0 on a fast
 * machine. Each test also checks that it is >= 0.
 */
const SOME_BACK_PRESSURE: number = expect.any(Number);

/** A Promise subclass, as some libraries return (e.g. with extra methods). */
class TaggedPromise<T> extends Promise<T> {
  readonly tag = 'tagged';
}

/**
 * A Promise subclass that never settles by itself: it captures the callbacks its then() is given, so the test can
 * call them whenever (and as often as) it likes, like a buggy promise library that settles twice.
 */
class CapturingPromise<T> extends Promise<T> {
  readonly captured: Array<{ onFulfilled: (value: T) => unknown; onRejected: (error: unknown) => unknown }> = [];

  constructor(executor: (resolve: (value: T) => void, reject: (error: unknown) => void) => void = () => undefined) {
    super(executor);
  }

  override then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.captured.push({ onFulfilled: (v) => onFulfilled?.(v), onRejected: (e) => onRejected?.(e) });
    return super.then(onFulfilled, onRejected);
  }
}

/** A Promise subclass whose then() throws synchronously. */
class ThrowingThenPromise<T> extends Promise<T> {
  static readonly problem = new Error('then() is broken');

  override then<R1 = T, R2 = never>(): Promise<R1 | R2> {
    throw ThrowingThenPromise.problem;
  }
}

// Everything rxjs reports as unhandled, and every unhandled promise rejection, during a test.
let unhandledErrors: unknown[] = [];
let unhandledRejections: unknown[] = [];
const onUnhandledRejection = (reason: unknown): void => {
  unhandledRejections.push(reason);
};

beforeEach(() => {
  unhandledErrors = [];
  unhandledRejections = [];
  config.onUnhandledError = (err: unknown) => unhandledErrors.push(err);
  process.on('unhandledRejection', onUnhandledRejection);
});

afterEach(() => {
  config.onUnhandledError = null;
  process.off('unhandledRejection', onUnhandledRejection);
});

describe.each(ASYNC_WAIT_OPERATORS)('%s: the native-promise fast path', (_name, operator, mode) => {
  // ---- late settlement after a timeout -----------------------------------------------------------------------------

  describe('a promise that settles after its timeout fired', () => {
    it('is ignored when it resolves: exactly the onTimeout result is emitted, once', async () => {
      // Arrange: budget 10 ms; fn's promise is resolved by hand after the deadline.
      const scheduler = new VirtualTimeScheduler();
      const metrics = asyncWaitMetrics();
      const answer = deferred<number>();
      const signals: AbortSignal[] = [];
      const input = new Subject<El>();
      const onTimeout = jest.fn((x: number) => [-x]);
      const run = observe(input.pipe(operator((_x, ctx) => {
        signals.push(ctx.signal);
        return answer.promise;
      }, { scheduler, timeout: 10, onTimeout, metrics })));
      input.next(record(1, 42));
      // Act
      advanceTo(scheduler, 10);
      const atDeadline = [...run.outputs];
      answer.resolve(100);
      await settleAll();
      input.complete();
      // Assert
      expect(atDeadline).toStrictEqual([record(-1, 42)]);
      expect(run.outputs).toStrictEqual([record(-1, 42)]);
      expect(run.completed).toBe(true);
      expect(run.error).toBeUndefined();
      expect(onTimeout).toHaveBeenCalledTimes(1);
      expect(signals[0]!.reason).toBeInstanceOf(AsyncTimeoutError);
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 1, timedOut: 1, emitted: 1 }));
      expect(unhandledErrors).toEqual([]);
      expect(unhandledRejections).toEqual([]);
    });

    it('is ignored when it rejects: exactly the onTimeout result is emitted, once, and onError is never called', async () => {
      // Arrange
      const scheduler = new VirtualTimeScheduler();
      const metrics = asyncWaitMetrics();
      const answer = deferred<number>();
      const input = new Subject<El>();
      const onError = jest.fn(() => [0]);
      const retryOnError = jest.fn(() => true);
      const run = observe(input.pipe(operator(() => answer.promise, {
        scheduler, timeout: 10, onTimeout: (x) => [-x], onError, retry: { maxRetries: 3, delay: 1, retryOnError }, metrics,
      })));
      input.next(record(1));
      // Act
      advanceTo(scheduler, 10);
      answer.reject(new Error('late'));
      await settleAll();
      advanceTo(scheduler, 100);
      input.complete();
      // Assert
      expect(run.outputs).toStrictEqual([record(-1)]);
      expect(run.completed).toBe(true);
      expect(onError).not.toHaveBeenCalled();
      expect(retryOnError).not.toHaveBeenCalled();
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 1, timedOut: 1, emitted: 1 }));
      expect(unhandledErrors).toEqual([]);
      expect(unhandledRejections).toEqual([]);
    });

    it('is ignored while the onTimeout fallback (an Observable) is still running: only the fallback result goes out', async () => {
      // Arrange: the fallback answers when the test says so.
      const scheduler = new VirtualTimeScheduler();
      const metrics = asyncWaitMetrics();
      const answer = deferred<number>();
      const fallback = new Subject<number>();
      const input = new Subject<El>();
      const run = observe(input.pipe(operator(() => answer.promise, { scheduler, timeout: 10, onTimeout: () => fallback, metrics })));
      input.next(record(1, 42));
      input.complete();
      advanceTo(scheduler, 10);
      // Act: fn's promise resolves between the deadline and the fallback's answer.
      answer.resolve(100);
      await settleAll();
      const beforeFallback = [...run.outputs];
      fallback.next(-1);
      fallback.complete();
      // Assert
      expect(beforeFallback).toEqual([]);
      expect(run.outputs).toStrictEqual([record(-1, 42)]);
      expect(run.completed).toBe(true);
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 1, timedOut: 1, emitted: 1 }));
    });

    it('is ignored while the onTimeout fallback (a native promise) is pending: only the fallback result goes out', async () => {
      // Arrange
      const scheduler = new VirtualTimeScheduler();
      const metrics = asyncWaitMetrics();
      const answer = deferred<number>();
      const fallback = deferred<number>();
      const input = new Subject<El>();
      const run = observe(input.pipe(operator(() => answer.promise, { scheduler, timeout: 10, onTimeout: () => fallback.promise, metrics })));
      input.next(record(1));
      input.complete();
      advanceTo(scheduler, 10);
      // Act
      answer.resolve(100);
      await settleAll();
      const beforeFallback = [...run.outputs];
      fallback.resolve(-1);
      await settleAll();
      // Assert
      expect(beforeFallback).toEqual([]);
      expect(run.outputs).toStrictEqual([record(-1)]);
      expect(run.completed).toBe(true);
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 1, timedOut: 1, emitted: 1 }));
    });

    it('without onTimeout, the output errors with AsyncTimeoutError and the late resolution reports nothing', async () => {
      // Arrange
      const scheduler = new VirtualTimeScheduler();
      const metrics = asyncWaitMetrics();
      const answer = deferred<number>();
      const input = new Subject<El>();
      const run = observe(input.pipe(operator(() => answer.promise, { scheduler, timeout: 10, metrics })));
      input.next(record(1));
      // Act
      advanceTo(scheduler, 10);
      answer.resolve(100);
      await settleAll();
      // Assert
      expect(run.error).toBeInstanceOf(AsyncTimeoutError);
      expect(run.outputs).toEqual([]);
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 1, timedOut: 1 }));
      expect(unhandledErrors).toEqual([]);
      expect(unhandledRejections).toEqual([]);
    });
  });

  // ---- after the output ended --------------------------------------------------------------------------------------

  describe('a promise that settles after the output ended', () => {
    it.each(['resolves', 'rejects'] as const)(
      'after unsubscribe: %s into nothing: no output, no call, no fallback, nothing reported',
      async (how) => {
        // Arrange: capacity 1, so 2 waits beyond capacity; every hook is a spy.
        const scheduler = new VirtualTimeScheduler();
        const metrics = asyncWaitMetrics();
        const answers: Array<Deferred<number>> = [];
        const signals: AbortSignal[] = [];
        const fn = jest.fn((_x: number, ctx: AsyncCallContext) => {
          signals.push(ctx.signal);
          const answer = deferred<number>();
          answers.push(answer);
          return answer.promise;
        });
        const hooks = {
          onTimeout: jest.fn(() => [0]), onError: jest.fn(() => [0]), retryOnResult: jest.fn(() => true), retryOnError: jest.fn(() => true),
        };
        const input = new Subject<number>();
        const run = observe(input.pipe(operator(fn, {
          input: 'values', capacity: 1, scheduler, metrics, timeout: 50, onTimeout: hooks.onTimeout, onError: hooks.onError,
          retry: { maxRetries: 3, delay: 0, retryOnResult: hooks.retryOnResult, retryOnError: hooks.retryOnError },
        })));
        input.next(1);
        input.next(2);
        // Act
        run.subscription.unsubscribe();
        if (how === 'resolves') answers[0]!.resolve(10);
        else answers[0]!.reject(new Error('late'));
        await settleAll();
        advanceTo(scheduler, 100);
        // Assert
        expect(fn).toHaveBeenCalledTimes(1);
        expect(run.outputs).toEqual([]);
        expect(run.error).toBeUndefined();
        expect(run.completed).toBe(false);
        expect(signals[0]!.aborted).toBe(true);
        for (const hook of Object.values(hooks)) expect(hook).not.toHaveBeenCalled();
        expect(metrics.snapshot()).toEqual(finalCounters({ started: 1 }));
        expect(unhandledErrors).toEqual([]);
        expect(unhandledRejections).toEqual([]);
      },
    );

    it('after a source error: the error is passed on once, and the late resolution emits and reports nothing', async () => {
      // Arrange
      const metrics = asyncWaitMetrics();
      const answer = deferred<number>();
      const upstream = new Error('upstream');
      const retryOnResult = jest.fn(() => false);
      const input = new Subject<El>();
      const run = observe(input.pipe(operator(() => answer.promise, { metrics, retry: { maxRetries: 1, delay: 0, retryOnResult } })));
      input.next(record(1));
      // Act
      input.error(upstream);
      answer.resolve(10);
      await settleAll();
      // Assert
      expect(run.error).toBe(upstream);
      expect(run.outputs).toEqual([]);
      expect(retryOnResult).not.toHaveBeenCalled();
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 1 }));
      expect(unhandledErrors).toEqual([]);
      expect(unhandledRejections).toEqual([]);
    });
  });

  // ---- retries -----------------------------------------------------------------------------------------------------

  describe('retry', () => {
    it("retries after attempt 1's promise rejects; attempt 2's value is emitted once", async () => {
      // Arrange: delay 10 ms.
      const scheduler = new VirtualTimeScheduler();
      const metrics = asyncWaitMetrics();
      const answers: Array<Deferred<number>> = [];
      const calls: Array<[number, number]> = [];
      const input = new Subject<El>();
      const run = observe(input.pipe(operator((_x, ctx) => {
        calls.push([ctx.attempt, scheduler.now()]);
        const answer = deferred<number>();
        answers.push(answer);
        return answer.promise;
      }, { scheduler, retry: { maxRetries: 2, delay: 10 }, metrics })));
      input.next(record(1, 5));
      input.complete();
      // Act
      answers[0]!.reject(new Error('down'));
      await settleAll();
      advanceTo(scheduler, 10);
      answers[1]!.resolve(20);
      await settleAll();
      advanceTo(scheduler, 100);
      // Assert
      expect(calls).toEqual([[1, 0], [2, 10]]);
      expect(run.outputs).toStrictEqual([record(20, 5)]);
      expect(run.completed).toBe(true);
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 1, retried: 1, succeeded: 1, emitted: 1 }));
    });

    it("attempt 1's promise cannot interfere once the retry runs, even if it (a buggy subclass) settles again", async () => {
      // Arrange: attempt 1 returns a promise whose callbacks the test calls by hand; attempt 2 a deferred.
      const scheduler = new VirtualTimeScheduler();
      const metrics = asyncWaitMetrics();
      const first = new CapturingPromise<string>();
      const second = deferred<string>();
      const input = new Subject<El>();
      const run = observe(input.pipe(operator((_x, ctx) => (ctx.attempt === 1 ? first : second.promise), {
        scheduler, retry: { maxRetries: 2, delay: 10 }, metrics,
      })));
      input.next(record(1));
      input.complete();
      expect(first.captured).toHaveLength(1);
      const late = first.captured[0]!;
      // Act: attempt 1 fails; during the retry delay and during attempt 2 it "settles" again.
      late.onRejected(new Error('down'));
      late.onFulfilled('stale during the delay');
      advanceTo(scheduler, 10);
      late.onFulfilled('stale during attempt 2');
      late.onRejected(new Error('stale failure during attempt 2'));
      await settleAll();
      const beforeAttempt2 = [...run.outputs];
      second.resolve('fresh');
      await settleAll();
      late.onFulfilled('stale after the end');
      // Assert
      expect(beforeAttempt2).toEqual([]);
      expect(run.error).toBeUndefined();
      expect(run.outputs).toStrictEqual([record('fresh')]);
      expect(run.completed).toBe(true);
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 1, retried: 1, succeeded: 1, emitted: 1 }));
    });

    it('retryOnResult and the delay function see [value] for a promise result; the accepted result is emitted once', async () => {
      // Arrange: attempt 1 resolves 'empty', attempt 2 'full'.
      const scheduler = new VirtualTimeScheduler();
      const metrics = asyncWaitMetrics();
      const seen: unknown[] = [];
      const reasons: Array<RetryReason<string>> = [];
      const input = new Subject<El>();
      const run = observe(input.pipe(operator((_x, ctx) => Promise.resolve(ctx.attempt === 1 ? 'empty' : 'full'), {
        scheduler,
        metrics,
        retry: {
          maxRetries: 3,
          delay: (_n, reason) => {
            reasons.push(reason);
            return 5;
          },
          retryOnResult: (results) => {
            seen.push(results);
            return results[0] === 'empty';
          },
        },
      })));
      input.next(record(1));
      input.complete();
      // Act
      await settleAll();
      advanceTo(scheduler, 5);
      await settleAll();
      // Assert
      expect(seen).toStrictEqual([['empty'], ['full']]);
      expect(reasons).toStrictEqual([{ kind: 'result', results: ['empty'] }]);
      expect(run.outputs).toStrictEqual([record('full')]);
      expect(run.completed).toBe(true);
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 1, retried: 1, succeeded: 1, emitted: 1 }));
    });

    it("retryOnResult sees a promise's array value as ONE result, [[...]], and the last results are accepted once retries run out", async () => {
      // Arrange: every attempt resolves to the same array, which retryOnResult always rejects; one retry allowed.
      const scheduler = new VirtualTimeScheduler();
      const metrics = asyncWaitMetrics();
      const seen: unknown[] = [];
      const calls: number[] = [];
      const input = new Subject<El>();
      const run = observe(input.pipe(operator((_x, ctx) => {
        calls.push(ctx.attempt);
        return Promise.resolve([ctx.attempt, 0]);
      }, {
        scheduler,
        metrics,
        retry: {
          maxRetries: 1,
          delay: 5,
          retryOnResult: (results) => {
            seen.push(results);
            return true;
          },
        },
      })));
      input.next(record(1));
      input.complete();
      // Act
      await settleAll();
      advanceTo(scheduler, 5);
      await settleAll();
      // Assert: only attempt 1's results are judged (attempt 2 is the last allowed); attempt 2's array is the one record.
      expect(calls).toEqual([1, 2]);
      expect(seen).toStrictEqual([[[1, 0]]]);
      expect(run.outputs).toStrictEqual([record([2, 0])]);
      expect(run.completed).toBe(true);
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 1, retried: 1, succeeded: 1, emitted: 1 }));
    });
  });

  // ---- Promise subclasses and foreign thenables --------------------------------------------------------------------

  describe('Promise subclasses and foreign thenables', () => {
    it('a Promise subclass works like a promise: its value is one record, its rejection a failed call', async () => {
      // Arrange
      const boom = new Error('boom');
      const fn = (x: number) => (x === 3 ? TaggedPromise.reject(boom) : TaggedPromise.resolve(10 * x));
      // Act
      const ok = await lastValueFrom(of(record(1), record(2)).pipe(operator(fn), toArray()));
      const failed = observe(of(record(3)).pipe(operator(fn)));
      await settleAll();
      // Assert
      expect(TaggedPromise.resolve(1)).toBeInstanceOf(Promise);
      expect(ok).toStrictEqual([record(10), record(20)]);
      expect(failed.error).toBeInstanceOf(AsyncCallError);
      expect(failed.error).toEqual(expect.objectContaining({ input: 3, attempts: 1, cause: boom }));
    });

    it('a foreign thenable that calls back later works: one record with its value', async () => {
      // Arrange
      let fulfil: ((value: number) => void) | undefined;
      const thenable = { then: (onFulfilled: (value: number) => void) => void (fulfil = onFulfilled) } as unknown as PromiseLike<number>;
      const metrics = asyncWaitMetrics();
      const run = observe(of(record(1, 3)).pipe(operator(() => thenable, { metrics })));
      // Act
      const before = [...run.outputs];
      fulfil!(10);
      await settleAll();
      // Assert
      expect(before).toEqual([]);
      expect(run.outputs).toStrictEqual([record(10, 3)]);
      expect(run.completed).toBe(true);
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 1, succeeded: 1, emitted: 1 }));
    });

    it('a thenable that calls onFulfilled twice (and then onRejected) emits once and does not fail', async () => {
      // Arrange
      const thenable = {
        then(onFulfilled: (value: number) => void, onRejected: (error: unknown) => void) {
          onFulfilled(10);
          onFulfilled(11);
          onRejected(new Error('too late'));
        },
      } as unknown as PromiseLike<number>;
      const metrics = asyncWaitMetrics();
      const input = new Subject<El>();
      const run = observe(input.pipe(operator(() => thenable, { metrics })));
      // Act: the source stays open while the thenable calls back, so a second callback would still count.
      input.next(record(1));
      await settleAll();
      const gaugesBeforeEnd = {
        inFlight: metrics.inFlight, waiting: metrics.waiting, buffered: metrics.buffered,
        oldestInFlightSince: metrics.oldestInFlightSince, oldestInFlightAge: metrics.oldestInFlightAge,
      };
      input.complete();
      // Assert
      expect(gaugesBeforeEnd).toEqual(ZERO_GAUGES);
      expect(run.outputs).toStrictEqual([record(10)]);
      expect(run.error).toBeUndefined();
      expect(run.completed).toBe(true);
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 1, succeeded: 1, emitted: 1 }));
    });

    it('a Promise subclass whose then() calls onFulfilled twice emits once', async () => {
      // Arrange: the source stays open while the promise settles twice, so a second settlement would still count.
      const twice = new CapturingPromise<number>();
      const metrics = asyncWaitMetrics();
      const input = new Subject<El>();
      const run = observe(input.pipe(operator((x) => (x === 1 ? twice : Promise.resolve(20)), { metrics })));
      input.next(record(1));
      input.next(record(2));
      await settleAll();
      // Act
      twice.captured[0]!.onFulfilled(10);
      twice.captured[0]!.onFulfilled(11);
      twice.captured[0]!.onRejected(new Error('too late'));
      await settleAll();
      const gaugesBeforeEnd = {
        inFlight: metrics.inFlight, waiting: metrics.waiting, buffered: metrics.buffered,
        oldestInFlightSince: metrics.oldestInFlightSince, oldestInFlightAge: metrics.oldestInFlightAge,
      };
      input.complete();
      // Assert
      expect(gaugesBeforeEnd).toEqual(ZERO_GAUGES);
      expect(unhandledRejections).toEqual([]);
      expect(run.outputs).toStrictEqual(forMode(mode, { ordered: [record(10), record(20)], unordered: [record(20), record(10)] }));
      expect(run.error).toBeUndefined();
      expect(run.completed).toBe(true);
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 2, succeeded: 2, emitted: 2 }));
    });

    it('a thenable whose then() throws is a failed call: AsyncCallError with that cause, retried first when allowed', async () => {
      // Arrange
      const problem = new Error('then() is broken');
      const thenable = {
        then() {
          throw problem;
        },
      };
      const calls: number[] = [];
      const scheduler = new VirtualTimeScheduler();
      // Act
      const plain = observe(of(record(1)).pipe(operator(() => thenable)));
      const retried = observe(of(record(2)).pipe(operator((_x, ctx) => {
        calls.push(ctx.attempt);
        return thenable;
      }, { scheduler, retry: { maxRetries: 1, delay: 1 } })));
      advanceTo(scheduler, 10);
      const fallback = observe(of(record(3)).pipe(operator(() => thenable, { onError: (_e, x) => [-x] })));
      await settleAll();
      // Assert
      expect(plain.error).toBeInstanceOf(AsyncCallError);
      expect(plain.error).toEqual(expect.objectContaining({ input: 1, attempts: 1, cause: problem }));
      expect(retried.error).toEqual(expect.objectContaining({ name: 'AsyncCallError', input: 2, attempts: 2, cause: problem }));
      expect(calls).toEqual([1, 2]);
      expect(fallback.outputs).toStrictEqual([record(-3)]);
      expect(fallback.completed).toBe(true);
      expect(unhandledErrors).toEqual([]);
    });

    // Regression: the fast path once took any `instanceof Promise`, so a subclass's throwing then() escaped into the
    // source's next(). Only an exact native promise takes it now; subclasses go through the guarded thenable path.
    it('a Promise subclass whose then() throws is a failed call too (AsyncCallError), not an error of the source', async () => {
      // Arrange
      const metrics = asyncWaitMetrics();
      const input = new Subject<El>();
      const run = observe(input.pipe(operator(() => new ThrowingThenPromise<number>(() => undefined), { metrics })));
      // Act
      let thrownToSource: unknown;
      try {
        input.next(record(1));
      } catch (err) {
        thrownToSource = err;
      }
      await settleAll();
      // Assert
      expect(thrownToSource).toBeUndefined();
      expect(run.error).toBeInstanceOf(AsyncCallError);
      expect(run.error).toEqual(expect.objectContaining({ input: 1, attempts: 1, cause: ThrowingThenPromise.problem }));
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 1, failed: 1 }));
    });
  });

  // ---- one result per promise --------------------------------------------------------------------------------------

  describe("a promise's value is ONE result, whatever it is", () => {
    it.each<[string, unknown]>([
      ['undefined', undefined],
      ['null', null],
      ['0', 0],
      ['an empty string', ''],
      ['false', false],
      ['NaN', NaN],
    ])('a promise resolving to %s emits one record whose value is that, with the input timestamp', async (_label, value) => {
      // Arrange
      const metrics = asyncWaitMetrics();
      // Act
      const out = await lastValueFrom(of(record(1, 7)).pipe(operator(() => Promise.resolve(value), { metrics }), toArray()));
      // Assert
      expect(out).toHaveLength(1);
      expect(out[0]).toStrictEqual({ kind: 'record', value, timestamp: 7 });
      expect(Object.keys(out[0]!)).toEqual(['kind', 'value', 'timestamp']);
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 1, succeeded: 1, emitted: 1 }));
    });

    it('a promise of an array is one record holding that array; an array returned directly is many records', async () => {
      // Arrange
      const array = [1, 2, 3];
      // Act
      const viaPromise = await lastValueFrom(of(record(1)).pipe(operator(() => Promise.resolve(array)), toArray()));
      const direct = await lastValueFrom(of(record(1)).pipe(operator(() => array), toArray()));
      const emptyViaPromise = await lastValueFrom(of(record(1)).pipe(operator(() => Promise.resolve([] as number[])), toArray()));
      // Assert
      expect(viaPromise).toStrictEqual([record([1, 2, 3])]);
      expect((viaPromise[0] as { value: unknown }).value).toBe(array);
      expect(direct).toStrictEqual([record(1), record(2), record(3)]);
      expect(emptyViaPromise).toStrictEqual([record([])]);
    });

    it('a promise of an Observable is one record holding that Observable (it is not subscribed)', async () => {
      // Arrange
      const inner = of(1, 2);
      const subscribe = jest.spyOn(inner, 'subscribe');
      // Act
      const out = await lastValueFrom(of(record(1)).pipe(operator(() => Promise.resolve(inner)), toArray()));
      // Assert
      expect(out).toHaveLength(1);
      expect((out[0] as { value: unknown }).value).toBe(inner);
      expect(subscribe).not.toHaveBeenCalled();
    });

    it('a single value from [x] or of(x) is one record too, and retryOnResult sees [x] for it', async () => {
      // Arrange: [[1, 2]] and of([1, 2]) each answer ONE value (an array); retryOnResult judges each call once.
      const seen: unknown[] = [];
      const options = { retry: { maxRetries: 1, delay: 0, retryOnResult: (results: readonly unknown[]) => (seen.push(results), false) } };
      // Act
      const fromArray = await lastValueFrom(of(record(1, 2)).pipe(operator((): unknown[][] => [[1, 2]], options), toArray()));
      const fromOf = await lastValueFrom(of(record(1, 2)).pipe(operator(() => of<unknown[]>([1, 2]), options), toArray()));
      const fromSingle = await lastValueFrom(of(record(1, 2)).pipe(operator((): unknown[] => ['x'], options), toArray()));
      // Assert
      expect(fromArray).toStrictEqual([record([1, 2], 2)]);
      expect(fromOf).toStrictEqual([record([1, 2], 2)]);
      expect(fromSingle).toStrictEqual([record('x', 2)]);
      expect(seen).toStrictEqual([[[1, 2]], [[1, 2]], ['x']]);
    });

    it('in values mode the record has no timestamp property', async () => {
      // Act
      const out = await lastValueFrom(of('a').pipe(operator(() => Promise.resolve(undefined), { input: 'values' }), toArray()));
      // Assert
      expect(out).toStrictEqual([{ kind: 'record', value: undefined }]);
      expect(Object.keys(out[0]!)).toEqual(['kind', 'value']);
    });
  });

  // ---- metrics -----------------------------------------------------------------------------------------------------

  describe('metrics', () => {
    it('counts succeeded and emitted, and moves the gauges, as promises resolve out of order', async () => {
      // Arrange: capacity 3, five inputs; the test resolves the calls in reverse order.
      const metrics = asyncWaitMetrics();
      const answers = new Map<number, Deferred<number>>();
      const run = observe(from([1, 2, 3, 4, 5]).pipe(operator((x: number) => {
        const answer = deferred<number>();
        answers.set(x, answer);
        return answer.promise;
      }, { input: 'values', capacity: 3, metrics }), values()));
      const atStart = metrics.snapshot();
      // Act: 3 and 2 resolve (held behind 1 when ordered), then 1.
      answers.get(3)!.resolve(30);
      answers.get(2)!.resolve(20);
      await settleAll();
      const beforeHead = metrics.snapshot();
      answers.get(1)!.resolve(10);
      await settleAll();
      const afterHead = metrics.snapshot();
      answers.get(5)!.resolve(50);
      answers.get(4)!.resolve(40);
      await settleAll();
      // Assert: 4 and 5 wait beyond capacity until the first slot frees (3 and 2 when unordered, 1 when ordered).
      // backPressureTime reads live on the real clock: some ms >= 0 while they wait, that no longer grow once
      // nothing waits beyond capacity again.
      expect(atStart).toEqual({ ...finalCounters({ started: 3 }), backPressureTime: SOME_BACK_PRESSURE, inFlight: 3, buffered: 2, ...SOMETHING_IN_FLIGHT });
      expect(beforeHead).toEqual(forMode(mode, {
        ordered: { ...finalCounters({ started: 3, succeeded: 2 }), backPressureTime: SOME_BACK_PRESSURE, inFlight: 1, waiting: 2, buffered: 2, ...SOMETHING_IN_FLIGHT },
        unordered: { ...finalCounters({ started: 5, succeeded: 2, emitted: 2 }), backPressureTime: SOME_BACK_PRESSURE, inFlight: 3, ...SOMETHING_IN_FLIGHT },
      }));
      expect(afterHead).toEqual(forMode(mode, {
        ordered: { ...finalCounters({ started: 5, succeeded: 3, emitted: 3 }), backPressureTime: SOME_BACK_PRESSURE, inFlight: 2, ...SOMETHING_IN_FLIGHT },
        unordered: { ...finalCounters({ started: 5, succeeded: 3, emitted: 3 }), backPressureTime: beforeHead.backPressureTime, inFlight: 2, ...SOMETHING_IN_FLIGHT },
      }));
      expect(afterHead.backPressureTime).toBeGreaterThanOrEqual(0);
      expect(run.outputs).toEqual(forMode(mode, { ordered: [10, 20, 30, 40, 50], unordered: [30, 20, 10, 50, 40] }));
      expect(run.completed).toBe(true);
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 5, succeeded: 5, emitted: 5, backPressureTime: afterHead.backPressureTime }));
    });

    it('does not count promise fallbacks as succeeded: onError and onTimeout promises count as failed and timedOut', async () => {
      // Arrange: 1 rejects (onError answers with a promise), 2 never answers (onTimeout answers with a promise), 3 resolves.
      const scheduler = new VirtualTimeScheduler();
      const metrics = asyncWaitMetrics();
      const run = observe(from([1, 2, 3]).pipe(operator((x: number) => {
        if (x === 1) return Promise.reject(new Error('down'));
        if (x === 2) return new Promise<number>(() => undefined);
        return Promise.resolve(30);
      }, {
        input: 'values', scheduler, metrics, timeout: 10, onError: (_e, x) => Promise.resolve(-x), onTimeout: (x) => Promise.resolve(-x),
      }), values()));
      // Act
      await settleAll();
      advanceTo(scheduler, 10);
      await settleAll();
      // Assert
      expect([...run.outputs].sort((a, b) => a - b)).toEqual([-2, -1, 30]);
      if (mode === 'ordered') expect(run.outputs).toEqual([-1, -2, 30]);
      expect(run.completed).toBe(true);
      expect(metrics.snapshot()).toEqual(finalCounters({ started: 3, succeeded: 1, failed: 1, timedOut: 1, emitted: 3 }));
    });

    it('a flood of 10 000 promises: every one succeeded and emitted once, gauges back to 0', async () => {
      // Arrange
      const metrics = asyncWaitMetrics();
      const source = from(Array.from({ length: 10_000 }, (_, i) => i));
      // Act
      const out = await lastValueFrom(source.pipe(
        operator((x: number) => Promise.resolve(2 * x), { input: 'values', capacity: 100, metrics }),
        values(),
        toArray(),
      ));
      // Assert: 9 900 inputs waited beyond capacity, for ms of the real clock: only the sign is known.
      const sorted = mode === 'ordered' ? out : [...out].sort((a, b) => a - b);
      expect(sorted).toEqual(Array.from({ length: 10_000 }, (_, i) => 2 * i));
      const final = metrics.snapshot();
      expect(final).toEqual(finalCounters({ started: 10_000, succeeded: 10_000, emitted: 10_000, backPressureTime: SOME_BACK_PRESSURE }));
      expect(final.backPressureTime).toBeGreaterThanOrEqual(0);
    });
  });
});
