import fc from 'fast-check';
import {
  Observable, Subject, from, lastValueFrom, map, of, pipe, range, take, tap, throwError, timer, toArray,
} from 'rxjs';
import {
  AsyncCallError, AsyncTimeoutError, arraySource, asyncWaitMetrics, asyncWaitOrdered, asyncWaitUnordered, barrier, CheckpointBindingError,
  checkpointable, mapRecords, MemoryCheckpointStore, record, toRecords, values, watermark,
  type AsyncCallContext, type AsyncWaitCounters, type AsyncWaitOptions, type AsyncWaitValuesOptions, type StreamElement,
} from 'rxjs-sluice';
import { start } from '../support/checkpoints';
import {
  ASYNC_WAIT_OPERATORS, ZERO_GAUGES, ZERO_OPTIONAL_COUNTERS, callErrorLike, captureError, collect, delayedTimesTen, forMode, logCalls, newScheduler,
  timeoutErrorLike, type AsyncWaitOperator, type Call,
} from '../support/marbles';
import { deferred, type Deferred } from '../support/deferred';

/**
 * asyncWaitOrdered / asyncWaitUnordered with `input: 'values'`: the source emits plain values, each one a record
 * without a timestamp, and queued inputs are kept as the bare values. Everything else (capacity, FIFO beyond
 * capacity, completion, errors, unsubscription, re-entrancy, timeouts, retries, fallbacks, metrics) must be what
 * the default `input: 'elements'` does on `toRecords()` of the same values. Not allowed inside `checkpointable`.
 *
 * In `run` mode one frame is 1 ms of virtual time; `Nms` advances N frames, and every character of a `(...)` group
 * advances one frame too.
 */

/** The output of a run as plain values (records only). */
const valuesOf = <T>(elements: readonly StreamElement<T>[]): T[] =>
  elements.flatMap((el) => (el.kind === 'record' ? [el.value] : []));

/** Lets every settled promise run its callbacks. */
const flushMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));


describe.each(ASYNC_WAIT_OPERATORS)('%s with input: \'values\'', (name, operator, mode) => {
  // ---- plain values in, records out ---------------------------------------------------------------------------

  describe('plain values in, StreamElement records out', () => {
    it('wraps every result in a record with no timestamp property at all, and gives fn no ctx.timestamp', () => {
      // Arrange
      const ctxTimestamps: Array<number | undefined> = [];
      const fn = (x: number, ctx: AsyncCallContext) => {
        ctxTimestamps.push(ctx.timestamp);
        return [10 * x, 10 * x + 1];
      };
      // Act
      const out = collect(from([1, 2, 3]).pipe(operator(fn, { input: 'values' })));
      // Assert
      expect(out.error).toBeUndefined();
      expect(out.completed).toBe(true);
      expect(out.values).toStrictEqual([10, 11, 20, 21, 30, 31].map((value) => ({ kind: 'record', value })));
      for (const el of out.values) {
        expect(Object.keys(el)).toEqual(['kind', 'value']);
        expect(el).not.toHaveProperty('timestamp');
      }
      expect(ctxTimestamps).toEqual([undefined, undefined, undefined]);
    });

    it('gives a promise result (one value) the same record shape, with no timestamp property', async () => {
      // Act
      const out = await lastValueFrom(of(1, 2).pipe(operator((x: number) => Promise.resolve(10 * x), { input: 'values' }), toArray()));
      // Assert
      const sorted = forMode(mode, { ordered: out, unordered: [...out].sort((a, b) => valuesOf([a])[0]! - valuesOf([b])[0]!) });
      expect(sorted).toStrictEqual([{ kind: 'record', value: 10 }, { kind: 'record', value: 20 }]);
      for (const el of out) expect(Object.keys(el)).toEqual(['kind', 'value']);
    });

    it('emits the same records at the same virtual times as the elements mode on toRecords() of the same input', () => {
      const scheduler = newScheduler();
      const valueCalls: Call[] = [];
      const elementCalls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 2; 1 takes 6 ms, 2 takes 1 ms, 3 (queued until a slot frees) takes 5 ms.
        const source = cold<number>('(abc|)', { a: 1, b: 2, c: 3 });
        const delays = { 1: 6, 2: 1, 3: 5 };
        // Act
        const viaValues = source.pipe(operator(delayedTimesTen(scheduler, delays, valueCalls), { input: 'values', capacity: 2 }));
        const viaElements = source.pipe(toRecords(), operator(delayedTimesTen(scheduler, delays, elementCalls), { capacity: 2 }));
        // Assert: ordered: 2 waits for 1, and 3 starts at 6; unordered: 2 leaves at 1, and 3 starts then.
        const expected = forMode(mode, { ordered: '6ms (AB) 1ms (C|)', unordered: '-B 4ms (AC|)' });
        const vals = { A: record(10), B: record(20), C: record(30) };
        expectObservable(viaValues).toBe(expected, vals);
        expectObservable(viaElements).toBe(expected, vals);
      });
      // Assert: both modes made the same calls at the same times.
      expect(valueCalls.map((c) => [c.value, c.at])).toEqual(forMode(mode, {
        ordered: [[1, 0], [2, 0], [3, 6]],
        unordered: [[1, 0], [2, 0], [3, 1]],
      }));
      expect(elementCalls).toEqual(valueCalls);
    });

    it('property: same results as the elements mode on toRecords(), FIFO calls, capacity never exceeded, gauges back to 0', async () => {
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), valuesScenarioArb(), async (s, scenario) => {
          // Arrange
          const expected = await elementsModeRun(operator, scenario);
          // Act
          const run = await valuesModeRun(s, operator, scenario);
          // Assert
          expect(run.error).toBeUndefined();
          expect(run.completed).toBe(true);
          for (const el of run.outputs) expect(Object.keys(el)).toEqual(['kind', 'value']);
          if (mode === 'ordered') expect(run.outputs).toStrictEqual(expected);
          else expect(canonical(run.outputs)).toStrictEqual(canonical(expected));
          // Every input is called exactly once, unchanged, in input order (admission is FIFO in both modes).
          expect(run.calledWith).toHaveLength(scenario.inputs.length);
          run.calledWith.forEach((value, i) => expect(value).toBe(scenario.inputs[i]));
          expect(run.ctxTimestamps.every((t) => t === undefined)).toBe(true);
          expect(run.maxRunning).toBeLessThanOrEqual(scenario.capacity);
          expect(run.maxHeldGauge).toBeLessThanOrEqual(scenario.capacity);
          expect(run.negativeGauges).toBe(false);
          expect(run.finalMetrics).toEqual({
            ...ZERO_GAUGES,
            ...ZERO_OPTIONAL_COUNTERS,
            started: scenario.inputs.length,
            succeeded: scenario.inputs.length,
            failed: 0,
            timedOut: 0,
            retried: 0,
            emitted: run.outputs.length,
            watermarksCoalesced: 0,
            backPressureTime: expect.any(Number),
          });
          // backPressureTime is read on the real clock (fc.scheduler orders promises, not time): exactly 0 when every
          // input fits in capacity, so none ever waited beyond it, and otherwise only its sign is known.
          if (scenario.inputs.length <= scenario.capacity) expect(run.finalMetrics.backPressureTime).toBe(0);
          else expect(run.finalMetrics.backPressureTime).toBeGreaterThanOrEqual(0);
        }),
        { numRuns: 150 },
      );
    });
  });

  // ---- values that look like stream elements ------------------------------------------------------------------

  describe('values that look like stream elements', () => {
    const lookalikes: Array<[string, unknown]> = [
      ['a watermark-shaped object', { kind: 'watermark', timestamp: 5 }],
      ['a record-shaped object', { kind: 'record', value: 1 }],
      ['a record-shaped object with a timestamp', { kind: 'record', value: 1, timestamp: 7 }],
      ['a hand-made barrier', barrier(3)],
      ['a side-output-shaped object', { kind: 'sideOutput', tag: 'late', value: 1 }],
      ['undefined', undefined],
      ['null', null],
      ['a number', 0],
      ['a string', 'record'],
    ];

    it.each(lookalikes)('passes %s to fn as a value, unchanged, and emits it as a record value', (_label, value) => {
      // Arrange
      const seen: unknown[] = [];
      // Act
      const out = collect(of(value).pipe(operator((v: unknown) => {
        seen.push(v);
        return [v];
      }, { input: 'values' })));
      // Assert
      expect(out.error).toBeUndefined();
      expect(out.completed).toBe(true);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBe(value);
      expect(out.values).toHaveLength(1);
      expect(out.values[0]).toStrictEqual({ kind: 'record', value });
      expect((out.values[0] as { value: unknown }).value).toBe(value);
    });

    it('keeps look-alikes unchanged and in order while they wait beyond capacity as bare values', async () => {
      // Arrange: capacity 1, so all but the first wait in the queue beyond capacity.
      const inputs = lookalikes.map(([, value]) => value);
      const seen: unknown[] = [];
      const metrics = asyncWaitMetrics();
      const buffered: number[] = [];
      // Act
      const done = lastValueFrom(from(inputs).pipe(
        operator((v: unknown) => {
          seen.push(v);
          buffered.push(metrics.buffered);
          return Promise.resolve(v);
        }, { input: 'values', capacity: 1, metrics }),
        toArray(),
      ));
      // Assert: the whole flood is queued at once, then admitted one at a time.
      expect(metrics.buffered).toBe(inputs.length - 1);
      const out = await done;
      expect(seen).toHaveLength(inputs.length);
      seen.forEach((v, i) => expect(v).toBe(inputs[i]));
      expect(valuesOf(out)).toStrictEqual(inputs);
      // The first call starts before the rest of the flood arrives; each later one right after leaving the queue.
      expect(buffered).toEqual(inputs.map((_, i) => (i === 0 ? 0 : inputs.length - 1 - i)));
      expect(metrics.snapshot()).toEqual(expect.objectContaining({ ...ZERO_GAUGES, started: inputs.length, emitted: inputs.length }));
    });
  });

  // ---- capacity and FIFO -----------------------------------------------------------------------------------------

  describe('capacity and FIFO beyond capacity', () => {
    it('holds at most `capacity` values; buffered rises and falls; queued values are admitted in input order', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const metrics = asyncWaitMetrics();
      const snaps: AsyncWaitCounters[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 2, five values at 0, each call 10 ms.
        const source = cold<number>('(abcde|)', { a: 1, b: 2, c: 3, d: 4, e: 5 });
        for (const at of [1, 11, 21, 31]) scheduler.schedule(() => snaps.push(metrics.snapshot()), at);
        // Act
        const out = source.pipe(operator(delayedTimesTen(scheduler, { 1: 10, 2: 10, 3: 10, 4: 10, 5: 10 }, calls), {
          input: 'values', capacity: 2, metrics,
        }));
        // Assert
        expectObservable(out).toBe('10ms (AB) 6ms (CD) 6ms (E|)', {
          A: record(10), B: record(20), C: record(30), D: record(40), E: record(50),
        });
      });
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 0], [3, 10], [4, 10], [5, 20]]);
      expect(snaps.map((m) => [m.inFlight, m.waiting, m.buffered, m.started])).toEqual([[2, 0, 3, 2], [2, 0, 1, 4], [1, 0, 0, 5], [0, 0, 0, 5]]);
    });

    it('admits queued values in input order even when later calls finish first', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const seen: Array<[number, number]> = [];
      let completedAt: number | undefined;
      scheduler.run(({ cold }) => {
        // Arrange: capacity 2; 1 takes 20 ms, 2, 3 and 4 take 1 ms each.
        const source = cold<number>('(abcd|)', { a: 1, b: 2, c: 3, d: 4 });
        // Act
        source.pipe(operator(delayedTimesTen(scheduler, { 1: 20, 2: 1, 3: 1, 4: 1 }, calls), { input: 'values', capacity: 2 }), values())
          .subscribe({ next: (v) => seen.push([scheduler.now(), v]), complete: () => (completedAt = scheduler.now()) });
      });
      // Assert: ordered, 2 holds its slot behind 1 until 20, when 3 and 4 take the two freed slots;
      // unordered, 2 leaves at 1 and 3, then 4, go through the slot it frees.
      expect(calls.map((c) => c.value)).toEqual([1, 2, 3, 4]);
      expect(calls.map((c) => c.at)).toEqual(forMode(mode, { ordered: [0, 0, 20, 20], unordered: [0, 0, 1, 2] }));
      expect(seen).toEqual(forMode(mode, {
        ordered: [[20, 10], [20, 20], [21, 30], [21, 40]],
        unordered: [[1, 20], [2, 30], [3, 40], [20, 10]],
      }));
      expect(completedAt).toBe(forMode(mode, { ordered: 21, unordered: 20 }));
    });
  });

  describe('a long queue of bare values', () => {
    it('admits thousands of queued values in input order while new bursts arrive as the queue drains', async () => {
      // Arrange: capacity 3; three bursts (1500, 700, 2100 values) from a Subject, the queue draining in between,
      // so values are queued and admitted across many pushes and shifts; every call answers with a resolved promise.
      const input = new Subject<number>();
      const calls: number[] = [];
      const metrics = asyncWaitMetrics();
      const bufferedAfterBurst: number[] = [];
      const done = lastValueFrom(input.pipe(
        operator((x: number) => {
          calls.push(x);
          return Promise.resolve(x);
        }, { input: 'values', capacity: 3, metrics }),
        values(),
        toArray(),
      ));
      let next = 0;
      // Act
      for (const burst of [1500, 700, 2100]) {
        for (let i = 0; i < burst; i++) input.next(next++);
        bufferedAfterBurst.push(metrics.buffered);
        for (let i = 0; i < 50; i++) await Promise.resolve();
      }
      input.complete();
      const out = await done;
      // Assert
      const all = Array.from({ length: next }, (_, i) => i);
      expect(calls).toEqual(all);
      expect(mode === 'ordered' ? out : [...out].sort((a, b) => a - b)).toEqual(all);
      expect(bufferedAfterBurst[0]).toBe(1497);
      expect(bufferedAfterBurst[1]! > 1497 && bufferedAfterBurst[2]! > bufferedAfterBurst[1]!).toBe(true);
      expect(metrics.snapshot()).toEqual(expect.objectContaining({ ...ZERO_GAUGES, started: next, emitted: next }));
    });
  });

  // ---- completion, errors, unsubscribe -------------------------------------------------------------------------

  describe('completion, source error and unsubscribe', () => {
    it('completes only after every call, including values still queued when the source completed', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 1, three values of 4 ms each, source done at 0.
        const source = cold<number>('(abc|)', { a: 1, b: 2, c: 3 });
        // Act
        const out = source.pipe(operator(delayedTimesTen(scheduler, { 1: 4, 2: 4, 3: 4 }), { input: 'values', capacity: 1 }));
        // Assert
        expectObservable(out).toBe('4ms A 3ms B 3ms (C|)', { A: record(10), B: record(20), C: record(30) });
      });
    });

    it('waits for a call with zero results before completing', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<number>('(a|)', { a: 1 });
        // Act
        const out = source.pipe(operator(() => cold<number>('-----|'), { input: 'values' }));
        // Assert
        expectObservable(out).toBe('-----|');
      });
    });

    it('passes a source error on at once, aborting in-flight signals and dropping queued values', () => {
      const scheduler = newScheduler();
      const upstream = new Error('upstream');
      const signals: AbortSignal[] = [];
      const calls: Call[] = [];
      const metrics = asyncWaitMetrics();
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // Arrange: capacity 1; 1 is slow, 2 waits for its slot; the source errors at 5.
        const source = cold<number>('ab 3ms #', { a: 1, b: 2 }, upstream);
        const slow = cold('20ms (x|)', { x: 10 });
        const fn = logCalls(scheduler, calls, (_x, ctx) => {
          signals.push(ctx.signal);
          return slow;
        });
        // Act
        const out = source.pipe(operator(fn, { input: 'values', capacity: 1, metrics }));
        // Assert
        expectObservable(out).toBe('5ms #', undefined, upstream);
        expectSubscriptions(slow.subscriptions).toBe('^----!');
      });
      expect(calls.map((c) => c.value)).toEqual([1]);
      expect(signals[0]!.aborted).toBe(true);
      expect(metrics.snapshot()).toEqual(expect.objectContaining({ ...ZERO_GAUGES, started: 1, emitted: 0 }));
    });

    it('unsubscribing mid-flood aborts every signal in flight, drops the queued values and makes no further call', async () => {
      // Arrange: capacity 10 over a synchronous flood of 100 000 values; every call waits for the test.
      const metrics = asyncWaitMetrics();
      const calls: Array<{ value: number; signal: AbortSignal; answer: Deferred<number> }> = [];
      const out: StreamElement<number>[] = [];
      const subscription = range(0, 100_000).pipe(operator((value: number, ctx) => {
        const answer = deferred<number>();
        calls.push({ value, signal: ctx.signal, answer });
        return answer.promise;
      }, { input: 'values', capacity: 10, metrics })).subscribe((el) => out.push(el));
      expect(metrics.snapshot()).toEqual(expect.objectContaining({ started: 10, inFlight: 10, buffered: 99_990 }));
      // Three calls answer, three queued values take their slots.
      for (const call of calls.slice(0, 3)) call.answer.resolve(call.value);
      await flushMicrotasks();
      expect(out).toHaveLength(3);
      expect(calls.map((c) => c.value)).toEqual(Array.from({ length: 13 }, (_, i) => i));
      // Act
      subscription.unsubscribe();
      for (const call of calls.slice(3)) call.answer.resolve(call.value);
      await flushMicrotasks();
      // Assert
      expect(calls).toHaveLength(13);
      expect(calls.slice(3).every((c) => c.signal.aborted)).toBe(true);
      expect(calls.slice(0, 3).some((c) => c.signal.aborted)).toBe(false);
      expect(valuesOf(out)).toEqual([0, 1, 2]);
      expect(metrics.snapshot()).toEqual(expect.objectContaining({ ...ZERO_GAUGES, started: 13, succeeded: 3, emitted: 3 }));
    });

    it('stops calling fn when take(3) unsubscribes over a synchronous flood with synchronous results', () => {
      // Arrange
      let calls = 0;
      // Act
      const out = collect(range(0, 1_000_000).pipe(
        operator((x: number) => {
          calls++;
          return [x];
        }, { input: 'values', capacity: 5 }),
        values(),
        take(3),
      ));
      // Assert
      expect(out.values).toEqual([0, 1, 2]);
      expect(out.completed).toBe(true);
      expect(calls).toBe(3);
    });

    it('stops at once when the subscriber unsubscribes from inside next, with promise results and values queued', async () => {
      // Arrange: capacity 1 over a flood of 5; the subscriber leaves on the first result.
      const calls: number[] = [];
      const signals: AbortSignal[] = [];
      const got: StreamElement<number>[] = [];
      const metrics = asyncWaitMetrics();
      // Act
      const subscription = from([1, 2, 3, 4, 5]).pipe(operator((x: number, ctx) => {
        calls.push(x);
        signals.push(ctx.signal);
        return Promise.resolve(10 * x);
      }, { input: 'values', capacity: 1, metrics })).subscribe((el) => {
        got.push(el);
        subscription.unsubscribe();
      });
      await flushMicrotasks();
      // Assert: only the first result, and none of the queued values was admitted after it.
      expect(got).toEqual([record(10)]);
      expect(calls).toEqual([1]);
      expect(metrics.snapshot()).toEqual(expect.objectContaining({ ...ZERO_GAUGES, started: 1, emitted: 1 }));
    });
  });

  // ---- re-entrancy -------------------------------------------------------------------------------------------------

  describe('re-entrancy (a downstream pushing into the source Subject from inside next)', () => {
    it('accepts new values pushed from inside next', () => {
      const scheduler = newScheduler();
      const seen: Array<[number, number]> = [];
      scheduler.run(() => {
        // Arrange: every output feeds back as a new input until the value reaches 4.
        const input = new Subject<number>();
        input.pipe(operator((x: number) => timer(5).pipe(map(() => x + 1)), { input: 'values' }), values()).subscribe((v) => {
          seen.push([scheduler.now(), v]);
          if (v < 4) input.next(v);
        });
        // Act
        input.next(1);
      });
      // Assert
      expect(seen).toEqual([[5, 2], [10, 3], [15, 4]]);
    });

    it('emits values pushed from inside next after the results already being emitted, with synchronous calls', () => {
      // Arrange: each call answers [x + 1, x + 1001] synchronously; small outputs feed back.
      const input = new Subject<number>();
      const seen: number[] = [];
      input.pipe(operator((x: number) => [x + 1, x + 1001], { input: 'values' }), values()).subscribe((v) => {
        seen.push(v);
        if (v < 4) input.next(v);
      });
      // Act
      input.next(1);
      // Assert
      expect(seen).toEqual([2, 1002, 3, 1003, 4, 1004]);
    });

    it('does not let a value pushed from inside next overtake values already waiting beyond capacity', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      const seen: Array<[number, number]> = [];
      scheduler.run(() => {
        // Arrange: capacity 1, 5 ms calls; 2 waits for 1's slot; 1's output pushes 3 from inside next.
        const input = new Subject<number>();
        input.pipe(operator(delayedTimesTen(scheduler, { 1: 5, 2: 5, 3: 5 }, calls), { input: 'values', capacity: 1 }), values())
          .subscribe((v) => {
            seen.push([scheduler.now(), v]);
            if (v === 10) input.next(3);
          });
        // Act
        input.next(1);
        input.next(2);
      });
      // Assert
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 5], [3, 10]]);
      expect(seen).toEqual([[5, 10], [10, 20], [15, 30]]);
    });

    it('keeps FIFO with promise results: a value fed back from next queues behind the values already waiting', async () => {
      // Arrange: capacity 1; 1 and 10 arrive together; outputs below 5 feed back; 5 completes the source.
      const input = new Subject<number>();
      const calls: number[] = [];
      const metrics = asyncWaitMetrics();
      const done = lastValueFrom(input.pipe(
        operator((x: number) => {
          calls.push(x);
          return Promise.resolve(x + 1);
        }, { input: 'values', capacity: 1, metrics }),
        values(),
        tap((v) => {
          if (v < 5) input.next(v);
          else if (v === 5) input.complete();
        }),
        toArray(),
      ));
      // Act
      input.next(1);
      input.next(10);
      const seen = await done;
      // Assert: 2 (fed back while 10 waits) is called after 10.
      expect(calls).toEqual([1, 10, 2, 3, 4]);
      expect(seen).toEqual([2, 11, 3, 4, 5]);
      expect(metrics.snapshot()).toEqual(expect.objectContaining({ ...ZERO_GAUGES, started: 5, emitted: 5 }));
    });
  });

  // ---- timeouts, retries, fallbacks ----------------------------------------------------------------------------

  describe('timeouts, retries and fallbacks', () => {
    it('errors with AsyncTimeoutError carrying the plain value at the deadline', () => {
      const scheduler = newScheduler();
      const errors: unknown[] = [];
      const signals: AbortSignal[] = [];
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // Arrange: the call would answer at 8; the budget is 5 ms.
        const source = cold<number>('a', { a: 1 });
        const inner = cold('8ms (x|)', { x: 10 });
        // Act
        const out = source.pipe(operator((_x: number, ctx) => {
          signals.push(ctx.signal);
          return inner;
        }, { input: 'values', timeout: 5 }), captureError(errors));
        // Assert
        expectObservable(out).toBe('5ms #', undefined, timeoutErrorLike({ input: 1, timeout: 5, attempts: 1 }));
        expectSubscriptions(inner.subscriptions).toBe('^----!');
      });
      expect(errors[0]).toBeInstanceOf(AsyncTimeoutError);
      expect(signals[0]!.aborted).toBe(true);
    });

    it('uses onTimeout results at the deadline (with the plain value and no timestamp) and ignores the late real result', () => {
      const scheduler = newScheduler();
      const fallbackArgs: Array<[unknown, number, number | undefined]> = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: the real answer would come at 15; the budget is 10 ms; the source stays open until 20.
        const source = cold<number>('a 19ms |', { a: 1 });
        // Act
        const out = source.pipe(operator(() => cold('15ms (x|)', { x: 10 }), {
          input: 'values',
          timeout: 10,
          onTimeout: (x: number, ctx) => {
            fallbackArgs.push([x, ctx.attempt, ctx.timestamp]);
            return [-x];
          },
        }));
        // Assert
        expectObservable(out).toBe('10ms F 9ms |', { F: record(-1) });
      });
      expect(fallbackArgs).toEqual([[1, 1, undefined]]);
    });

    it('retries a failed call after the delay, with the attempt number', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: attempts 1 and 2 fail after 2 ms, attempt 3 answers after 2 ms; delay 10 ms.
        const source = cold<number>('(a|)', { a: 1 });
        const fn = logCalls(scheduler, calls, (x, ctx) =>
          ctx.attempt < 3 ? cold<number>('--#', undefined, new Error('down')) : cold('--(y|)', { y: 10 * x + ctx.attempt }));
        // Act
        const out = source.pipe(operator(fn, { input: 'values', retry: { maxRetries: 3, delay: 10 } }));
        // Assert
        expectObservable(out).toBe('26ms (A|)', { A: record(13) });
      });
      expect(calls.map((c) => [c.value, c.attempt, c.at])).toEqual([[1, 1, 0], [1, 2, 12], [1, 3, 24]]);
    });

    it('uses onError results (given the plain value) once the call has failed for good', () => {
      const scheduler = newScheduler();
      const boom = new Error('boom');
      const onErrorArgs: Array<[unknown, unknown]> = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: 1 fails at 2, 2 answers at 3.
        const source = cold<number>('(ab|)', { a: 1, b: 2 });
        // Act
        const out = source.pipe(operator((x: number) => (x === 1 ? cold<number>('--#', undefined, boom) : cold('---(y|)', { y: 20 })), {
          input: 'values',
          onError: (error, x: number) => {
            onErrorArgs.push([error, x]);
            return [-x];
          },
        }));
        // Assert
        expectObservable(out).toBe('--E(B|)', { E: record(-1), B: record(20) });
      });
      expect(onErrorArgs).toEqual([[boom, 1]]);
    });

    it('fails with AsyncCallError carrying the plain value and the cause without onError', () => {
      const scheduler = newScheduler();
      const boom = new Error('boom');
      const errors: unknown[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<string>('(a|)', { a: 'id-1' });
        // Act
        const out = source.pipe(operator(() => throwError(() => boom), { input: 'values' }), captureError(errors));
        // Assert
        expectObservable(out).toBe('#', undefined, callErrorLike({ input: 'id-1', attempts: 1, cause: boom }));
      });
      expect(errors[0]).toBeInstanceOf(AsyncCallError);
    });
  });

  // ---- validation --------------------------------------------------------------------------------------------------

  describe('validation of the input option', () => {
    it.each<[string, unknown, string]>([
      ["'value'", 'value', 'got "value"'],
      ['1', 1, 'got 1'],
      ["'Values'", 'Values', 'got "Values"'],
      ['null', null, 'got null'],
      ['true', true, 'got true'],
    ])('rejects input: %s with a TypeError naming the operator, "input" and the value', (_label, input, got) => {
      // Act
      const act = () => operator((x: number) => [x], { input } as never);
      // Assert
      expect(act).toThrow(TypeError);
      expect(act).toThrow(`${name}: option "input" must be 'elements' or 'values', ${got}`);
    });

    it("accepts input: 'elements' (the default), which takes StreamElements and keeps their timestamps", () => {
      // Act
      const out = collect(of(record(1, 5), watermark(6)).pipe(operator((x: number) => [2 * x], { input: 'elements' })));
      // Assert
      expect(out.values).toStrictEqual([record(2, 5), watermark(6)]);
      expect(out.completed).toBe(true);
    });

    it("still rejects a plain value in the default elements mode (input: 'elements' explicitly or left out)", () => {
      // Act
      const explicit = collect(of(1 as unknown as StreamElement<number>).pipe(operator((x: number) => [x], { input: 'elements' })));
      const implicit = collect(of(1 as unknown as StreamElement<number>).pipe(operator((x: number) => [x])));
      // Assert
      for (const out of [explicit, implicit]) {
        expect(out.error).toBeInstanceOf(TypeError);
        expect((out.error as Error).message).toContain('wrap plain values with toRecords()');
      }
    });
  });

  // ---- checkpointable ------------------------------------------------------------------------------------------------

  describe('inside checkpointable(...)', () => {
    it("errors the output with a TypeError about input 'values' and checkpointable when given to job.pipe", () => {
      // Arrange
      const store = new MemoryCheckpointStore();
      const fn = jest.fn((x: unknown) => [x]);
      const job = checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 1 } });
      // Act
      const run = start(job.pipe(operator(fn, { id: 'a', input: 'values' })));
      // Assert
      expect(run.error).toBeInstanceOf(TypeError);
      expect((run.error as Error).message).toContain(`${name}: option input: 'values' cannot be used inside a checkpointable pipeline`);
      expect(run.completed).toBe(false);
      expect(run.outputs).toEqual([]);
      expect(fn).not.toHaveBeenCalled();
      expect(store.list()).toEqual([]);
    });

    it('hidden inside a composed operator (invisible to pipe), errors as it is subscribed, before fn sees anything', () => {
      // Arrange
      const store = new MemoryCheckpointStore();
      const seen: unknown[] = [];
      const composed = pipe(mapRecords((x: number) => x), operator((x: unknown) => {
        seen.push(x);
        return [x];
      }, { id: 'hidden', input: 'values' }));
      // Act
      const run = start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 1 } }).pipe(composed));
      // Assert: the pipeline refuses the hidden stateful operator (a CheckpointBindingError, which is a TypeError).
      expect(run.error).toBeInstanceOf(CheckpointBindingError);
      expect((run.error as Error).message).toContain(`the ${name} (id "hidden") is inside a composed operator`);
      expect(seen).toEqual([]);
      expect(run.outputs).toEqual([]);
      expect(store.list()).toEqual([]);
    });
  });
});

// ---- types -----------------------------------------------------------------------------------------------------------

describe("input: 'values' types (checked by tsc --noEmit)", () => {
  it('a values-mode operator takes plain values and emits StreamElement<O>; elements mode still requires StreamElements', () => {
    // Arrange + Act
    const ordered = of(1, 2).pipe(asyncWaitOrdered((x: number) => [String(x)], { input: 'values' }));
    const unordered = of(1, 2).pipe(asyncWaitUnordered((x: number) => [String(x)], { input: 'values' }));
    const typed: Observable<StreamElement<string>>[] = [ordered, unordered];
    // @ts-expect-error: the output is StreamElement<string>, not string
    const notPlain: Observable<string> = of(1).pipe(asyncWaitOrdered((x: number) => [String(x)], { input: 'values' }));
    // @ts-expect-error: a values-mode operator over numbers does not take strings
    const wrongValue = of('a').pipe(asyncWaitUnordered((x: number) => [x], { input: 'values' }));
    // @ts-expect-error: elements mode (the default) does not take plain numbers
    const elementsDefault = of(1).pipe(asyncWaitOrdered((x: number) => [x]));
    // @ts-expect-error: input: 'elements' does not take plain numbers either
    const elementsExplicit = of(1).pipe(asyncWaitUnordered((x: number) => [x], { input: 'elements' }));
    const elementsOk: Observable<StreamElement<number>> = of(record(1)).pipe(asyncWaitOrdered((x: number) => [x], { input: 'elements' }));
    // Assert: the runtime agrees with the types.
    expect(collect(ordered).values).toStrictEqual([record('1'), record('2')]);
    expect(collect(typed[1]!).values).toHaveLength(2);
    expect(collect(notPlain).values).toStrictEqual([record('1')]);
    expect(collect(elementsOk).values).toStrictEqual([record(1)]);
    expect([wrongValue, elementsDefault, elementsExplicit].every((o) => o instanceof Observable)).toBe(true);
  });

  it('an input known only at run time does not compile, and AsyncWaitOptions cannot say values', () => {
    // Arrange
    const flag = Math.random() < 2;
    // @ts-expect-error: 'values' | 'elements' fits neither signature, so the mode cannot be mistyped
    const either = () => asyncWaitOrdered((x: number) => [x], { input: flag ? 'values' : 'elements' });
    // @ts-expect-error: AsyncWaitOptions is the elements mode; the values mode is AsyncWaitValuesOptions
    const wide: AsyncWaitOptions<number, number> = { input: 'values' };
    const narrow: AsyncWaitValuesOptions<number, number> = { input: 'values', capacity: 3 };
    // Act
    const viaType = of(1, 2).pipe(asyncWaitUnordered((x: number) => [x * 2], narrow));
    // Assert
    expect(typeof either).toBe('function');
    expect(wide.input).toBe('values');
    expect(collect(viaType).values).toStrictEqual([record(2), record(4)]);
  });
});

// ---- the property's scenarios and runners ---------------------------------------------------------------------------

/** How the call of input i answers. */
interface CallPlan {
  /** scheduled: a promise fc.scheduler resolves; resolved: an already resolved promise; array: a synchronous array. */
  readonly via: 'scheduled' | 'resolved' | 'array';
  /** Results of an array answer (0..2); a promise answers one. */
  readonly n: number;
}

interface ValuesScenario {
  readonly inputs: readonly unknown[];
  readonly plans: readonly CallPlan[];
  readonly capacity: number;
  /** true: a synchronous flood (from()); false: arrivals interleaved with the calls by fc.scheduler. */
  readonly flood: boolean;
}

const lookalikeArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant({ kind: 'watermark', timestamp: 5 }),
  fc.integer().map((value) => ({ kind: 'record', value })),
  fc.nat({ max: 9 }).map((checkpointId) => ({ kind: 'barrier', checkpointId })),
);

function valuesScenarioArb(): fc.Arbitrary<ValuesScenario> {
  const value = fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: -50, max: 50 }) },
    { weight: 2, arbitrary: fc.string({ maxLength: 3 }) },
    { weight: 1, arbitrary: fc.constantFrom(undefined, null) },
    { weight: 2, arbitrary: lookalikeArb },
  );
  const plan: fc.Arbitrary<CallPlan> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ via: fc.constant('scheduled' as const), n: fc.constant(1) }) },
    { weight: 2, arbitrary: fc.record({ via: fc.constant('resolved' as const), n: fc.constant(1) }) },
    { weight: 2, arbitrary: fc.record({ via: fc.constant('array' as const), n: fc.integer({ min: 0, max: 2 }) }) },
  );
  return fc.array(fc.tuple(value, plan), { maxLength: 25 }).chain((pairs) => fc.record({
    inputs: fc.constant(pairs.map(([v]) => v)),
    plans: fc.constant(pairs.map(([, p]) => p)),
    capacity: fc.integer({ min: 1, max: 5 }),
    flood: fc.boolean(),
  }));
}

/** The outputs of call i: `i.k` strings. */
const outputsOf = (plan: CallPlan, i: number): string[] =>
  Array.from({ length: plan.via === 'array' ? plan.n : 1 }, (_, k) => `${i}.${k}`);

/** Records in a canonical order, to compare multisets. */
const canonical = (elements: readonly StreamElement<string>[]): string[] => elements.map((el) => JSON.stringify(el)).sort();

/** The reference: the same inputs through toRecords() and the elements mode, every promise already resolved. */
async function elementsModeRun(operator: AsyncWaitOperator, scenario: ValuesScenario): Promise<StreamElement<string>[]> {
  let calls = 0;
  const fn = (): Promise<string> | string[] => {
    const i = calls++;
    const plan = scenario.plans[i]!;
    const outputs = outputsOf(plan, i);
    return plan.via === 'array' ? outputs : Promise.resolve(outputs[0]!);
  };
  return lastValueFrom(from(scenario.inputs).pipe(toRecords(), operator(fn, { capacity: scenario.capacity }), toArray()));
}

interface ValuesRun {
  readonly outputs: StreamElement<string>[];
  readonly completed: boolean;
  readonly error: unknown;
  readonly calledWith: unknown[];
  readonly ctxTimestamps: Array<number | undefined>;
  /** Most calls running at once (started, answer not yet delivered). */
  readonly maxRunning: number;
  /** Most records held at once by the gauges (inFlight + waiting), seen at every call and emission. */
  readonly maxHeldGauge: number;
  /** Whether a gauge was ever seen below 0. */
  readonly negativeGauges: boolean;
  readonly finalMetrics: AsyncWaitCounters;
}

/** Plays the scenario in values mode, with the calls' answers (and the arrivals, unless a flood) ordered by fc.scheduler. */
async function valuesModeRun(s: fc.Scheduler, operator: AsyncWaitOperator, scenario: ValuesScenario): Promise<ValuesRun> {
  const metrics = asyncWaitMetrics();
  const calledWith: unknown[] = [];
  const ctxTimestamps: Array<number | undefined> = [];
  let running = 0;
  let maxRunning = 0;
  let maxHeldGauge = 0;
  let negativeGauges = false;
  const watch = () => {
    maxHeldGauge = Math.max(maxHeldGauge, metrics.inFlight + metrics.waiting);
    if (metrics.inFlight < 0 || metrics.waiting < 0 || metrics.buffered < 0) negativeGauges = true;
  };
  const fn = (value: unknown, ctx: AsyncCallContext): Promise<string> | string[] => {
    const i = calledWith.length;
    calledWith.push(value);
    ctxTimestamps.push(ctx.timestamp);
    running++;
    maxRunning = Math.max(maxRunning, running);
    watch();
    const plan = scenario.plans[i]!;
    const outputs = outputsOf(plan, i);
    const answered = <T>(result: T): T => {
      running--;
      return result;
    };
    if (plan.via === 'array') return answered(outputs);
    if (plan.via === 'resolved') return Promise.resolve(outputs[0]!).then(answered);
    return s.schedule(Promise.resolve(outputs[0]!), `call ${i}`).then(answered);
  };

  const source = scenario.flood
    ? from(scenario.inputs)
    : new Observable<unknown>((subscriber) => {
      let stopped = false;
      void (async () => {
        for (const value of scenario.inputs) {
          await s.schedule(Promise.resolve(), 'arrival');
          if (stopped) return;
          subscriber.next(value);
          watch();
        }
        await s.schedule(Promise.resolve(), 'source complete');
        if (!stopped) subscriber.complete();
      })();
      return () => {
        stopped = true;
      };
    });

  const outputs: StreamElement<string>[] = [];
  let completed = false;
  let error: unknown;
  source.pipe(operator(fn, { input: 'values', capacity: scenario.capacity, metrics })).subscribe({
    next: (el) => {
      outputs.push(el);
      watch();
    },
    error: (err: unknown) => {
      error = err;
    },
    complete: () => {
      completed = true;
    },
  });
  watch();
  do {
    await s.waitIdle();
    await flushMicrotasks();
  } while (s.count() > 0);
  return { outputs, completed, error, calledWith, ctxTimestamps, maxRunning, maxHeldGauge, negativeGauges, finalMetrics: metrics.snapshot() };
}
