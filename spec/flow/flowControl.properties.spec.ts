/**
 * Properties of flow control: random inputs, random per-call latencies, random capacities, every flow-controlled
 * operator (asyncWaitOrdered / Unordered, asyncBatchOrdered / Unordered).
 *
 * - The read-ahead bound, checked at every read, at every record entering an operator and at every output (the
 *   figures only grow at a read, so these moments cover every peak):
 *   one operator fed by a pull source, directly or through map / filter, holds at most `capacity + 1` records
 *   received and not yet emitted; through a synchronous mergeMap of fan-out k, `capacity + k`. A chain of two
 *   operators: read − emitted by the last ≤ c1 + c2 + 1 (a read happens only while no operator has inputs waiting,
 *   so each holds at most its capacity then), the first holds ≤ c1 + 1 and the second ≤ c2 + 1 + c1 (the sum over
 *   operators of capacity + pending: the first one's pending is at most 1, the second's at most 1 + c1, what the
 *   first one holds when the second fills and then passes on while the source is paused).
 * - Flow control changes when records are read, never what comes out: the output equals that of the same pipeline
 *   fed by from() (in the same order for the ordered operators), and the run completes. In virtual time (timers,
 *   and calls answering at once), and with promises interleaved by fc.scheduler() (an async iterator read by
 *   `pulled`, calls that are promises).
 * - Exactly-once under crash and restore with a paused source: a checkpointable pipeline over arraySource into
 *   asyncWaitOrdered or asyncBatchOrdered, crashed (unsubscribed) at random moments and restarted over the same
 *   MemoryCheckpointStore, commits exactly the uninterrupted run's output; and every checkpoint it writes holds at
 *   most capacity + 1 records in the operator's snapshot (whatever the length of the input).
 */
import fc from 'fast-check';
import {
  VirtualTimeScheduler, filter, from, map, mergeMap, of, tap, type Observable, type OperatorFunction, type SchedulerLike,
} from 'rxjs';
import {
  arraySource, checkpointable, MemoryCheckpointStore, pulled, readLatestCheckpoint, sourceMetrics,
  type CheckpointStore, type StreamElement,
} from 'rxjs-sluice';
import { fcRxScheduler } from '../support/asyncWaitHarness';
import {
  FLOW_KINDS, elementsOperator, heldBy, indices, isOrdered, valuesOperator, type BatchKnobs, type FlowKind, type Latency,
} from '../support/flowHarness';
import { soak } from '../support/soak';
import { crashesArb, deduplicated, runToCrash, type Crash, type RunLog } from '../support/crashRuns';

/** Runs per property: the soak variant (SLUICE_FULL=1, set by CI) tries five times as many scenarios. */
const NUM_RUNS = soak(100, 500);

// ---- scenarios -----------------------------------------------------------------------------------------------------

const kindArb = fc.constantFrom<FlowKind>(...FLOW_KINDS);
const latencyArb: fc.Arbitrary<number | 'sync'> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 15 }) },
  { weight: 1, arbitrary: fc.constant('sync' as const) },
);
const latenciesArb = fc.array(latencyArb, { minLength: 1, maxLength: 12 });
const batchArb: fc.Arbitrary<BatchKnobs> = fc.record({
  maxBatchSize: fc.integer({ min: 1, max: 4 }),
  maxInFlightBatches: fc.integer({ min: 1, max: 3 }),
  linger: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 6 })),
});
/** What goes between the source and the operator: nothing, map, filter, or a synchronous mergeMap of fan-out k. */
type Between = { readonly kind: 'none' } | { readonly kind: 'map' } | { readonly kind: 'filter' } | { readonly kind: 'fanOut'; readonly k: number };
const betweenArb: fc.Arbitrary<Between> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.constant({ kind: 'map' as const }),
  fc.constant({ kind: 'filter' as const }),
  fc.integer({ min: 1, max: 3 }).map((k) => ({ kind: 'fanOut' as const, k })),
);

/** The latency of a value: the scenario's latencies, cycled. */
const latencyOf = (latencies: readonly (number | 'sync')[]): Latency => (x) => latencies[x % latencies.length]!;

/** The synchronous operator between the source and the flow-controlled one, and its fan-out. */
function betweenOf(between: Between): { op: OperatorFunction<number, number>; fanOut: number } {
  switch (between.kind) {
    case 'none':
      return { op: (source) => source, fanOut: 1 };
    case 'map':
      return { op: map((x) => x + 1), fanOut: 1 };
    case 'filter':
      return { op: filter((x) => x % 3 !== 1), fanOut: 1 };
    case 'fanOut':
      return { op: mergeMap((x) => of(...indices(between.k).map((j) => between.k * x + j))), fanOut: between.k };
  }
}

/** The multiset of a list of values, as a sorted list. */
const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);

/** Compares an output with the reference: in order for the ordered operators, as a multiset for the others. */
function expectSameOutput(kind: FlowKind, actual: readonly number[], reference: readonly number[]): void {
  if (isOrdered(kind)) expect(actual).toEqual(reference);
  else expect(sorted(actual)).toEqual(sorted(reference));
}

/** What a run saw. */
interface Seen {
  readonly outputs: number[];
  completed: boolean;
  error: unknown;
}

/** Subscribes `output` and collects what it reports. */
function observe(output: Observable<StreamElement<number>>): Seen {
  const seen: Seen = { outputs: [], completed: false, error: undefined };
  output.subscribe({
    next: (e) => {
      if (e.kind === 'record') seen.outputs.push(e.value);
    },
    error: (err: unknown) => (seen.error = err),
    complete: () => (seen.completed = true),
  });
  return seen;
}

// ---- the bound, the output and completion, in virtual time ---------------------------------------------------------

describe('flow control: properties', () => {
  it('one operator behind pulled (through nothing, map, filter or a synchronous fan-out): within capacity + fan-out, the same output as from(), completes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 1000 }), { maxLength: 40 }), kindArb, fc.integer({ min: 1, max: 5 }), latenciesArb, batchArb, betweenArb,
        (values, kind, capacity, latencies, batch, between) => {
          // Arrange
          const sched = new VirtualTimeScheduler();
          const spec = { capacity, latency: latencyOf(latencies), scheduler: sched, batch };
          const { op: sync, fanOut } = betweenOf(between);
          const { operator, metrics } = valuesOperator(kind, spec);
          const source = sourceMetrics();
          let entered = 0;
          let maxHeld = 0;
          const sample = (): void => {
            maxHeld = Math.max(maxHeld, entered - metrics.emitted);
          };
          const reference = valuesOperator(kind, spec);

          // Act
          const run = observe(pulled(values, { metrics: source, scheduler: sched }).pipe(
            tap(sample),
            sync,
            tap(() => {
              entered++;
              sample();
            }),
            operator,
            tap(sample),
          ));
          sched.flush();
          const plain = observe(from(values).pipe(betweenOf(between).op, reference.operator));
          sched.flush();

          // Assert
          expect(run.error).toBeUndefined();
          expect(run.completed).toBe(true);
          expect(maxHeld).toBeLessThanOrEqual(capacity + fanOut);
          expect(source.read).toBe(values.length);
          expect(source.paused).toBe(0);
          expect(heldBy(metrics)).toBe(0);
          expect(plain.completed).toBe(true);
          expectSameOutput(kind, run.outputs, plain.outputs);
          expect(plain.outputs.length).toBe(entered);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('two operators in a chain: read − emitted by the last ≤ c1 + c2 + 1, each within capacity + pending, the same output as from(), completes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 1000 }), { maxLength: 40 }),
        fc.tuple(kindArb, kindArb), fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
        fc.tuple(latenciesArb, latenciesArb), fc.tuple(batchArb, batchArb),
        (values, [kind1, kind2], [c1, c2], [latencies1, latencies2], [batch1, batch2]) => {
          // Arrange
          const sched = new VirtualTimeScheduler();
          const spec1 = { capacity: c1, latency: latencyOf(latencies1), scheduler: sched, batch: batch1 };
          // The second operator sees 10x: its latencies are cycled over x again.
          const spec2 = { capacity: c2, latency: (y: number) => latencyOf(latencies2)(y / 10), scheduler: sched, batch: batch2 };
          const first = valuesOperator(kind1, spec1);
          const second = elementsOperator(kind2, spec2);
          const source = sourceMetrics();
          const max = { total: 0, first: 0, second: 0 };
          const sample = (): void => {
            max.total = Math.max(max.total, source.read - second.metrics.emitted);
            max.first = Math.max(max.first, heldBy(first.metrics));
            max.second = Math.max(max.second, heldBy(second.metrics));
          };
          const reference1 = valuesOperator(kind1, spec1);
          const reference2 = elementsOperator(kind2, spec2);

          // Act
          const run = observe(pulled(values, { metrics: source, scheduler: sched }).pipe(
            tap(sample), first.operator, tap(sample), second.operator, tap(sample),
          ));
          sched.flush();
          const plain = observe(from(values).pipe(reference1.operator, reference2.operator));
          sched.flush();

          // Assert
          expect(run.error).toBeUndefined();
          expect(run.completed).toBe(true);
          expect(max.total).toBeLessThanOrEqual(c1 + c2 + 1);
          expect(max.first).toBeLessThanOrEqual(c1 + 1);
          expect(max.second).toBeLessThanOrEqual(c2 + 1 + c1);
          expect(plain.completed).toBe(true);
          const bothOrdered = isOrdered(kind1) && isOrdered(kind2);
          expectSameOutput(bothOrdered ? 'asyncWaitOrdered' : 'asyncWaitUnordered', run.outputs, plain.outputs);
          expect(sorted(run.outputs)).toEqual(sorted(values.map((x) => 100 * x)));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  // ---- promises (fc.scheduler) ----------------------------------------------------------------------------------------

  it('an async iterator and promise calls, interleaved by fc.scheduler: within capacity + 1, the same output as from(), completes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(), fc.array(fc.nat({ max: 1000 }), { maxLength: 25 }), kindArb, fc.integer({ min: 1, max: 4 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), batchArb,
        async (s, values, kind, capacity, syncCalls, batch) => {
          // Arrange: each read and each call that is not synchronous waits for an fc-scheduled task
          const scheduler: SchedulerLike = fcRxScheduler(s);
          const isSync = (x: number): boolean => syncCalls[x % syncCalls.length]!;
          const answer = (xs: number[]): number[] | Promise<number[]> =>
            xs.every(isSync) ? xs.map((x) => 10 * x) : s.schedule(Promise.resolve(xs.map((x) => 10 * x)), `call [${xs.join(',')}]`);
          const operator = valuesOperator(kind, { capacity, batch, scheduler, answer });
          const source = sourceMetrics();
          let maxHeld = 0;
          const sample = (): void => {
            maxHeld = Math.max(maxHeld, source.read - operator.metrics.emitted);
          };
          const input: AsyncIterable<number> = {
            [Symbol.asyncIterator]: () => {
              let i = 0;
              return {
                next: () => s.schedule(Promise.resolve(i < values.length ? { done: false, value: values[i++]! } : { done: true, value: undefined }), `read ${i}`),
              };
            },
          };

          // Act
          const run = observe(pulled(input, { metrics: source, scheduler }).pipe(tap(sample), operator.operator, tap(sample)));
          await s.waitIdle();
          const plain = observe(from(values).pipe(valuesOperator(kind, { capacity, batch, scheduler, answer }).operator));
          await s.waitIdle();

          // Assert
          expect(run.error).toBeUndefined();
          expect(run.completed).toBe(true);
          expect(maxHeld).toBeLessThanOrEqual(capacity + 1);
          expect(plain.completed).toBe(true);
          expectSameOutput(kind, run.outputs, plain.outputs);
          expectSameOutput(kind, run.outputs, values.map((x) => 10 * x));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  // ---- exactly-once under crash and restore --------------------------------------------------------------------------

  it('exactly-once: arraySource into asyncWaitOrdered or asyncBatchOrdered, crashed at random moments and restored, commits the uninterrupted output; every snapshot holds at most capacity + 1 records', async () => {
    await fc.assert(
      fc.asyncProperty(crashScenarioArb, async (scenario) => {
        // Arrange
        const store = new RecordingStore();

        // Act: each crash is followed by a restarted job over the same store; the last one runs to the end.
        const runs = scenario.crashes.map((crash) => runJob(scenario, store, crash));
        runs.push(runJob(scenario, store, undefined));
        const reference = runJob(scenario, new RecordingStore(), undefined);
        const snapshots = await snapshotSizes(store.written);

        // Assert
        const expected = scenario.values.map((x) => 10 * x);
        expect(runs.map((r) => r.error)).toEqual(runs.map(() => undefined));
        expect([reference.completed, runs.at(-1)!.completed]).toEqual([true, true]);
        expect(reference.outputs.map((o) => o.element.value)).toEqual(expected);

        const { committed, conflicts } = deduplicated(runs);
        expect(conflicts).toEqual([]);
        expect(committed).toEqual(expected);
        expect(snapshots.length).toBeGreaterThan(0);
        expect(Math.max(...snapshots)).toBeLessThanOrEqual(scenario.capacity + 1);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

// ---- helpers of the crash property ---------------------------------------------------------------------------------

interface CrashScenario {
  readonly values: readonly number[];
  readonly kind: 'asyncWaitOrdered' | 'asyncBatchOrdered';
  readonly capacity: number;
  readonly latencies: readonly (number | 'sync')[];
  readonly batch: BatchKnobs;
  /** A checkpoint after every this many records. */
  readonly every: number;
  readonly crashes: readonly Crash[];
}

const crashScenarioArb: fc.Arbitrary<CrashScenario> = fc.record({
  values: fc.array(fc.nat({ max: 1000 }), { maxLength: 30 }),
  kind: fc.constantFrom('asyncWaitOrdered' as const, 'asyncBatchOrdered' as const),
  capacity: fc.integer({ min: 1, max: 4 }),
  latencies: latenciesArb,
  batch: batchArb,
  every: fc.integer({ min: 1, max: 5 }),
}).chain((scenario) => {
  // A crash lands somewhere in the run: the run takes about (values / capacity) × the longest latency.
  const longest = Math.max(1, ...scenario.latencies.map((l) => (l === 'sync' ? 0 : l)));
  const length = Math.ceil(scenario.values.length / scenario.capacity + 1) * longest + 5;
  return crashesArb(length, scenario.values.length).map((crashes) => ({ ...scenario, crashes }));
});

/** A MemoryCheckpointStore that keeps every checkpoint, and the text of every write, in order. */
class RecordingStore extends MemoryCheckpointStore implements CheckpointStore {
  readonly written: Array<[id: number, text: string]> = [];

  constructor() {
    super({ retain: 1000 });
  }

  override write(checkpointId: number, text: string): void {
    this.written.push([checkpointId, text]);
    super.write(checkpointId, text);
  }
}

/** The number of records in the operator's snapshot of each written checkpoint, decoded through readLatestCheckpoint. */
async function snapshotSizes(written: ReadonlyArray<[number, string]>): Promise<number[]> {
  const sizes: number[] = [];
  for (const [id, text] of written) {
    const one = new MemoryCheckpointStore();
    one.write(id, text);
    const checkpoint = await readLatestCheckpoint(one);
    const state = checkpoint!.operators.find((o) => o.id === 'op')!.state;
    const held = JSON.parse(state) as unknown[] | null;
    sizes.push(held === null ? 0 : held.length);
  }
  return sizes;
}

/** One run of the job over `store`, in a virtual time of its own, to its end or its crash. */
function runJob(scenario: CrashScenario, store: CheckpointStore, crash: Crash | undefined): RunLog<number> {
  const scheduler = new VirtualTimeScheduler();
  const { operator } = elementsOperator(scenario.kind, {
    capacity: scenario.capacity, latency: latencyOf(scenario.latencies), scheduler, batch: scenario.batch, id: 'op',
  });
  const job = checkpointable({ source: arraySource(scenario.values, { scheduler }), store, every: { records: scenario.every }, scheduler });
  return runToCrash(job.pipe(operator), scheduler, crash);
}
