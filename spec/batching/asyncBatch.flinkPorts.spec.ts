import { type TestScheduler } from 'rxjs/testing';
import { NEVER, Subject, firstValueFrom, from, map, throwError, timer, type Observable } from 'rxjs';
import {
  AsyncBatchError, AsyncCallError, AsyncTimeoutError, MemoryCheckpointStore, arraySource, asyncBatchMetrics,
  asyncBatchOrdered, asyncBatchUnordered, batchResults, checkpointable, record, toRecords,
  type BatchCallContext, type StreamElement,
} from 'rxjs-sluice';
import { type CheckpointBody } from '../support/checkpoints';
import { CountingScheduler } from '../support/countingScheduler';
import { newScheduler } from '../support/marbles';

/**
 * Ports of the batching tests of Apache Flink (FLINK-38825's AsyncBatchWaitOperatorTest,
 * OrderedAsyncBatchWaitOperatorTest and AsyncBatchRetryAndTimeoutTest; the connector base's AsyncSinkWriterTest)
 * and of DataLoader's batch-function contract tests, as listed in /work/shared/reference/batching-limits-keyed.md,
 * "Test scenarios worth porting (batching)". Each test is named after the one it ports; a comment says what it
 * ports and where sluice deliberately differs. Flink's test harness clock (processing-time service) becomes
 * virtual time: TestScheduler.run, one frame is 1 ms. Flink's `batchTimeout` is sluice's `linger`; Flink's
 * record-less output collection (`complete(Collection)` per batch) becomes one entry per record.
 *
 * Unless a test says otherwise, the batch function answers `10 * x` for each value, 2 ms after it starts, and
 * logs each call with its virtual start time.
 */

type El = StreamElement<number>;

/** Records a..t = 1..20, without timestamps. */
const IN: Record<string, El> = Object.fromEntries([...'abcdefghijklmnopqrst'].map((c, i) => [c, record(i + 1)]));

/** One batch call: its values, its ctx.attempt and the virtual time it started. */
interface BatchCall {
  values: number[];
  attempt: number;
  at: number;
}

/** A batch function answering `10 * x` per value after `latency(call number)` ms, logging its calls. */
function timesTen(scheduler: TestScheduler, calls: BatchCall[], latency: number | ((call: number) => number) = 2) {
  return (values: number[], ctx: BatchCallContext): Observable<number[]> => {
    calls.push({ values, attempt: ctx.attempt, at: scheduler.now() });
    const ms = typeof latency === 'number' ? latency : latency(calls.length);
    return timer(ms).pipe(map(() => values.map((x) => 10 * x)));
  };
}

/** The calls as `[values, start time]` pairs. */
const callsAt = (calls: BatchCall[]) => calls.map((c) => [c.values, c.at]);

/** What an output does, as `time:what` lines (`|` completion, `#Name` an error); read after flush(). */
function timeline(scheduler: TestScheduler, output: Observable<El>, errors: unknown[] = []): string[] {
  const lines: string[] = [];
  output.subscribe({
    next: (e) => lines.push(`${scheduler.now()}:${e.kind === 'record' ? e.value : e.kind}`),
    error: (err: Error) => {
      errors.push(err);
      lines.push(`${scheduler.now()}:#${err.name}`);
    },
    complete: () => lines.push(`${scheduler.now()}:|`),
  });
  return lines;
}

const OPERATORS = [
  ['asyncBatchOrdered', asyncBatchOrdered],
  ['asyncBatchUnordered', asyncBatchUnordered],
] as const;

describe('AsyncBatchWaitOperatorTest (FLINK-38825, ported)', () => {
  // Flink: 5 records, batch size 3: one call of [1,2,3] when the third arrives, one of [4,5] at end of input.
  it('testBatchSizeTrigger', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    const metrics = asyncBatchMetrics();
    scheduler.run(({ cold, flush }) => {
      // Arrange: linger 100, so only the size and the end of input flush
      const input = cold<El>('(abcde) 10ms |', IN);
      // Act
      const output = timeline(scheduler, input.pipe(asyncBatchUnordered(timesTen(scheduler, calls), { maxBatchSize: 3, linger: 100, metrics })));
      flush();
      // Assert: the input ends at 17
      expect(output).toEqual(['2:10', '2:20', '2:30', '19:40', '19:50', '19:|']);
    });
    expect(callsAt(calls)).toEqual([[[1, 2, 3], 0], [[4, 5], 17]]);
    expect(metrics.flushes).toEqual({ size: 1, weight: 0, linger: 0, capacity: 0, end: 1 });
  });

  // Flink: every result is emitted, in any order. Here the three calls finish in the order 2, 3, 1.
  it('testCorrectResultEmission', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    const metrics = asyncBatchMetrics();
    scheduler.run(({ cold, flush }) => {
      // Arrange
      const latencies = [9, 1, 4];
      // Act
      const output = timeline(scheduler, cold<El>('(abcdef|)', IN).pipe(asyncBatchUnordered(timesTen(scheduler, calls, (n) => latencies[n - 1]!), { maxBatchSize: 2, metrics })));
      flush();
      // Assert
      expect(output).toEqual(['1:30', '1:40', '4:50', '4:60', '9:10', '9:20', '9:|']);
    });
    expect(calls.map((c) => c.values)).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(metrics.snapshot()).toMatchObject({ emitted: 6, batchesSucceeded: 3, succeeded: 6 });
  });

  // Flink: the user exception becomes the cause of the job failure (failExternally). Difference: sluice errors the
  // output with AsyncCallError for the batch's first record (each record of a failed call fails), cause the
  // user's error; retries and onError would apply first (see the retry ports below).
  describe.each(OPERATORS)('%s', (_name, operator) => {
    it('testExceptionPropagation', () => {
      const scheduler = newScheduler();
      const userError = new Error('user function failed');
      const errors: unknown[] = [];
      scheduler.run(({ cold, flush }) => {
        // Arrange
        const fn = () => timer(3).pipe(map((): number[] => {
          throw userError;
        }));
        // Act
        const output = timeline(scheduler, cold<El>('ab|', IN).pipe(operator(fn)), errors);
        flush();
        // Assert: the batch goes at 2 (end of input) and fails at 5
        expect(output).toEqual(['5:#AsyncCallError']);
      });
      expect(errors[0]).toBeInstanceOf(AsyncCallError);
      expect(errors[0]).toMatchObject({ input: 1, cause: userError, attempts: 1 });
    });

    // Flink (both operators' testEmptyInput): no input, no call, no output.
    it('testEmptyInput', () => {
      const scheduler = newScheduler();
      const calls: BatchCall[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange + Act
        const output = cold<El>('-----|').pipe(operator(timesTen(scheduler, calls)));
        // Assert
        expectObservable(output).toBe('-----|');
      });
      expect(calls).toEqual([]);
    });
  });

  // Flink: the result futures are completed from another thread, one per batch, 2 calls. Here each call returns a
  // Subject that the test completes later (call 2 before call 1), from outside the batch function.
  it('testAsyncCompletion', () => {
    const scheduler = newScheduler();
    const answers: Array<Subject<number[]>> = [];
    const calls: number[][] = [];
    scheduler.run(({ cold, flush }) => {
      // Arrange
      const fn = (xs: number[]) => {
        calls.push(xs);
        const answer = new Subject<number[]>();
        answers.push(answer);
        return answer;
      };
      const complete = (call: number, at: number) => scheduler.schedule(() => {
        answers[call]!.next(calls[call]!.map((x) => 10 * x));
        answers[call]!.complete();
      }, at);
      // Act
      const output = timeline(scheduler, cold<El>('(abcd)|', IN).pipe(asyncBatchUnordered(fn, { maxBatchSize: 2 })));
      complete(1, 5);
      complete(0, 8);
      flush();
      // Assert
      expect(output).toEqual(['5:30', '5:40', '8:10', '8:20', '8:|']);
    });
    expect(calls).toEqual([[1, 2], [3, 4]]);
  });

  // Flink: the function completes each batch with one sum, whatever its size: [6, 9] for 1..5 in batches of 3.
  // Difference: results belong to records, so the sum is the batch's first record's results (batchResults([sum]))
  // and the other records have none (batchResults([])).
  it('testVariableOutputSize', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange
      const sumPerBatch = (xs: number[]) => timer(1).pipe(map(() => xs.map((_x, i) => batchResults(i === 0 ? [xs.reduce((s, x) => s + x, 0)] : []))));
      // Act
      const output = cold<El>('(abcde|)', IN).pipe(asyncBatchUnordered(sumPerBatch, { maxBatchSize: 3 }));
      // Assert
      expectObservable(output).toBe('-(xy|)', { x: record(6), y: record(9) });
    });
  });

  // Flink: batch size 1 gives batches [1, 1, 1]: one call per record, with no waiting.
  it('testSingleElementBatch', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange + Act
      const output = cold<El>('abc 10ms |', IN).pipe(asyncBatchOrdered(timesTen(scheduler, calls), { maxBatchSize: 1, linger: 100 }));
      // Assert
      expectObservable(output).toBe('--abc 8ms |', { a: record(10), b: record(20), c: record(30) });
    });
    expect(callsAt(calls)).toEqual([[[1], 0], [[2], 1], [[3], 2]]);
  });

  // Flink: size 10, batch timeout 50, one record; nothing until the clock passes 50 (the test advances it to 51),
  // then one batch of 1. sluice flushes at exactly 50 ms of scheduler time.
  it('testTimeoutFlush', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    const before: number[] = [];
    scheduler.run(({ cold, flush }) => {
      // Arrange
      const input = cold<El>('a 199ms |', IN);
      // Act
      input.pipe(asyncBatchOrdered(timesTen(scheduler, calls), { maxBatchSize: 10, linger: 50 })).subscribe();
      scheduler.schedule(() => before.push(calls.length), 49);
      flush();
    });
    // Assert
    expect(before).toEqual([0]);
    expect(callsAt(calls)).toEqual([[[1], 50]]);
  });

  // Flink: a batch that fills by size goes at once, and no timer flush follows. Flink's size flush leaves its timer
  // armed, and a review of the time trigger found it flushing the next batch early (element at 0, size flush at 10,
  // element at 20: flushed by the stale timer at 100). sluice cancels the timer when its batch leaves: the next
  // batch goes 100 ms after its own first record, at 120.
  it('testSizeBeatsTimeout', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    const metrics = asyncBatchMetrics();
    scheduler.run(({ cold, flush }) => {
      // Arrange: size 3, linger 100; a at 0, b and c at 10, d at 20
      const input = cold<El>('a 9ms (bc) 6ms d 279ms |', IN);
      // Act
      input.pipe(asyncBatchOrdered(timesTen(scheduler, calls), { maxBatchSize: 3, linger: 100, metrics })).subscribe();
      flush();
    });
    // Assert
    expect(callsAt(calls)).toEqual([[[1, 2, 3], 10], [[4], 120]]);
    expect(metrics.flushes).toMatchObject({ size: 1, linger: 1, end: 0 });
  });

  // Flink: after a timer flush, the next record arms a new timer at its own arrival + timeout (200 + 100).
  it('testTimerResetAfterFlush', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    scheduler.run(({ cold, flush }) => {
      // Arrange: linger 100; a at 0, b at 200
      const input = cold<El>('a 199ms b 199ms |', IN);
      // Act
      input.pipe(asyncBatchOrdered(timesTen(scheduler, calls), { maxBatchSize: 10, linger: 100 })).subscribe();
      flush();
    });
    // Assert
    expect(callsAt(calls)).toEqual([[[1], 100], [[2], 300]]);
  });

  // Flink: batches [3, 1, 3] from a size flush, a timer flush and a size flush.
  it('testMixedSizeAndTimeoutTriggers', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    const metrics = asyncBatchMetrics();
    scheduler.run(({ cold, flush }) => {
      // Arrange: size 3, linger 50; a, b, c at 0, d at 10, e, f, g at 100
      const input = cold<El>('(abc) 5ms d 89ms (efg) 95ms |', IN);
      // Act
      input.pipe(asyncBatchOrdered(timesTen(scheduler, calls), { maxBatchSize: 3, linger: 50, metrics })).subscribe();
      flush();
    });
    // Assert
    expect(callsAt(calls)).toEqual([[[1, 2, 3], 0], [[4], 60], [[5, 6, 7], 100]]);
    expect(calls.map((c) => c.values.length)).toEqual([3, 1, 3]);
    expect(metrics.flushes).toMatchObject({ size: 2, linger: 1, end: 0 });
  });
});

describe('OrderedAsyncBatchWaitOperatorTest (FLINK-38825, ported)', () => {
  // Flink: two batches, the second completes first; the output is still [1, 2, 3, 4]. The unordered operator, on
  // the same calls, lets the second batch out first: that is what the ordering changes.
  it('testStrictOrderingGuarantee', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, flush }) => {
      // Arrange: identity results; batch 1 takes 10 ms, batch 2 1 ms
      const fn = (xs: number[]) => timer(xs[0] === 1 ? 10 : 1).pipe(map(() => xs));
      const input = cold<El>('(abcd|)', IN);
      // Act
      const ordered = timeline(scheduler, input.pipe(asyncBatchOrdered(fn, { maxBatchSize: 2 })));
      const unordered = timeline(scheduler, input.pipe(asyncBatchUnordered(fn, { maxBatchSize: 2 })));
      flush();
      // Assert
      expect(ordered).toEqual(['10:1', '10:2', '10:3', '10:4', '10:|']);
      expect(unordered).toEqual(['1:3', '1:4', '10:1', '10:2', '10:|']);
    });
  });

  // Flink: a function that completes each batch synchronously, inside the call: results in input order, at once.
  it('testOrderingWithSynchronousCompletion', () => {
    const scheduler = newScheduler();
    const calls: number[][] = [];
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange
      const fn = (xs: number[]) => {
        calls.push(xs);
        return xs.map((x) => 10 * x);
      };
      // Act
      const output = cold<El>('(abcde) 3ms |', IN).pipe(asyncBatchOrdered(fn, { maxBatchSize: 2, linger: 100 }));
      // Assert: [1,2] and [3,4] at 0 (size), [5] at 10 (end of input)
      expectObservable(output).toBe('(abcd) 4ms (e|)', { a: record(10), b: record(20), c: record(30), d: record(40), e: record(50) });
    });
    expect(calls).toEqual([[1, 2], [3, 4], [5]]);
  });

  // Flink: batches completed late and in reverse order; the output waits for the first, then comes in order.
  it('testOrderingWithDelayedAsyncCompletion', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    scheduler.run(({ cold, flush }) => {
      // Arrange: calls 1, 2, 3 take 30, 20, 10 ms
      const fn = timesTen(scheduler, calls, (n) => 40 - 10 * n);
      // Act
      const output = timeline(scheduler, cold<El>('(abcdef|)', IN).pipe(asyncBatchOrdered(fn, { maxBatchSize: 2 })));
      flush();
      // Assert
      expect(output).toEqual(['30:10', '30:20', '30:30', '30:40', '30:50', '30:60', '30:|']);
    });
    expect(callsAt(calls)).toEqual([[[1, 2], 0], [[3, 4], 0], [[5, 6], 0]]);
  });

  // Flink: size and timeout triggers mixed, output 1..7 in order. Here the first batch (size) is the slowest,
  // the linger batch [4] the fastest.
  it('testBatchAndTimeoutTriggerWithOrdering', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    scheduler.run(({ cold, flush }) => {
      // Arrange: size 3, linger 50; calls take 150, 1 and 20 ms
      const latencies = [150, 1, 20];
      const fn = timesTen(scheduler, calls, (n) => latencies[n - 1]!);
      // Act
      const output = timeline(scheduler, cold<El>('(abc) 5ms d 89ms (efg) 95ms |', IN).pipe(asyncBatchOrdered(fn, { maxBatchSize: 3, linger: 50 })));
      flush();
      // Assert
      expect(output).toEqual([...[10, 20, 30, 40, 50, 60, 70].map((v) => `150:${v}`), '200:|']);
    });
    expect(callsAt(calls)).toEqual([[[1, 2, 3], 0], [[4], 60], [[5, 6, 7], 100]]);
  });

  // Flink: batch size 1, inputs 3, 1, 2: the output follows the input, not the values or the completion order.
  it('testSingleElementBatchOrdering', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange: a call for x takes x ms, identity results
      const fn = (xs: number[]) => timer(xs[0]!).pipe(map(() => xs));
      // Act
      const output = cold<El>('(abc|)', { a: record(3), b: record(1), c: record(2) }).pipe(asyncBatchOrdered(fn, { maxBatchSize: 1 }));
      // Assert
      expectObservable(output).toBe('---(abc|)', { a: record(3), b: record(1), c: record(2) });
    });
  });

  // Flink: batches of 2 completed out of order, [3, 7] in order. Difference as in testVariableOutputSize: each
  // sum is its batch's first record's one result.
  it('testVariableOutputSizeWithOrdering', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange: the first batch is the slower
      const sumPerBatch = (xs: number[]) => timer(xs[0] === 1 ? 5 : 1).pipe(map(() => xs.map((_x, i) => batchResults(i === 0 ? [xs.reduce((s, x) => s + x, 0)] : []))));
      // Act
      const output = cold<El>('(abcd|)', IN).pipe(asyncBatchOrdered(sumPerBatch, { maxBatchSize: 2 }));
      // Assert
      expectObservable(output).toBe('-----(xy|)', { x: record(3), y: record(7) });
    });
  });

  // Flink: 20 elements in many batches, output 1..20 in order. Here batches of 3 with scrambled latencies; the
  // defaults (5 calls at once, capacity 3 * 6 = 18) make the last records wait beyond capacity.
  it('testManyBatchesOrdering', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    const completions: number[] = [];
    let output: string[] = [];
    scheduler.run(({ cold, flush }) => {
      // Arrange
      const latency = (n: number) => ((n * 7) % 11) + 1;
      const fn = (xs: number[], ctx: BatchCallContext) => timesTen(scheduler, calls, latency)(xs, ctx).pipe(map((r) => {
        completions.push(xs[0]!);
        return r;
      }));
      // Act
      output = timeline(scheduler, cold<El>('(abcdefghijklmnopqrst|)', IN).pipe(asyncBatchOrdered(fn, { maxBatchSize: 3 })));
      flush();
    });
    // Assert: in input order, though the calls completed out of order
    expect(output.map((line) => line.split(':')[1])).toEqual([...Array.from({ length: 20 }, (_, i) => String(10 * (i + 1))), '|']);
    expect(completions).not.toEqual([...completions].sort((x, y) => x - y));
    expect(calls.flatMap((c) => c.values)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});

describe('AsyncBatchRetryAndTimeoutTest (FLINK-38825, ported)', () => {
  /** A batch function failing as a whole (after 1 ms) while its attempt is below `succeedAt`, else `10 * x`. */
  function failingUntil(scheduler: TestScheduler, calls: BatchCall[], succeedAt: number, error: () => unknown = () => new Error('service busy')) {
    return (xs: number[], ctx: BatchCallContext): Observable<number[]> => {
      calls.push({ values: xs, attempt: ctx.attempt, at: scheduler.now() });
      return ctx.attempt < succeedAt ? timer(1).pipe(map(() => {
        throw error();
      })) : timer(1).pipe(map(() => xs.map((x) => 10 * x)));
    };
  }

  // Flink: a fixed-delay strategy, 3 attempts, batchRetryCount 2. Difference: sluice retries records, not batches;
  // records retried together (same failure, same delay) share the retry batch, so here it is 2 retried batches
  // and 4 retried records (metrics.retried counts records).
  it('testRetryWithFixedDelay', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    const metrics = asyncBatchMetrics();
    scheduler.run(({ cold, flush }) => {
      // Act
      const output = timeline(scheduler, cold<El>('ab|', IN).pipe(asyncBatchOrdered(failingUntil(scheduler, calls, 3), { retry: { maxRetries: 3, delay: 10 }, metrics })));
      flush();
      // Assert: calls at 2 (end of input), 13 and 24 (each 10 ms after the failure)
      expect(output).toEqual(['25:10', '25:20', '25:|']);
    });
    expect(calls).toEqual([{ values: [1, 2], attempt: 1, at: 2 }, { values: [1, 2], attempt: 2, at: 13 }, { values: [1, 2], attempt: 3, at: 24 }]);
    expect(metrics.snapshot()).toMatchObject({ batchesStarted: 3, batchesFailed: 2, batchesSucceeded: 1, retried: 4, failed: 0 });
  });

  // Flink: exponential backoff, 3 attempts. Difference: Flink's strategy keeps its last delay in a field shared by
  // every batch; sluice's backoff belongs to each record. Here a fails at 1 and 12 and retries 10 then 20 ms later;
  // b, arriving at 20, starts again from 10 ms (a shared state would make it wait 40).
  it('testRetryWithExponentialBackoff', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    scheduler.run(({ cold, flush }) => {
      // Arrange: linger 0, so each call starts when its record (or retry) arrives
      const retry = { maxRetries: 5, delay: { initial: 10, multiplier: 2, max: 100 } };
      // Act
      const output = timeline(scheduler, cold<El>('a 19ms b 79ms |', IN).pipe(asyncBatchUnordered(failingUntil(scheduler, calls, 3), { linger: 0, retry })));
      flush();
      // Assert
      expect(output).toEqual(['33:10', '53:20', '100:|']);
    });
    expect(calls.filter((c) => c.values[0] === 1).map((c) => [c.attempt, c.at])).toEqual([[1, 0], [2, 11], [3, 32]]);
    expect(calls.filter((c) => c.values[0] === 2).map((c) => [c.attempt, c.at])).toEqual([[1, 20], [2, 31], [3, 52]]);
  });

  // Flink: a result predicate (empty result) triggers one retry. Here the record's entry is batchResults([]) on
  // its first call, and one result on the second.
  it('testRetryOnResultPredicate', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    const metrics = asyncBatchMetrics();
    scheduler.run(({ cold, flush }) => {
      // Arrange
      const fn = (xs: number[], ctx: BatchCallContext) => {
        calls.push({ values: xs, attempt: ctx.attempt, at: scheduler.now() });
        return timer(1).pipe(map(() => xs.map((x) => batchResults(ctx.attempt === 1 ? [] : [10 * x]))));
      };
      // Act
      const output = timeline(scheduler, cold<El>('a|', IN).pipe(asyncBatchOrdered(fn, {
        retry: { maxRetries: 3, delay: 5, retryOnResult: (results) => results.length === 0 }, metrics,
      })));
      flush();
      // Assert: call at 1 (end of input), empty at 2, retry at 7, answered at 8
      expect(output).toEqual(['8:10', '8:|']);
    });
    expect(calls.map((c) => [c.attempt, c.at])).toEqual([[1, 1], [2, 7]]);
    expect(metrics.snapshot()).toMatchObject({ retried: 1, batchesSucceeded: 2, succeeded: 1 });
  });

  // Flink: an exception the predicate does not match is not retried: 1 attempt, then the failure.
  it('testNoRetryForNonMatchingException', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    const errors: unknown[] = [];
    class Transient extends Error {}
    const bug = new TypeError('not transient');
    scheduler.run(({ cold, flush }) => {
      // Act
      const output = timeline(scheduler, cold<El>('a|', IN).pipe(asyncBatchOrdered(failingUntil(scheduler, calls, 99, () => bug), {
        retry: { maxRetries: 3, delay: 1, retryOnError: (e) => e instanceof Transient },
      })), errors);
      flush();
      // Assert
      expect(output).toEqual(['2:#AsyncCallError']);
    });
    expect(calls).toHaveLength(1);
    expect(errors[0]).toMatchObject({ input: 1, attempts: 1, cause: bug });
  });

  // Flink: maxAttempts 2 counts retries: 3 calls, then the job fails, asyncCallFailures 1. sluice's maxRetries
  // counts the same way; each failed call counts in batchesFailed (3), the record failing for good in failed (1).
  it('testRetryExhausted', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    const errors: unknown[] = [];
    const metrics = asyncBatchMetrics();
    scheduler.run(({ cold, flush }) => {
      // Act
      const output = timeline(scheduler, cold<El>('a|', IN).pipe(asyncBatchOrdered(failingUntil(scheduler, calls, 99), { retry: { maxRetries: 2, delay: 5 }, metrics })), errors);
      flush();
      // Assert: calls at 1, 7 and 13; the last fails at 14
      expect(output).toEqual(['14:#AsyncCallError']);
    });
    expect(calls.map((c) => [c.attempt, c.at])).toEqual([[1, 1], [2, 7], [3, 13]]);
    expect(errors[0]).toMatchObject({ input: 1, attempts: 3, cause: new Error('service busy') });
    expect(metrics.snapshot()).toMatchObject({ batchesFailed: 3, failed: 1, retried: 2 });
  });

  // Flink: failOnTimeout fails the job with a TimeoutException. sluice: AsyncTimeoutError, per record; the budget
  // starts when the record is admitted (0 here), not when its batch is sent.
  it('testTimeoutWithFailBehavior', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange + Act
      const output = cold<El>('a-|', IN).pipe(asyncBatchOrdered(() => NEVER, { timeout: 10 }));
      // Assert
      expectObservable(output).toBe('10ms #', undefined, new AsyncTimeoutError('asyncBatchOrdered', 1, 10, 1));
    });
  });

  // Flink: allowPartialOnTimeout completes the batch with nothing emitted, and no failure. sluice: onTimeout
  // returning [] for each record; the call's signal is aborted once all of its records have timed out.
  it('testTimeoutWithAllowPartialBehavior', () => {
    const scheduler = newScheduler();
    const metrics = asyncBatchMetrics();
    let signal: AbortSignal | undefined;
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange
      const fn = (_xs: number[], ctx: BatchCallContext) => {
        signal = ctx.signal;
        return NEVER;
      };
      // Act
      const output = cold<El>('(ab)|', IN).pipe(asyncBatchOrdered(fn, { timeout: 10, onTimeout: () => [], metrics }));
      // Assert
      expectObservable(output).toBe('10ms |');
    });
    expect(metrics.snapshot()).toMatchObject({ timedOut: 2, emitted: 0, batchesStarted: 1 });
    expect(signal!.aborted).toBe(true);
  });

  // Flink: a batch answering within the timeout emits its results; the timeout never fires.
  it('testCompletionBeforeTimeout', () => {
    const scheduler = newScheduler();
    const metrics = asyncBatchMetrics();
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange + Act
      const output = cold<El>('(ab)|', IN).pipe(asyncBatchOrdered((xs: number[]) => timer(5).pipe(map(() => xs.map((x) => 10 * x))), {
        timeout: 10, onTimeout: () => [-1], metrics,
      }));
      // Assert: the batch goes at 4 (end of input) and answers at 9, within the budget of a and b (admitted at 0)
      expectObservable(output).toBe('9ms (ab|)', { a: record(10), b: record(20) });
    });
    expect(metrics.snapshot()).toMatchObject({ timedOut: 0, succeeded: 2 });
  });

  // Flink: the timeout is registered once and not reset on retry; when it fires during the retry backoff, no more
  // attempts are made (batchTimeoutCount 1). sluice: a retry that cannot start before the deadline is not
  // scheduled; the record times out at its deadline with the last failure as the cause.
  it('testTimeoutCancelsRetry', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    const errors: unknown[] = [];
    const metrics = asyncBatchMetrics();
    scheduler.run(({ cold, flush }) => {
      // Arrange: calls fail after 1 ms; retries 10 ms apart; a budget of 15 from its admission at 0
      const fn = failingUntil(scheduler, calls, 99);
      // Act
      const output = timeline(scheduler, cold<El>('a|', IN).pipe(asyncBatchOrdered(fn, { timeout: 15, retry: { maxRetries: 5, delay: 10 }, metrics })), errors);
      flush();
      // Assert: calls at 1 and 12; the next retry would be at 23, past the deadline
      expect(output).toEqual(['15:#AsyncTimeoutError']);
    });
    expect(calls.map((c) => [c.attempt, c.at])).toEqual([[1, 1], [2, 12]]);
    expect(errors[0]).toMatchObject({ input: 1, timeout: 15, attempts: 2, cause: new Error('service busy') });
    expect(metrics.snapshot()).toMatchObject({ timedOut: 1, retried: 1 });
  });

  // Flink: the first attempt fails, the retry succeeds within the timeout: 2 attempts, results emitted.
  it('testRetrySucceedsBeforeTimeout', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    scheduler.run(({ cold, flush }) => {
      // Act
      const output = timeline(scheduler, cold<El>('a|', IN).pipe(asyncBatchOrdered(failingUntil(scheduler, calls, 2), { timeout: 20, retry: { maxRetries: 3, delay: 3 }, onTimeout: () => [-1] })));
      flush();
      // Assert: calls at 1 and 5
      expect(output).toEqual(['6:10', '6:|']);
    });
    expect(calls.map((c) => [c.attempt, c.at])).toEqual([[1, 1], [2, 5]]);
  });
});

describe('AsyncSinkWriterTest (Flink connector base, ported)', () => {
  /** The held records each non-final checkpoint stored for operator `id`, as their values. */
  function snapshotsOf(store: MemoryCheckpointStore, id: string): number[][] {
    return store.list()
      .map((n) => (JSON.parse(store.read(n)) as { body: CheckpointBody }).body)
      .filter((body) => !body.final && body.operators.some((o) => o.id === id))
      .map((body) => (JSON.parse(body.operators.find((o) => o.id === id)!.state) as Array<{ value: number }>).map((e) => e.value));
  }

  // Flink: 23 writes with batches of 10: 20 are written, and the snapshot holds the buffered [20, 21, 22].
  it('testThatUnwrittenRecordsInBufferArePersistedWhenSnapshotIsTaken', () => {
    const scheduler = newScheduler();
    const store = new MemoryCheckpointStore({ retain: 100 });
    const calls: number[][] = [];
    scheduler.run(({ flush }) => {
      // Arrange: values 0..22, a barrier after the 23rd; the calls answer at once
      const fn = (xs: number[]) => {
        calls.push(xs);
        return xs;
      };
      // Act
      checkpointable({ source: arraySource(Array.from({ length: 23 }, (_, i) => i)), store, every: { records: 23 }, delivery: 'at-least-once' })
        .pipe(asyncBatchOrdered(fn, { maxBatchSize: 10, linger: 50, id: 'batch' }))
        .subscribe();
      flush();
    });
    // Assert: the barrier's snapshot holds the open batch's inputs; they go at the end of input
    expect(snapshotsOf(store, 'batch').at(-1)).toEqual([20, 21, 22]);
    expect(calls.map((c) => c.length)).toEqual([10, 10, 3]);
  });

  // The same, with the second batch still in flight at the barrier. Difference: Flink's snapshot holds only the
  // buffer (a checkpoint waits until nothing is in flight); sluice's holds every held record, the calls in flight
  // included, and a restore replays them all.
  it('testThatUnwrittenRecordsInBufferArePersistedWhenSnapshotIsTaken, with a batch in flight', () => {
    const scheduler = newScheduler();
    const store = new MemoryCheckpointStore({ retain: 100 });
    scheduler.run(({ flush }) => {
      // Arrange: the second call (10..19) never answers
      const fn = (xs: number[]): number[] | Observable<number[]> => (xs[0] === 10 ? NEVER : xs);
      // Act
      checkpointable({ source: arraySource(Array.from({ length: 23 }, (_, i) => i)), store, every: { records: 23 }, delivery: 'at-least-once' })
        .pipe(asyncBatchOrdered(fn, { maxBatchSize: 10, linger: 50, id: 'batch' }))
        .subscribe();
      flush();
    });
    // Assert
    expect(snapshotsOf(store, 'batch').at(-1)).toEqual(Array.from({ length: 13 }, (_, i) => 10 + i));
  });

  // Flink: a byte limit of 30 with 4-byte records flushes every 7 records (an 8th would take the batch to 32),
  // before the count limit.
  it('testFlushThresholdMetBeforeBatchLimitWillCreateASmallerBatchOfSizeAboveThreshold', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    const metrics = asyncBatchMetrics();
    scheduler.run(({ cold, flush }) => {
      // Act: 16 records at 0; the input ends at 10
      cold<El>('(abcdefghijklmnop) 10ms |', IN)
        .pipe(asyncBatchOrdered(timesTen(scheduler, calls), { maxBatchSize: 10, linger: 100, maxBatchWeight: 30, weigh: () => 4, metrics }))
        .subscribe();
      flush();
    });
    // Assert
    expect(calls.map((c) => c.values.length)).toEqual([7, 7, 2]);
    expect(metrics.flushes).toMatchObject({ weight: 2, size: 0, end: 1 });
  });

  // Flink: 8 records with a batch size of 10 and a 100 ms time limit: nothing at 99, one batch of 8 at 100.
  it('testThatABatchWithSizeSmallerThanMaxBatchSizeIsFlushedOnTimeoutExpiry', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    const at99: number[] = [];
    scheduler.run(({ cold, flush }) => {
      // Act
      cold<El>('(abcdefgh) 200ms |', IN).pipe(asyncBatchOrdered(timesTen(scheduler, calls), { maxBatchSize: 10, linger: 100 })).subscribe();
      scheduler.schedule(() => at99.push(calls.length), 99);
      flush();
    });
    // Assert
    expect(at99).toEqual([0]);
    expect(callsAt(calls)).toEqual([[[1, 2, 3, 4, 5, 6, 7, 8], 100]]);
  });

  // Flink: only one timer callback exists at a time, so a record written after a flush goes out when the old
  // timer fires. Difference: sluice also keeps one linger timer at a time, but cancels it when its batch leaves
  // (here by size at 20), and the next batch arms its own: d, arriving at 30, goes at 130, not at 100.
  it('testThatOneAndOnlyOneCallbackIsEverRegistered', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    const samples: Array<[number, number[]]> = [];
    let counting: CountingScheduler | undefined;
    scheduler.run(({ cold, flush }) => {
      // Arrange: size 3, linger 100; a, b, c at 0, 10, 20; d, e at 30, 40
      counting = new CountingScheduler(scheduler);
      // Act
      cold<El>('a 9ms b 9ms c 9ms d 9ms e 199ms |', IN)
        .pipe(asyncBatchOrdered(timesTen(scheduler, calls), { maxBatchSize: 3, linger: 100, scheduler: counting }))
        .subscribe();
      for (const at of [15, 25, 45]) scheduler.schedule(() => samples.push([at, counting!.liveDueTimes]), at);
      flush();
    });
    // Assert: one timer per batch, never two at once
    expect(samples).toEqual([[15, [100]], [25, []], [45, [130]]]);
    expect(counting!.scheduled).toBe(2);
    expect(counting!.maxLive).toBe(1);
    expect(callsAt(calls)).toEqual([[[1, 2, 3], 20], [[4, 5], 130]]);
  });

  // Flink's constructor checks (maxBatchSize > 0, a buffer larger than a batch, a record size limit within the
  // batch's). sluice refuses a maxBatchSize or maxBatchWeight that is not positive when the operator is created.
  // Differences: a capacity below maxBatchSize is allowed and caps the batches (every capacity slot taken flushes
  // the open batch); there is no per-record size limit: a record heavier than maxBatchWeight fails the output
  // at run time with AsyncBatchError ('weight').
  it('constructor validation', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    let heavy: unknown;
    // Act + Assert
    expect(() => asyncBatchOrdered(() => [], { maxBatchSize: 0 })).toThrow(/"maxBatchSize" must be an integer >= 1, got 0/);
    expect(() => asyncBatchOrdered(() => [], { maxBatchWeight: 0, weigh: () => 1 })).toThrow(/"maxBatchWeight" must be a finite number > 0, got 0/);
    scheduler.run(({ cold, flush }) => {
      cold<El>('(abcde)|', IN).pipe(asyncBatchOrdered(timesTen(scheduler, calls), { maxBatchSize: 10, capacity: 2 })).subscribe();
      cold<El>('ab|', IN).pipe(asyncBatchOrdered(timesTen(scheduler, []), { maxBatchWeight: 1, weigh: (x) => x })).subscribe({ error: (e: unknown) => (heavy = e) });
      flush();
    });
    expect(Math.max(...calls.map((c) => c.values.length))).toBe(2);
    expect(heavy).toBeInstanceOf(AsyncBatchError);
    expect(heavy).toMatchObject({ kind: 'weight', input: 2, expected: 1, received: 2 });
  });
});

describe('DataLoader batch function contract (graphql/dataloader, ported)', () => {
  // DataLoader: maxBatchSize 2 and three loads in one tick call the batch function with [1, 2] and [3]. sluice:
  // linger 0 batches what arrives in one frame; the input goes on.
  it('batches multiple requests with max batch sizes', () => {
    const scheduler = newScheduler();
    const calls: BatchCall[] = [];
    scheduler.run(({ cold, flush }) => {
      // Act
      cold<El>('(abc) 10ms |', IN).pipe(asyncBatchOrdered(timesTen(scheduler, calls), { maxBatchSize: 2, linger: 0 })).subscribe();
      flush();
    });
    // Assert
    expect(callsAt(calls)).toEqual([[[1, 2], 0], [[3], 0]]);
  });

  // DataLoader: a rejected batch rejects every load with the same error. sluice: every record of the failed call
  // fails with that error; onError sees each of them.
  it('Propagates error to all loads', () => {
    const scheduler = newScheduler();
    const failures: Array<[unknown, number]> = [];
    const failure = new Error('I am a terrible loader');
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange
      const fn = () => throwError(() => failure);
      // Act
      const output = cold<El>('(abc|)', IN).pipe(asyncBatchOrdered(fn, { onError: (e, x) => {
        failures.push([e, x]);
        return [-x];
      } }));
      // Assert
      expectObservable(output).toBe('(abc|)', { a: record(-1), b: record(-2), c: record(-3) });
    });
    expect(failures).toEqual([[failure, 1], [failure, 2], [failure, 3]]);
    expect(failures.every(([e]) => e === failure)).toBe(true);
  });

  // DataLoader: an Error instance at index i rejects load(keys[i]) only. sluice: that record alone fails (here,
  // without onError, the output errors with AsyncCallError for it, after the record before it went out).
  it('Propagates a per-key Error to that load only', () => {
    const scheduler = newScheduler();
    const errors: unknown[] = [];
    const gone = new Error('no 2');
    let output: string[] = [];
    let withFallback: string[] = [];
    scheduler.run(({ cold, flush }) => {
      // Arrange
      const fn = (xs: number[]) => timer(1).pipe(map(() => xs.map((x) => (x === 2 ? gone : 10 * x))));
      // Act
      output = timeline(scheduler, cold<El>('(abc|)', IN).pipe(asyncBatchOrdered(fn)), errors);
      withFallback = timeline(scheduler, cold<El>('(abc|)', IN).pipe(asyncBatchOrdered(fn, { onError: (e) => [e === gone ? -2 : 0] })));
      flush();
    });
    // Assert
    expect(output).toEqual(['1:10', '1:#AsyncCallError']);
    expect(errors[0]).toMatchObject({ input: 2, cause: gone, attempts: 1 });
    expect(withFallback).toEqual(['1:10', '1:-2', '1:30', '1:|']);
  });

  // DataLoader (abuse.test.js): a batch function whose array has the wrong length rejects every load with a
  // TypeError. sluice errors the output with AsyncBatchError ('result-length'), never retried or padded.
  it('Batch function must promise an Array of correct length', async () => {
    // Arrange: the source ends at once, so the batch goes at once; a Promise, as DataLoader's batch functions
    let calls = 0;
    const fn = (xs: number[]) => {
      calls++;
      return Promise.resolve(xs.slice(1));
    };
    // Act
    const error: unknown = await firstValueFrom(from([1, 2, 3]).pipe(toRecords(), asyncBatchOrdered(fn, { retry: { maxRetries: 2, delay: 0 } })))
      .catch((e: unknown) => e);
    // Assert
    expect(error).toBeInstanceOf(AsyncBatchError);
    expect(error).toMatchObject({ kind: 'result-length', input: [1, 2, 3], expected: 3, received: 2 });
    expect(calls).toBe(1);
  });
});
