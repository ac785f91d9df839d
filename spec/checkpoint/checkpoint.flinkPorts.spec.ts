import {
  asyncScheduler, concat, from, lastValueFrom, map, NEVER, of, queueScheduler, throwError, timer, toArray, type Observable,
} from 'rxjs';
import {
  arraySource, checkpointable, keyedTimers, MemoryCheckpointStore, readLatestCheckpoint, record,
  watermark, withWatermarks, type CheckpointedOutput, type KeyedProcessFunction, type ReplayableSource, type SourceItem,
  type StoredCheckpoint, type StreamElement,
} from 'rxjs-sluice';
import { start, type Run } from '../support/checkpoints';
import { newScheduler, operatorOf, type Call, type Mode } from '../support/marbles';

/**
 * Ports of Apache Flink's snapshot/restore tests (AsyncWaitOperatorTest.testStateSnapshotAndRestore and
 * testRestartWithFullQueue, KeyedProcessOperatorTest.testSnapshotAndRestore) to checkpointable pipelines over a
 * MemoryCheckpointStore. Flink's test harness snapshot becomes a checkpoint triggered by `every.records`, "close the
 * harness" becomes an unsubscribe (a crash), and "a new harness initialised from the snapshot" becomes a new job
 * built over the same store. Virtual time (TestScheduler) stands in for Flink's processing-time service.
 */

// ---- helpers -------------------------------------------------------------------------------------------------------

/** The output records as `value@timestamp` (or plain `value` without a timestamp), in emission order. */
const recordsOf = <O>(outputs: readonly CheckpointedOutput<O>[]): string[] =>
  outputs.map(({ element }) => {
    if (element.kind !== 'record') return `side:${String(element.value)}`;
    return element.timestamp === undefined ? String(element.value) : `${String(element.value)}@${element.timestamp}`;
  });

/** The decoded snapshot of operator `id` in a stored checkpoint (jsonCodec). */
function stateOf(checkpoint: StoredCheckpoint | undefined, id: string): unknown {
  const operator = checkpoint?.operators.find((o) => o.id === id);
  if (operator === undefined) throw new Error(`no state for operator ${id}`);
  return JSON.parse(operator.state);
}

/** A replayable source over `values` (timestamp = value) that never completes: the run can only crash. */
function endlessSource(values: readonly number[]): ReplayableSource<number, number> {
  return {
    open: (position = 0) =>
      concat(from(values.slice(position).map((value, i): SourceItem<number, number> => ({ value, position: position + i + 1, timestamp: value }))), NEVER),
  };
}

/**
 * A replayable source over `values` (timestamp = value), one item every `gap` ms of virtual time counted from the
 * moment it is opened; it completes with the last item. Uses the default (TestScheduler.run-virtualised) scheduler.
 */
function timedSource(values: readonly number[], gap: number): ReplayableSource<number, number> {
  return {
    open: (position = 0) =>
      concat(...values.slice(position).map((value, i) =>
        timer(gap).pipe(map((): SourceItem<number, number> => ({ value, position: position + i + 1, timestamp: value }))))),
  };
}

/** Runs `work` after `delay` ms of virtual time (inside TestScheduler.run, where asyncScheduler is virtual). */
function setTimeoutVirtual(work: () => void, delay: number): void {
  asyncScheduler.schedule(work, delay);
}

/** Flink's LazyAsyncFunction as far as run 1 can tell: its calls never complete. */
const lazy = (): Observable<number> => NEVER;

// ---- AsyncWaitOperatorTest --------------------------------------------------------------------------------------------

describe('AsyncWaitOperatorTest snapshot/restore (Apache Flink, ported)', () => {
  const INPUTS = [1, 2, 3, 4];
  const ALL_INPUTS = [1, 2, 3, 4, 5, 6, 7, 8];
  const DOUBLED = ['2@1', '4@2', '6@3', '8@4', '10@5', '12@6', '14@7', '16@8'];

  /** Run 1 of testStateSnapshotAndRestore: capacity 4, 1@1..4@4 all in flight at checkpoint 1, then a crash. */
  function crashWithFourInFlight(mode: Mode, store: MemoryCheckpointStore): Run<number> {
    const job = checkpointable({ source: endlessSource(INPUTS), store, every: { records: 4 } });
    const run = start(job.pipe(operatorOf(mode)(lazy, { id: 'async', capacity: 4 })));
    run.subscription.unsubscribe(); // the crash
    return run;
  }

  describe.each<[string, Mode]>([['asyncWaitOrdered', 'ordered'], ['asyncWaitUnordered', 'unordered']])('%s', (_name, mode) => {
    it('testStateSnapshotAndRestore: checkpoint 1 holds the four pending inputs, in input order', async () => {
      // Arrange
      const store = new MemoryCheckpointStore();
      // Act
      const run1 = crashWithFourInFlight(mode, store);
      // Assert: nothing came out, nothing completed; only checkpoint 1 exists (no final checkpoint).
      expect(run1.outputs).toEqual([]);
      expect(run1.completed).toBe(false);
      expect(store.list()).toEqual([1]);
      const checkpoint = await readLatestCheckpoint(store);
      expect(checkpoint).toMatchObject({ checkpointId: 1, final: false, position: '4', outputs: '[]' });
      expect(stateOf(checkpoint, 'async')).toEqual([record(1, 1), record(2, 2), record(3, 3), record(4, 4)]);
    });

    it('testStateSnapshotAndRestore: a new job (x => 2x, capacity 6) replays 1..4, then reads 5..8', () => {
      // Arrange
      const store = new MemoryCheckpointStore();
      crashWithFourInFlight(mode, store);
      const calls: Call[] = [];
      const job = checkpointable({ source: arraySource(ALL_INPUTS, { timestampOf: (x) => x }), store, every: { records: 100 } });
      // Act
      const run2 = start(job.pipe(operatorOf(mode)((x: number, ctx) => {
        calls.push({ value: x, attempt: ctx.attempt, at: 0 });
        return of(2 * x);
      }, { id: 'async', capacity: 6 })));
      // Assert: exactly 2x@x for 1..8, in order, all in epoch 2 (after restored checkpoint 1); every restored input got
      // a fresh first attempt, before any new input.
      expect(run2.error).toBeUndefined();
      expect(run2.completed).toBe(true);
      expect(recordsOf(run2.outputs)).toEqual(DOUBLED);
      expect(run2.outputs.map((o) => [o.checkpointId, o.sequence])).toEqual(ALL_INPUTS.map((_x, i) => [2, i]));
      expect(calls.map((c) => [c.value, c.attempt])).toEqual(ALL_INPUTS.map((x) => [x, 1]));
    });

    it('testStateSnapshotAndRestore: the same with an asynchronous fn (Promise)', async () => {
      // Arrange
      const store = new MemoryCheckpointStore();
      crashWithFourInFlight(mode, store);
      const job = checkpointable({ source: arraySource(ALL_INPUTS, { timestampOf: (x) => x }), store, every: { records: 100 } });
      // Act
      const outputs = await lastValueFrom(job.pipe(operatorOf(mode)(async (x: number) => 2 * x, { id: 'async', capacity: 6 })).pipe(toArray()));
      // Assert: ordered keeps input order; unordered gives the same multiset (Flink compares it sorted).
      const got = recordsOf(outputs);
      if (mode === 'ordered') expect(got).toEqual(DOUBLED);
      else expect([...got].sort()).toEqual([...DOUBLED].sort());
    });

    it('testStateSnapshotAndRestore: a checkpoint in the middle of the restored run changes nothing in the output', async () => {
      // Arrange
      const store = new MemoryCheckpointStore();
      crashWithFourInFlight(mode, store);
      const job = checkpointable({ source: arraySource(ALL_INPUTS, { timestampOf: (x) => x }), store, every: { records: 2 } });
      // Act
      const run2 = start(job.pipe(operatorOf(mode)((x: number) => of(2 * x), { id: 'async', capacity: 6 })));
      // Assert: same records; checkpoints 2 and 3 were taken after reading 5, 6 and 7, 8 (positions 6 and 8), and the
      // final one (4) carries nothing pending.
      expect(run2.completed).toBe(true);
      expect(recordsOf(run2.outputs)).toEqual(DOUBLED);
      expect(store.list()).toEqual([2, 3, 4]);
      const positions = store.list().map((id) => (JSON.parse(store.read(id)) as { body: { position: string } }).body.position);
      expect(positions).toEqual(['6', '8', '8']);
      const latest = await readLatestCheckpoint(store);
      expect(latest).toMatchObject({ checkpointId: 4, final: true });
      expect(stateOf(latest, 'async')).toBeNull();
    });

    it('testStateSnapshotAndRestore: restored inputs are called before any new input, with attempt 1', () => {
      // Arrange: the restored run's calls hang, so the queue fills in call order: 1..4 restored, 5 and 6 new (capacity 6).
      const store = new MemoryCheckpointStore();
      crashWithFourInFlight(mode, store);
      const calls: Call[] = [];
      const job = checkpointable({ source: endlessSource(ALL_INPUTS), store, every: { records: 100 } });
      // Act
      const run2 = start(job.pipe(operatorOf(mode)((x: number, ctx) => {
        calls.push({ value: x, attempt: ctx.attempt, at: 0 });
        return NEVER;
      }, { id: 'async', capacity: 6 })));
      run2.subscription.unsubscribe();
      // Assert
      expect(calls).toEqual([1, 2, 3, 4, 5, 6].map((value) => ({ value, attempt: 1, at: 0 })));
    });

    it('testStateSnapshotAndRestore: inputs that were on a retry at the checkpoint restart at attempt 1', () => {
      // Arrange (run 1): every first attempt fails at once and is retried (delay 0); the retries hang. So at
      // checkpoint 1 each of 1..4 is on attempt 2. Crash.
      const store = new MemoryCheckpointStore();
      const run1Attempts: number[] = [];
      const flaky = (_x: number, ctx: { attempt: number }): Observable<number> => {
        run1Attempts.push(ctx.attempt);
        return ctx.attempt === 1 ? throwError(() => new Error('flaky')) : NEVER;
      };
      const run1 = start(checkpointable({ source: endlessSource(INPUTS), store, every: { records: 4 } })
        .pipe(operatorOf(mode)(flaky, { id: 'async', capacity: 4, retry: { maxRetries: 3, delay: 0 }, scheduler: queueScheduler })));
      run1.subscription.unsubscribe();
      const calls: Call[] = [];
      // Act (run 2)
      const run2 = start(checkpointable({ source: arraySource(INPUTS, { timestampOf: (x) => x }), store, every: { records: 4 } })
        .pipe(operatorOf(mode)((x: number, ctx) => {
          calls.push({ value: x, attempt: ctx.attempt, at: 0 });
          return of(2 * x);
        }, { id: 'async', capacity: 4 })));
      // Assert
      expect(run1Attempts).toEqual([1, 2, 1, 2, 1, 2, 1, 2]);
      expect(calls).toEqual(INPUTS.map((value) => ({ value, attempt: 1, at: 0 })));
      expect(recordsOf(run2.outputs)).toEqual(['2@1', '4@2', '6@3', '8@4']);
    });

    it('testStateSnapshotAndRestore: with calls finishing out of order, ordered keeps input order and unordered the multiset', () => {
      // Arrange: in the restored run, x takes 10 - x ms of virtual time, so later inputs finish first.
      const store = new MemoryCheckpointStore();
      crashWithFourInFlight(mode, store);
      let got: string[] = [];
      newScheduler().run(({ flush }) => {
        const job = checkpointable({ source: arraySource(ALL_INPUTS, { timestampOf: (x) => x }), store, every: { records: 3 } });
        // Act
        const run2 = start(job.pipe(operatorOf(mode)((x: number) => timer(10 - x).pipe(map(() => 2 * x)), { id: 'async', capacity: 6 })));
        flush();
        expect(run2.completed).toBe(true);
        got = recordsOf(run2.outputs);
      });
      // Assert
      if (mode === 'ordered') expect(got).toEqual(DOUBLED);
      else expect([...got].sort()).toEqual([...DOUBLED].sort());
    });

    it('testRestartWithFullQueue: capacity 10, 10 in flight + 1 queued at the checkpoint; all 11 come out after restore', async () => {
      // Arrange: 0..10, all at timestamp 0; the 11th waits beyond capacity when barrier 1 arrives.
      const store = new MemoryCheckpointStore();
      const values = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
      const endless: ReplayableSource<number, number> = {
        open: (position = 0) => concat(from(values.slice(position).map((value, i) => ({ value, position: position + i + 1, timestamp: 0 }))), NEVER),
      };
      const run1 = start(checkpointable({ source: endless, store, every: { records: 11 } }).pipe(operatorOf(mode)(lazy, { id: 'async', capacity: 10 })));
      run1.subscription.unsubscribe();
      const snapshot = stateOf(await readLatestCheckpoint(store), 'async');
      const job = checkpointable({ source: arraySource(values, { timestampOf: () => 0 }), store, every: { records: 5 } });
      // Act: Flink's ControllableAsyncFunction, completed at once, same capacity.
      const run2 = start(job.pipe(operatorOf(mode)((x: number) => of(x), { id: 'async', capacity: 10 })));
      // Assert: the snapshot held all 11 inputs, and the restored run emits each once.
      expect(snapshot).toEqual(values.map((x) => record(x, 0)));
      expect(run2.completed).toBe(true);
      const got = run2.outputs.map((o) => (o.element as { value: number }).value);
      if (mode === 'ordered') expect(got).toEqual(values);
      else expect([...got].sort((a, b) => a - b)).toEqual(values);
    });
  });
});

// ---- watermarks held in an async-wait snapshot ------------------------------------------------------------------------------

describe.each<[string, Mode]>([['asyncWaitOrdered', 'ordered'], ['asyncWaitUnordered', 'unordered']])(
  'AsyncWaitOperatorTest snapshot with watermarks (%s)',
  (_name, mode) => {
    /**
     * withWatermarks (interval 5 ms, no out-of-orderness) -> async (id 'async') -> a keyedTimers probe that stamps each
     * record with the watermark it saw before it. Source: x@x, one every 10 ms from when it is opened.
     */
    function pipeline(values: readonly number[], store: MemoryCheckpointStore, fn: (x: number) => Observable<number>) {
      const probe: KeyedProcessFunction<number, string, number> = {
        key: () => 0,
        processElement: (x, ctx) => ctx.emit(`${x} after W${ctx.timerService.currentWatermark()}`),
      };
      return checkpointable({ source: timedSource(values, 10), store, every: { records: 4 } }).pipe(
        withWatermarks<number>({ input: 'elements', id: 'wm', timestampOf: (x) => x, maxOutOfOrderness: 0, interval: 5 }),
        operatorOf(mode)(fn, { id: 'async', capacity: 4 }),
        keyedTimers(probe, { id: 'probe' }),
      );
    }

    it('the snapshot holds the watermarks in their places among the pending records; a restore replays them in place', async () => {
      // Arrange + Act (run 1): 1@1..4@4 arrive at 10, 20, 30, 40; watermarks 0, 1, 2 at 15, 25, 35; barrier 1 right
      // after 4@4 at 40. The calls hang; crash.
      const store = new MemoryCheckpointStore();
      newScheduler().run(({ flush }) => {
        const run1 = start(pipeline([1, 2, 3, 4], store, lazy));
        flush();
        run1.subscription.unsubscribe();
      });
      const checkpoint = await readLatestCheckpoint(store);
      // Assert (run 1)
      expect(checkpoint?.checkpointId).toBe(1);
      expect(stateOf(checkpoint, 'async')).toEqual([
        record(1, 1), watermark(0), record(2, 2), watermark(1), record(3, 3), watermark(2), record(4, 4),
      ]);
      expect(stateOf(checkpoint, 'wm')).toEqual({ maxTimestamp: 4 });

      // Arrange + Act (run 2): a new job over the same store, completing calls, records 5..8.
      let run2: Run<string> | undefined;
      newScheduler().run(({ flush }) => {
        run2 = start(pipeline([1, 2, 3, 4, 5, 6, 7, 8], store, (x) => of(2 * x)));
        flush();
      });
      // Assert (run 2): each replayed record sees the watermark that preceded it in run 1; after them, the restored
      // withWatermarks re-emits W3 (from maxTimestamp 4), and new records follow.
      expect(run2!.completed).toBe(true);
      expect(recordsOf(run2!.outputs)).toEqual([
        '2 after W-Infinity@1', '4 after W0@2', '6 after W1@3', '8 after W2@4',
        '10 after W3@5', '12 after W4@6', '14 after W5@7', '16 after W6@8',
      ]);
    });
  },
);

// ---- KeyedProcessOperatorTest -------------------------------------------------------------------------------------------------

describe('KeyedProcessOperatorTest (Apache Flink, ported)', () => {
  /** An input of the restored run: a record value, or an instruction to emit a watermark (Flink's processWatermark). */
  type Input = number | { readonly watermark: number };

  /** Turns `{ watermark: t }` records into watermark t; everything else passes. A plain (stateless) operator. */
  const watermarkInstructions = map((element: StreamElement<Input>): StreamElement<number> =>
    element.kind === 'record' && typeof element.value === 'object'
      ? watermark(element.value.watermark)
      : (element as StreamElement<number>));

  /**
   * A replayable script: item i is emitted `at[i]` ms (virtual time) after the previous one, counted from when the
   * source is opened; then it stays open (never completes) unless `complete` is set. `opened` logs each open's position.
   */
  function scriptSource(
    items: ReadonlyArray<readonly [at: number, value: Input, timestamp?: number]>, complete: boolean, opened: Array<number | undefined> = [],
  ): ReplayableSource<Input, number> {
    return {
      open: (position) => {
        opened.push(position);
        if (position === undefined) position = 0;
        const rest = items.slice(position).map(([at, value, timestamp], i) =>
          timer(at).pipe(map((): SourceItem<Input, number> => ({ value, position: position + i + 1, timestamp }))));
        return complete ? concat(...rest) : concat(...rest, NEVER);
      },
    };
  }

  /** Flink's BothTriggeringProcessFunction: an event timer at 6 and a processing timer at 5 per record. */
  const bothTriggering: KeyedProcessFunction<number, string, number> = {
    key: (x) => x,
    processElement: (_x, ctx) => {
      ctx.timerService.registerEventTimeTimer(6);
      ctx.timerService.registerProcessingTimeTimer(5);
    },
    onTimer: (_t, ctx) => ctx.emit(ctx.timeDomain === 'event' ? 'EVENT:1777' : 'PROC:1777'),
  };

  it('testSnapshotAndRestore', async () => {
    // Arrange + Act (run 1): 5@12 at time 0, then checkpoint 1 (every record) and a crash at time 1, before the
    // processing timer at 5 is due.
    const store = new MemoryCheckpointStore();
    const script: ReadonlyArray<readonly [number, Input, number?]> = [[0, 5, 12], [10, { watermark: 6 }]];
    let run1: Run<string> | undefined;
    newScheduler().run(({ flush }) => {
      const job = checkpointable({ source: scriptSource(script.slice(0, 1), false), store, every: { records: 1 } });
      run1 = start(job.pipe(watermarkInstructions, keyedTimers(bothTriggering, { id: 'kp' })));
      const crash = run1.subscription;
      setTimeoutVirtual(() => crash.unsubscribe(), 1);
      flush();
    });
    expect(run1!.outputs).toEqual([]);
    expect(run1!.error).toBeUndefined();
    const checkpoint = await readLatestCheckpoint(store);
    // Assert (run 1): the snapshot holds no value state, both timers of key 5, and no watermark yet.
    expect(checkpoint).toMatchObject({ checkpointId: 1, final: false, position: '1' });
    expect(stateOf(checkpoint, 'kp')).toEqual({ watermark: null, state: [], eventTimers: [[5, 6]], processingTimers: [[5, 5]] });

    // Arrange + Act (run 2): a new job over the same store; setProcessingTime(5) is virtual time passing 5 ms, and
    // processWatermark(6) is the instruction the script emits at 10 ms.
    const timeline: Array<[number, string]> = [];
    const opened: Array<number | undefined> = [];
    const scheduler = newScheduler();
    let run2: Run<string> | undefined;
    scheduler.run(({ flush }) => {
      const job = checkpointable({ source: scriptSource(script, true, opened), store, every: { records: 1 } });
      const out = job.pipe(watermarkInstructions, keyedTimers(bothTriggering, { id: 'kp', scheduler }));
      run2 = start(out.pipe(map((o) => {
        timeline.push([scheduler.now(), recordsOf([o])[0]!]);
        return o;
      })));
      flush();
    });
    // Assert (run 2): the source resumed after 5@12 (so the timers came from the snapshot); PROC:1777 (no timestamp),
    // then EVENT:1777@6, nothing else. Under exactly-once both are released by the final checkpoint, when the source
    // completes at 10.
    expect(opened).toEqual([1]);
    expect(run2!.error).toBeUndefined();
    expect(run2!.completed).toBe(true);
    expect(recordsOf(run2!.outputs)).toEqual(['PROC:1777', 'EVENT:1777@6']);
    expect(run2!.outputs[0]!.element).toEqual(record('PROC:1777'));
    expect(run2!.outputs[0]!.element.timestamp).toBeUndefined();
    expect(run2!.outputs[1]!.element).toEqual(record('EVENT:1777', 6));
    expect(timeline).toEqual([[10, 'PROC:1777'], [10, 'EVENT:1777@6']]);
    expect(run2!.outputs.map((o) => [o.checkpointId, o.sequence])).toEqual([[2, 0], [2, 1]]);
  });

  it('testSnapshotAndRestore: the restored timers fire at their times (processing at 5, event at watermark 6)', () => {
    // Arrange: run 1 as above, under at-least-once so that run 2's outputs come out the moment they are made.
    const store = new MemoryCheckpointStore();
    newScheduler().run(({ flush }) => {
      const job = checkpointable({ source: scriptSource([[0, 5, 12]], false), store, every: { records: 1 }, delivery: 'at-least-once' });
      const crash = start(job.pipe(watermarkInstructions, keyedTimers(bothTriggering, { id: 'kp' }))).subscription;
      setTimeoutVirtual(() => crash.unsubscribe(), 1);
      flush();
    });
    expect(store.list()).toEqual([1, 2]); // the start checkpoint, and the one after 5@12
    const timeline: Array<[number, string]> = [];
    const opened: Array<number | undefined> = [];
    const scheduler = newScheduler();
    // Act: the restored run's script only holds the watermark instruction at 10 ms; it never completes.
    scheduler.run(({ flush }) => {
      const source = scriptSource([[0, 5, 12], [10, { watermark: 6 }]], false, opened);
      const job = checkpointable({ source, store, every: { records: 1 }, delivery: 'at-least-once' });
      const out = job.pipe(watermarkInstructions, keyedTimers(bothTriggering, { id: 'kp', scheduler }));
      const run2 = start(out.pipe(map((o) => {
        timeline.push([scheduler.now(), recordsOf([o])[0]!]);
        return o;
      })));
      flush();
      run2.subscription.unsubscribe();
    });
    // Assert: the source resumed after 5@12; the processing timer fires when the clock reaches 5, the event timer when
    // watermark 6 arrives at 10.
    expect(opened).toEqual([1]);
    expect(timeline).toEqual([[5, 'PROC:1777'], [10, 'EVENT:1777@6']]);
  });
});
