/**
 * Property tests of asyncWaitOrdered / asyncWaitUnordered (semantics: Flink's async I/O operator).
 *
 * Every property plays random scenarios (records, watermarks, barriers and unknown markers arriving at random
 * virtual times; for every call of every record a random delay, outcome and result shape; random capacity,
 * retry policy, timeout) through the operator in virtual time (spec/support/asyncWaitHarness.ts), and checks
 * what a user can observe: the output, the calls fn received, their AbortSignals and the metrics.
 *
 * Barriers: a barrier does not queue; it is forwarded the moment it arrives, overtaking every record and
 * marker still held (Flink's behaviour). So the expected output is the mapped input without its barriers
 * (records and watermarks / other markers keep their order or segments), with each barrier inserted right
 * after what had been output when it arrived.
 */
import fc from 'fast-check';
import { AsyncCallError, AsyncTimeoutError, type StreamElement } from 'rxjs-sluice';
import {
  MODES, canonical, expectedOutputs, expectedPromiseOutputs, failsOf, inputOf, isBarrierItem, isPlan, maxFailsOf,
  parseOut, recordsOf, retryArb, runScenario, runScenarioWithPromises, scenarioArb, splitBySegments,
  withBarriersOnArrival, withCoalescedWatermarks, withoutBarriers, type RecordPlan, type RunResult, type Scenario,
} from '../support/asyncWaitHarness';
import { soak } from '../support/soak';

/** Runs per property: the soak variant (SLUICE_FULL=1, set by CI) tries four times as many scenarios. */
const NUM_RUNS = soak(100, 400);
const capacityArb = fc.integer({ min: 1, max: 8 });
/** P7 and P7b: scenarios with hangs, a capacity, maybe retries, a timeout, and whether onTimeout / onError exist. */
const timeoutScenarioArbs = () =>
  [
    scenarioArb({ freeAttempts: true, hangs: true, maxDelay: 40 }),
    capacityArb,
    fc.option(retryArb(), { nil: undefined }),
    fc.integer({ min: 1, max: 30 }),
    fc.boolean(),
    fc.boolean(),
  ] as const;

/** The output of a scenario in which every record's first successful attempt is accepted, in input order. */
function mappedInput(scenario: Scenario, outputsOf = (rec: RecordPlan) => expectedOutputs(rec, failsOf(rec) + 1)) {
  return scenario.items.flatMap((item) => (isPlan(item.el) ? outputsOf(item.el) : [inputOf(item.el) as StreamElement<string>]));
}

/** The output elements of a run. */
const elementsOf = (run: RunResult) => run.outputs.map((e) => e.el);

/**
 * Asserts the unordered contract, barriers aside: same watermarks and other markers in the same order, and
 * between two of them the same records. (Barriers are checked by expectBarriersForwardedOnArrival.)
 */
function expectSameSegments(actual: readonly StreamElement<string>[], expected: readonly StreamElement<string>[]): void {
  const a = splitBySegments(withoutBarriers(actual));
  const e = splitBySegments(withoutBarriers(expected));
  expect(a.markers).toStrictEqual(e.markers);
  expect(a.segments.map(canonical)).toStrictEqual(e.segments.map(canonical));
  // Each output record is exactly the expected one (value and timestamp, no extra keys).
  const byValue = new Map(expected.flatMap((el) => (el.kind === 'record' ? [[el.value, el] as const] : [])));
  for (const el of actual) if (el.kind === 'record') expect(el).toStrictEqual(byValue.get(el.value));
}

/** Asserts that the results of one input leave together and in their own order. */
function expectResultsReleasedTogether(actual: readonly StreamElement<string>[], expected: readonly StreamElement<string>[]): void {
  const runsOf = (els: readonly StreamElement<string>[]) => {
    const runs: string[][] = [];
    let last: number | undefined;
    for (const el of els) {
      if (el.kind !== 'record') {
        last = undefined;
        continue;
      }
      const { id } = parseOut(el.value);
      if (id !== last) runs.push([]);
      runs[runs.length - 1]!.push(el.value);
      last = id;
    }
    return runs;
  };
  const expectedRuns = new Map(runsOf(expected).map((run) => [parseOut(run[0]!).id, run]));
  const actualRuns = runsOf(actual);
  expect(new Set(actualRuns.map((run) => parseOut(run[0]!).id)).size).toBe(actualRuns.length);
  for (const run of actualRuns) expect(run).toStrictEqual(expectedRuns.get(parseOut(run[0]!).id));
}

/**
 * Asserts that every barrier of the scenario left the moment it arrived: it is the very next thing the
 * operator did after the source's next (no call started, nothing else output in between), and so it sits in
 * the output right after what had been output before its arrival. Barriers keep their input order.
 */
function expectBarriersForwardedOnArrival(run: RunResult, scenario: Scenario): void {
  const barriers = scenario.items.flatMap((item, i) => (isBarrierItem(item.el) ? [{ el: item.el, i }] : []));
  expect(run.outputs.filter((e) => e.el.kind === 'barrier').map((e) => e.el)).toStrictEqual(barriers.map((b) => b.el));
  for (const { el, i } of barriers) {
    const out = run.outputs[run.outputsBeforeArrival[i]!];
    expect(out?.el).toStrictEqual(el);
    expect(out?.seq).toBe(run.arrivalSeqs[i]! + 1);
    expect(out?.t).toBe(run.arrivals[i]);
  }
}

describe('asyncWaitOrdered: output order', () => {
  it('P1: the output is exactly the mapped input, records and watermarks / other markers in input order, barriers on arrival', () => {
    fc.assert(
      fc.property(scenarioArb({ maxFails: 1 }), capacityArb, retryArb(), (scenario, capacity, retry) => {
        // Arrange
        const options = { mode: 'ordered' as const, capacity, retry: { ...retry, maxRetries: Math.max(retry.maxRetries, maxFailsOf(scenario)) } };
        // Act
        const run = runScenario(scenario, options);
        // Assert
        expect(run.error).toBeUndefined();
        const { barrierFree, coalesced } = withCoalescedWatermarks(scenario, mappedInput(scenario), run.outputsBeforeArrival);
        expect(withoutBarriers(elementsOf(run))).toStrictEqual(barrierFree);
        expect(run.finalMetrics.watermarksCoalesced).toBe(coalesced);
        expect(elementsOf(run)).toStrictEqual(withBarriersOnArrival(scenario, barrierFree, run.outputsBeforeArrival));
        expectBarriersForwardedOnArrival(run, scenario);
        expect(run.completedAt).toBeDefined();
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe.each(MODES)('async-wait %s', (mode) => {
  it('P2: same records as the input, none crosses a watermark or other marker, and barriers go out on arrival', () => {
    fc.assert(
      fc.property(scenarioArb(), capacityArb, (scenario, capacity) => {
        // Arrange
        const mapped = mappedInput(scenario);
        // Act
        const run = runScenario(scenario, { mode, capacity });
        // Assert
        expect(run.error).toBeUndefined();
        const { barrierFree, coalesced } = withCoalescedWatermarks(scenario, mapped, run.outputsBeforeArrival);
        expectSameSegments(elementsOf(run), barrierFree);
        expect(run.finalMetrics.watermarksCoalesced).toBe(coalesced);
        expectBarriersForwardedOnArrival(run, scenario);
        // Results of one input are never split, by a marker or by a barrier that overtakes them.
        expectResultsReleasedTogether(elementsOf(run), barrierFree);
        expect(run.completedAt).toBeDefined();
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('P3: calls in flight and held records never exceed capacity; admission is FIFO', () => {
    fc.assert(
      fc.property(scenarioArb({ maxFails: 2, maxItems: 40 }), capacityArb, retryArb(), (scenario, capacity, retry) => {
        // Arrange
        const options = { mode, capacity, retry: { ...retry, maxRetries: Math.max(retry.maxRetries, maxFailsOf(scenario)) } };
        // Act
        const run = runScenario(scenario, options);
        // Assert
        expect(run.error).toBeUndefined();
        expect(run.maxRunning).toBeLessThanOrEqual(capacity);
        // Held = started and not yet releasable (a lower bound of the true count, observed from outside) ...
        expect(run.maxHeldModel).toBeLessThanOrEqual(capacity);
        // ... and as the gauges report it (inFlight + waiting), which must also never go negative.
        expect(run.maxHeldGauge).toBeLessThanOrEqual(capacity);
        expect(run.negativeGauges).toStrictEqual([]);
        expect(run.firstCallOrder).toStrictEqual(recordsOf(scenario).map((r) => r.id));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('P4: with failures and retries, each input\'s results appear exactly once (from its successful attempt)', () => {
    fc.assert(
      fc.property(scenarioArb({ maxFails: 3 }), capacityArb, retryArb(), (scenario, capacity, retry) => {
        // Arrange
        const maxRetries = Math.max(retry.maxRetries, maxFailsOf(scenario));
        const records = recordsOf(scenario);
        // Act
        const run = runScenario(scenario, { mode, capacity, retry: { ...retry, maxRetries } });
        // Assert
        expect(run.error).toBeUndefined();
        expect(run.completedAt).toBeDefined();
        const values = elementsOf(run).flatMap((el) => (el.kind === 'record' ? [el.value] : []));
        const expectedValues = records.flatMap((rec) => expectedOutputs(rec, failsOf(rec) + 1).map((el) => (el as { value: string }).value));
        expect([...values].sort()).toStrictEqual([...expectedValues].sort());
        // Exactly failsOf + 1 calls per record, numbered 1, 2, ...
        for (const rec of records) {
          expect(run.calls.filter((c) => c.id === rec.id).map((c) => c.attempt))
            .toStrictEqual(Array.from({ length: failsOf(rec) + 1 }, (_, i) => i + 1));
        }
        const m = run.finalMetrics;
        expect(m).toMatchObject({
          started: records.length, succeeded: records.length, failed: 0, timedOut: 0,
          retried: records.reduce((n, rec) => n + failsOf(rec), 0), emitted: expectedValues.length,
          inFlight: 0, waiting: 0, buffered: 0,
        });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('P5: the output completes exactly when the source has completed and every call has finished', () => {
    fc.assert(
      fc.property(scenarioArb({ maxFails: 2 }), capacityArb, retryArb(), (scenario, capacity, retry) => {
        // Arrange
        const options = { mode, capacity, retry: { ...retry, maxRetries: Math.max(retry.maxRetries, maxFailsOf(scenario)) } };
        // Act
        const run = runScenario(scenario, options);
        // Assert
        expect(run.error).toBeUndefined();
        expect(run.calls.every((c) => c.outcome === 'complete' || c.outcome === 'error')).toBe(true);
        const lastCallEnd = run.calls.reduce((t, c) => Math.max(t, c.end!), -Infinity);
        expect(run.completedAt).toBe(Math.max(run.sourceCompleteAt, lastCallEnd));
        const lastEmission = run.outputs.reduce((t, e) => Math.max(t, e.t), -Infinity);
        expect(run.completedAt).toBeGreaterThanOrEqual(lastEmission);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('P5b: every element leaves as soon as it may: not earlier, not later', () => {
    fc.assert(
      fc.property(scenarioArb({ maxFails: 2 }), capacityArb, retryArb(), (scenario, capacity, retry) => {
        // Arrange
        const options = { mode, capacity, retry: { ...retry, maxRetries: Math.max(retry.maxRetries, maxFailsOf(scenario)) } };
        // Act
        const run = runScenario(scenario, options);
        // Assert: a record's results leave once its final call has ended and (ordered) every earlier record's,
        // or (unordered) every record's before the last watermark / other marker ahead of it; such a marker
        // once every record before it has ended (and it has arrived); a barrier when it arrives, holding
        // nothing back. A watermark merged into the one before it (coalescing) does not leave on its own.
        const { merged } = withCoalescedWatermarks(scenario, mappedInput(scenario), run.outputsBeforeArrival);
        const finalEnd = new Map<number, number>();
        for (const c of run.calls) finalEnd.set(c.id, Math.max(finalEnd.get(c.id) ?? -Infinity, c.end!));
        const expectedTimes: number[] = [];
        let allBefore = -Infinity; // latest final end of every record so far
        let segmentsBefore = -Infinity; // latest final end of the records before the last marker
        scenario.items.forEach((item, i) => {
          if (isPlan(item.el)) {
            const own = finalEnd.get(item.el.id)!;
            allBefore = Math.max(allBefore, own);
            const release = mode === 'ordered' ? allBefore : Math.max(own, segmentsBefore);
            for (let k = 0; k < item.el.outputs; k++) expectedTimes.push(release);
          } else if (isBarrierItem(item.el)) {
            expectedTimes.push(run.arrivals[i]!);
          } else if (!merged[i]) {
            const release = Math.max(allBefore, run.arrivals[i]!);
            if (mode === 'ordered') allBefore = release;
            segmentsBefore = release;
            expectedTimes.push(release);
          }
        });
        // Match each output to its input element: by value for records, by input order for barriers and, apart,
        // for the other markers (a barrier may overtake a held watermark, never another barrier).
        const timeOf = new Map<string, number>();
        const barrierTimes: number[] = [];
        const markerTimes: number[] = [];
        for (const e of run.outputs) {
          if (e.el.kind === 'record') timeOf.set(e.el.value, e.t);
          else if (e.el.kind === 'barrier') barrierTimes.push(e.t);
          else markerTimes.push(e.t);
        }
        const actualTimes: number[] = [];
        let b = 0;
        let m = 0;
        scenario.items.forEach((item, i) => {
          if (isPlan(item.el)) {
            for (let k = 0; k < item.el.outputs; k++) actualTimes.push(timeOf.get(`${item.el.id}:${k}@${failsOf(item.el) + 1}`)!);
          } else if (isBarrierItem(item.el)) actualTimes.push(barrierTimes[b++]!);
          else if (!merged[i]) actualTimes.push(markerTimes[m++]!);
        });
        expect(m).toBe(markerTimes.length);
        expect(actualTimes).toStrictEqual(expectedTimes);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('P6: after unsubscribe no call starts, every live signal is aborted and the gauges are 0', () => {
    fc.assert(
      fc.property(
        scenarioArb({ freeAttempts: true, hangs: true, maxItems: 40 }), capacityArb, retryArb(), fc.integer({ min: 0, max: 80 }),
        (scenario, capacity, retry, unsubscribeAt) => {
          // Arrange: onError keeps failures from ending the output, hanging calls keep it open.
          const options = { mode, capacity, retry, onError: true, unsubscribeAt };
          // Act
          const run = runScenario(scenario, options);
          // Assert
          expect(run.unsubscribeSeq).toBeDefined();
          expect(run.callsAfterUnsubscribe).toBe(0);
          expect(run.outputsAfterUnsubscribe).toBe(0);
          const endedBefore = (c: (typeof run.calls)[number]) =>
            (c.outcome === 'complete' || c.outcome === 'error') && c.endSeq! < run.unsubscribeSeq!;
          const live = run.calls.filter((c) => !endedBefore(c));
          expect(live.filter((c) => !c.signal.aborted)).toStrictEqual([]);
          // A call that completed normally keeps a live signal.
          const succeeded = run.calls.filter((c) => c.outcome === 'complete' && endedBefore(c));
          expect(succeeded.filter((c) => c.signal.aborted)).toStrictEqual([]);
          expect(run.runningAfterUnsubscribe).toBe(0);
          expect(run.runningAfterEnd).toBe(0);
          expect(run.gaugesAfterUnsubscribe).toStrictEqual({ inFlight: 0, waiting: 0, buffered: 0 });
          expect(run.finalMetrics).toMatchObject({ inFlight: 0, waiting: 0, buffered: 0 });
          expect(run.negativeGauges).toStrictEqual([]);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('P7: with timeouts, retries and random failures the output always terminates, in bounded virtual time', () => {
    fc.assert(
      fc.property(
        ...timeoutScenarioArbs(),
        (scenario, capacity, retry, timeout, onTimeout, onError) => {
          // Arrange
          const records = recordsOf(scenario);
          const options = { mode, capacity, timeout, onTimeout, onError, ...(retry !== undefined ? { retry } : {}) };
          // Act
          const run = runScenario(scenario, options);
          // Assert: it terminated, one way or the other, and with an allowed error.
          expect((run.completedAt === undefined) !== (run.erroredAt === undefined)).toBe(true);
          if (run.erroredAt !== undefined) {
            expect(run.error instanceof AsyncTimeoutError || run.error instanceof AsyncCallError).toBe(true);
            if (onTimeout) expect(run.error).not.toBeInstanceOf(AsyncTimeoutError);
            if (onError) expect(run.error).not.toBeInstanceOf(AsyncCallError);
          }
          // Every record is released at the latest `timeout` after its admission, and a side output or other marker
          // (which takes a slot like a record) no later than the records before it. So every slot turns over within
          // `timeout`, and with `capacity` slots the elements that may take one are out by this bound (it counts
          // watermarks too, which take none, and leaves out barriers, which do not queue: an upper bound):
          const queued = scenario.items.filter((item) => !isBarrierItem(item.el)).length;
          const end = run.completedAt ?? run.erroredAt!;
          expect(end).toBeLessThanOrEqual(run.sourceCompleteAt + Math.ceil(queued / capacity) * timeout);
          // No call (first or retry) starts once its element's budget is spent.
          expect(run.callsAfterDeadline).toStrictEqual([]);
          // Nothing is left running, every abandoned call's signal is aborted, and the gauges are back to 0.
          expect(run.runningAfterEnd).toBe(0);
          expect(run.calls.filter((c) => c.outcome === 'unsubscribed' && !c.signal.aborted)).toStrictEqual([]);
          expect(run.finalMetrics).toMatchObject({ inFlight: 0, waiting: 0, buffered: 0 });
          if (run.completedAt !== undefined) {
            // Each record settled exactly one way, and its results came out once, all from that one way.
            const m = run.finalMetrics;
            expect(m.started).toBe(records.length);
            expect(m.succeeded + m.failed + m.timedOut).toBe(records.length);
            const byRecord = new Map<number, string[]>();
            for (const el of elementsOf(run)) {
              if (el.kind !== 'record') continue;
              const { id } = parseOut(el.value);
              byRecord.set(id, [...(byRecord.get(id) ?? []), el.value]);
            }
            for (const [id, values] of byRecord) {
              const sources = new Set(values.map((v) => parseOut(v).attempt));
              expect(sources.size).toBe(1);
              const source = [...sources][0]!;
              const count = source === 'f' ? 1 : records[id]!.outputs;
              expect(values).toStrictEqual(
                source === 'f' ? [values[0]] : Array.from({ length: count }, (_, k) => `${id}:${k}@${source}`),
              );
            }
            if (mode === 'ordered') {
              const ids = elementsOf(run).flatMap((el) => (el.kind === 'record' ? [parseOut(el.value).id] : []));
              expect(ids).toStrictEqual([...ids].sort((a, b) => a - b));
            }
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('P7b: timeouts fire exactly `timeout` after admission; timeout and call errors report what happened', () => {
    fc.assert(
      fc.property(
        ...timeoutScenarioArbs(),
        (scenario, capacity, retry, timeout, onTimeout, onError) => {
          // Arrange
          const options = { mode, capacity, timeout, onTimeout, onError, ...(retry !== undefined ? { retry } : {}) };
          // Act
          const run = runScenario(scenario, options);
          // Assert
          const callsOf = (id: number) => run.calls.filter((c) => c.id === id);
          const attemptsAllowed = retry === undefined ? 1 : retry.maxRetries + 1;
          if (run.error instanceof AsyncTimeoutError) {
            // It fires exactly `timeout` after the element's admission, reports the attempts made and the
            // failure behind a pending retry, and aborts the element's signal with itself as the reason.
            const id = run.error.input as number;
            const lastFailed = callsOf(id).filter((c) => c.outcome === 'error').at(-1);
            expect(run.erroredAt).toBe(run.firstCallAt[id]! + timeout);
            expect(run.error.timeout).toBe(timeout);
            expect(run.error.attempts).toBe(callsOf(id).length);
            // cause = the element's most recent call failure (the one behind the retry that was waiting or
            // running when time ran out), else undefined. No retries on results here, so nothing clears it.
            expect(run.error.cause).toBe(lastFailed?.error);
            expect(callsOf(id).every((c) => c.signal.aborted && c.signal.reason === run.error)).toBe(true);
          }
          if (run.error instanceof AsyncCallError) {
            const id = run.error.input as number;
            expect(run.error.attempts).toBe(attemptsAllowed);
            expect(callsOf(id).length).toBe(attemptsAllowed);
            expect(run.error.cause).toBe(callsOf(id).at(-1)!.error);
          }
          for (const t of run.timeoutCalls) {
            expect(t.t).toBe(run.firstCallAt[t.id]! + timeout);
            expect(t.attempt).toBe(callsOf(t.id).length);
          }
          for (const e of run.errorCalls) {
            expect(callsOf(e.id).length).toBe(attemptsAllowed);
            expect(e.error).toBe(callsOf(e.id).at(-1)!.error);
          }
          // A call that completes before the deadline is never overridden by the timeout.
          for (const c of run.calls) {
            if (c.outcome === 'complete' && c.end! < run.firstCallAt[c.id]! + timeout) {
              expect(run.timeoutCalls.filter((t) => t.id === c.id)).toStrictEqual([]);
            }
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('P8: with Promise-returning calls (fc.scheduler interleavings): order, exactly-once, capacity, completion', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(), scenarioArb({ maxFails: 2, maxItems: 25 }), capacityArb, fc.integer({ min: 0, max: 1 }),
        async (s, scenario, capacity, extraRetries) => {
          // Arrange
          const records = recordsOf(scenario);
          const maxRetries = maxFailsOf(scenario) + extraRetries;
          const mapped = mappedInput(scenario, (rec) => expectedPromiseOutputs(rec, failsOf(rec) + 1));
          // Act
          const run = await runScenarioWithPromises(s, scenario, { mode, capacity, maxRetries });
          // Assert
          expect(run.error).toBeUndefined();
          expect(run.completed).toBe(true);
          const { barrierFree, coalesced } = withCoalescedWatermarks(scenario, mapped, run.outputsBeforeArrival);
          if (mode === 'ordered') {
            expect(withoutBarriers(run.outputs)).toStrictEqual(barrierFree);
            expect(run.outputs).toStrictEqual(withBarriersOnArrival(scenario, barrierFree, run.outputsBeforeArrival));
          } else expectSameSegments(run.outputs, barrierFree);
          expect(run.outputs.length).toBe(mapped.length - coalesced);
          expect(run.finalMetrics.watermarksCoalesced).toBe(coalesced);
          // Each barrier went out inside the source's next that delivered it, and was the only output there.
          expect(run.outputs.filter((el) => el.kind === 'barrier'))
            .toStrictEqual(scenario.items.flatMap((item) => (isBarrierItem(item.el) ? [item.el] : [])));
          scenario.items.forEach((item, i) => {
            if (!isBarrierItem(item.el)) return;
            expect(run.outputs[run.outputsBeforeArrival[i]!]).toStrictEqual(item.el);
            expect(run.outputsAfterArrival[i]! - run.outputsBeforeArrival[i]!).toBe(1);
          });
          expectResultsReleasedTogether(run.outputs, barrierFree);
          for (const rec of records) {
            expect(run.calls.filter((c) => c.id === rec.id).map((c) => c.attempt))
              .toStrictEqual(Array.from({ length: failsOf(rec) + 1 }, (_, i) => i + 1));
          }
          expect(run.maxRunning).toBeLessThanOrEqual(capacity);
          expect(run.maxHeldModel).toBeLessThanOrEqual(capacity);
          expect(run.maxHeldGauge).toBeLessThanOrEqual(capacity);
          expect(run.firstCallOrder).toStrictEqual(records.map((r) => r.id));
          expect(run.finalMetrics).toMatchObject({ emitted: run.outputs.length - splitBySegments(run.outputs).markers.length, inFlight: 0, waiting: 0, buffered: 0 });
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
