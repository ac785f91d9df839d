/**
 * asyncWaitKeyed inside a checkpointable pipeline: its snapshot is every held input (in flight, waiting for its
 * key, done and not emitted) in input order, replayed in that order on restore; and exactly-once under crashes at
 * random moments (a property), with each key's order kept across the restore.
 */
import fc from 'fast-check';
import { Subject, VirtualTimeScheduler, from, map, of, timer, type Observable } from 'rxjs';
import {
  arraySource, asyncWaitKeyed, checkpointable, MemoryCheckpointStore,
  type CheckpointedOutput, type CheckpointStore, type ReplayableSource,
} from 'rxjs-sluice';
import { type CheckpointBody } from '../support/checkpoints';
import { crashesArb, deduplicated, runToCrash, type Crash, type RunLog } from '../support/crashRuns';
import { soak } from '../support/soak';

/** The body of checkpoint `id` as written. */
const bodyOf = (store: MemoryCheckpointStore, id: number): CheckpointBody =>
  (JSON.parse(store.read(id)) as { body: CheckpointBody }).body;

describe('asyncWaitKeyed: checkpoints', () => {
  it('snapshots every held input in input order, records waiting for their key included, and a restore replays them in that order', () => {
    // Arrange: keys by parity; run 1 never answers, so 0 and 1 are in flight and 2..5 wait for their keys when the
    // barrier after record 5 comes.
    const store = new MemoryCheckpointStore({ retain: 10 });
    const values = [0, 1, 2, 3, 4, 5];
    const source: ReplayableSource<number, number> = {
      open: (position = 0) => from(values.slice(position).map((value, i) => ({ value, position: position + i + 1 }))),
    };
    const calls: number[] = [];
    const build = (fn: (x: number) => Observable<number>) =>
      checkpointable<number, number>({ source, every: { records: 6 }, store, delivery: 'at-least-once' })
        .pipe(asyncWaitKeyed((x: number) => {
          calls.push(x);
          return fn(x);
        }, { id: 'keyed', key: (x) => x % 2, capacity: 6 }));
    const never = new Subject<number>();
    const subscription = build(() => never).subscribe();

    // Act: crash with everything held, then restore with a function that answers at once.
    subscription.unsubscribe();
    const held = (JSON.parse(bodyOf(store, 2).operators[0]!.state) as Array<{ value: number }>).map((r) => r.value);
    const callsBefore = calls.splice(0);
    const run2: number[] = [];
    build((x) => of(10 * x)).subscribe((o: CheckpointedOutput<number>) => {
      if (o.element.kind === 'record') run2.push(o.element.value);
    });

    // Assert
    expect(callsBefore).toEqual([0, 1]); // one call per key at a time
    expect(held).toEqual(values);
    expect(calls).toEqual(values); // replayed in input order, each key in turn
    expect(run2).toEqual(values.map((x) => 10 * x));
  });

  it('exactly-once: crashed at random moments and restored, each record is committed once, and each key in its input order', async () => {
    await fc.assert(fc.asyncProperty(crashScenarioArb, async (scenario) => {
      // Arrange
      const store = new MemoryCheckpointStore({ retain: 1_000 });

      // Act: each crash is followed by a restarted job over the same store; the last one runs to the end.
      const runs = scenario.crashes.map((crash) => runJob(scenario, store, crash));
      runs.push(runJob(scenario, store, undefined));

      // Assert
      expect(runs.map((r) => r.error)).toEqual(runs.map(() => undefined));
      expect(runs.at(-1)!.completed).toBe(true);
      const { committed, conflicts } = deduplicated(runs);
      expect(conflicts).toEqual([]);
      const ids = scenario.values.map((_, i) => i);
      expect([...committed].sort((a, b) => a - b)).toEqual(ids);
      for (let k = 0; k < scenario.keys; k++) {
        const ofKey = committed.filter((i) => i % scenario.keys === k);
        expect(ofKey).toEqual([...ofKey].sort((a, b) => a - b));
      }
      if (scenario.order === 'input') expect(committed).toEqual(ids);
    }), { numRuns: soak(60, 300) });
  });
});

// ---- helpers of the crash property ---------------------------------------------------------------------------------

interface CrashScenario {
  /** Each record's latency in virtual ms; the record's value is its index, its key the index modulo `keys`. */
  readonly values: readonly number[];
  readonly keys: number;
  readonly capacity: number;
  readonly perKeyConcurrency: number;
  readonly order: 'key' | 'input';
  readonly every: number;
  readonly crashes: readonly Crash[];
}

const crashScenarioArb: fc.Arbitrary<CrashScenario> = fc.record({
  values: fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 30 }),
  keys: fc.integer({ min: 1, max: 4 }),
  capacity: fc.integer({ min: 1, max: 5 }),
  perKeyConcurrency: fc.integer({ min: 1, max: 2 }),
  order: fc.constantFrom('key' as const, 'input' as const),
  every: fc.integer({ min: 1, max: 5 }),
}).chain((scenario) => crashesArb(scenario.values.length * 10 + 5, scenario.values.length).map((crashes) => ({
  ...scenario,
  perKeyConcurrency: Math.min(scenario.perKeyConcurrency, scenario.capacity),
  crashes,
})));

/** One run of the job over `store`, in a virtual time of its own, to its end or its crash. */
function runJob(scenario: CrashScenario, store: CheckpointStore, crash: Crash | undefined): RunLog<number> {
  const scheduler = new VirtualTimeScheduler(undefined, Infinity);
  const ids = scenario.values.map((_, i) => i);
  const job = checkpointable({ source: arraySource(ids, { scheduler }), store, every: { records: scenario.every }, scheduler });
  const operator = asyncWaitKeyed((i: number) => timer(scenario.values[i]!, scheduler).pipe(map(() => i)), {
    id: 'op', key: (i) => i % scenario.keys, capacity: scenario.capacity, perKeyConcurrency: scenario.perKeyConcurrency,
    order: scenario.order, scheduler,
  });
  return runToCrash(job.pipe(operator), scheduler, crash);
}
