/**
 * Property tests of asyncWaitKeyed: random keys, latencies (synchronous answers included), single failures that
 * a retry mends, watermarks and side outputs, capacities, perKeyConcurrency and both orders, played in virtual
 * time (spec/support/keyedHarness.ts). Checked through what a user observes: outputs, calls, signals, metrics.
 */
import fc from 'fast-check';
import { keyedScenarioArb, recordsOf, runKeyed, type KeyedRun, type KeyedScenario } from '../support/keyedHarness';
import { soak } from '../support/soak';

const NUM_RUNS = soak(150, 600);

const outputIds = (run: KeyedRun): number[] =>
  run.outputs.flatMap(({ el }) => (el.kind === 'record' ? [el.value] : []));

/** Each key's record ids, in the order given. */
function byKey(scenario: KeyedScenario, ids: readonly number[]): Map<number, number[]> {
  const keyOf = new Map(recordsOf(scenario).map((r) => [r.id, r.key]));
  const groups = new Map<number, number[]>();
  for (const id of ids) {
    const key = keyOf.get(id)!;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(id);
  }
  return groups;
}

/** For each input element, the highest watermark before it in the input (0: none). */
function watermarkBefore(scenario: KeyedScenario): Map<number, number> {
  const before = new Map<number, number>();
  let wm = 0;
  for (const { el } of scenario.items) {
    if (el.kind === 'watermark') wm = el.timestamp;
    else if (el.kind === 'record') before.set(el.id, wm);
  }
  return before;
}

describe('asyncWaitKeyed properties', () => {
  it('exactly once, per-key order in both orders, and global input order in order "input"', () => {
    fc.assert(fc.property(keyedScenarioArb(), (scenario) => {
      // Act
      const run = runKeyed(scenario);

      // Assert
      expect(run.error).toBeUndefined();
      expect(run.completed).toBe(true);
      const ids = recordsOf(scenario).map((r) => r.id);
      const out = outputIds(run);
      expect([...out].sort((a, b) => a - b)).toEqual(ids); // every record once, none twice
      for (const group of byKey(scenario, out).values()) expect(group).toEqual([...group].sort((a, b) => a - b));
      if (scenario.order === 'input') expect(out).toEqual(ids);
      // Side outputs keep their order (they are markers: barriers like watermarks).
      const others = run.outputs.filter(({ el }) => (el as { kind: string }).kind === 'other').map(({ el }) => el);
      expect(others).toEqual(scenario.items.filter((i) => i.el.kind === 'other').map((i) => i.el));
    }), { numRuns: NUM_RUNS });
  });

  it('nothing crosses a watermark: each record leaves after the watermarks before it and before those after it', () => {
    fc.assert(fc.property(keyedScenarioArb(), (scenario) => {
      // Act
      const run = runKeyed(scenario);

      // Assert: watermarks rise in the input, and a run of them coalesces into its last, so the highest watermark
      // out before a record is exactly the last one before it in the input.
      expect(run.error).toBeUndefined();
      const expected = watermarkBefore(scenario);
      let highest = 0;
      for (const { el } of run.outputs) {
        if (el.kind === 'watermark') {
          expect(el.timestamp).toBeGreaterThan(highest); // in order, none twice
          highest = el.timestamp;
        } else if (el.kind === 'record') {
          expect(highest).toBe(expected.get(el.value));
        }
      }
    }), { numRuns: NUM_RUNS });
  });

  it('capacity bounds everything held; calls in flight stay within capacity and perKeyConcurrency; each key calls in input order', () => {
    fc.assert(fc.property(keyedScenarioArb(), (scenario) => {
      // Act
      const run = runKeyed(scenario);

      // Assert
      expect(run.error).toBeUndefined();
      for (const m of run.readings) {
        expect(m.inFlight + m.waiting).toBeLessThanOrEqual(scenario.capacity);
        expect(m.waitingForKey).toBeLessThanOrEqual(m.inFlight);
        expect(m.activeKeys).toBeLessThanOrEqual(m.inFlight + m.waiting);
      }
      for (const call of run.calls) {
        expect(call.inFlight).toBeLessThanOrEqual(scenario.capacity);
        expect(call.inFlightOfKey).toBeLessThanOrEqual(scenario.perKeyConcurrency);
      }
      // First calls of one key start in the key's input order (FIFO per key); with perKeyConcurrency 1, a key's
      // next first call starts only once the previous record has its result (retries included).
      const firsts = run.calls.filter((c) => c.attempt === 1);
      for (const group of byKey(scenario, firsts.map((c) => c.id)).values()) expect(group).toEqual([...group].sort((a, b) => a - b));
      if (scenario.perKeyConcurrency === 1) {
        const lastEnd = new Map<number, number>();
        for (const call of run.calls) {
          const before = lastEnd.get(call.key);
          if (call.attempt === 1 && before !== undefined) expect(call.start).toBeGreaterThanOrEqual(before);
          lastEnd.set(call.key, call.end ?? Infinity);
        }
      }
    }), { numRuns: NUM_RUNS });
  });

  it('a record of a free key never waits for a busy one: a first call starts on arrival unless its key already runs perKeyConcurrency records', () => {
    // Arrange: capacity above everything the scenario holds, so every record is admitted on arrival.
    const roomy = keyedScenarioArb({ keys: 3 }).map((scenario) => ({ ...scenario, capacity: 1_000 }));
    fc.assert(fc.property(roomy, (scenario) => {
      // Act
      const run = runKeyed(scenario);

      // Assert
      expect(run.error).toBeUndefined();
      let t = 0;
      const arrival = new Map<number, number>();
      for (const item of scenario.items) {
        t += item.gap;
        if (item.el.kind === 'record') arrival.set(item.el.id, t);
      }
      const finalEnd = new Map<number, number>(); // when each record had its result (its last call's end)
      for (const call of run.calls) finalEnd.set(call.id, call.end ?? Infinity);
      for (const call of run.calls.filter((c) => c.attempt === 1)) {
        const arrived = arrival.get(call.id)!;
        if (call.start === arrived) continue;
        // It started later: when it arrived, perKeyConcurrency earlier records of its key were still unsettled.
        const unsettled = run.calls.filter((c) => c.attempt === 1 && c.key === call.key && c.id < call.id && finalEnd.get(c.id)! >= arrived);
        expect(unsettled.length).toBeGreaterThanOrEqual(scenario.perKeyConcurrency);
      }
    }), { numRuns: NUM_RUNS });
  });

  it('no per-key entry or gauge outlives the run: after completion, and after an unsubscribe at any moment (signals aborted)', () => {
    fc.assert(fc.property(keyedScenarioArb(), fc.integer({ min: 0, max: 120 }), (scenario, at) => {
      // Act
      const completed = runKeyed(scenario);
      const cut = runKeyed(scenario, at);

      // Assert
      for (const run of [completed, cut]) {
        expect(run.error).toBeUndefined();
        expect(run.finalMetrics).toMatchObject({ activeKeys: 0, waitingForKey: 0, inFlight: 0, waiting: 0, buffered: 0 });
      }
      // Every call still running at the unsubscribe had its signal aborted.
      for (const call of cut.calls) if (call.end === undefined) expect(call.aborted).toBe(true);
    }), { numRuns: NUM_RUNS });
  });
});
