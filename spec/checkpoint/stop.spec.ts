import { asyncScheduler, map, NEVER, of, Subject, take, tap, throwError, timer } from 'rxjs';
import {
  arraySource, asyncWaitOrdered, checkpointable, checkpointMetrics, keyedTimers, MemoryCheckpointStore, readLatestCheckpoint,
  withWatermarks, type CheckpointedOutput,
} from 'rxjs-sluice';
import { start, type Run } from '../support/checkpoints';
import { newScheduler } from '../support/marbles';

/**
 * The `stop` option: Flink's stop-with-savepoint (without --drain). When the notifier emits, the source stops,
 * a barrier follows the last record read, and once that checkpoint is durable the run completes without ending
 * its input: no end-of-input timers, no flush. A new run over the same store resumes from it, and together the
 * runs emit exactly what one uninterrupted run does. Virtual time throughout (TestScheduler.run).
 */

/** Per key, a count of readings per 10 ms event-time window, emitted by an event-time timer at the window's end. */
const windowCounts = keyedTimers({
  key: (r: { k: string; t: number }) => r.k,
  initialState: (): Record<number, number> => ({}),
  processElement: (_r, ctx) => {
    const end = ctx.timestamp! - (ctx.timestamp! % 10) + 10;
    const counts = ctx.state.value();
    counts[end] = (counts[end] ?? 0) + 1;
    ctx.timerService.registerEventTimeTimer(end);
  },
  onTimer: (end, ctx) => {
    const counts = ctx.state.value();
    const n = counts[end];
    delete counts[end];
    return [`${ctx.key}@${end}=${n}`];
  },
}, { id: 'windows', requireTimestamps: true });

const readings = Array.from({ length: 40 }, (_, i) => ({ k: i % 3 === 0 ? 'a' : 'b', t: i * 2 }));

/** The job: a 20 ms call per reading (capacity 4), watermarks, per-key window counts; a checkpoint every 5 records. */
function job(store: MemoryCheckpointStore, stop?: Parameters<typeof checkpointable>[0]['stop'], metrics = checkpointMetrics()) {
  return checkpointable({ source: arraySource(readings), store, every: { records: 5 }, stop, metrics }).pipe(
    withWatermarks({ id: 'wm', input: 'elements', timestampOf: (r: { k: string; t: number }) => r.t, maxOutOfOrderness: 0, interval: 5 }),
    asyncWaitOrdered((r: { k: string; t: number }) => timer(20).pipe(map(() => r)), { id: 'call', capacity: 4 }),
    windowCounts,
  );
}

/** The values of a run's outputs, deduplicated by stamp ('exactly-once' emits a restored epoch again). */
function valuesOnce(outputs: readonly CheckpointedOutput<string>[]): string[] {
  const seen = new Set<string>();
  return outputs.filter((o) => {
    const stamp = `${o.checkpointId}:${o.sequence}`;
    return !seen.has(stamp) && seen.add(stamp);
  }).map((o) => String(o.element.value));
}

/** The outputs of one uninterrupted run of `job`. */
function uninterrupted(): string[] {
  let values: string[] = [];
  newScheduler().run(({ flush }) => {
    const run = start(job(new MemoryCheckpointStore()));
    flush();
    values = valuesOnce(run.outputs);
  });
  return values;
}

describe('checkpointable({ stop }): stop with a final checkpoint, resume where it stopped', () => {
  it('a stop mid-run completes without firing end-of-input timers, and the resumed run completes the output exactly', async () => {
    // Arrange
    const expected = uninterrupted();
    const store = new MemoryCheckpointStore({ retain: 100 });
    const metrics = checkpointMetrics();
    const outputs: CheckpointedOutput<string>[] = [];
    let first!: Run<string>;
    newScheduler().run(({ flush }) => {
      // Act: stop at 70 ms of virtual time
      first = start(job(store, timer(70), metrics));
      flush();
    });
    outputs.push(...first.outputs);
    const stoppedAt = (await readLatestCheckpoint(store))!;
    let second!: Run<string>;
    newScheduler().run(({ flush }) => {
      second = start(job(store, undefined, metrics));
      flush();
    });
    outputs.push(...second.outputs);
    // Assert: the first run completed early (no error), having read only part of the source, and fired no
    // window past its stop (an end-of-input flush would have emitted every open window at once).
    expect(first.completed).toBe(true);
    expect(first.error).toBeUndefined();
    expect(metrics.stops).toBe(1);
    const position = Number(stoppedAt.position); // as the codec wrote it
    expect(position).toBeGreaterThan(0);
    expect(position).toBeLessThan(readings.length);
    expect(valuesOnce(first.outputs).length).toBeLessThan(expected.length / 2);
    expect(second.completed).toBe(true);
    expect(valuesOnce(outputs)).toEqual(expected);
  });

  it('the stop checkpoint holds the calls in flight: the resumed run makes them again, nothing lost', () => {
    // Arrange: a single slow call per reading, so calls are in flight at the stop
    const store = new MemoryCheckpointStore();
    const calls: number[] = [];
    const pipeline = (stop?: typeof NEVER) => checkpointable({ source: arraySource([1, 2, 3, 4, 5, 6]), store, every: { records: 100 }, stop }).pipe(
      asyncWaitOrdered((x: number) => (calls.push(x), timer(50).pipe(map(() => x * 10))), { id: 'slow', capacity: 2 }),
    );
    let first!: Run<number>;
    let second!: Run<number>;
    newScheduler().run(({ flush }) => {
      // Act: stop at 75: 1 and 2 are done (at 50), 3 and 4 are in flight
      first = start(pipeline(timer(75) as typeof NEVER));
      flush();
    });
    newScheduler().run(({ flush }) => {
      second = start(pipeline());
      flush();
    });
    // Assert
    expect(valuesOnce(first.outputs as CheckpointedOutput<never>[])).toEqual(['10', '20']);
    expect(valuesOnce([...first.outputs, ...second.outputs] as CheckpointedOutput<never>[])).toEqual(['10', '20', '30', '40', '50', '60']);
    expect(calls).toEqual([1, 2, 3, 4, 3, 4, 5, 6]); // 3 and 4 called again after the restore
  });

  it('a stop before the source is read checkpoints the restored position and reads nothing', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    const metrics = checkpointMetrics();
    const read: number[] = [];
    const pipeline = (stop?: typeof NEVER) => checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 1 }, stop, metrics }).pipe(
      asyncWaitOrdered((x: number) => (read.push(x), of(x)), { id: 'id' }),
    );
    // Act: a notifier that emits at once
    const first = start(pipeline(of('now') as typeof NEVER));
    const second = start(pipeline());
    // Assert
    expect(first.completed).toBe(true);
    expect(first.outputs).toEqual([]);
    expect(metrics.stops).toBe(1);
    expect(valuesOnce(second.outputs as CheckpointedOutput<never>[])).toEqual(['1', '2', '3']);
    expect(read).toEqual([1, 2, 3]);
  });

  it('a stop while the restore is still loading (an asynchronous store) is kept: the run checkpoints and reads nothing', async () => {
    // Arrange: a store answering on promises, holding a checkpoint after the first 2 records
    const memory = new MemoryCheckpointStore();
    const store = {
      list: async () => memory.list(), read: async (id: number) => memory.read(id), write: async (id: number, text: string) => memory.write(id, text),
    };
    const read: number[] = [];
    const metrics = checkpointMetrics();
    const pipeline = (stop?: Subject<void>) => checkpointable({ source: arraySource([1, 2, 3, 4, 5]), store, every: { records: 2 }, stop, metrics }).pipe(
      asyncWaitOrdered((x: number) => (read.push(x), of(x)), { id: 'id' }),
    );
    await new Promise<void>((resolve) => start(pipeline().pipe(take(2), tap({ complete: () => resolve() }))));
    read.length = 0;
    const stop = new Subject<void>();
    // Act: a hot notifier that fires right after subscribing, while list() and read() are pending
    const done = new Promise<Run<number>>((resolve) => {
      const run: Run<number> = start(pipeline(stop).pipe(tap({ complete: () => resolve(run), error: () => resolve(run) })));
    });
    stop.next();
    const stopped = await done;
    // Assert
    expect(stopped.completed).toBe(true);
    expect(metrics.stops).toBe(1);
    expect(read).toEqual([]);
  });

  it('as with takeUntil, only the first value counts: an error from the notifier after it is not the run\'s', async () => {
    // Arrange: real time; the store takes 30 ms a write, and the notifier errors 5 ms after it emits, while the
    // stop checkpoint is being written
    const memory = new MemoryCheckpointStore();
    const store = {
      list: () => memory.list(), read: (id: number) => memory.read(id),
      write: (id: number, text: string) => new Promise<void>((resolve) => asyncScheduler.schedule(() => resolve(memory.write(id, text)), 30)),
    };
    const notifier = new Subject<void>();
    const metrics = checkpointMetrics();
    const done = new Promise<Run<number>>((resolve) => {
      const run: Run<number> = start(checkpointable({ source: arraySource(readings), store, every: { interval: 1000 }, stop: notifier, metrics }).pipe(
        asyncWaitOrdered((r: { k: string; t: number }) => timer(2).pipe(map(() => r.t)), { id: 'call', capacity: 2 }),
      ).pipe(tap({ complete: () => resolve(run), error: () => resolve(run) })));
    });
    // Act
    asyncScheduler.schedule(() => {
      notifier.next();
      asyncScheduler.schedule(() => notifier.error(new Error('notifier failed after the stop')), 5);
    }, 20);
    const run = await done;
    // Assert
    expect(run.error).toBeUndefined();
    expect(run.completed).toBe(true);
    expect(metrics.stops).toBe(1);
  });

  it('a stop from inside a synchronous source, mid-emission: the records after the stop barrier are read by the next run', () => {
    // Arrange: the notifier fires while the 2nd record is being delivered
    const store = new MemoryCheckpointStore();
    const stop = new Subject<void>();
    const pipeline = (withStop: boolean) => checkpointable({ source: arraySource([1, 2, 3, 4]), store, every: { records: 100 }, stop: withStop ? stop : undefined }).pipe(
      asyncWaitOrdered((x: number) => of(x), { id: 'id' }),
      tap((e) => { if (e.kind === 'record' && e.value === 2) stop.next(); }),
    );
    // Act
    const first = start(pipeline(true));
    const second = start(pipeline(false));
    // Assert
    expect(first.completed).toBe(true);
    expect(valuesOnce([...first.outputs, ...second.outputs] as CheckpointedOutput<never>[])).toEqual(['1', '2', '3', '4']);
    expect(valuesOnce(first.outputs as CheckpointedOutput<never>[])).toEqual(['1', '2']);
  });

  it('a stop after the source has ended lets the pipeline drain: end-of-input timers fire, a final checkpoint', () => {
    // Arrange
    const expected = uninterrupted();
    const metrics = checkpointMetrics();
    let run!: Run<string>;
    newScheduler().run(({ flush }) => {
      // Act: the source (40 readings behind capacity 4 x 20 ms) ends near 200 ms; stop at 205
      run = start(job(new MemoryCheckpointStore(), timer(205), metrics));
      flush();
    });
    // Assert
    expect(run.completed).toBe(true);
    expect(valuesOnce(run.outputs)).toEqual(expected);
    expect(metrics.stops).toBe(0);
  });

  it('a stop checkpoint that cannot be written errors the output with the failure; the previous checkpoint stands', async () => {
    // Arrange: every write after the first fails
    const store = new MemoryCheckpointStore();
    const write = store.write.bind(store);
    let writes = 0;
    const failure = new Error('disk full');
    Object.assign(store, { write: (id: number, text: string) => (++writes > 1 ? (() => { throw failure; })() : write(id, text)) });
    let run!: Run<number>;
    newScheduler().run(({ flush }) => {
      run = start(checkpointable({ source: arraySource(readings), store, every: { records: 5 }, stop: timer(30) }).pipe(
        asyncWaitOrdered((r: { k: string; t: number }) => timer(10).pipe(map(() => r.t)), { id: 'call', capacity: 4 }),
      ));
      // Act
      flush();
    });
    // Assert
    expect(run.error).toBe(failure);
    expect(run.completed).toBe(false);
    expect((await readLatestCheckpoint(store))?.checkpointId).toBe(1);
  });

  it('an error from the notifier errors the output', () => {
    // Arrange
    const failure = new Error('notifier failed');
    newScheduler().run(({ flush }) => {
      const run = start(job(new MemoryCheckpointStore(), throwError(() => failure)));
      // Act
      flush();
      // Assert
      expect(run.error).toBe(failure);
    });
  });

  it('only the first notification counts; a Promise works as a notifier', async () => {
    // Arrange: real time; a promise resolved after the first records
    const store = new MemoryCheckpointStore();
    const metrics = checkpointMetrics();
    const stop = new Promise<void>((resolve) => asyncScheduler.schedule(() => resolve(), 30));
    const pipeline = (notifier?: Promise<void>) => checkpointable({ source: arraySource(readings), store, every: { records: 5 }, stop: notifier, metrics }).pipe(
      asyncWaitOrdered((r: { k: string; t: number }) => timer(10).pipe(map(() => r.t)), { id: 'call', capacity: 2 }),
    );
    // Act
    const first = await new Promise<ReturnType<typeof start<number>>>((resolve) => {
      const run: Run<number> = start(pipeline(stop).pipe(tap({ complete: () => resolve(run) })));
    });
    const second = await new Promise<ReturnType<typeof start<number>>>((resolve) => {
      const run: Run<number> = start(pipeline().pipe(tap({ complete: () => resolve(run) })));
    });
    // Assert
    expect(metrics.stops).toBe(1);
    expect(first.outputs.length).toBeLessThan(readings.length);
    expect(valuesOnce([...first.outputs, ...second.outputs] as CheckpointedOutput<never>[])).toEqual(readings.map((r) => String(r.t)));
  });

  it.each([
    ['a number', 42],
    ['a string', 'SIGINT'],
    ['null', null],
    ['a plain object', { on: () => undefined }],
  ])('refuses a stop that is %s, naming the option', (_what, stop) => {
    // Arrange / Act / Assert
    expect(() => checkpointable({ source: arraySource([1]), every: { records: 1 }, stop: stop as never })).toThrow(TypeError);
    expect(() => checkpointable({ source: arraySource([1]), every: { records: 1 }, stop: stop as never })).toThrow(/"stop"/);
  });
});
