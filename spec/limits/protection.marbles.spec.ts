import { type TestScheduler } from 'rxjs/testing';
import { NEVER, finalize, map, throwError, timer, type Observable } from 'rxjs';
import {
  asyncBatchMetrics, asyncBatchUnordered, asyncWaitMetrics, asyncWaitOrdered, asyncWaitUnordered, record,
  type AsyncCallContext, type AsyncWarning, type AsyncWaitMetrics, type BatchCallContext, type StreamElement,
} from 'rxjs-sluice';
import { newScheduler } from '../support/marbles';

/**
 * The protections of the async operators in virtual time (TestScheduler.run: 1 frame = 1 ms): the call gate
 * (`concurrency.adaptive`, `rateLimit`), the retry budget (`retry.budget`) and stall warnings (`stallWarning`),
 * through the public API. Lower-case letters are records (a = 1, b = 2, …); unless a test says otherwise the call
 * for x answers 10 * x. A limiter with min = max = initial is a fixed limit below capacity: the gate without the
 * adaptation, so that what the gate does can be stated exactly.
 */

type El = StreamElement<number>;

const IN = { a: record(1), b: record(2), c: record(3), d: record(4), e: record(5), f: record(6), g: record(7) };

/** A fixed limit of `n` calls in flight through the gate (an adaptive limiter that cannot move). */
const fixedLimit = (n: number) => ({ adaptive: { min: n, max: n, initial: n } });

/** One call of fn: value, attempt, start time, calls running once it started (itself included), and the limit then. */
interface Started {
  value: number;
  attempt: number;
  at: number;
  running: number;
  limit: number | null;
}

/**
 * A fn whose call for x answers 10 * x after `latency(x, attempt)` ms (or fails, when `fails(x, attempt)`), and
 * logs every start; `running` counts calls from their start until the operator stops listening (an answer, an
 * error, or the cancellation of a timed-out call).
 */
function service(
  scheduler: TestScheduler,
  metrics: AsyncWaitMetrics,
  latency: (x: number, attempt: number) => number,
  fails: (x: number, attempt: number) => unknown = () => undefined,
) {
  const started: Started[] = [];
  let running = 0;
  const fn = (x: number, ctx: AsyncCallContext): Observable<number> => {
    running++;
    started.push({ value: x, attempt: ctx.attempt, at: scheduler.now(), running, limit: metrics.concurrencyLimit });
    const error = fails(x, ctx.attempt);
    const ms = latency(x, ctx.attempt);
    const answer = error === undefined
      ? timer(ms).pipe(map(() => 10 * x))
      : timer(ms).pipe(map(() => {
        throw error;
      }));
    return answer.pipe(finalize(() => running--));
  };
  return { fn, started };
}

/** What an output does, as `time:what` lines (read after flush). */
function timeline(scheduler: TestScheduler, output: Observable<El>): string[] {
  const lines: string[] = [];
  output.subscribe({
    next: (e) => lines.push(`${scheduler.now()}:${e.kind === 'record' ? String(e.value) : e.kind}`),
    error: (err: Error) => lines.push(`${scheduler.now()}:#${err.name}`),
    complete: () => lines.push(`${scheduler.now()}:|`),
  });
  return lines;
}

/** Reads `read()` at each of the given virtual times (scheduled before the run, so at those exact frames). */
function readAt<T>(scheduler: TestScheduler, times: readonly number[], read: () => T): Map<number, T> {
  const seen = new Map<number, T>();
  for (const t of times) scheduler.schedule(() => seen.set(t, read()), t);
  return seen;
}

const at = (started: readonly Started[]) => started.map((s) => `${s.value}#${s.attempt}@${s.at}`);

describe('protecting a service: the call gate, the retry budget and stall warnings, in virtual time', () => {
  describe('the concurrency limit', () => {
    // capacity 6, limit 2; six records at 0, each call 10 ms: two calls at a time, the other records waiting.
    //   calls   a,b @0   c,d @10   e,f @20
    it('keeps the calls in flight at the limit while capacity admits more, and counts the others in waitingForCall', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const { fn, started } = service(scheduler, metrics, () => 10);
        const gauges = readAt(scheduler, [1, 11, 21, 31], () => ({
          inFlight: metrics.inFlight, waitingForCall: metrics.waitingForCall, limit: metrics.concurrencyLimit,
        }));

        // Act
        const output = timeline(scheduler, cold<El>('(abcdef|)', IN).pipe(
          asyncWaitUnordered(fn, { capacity: 6, concurrency: fixedLimit(2), metrics }),
        ));
        flush();

        // Assert: all six are admitted (inFlight 6) at once, but only two call at a time.
        expect(at(started)).toEqual(['1#1@0', '2#1@0', '3#1@10', '4#1@10', '5#1@20', '6#1@20']);
        expect(Math.max(...started.map((s) => s.running))).toBe(2);
        expect(Object.fromEntries(gauges)).toEqual({
          1: { inFlight: 6, waitingForCall: 4, limit: 2 },
          11: { inFlight: 4, waitingForCall: 2, limit: 2 },
          21: { inFlight: 2, waitingForCall: 0, limit: 2 },
          31: { inFlight: 0, waitingForCall: 0, limit: 2 },
        });
        expect(output).toEqual(['10:10', '10:20', '20:30', '20:40', '30:50', '30:60', '30:|']);
      });
    });

    // limit 1; a@0 8 ms, b@1 2 ms, c@2 5 ms, d@3 1 ms: each call waits for the one before, whatever its length.
    it('starts the waiting calls in admission order (FIFO), not by how long they take', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const latency: Record<number, number> = { 1: 8, 2: 2, 3: 5, 4: 1 };
        const { fn, started } = service(scheduler, metrics, (x) => latency[x]!);

        // Act
        const output = timeline(scheduler, cold<El>('abcd|', IN).pipe(
          asyncWaitUnordered(fn, { capacity: 10, concurrency: fixedLimit(1), metrics }),
        ));
        flush();

        // Assert
        expect(at(started)).toEqual(['1#1@0', '2#1@8', '3#1@10', '4#1@15']);
        expect(output).toEqual(['8:10', '10:20', '15:30', '16:40', '16:|']);
      });
    });

    // limit 1; a fails at 5 and retries at once, but b and c were waiting first: the retry queues behind them.
    //   calls   a#1 @0 (fails @5)   b @5   c @10   a#2 @15
    it('sends a retry through the gate again, ahead of the records waiting for their first call (admitted before them, its budget runs out sooner)', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const { fn, started } = service(scheduler, metrics, () => 5, (x, attempt) => (x === 1 && attempt === 1 ? new Error('boom') : undefined));

        // Act
        const output = cold<El>('(abc|)', IN).pipe(
          asyncWaitOrdered(fn, { capacity: 10, concurrency: fixedLimit(1), retry: { maxRetries: 1, delay: 0 }, metrics }),
        );

        // Assert: a fails at 5 and its 0 ms retry is due just after b took the slot; at 10 the retry goes before c.
        // Ordered, so b waits for a's retry (done at 15), and c comes at 20.
        expectObservable(output).toBe('15ms (ab) 1ms (c|)', { a: record(10), b: record(20), c: record(30) });
        scheduler.flush();
        expect(at(started)).toEqual(['1#1@0', '2#1@5', '1#2@10', '3#1@15']);
        expect(metrics.retried).toBe(1);
      });
    });

    // limit 1, timeout 20, onTimeout answers -x. a, b, c at 0, calls of 12 ms: a 0-12; b from 12, cut off by its
    // timeout at 20; c waits for the gate until its own timeout at 20, and gets its fallback without a call. d@21
    // finds the slot free: c never took it.
    it('times out a record waiting for the gate: onTimeout gives its result, it makes no call, and takes no slot', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const { fn, started } = service(scheduler, metrics, () => 12);
        const onTimeout = (x: number) => [-x];
        const waiting = readAt(scheduler, [19, 21], () => metrics.waitingForCall);

        // Act
        const output = timeline(scheduler, cold<El>('(abc) 16ms d|', IN).pipe(
          asyncWaitUnordered(fn, { capacity: 10, timeout: 20, onTimeout, concurrency: fixedLimit(1), metrics }),
        ));
        flush();

        // Assert
        expect(output).toEqual(['12:10', '20:-2', '20:-3', '33:40', '33:|']);
        expect(at(started)).toEqual(['1#1@0', '2#1@12', '4#1@21']);
        expect(Object.fromEntries(waiting)).toEqual({ 19: 1, 21: 0 });
        expect(metrics.snapshot()).toMatchObject({ timedOut: 2, succeeded: 2, waitingForCall: 0, inFlight: 0 });
      });
    });

    // limit 2 (aimd, max 2), timeout 20, calls of 15 ms; a, b, c at 0. a and b run 0-15; c waits for a slot, is
    // called at 15 with 5 ms of budget left, and times out at 20 having run 5 ms: the service was not slow, so it is
    // no drop, and the limit stays 2 (were it a drop, it would close the window and cut the limit to 1).
    it('a timeout whose call ran less than half the budget (it waited for a slot) is no drop: the limit is not cut', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const { fn, started } = service(scheduler, metrics, () => 15);

        // Act
        const output = timeline(scheduler, cold<El>('(abc|)', IN).pipe(
          asyncWaitUnordered(fn, {
            capacity: 10, timeout: 20, onTimeout: (x: number) => [-x], metrics,
            concurrency: { adaptive: { limiter: 'aimd', min: 1, max: 2, initial: 2 } },
          }),
        ));
        flush();

        // Assert
        expect(at(started)).toEqual(['1#1@0', '2#1@0', '3#1@15']);
        expect(output).toEqual(['15:10', '15:20', '20:-3', '20:|']);
        expect(metrics.concurrencyLimit).toBe(2);
      });
    });

    // asyncBatch: the gate counts batches. maxBatchSize 2, maxInFlightBatches 3 but a limit of 1: one batch at a time.
    it('limits the batches in flight of asyncBatch, not the records', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const calls: { values: number[]; at: number }[] = [];
        const batchFn = (values: number[], _ctx: BatchCallContext) => {
          calls.push({ values, at: scheduler.now() });
          return timer(10).pipe(map(() => values.map((x) => 10 * x)));
        };
        const metrics = asyncBatchMetrics();

        // Act
        const output = timeline(scheduler, cold<El>('(abcdef|)', IN).pipe(asyncBatchUnordered(batchFn, {
          maxBatchSize: 2, maxInFlightBatches: 3, linger: 0, concurrency: fixedLimit(1), metrics,
        })));
        flush();

        // Assert
        expect(calls).toEqual([{ values: [1, 2], at: 0 }, { values: [3, 4], at: 10 }, { values: [5, 6], at: 20 }]);
        expect(metrics.concurrencyLimit).toBe(1);
        expect(output.at(-1)).toBe('30:|');
      });
    });
  });

  describe('the rate limit', () => {
    // perSecond 100 (a token per 10 ms), burst 3; seven records at 0, 1 ms calls.
    //   calls   a,b,c @0   d @10   e @20   f @30   g @40
    it('lets a burst through at once, then one call per 1000 / perSecond ms, to the frame', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const { fn, started } = service(scheduler, metrics, () => 1);
        const waiting = readAt(scheduler, [1, 9, 11, 39, 41], () => metrics.waitingForCall);

        // Act
        const output = timeline(scheduler, cold<El>('(abcdefg|)', IN).pipe(
          asyncWaitUnordered(fn, { capacity: 10, rateLimit: { perSecond: 100, burst: 3 }, metrics }),
        ));
        flush();

        // Assert
        expect(started.map((s) => s.at)).toEqual([0, 0, 0, 10, 20, 30, 40]);
        expect(Object.fromEntries(waiting)).toEqual({ 1: 4, 9: 4, 11: 3, 39: 1, 41: 0 });
        expect(output).toEqual(['1:10', '1:20', '1:30', '11:40', '21:50', '31:60', '41:70', '41:|']);
        expect(metrics.concurrencyLimit).toBeNull(); // a rate limit alone has no adaptive limit
      });
    });

    // perSecond 30: a token every 33.3 ms. After the burst of 2, the k-th call waits for the k-th token, due at
    // k · 1000 / 30 ms: it starts at the first whole ms after that, never before.
    it('spaces calls at a fractional period, exactly: the k-th after the burst at k · 1000 / perSecond (virtual time has fractions)', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const { fn, started } = service(scheduler, metrics, () => 1);

        // Act
        timeline(scheduler, cold<El>('(abcdefg|)', IN).pipe(
          asyncWaitUnordered(fn, { capacity: 10, rateLimit: { perSecond: 30, burst: 2 }, metrics }),
        ));
        flush();

        // Assert
        const exact = [0, 0, ...[1, 2, 3, 4, 5].map((k) => (k * 1000) / 30)];
        started.forEach((s, i) => expect(s.at).toBeCloseTo(exact[i]!, 6));
        expect(started).toHaveLength(exact.length);
      });
    });

    // perSecond 300, burst 1: a token every 3.33 ms, so 300 calls a second. The k-th call after the first is due at
    // k · 1000 / 300 ms; the 30th at 100 ms.
    it('sustains perSecond with a burst of 1 at a fractional period: the k-th call after the first at k · 1000 / perSecond, none lost to rounding', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const { fn, started } = service(scheduler, metrics, () => 1);
        const input = cold<El>(`(${'a'.repeat(31)}|)`, { a: record(1) });

        // Act
        timeline(scheduler, input.pipe(asyncWaitUnordered(fn, { capacity: 40, rateLimit: { perSecond: 300, burst: 1 }, metrics })));
        flush();

        // Assert
        const exact = Array.from({ length: 31 }, (_, k) => (k * 1000) / 300);
        started.forEach((s, i) => expect(s.at).toBeCloseTo(exact[i]!, 6));
        expect(started).toHaveLength(exact.length);
      });
    });

    // perSecond 100, burst 1: a fails at 1 and retries at once; its retry needs a token too, and b asked first.
    //   calls   a#1 @0 (fails @1)   b @10   a#2 @20
    it('takes a token for every call of asyncWait, retries included', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const { fn, started } = service(scheduler, metrics, () => 1, (x, attempt) => (x === 1 && attempt === 1 ? new Error('boom') : undefined));

        // Act
        const output = timeline(scheduler, cold<El>('(ab|)', IN).pipe(
          asyncWaitUnordered(fn, { capacity: 10, rateLimit: { perSecond: 100, burst: 1 }, retry: { maxRetries: 1, delay: 0 }, metrics }),
        ));
        flush();

        // Assert
        // a fails at 1; its retry waits for the next token (10) and takes it before b, which waited since 0.
        expect(at(started)).toEqual(['1#1@0', '1#2@10', '2#1@20']);
        expect(output).toEqual(['11:10', '21:20', '21:|']);
      });
    });

    // maxBatchSize 5, perSecond 10 (a token per 100 ms), burst 5; twelve records at 0. A batch takes a token per
    // record: [1-5] @0 empties the bucket, [6-10] waits 500 ms for its 5 tokens, [11, 12] 200 ms more for its 2.
    it('takes a token per record for asyncBatch: a batch of 5 takes 5 tokens, a batch of 2 takes 2', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const calls: { values: number[]; at: number }[] = [];
        const batchFn = (values: number[], _ctx: BatchCallContext) => {
          calls.push({ values, at: scheduler.now() });
          return timer(1).pipe(map(() => values.map((x) => 10 * x)));
        };
        const input = cold<El>('(abcdefghijkl|)', Object.fromEntries('abcdefghijkl'.split('').map((k, i) => [k, record(i + 1)])));

        // Act
        const output = timeline(scheduler, input.pipe(
          asyncBatchUnordered(batchFn, { maxBatchSize: 5, linger: 0, capacity: 20, rateLimit: { perSecond: 10, burst: 5 } }),
        ));
        flush();

        // Assert
        expect(calls).toEqual([
          { values: [1, 2, 3, 4, 5], at: 0 },
          { values: [6, 7, 8, 9, 10], at: 500 },
          { values: [11, 12], at: 700 },
        ]);
        expect(output.at(-1)).toBe('701:|');
      });
    });

    // perSecond 10 (a token per 100 ms), burst 1, timeout 50: b waits for a token that comes at 100, but its
    // budget ends at 50. Its fallback answers; the token it never took goes to c at 100.
    it('times out a record waiting for a token: onTimeout gives its result, and the token goes to the next record', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const { fn, started } = service(scheduler, metrics, () => 1);
        const onTimeout = (x: number) => [-x];

        // Act
        const output = timeline(scheduler, cold<El>('(ab) 96ms c|', IN).pipe(
          asyncWaitUnordered(fn, { capacity: 10, timeout: 50, onTimeout, rateLimit: { perSecond: 10, burst: 1 }, metrics }),
        ));
        flush();

        // Assert
        expect(at(started)).toEqual(['1#1@0', '3#1@100']);
        expect(output).toEqual(['1:10', '50:-2', '101:30', '101:|']);
        expect(metrics.snapshot()).toMatchObject({ timedOut: 1, waitingForCall: 0 });
      });
    });
  });

  describe('the retry budget', () => {
    const boom = new Error('boom');
    const budget = { ratio: 0, minPerSecond: 0 };

    it('with ratio 0 and minPerSecond 0, retries nothing: the record goes to onError, counted and reported', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const warnings: AsyncWarning[] = [];
        const { fn, started } = service(scheduler, metrics, () => 5, (x) => (x === 1 ? boom : undefined));
        const onError = (_error: unknown, x: number) => [-x];

        // Act
        const output = cold<El>('(ab|)', IN).pipe(asyncWaitOrdered(fn, {
          retry: { maxRetries: 3, delay: 1, budget }, onError, metrics, onWarning: (w) => warnings.push(w),
        }));

        // Assert
        expectObservable(output).toBe('5ms (ab|)', { a: record(-1), b: record(20) });
        scheduler.flush();
        expect(at(started)).toEqual(['1#1@0', '2#1@0']);
        expect(metrics.snapshot()).toMatchObject({ retriesDenied: 1, retried: 0, failed: 1, succeeded: 1 });
        expect(warnings).toEqual([expect.objectContaining({ kind: 'retry-denied', input: 1, error: boom, age: undefined })]);
        expect(warnings[0]!.message).toMatch(/retry budget/);
      });
    });

    it('without onError, a refused retry fails the output with AsyncCallError carrying the input and the cause', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const { fn } = service(scheduler, metrics, () => 5, () => boom);

        // Act
        const output = cold<El>('a|', IN).pipe(asyncWaitUnordered(fn, { retry: { maxRetries: 3, delay: 1, budget }, metrics }));

        // Assert
        expectObservable(output).toBe('5ms #', undefined, expect.objectContaining({ name: 'AsyncCallError', input: 1, cause: boom, attempts: 1 }));
        scheduler.flush();
        expect(metrics.retriesDenied).toBe(1);
      });
    });

    it('under retryOnResult, a refused retry keeps the result it has, reported with error undefined', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: every result is "rejected" (a cache miss, say), but the budget allows no retry.
        const metrics = asyncWaitMetrics();
        const warnings: AsyncWarning[] = [];
        const { fn, started } = service(scheduler, metrics, () => 5);

        // Act
        const output = cold<El>('a|', IN).pipe(asyncWaitUnordered(fn, {
          retry: { maxRetries: 3, delay: 1, retryOnResult: () => true, budget }, metrics, onWarning: (w) => warnings.push(w),
        }));

        // Assert
        expectObservable(output).toBe('5ms (a|)', { a: record(10) });
        scheduler.flush();
        expect(started).toHaveLength(1);
        expect(metrics.snapshot()).toMatchObject({ retriesDenied: 1, succeeded: 1, failed: 0 });
        expect(warnings).toEqual([expect.objectContaining({ kind: 'retry-denied', input: 1, error: undefined })]);
      });
    });

    // ratio 0.5, no floor: the two first attempts allow one retry. a's retry (asked first) is made; b's is refused.
    it('allows ratio × first attempts retries, and refuses the next one', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const warnings: AsyncWarning[] = [];
        const latency: Record<number, number> = { 1: 5, 2: 6 };
        const { fn, started } = service(scheduler, metrics, (x) => latency[x]!, (_x, attempt) => (attempt === 1 ? boom : undefined));

        // Act
        const output = timeline(scheduler, cold<El>('(ab|)', IN).pipe(asyncWaitUnordered(fn, {
          retry: { maxRetries: 3, delay: 0, budget: { ratio: 0.5, minPerSecond: 0 } }, onError: () => [0], metrics,
          onWarning: (w) => warnings.push(w),
        })));
        flush();

        // Assert
        expect(at(started)).toEqual(['1#1@0', '2#1@0', '1#2@5']);
        expect(output).toEqual(['6:0', '10:10', '10:|']);
        expect(metrics.snapshot()).toMatchObject({ retried: 1, retriesDenied: 1, failed: 1 });
        expect(warnings.map((w) => [w.kind, w.input])).toEqual([['retry-denied', 2]]);
      });
    });

    it('refuses a retry before its delay: a refused record never waits out its backoff', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const { fn } = service(scheduler, metrics, () => 5, () => boom);

        // Act
        const output = cold<El>('a|', IN).pipe(asyncWaitUnordered(fn, {
          retry: { maxRetries: 3, delay: 100, budget }, onError: () => [0], metrics,
        }));

        // Assert: the fallback at 5, not after a 100 ms delay.
        expectObservable(output).toBe('5ms (a|)', { a: record(0) });
      });
    });
  });

  describe('stall warnings', () => {
    it('reports a never-settling call without a timeout once, exactly stallWarning ms after admission, with its input', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable, flush }) => {
        // Arrange: a@10 never settles, b@30 answers at 60 (before its 50 ms), c@40 never settles.
        const metrics = asyncWaitMetrics();
        const warnings: { at: number; warning: AsyncWarning }[] = [];
        const fn = (x: number) => (x === 2 ? timer(30).pipe(map(() => 20)) : NEVER);

        // Act
        const output = cold<El>('10ms a 19ms b 9ms c', IN).pipe(asyncWaitUnordered(fn, {
          stallWarning: 50, metrics, onWarning: (warning) => warnings.push({ at: scheduler.now(), warning }),
        }));

        // Assert: kept subscribed until 1000, long past both reports.
        expectObservable(output, '^ 1000ms !').toBe('60ms b', { b: record(20) });
        flush();
        expect(warnings.map((w) => [w.at, w.warning.kind, w.warning.input, w.warning.age])).toEqual([[60, 'stall', 1, 50], [90, 'stall', 3, 50]]);
        expect(warnings[0]!.warning.message).toMatch(/no timeout/);
        expect(metrics.stalls).toBe(2);
      });
    });

    // limit 1, stallWarning 50, no timeout: a@0 never settles (reported at 50). b@100 waits for the gate behind
    // it, for ever: its call is pending too (waits for a call slot count), so it is reported at 150.
    it('reports a record waiting for the gate for ever, though no call starts after it is admitted', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable, flush }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const warnings: { at: number; input: unknown; age: number | undefined }[] = [];

        // Act
        const output = cold<El>('a 99ms b', IN).pipe(asyncWaitUnordered(() => NEVER, {
          stallWarning: 50, concurrency: fixedLimit(1), metrics,
          onWarning: (w) => warnings.push({ at: scheduler.now(), input: w.input, age: w.age }),
        }));

        // Assert
        expectObservable(output, '^ 1000ms !').toBe('');
        flush();
        expect(warnings).toEqual([{ at: 50, input: 1, age: 50 }, { at: 150, input: 2, age: 50 }]);
        expect(metrics.waitingForCall).toBe(0); // the gauge is given back on unsubscribe
      });
    });

    // perSecond 1, burst 1, stallWarning 100, no timeout: a@0 takes the token and answers at 10; b@200 waits for the
    // next token, due at 1000. Its call has been pending 100 ms at 300: it is reported then, not when its call starts.
    it('reports a record waiting for a token on time, not when its call finally starts', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const warnings: { at: number; input: unknown; age: number | undefined }[] = [];

        // Act
        const output = timeline(scheduler, cold<El>('a 199ms b|', IN).pipe(asyncWaitUnordered((x) => timer(10).pipe(map(() => 10 * x)), {
          stallWarning: 100, rateLimit: { perSecond: 1, burst: 1 },
          onWarning: (w) => warnings.push({ at: scheduler.now(), input: w.input, age: w.age }),
        })));
        flush();

        // Assert
        expect(output).toEqual(['10:10', '1010:20', '1010:|']);
        expect(warnings).toEqual([{ at: 300, input: 2, age: 100 }]);
      });
    });

    it('ignores what onWarning throws: the stream goes on', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a takes 80 ms, past its stallWarning of 50.
        const onWarning = () => {
          throw new Error('a broken hook');
        };

        // Act
        const output = cold<El>('a|', IN).pipe(asyncWaitUnordered(() => timer(80).pipe(map(() => 10)), { stallWarning: 50, onWarning }));

        // Assert
        expectObservable(output).toBe('80ms (a|)', { a: record(10) });
      });
    });
  });

  describe('the adaptive limit in the metrics', () => {
    /** One-sample windows: every finished call updates the limit, so its path can be stated exactly. */
    const PER_CALL = { minTime: 0, maxTime: 0, minSamples: 1 };

    // aimd from 2, calls of 5 ms, four records at 0: a and b start at 0. At 5, a's sample (1 in flight at its start;
    // 1 · 2 >= 2) raises the limit to 3, and c and d start (2 and 3 in flight); b's sample (2) raises it to 4. At 10,
    // c's (2 · 2 >= 4) and d's (3 · 2 >= 5) raise it to 5, then 6.
    it('aimd: concurrencyLimit moves up by one per window while calls are fast and half the limit is in use', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const { fn, started } = service(scheduler, metrics, () => 5);
        const limits = readAt(scheduler, [0, 4, 6, 11], () => metrics.concurrencyLimit);

        // Act
        timeline(scheduler, cold<El>('(abcd|)', IN).pipe(asyncWaitUnordered(fn, {
          capacity: 10, concurrency: { adaptive: { limiter: 'aimd', initial: 2, window: PER_CALL } }, metrics,
        })));
        flush();

        // Assert
        expect(at(started)).toEqual(['1#1@0', '2#1@0', '3#1@5', '4#1@5']);
        expect(Object.fromEntries(limits)).toEqual({ 0: 2, 4: 2, 6: 4, 11: 6 });
        expect(metrics.snapshot()).toMatchObject({ minRtt: 5, sampleRtt: 5 });
      });
    });

    it('gradient: concurrencyLimit moves up under fast calls at a steady latency', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange: 20 records at 0, calls of 5 ms, limit from 4.
        const metrics = asyncWaitMetrics();
        const { fn, started } = service(scheduler, metrics, () => 5);
        const input = cold<El>(`(${'a'.repeat(20)}|)`, { a: record(1) });

        // Act
        timeline(scheduler, input.pipe(asyncWaitUnordered(fn, {
          capacity: 20, concurrency: { adaptive: { limiter: 'gradient', initial: 4, window: PER_CALL } }, metrics,
        })));
        flush();

        // Assert: more calls in flight at the end than the initial limit allowed, never more than the limit.
        expect(metrics.concurrencyLimit).toBeGreaterThan(4);
        expect(Math.max(...started.map((s) => s.running))).toBeGreaterThan(4);
        expect(started.every((s) => s.running <= s.limit!)).toBe(true);
        expect(metrics.snapshot()).toMatchObject({ minRtt: 5, sampleRtt: 5 });
      });
    });

    // initial 10, three calls that never answer, timeout 20: three drops, each a cut by 0.9 (floored).
    it.each([
      ['aimd', [9, 8, 7]],
      ['gradient', [9, 8, 7]],
    ] as const)('%s: concurrencyLimit moves down after each timeout', (limiter, after) => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const metrics = asyncWaitMetrics();
        const limits: (number | null)[] = [];
        const onTimeout = (x: number) => {
          limits.push(metrics.concurrencyLimit);
          return [-x];
        };

        // Act
        const output = timeline(scheduler, cold<El>('a 9ms b 9ms c|', IN).pipe(asyncWaitUnordered(() => NEVER, {
          capacity: 10, timeout: 20, onTimeout, concurrency: { adaptive: { limiter, initial: 10, window: PER_CALL } }, metrics,
        })));
        flush();

        // Assert
        expect(output).toEqual(['20:-1', '30:-2', '40:-3', '40:|']);
        expect(limits).toEqual(after);
      });
    });

    it.each(['aimd', 'gradient'] as const)('%s: an isOverload error cuts the limit; any other error gives no sample', (limiter) => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange: a fails with a plain error at 5, b with an overload error at 10.
        const metrics = asyncWaitMetrics();
        const overload = Object.assign(new Error('503'), { status: 503 });
        const fn = (x: number) => timer(5 * x).pipe(map(() => {
          throw x === 1 ? new Error('bug') : overload;
        }));
        const limits = readAt(scheduler, [4, 6, 11], () => metrics.concurrencyLimit);

        // Act
        timeline(scheduler, cold<El>('(ab|)', IN).pipe(asyncWaitUnordered(fn, {
          capacity: 10, onError: () => [], metrics,
          concurrency: { adaptive: { limiter, initial: 10, window: PER_CALL, isOverload: (e) => (e as { status?: number }).status === 503 } },
        })));
        flush();

        // Assert
        expect(Object.fromEntries(limits)).toEqual({ 4: 10, 6: 10, 11: 9 });
        expect(metrics.minRtt).toBeNull(); // neither error was a latency sample
      });
    });

    it('a throwing isOverload fails the output with what it threw', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const hookError = new Error('hook');
        const isOverload = () => {
          throw hookError;
        };

        // Act
        const output = cold<El>('a|', IN).pipe(asyncWaitUnordered(() => throwError(() => new Error('x')), {
          onError: () => [], concurrency: { adaptive: { isOverload } },
        }));

        // Assert
        expectObservable(output).toBe('#', undefined, hookError);
      });
    });
  });
});
