/**
 * Property tests of asyncBatchOrdered / asyncBatchUnordered.
 *
 * Every property plays random scenarios through the operator (spec/support/batchHarness.ts): records and
 * watermarks arriving at random virtual times; random maxBatchSize, linger, maxInFlightBatches, capacity and maybe a
 * weight limit; for every batch call a random latency and way of answering (an Observable after a delay, a
 * synchronous Observable, the array itself), some calls failing as a whole; for every record a few attempts whose
 * entry fails (an Error or a batchFailure). Failures are retried under a policy that lets every record succeed in
 * the end, or retried a little and then handed to onError. Time is virtual (a VirtualTimeScheduler), so each run is
 * deterministic; one property lets fc.scheduler() interleave Promise-returning calls instead.
 *
 * What is checked is what a user can observe: the output and its times, the batch calls (values, ctx, start and
 * end), when records joined a batch (`weigh` sees each attempt join; without a weight limit, a record admitted on
 * arrival joins on arrival), their AbortSignals, and the metrics.
 */
import fc from 'fast-check';
import { NEVER, Subject, VirtualTimeScheduler, finalize, map, timer } from 'rxjs';
import { asyncBatchOrdered, record, type StreamElement } from 'rxjs-sluice';
import { canonical, retryArb, splitBySegments } from '../support/asyncWaitHarness';
import {
  MODES, attemptsByRecord, batchScenarioArb, expectedOutput, finalResults, idOf, recordPlansOf, runBatchScenario,
  runBatchScenarioWithPromises, runningAtEndOf, sufficientRetries,
  type BatchRunResult, type BatchScenario, type FailureHandling, type Mode, type Unsubscribe,
} from '../support/batchHarness';
import { soak } from '../support/soak';

/** Runs per property: the soak variant (SLUICE_FULL=1, set by CI) tries five times as many scenarios. */
const NUM_RUNS = soak(100, 500);
const PROMISE_RUNS = soak(40, 200);

/** How failures end: retried until they succeed (the budget is raised to the scenario's need), or onError after 0-2 retries. */
type Failures = { readonly kind: 'retry' | 'onError'; readonly maxRetries: number; readonly delay: FailureHandling['delay'] };
const failuresArb: fc.Arbitrary<Failures> = fc.tuple(fc.constantFrom('retry' as const, 'onError' as const), retryArb())
  .map(([kind, { maxRetries, delay }]) => ({ kind, maxRetries: Math.min(maxRetries, 2), delay }));

function handlingFor(scenario: BatchScenario, failures: Failures): FailureHandling {
  return failures.kind === 'retry' ? { ...failures, maxRetries: failures.maxRetries + sufficientRetries(scenario) } : failures;
}

/** Plays the scenario to its end and checks that it ended cleanly. */
function runToEnd(scenario: BatchScenario, mode: Mode, failures: Failures): { run: BatchRunResult; handling: FailureHandling } {
  const handling = handlingFor(scenario, failures);
  const run = runBatchScenario(scenario, { mode, failures: handling });
  expect(run.error).toBeUndefined();
  expect(run.completedAt).toBeDefined();
  return { run, handling };
}

const elementsOf = (run: BatchRunResult): StreamElement<string>[] => run.outputs.map((e) => e.el);
const valuesOf = (elements: readonly StreamElement<string>[]): string[] =>
  elements.flatMap((el) => (el.kind === 'record' ? [el.value] : []));
const capacityOf = (scenario: BatchScenario): number => scenario.capacity ?? scenario.maxBatchSize * (scenario.maxInFlightBatches + 1);
const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

describe.each(MODES)('asyncBatch (%s): properties', (mode) => {
  it('P1: each record\'s results appear exactly once: those of its one successful attempt, or of onError once its retries ran out', () => {
    fc.assert(
      fc.property(batchScenarioArb(), failuresArb, (scenario, failures) => {
        // Arrange
        const records = recordPlansOf(scenario);
        // Act
        const { run, handling } = runToEnd(scenario, mode, failures);
        // Assert: every record was tried as attempts 1, 2, ..., n, one call each, and only its last one succeeded
        // (or none did, n is the whole budget, and onError was called once for it).
        const { attempts } = attemptsByRecord(scenario, run.calls);
        const okCount = records.map(() => 0);
        for (const call of run.calls) call.ids.forEach((id, i) => (okCount[id] += call.memberOk[i] ? 1 : 0));
        const fellBack = records.map((rec) => run.onErrorCalls.filter((c) => c.id === rec.id).length);
        const lastOk = (id: number): boolean => {
          const last = run.calls.filter((c) => c.ids.includes(id)).at(-1);
          return last?.memberOk[last.ids.indexOf(id)] === true;
        };
        const actual = records.map((rec) => ({
          id: rec.id, tried: attempts[rec.id], ok: okCount[rec.id], lastOk: lastOk(rec.id), fellBack: fellBack[rec.id],
        }));
        expect(actual).toStrictEqual(records.map((rec) => {
          const tried = attempts[rec.id]!.length;
          return okCount[rec.id] === 1 || handling.kind === 'retry'
            ? { id: rec.id, tried: range(1, tried), ok: 1, lastOk: true, fellBack: 0 }
            : { id: rec.id, tried: range(1, handling.maxRetries + 1), ok: 0, lastOk: false, fellBack: 1 };
        }));
        // The output holds exactly the final results of each record, each once ...
        const results = finalResults(scenario, run);
        const expected = results.flatMap((r) => r ?? []);
        const values = valuesOf(elementsOf(run));
        expect([...values].sort()).toStrictEqual(valuesOf(expected).sort());
        // ... a record's results leave together, in their own order.
        const positions = new Map<number, number[]>();
        run.outputs.forEach((e, i) => {
          if (e.el.kind === 'record') positions.set(idOf(e.el.value), [...(positions.get(idOf(e.el.value)) ?? []), i]);
        });
        const together = [...positions.values()];
        expect(together).toStrictEqual(together.map((at) => range(at[0]!, at[0]! + at.length - 1)));
        expect(run.outputs.filter((e) => e.el.kind === 'record').map((e) => e.el)).toStrictEqual(
          [...positions.keys()].flatMap((id) => results[id]!),
        );
        const m = run.finalMetrics;
        expect(m).toMatchObject({
          started: records.length,
          succeeded: okCount.filter((n) => n === 1).length,
          failed: fellBack.filter((n) => n === 1).length,
          retried: attempts.reduce((n, tried) => n + tried.length - 1, 0),
          emitted: values.length,
          inFlight: 0, waiting: 0, buffered: 0, batchesInFlight: 0,
        });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('P4: batch calls in flight never exceed maxInFlightBatches (counted in batchFn, and by metrics.batchesInFlight); held records never exceed capacity', () => {
    fc.assert(
      fc.property(batchScenarioArb(), failuresArb, (scenario, failures) => {
        // Act
        const { run } = runToEnd(scenario, mode, failures);
        // Assert
        expect(run.maxRunning).toBeLessThanOrEqual(scenario.maxInFlightBatches);
        expect(run.maxGauge).toBeLessThanOrEqual(scenario.maxInFlightBatches);
        // As each call starts, the gauge counts exactly the calls running (this one included).
        expect(run.calls.map((c) => c.gaugeAtStart)).toStrictEqual(run.calls.map((c) => c.runningAtStart));
        expect(run.negativeGauges).toStrictEqual([]);
        expect(run.finalMetrics.batchesInFlight).toBe(0);
        // Records in running calls, and records held in every stage, stay within capacity.
        const capacity = capacityOf(scenario);
        expect(Math.max(0, ...run.calls.map((c) => c.recordsInCallsAtStart))).toBeLessThanOrEqual(capacity);
        expect(run.maxHeld).toBeLessThanOrEqual(capacity);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('P5: no batch exceeds maxBatchSize (nor capacity), nor maxBatchWeight; ctx describes the batch; first attempts go in input order; the batch counters agree', () => {
    fc.assert(
      fc.property(batchScenarioArb(), failuresArb, (scenario, failures) => {
        // Arrange
        const records = recordPlansOf(scenario);
        // Act
        const { run } = runToEnd(scenario, mode, failures);
        // Assert
        const limit = Math.min(scenario.maxBatchSize, capacityOf(scenario));
        const weightLimit = scenario.maxBatchWeight ?? Infinity;
        const wrong = run.calls.filter((call) =>
          call.ids.length < 1 || call.ids.length > limit
          || call.ids.reduce((w, id) => w + records[id]!.weight, 0) > weightLimit
          || call.attempt !== Math.max(...call.attempts)
          || call.timestamps.some((t, i) => t !== records[call.ids[i]!]!.timestamp)
          || new Set(call.ids).size !== call.ids.length);
        expect(wrong.map(({ index, ids, attempts, attempt, timestamps }) => ({ index, ids, attempts, attempt, timestamps }))).toStrictEqual([]);
        // Admission is FIFO, and a record's first attempt joins the open batch as it is admitted.
        const firstAttempts = run.calls.flatMap((c) => c.ids.filter((_id, i) => c.attempts[i] === 1));
        expect(firstAttempts).toStrictEqual(records.map((r) => r.id));
        const m = run.finalMetrics;
        const sizes = run.calls.map((c) => c.ids.length);
        const { size, weight, linger, capacity, end } = m.flushes;
        expect(m).toMatchObject({
          batchesStarted: run.calls.length,
          batchedRecords: sizes.reduce((a, b) => a + b, 0),
          largestBatch: Math.max(0, ...sizes),
          batchesFailed: run.calls.filter((c) => c.outcome === 'error').length,
          batchesSucceeded: run.calls.filter((c) => c.outcome === 'complete').length,
        });
        expect(size + weight + linger + capacity + end).toBe(run.calls.length);
        if (scenario.maxBatchWeight === undefined) expect(weight).toBe(0);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('P6: no record waits in an open batch longer than linger, nor past the end of input, while a call slot is free', () => {
    fc.assert(
      fc.property(batchScenarioArb(), failuresArb, (scenario, failures) => {
        // Act
        const { run } = runToEnd(scenario, mode, failures);
        // Assert: a batch call that starts at S holds a record that joined at J (the earliest such time known;
        // the batch opened at J or before). Its batch was due, or flushed, by J + linger at the latest, and by the
        // end of input E if J <= E (a batch opened after E is due at once); from then on it starts as soon as a
        // slot is free at the end of a millisecond (once everything due then has run: earlier flushed batches go
        // first, but each fills a slot). So if S is past that deadline, every slot was taken at the end of the
        // deadline and after every call that ended before S.
        const max = scenario.maxInFlightBatches;
        let checked = 0;
        const late: object[] = [];
        for (const call of run.calls) {
          const joined = call.ids.flatMap((id, i) => {
            const t = run.joins.get(`${id}#${call.attempts[i]}`) ?? (call.attempts[i] === 1 ? run.firstJoin[id] : undefined);
            return t === undefined ? [] : [t];
          });
          if (joined.length === 0) continue;
          checked++;
          const joinedAt = Math.min(...joined);
          const deadline = Math.min(joinedAt + scenario.linger, Math.max(joinedAt, run.sourceCompleteAt));
          if (call.start <= deadline) continue;
          const moments = [deadline, ...run.calls.flatMap((c) => (c.end !== undefined && c.end > deadline && c.end < call.start ? [c.end] : []))];
          for (const t of moments) {
            const running = runningAtEndOf(run.calls, t);
            if (running < max) late.push({ call: call.index, ids: call.ids, start: call.start, deadline, t, running });
          }
        }
        expect(late).toStrictEqual([]);
        // Every call with a record on its first attempt admitted on arrival was checked (a sanity check of the harness).
        expect(checked).toBeGreaterThanOrEqual(run.calls.filter((c) => c.ids.some((id, i) => c.attempts[i] === 1 && run.firstJoin[id] !== undefined)).length);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('P7: the output completes exactly when the source has completed and the last call has ended, after every output', () => {
    fc.assert(
      fc.property(batchScenarioArb(), failuresArb, (scenario, failures) => {
        // Act
        const { run } = runToEnd(scenario, mode, failures);
        // Assert
        expect(run.calls.every((c) => c.outcome === 'complete' || c.outcome === 'error')).toBe(true);
        const lastCallEnd = Math.max(-Infinity, ...run.calls.map((c) => c.end!));
        expect(run.completedAt).toBe(Math.max(run.sourceCompleteAt, lastCallEnd));
        expect(run.completedAt).toBeGreaterThanOrEqual(Math.max(-Infinity, ...run.outputs.map((e) => e.t)));
        const expected = expectedOutput(scenario, finalResults(scenario, run), run.outputsBeforeArrival).elements;
        expect(run.outputs).toHaveLength(expected.length);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('P8: after an unsubscribe at a random moment, no batch call starts, nothing is emitted, and every signal of an unfinished call is aborted', () => {
    const unsubscribeArb: fc.Arbitrary<Unsubscribe> = fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 80 }).map((t) => ({ at: 'time' as const, t })) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 12 }).map((k) => ({ at: 'output' as const, k })) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 8 }).map((k) => ({ at: 'call' as const, k })) },
    );
    fc.assert(
      fc.property(batchScenarioArb({ hangs: true }), retryArb(), unsubscribeArb, (scenario, retry, unsubscribe) => {
        // Arrange: failures end in onError, so the output does not error; calls that never answer keep it open.
        const failures: FailureHandling = { kind: 'onError', maxRetries: Math.min(retry.maxRetries, 2), delay: retry.delay };
        // Act
        const run = runBatchScenario(scenario, { mode, failures, unsubscribe });
        // Assert
        expect(run.error).toBeUndefined();
        if (unsubscribe.at === 'time') expect(run.unsubscribeSeq).toBeDefined();
        if (run.unsubscribeSeq === undefined) {
          // No k-th output or call happened: the run went to its end, or hangs.
          if (unsubscribe.at === 'output') expect(run.outputs.length).toBeLessThan(unsubscribe.k);
          if (unsubscribe.at === 'call') expect(run.calls.length).toBeLessThanOrEqual(unsubscribe.k);
          return;
        }
        const cut = run.unsubscribeSeq;
        expect(run.callsAfterUnsubscribe).toBe(0);
        expect(run.calls.every((c) => c.startSeq < cut)).toBe(true);
        expect(run.outputsAfterUnsubscribe).toBe(0);
        const signals = run.calls.map((call) => {
          const finished = call.endSeq !== undefined && call.endSeq < cut && call.outcome !== 'unsubscribed';
          // The signal read as the call started, or (for the others) read only now.
          return { call: call.index, finished, aborted: (call.signal ?? call.ctx.signal).aborted };
        });
        expect(signals).toStrictEqual(signals.map(({ call, finished }) => ({ call, finished, aborted: !finished })));
        // An unfinished call's Observable was unsubscribed (or never subscribed: the call itself unsubscribed the output).
        const left = run.calls.filter((c, i) => !signals[i]!.finished && c.plan.via !== 'array' && c.outcome !== undefined && c.outcome !== 'unsubscribed');
        expect(left.map((c) => c.index)).toStrictEqual([]);
        if (run.completedAt === undefined) {
          expect(run.countersAfterUnsubscribe).toMatchObject({ batchesInFlight: 0, inFlight: 0, waiting: 0, buffered: 0 });
        }
        expect(run.finalMetrics.batchesInFlight).toBe(0);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('asyncBatchOrdered: output order', () => {
  it('P2: the output is the mapped input: each record\'s final results and the watermarks in input order (adjacent held watermarks coalesced)', () => {
    fc.assert(
      fc.property(batchScenarioArb(), failuresArb, (scenario, failures) => {
        // Act
        const { run } = runToEnd(scenario, 'ordered', failures);
        // Assert
        const { elements, coalesced } = expectedOutput(scenario, finalResults(scenario, run), run.outputsBeforeArrival);
        expect(elementsOf(run)).toStrictEqual(elements);
        expect(run.finalMetrics.watermarksCoalesced).toBe(coalesced);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('asyncBatchUnordered: watermarks', () => {
  it('P3: no record crosses a watermark: between two watermarks the output holds exactly the results of the records between them in the input', () => {
    fc.assert(
      fc.property(batchScenarioArb(), failuresArb, (scenario, failures) => {
        // Act
        const { run } = runToEnd(scenario, 'unordered', failures);
        // Assert
        const { elements, coalesced } = expectedOutput(scenario, finalResults(scenario, run), run.outputsBeforeArrival);
        const actual = splitBySegments(elementsOf(run));
        const expected = splitBySegments(elements);
        expect(actual.markers).toStrictEqual(expected.markers);
        expect(actual.segments.map(canonical)).toStrictEqual(expected.segments.map(canonical));
        expect(run.finalMetrics.watermarksCoalesced).toBe(coalesced);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe.each(MODES)('asyncBatch (%s) with Promise-returning calls, interleaved by fc.scheduler()', (mode) => {
  it('P1-P5: results exactly once, in order (ordered) or within their watermarks (unordered); in-flight calls, held records and batch sizes within their limits', async () => {
    await fc.assert(
      fc.asyncProperty(batchScenarioArb({ maxItems: 20 }), failuresArb, fc.scheduler(), async (scenario, failures, s) => {
        // Arrange
        const handling = handlingFor(scenario, failures);
        const records = recordPlansOf(scenario);
        // Act
        const run = await runBatchScenarioWithPromises(s, scenario, { mode, failures: handling });
        // Assert
        expect(run.error).toBeUndefined();
        expect(run.completed).toBe(true);
        const okAttempt = records.map((): number | undefined => undefined);
        for (const call of run.calls) call.ids.forEach((id, i) => { if (call.memberOk[i]) okAttempt[id] = call.attempts[i]; });
        const okCount = records.map((rec) => run.calls.reduce((n, c) => n + c.ids.filter((id, i) => id === rec.id && c.memberOk[i]).length, 0));
        const fellBack = new Set(run.onErrorIds);
        expect(run.onErrorIds).toHaveLength(fellBack.size);
        expect(records.map((rec) => okCount[rec.id]! + (fellBack.has(rec.id) ? 1 : 0))).toStrictEqual(records.map(() => 1));
        const results = records.map((rec) => (fellBack.has(rec.id)
          ? [{ kind: 'record' as const, value: `${rec.id}:E`, ...(rec.timestamp === undefined ? {} : { timestamp: rec.timestamp }) }]
          : Array.from({ length: rec.outputs }, (_, k) => ({
            kind: 'record' as const, value: `${rec.id}:${k}@${okAttempt[rec.id]}`, ...(rec.timestamp === undefined ? {} : { timestamp: rec.timestamp }),
          }))));
        const { elements } = expectedOutput(scenario, results, run.outputsBeforeArrival);
        if (mode === 'ordered') {
          expect(run.outputs).toStrictEqual(elements);
        } else {
          const actual = splitBySegments(run.outputs);
          const expected = splitBySegments(elements);
          expect(actual.markers).toStrictEqual(expected.markers);
          expect(actual.segments.map(canonical)).toStrictEqual(expected.segments.map(canonical));
        }
        expect(run.maxRunning).toBeLessThanOrEqual(scenario.maxInFlightBatches);
        expect(run.maxGauge).toBeLessThanOrEqual(scenario.maxInFlightBatches);
        expect(run.maxHeld).toBeLessThanOrEqual(capacityOf(scenario));
        expect(Math.max(0, ...run.calls.map((c) => c.ids.length))).toBeLessThanOrEqual(Math.min(scenario.maxBatchSize, capacityOf(scenario)));
        const weightLimit = scenario.maxBatchWeight ?? Infinity;
        expect(run.calls.filter((c) => c.ids.reduce((w, id) => w + records[id]!.weight, 0) > weightLimit)).toStrictEqual([]);
        expect(run.calls.every((c) => c.ended)).toBe(true);
        expect(run.finalMetrics).toMatchObject({ batchesInFlight: 0, inFlight: 0, waiting: 0, buffered: 0, batchesStarted: run.calls.length });
      }),
      { numRuns: PROMISE_RUNS },
    );
  });
});

describe('asyncBatch: an abandoned batch call is unsubscribed', () => {
  it('an unsubscribe unsubscribes the Observable of a running batch call (its finalizer runs, its timer never fires)', () => {
    // Arrange
    const scheduler = new VirtualTimeScheduler();
    const source = new Subject<StreamElement<number>>();
    const log: string[] = [];
    const batchFn = (xs: number[]) => timer(5, scheduler).pipe(
      map(() => {
        log.push('answered');
        return xs;
      }),
      finalize(() => log.push('finalized')),
    );
    const subscription = source.pipe(asyncBatchOrdered(batchFn, { maxBatchSize: 1, scheduler })).subscribe();
    source.next(record(1));
    // Act
    subscription.unsubscribe();
    scheduler.flush();
    // Assert
    expect(log).toStrictEqual(['finalized']);
  });

  it('when every record of a running call has timed out, the call\'s Observable is unsubscribed', () => {
    // Arrange
    const scheduler = new VirtualTimeScheduler();
    const source = new Subject<StreamElement<number>>();
    const log: string[] = [];
    const batchFn = () => NEVER.pipe(finalize(() => log.push('finalized')));
    source.pipe(asyncBatchOrdered(batchFn, { maxBatchSize: 1, timeout: 5, onTimeout: () => [], scheduler })).subscribe();
    // Act
    source.next(record(1));
    scheduler.flush();
    // Assert
    expect(log).toStrictEqual(['finalized']);
  });
});
