import { type TestScheduler } from 'rxjs/testing';
import { EMPTY, NEVER, Subject, firstValueFrom, lastValueFrom, map, of, tap, timer, type Observable } from 'rxjs';
import {
  AsyncBatchError, AsyncCallError, asyncBatchMetrics, asyncBatchOrdered, asyncBatchUnordered, asyncWaitMetrics, record,
  values, type BatchCallContext, type StreamElement,
} from 'rxjs-sluice';
import { ZERO_GAUGES, newScheduler } from '../support/marbles';

/**
 * asyncBatchOrdered / asyncBatchUnordered: what is refused when the operator is created (every option, with a
 * TypeError naming the operator, the option and the value), what a batch function may get wrong at run time
 * (AsyncBatchError), and the metrics, the ctx and `input: 'values'`. Time is virtual (TestScheduler.run: one
 * frame is 1 ms); the few Promise-returning batch functions run on a source that ends at once, so no timer is
 * involved.
 */

type El = StreamElement<number>;

const OPERATORS = [
  ['asyncBatchOrdered', asyncBatchOrdered],
  ['asyncBatchUnordered', asyncBatchUnordered],
] as const;

/** Records a..h = 1..8, without timestamps. */
const IN: Record<string, El> = Object.fromEntries([...'abcdefgh'].map((c, i) => [c, record(i + 1)]));

const timesTen = (xs: number[]) => xs.map((x) => 10 * x);

/** Calls `create` and returns what it threw (fails the test when nothing is thrown). */
function thrownBy(create: () => unknown): Error {
  try {
    create();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the operator factory to throw, but it did not');
}

/** What an output does, as `time:what` lines (`|` completion, `#Name` an error); read after flush(). */
function timeline(scheduler: TestScheduler, output: Observable<El>): string[] {
  const lines: string[] = [];
  output.subscribe({
    next: (e) => lines.push(`${scheduler.now()}:${e.kind === 'record' ? e.value : e.kind}`),
    error: (err: Error) => lines.push(`${scheduler.now()}:#${err.name}`),
    complete: () => lines.push(`${scheduler.now()}:|`),
  });
  return lines;
}

/** Runs `marble` through the operator `build` returns, in virtual time, to the end: its values and its error. */
function runVirtual(marble: string, build: () => (source: Observable<El>) => Observable<El>): { values: number[]; error: unknown; completed: boolean } {
  const out = { values: [] as number[], error: undefined as unknown, completed: false };
  newScheduler().run(({ cold, flush }) => {
    cold<El>(marble, IN).pipe(build(), values()).subscribe({
      next: (v) => out.values.push(v),
      error: (e: unknown) => (out.error = e),
      complete: () => (out.completed = true),
    });
    flush();
  });
  return out;
}

describe.each(OPERATORS)('%s', (name, operator) => {
  describe('option validation at creation', () => {
    const weigh = (x: number) => x;
    // [label, options, option named in the message, how the bad value is rendered]
    const invalid: [string, unknown, string, string][] = [
      ['maxBatchSize 0', { maxBatchSize: 0 }, 'maxBatchSize', 'got 0'],
      ['maxBatchSize 1.5', { maxBatchSize: 1.5 }, 'maxBatchSize', 'got 1.5'],
      ["maxBatchSize 'x'", { maxBatchSize: 'x' }, 'maxBatchSize', 'got "x"'],
      ['linger -1', { linger: -1 }, 'linger', 'got -1'],
      ['linger Infinity', { linger: Infinity }, 'linger', 'got Infinity'],
      ['linger NaN', { linger: NaN }, 'linger', 'got NaN'],
      ['maxInFlightBatches 0', { maxInFlightBatches: 0 }, 'maxInFlightBatches', 'got 0'],
      ['maxBatchWeight 0', { maxBatchWeight: 0, weigh }, 'maxBatchWeight', 'got 0'],
      ['maxBatchWeight -1', { maxBatchWeight: -1, weigh }, 'maxBatchWeight', 'got -1'],
      ['maxBatchWeight without weigh', { maxBatchWeight: 10 }, 'maxBatchWeight', 'got 10'],
      ['weigh without maxBatchWeight', { weigh }, 'weigh', 'got a function (weigh)'],
      ['weigh not a function', { weigh: 3, maxBatchWeight: 10 }, 'weigh', 'got 3'],
      ['capacity 0', { capacity: 0 }, 'capacity', 'got 0'],
      ['timeout -1', { timeout: -1 }, 'timeout', 'got -1'],
      ['onTimeout without timeout', { onTimeout: () => [] }, 'onTimeout', 'got a function (onTimeout)'],
      ['options not an object', 7, 'options', 'got 7'],
    ];

    it.each(invalid)('rejects %s with a TypeError naming the operator, the option and the value', (_label, options, option, got) => {
      // Act
      const error = thrownBy(() => operator(timesTen, options as never));
      // Assert
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toContain(`${name}:`);
      expect(error.message).toContain(`"${option}"`);
      expect(error.message).toContain(got);
    });

    it('says what the weight options need: each other', () => {
      // Act
      const withoutWeigh = thrownBy(() => operator(timesTen, { maxBatchWeight: 10 }));
      const withoutLimit = thrownBy(() => operator(timesTen, { weigh }));
      // Assert
      expect(withoutWeigh.message).toContain('"weigh" function');
      expect(withoutLimit.message).toContain('"maxBatchWeight"');
    });

    it('rejects metrics made by asyncWaitMetrics(): the batch counters would have nowhere to go', () => {
      // Act
      const error = thrownBy(() => operator(timesTen, { metrics: asyncWaitMetrics() as never }));
      // Assert
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toContain(`${name}: option "metrics" must be an object created by asyncBatchMetrics()`);
    });

    it('rejects a misspelt option, naming it and listing the known ones (batching and shared)', () => {
      // Act
      const error = thrownBy(() => operator(timesTen, { maxBatchsize: 10 } as never));
      // Assert
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toContain(`${name}: unknown option "maxBatchsize"`);
      for (const known of ['maxBatchSize', 'linger', 'maxInFlightBatches', 'maxBatchWeight', 'weigh', 'capacity', 'timeout', 'retry', 'metrics', 'input']) {
        expect(error.message).toMatch(new RegExp(`known options: .*\\b${known}\\b`));
      }
    });

    it('rejects a batchFn that is not a function, saying what it got', () => {
      // Act
      const error = thrownBy(() => operator('timesTen' as never));
      // Assert
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toBe(`${name}: batchFn must be a function, got string`);
    });

    it('accepts every option at its boundary', () => {
      // Act + Assert
      expect(() => operator(timesTen, {
        maxBatchSize: 1, linger: 0, maxInFlightBatches: 1, maxBatchWeight: 0.5, weigh: () => 0, capacity: 1,
        timeout: 0.5, onTimeout: () => [], metrics: asyncBatchMetrics(), id: undefined,
      })).not.toThrow();
    });
  });

  describe('weigh at run time', () => {
    it('a weigh that throws errors the output with that error, and no batch is called', () => {
      // Arrange
      const boom = new Error('cannot weigh');
      const calls: number[][] = [];
      // Act
      const out = runVirtual('ab|', () => operator((xs: number[]) => {
        calls.push(xs);
        return timesTen(xs);
      }, { maxBatchWeight: 10, weigh: (x) => {
        if (x === 2) throw boom;
        return x;
      } }));
      // Assert
      expect(out.error).toBe(boom);
      expect(out.values).toEqual([]);
      expect(calls).toEqual([]);
    });

    it.each([
      ['NaN', NaN],
      ['-1', -1],
      ["'3'", '3'],
      ['Infinity', Infinity],
    ])('a weigh returning %s errors the output with AsyncBatchError (weight) naming the value and the weight', (label, weight) => {
      // Act
      const out = runVirtual('ab|', () => operator(timesTen, { maxBatchWeight: 10, weigh: (x) => (x === 2 ? weight as number : 1) }));
      // Assert
      expect(out.error).toBeInstanceOf(AsyncBatchError);
      expect(out.error).toMatchObject({ kind: 'weight', input: 2, cause: weight, expected: 10 });
      expect((out.error as Error).message).toContain(`option "weigh" returned ${label === "'3'" ? '"3"' : label} for 2`);
    });
  });

  describe('what the batch function returns', () => {
    it('a synchronous throw is a whole-batch failure: each record is retried, and the retry succeeds', () => {
      // Arrange
      const scheduler = newScheduler();
      const calls: Array<[number[], number[], number]> = [];
      const metrics = asyncBatchMetrics();
      scheduler.run(({ cold, flush }) => {
        // Act
        const output = timeline(scheduler, cold<El>('ab|', IN).pipe(operator((xs: number[], ctx: BatchCallContext) => {
          calls.push([xs, [...ctx.attempts], scheduler.now()]);
          if (ctx.attempt === 1) throw new Error('thrown at once');
          return timesTen(xs);
        }, { retry: { maxRetries: 1, delay: 3 }, metrics })));
        flush();
        // Assert: the batch goes at 2 (end of input) and throws; both records retry at 5, together
        expect(output).toEqual(['5:10', '5:20', '5:|']);
      });
      expect(calls).toEqual([[[1, 2], [1, 1], 2], [[1, 2], [2, 2], 5]]);
      expect(metrics.snapshot()).toMatchObject({ batchesStarted: 2, batchesFailed: 1, batchesSucceeded: 1, retried: 2, failed: 0 });
    });

    it('a synchronous throw without retries errors the output with AsyncCallError caused by what was thrown', () => {
      // Arrange
      const thrown = new Error('thrown at once');
      // Act
      const out = runVirtual('ab|', () => operator(() => {
        throw thrown;
      }));
      // Assert
      expect(out.error).toBeInstanceOf(AsyncCallError);
      expect(out.error).toMatchObject({ input: 1, cause: thrown, attempts: 1 });
    });

    it.each([
      ['emits no array', () => EMPTY, 0],
      ['emits two arrays', (xs: number[]) => of(timesTen(xs), timesTen(xs)), 2],
    ])('an Observable that %s errors the output with AsyncBatchError (result-type); it is not retried', (_label, fn, emitted) => {
      // Arrange
      let calls = 0;
      // Act
      const out = runVirtual('ab|', () => operator((xs: number[]) => {
        calls++;
        return fn(xs);
      }, { retry: { maxRetries: 3, delay: 0 }, onError: () => [] }));
      // Assert
      expect(out.error).toBeInstanceOf(AsyncBatchError);
      expect(out.error).toMatchObject({ kind: 'result-type', input: [1, 2], cause: emitted });
      expect((out.error as Error).message).toContain(`emitted ${emitted} values; it must emit exactly one array`);
      expect(calls).toBe(1);
    });

    it('an Observable of something other than an array errors the output with AsyncBatchError (result-type)', () => {
      // Act
      const out = runVirtual('ab|', () => operator(() => of({ a: 10, b: 20 }) as never));
      // Assert
      expect(out.error).toMatchObject({ name: 'AsyncBatchError', kind: 'result-type', input: [1, 2], cause: { a: 10, b: 20 } });
    });

    it('a value that is neither an array nor an ObservableInput errors the output with AsyncBatchError (result-type)', () => {
      // Act
      const out = runVirtual('ab|', () => operator(() => 42 as never));
      // Assert
      expect(out.error).toMatchObject({ name: 'AsyncBatchError', kind: 'result-type', cause: 42 });
      expect((out.error as Error).message).toContain('batchFn returned 42, which is neither an array nor an ObservableInput of one');
    });

    it('a Promise resolving to an object (not an array) errors the output with AsyncBatchError (result-type)', async () => {
      // Arrange: the source ends at once, so the batch goes at once
      const fn = (xs: number[]) => Promise.resolve(Object.fromEntries(xs.map((x) => [x, 10 * x])));
      // Act
      const error: unknown = await lastValueFrom(of(record(1), record(2)).pipe(operator(fn as never))).catch((e: unknown) => e);
      // Assert
      expect(error).toBeInstanceOf(AsyncBatchError);
      expect(error).toMatchObject({ kind: 'result-type', input: [1, 2], cause: { 1: 10, 2: 20 } });
      expect((error as Error).message).toContain('must deliver one array, with one entry per value (2)');
    });

    it('a Promise of an array of the wrong length errors the output with AsyncBatchError (result-length)', async () => {
      // Act
      const error: unknown = await firstValueFrom(of(record(1), record(2), record(3)).pipe(operator(async (xs: number[]) => timesTen(xs).slice(0, 2))))
        .catch((e: unknown) => e);
      // Assert
      expect(error).toMatchObject({ name: 'AsyncBatchError', kind: 'result-length', expected: 3, received: 2, cause: [10, 20] });
    });
  });

  describe('metrics', () => {
    /**
     * maxBatchSize 2, 2 calls at once, capacity 5, linger 50; all 8 records at 0. [a,b] (10 ms) and [c,d] (1 ms)
     * start at 0; e takes the last slot, and waits in the open batch (other held records will free slots, so it
     * waits for company, not only for a call slot); f, g, h wait beyond capacity. At 1 [c,d] is done:
     * - ordered: c and d wait behind a and b, so nothing is admitted; at 2, 1 batch and 3 records (a, b, e) are in
     *   flight, 2 records wait, 3 are buffered. At 10, a to d go out, f fills e's batch: the third call is [e,f]
     *   at 10, and [g,h] the fourth;
     * - unordered: c and d go out, f and g are admitted; f fills e's batch, so the third call is [e,f], and g waits
     *   for a slot; at 2, 2 batches and 5 records (a, b, e, f, g) are in flight, none waits, h is buffered.
     */
    function busy(scheduler: TestScheduler, third: (xs: number[]) => Observable<unknown>) {
      const metrics = asyncBatchMetrics();
      let call = 0;
      const fn = (xs: number[]) => {
        call++;
        if (call === 3) return third(xs);
        return timer(call === 1 ? 10 : 1).pipe(map(() => timesTen(xs)));
      };
      const op = operator(fn as (xs: number[]) => Observable<number[]>, { maxBatchSize: 2, maxInFlightBatches: 2, capacity: 5, linger: 50, metrics });
      const seen: Record<string, number>[] = [];
      scheduler.schedule(() => {
        const { batchesInFlight, inFlight, waiting, buffered } = metrics;
        seen.push({ batchesInFlight, inFlight, waiting, buffered });
      }, 2);
      return { metrics, op, seen };
    }

    const ZERO = { ...ZERO_GAUGES, batchesInFlight: 0 };
    const ordered = name === 'asyncBatchOrdered';
    const AT_2 = ordered ? { batchesInFlight: 1, inFlight: 3, waiting: 2, buffered: 3 } : { batchesInFlight: 2, inFlight: 5, waiting: 0, buffered: 1 };

    it('the gauges go back to 0 after completion', () => {
      // Arrange
      const scheduler = newScheduler();
      const { metrics, op, seen } = busy(scheduler, (xs) => timer(4).pipe(map(() => timesTen(xs))));
      scheduler.run(({ cold, flush }) => {
        // Act
        const output = timeline(scheduler, cold<El>('(abcdefgh)-------------|', IN).pipe(op));
        flush();
        // Assert
        expect(output.at(-1)).toMatch(/:\|$/);
        expect(output).toHaveLength(9);
      });
      expect(seen).toEqual([AT_2]);
      expect(metrics.snapshot()).toMatchObject({ ...ZERO, batchesStarted: 4, batchedRecords: 8, emitted: 8 });
    });

    it('the gauges go back to 0 after the output errors', () => {
      // Arrange
      const scheduler = newScheduler();
      const { metrics, op, seen } = busy(scheduler, () => timer(4).pipe(map(() => [])));
      scheduler.run(({ cold, flush }) => {
        // Act: the third call answers [] 4 ms after it starts (at 1 unordered, at 10 ordered)
        const output = timeline(scheduler, cold<El>('(abcdefgh)-------------|', IN).pipe(op));
        flush();
        // Assert
        expect(output.at(-1)).toBe(ordered ? '14:#AsyncBatchError' : '5:#AsyncBatchError');
      });
      expect(seen).toEqual([AT_2]);
      expect(metrics.snapshot()).toMatchObject(ZERO);
    });

    it('the gauges go back to 0 after an unsubscribe mid-call', () => {
      // Arrange
      const scheduler = newScheduler();
      const { metrics, op, seen } = busy(scheduler, () => NEVER);
      scheduler.run(({ cold, flush }) => {
        const subscription = cold<El>('(abcdefgh)-------------|', IN).pipe(op).subscribe();
        // Act
        scheduler.schedule(() => subscription.unsubscribe(), 3);
        flush();
      });
      // Assert
      expect(seen).toEqual([AT_2]);
      expect(metrics.snapshot()).toMatchObject(ZERO);
    });

    it('counts batch sizes: mean, largest, histogram by powers of two; snapshot() is a frozen copy', () => {
      // Arrange: batches of 1, 3, 4, 8 and 2 records (18 in all), each gathered by linger 5 from one frame
      const scheduler = newScheduler();
      const metrics = asyncBatchMetrics();
      const sizes = [1, 3, 4, 8, 2];
      const frames: string[] = [];
      const inputs: Record<string, El> = {};
      let n = 0;
      for (const size of sizes) {
        let group = '';
        for (let i = 0; i < size; i++) {
          const letter = String.fromCharCode(65 + n); // A, B, ...: one letter per record
          inputs[letter] = record(++n);
          group += letter;
        }
        frames.push(size === 1 ? group : `(${group})`);
      }
      let midRun: ReturnType<typeof metrics.snapshot> | undefined;
      scheduler.run(({ cold, flush }) => {
        // Act
        cold<El>(`${frames.join(' 9ms ')} 9ms |`, inputs).pipe(operator((xs: number[]) => timer(1).pipe(map(() => timesTen(xs))), { linger: 5, maxBatchSize: 8, metrics })).subscribe();
        scheduler.schedule(() => (midRun = metrics.snapshot()), 7);
        flush();
      });
      const final = metrics.snapshot();
      // Assert
      expect(final).toMatchObject({ batchesStarted: 5, batchedRecords: 18, meanBatchSize: 3.6, largestBatch: 8, batchesSucceeded: 5 });
      expect(final.batchSizeHistogram).toEqual([1, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      expect(final.flushes).toEqual({ size: 1, weight: 0, linger: 4, capacity: 0, end: 0 });
      expect(midRun).toMatchObject({ batchesStarted: 1, batchedRecords: 1, meanBatchSize: 1, largestBatch: 1 });
      expect(midRun!.batchSizeHistogram).toEqual([1, ...new Array<number>(15).fill(0)]);
      for (const frozen of [final, final.batchSizeHistogram, final.flushes]) expect(Object.isFrozen(frozen)).toBe(true);
      expect(() => {
        (final as { batchesStarted: number }).batchesStarted = 0;
      }).toThrow(TypeError);
      expect(metrics.meanBatchSize).toBe(3.6);
    });

    it('meanBatchSize is 0 before the first batch', () => {
      // Arrange + Act
      const metrics = asyncBatchMetrics();
      // Assert
      expect(metrics.snapshot()).toMatchObject({ batchesStarted: 0, meanBatchSize: 0, largestBatch: 0, batchesInFlight: 0 });
    });
  });

  describe('the ctx and the input mode', () => {
    it("input: 'values' batches plain values; each output is a record without a timestamp", () => {
      // Arrange
      const scheduler = newScheduler();
      const calls: Array<[number[], readonly (number | undefined)[]]> = [];
      const metrics = asyncBatchMetrics();
      const outputs: El[] = [];
      scheduler.run(({ cold, flush }) => {
        // Act: capacity 2 with 2-record batches: c waits beyond capacity as a bare value
        const output = timeline(scheduler, cold<number>('abc|', { a: 1, b: 2, c: 3 }).pipe(operator((xs: number[], ctx: BatchCallContext) => {
          calls.push([xs, ctx.timestamps]);
          return timer(1).pipe(map(() => timesTen(xs)));
        }, { input: 'values', maxBatchSize: 2, capacity: 2, metrics }), tap((e) => outputs.push(e))));
        flush();
        // Assert: [1,2] goes at 1 (size) and answers at 2; 3, admitted then, goes when the input ends at 3
        expect(output).toEqual(['2:10', '2:20', '4:30', '4:|']);
      });
      expect(outputs).toEqual([record(10), record(20), record(30)]);
      expect(calls).toEqual([[[1, 2], [undefined, undefined]], [[3], [undefined]]]);
      expect(metrics.snapshot()).toMatchObject({ buffered: 0, batchesStarted: 2 });
    });

    it('ctx.attempts and ctx.timestamps are index-aligned with the values, a retried record mixed with a newer one', () => {
      // Arrange: a@100 and b@200 go at 2 (linger 2); b's entry fails, and its retry (2 ms later) joins the batch c
      // (no timestamp) opened at 4, which goes at 6.
      const scheduler = newScheduler();
      const calls: Array<{ values: number[]; attempts: readonly number[]; timestamps: readonly (number | undefined)[]; attempt: number; at: number }> = [];
      const input = { a: record(1, 100), b: record(2, 200), c: record(3) };
      scheduler.run(({ cold, flush }) => {
        // Act
        const output = timeline(scheduler, cold<El>('ab--c--|', input).pipe(operator((xs: number[], ctx: BatchCallContext) => {
          calls.push({ values: xs, attempts: ctx.attempts, timestamps: ctx.timestamps, attempt: ctx.attempt, at: scheduler.now() });
          return timer(1).pipe(map(() => xs.map((x, i) => (x === 2 && ctx.attempts[i] === 1 ? new Error('b is busy') : 10 * x))));
        }, { linger: 2, retry: { maxRetries: 1, delay: 2 } })));
        flush();
        // Assert
        expect(output).toEqual(name === 'asyncBatchOrdered' ? ['3:10', '7:20', '7:30', '7:|'] : ['3:10', '7:30', '7:20', '7:|']);
      });
      expect(calls).toEqual([
        { values: [1, 2], attempts: [1, 1], timestamps: [100, 200], attempt: 1, at: 2 },
        { values: [3, 2], attempts: [1, 2], timestamps: [undefined, 200], attempt: 2, at: 6 },
      ]);
      for (const { attempts, timestamps } of calls) expect(Object.isFrozen(attempts) && Object.isFrozen(timestamps)).toBe(true);
    });

    it('ctx.signal is aborted once every record of a running batch has timed out, not before', () => {
      // Arrange: a at 0, b at 3, timeout 5 (a's budget ends at 5, b's at 8); [a,b] goes at 3 (linger 3) and never answers
      const scheduler = newScheduler();
      let signal: AbortSignal | undefined;
      const aborted: Array<[number, boolean]> = [];
      scheduler.run(({ cold, flush }) => {
        // Act
        const output = timeline(scheduler, cold<El>('a--b------|', IN).pipe(operator((_xs: number[], ctx: BatchCallContext) => {
          signal = ctx.signal;
          return NEVER;
        }, { linger: 3, timeout: 5, onTimeout: (x) => [-x] })));
        for (const at of [4, 6, 9]) scheduler.schedule(() => aborted.push([at, signal!.aborted]), at);
        flush();
        // Assert
        expect(output).toEqual(['5:-1', '8:-2', '10:|']);
      });
      expect(aborted).toEqual([[4, false], [6, false], [9, true]]);
    });

    it('ctx.signal is not aborted when the call completes normally', () => {
      // Arrange
      const scheduler = newScheduler();
      const signals: AbortSignal[] = [];
      const answers = new Subject<number[]>();
      scheduler.run(({ cold, flush }) => {
        // Act
        const output = timeline(scheduler, cold<El>('ab|', IN).pipe(operator((xs: number[], ctx: BatchCallContext) => {
          signals.push(ctx.signal);
          return xs.length === 2 ? answers.pipe(map(timesTen)) : [];
        }, { timeout: 50 })));
        scheduler.schedule(() => {
          answers.next([1, 2]);
          answers.complete();
        }, 4);
        flush();
        // Assert
        expect(output).toEqual(['4:10', '4:20', '4:|']);
      });
      expect(signals).toHaveLength(1);
      expect(signals[0]!.aborted).toBe(false);
    });
  });
});
