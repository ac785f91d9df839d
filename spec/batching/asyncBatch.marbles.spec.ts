import { TestScheduler } from 'rxjs/testing';
import { map, throwError, timer, type Observable } from 'rxjs';
import {
  AsyncBatchError, AsyncCallError, AsyncTimeoutError, asyncBatchMetrics, asyncBatchOrdered, asyncBatchUnordered, batchFailure,
  batchResults, record, watermark, type BatchCallContext, type StreamElement,
} from 'rxjs-sluice';

/**
 * asyncBatchOrdered / asyncBatchUnordered in virtual time. Every character of a diagram is 1 ms; `(...)` groups
 * what happens in one millisecond. Lower-case letters are records (a = 1, b = 2, …), `W` a watermark, `|`
 * completion, `#` an error. Unless a test says otherwise, the batch call answers `10 * x` for each value, 2 ms
 * after it starts, and every call is logged with its time.
 */

type El = StreamElement<number>;

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

const IN = { a: record(1), b: record(2), c: record(3), d: record(4), e: record(5), f: record(6), W: watermark(10) };
const OUT = { a: record(10), b: record(20), c: record(30), d: record(40), e: record(50), f: record(60), W: watermark(10) };

/** One batch call: its values and the virtual time it started. */
interface BatchCall {
  values: number[];
  at: number;
}

/** A batch function answering `10 * x` per value after `latency` ms (or per-call latencies), logging its calls. */
function timesTen(scheduler: TestScheduler, calls: BatchCall[], latency: number | ((call: number) => number) = 2) {
  return (values: number[], _ctx: BatchCallContext): Observable<number[]> => {
    calls.push({ values, at: scheduler.now() });
    const ms = typeof latency === 'number' ? latency : latency(calls.length);
    return timer(ms).pipe(map(() => values.map((x) => 10 * x)));
  };
}

/**
 * What an output does, as `time:what` lines: a record's value, `W<ts>` for a watermark, `|` for completion,
 * `#<ErrorName>` for an error. Read after flush(). Marble groups take one frame per character, so outputs that
 * are only a few ms apart are easier to state this way.
 */
function timeline(scheduler: TestScheduler, output: Observable<El>): string[] {
  const lines: string[] = [];
  output.subscribe({
    next: (e) => lines.push(`${scheduler.now()}:${e.kind === 'record' ? e.value : e.kind === 'watermark' ? `W${e.timestamp}` : e.kind}`),
    error: (err: Error) => lines.push(`${scheduler.now()}:#${err.name}`),
    complete: () => lines.push(`${scheduler.now()}:|`),
  });
  return lines;
}

describe('asyncBatchOrdered / asyncBatchUnordered in virtual time', () => {
  describe('flushes', () => {
    // maxBatchSize 3, linger 10: a, b, c fill a batch at 2 and go at once; d, e go at the end of input (5).
    //   input   abcde|
    //   calls   --x--y        [1,2,3] at 2, [4,5] at 5; outputs at 4 and 7
    it('by size: a full batch goes at once, without waiting for linger', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const calls: BatchCall[] = [];
        const metrics = asyncBatchMetrics();
        // Act
        const output = timeline(scheduler, cold<El>('abcde|', IN).pipe(asyncBatchOrdered(timesTen(scheduler, calls), { maxBatchSize: 3, linger: 10, metrics })));
        flush();
        // Assert
        expect(output).toEqual(['4:10', '4:20', '4:30', '7:40', '7:50', '7:|']);
        expect(calls).toEqual([{ values: [1, 2, 3], at: 2 }, { values: [4, 5], at: 5 }]);
        expect(metrics.flushes).toMatchObject({ size: 1, end: 1, linger: 0 });
      });
    });

    // linger 4: a arrives at 0, b at 2; the batch goes at 4 (4 ms after its first record), full or not.
    //   input   a-b-------c------|
    //   calls   ----x---------y       [1,2] at 4, [3] at 14
    it('by linger: a batch goes linger ms after its first record, and the next batch gets a timer of its own', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable, flush }) => {
        // Arrange
        const calls: BatchCall[] = [];
        const metrics = asyncBatchMetrics();
        // Act
        const output = cold<El>('a-b-------c------|', IN).pipe(asyncBatchOrdered(timesTen(scheduler, calls), { maxBatchSize: 10, linger: 4, metrics }));
        // Assert
        expectObservable(output).toBe('------(ab)------c|', OUT);
        flush();
        expect(calls).toEqual([{ values: [1, 2], at: 4 }, { values: [3], at: 14 }]);
        expect(metrics.flushes).toMatchObject({ linger: 2, size: 0, end: 0 });
      });
    });

    // A size flush cancels the linger timer (Flink's stale-timer bug: an old timer flushing the next batch early).
    //   input   ab-c-----|     maxBatchSize 2, linger 5: [a,b] by size at 1; c's batch opens at 3, goes at 8
    it('by size, without a stale linger timer flushing the next batch early', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const calls: BatchCall[] = [];
        // Act
        cold<El>('ab-c-----|', IN).pipe(asyncBatchOrdered(timesTen(scheduler, calls), { maxBatchSize: 2, linger: 5 })).subscribe();
        flush();
        // Assert
        expect(calls).toEqual([{ values: [1, 2], at: 1 }, { values: [3], at: 8 }]);
      });
    });

    // Weights are the values; limit 6: a(1)+b(2)+c(3) = 6 reaches it; d(4) + e(5) would be 9, so d goes alone.
    it('by weight: at the limit, and before a record that would take the batch over it', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const calls: BatchCall[] = [];
        const metrics = asyncBatchMetrics();
        // Act
        cold<El>('abcde|', IN).pipe(asyncBatchOrdered(timesTen(scheduler, calls), { maxBatchSize: 10, linger: 20, maxBatchWeight: 6, weigh: (x) => x, metrics })).subscribe();
        flush();
        // Assert
        expect(calls.map((c) => [c.values, c.at])).toEqual([[[1, 2, 3], 2], [[4], 4], [[5], 5]]);
        expect(metrics.flushes).toMatchObject({ weight: 2, end: 1 });
      });
    });

    it('a record heavier than maxBatchWeight by itself errors the output with AsyncBatchError naming it', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        let error: unknown;
        // Act
        cold<El>('ab|', IN).pipe(asyncBatchOrdered(timesTen(scheduler, []), { maxBatchWeight: 1.5, weigh: (x) => x })).subscribe({ error: (e: unknown) => (error = e) });
        flush();
        // Assert
        expect(error).toBeInstanceOf(AsyncBatchError);
        expect(error).toMatchObject({ kind: 'weight', input: 2, expected: 1.5, received: 2 });
        expect((error as Error).message).toMatch(/weighs 2, more than "maxBatchWeight" \(1\.5\)/);
      });
    });

    // linger 0: what arrives in one frame goes together, at the end of that frame (DataLoader's per-tick batch).
    it('linger 0 batches what arrives synchronously together', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const calls: BatchCall[] = [];
        // Act
        cold<El>('(abc)-(de)|', IN).pipe(asyncBatchOrdered(timesTen(scheduler, calls), { linger: 0 })).subscribe();
        flush();
        // Assert
        expect(calls).toEqual([{ values: [1, 2, 3], at: 0 }, { values: [4, 5], at: 6 }]);
      });
    });

    // End of input: the open batch goes at once, not after linger.
    it('the end of input sends the open batch at once', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange / Act
        const output = cold<El>('ab|', IN).pipe(asyncBatchOrdered(timesTen(scheduler, []), { linger: 100 }));
        // Assert
        expectObservable(output).toBe('----(ab|)', OUT);
      });
    });

    it('an empty input makes no call and completes at once', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable, flush }) => {
        // Arrange
        const calls: BatchCall[] = [];
        // Act
        const output = cold<El>('---|').pipe(asyncBatchOrdered(timesTen(scheduler, calls)));
        // Assert
        expectObservable(output).toBe('---|');
        flush();
        expect(calls).toEqual([]);
      });
    });
  });

  describe('maxInFlightBatches and capacity', () => {
    // maxBatchSize 2, one batch in flight, calls take 4 ms. [a,b] runs 1..5; [c,d] is full at 3 and waits for the
    // slot until 5; e, f keep filling the next batch meanwhile ([e,f] full at 5, runs 9..13).
    it('at most maxInFlightBatches calls run; full batches wait their turn in order', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const calls: BatchCall[] = [];
        const metrics = asyncBatchMetrics();
        let most = 0;
        const fn = timesTen(scheduler, calls, 4);
        // Act
        const output = timeline(scheduler, cold<El>('abcdef|', IN).pipe(asyncBatchOrdered((xs: number[], ctx: BatchCallContext) => {
          most = Math.max(most, metrics.batchesInFlight);
          return fn(xs, ctx);
        }, { maxBatchSize: 2, maxInFlightBatches: 1, linger: 50, metrics })));
        flush();
        // Assert
        expect(output).toEqual(['5:10', '5:20', '9:30', '9:40', '13:50', '13:60', '13:|']);
        expect(calls.map((c) => [c.values, c.at])).toEqual([[[1, 2], 1], [[3, 4], 5], [[5, 6], 9]]);
        expect(most).toBe(1);
      });
    });

    // A batch whose linger ran out while every slot was busy keeps taking records until a slot is free: the
    // saturated service gets a fuller batch, no later. maxInFlightBatches 1, calls 6 ms, linger 2.
    it('a due batch keeps filling while it waits for a slot, and goes the moment one is free', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const calls: BatchCall[] = [];
        // Act
        cold<El>('a---bcd----|', IN).pipe(asyncBatchOrdered(timesTen(scheduler, calls, 6), { maxBatchSize: 10, maxInFlightBatches: 1, linger: 2 })).subscribe();
        flush();
        // Assert: [a] by linger at 2, busy until 8; b's batch is due at 6 but waits, and has c, d by then
        expect(calls.map((c) => [c.values, c.at])).toEqual([[[1], 2], [[2, 3, 4], 8]]);
      });
    });

    // capacity 2, maxBatchSize 10: the batch can never fill; once it holds both slots it goes at once.
    it('when the open batch holds every capacity slot, it goes at once (it cannot grow, and nothing else can free a slot)', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const calls: BatchCall[] = [];
        const metrics = asyncBatchMetrics();
        // Act
        const output = timeline(scheduler, cold<El>('abc|', IN).pipe(asyncBatchOrdered(timesTen(scheduler, calls), { capacity: 2, maxBatchSize: 10, linger: 50, metrics })));
        flush();
        // Assert: [a,b] at 1 (capacity); c waits beyond capacity, is admitted at 3 as a leaves, and goes when the
        // input ends, at 3 too (b, still held for a moment, would free its slot: that alone is no reason to go)
        expect(output).toEqual(['3:10', '3:20', '5:30', '5:|']);
        expect(calls.map((c) => [c.values, c.at])).toEqual([[[1, 2], 1], [[3], 3]]);
        expect(metrics.flushes).toMatchObject({ capacity: 1, end: 1, linger: 0 });
        expect(metrics.largestBatch).toBe(2);
      });
    });
    // Ordered, capacity 4, maxBatchSize 4, linger 5, calls of 6 ms: [a,b,c,d] goes by size at 3 and answers at 9;
    // e and f wait beyond capacity until then. Admitted together at 9, they wait for linger in the open batch:
    // capacity only sends a batch early when the batch itself holds every slot.
    it('an open batch that does not hold every slot waits for linger, not for a capacity flush of one record', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const calls: BatchCall[] = [];
        const metrics = asyncBatchMetrics();
        // Act
        cold<El>('abcdef----------|', IN).pipe(asyncBatchOrdered(timesTen(scheduler, calls, 6), { capacity: 4, maxBatchSize: 4, linger: 5, metrics })).subscribe();
        flush();
        // Assert: e and f are admitted at 9, when a..d leave, and go together by linger at 14
        expect(calls.map((c) => [c.values, c.at])).toEqual([[[1, 2, 3, 4], 3], [[5, 6], 14]]);
        expect(metrics.flushes).toMatchObject({ size: 1, linger: 1, capacity: 0 });
      });
    });
  });

  describe('order and watermarks', () => {
    // maxBatchSize 2; [a,b] takes 6 ms, [c,d] 1 ms. Ordered waits for a and b; unordered lets c, d out first.
    it('ordered emits in input order; unordered in completion order', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const latency = (call: number): number => (call % 2 === 1 ? 6 : 1);
        const input = cold<El>('abcd|', IN);
        // Act
        const ordered = timeline(scheduler, input.pipe(asyncBatchOrdered(timesTen(scheduler, [], latency), { maxBatchSize: 2 })));
        const unordered = timeline(scheduler, input.pipe(asyncBatchUnordered(timesTen(scheduler, [], latency), { maxBatchSize: 2 })));
        flush();
        // Assert: [a,b] runs 1..7, [c,d] 3..4
        expect(ordered).toEqual(['7:10', '7:20', '7:30', '7:40', '7:|']);
        expect(unordered).toEqual(['4:30', '4:40', '7:10', '7:20', '7:|']);
      });
    });

    // A batch spans a watermark: [a, b, c] is one call although W came between b and c. Unordered: d's batch
    // completes first but waits behind W, which waits behind a and b.
    it('a batch spans a watermark; results never cross it, in either mode', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const calls: BatchCall[] = [];
        const latency = (call: number): number => (call === 1 ? 6 : 1);
        const input = cold<El>('abWcd|', IN);
        // Act
        const ordered = timeline(scheduler, input.pipe(asyncBatchOrdered(timesTen(scheduler, calls, latency), { maxBatchSize: 3 })));
        const unordered = timeline(scheduler, input.pipe(asyncBatchUnordered(timesTen(scheduler, [], latency), { maxBatchSize: 3 })));
        flush();
        // Assert: [a,b,c] runs 3..9, [d] 5..6; unordered, d (done first) still waits behind W, and W behind a and b
        expect(ordered).toEqual(['9:10', '9:20', '9:W10', '9:30', '9:40', '9:|']);
        expect(unordered).toEqual(['9:10', '9:20', '9:W10', '9:40', '9:30', '9:|']);
        expect(calls.map((c) => c.values)).toEqual([[1, 2, 3], [4]]);
      });
    });
  });

  describe('failures, retries and timeouts', () => {
    // [a,b,c]: b's entry is an Error on the first call. Only b is retried (after 3 ms), in a batch of its own.
    it('a partial failure retries only the failed records, in a later batch', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const calls: Array<[number[], number[]]> = [];
        const fn = (xs: number[], ctx: BatchCallContext) => {
          calls.push([xs, [...ctx.attempts]]);
          return timer(1).pipe(map(() => xs.map((x, i) => (x === 2 && ctx.attempts[i] === 1 ? new Error('b is busy') : 10 * x))));
        };
        const metrics = asyncBatchMetrics();
        // Act
        const output = timeline(scheduler, cold<El>('abc|', IN).pipe(asyncBatchOrdered(fn, { retry: { maxRetries: 2, delay: 3 }, metrics })));
        flush();
        // Assert: the batch goes at 3 (end of input), answers at 4: a goes out, b is retried at 7, c waits for it in order
        expect(output).toEqual(['4:10', '8:20', '8:30', '8:|']);
        expect(calls).toEqual([[[1, 2, 3], [1, 1, 1]], [[2], [2]]]);
        expect(metrics.snapshot()).toMatchObject({ retried: 1, batchesStarted: 2, batchesSucceeded: 2, batchesFailed: 0, failed: 0 });
      });
    });

    it('a whole-batch failure fails every record in it; each is retried, and errors with AsyncCallError when retries run out', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const calls: number[][] = [];
        const metrics = asyncBatchMetrics();
        const fn = (xs: number[]) => {
          calls.push(xs);
          return throwError(() => new Error('service down'));
        };
        // Act
        let error: unknown;
        cold<El>('ab|', IN).pipe(asyncBatchOrdered(fn, { retry: { maxRetries: 1, delay: 2 }, metrics })).subscribe({ error: (e: unknown) => (error = e) });
        flush();
        // Assert: both fail at 2 (end of input), are retried together at 4, and fail for good
        expect(error).toBeInstanceOf(AsyncCallError);
        expect(error).toMatchObject({ input: 1, attempts: 2, cause: new Error('service down') });
        expect(calls).toEqual([[1, 2], [1, 2]]);
        expect(metrics.snapshot()).toMatchObject({ batchesFailed: 2, retried: 2 });
      });
    });

    it('a record that fails for good goes to onError alone; batchFailure() and batchResults() shape one entry', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a has two results, b none, c fails (non-Error value), d one
        const fn = (xs: number[]) => timer(1).pipe(map(() => xs.map((x) =>
          x === 1 ? batchResults([10, 11]) : x === 2 ? batchResults<number>([]) : x === 3 ? batchFailure('no c') : 10 * x)));
        // Act
        const output = cold<El>('abcd|', IN).pipe(asyncBatchOrdered(fn, { onError: (e, x) => [x === 3 && e === 'no c' ? -3 : 0] }));
        // Assert
        expectObservable(output).toBe('-----(aAzd|)', { a: record(10), A: record(11), z: record(-3), d: record(40) });
      });
    });

    // timeout 10, retry 3 ms after each failure; c fails on every call. Its calls, 1 ms each, start at 3 (end of
    // input), 7 and 11; its budget, from its admission at 2, runs out at 12, when no retry fits: onTimeout.
    it('a timeout is one record\'s total budget across every batch it was in', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const calls: Array<[number[], number]> = [];
        const fn = (xs: number[]) => {
          calls.push([xs, scheduler.now()]);
          return timer(1).pipe(map(() => xs.map((x) => (x === 3 ? new Error('c fails') : 10 * x))));
        };
        // Act
        const output = timeline(scheduler, cold<El>('abc|', IN).pipe(asyncBatchUnordered(fn, {
          timeout: 10, retry: { maxRetries: 10, delay: 3 }, onTimeout: (x) => [-x],
        })));
        flush();
        // Assert
        expect(output).toEqual(['4:10', '4:20', '12:-3', '12:|']);
        expect(calls).toEqual([[[1, 2, 3], 3], [[3], 7], [[3], 11]]);
      });
    });

    it('a result of the wrong length errors with AsyncBatchError naming both lengths; nothing is padded or truncated', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const fn = (xs: number[]) => timer(1).pipe(map(() => xs.slice(1).map((x) => 10 * x)));
        let error: unknown;
        // Act
        const output = timeline(scheduler, cold<El>('abc|', IN).pipe(asyncBatchOrdered(fn)));
        cold<El>('abc|', IN).pipe(asyncBatchOrdered(fn)).subscribe({ error: (e: unknown) => (error = e) });
        flush();
        // Assert
        expect(output).toEqual(['4:#AsyncBatchError']);
        expect(error).toMatchObject({ kind: 'result-length', input: [1, 2, 3], cause: [20, 30], expected: 3, received: 2 });
        expect((error as Error).message).toMatch(/returned 2 entries for 3 values/);
      });
    });
  });

  describe('unsubscribe', () => {
    it('mid-linger: the timer is cancelled and no call ever starts', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable, flush }) => {
        // Arrange
        const calls: BatchCall[] = [];
        // Act
        const output = cold<El>('ab-------|', IN).pipe(asyncBatchOrdered(timesTen(scheduler, calls), { linger: 5 }));
        // Assert
        expectObservable(output, '---!').toBe('---');
        flush();
        expect(calls).toEqual([]);
      });
    });

    it('mid-call: every batch signal is aborted, and nothing starts afterwards', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable, flush }) => {
        // Arrange
        const signals: AbortSignal[] = [];
        const calls: BatchCall[] = [];
        const fn = timesTen(scheduler, calls, 10);
        // Act
        const output = cold<El>('ab-cd--e|', IN).pipe(asyncBatchOrdered((xs: number[], ctx: BatchCallContext) => {
          signals.push(ctx.signal);
          return fn(xs, ctx);
        }, { maxBatchSize: 2, maxInFlightBatches: 2 }));
        // Assert
        expectObservable(output, '-----!').toBe('-----');
        flush();
        expect(calls.map((c) => c.values)).toEqual([[1, 2], [3, 4]]);
        expect(signals.map((s) => s.aborted)).toEqual([true, true]);
      });
    });
  });

  it('timeout without fallback errors with AsyncTimeoutError for the record', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange / Act
      const output = cold<El>('a|', IN).pipe(asyncBatchOrdered(timesTen(scheduler, [], 50), { timeout: 5 }));
      // Assert: admitted at 0, budget out at 5
      expectObservable(output).toBe('-----#', OUT, new AsyncTimeoutError('asyncBatchOrdered', 1, 5, 1));
    });
  });
});
