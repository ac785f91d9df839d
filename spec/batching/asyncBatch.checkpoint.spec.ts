/**
 * asyncBatchOrdered inside a checkpointable pipeline: crash (an abrupt unsubscribe), restore, and compare with a run
 * that never crashed (semantics: Flink's async I/O operator under checkpointing, exactly-once delivery).
 *
 * A snapshot of the operator holds the input of every record it holds, wherever it is: in a running batch call, in
 * the open batch (or one waiting for a call slot), done and waiting for its turn, or queued beyond capacity. A restore
 * replays them, in fresh batches with fresh attempt counts, before any new input (Flink's testRestartWithFullQueue).
 *
 * Everything runs in virtual time (a VirtualTimeScheduler per run, given to the source, the operator and
 * checkpointable) over a synchronous MemoryCheckpointStore, so each scenario is deterministic.
 */
import fc from 'fast-check';
import {
  NEVER, Observable, from, Subscription, VirtualTimeScheduler, map, tap, timer, type SchedulerLike,
} from 'rxjs';
import {
  MemoryCheckpointStore, asyncBatchOrdered, batchResults, checkpointable, record,
  type BatchCallContext, type BatchEntry, type BatchResult, type CheckpointedOutput, type ReplayableSource, type SourceItem,
  type StreamElement,
} from 'rxjs-sluice';
import { MemoryTransactionalSink } from '../support/batchHarness';
import { LiveLog, type CheckpointBody } from '../support/checkpoints';
import { runToCrash, type Crash, type RunLog as CrashRunLog } from '../support/crashRuns';
import { soak } from '../support/soak';

/** Runs per property: the soak variant (SLUICE_FULL=1, set by CI) tries five times as many scenarios. */
const NUM_RUNS = soak(60, 300);

// ---- scenarios -------------------------------------------------------------------------------------------------

/** A source record: its value is its index; `outputs` results per record; attempts 1..fails get an Error entry. */
interface Item {
  readonly gap: number;
  readonly t: number | undefined;
  readonly outputs: number;
  readonly fails: number;
}

/** The k-th batch call of a run: answers after `latency` ms (or at once, as an array), or fails as a whole. */
interface Call {
  readonly via: 'timer' | 'array';
  readonly latency: number;
  readonly wholeFail: boolean;
}


interface Scenario {
  readonly items: readonly Item[];
  readonly calls: readonly Call[];
  readonly maxBatchSize: number;
  readonly linger: number;
  readonly maxInFlightBatches: number;
  readonly capacity: number | undefined;
  /** Checkpoint after every this many source records. */
  readonly every: number;
  readonly crashes: readonly Crash[];
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  items: fc.array(fc.record({
    gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
    t: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    outputs: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 }) }),
    fails: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }),
  }), { maxLength: 20 }),
  calls: fc.array(fc.record({
    via: fc.oneof({ weight: 4, arbitrary: fc.constant('timer' as const) }, { weight: 1, arbitrary: fc.constant('array' as const) }),
    latency: fc.integer({ min: 0, max: 8 }),
    wholeFail: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  }), { maxLength: 8 }),
  maxBatchSize: fc.integer({ min: 1, max: 5 }),
  linger: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8 })),
  maxInFlightBatches: fc.integer({ min: 1, max: 3 }),
  capacity: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
  every: fc.integer({ min: 1, max: 5 }),
  crashes: fc.array(fc.record({
    at: fc.oneof({ weight: 3, arbitrary: fc.constant('time' as const) }, { weight: 1, arbitrary: fc.constant('output' as const) }),
    permille: fc.integer({ min: 0, max: 1000 }),
  }), { minLength: 1, maxLength: 2 }),
}).map(({ crashes, ...scenario }) => {
  // A crash lands somewhere in the run: in its first gaps + 10 ms (about as long as it takes), or at one of its outputs.
  const length = scenario.items.reduce((t, item) => t + item.gap, 0) + 10;
  const outputs = scenario.items.reduce((n, item) => n + item.outputs, 0);
  return {
    ...scenario,
    crashes: crashes.map(({ at, permille }): Crash => (at === 'time'
      ? { at, t: Math.floor((permille / 1000) * length) }
      : { at, k: 1 + Math.floor((permille / 1000) * outputs) })),
  };
});

/** The result values of record `id`: the same on every attempt and in every run. */
const resultsOf = (id: number, item: Item): string[] => Array.from({ length: item.outputs }, (_, k) => `${id}:${k}`);

/** What the pipeline computes: each record's results, in input order, with its timestamp. */
const expectedOf = (scenario: Scenario): StreamElement<string>[] =>
  scenario.items.flatMap((item, id) => resultsOf(id, item).map((value) => record(value, item.t)));

/** A source whose item i goes out `gap` ms after the one before it (after the open for the first one read). */
function timedSource(scheduler: SchedulerLike, scenario: Scenario): ReplayableSource<number, number> {
  return {
    open: (position = 0) =>
      new Observable<SourceItem<number, number>>((subscriber) => {
        const actions = new Subscription();
        let at = 0;
        for (let i = position; i < scenario.items.length; i++) {
          const item = scenario.items[i]!;
          at += item.gap;
          const next = item.t === undefined ? { value: i, position: i + 1 } : { value: i, position: i + 1, timestamp: item.t };
          actions.add(scheduler.schedule(() => subscriber.next(next), at));
        }
        actions.add(scheduler.schedule(() => subscriber.complete(), at));
        return actions;
      }),
  };
}

/** The batch function of one run: its k-th call follows the scenario's k-th plan (later ones answer after 1 ms). */
function batchFnOf(scheduler: SchedulerLike, scenario: Scenario) {
  let calls = 0;
  return (ids: number[], ctx: BatchCallContext): BatchResult<string> => {
    const plan = scenario.calls[calls++] ?? { via: 'timer', latency: 1, wholeFail: false };
    const entries = ids.map((id, i): BatchEntry<string> => {
      const item = scenario.items[id]!;
      if (ctx.attempts[i]! <= item.fails) return new Error(`${id} fails attempt ${ctx.attempts[i]}`);
      const values = resultsOf(id, item);
      return values.length === 1 ? values[0]! : batchResults(values);
    });
    if (plan.via === 'array') {
      if (plan.wholeFail) throw new Error('the batch call failed');
      return entries;
    }
    return timer(plan.latency, scheduler).pipe(map(() => {
      if (plan.wholeFail) throw new Error('the batch call failed');
      return entries;
    }));
  };
}

interface RunLog extends CrashRunLog<string> {
  /** The newest checkpoint in the store once the run was over: what the next run restores. */
  readonly newestCheckpoint: number;
}

/** One run of the job over `store` and `sink`, in a virtual time of its own, to its end or its crash. */
function runJob(scenario: Scenario, store: MemoryCheckpointStore, sink: MemoryTransactionalSink<string>, crash: Crash | undefined): RunLog {
  const scheduler = new VirtualTimeScheduler();
  // Every failure is retried until it succeeds: a record's own failing entries, plus every call failing as a whole.
  const maxRetries = Math.max(0, ...scenario.items.map((item) => item.fails)) + scenario.calls.filter((c) => c.wholeFail).length;
  const job = checkpointable({ source: timedSource(scheduler, scenario), store, sink, every: { records: scenario.every }, scheduler })
    .pipe(asyncBatchOrdered(batchFnOf(scheduler, scenario), {
      id: 'batch',
      maxBatchSize: scenario.maxBatchSize,
      linger: scenario.linger,
      maxInFlightBatches: scenario.maxInFlightBatches,
      ...(scenario.capacity === undefined ? {} : { capacity: scenario.capacity }),
      retry: { maxRetries, delay: 2 },
      scheduler,
    }));
  return { ...runToCrash(job, scheduler, crash), newestCheckpoint: store.list().at(-1) ?? 0 };
}

/**
 * The committed output of a sequence of runs as an idempotent consumer keeps it: each stamp's first output, in
 * order. A stamp seen again must carry the very same element.
 */
function deduplicated(runs: readonly RunLog[]): { committed: StreamElement<string>[]; conflicts: string[] } {
  const seen = new Map<string, string>();
  const committed: StreamElement<string>[] = [];
  const conflicts: string[] = [];
  for (const run of runs) {
    for (const { checkpointId, sequence, element } of run.outputs) {
      const stamp = `${checkpointId}:${sequence}`;
      const first = seen.get(stamp);
      if (first === undefined) {
        seen.set(stamp, JSON.stringify(element));
        committed.push(element as StreamElement<string>);
      } else if (first !== JSON.stringify(element)) {
        conflicts.push(`${stamp}: ${first} then ${JSON.stringify(element)}`);
      }
    }
  }
  return { committed, conflicts };
}

describe('asyncBatchOrdered in a checkpointable pipeline', () => {
  it('exactly-once: crashes at random moments, each followed by a restore, commit the same output as an uninterrupted run', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        // Arrange
        const store = new MemoryCheckpointStore();
        const sink = new MemoryTransactionalSink<string>();
        const referenceSink = new MemoryTransactionalSink<string>();

        // Act: each crash is followed by a restarted job over the same store and sink; the last one runs to the end.
        const runs = scenario.crashes.map((crash) => runJob(scenario, store, sink, crash));
        runs.push(runJob(scenario, store, sink, undefined));
        const reference = runJob(scenario, new MemoryCheckpointStore(), referenceSink, undefined);

        // Assert
        const expected = expectedOf(scenario);
        expect(runs.map((r) => r.error)).toStrictEqual(runs.map(() => undefined));
        expect([reference.completed, runs.at(-1)!.completed]).toStrictEqual([true, true]);
        expect(reference.outputs.map((o) => o.element)).toStrictEqual(expected);
        expect(referenceSink.committedElements()).toStrictEqual(expected);
        // What the sink committed, and what a consumer deduplicating by stamp keeps, is the reference output.
        expect(sink.committedElements()).toStrictEqual(expected);
        const { committed, conflicts } = deduplicated(runs);
        expect(conflicts).toStrictEqual([]);
        expect(committed).toStrictEqual(expected);
        // A run emits only outputs of durable checkpoints: none beyond the checkpoint the next run restores.
        const beyond = runs.flatMap((run) => run.outputs.filter((o) => o.checkpointId > run.newestCheckpoint));
        expect(beyond).toStrictEqual([]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('a full queue (testRestartWithFullQueue, in batches): the snapshot holds the records in flight, in the open batch and queued; a restore replays them in fresh batches before new input', () => {
    // Arrange: batches of 3, one call at a time, capacity 5, linger far away; run 1's calls never answer.
    // Records 1-3 fill a batch, whose call starts and hangs; 4 and 5 wait in the open batch (it is due, every
    // capacity slot being taken, but no call slot is free); 6 waits beyond capacity. The 6th record brings a barrier.
    const log = new LiveLog<number>();
    const store = new MemoryCheckpointStore();
    const sink = new MemoryTransactionalSink<string>();
    const events: string[] = [];
    const logged: ReplayableSource<number, number> = {
      open: (position) => from(log.source.open(position)).pipe(tap((item) => events.push(`input ${item.value}`))),
    };
    const build = (answer: (xs: number[]) => BatchResult<string>) => {
      const scheduler = new VirtualTimeScheduler();
      const job = checkpointable({ source: logged, store, sink, every: { records: 6 }, scheduler })
        .pipe(asyncBatchOrdered((xs: number[], ctx: BatchCallContext) => {
          events.push(`call [${xs.join(',')}] attempts [${ctx.attempts.join(',')}]`);
          return answer(xs);
        }, { id: 'batch', maxBatchSize: 3, maxInFlightBatches: 1, capacity: 5, linger: 1_000, scheduler }));
      return { job, scheduler };
    };
    const run1 = build(() => NEVER);
    const outputs1: CheckpointedOutput<string>[] = [];
    const subscription = run1.job.subscribe((o) => outputs1.push(o));
    for (let x = 1; x <= 6; x++) log.append(x);
    log.append(7); // after the barrier: the source replays it, not the snapshot
    run1.scheduler.flush();
    const body = (JSON.parse(store.read(store.list().at(-1)!)) as { body: CheckpointBody }).body;
    const snapshot = (JSON.parse(body.operators[0]!.state) as Array<{ kind: string; value: number }>).map((e) => `${e.kind} ${e.value}`);
    const run1Events = events.splice(0);

    // Act: crash, then restore with calls that answer at once, the input ending after 7.
    subscription.unsubscribe();
    log.end();
    const run2 = build((xs) => xs.map((x) => `${10 * x}`));
    let completed = false;
    run2.job.subscribe({ complete: () => (completed = true) });
    run2.scheduler.flush();

    // Assert
    expect(outputs1).toStrictEqual([]);
    expect(run1Events).toStrictEqual([
      'input 1', 'input 2', 'input 3', 'call [1,2,3] attempts [1,1,1]', 'input 4', 'input 5', 'input 6', 'input 7',
    ]);
    expect(body.position).toBe('6');
    expect(snapshot).toStrictEqual(['record 1', 'record 2', 'record 3', 'record 4', 'record 5', 'record 6']);
    expect(events).toStrictEqual([
      'call [1,2,3] attempts [1,1,1]', 'call [4,5,6] attempts [1,1,1]', 'input 7', 'call [7] attempts [1]',
    ]);
    expect(completed).toBe(true);
    expect(sink.committedElements()).toStrictEqual([10, 20, 30, 40, 50, 60, 70].map((v) => record(`${v}`)));
  });

  it('a snapshot taken while the only held records wait in the open batch holds them; a restore sends them in a fresh batch, linger after the restore', () => {
    // Arrange: linger 50, batches of 10: records 1 and 2 open a batch that no call has taken yet when the barrier
    // after the 2nd record snapshots the operator.
    const log = new LiveLog<number>();
    const store = new MemoryCheckpointStore();
    const sink = new MemoryTransactionalSink<string>();
    const calls: string[] = [];
    const build = () => {
      const scheduler = new VirtualTimeScheduler();
      const job = checkpointable({ source: log.source, store, sink, every: { records: 2 }, scheduler })
        .pipe(asyncBatchOrdered((xs: number[]) => {
          calls.push(`[${xs.join(',')}] at ${scheduler.now()}`);
          return timer(3, scheduler).pipe(map(() => xs.map((x) => `${10 * x}`)));
        }, { id: 'batch', maxBatchSize: 10, linger: 50, scheduler }));
      return { job, scheduler };
    };
    const run1 = build();
    const subscription = run1.job.subscribe();
    log.append(1);
    log.append(2);
    const body = (JSON.parse(store.read(store.list().at(-1)!)) as { body: CheckpointBody }).body;

    // Act: crash before linger runs out; restore; a 3rd record arrives 60 ms into the new run, then the input ends.
    subscription.unsubscribe();
    run1.scheduler.flush();
    const run2 = build();
    const outputs: CheckpointedOutput<string>[] = [];
    run2.job.subscribe((o) => outputs.push(o));
    run2.scheduler.schedule(() => {
      log.append(3);
      log.end();
    }, 60);
    run2.scheduler.flush();

    // Assert: run 1 made no call; the restored records went together, linger (50) after the restore; the new one
    // alone, at the end of input (60).
    expect(JSON.parse(body.operators[0]!.state)).toStrictEqual([record(1), record(2)]);
    expect(calls).toStrictEqual(['[1,2] at 50', '[3] at 60']);
    expect(outputs.map((o) => o.element)).toStrictEqual([record('10'), record('20'), record('30')]);
    expect(sink.committedElements()).toStrictEqual([record('10'), record('20'), record('30')]);
  });
});
