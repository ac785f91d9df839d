import {
  asyncScheduler, concat, filter, from, ignoreElements, lastValueFrom, map, merge, NEVER, of, pipe, timer, toArray,
  type Observable, type OperatorFunction,
} from 'rxjs';
import {
  arraySource, asyncWaitOrdered, asyncWaitUnordered, CheckpointBindingError, CheckpointCorruptError, CheckpointEncodeError, CheckpointRestoreError,
  checkpointable, checkpointMetrics, CheckpointVersionError, jsonCodec, keyedTimers, mapRecords, MemoryCheckpointStore,
  readLatestCheckpoint, withWatermarks, type CheckpointableOptions, type CheckpointCodec, type CheckpointedOutput,
  type CheckpointSink, type CheckpointStore, type CheckpointWarning, type KeyedProcessFunction, type ReplayableSource,
  type SourceItem, type StoredCheckpoint, type StreamElement,
} from 'rxjs-sluice';
import { forgeCheckpoint, start, type CheckpointBody, type Run } from '../support/checkpoints';
import { newScheduler } from '../support/marbles';

/**
 * checkpointable: option validation, the build-time id rules, checkpoint triggers, source items, delivery
 * guarantees, restore, the final checkpoint, failed checkpoints, the sink's two-phase protocol (ambiguous store
 * writes included), restore errors, store ownership (a crashed run's writes still in flight), errors while
 * starting, metrics; and the MemoryCheckpointStore / readLatestCheckpoint pair. Asynchronous stores are driven
 * by hand (promises resolved by the test); time is virtual (TestScheduler) wherever it matters.
 */

// ---- helpers -------------------------------------------------------------------------------------------------------

/** The output values. */
const valuesOf = <O>(outputs: readonly CheckpointedOutput<O>[]): O[] => outputs.map((o) => o.element.value as O);
/** The output stamps as [checkpointId, sequence, value]. */
const stampsOf = <O>(outputs: readonly CheckpointedOutput<O>[]): Array<[number, number, O]> =>
  outputs.map((o) => [o.checkpointId, o.sequence, o.element.value as O]);

/** Lets every settled promise run its callbacks (no timers involved). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A replayable source over `values` that never completes once they are out: runs over it end only by a crash. */
function endlessSource<T>(values: readonly T[]): ReplayableSource<T, number> {
  return {
    open: (position = 0) =>
      concat(from(values.slice(position).map((value, i): SourceItem<T, number> => ({ value, position: position + i + 1 }))), NEVER),
  };
}

/**
 * A source for single-run tests: `items[i]` (times ascending) comes at virtual time `at` after it is opened (default
 * scheduler, so use it inside TestScheduler.run); it completes at `completeAt` (never, when undefined).
 */
function scheduledSource<T>(items: ReadonlyArray<readonly [at: number, value: T]>, completeAt?: number): ReplayableSource<T, number> {
  return {
    open: (position = 0) => merge(
      ...items.slice(position).map(([at, value], i) => timer(at).pipe(map((): SourceItem<T, number> => ({ value, position: position + i + 1 })))),
      completeAt === undefined ? NEVER : timer(completeAt).pipe(ignoreElements()),
    ),
  };
}

/**
 * A replayable source whose item i comes `gap` ms (virtual time, default scheduler) after the previous one, counting
 * from when it is opened; it then completes, or stays open when `complete` is false.
 */
function sequentialSource<T>(items: ReadonlyArray<readonly [gap: number, value: T]>, complete: boolean): ReplayableSource<T, number> {
  return {
    open: (position = 0) => {
      const rest = items.slice(position).map(([gap, value], i) => timer(gap).pipe(map((): SourceItem<T, number> => ({ value, position: position + i + 1 }))));
      return complete ? concat(...rest) : concat(...rest, NEVER);
    },
  };
}

/** The body of checkpoint `id` as written. */
const bodyOf = (store: MemoryCheckpointStore, id: number): CheckpointBody =>
  (JSON.parse(store.read(id)) as { body: CheckpointBody }).body;

/** The decoded snapshot of operator `id` in a stored checkpoint (jsonCodec). */
function stateOf(checkpoint: StoredCheckpoint | undefined, id: string): unknown {
  const operator = checkpoint?.operators.find((o) => o.id === id);
  if (operator === undefined) throw new Error(`no state for operator ${id}`);
  return JSON.parse(operator.state);
}

/** A write the test completes by hand. */
interface PendingWrite {
  readonly id: number;
  resolve(): void;
  reject(err: unknown): void;
}

/** A store whose writes resolve (and become visible) only when the test says so. */
class ManualStore implements CheckpointStore {
  readonly inner = new MemoryCheckpointStore({ retain: 100 });
  readonly writes: PendingWrite[] = [];

  write(id: number, text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.writes.push({
        id,
        resolve: () => {
          this.inner.write(id, text);
          resolve();
        },
        reject,
      });
    });
  }

  list(): number[] {
    return this.inner.list();
  }

  read(id: number): string {
    return this.inner.read(id);
  }
}

/** A MemoryCheckpointStore whose writes go through `onWrite` first (which may throw, or return a rejection). */
function interceptedStore(onWrite: (id: number) => void | Promise<void>, log?: string[]): MemoryCheckpointStore {
  const store = new MemoryCheckpointStore({ retain: 100 });
  const write = store.write.bind(store);
  return Object.assign(store, {
    write: (id: number, text: string): void | Promise<void> => {
      log?.push(`write ${id}`);
      const result = onWrite(id);
      if (result instanceof Promise) return result.then(() => write(id, text));
      write(id, text);
      return undefined;
    },
  });
}

/**
 * A MemoryCheckpointStore whose write of an id in `failIds` really stores the text and then fails (rejects, or
 * throws when `sync`): a checkpoint that is on disk but reported failed (a timeout, a clean-up error after the
 * rename). `log` gets `write <id>`.
 */
function storedThenFailing(failIds: readonly number[], log?: string[], sync = false): MemoryCheckpointStore {
  const store = new MemoryCheckpointStore({ retain: 100 });
  const write = store.write.bind(store);
  return Object.assign(store, {
    write: (id: number, text: string): void | Promise<void> => {
      log?.push(`write ${id}`);
      write(id, text);
      if (!failIds.includes(id)) return undefined;
      const failure = new Error(`ETIMEDOUT writing checkpoint ${id}`);
      if (sync) throw failure;
      return Promise.reject(failure);
    },
  });
}

/** A copy of a MemoryCheckpointStore holding only the given checkpoints (an older state of the store). */
function storeWith(from: MemoryCheckpointStore, ids: readonly number[]): MemoryCheckpointStore {
  const copy = new MemoryCheckpointStore({ retain: 100 });
  for (const id of ids) copy.write(id, from.read(id));
  return copy;
}

/** A MemoryCheckpointStore behind promises: what FileCheckpointStore or any remote store looks like. */
class AsyncStore implements CheckpointStore {
  constructor(readonly inner = new MemoryCheckpointStore({ retain: 100 })) {}

  async write(id: number, text: string): Promise<void> {
    this.inner.write(id, text);
  }

  async list(): Promise<number[]> {
    return this.inner.list();
  }

  async read(id: number): Promise<string> {
    return this.inner.read(id);
  }
}

/** A sink that logs every call (outputs as their values); preCommit of `failPreCommit` throws. */
function loggingSink(log: string[], failPreCommit?: number): CheckpointSink<unknown> {
  return {
    preCommit: (id, outputs) => {
      log.push(`preCommit ${id} [${outputs.map((o) => String(o.element.value)).join(',')}]`);
      if (id === failPreCommit) throw new Error('sink full');
    },
    commit: (id) => void log.push(`commit ${id}`),
    abort: (id) => void log.push(`abort ${id}`),
    recover: (id) => void log.push(`recover ${String(id)}`),
  };
}

/**
 * An in-memory transactional sink with FileSink's semantics (the state outlives a crash; a restart uses the same
 * object): preCommit stages an epoch, commit moves it to the committed epochs (never twice; committing an epoch
 * neither staged nor committed fails), abort drops it, recover(n) commits the staged epochs <= n, drops later
 * ones, and refuses to start when epochs beyond n are already committed. Logs like loggingSink.
 */
class MemorySink implements CheckpointSink<unknown> {
  readonly staged = new Map<number, unknown[]>();
  readonly committed = new Map<number, unknown[]>();

  constructor(readonly log: string[] = []) {}

  preCommit(id: number, outputs: readonly CheckpointedOutput<unknown>[]): void {
    this.log.push(`preCommit ${id} [${outputs.map((o) => String(o.element.value)).join(',')}]`);
    this.staged.set(id, outputs.map((o) => o.element.value));
  }

  commit(id: number): void {
    this.log.push(`commit ${id}`);
    const staged = this.staged.get(id);
    this.staged.delete(id);
    if (this.committed.has(id)) return;
    if (staged === undefined) throw new Error(`MemorySink: nothing staged for epoch ${id}`);
    this.committed.set(id, staged);
  }

  abort(id: number): void {
    this.log.push(`abort ${id}`);
    this.staged.delete(id);
  }

  recover(id: number | undefined): void {
    this.log.push(`recover ${String(id)}`);
    const beyond = [...this.committed.keys()].filter((n) => id === undefined || n > id);
    if (beyond.length !== 0) throw new Error(`MemorySink: epochs ${beyond.join(', ')} are committed beyond ${String(id)}`);
    for (const [n, values] of [...this.staged]) {
      this.staged.delete(n);
      if (id !== undefined && n <= id && !this.committed.has(n)) this.committed.set(n, values);
    }
  }

  /** The committed output: every committed epoch's values, in epoch order. */
  committedValues(): unknown[] {
    return [...this.committed.entries()].sort(([a], [b]) => a - b).flatMap(([, values]) => values);
  }
}

/** A running sum of all values, under one key: keyedTimers state the checkpoints must carry. */
const runningSum: KeyedProcessFunction<number, number, string, number> = {
  key: () => 'all',
  processElement: (x, ctx) => {
    ctx.state.update((ctx.state.value() ?? 0) + x);
    ctx.emit(ctx.state.value()!);
  },
};

const BASE: CheckpointableOptions<number, number> = { source: arraySource([1]), every: { records: 1 } };

// ---- options -----------------------------------------------------------------------------------------------------------

describe('checkpointable options', () => {
  const fn = () => undefined;
  const store = { write: fn, list: fn, read: fn };
  const sink = { preCommit: fn, commit: fn, abort: fn, recover: fn };

  it.each<[string, Record<string, unknown>, string]>([
    ['source missing', { source: undefined }, 'option "source" must be an object, got undefined'],
    ['source without open', { source: {} }, 'option "source.open" must be a function, got undefined'],
    ['source.open not a function', { source: { open: 'x' } }, 'option "source.open" must be a function, got "x"'],
    ['every missing', { every: undefined }, 'option "every" must be an object, got undefined'],
    ['every empty', { every: {} }, 'option "every" must be an object with "records" and/or "interval", got {}'],
    ['every.records 0', { every: { records: 0 } }, 'option "every.records" must be an integer >= 1, got 0'],
    ['every.records fractional', { every: { records: 1.5 } }, 'option "every.records" must be an integer >= 1, got 1.5'],
    ['every.records a string', { every: { records: '2' } }, 'option "every.records" must be an integer >= 1, got "2"'],
    ['every.interval 0', { every: { interval: 0 } }, 'option "every.interval" must be a finite number > 0, got 0'],
    ['every.interval negative', { every: { interval: -5 } }, 'option "every.interval" must be a finite number > 0, got -5'],
    ['every.interval Infinity', { every: { interval: Infinity } }, 'option "every.interval" must be a finite number > 0, got Infinity'],
    ['every.interval NaN', { every: { records: 1, interval: NaN } }, 'option "every.interval" must be a finite number > 0, got NaN'],
    ['an unknown every key', { every: { record: 1 } }, 'checkpointable every: unknown option "record"'],
    ['store null', { store: null }, 'option "store" must be an object, got null'],
    ['store without read', { store: { write: fn, list: fn } }, 'option "store.read" must be a function, got undefined'],
    ['store.write not a function', { store: { ...store, write: 1 } }, 'option "store.write" must be a function, got 1'],
    ['delivery twice', { delivery: 'twice' }, `option "delivery" must be 'exactly-once' or 'at-least-once', got "twice"`],
    ['sink without recover', { sink: { preCommit: fn, commit: fn, abort: fn } }, 'option "sink.recover" must be a function, got undefined'],
    ['sink.abort not a function', { sink: { ...sink, abort: true } }, 'option "sink.abort" must be a function, got true'],
    ['sink not an object', { sink: 'file' }, 'option "sink" must be an object, got "file"'],
    ['codec without name', { codec: { encode: fn, decode: fn } }, 'option "codec.name" must be a non-empty string, got undefined'],
    ['codec with an empty name', { codec: { name: '', encode: fn, decode: fn } }, 'option "codec.name" must be a non-empty string, got ""'],
    ['codec without encode', { codec: { name: 'c', decode: fn } }, 'option "codec.encode" must be a function, got undefined'],
    ['codec without decode', { codec: { name: 'c', encode: fn } }, 'option "codec.decode" must be a function, got undefined'],
    ['codec null', { codec: null }, 'option "codec" must be an object, got null'],
    ['scheduler without schedule', { scheduler: { now: () => 0 } }, 'option "scheduler" must be a SchedulerLike (with now() and schedule()), got {}'],
    ['scheduler a number', { scheduler: 5 }, 'option "scheduler" must be a SchedulerLike (with now() and schedule()), got 5'],
    ['onWarning a string', { onWarning: 'console' }, 'option "onWarning" must be a function, got "console"'],
    ['metrics not from checkpointMetrics()', { metrics: { started: 0 } }, 'option "metrics" must be an object made by checkpointMetrics(), got {"started":0}'],
    ['an unknown option', { retries: 3 }, 'checkpointable: unknown option "retries"'],
  ])('%s: throws a TypeError naming the option and the value', (_name, override, message) => {
    // Arrange
    const options = { ...BASE, ...override } as unknown as CheckpointableOptions<number, number>;
    // Act
    const act = () => checkpointable(options);
    // Assert
    expect(act).toThrow(TypeError);
    expect(act).toThrow(message);
  });

  it('options not an object: throws a TypeError', () => {
    // Arrange + Act
    const act = () => checkpointable(undefined as never);
    // Assert
    expect(act).toThrow(TypeError);
    expect(act).toThrow('checkpointable: option "options" must be an object, got undefined');
  });

  it('accepts every option at once (and metrics from checkpointMetrics())', () => {
    // Arrange
    const options: CheckpointableOptions<number, number> = {
      source: arraySource([1]), every: { records: 1, interval: 10 }, store: new MemoryCheckpointStore(), delivery: 'at-least-once',
      sink: sink as CheckpointSink<unknown>, codec: jsonCodec, scheduler: asyncScheduler, onWarning: fn, metrics: checkpointMetrics(),
    };
    // Act + Assert
    expect(() => checkpointable(options)).not.toThrow();
  });

  it.each<[string, () => unknown, string]>([
    ['values not an array', () => arraySource('abc' as never), 'arraySource: values must be an array, got "abc"'],
    ['timestampOf not a function', () => arraySource([1], { timestampOf: 1 as never }), 'option "timestampOf" must be a function, got 1'],
    ['an unknown option', () => arraySource([1], { at: 1 } as never), 'arraySource: unknown option "at"'],
  ])('arraySource: %s throws a TypeError', (_name, act, message) => {
    // Arrange + Act + Assert
    expect(act).toThrow(TypeError);
    expect(act).toThrow(message);
  });
});

// ---- build-time id rules -------------------------------------------------------------------------------------------------

describe('checkpointable pipe(): the id rules', () => {
  const job = () => checkpointable({ source: arraySource([1, 2]), every: { records: 1 } });
  const double = (x: number) => of(2 * x);

  it.each<[string, () => OperatorFunction<never, unknown>]>([
    ['asyncWaitOrdered', () => asyncWaitOrdered(double)],
    ['asyncWaitUnordered', () => asyncWaitUnordered(double)],
    ['keyedTimers', () => keyedTimers(runningSum)],
    ['withWatermarks', () => withWatermarks<number>({ input: 'elements', timestampOf: (x) => x, maxOutOfOrderness: 0 })],
  ])('a %s without an id: throws a TypeError naming its kind and position', (kind, make) => {
    // Arrange
    const operator = make();
    // Act
    const act = () => job().pipe(mapRecords((x: number) => x), operator as never);
    // Assert
    expect(act).toThrow(TypeError);
    expect(act).toThrow(`checkpointable: the ${kind} at pipe() argument 2 has no "id"`);
  });

  it('two stateful operators sharing an id: throws a TypeError naming both positions and kinds', () => {
    // Arrange
    const first = asyncWaitOrdered(double, { id: 'same' });
    const second = keyedTimers(runningSum, { id: 'same' });
    // Act
    const act = () => job().pipe(first, mapRecords((x: number) => x), second);
    // Assert
    expect(act).toThrow(TypeError);
    expect(act).toThrow('id "same" is used by the asyncWaitOrdered at pipe() argument 1 and by the keyedTimers at argument 3; ids must be distinct');
  });

  it('the same operator instance passed twice: its id is used twice', () => {
    // Arrange
    const op = asyncWaitOrdered(double, { id: 'a' });
    // Act + Assert
    expect(() => job().pipe(op, op)).toThrow('id "a" is used by the asyncWaitOrdered at pipe() argument 1 and by the asyncWaitOrdered at argument 2');
  });

  it.each<[string, unknown]>([['a number', 42], ['undefined', undefined], ['an object', { kind: 'map' }]])(
    'an argument that is %s: throws a TypeError naming its position',
    (_name, argument) => {
      // Arrange + Act
      const act = () => job().pipe(mapRecords((x: number) => x), argument as never);
      // Assert
      expect(act).toThrow(TypeError);
      expect(act).toThrow('checkpointable: pipe() argument 2 must be an operator function');
    },
  );

  it('distinct ids and stateless operators: builds, and nothing runs before subscribe', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    const built = checkpointable({ source: arraySource([1]), store, every: { records: 1 } });
    // Act
    built.pipe(asyncWaitOrdered(double, { id: 'a' }), mapRecords((x: number) => x), keyedTimers(runningSum, { id: 'b' }));
    // Assert
    expect(store.list()).toEqual([]);
  });

  it.each<[string, () => OperatorFunction<StreamElement<number>, StreamElement<unknown>>]>([
    ['asyncWaitOrdered', () => asyncWaitOrdered(double, { id: 'hidden' })],
    ['asyncWaitUnordered', () => asyncWaitUnordered(double, { id: 'hidden' })],
    ['keyedTimers', () => keyedTimers(runningSum, { id: 'hidden' })],
    ['withWatermarks', () => withWatermarks<number>({ input: 'elements', timestampOf: (x) => x, maxOutOfOrderness: 0, id: 'hidden' })],
  ])('a %s hidden inside rxjs pipe(...): the output errors with CheckpointBindingError as it is subscribed, before any record flows', (kind, make) => {
    // Arrange: the stateful operator is inside one composed argument, where pipe() cannot see it.
    const store = new MemoryCheckpointStore();
    const seen: number[] = [];
    const composed = pipe(mapRecords((x: number) => (seen.push(x), x)), make());
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 1 } }).pipe(composed));
    // Assert: no record reached any operator, and nothing was checkpointed.
    expect(run.error).toBeInstanceOf(CheckpointBindingError);
    expect((run.error as Error).message).toContain('inside a composed operator');
    expect((run.error as Error).message).toContain(`${kind} (id "hidden")`);
    expect((run.error as CheckpointBindingError).input).toEqual({ kind, id: 'hidden' });
    expect(seen).toEqual([]);
    expect(run.outputs).toEqual([]);
    expect(store.list()).toEqual([]);
  });
});

// ---- triggers ----------------------------------------------------------------------------------------------------------------

describe('checkpoint triggers', () => {
  it('every.records N: barrier n after every N records, then a final checkpoint; ids 1, 2, ... and source positions', () => {
    // Arrange
    const store = new MemoryCheckpointStore({ retain: 10 });
    const job = checkpointable({ source: arraySource([10, 20, 30, 40, 50]), store, every: { records: 2 } });
    // Act
    const run = start(job.pipe());
    // Assert
    expect(run.completed).toBe(true);
    expect(store.list()).toEqual([1, 2, 3]);
    expect(store.list().map((id) => [bodyOf(store, id).position, bodyOf(store, id).final])).toEqual([['2', false], ['4', false], ['5', true]]);
    expect(stampsOf(run.outputs)).toEqual([[1, 0, 10], [1, 1, 20], [2, 0, 30], [2, 1, 40], [3, 0, 50]]);
  });

  it('every.records larger than the input: only the final checkpoint', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 5 } }).pipe());
    // Assert
    expect(store.list()).toEqual([1]);
    expect(bodyOf(store, 1)).toMatchObject({ final: true, position: '3' });
    expect(stampsOf(run.outputs)).toEqual([[1, 0, 1], [1, 1, 2], [1, 2, 3]]);
  });

  it('an empty source: one final checkpoint at position null', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    // Act
    const run = start(checkpointable({ source: arraySource<number>([]), store, every: { records: 1 } }).pipe());
    // Assert
    expect(run.completed).toBe(true);
    expect(run.outputs).toEqual([]);
    expect(store.list()).toEqual([1]);
    expect(bodyOf(store, 1)).toMatchObject({ final: true, position: null, outputs: '[]' });
  });

  it('every.interval T: a barrier every T ms of scheduler time, none while the source is idle', () => {
    const store = new MemoryCheckpointStore({ retain: 10 });
    const metrics = checkpointMetrics();
    const emitted: Array<[number, number]> = [];
    let completedAt = -1;
    newScheduler().run(({ flush }) => {
      // Arrange: records at 1, 2 and 35 ms; completion at 70 ms; interval 10 ms.
      const source = scheduledSource([[1, 1], [2, 2], [35, 3]], 70);
      const job = checkpointable({ source, store, every: { interval: 10 }, metrics });
      // Act
      job.pipe().subscribe({
        next: (o) => emitted.push([asyncScheduler.now(), o.element.value as number]),
        complete: () => (completedAt = asyncScheduler.now()),
      });
      flush();
    });
    // Assert: checkpoints at 10 (records 1, 2) and 40 (record 3), none at 20, 30, 50, 60; the final one at 70.
    expect(store.list()).toEqual([1, 2, 3]);
    expect(store.list().map((id) => bodyOf(store, id)).map((b) => [b.createdAt, b.position, b.final])).toEqual([
      [10, '2', false], [40, '3', false], [70, '3', true],
    ]);
    expect(metrics.started).toBe(3);
    // exactly-once: each output appears when its checkpoint is written.
    expect(emitted).toEqual([[10, 1], [10, 2], [40, 3]]);
    expect(completedAt).toBe(70);
  });

  it('every.interval on a source that never emits: no checkpoint at all until it completes', () => {
    const store = new MemoryCheckpointStore();
    newScheduler().run(({ flush }) => {
      // Arrange
      const job = checkpointable({ source: scheduledSource<number>([], 100), store, every: { interval: 10 } });
      // Act
      start(job.pipe());
      flush();
    });
    // Assert: only the final checkpoint.
    expect(store.list()).toEqual([1]);
    expect(bodyOf(store, 1)).toMatchObject({ createdAt: 100, final: true });
  });

  it('records and interval together: whichever comes first; the interval ticks on its grid from subscription', () => {
    const store = new MemoryCheckpointStore({ retain: 10 });
    newScheduler().run(({ flush }) => {
      // Arrange: records 3 at 7, 8, 9 (count), one at 15 (interval tick at 20), 3 more at 21..23 (count), end at 25.
      const source = scheduledSource([[7, 1], [8, 2], [9, 3], [15, 4], [21, 5], [22, 6], [23, 7]], 25);
      const job = checkpointable({ source, store, every: { records: 3, interval: 10 } });
      // Act
      start(job.pipe());
      flush();
    });
    // Assert
    expect(store.list().map((id) => bodyOf(store, id)).map((b) => [b.createdAt, b.position, b.final])).toEqual([
      [9, '3', false], [20, '4', false], [23, '7', false], [25, '7', true],
    ]);
  });

  it.each<[string, 'async' | 'timer']>([
    ['an async result the interval barrier overtook', 'async'],
    ['a processing-time timer that fired after the last barrier', 'timer'],
  ])('every.interval: %s is released by the next tick although no record arrived since', (_name, kind) => {
    const store = new MemoryCheckpointStore({ retain: 10 });
    const emittedAt: number[] = [];
    newScheduler().run(({ flush }) => {
      // Arrange: one record at t=0, then a quiet source until it completes at t=1000; its output is ready at t=15,
      // after the tick at t=10 took checkpoint 1 (whose barrier overtook it).
      const job = checkpointable({ source: scheduledSource([[0, 1]], 1000), store, every: { interval: 10 } });
      const output: Observable<CheckpointedOutput<unknown>> = kind === 'async'
        ? job.pipe(asyncWaitOrdered((x: number) => timer(15).pipe(map(() => x)), { id: 'slow' }))
        : job.pipe(keyedTimers<number, string, string, number>({
          key: () => 'k',
          processElement: (_x, ctx) => ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 15),
          onTimer: (_t, ctx) => ctx.emit('fired'),
        }, { id: 'timers' }));
      // Act
      output.subscribe(() => emittedAt.push(asyncScheduler.now()));
      flush();
    });
    // Assert: emitted by checkpoint 2 at the tick after t=15 (t=20), not held until the source completes.
    expect(emittedAt).toEqual([20]);
    expect(store.list().map((id) => bodyOf(store, id)).map((b) => [b.createdAt, b.position, b.final])).toEqual([
      [10, '1', false], [20, '1', false], [1000, '1', true],
    ]);
  });

  it.each<[string, CheckpointSink<unknown> | undefined]>([
    ['without a sink (its outputs are carried)', undefined],
    ['with a sink (its write is ambiguous, its epoch unsettled)', loggingSink([])],
  ])('every.interval: after a failed checkpoint %s, the next tick takes one, although no record arrived since', (_name, sink) => {
    const store = storedThenFailing([1], undefined, true);
    const emittedAt: Array<[number, number]> = [];
    const warnings: CheckpointWarning[] = [];
    newScheduler().run(({ flush }) => {
      // Arrange: records at t=1 and 2; checkpoint 1 (t=10) fails; the source is quiet until t=100.
      const job = checkpointable({
        source: scheduledSource([[1, 1], [2, 2]], 100), store, every: { interval: 10 }, sink, onWarning: (w) => warnings.push(w),
      });
      // Act
      job.pipe().subscribe((o) => emittedAt.push([asyncScheduler.now(), o.element.value as number]));
      flush();
    });
    // Assert: checkpoint 2 at t=20 commits the failed epoch.
    expect(warnings.map((w) => [w.kind, w.checkpointId])).toEqual([['checkpoint-failed', 1]]);
    expect(emittedAt).toEqual([[20, 1], [20, 2]]);
    expect(bodyOf(store, 2)).toMatchObject({ createdAt: 20, position: '2', final: false });
  });

  it('after a restore, barrier ids continue from the restored id', () => {
    // Arrange: run 1 writes checkpoints 1 and 2, then crashes.
    const store = new MemoryCheckpointStore();
    const run1 = start(checkpointable({ source: endlessSource([1, 2, 3, 4]), store, every: { records: 2 } }).pipe());
    run1.subscription.unsubscribe();
    // Act
    start(checkpointable({ source: arraySource([1, 2, 3, 4, 5, 6]), store, every: { records: 1 } }).pipe());
    // Assert: 3 (after 5), 4 (after 6), 5 final.
    expect(store.list()).toEqual([3, 4, 5]);
    expect([3, 4, 5].map((id) => bodyOf(store, id).position)).toEqual(['5', '6', '6']);
  });
});

// ---- source items ----------------------------------------------------------------------------------------------------------

describe('source items', () => {
  it('an item whose position is undefined errors the output with a TypeError, and no checkpoint is written', () => {
    // Arrange: a typo such as `{ value, position: msg.ofset }`; undefined would mean "from the beginning".
    const source: ReplayableSource<number, number> = {
      open: () => from([1, 2, 3].map((value): SourceItem<number, number> => ({ value, position: undefined as unknown as number }))),
    };
    const store = new MemoryCheckpointStore({ retain: 10 });
    const warnings: CheckpointWarning[] = [];
    // Act
    const run = start(checkpointable({ source, store, every: { records: 2 }, onWarning: (w) => warnings.push(w) })
      .pipe(keyedTimers(runningSum, { id: 'sum' })));
    // Assert
    expect(run.error).toBeInstanceOf(TypeError);
    expect((run.error as Error).message).toContain('position must not be undefined');
    expect(run.completed).toBe(false);
    expect(run.outputs).toEqual([]);
    expect(warnings).toEqual([]);
    expect(store.list()).toEqual([]);
  });
});

// ---- delivery --------------------------------------------------------------------------------------------------------------

describe('delivery', () => {
  it("'exactly-once' (default) holds every output until the checkpoint that covers it is durable", async () => {
    // Arrange
    const store = new ManualStore();
    const metrics = checkpointMetrics();
    const job = checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 3 }, metrics });
    // Act: the source runs to its end at once; checkpoint 1 waits on the store.
    const run = start(job.pipe());
    // Assert: nothing emitted while write 1 is pending.
    expect(store.writes.map((w) => w.id)).toEqual([1]);
    expect(run.outputs).toEqual([]);
    expect(metrics.heldOutputs).toBe(3);
    await settle();
    expect(run.outputs).toEqual([]);
    // Act: checkpoint 1 becomes durable.
    store.writes[0]!.resolve();
    await settle();
    // Assert: its outputs come out; the final checkpoint (2) is being written, so the output is not complete yet.
    expect(stampsOf(run.outputs)).toEqual([[1, 0, 1], [1, 1, 2], [1, 2, 3]]);
    expect(store.writes.map((w) => w.id)).toEqual([1, 2]);
    expect(run.completed).toBe(false);
    // Act: the final checkpoint becomes durable.
    store.writes[1]!.resolve();
    await settle();
    // Assert
    expect(run.completed).toBe(true);
    expect(run.outputs).toHaveLength(3);
    expect(metrics.heldOutputs).toBe(0);
  });

  it("'exactly-once': outputs are stored in the checkpoint that commits them", () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    // Act
    start(checkpointable({ source: arraySource(['a', 'b', 'c']), store, every: { records: 2 } }).pipe());
    // Assert
    expect(JSON.parse(bodyOf(store, 1).outputs!)).toEqual([
      { checkpointId: 1, sequence: 0, element: { kind: 'record', value: 'a' } },
      { checkpointId: 1, sequence: 1, element: { kind: 'record', value: 'b' } },
    ]);
    expect(JSON.parse(bodyOf(store, 2).outputs!)).toEqual([{ checkpointId: 2, sequence: 0, element: { kind: 'record', value: 'c' } }]);
  });

  it("'at-least-once' writes a start checkpoint first, then emits at once, stamped with it, and stores no outputs", async () => {
    // Arrange
    const store = new ManualStore();
    const job = checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 }, delivery: 'at-least-once' });
    // Act
    const run = start(job.pipe());
    const beforeTheStartCheckpoint = run.outputs.length;
    store.writes[0]!.resolve();
    await settle();
    // Assert: nothing before start checkpoint 1 is durable; then everything, before any other write is durable,
    // stamped (1, place in the run).
    expect(beforeTheStartCheckpoint).toBe(0);
    expect(stampsOf(run.outputs)).toEqual([[1, 0, 1], [1, 1, 2], [1, 2, 3]]);
    expect(store.list()).toEqual([1]);
    // Act: let both checkpoints be written.
    store.writes[1]!.resolve();
    await settle();
    store.writes[2]!.resolve();
    await settle();
    // Assert
    expect(run.completed).toBe(true);
    expect(store.writes.map((w) => w.id)).toEqual([1, 2, 3]);
    expect(bodyOf(store.inner, 1)).toMatchObject({ position: null, operators: [], outputs: null, final: false });
    expect(bodyOf(store.inner, 2).outputs).toBeNull();
    expect(bodyOf(store.inner, 3).outputs).toBeNull();
  });

  it("'at-least-once': after a crash the outputs since the last checkpoint come again, with new stamps", () => {
    // Arrange: start checkpoint 1, checkpoint 2 after 1, 2; then 3 is emitted and the run crashes.
    const store = new MemoryCheckpointStore();
    const run1 = start(checkpointable({ source: endlessSource([1, 2, 3]), store, every: { records: 2 }, delivery: 'at-least-once' }).pipe());
    run1.subscription.unsubscribe();
    // Act
    const run2 = start(checkpointable({ source: arraySource([1, 2, 3, 4]), store, every: { records: 2 }, delivery: 'at-least-once' }).pipe());
    // Assert: 3 again, then 4, stamped with run 2's start checkpoint (3); no re-emission of checkpoint 2's outputs.
    expect(stampsOf(run1.outputs)).toEqual([[1, 0, 1], [1, 1, 2], [1, 2, 3]]);
    expect(stampsOf(run2.outputs)).toEqual([[3, 0, 3], [3, 1, 4]]);
  });

  it('stamps: sequence restarts at 0 in every epoch, also with outputs that a stateful operator makes', () => {
    // Arrange
    const job = checkpointable({ source: arraySource([1, 2, 3, 4, 5]), every: { records: 2 } });
    // Act
    const run = start(job.pipe(keyedTimers(runningSum, { id: 'sum' })));
    // Assert
    expect(stampsOf(run.outputs)).toEqual([[1, 0, 1], [1, 1, 3], [2, 0, 6], [2, 1, 10], [3, 0, 15]]);
  });
});

// ---- restore ----------------------------------------------------------------------------------------------------------------

describe('restore', () => {
  it("'exactly-once': the restored checkpoint's outputs are emitted again first, with the same stamps", () => {
    // Arrange: run 1 commits checkpoints 1 (1, 2) and 2 (3, 4), then crashes.
    const store = new MemoryCheckpointStore();
    const run1 = start(checkpointable({ source: endlessSource([1, 2, 3, 4]), store, every: { records: 2 } }).pipe());
    run1.subscription.unsubscribe();
    const metrics = checkpointMetrics();
    // Act
    const run2 = start(checkpointable({ source: arraySource([1, 2, 3, 4, 5, 6]), store, every: { records: 2 }, metrics }).pipe());
    // Assert: 3, 4 again, as (2, 0), (2, 1); then 5, 6 in epoch 3.
    expect(stampsOf(run1.outputs)).toEqual([[1, 0, 1], [1, 1, 2], [2, 0, 3], [2, 1, 4]]);
    expect(stampsOf(run2.outputs)).toEqual([[2, 0, 3], [2, 1, 4], [3, 0, 5], [3, 1, 6]]);
    expect(run2.completed).toBe(true);
    expect(metrics.snapshot()).toMatchObject({ restored: 1, reEmitted: 2, emitted: 4 });
  });

  it('an idempotent consumer deduplicating by (checkpointId, sequence) sees each output exactly once', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    const seen = new Map<string, number>();
    const consume = (outputs: readonly CheckpointedOutput<number>[]) =>
      outputs.forEach((o) => seen.set(`${o.checkpointId}:${o.sequence}`, o.element.value as number));
    const run1 = start(checkpointable({ source: endlessSource([1, 2, 3, 4, 5]), store, every: { records: 2 } }).pipe(keyedTimers(runningSum, { id: 'sum' })));
    run1.subscription.unsubscribe();
    consume(run1.outputs);
    // Act
    const run2 = start(checkpointable({ source: arraySource([1, 2, 3, 4, 5, 6]), store, every: { records: 2 } }).pipe(keyedTimers(runningSum, { id: 'sum' })));
    consume(run2.outputs);
    // Assert: the running sums of 1..6, each once (5 was read by run 1 but never committed).
    expect([...seen.values()]).toEqual([1, 3, 6, 10, 15, 21]);
  });

  it('a pipeline id missing from the checkpoint starts empty (Flink behaviour)', () => {
    // Arrange: run 1 has no stateful operator.
    const store = new MemoryCheckpointStore();
    start(checkpointable({ source: endlessSource([1, 2]), store, every: { records: 2 } }).pipe()).subscription.unsubscribe();
    // Act: run 2 adds a running sum.
    const run2 = start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 } }).pipe(keyedTimers(runningSum, { id: 'sum' })));
    // Assert: the sum starts at 3's own value.
    expect(run2.error).toBeUndefined();
    expect(valuesOf(run2.outputs)).toEqual([1, 2, 3]);
  });

  it("keyedTimers' snapshot carries its current watermark: a restored record sees it before any new watermark", async () => {
    // Arrange: withWatermarks (tick every 5 ms) -> keyedTimers reporting the watermark each record sees.
    const store = new MemoryCheckpointStore();
    const reporter: KeyedProcessFunction<number, string, string> = {
      key: () => 'k',
      processElement: (x, ctx) => ctx.emit(`${x}/W${ctx.timerService.currentWatermark()}`),
    };
    const build = (complete: boolean) => checkpointable({ source: sequentialSource([[1, 5], [9, 6], [3, 7]], complete), store, every: { records: 2 } })
      .pipe(
        withWatermarks<number>({ input: 'elements', id: 'wm', timestampOf: (x) => x, maxOutOfOrderness: 0, interval: 5 }),
        keyedTimers(reporter, { id: 'kp' }),
      );
    // run 1: 5 at 1 ms, W4 at 5 ms, 6 at 10 ms, then barrier 1; crash at 12 ms (7 would come at 13).
    newScheduler().run(({ flush }) => {
      const run1 = start(build(false));
      asyncScheduler.schedule(() => run1.subscription.unsubscribe(), 12);
      flush();
      expect(valuesOf(run1.outputs)).toEqual(['5/W-Infinity', '6/W4']);
    });
    const snapshot = stateOf(await readLatestCheckpoint(store), 'kp');
    // Act: run 2 reads 7 at 3 ms, before withWatermarks' first tick (5 ms).
    let run2: Run<string> | undefined;
    newScheduler().run(({ flush }) => {
      run2 = start(build(true));
      flush();
    });
    // Assert
    expect(snapshot).toEqual({ watermark: 4, state: [], eventTimers: [], processingTimers: [] });
    expect(stampsOf(run2!.outputs)).toEqual([[1, 0, '5/W-Infinity'], [1, 1, '6/W4'], [2, 0, '7/W4']]);
  });

  it('the default store is per job: a resubscription restores', () => {
    // Arrange
    const job = checkpointable({ source: arraySource([1, 2, 3]), every: { records: 2 } });
    const pipeline = job.pipe(keyedTimers(runningSum, { id: 'sum' }));
    const run1 = start(pipeline);
    // Act
    const run2 = start(pipeline);
    // Assert: run 2 restores the final checkpoint: re-emits its output and completes.
    expect(valuesOf(run1.outputs)).toEqual([1, 3, 6]);
    expect(stampsOf(run2.outputs)).toEqual([[2, 0, 6]]);
    expect(run2.completed).toBe(true);
  });
});

// ---- the final checkpoint ---------------------------------------------------------------------------------------------------

describe('the final checkpoint', () => {
  it('is written with final: true and null operator states once the pipeline drains', async () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    const job = checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 } });
    // Act
    const run = start(job.pipe(asyncWaitOrdered((x: number) => of(x * 10), { id: 'async' }), keyedTimers(runningSum, { id: 'sum' })));
    // Assert
    expect(run.completed).toBe(true);
    const final = await readLatestCheckpoint(store);
    expect(final).toMatchObject({ checkpointId: 2, final: true, position: '3', codec: 'json', version: 2 });
    expect(final!.operators).toEqual([{ id: 'async', kind: 'asyncWaitOrdered', state: 'null' }, { id: 'sum', kind: 'keyedTimers', state: 'null' }]);
    expect(JSON.parse(final!.outputs!)).toEqual([{ checkpointId: 2, sequence: 0, element: { kind: 'record', value: 60 } }]);
    expect(bodyOf(store, 1).final).toBe(false);
  });

  it('restoring from a final checkpoint re-emits its outputs and completes; the source is only probed at the final position, not read', () => {
    // Arrange: a complete run; its final checkpoint 2 holds the last epoch (60).
    const store = new MemoryCheckpointStore();
    start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 } })
      .pipe(asyncWaitOrdered((x: number) => of(x * 10), { id: 'async' }), keyedTimers(runningSum, { id: 'sum' })));
    const inner = arraySource([1, 2, 3]);
    const opened: unknown[] = [];
    const source: ReplayableSource<number, number> = { open: (position) => (opened.push(position), inner.open(position)) };
    const calls: number[] = [];
    const metrics = checkpointMetrics();
    const warnings: CheckpointWarning[] = [];
    // Act
    const run2 = start(checkpointable({ source, store, every: { records: 2 }, metrics, onWarning: (w) => warnings.push(w) })
      .pipe(asyncWaitOrdered((x: number) => (calls.push(x), of(x * 10)), { id: 'async' }), keyedTimers(runningSum, { id: 'sum' })));
    // Assert: only 60 (checkpoint 2's output) again, with its stamp; the source opened once at its end, no call, no new checkpoint.
    expect(stampsOf(run2.outputs)).toEqual([[2, 0, 60]]);
    expect(run2.completed).toBe(true);
    expect(run2.error).toBeUndefined();
    expect(opened).toEqual([3]);
    expect(calls).toEqual([]);
    expect(store.list()).toEqual([1, 2]);
    expect(warnings).toEqual([]);
    expect(metrics.snapshot()).toMatchObject({ restored: 1, reEmitted: 1, started: 0, completed: 0, finalRestored: 0 });
  });

  it('restoring from a final checkpoint when the source has grown since errors with CheckpointRestoreError: the new records would never be processed', () => {
    // Arrange: a complete run over [1, 2, 3]; the log then grows to [1, 2, 3, 4].
    const store = new MemoryCheckpointStore();
    start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 } })
      .pipe(asyncWaitOrdered((x: number) => of(x * 10), { id: 'async' }), keyedTimers(runningSum, { id: 'sum' })));
    const calls: number[] = [];
    // Act
    const run2 = start(checkpointable({ source: arraySource([1, 2, 3, 4]), store, every: { records: 2 } })
      .pipe(asyncWaitOrdered((x: number) => (calls.push(x), of(x * 10)), { id: 'async' }), keyedTimers(runningSum, { id: 'sum' })));
    // Assert
    expect(run2.error).toBeInstanceOf(CheckpointRestoreError);
    expect(run2.error).toMatchObject({ checkpointId: 2, input: 3 });
    expect((run2.error as Error).message).toMatch(/is final: .* the source now has records beyond it/);
    expect(calls).toEqual([]);
    expect(store.list()).toEqual([1, 2]);
  });

  it('restoring from a final checkpoint over a source that does not answer at once warns (final-restored) and counts it, then completes', () => {
    // Arrange: a complete run; the restart's source answers only later (a live log), so growth cannot be ruled out.
    const store = new MemoryCheckpointStore();
    start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 } }).pipe());
    const live: ReplayableSource<number, number> = { open: () => NEVER };
    const warnings: CheckpointWarning[] = [];
    const metrics = checkpointMetrics();
    // Act
    const run2 = start(checkpointable({ source: live, store, every: { records: 2 }, metrics, onWarning: (w) => warnings.push(w) }).pipe());
    // Assert
    expect(run2.completed).toBe(true);
    expect(warnings.map((w) => [w.kind, w.checkpointId])).toEqual([['final-restored', 2]]);
    expect(metrics.finalRestored).toBe(1);
  });

  it('with a sink, restoring from a final checkpoint recovers it and pre-commits nothing more', () => {
    // Arrange
    const log: string[] = [];
    const store = interceptedStore(() => undefined, log);
    const job = checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 }, sink: loggingSink(log) });
    start(job.pipe());
    log.length = 0;
    // Act
    start(job.pipe(), log);
    // Assert
    expect(log).toEqual(['recover 2', 'emit 3', 'complete']);
  });
});

// ---- failed checkpoints ----------------------------------------------------------------------------------------------------

describe('failed checkpoints', () => {
  /** keyedTimers state holding `bad` from record 1 until record 3 clears it; emits every value. */
  const holdsUntilThree = (bad: unknown): KeyedProcessFunction<number, number, string, unknown> => ({
    key: () => 'k',
    processElement: (x, ctx) => {
      if (x === 1) ctx.state.update(bad);
      if (x === 3) ctx.state.clear();
      ctx.emit(x);
    },
  });

  it.each<[string, unknown, string]>([
    ['a Date', new Date(0), 'a Date'],
    ['NaN', NaN, 'NaN'],
    ['Infinity', Infinity, 'Infinity'],
  ])('state the codec cannot encode (%s): checkpoint-failed warning with a CheckpointEncodeError; the next one commits both epochs', (_name, bad, what) => {
    // Arrange
    const store = new MemoryCheckpointStore();
    const warnings: CheckpointWarning[] = [];
    const metrics = checkpointMetrics();
    const job = checkpointable({ source: arraySource([1, 2, 3, 4]), store, every: { records: 2 }, onWarning: (w) => warnings.push(w), metrics });
    // Act
    const run = start(job.pipe(keyedTimers(holdsUntilThree(bad), { id: 'kp' })));
    // Assert: checkpoint 1 failed (never written); 2 carries epoch 1's outputs, with their own stamps.
    expect(run.completed).toBe(true);
    expect(warnings).toHaveLength(1);
    const [warning] = warnings;
    expect(warning).toMatchObject({ kind: 'checkpoint-failed', checkpointId: 1 });
    expect(warning!.error).toBeInstanceOf(CheckpointEncodeError);
    const error = warning!.error as CheckpointEncodeError;
    expect(error).toMatchObject({ checkpointId: 1, operatorId: 'kp' });
    expect(error.input).toEqual({ watermark: null, state: [['k', bad]], eventTimers: [], processingTimers: [] });
    expect(error.message).toContain(`cannot encode ${what} at $.state[0][1]`);
    expect(warning!.message).toBe(error.message);
    expect(store.list()).toEqual([2, 3]);
    expect(JSON.parse(bodyOf(store, 2).outputs!)).toHaveLength(4);
    expect(stampsOf(run.outputs)).toEqual([[1, 0, 1], [1, 1, 2], [2, 0, 3], [2, 1, 4]]);
    expect(metrics.snapshot()).toMatchObject({ started: 3, completed: 2, failed: 1, inProgress: 0, heldOutputs: 0 });
  });

  it('a source position the codec cannot encode: CheckpointEncodeError for "source position"', () => {
    // Arrange: positions are Dates (a source bug the codec catches).
    const warnings: CheckpointWarning[] = [];
    const source: ReplayableSource<number, unknown> = { open: () => of({ value: 1, position: new Date(0) }) };
    // Act
    const run = start(checkpointable({ source, every: { records: 1 }, onWarning: (w) => warnings.push(w) }).pipe());
    // Assert: checkpoint 1 fails; so does the final one (same position), which errors the output.
    expect(warnings[0]!.error).toBeInstanceOf(CheckpointEncodeError);
    expect(warnings[0]!.error).toMatchObject({ operatorId: 'source position', checkpointId: 1 });
    expect(run.error).toBeInstanceOf(CheckpointEncodeError);
    expect(run.completed).toBe(false);
  });

  it('a codec whose encode returns a non-string for a value: that checkpoint fails with CheckpointEncodeError (cause: TypeError)', () => {
    // Arrange: encode returns a number for the position 1 only.
    const codec: CheckpointCodec = {
      name: 'json',
      encode: (value) => (value === 1 ? (1 as unknown as string) : JSON.stringify(value)),
      decode: (text) => JSON.parse(text) as unknown,
    };
    const store = new MemoryCheckpointStore({ retain: 10 });
    const warnings: CheckpointWarning[] = [];
    // Act
    const run = start(checkpointable({ source: arraySource([10, 20, 30]), store, codec, every: { records: 1 }, onWarning: (w) => warnings.push(w) }).pipe());
    // Assert: checkpoint 1 was never written; 2 committed both epochs; the run completed.
    expect(warnings.map((w) => [w.kind, w.checkpointId])).toEqual([['checkpoint-failed', 1]]);
    const error = warnings[0]!.error as CheckpointEncodeError;
    expect(error).toBeInstanceOf(CheckpointEncodeError);
    expect(error).toMatchObject({ checkpointId: 1, operatorId: 'source position' });
    expect(error.cause).toBeInstanceOf(TypeError);
    expect((error.cause as Error).message).toMatch(/encode returned .*, not a string/);
    expect(store.list()).toEqual([2, 3, 4]);
    expect(run.completed).toBe(true);
    expect(stampsOf(run.outputs)).toEqual([[1, 0, 10], [2, 0, 20], [3, 0, 30]]);
  });

  it('a codec whose encode never returns a string: every checkpoint fails, the final one errors the run, and nothing unrestorable is stored', () => {
    // Arrange: a binary codec (encode returns bytes); a keyedTimers whose state must be encoded too.
    const binary = {
      name: 'binary-json',
      encode: (value: unknown) => new TextEncoder().encode(JSON.stringify(value)),
      decode: (text: string) => JSON.parse(text) as unknown,
    } as unknown as CheckpointCodec;
    const store = new MemoryCheckpointStore({ retain: 10 });
    const warnings: CheckpointWarning[] = [];
    const job = checkpointable({ source: arraySource([1, 2]), store, codec: binary, every: { records: 1 }, onWarning: (w) => warnings.push(w) });
    const pipeline = () => job.pipe(keyedTimers<number, number, string, number>({ key: () => 'k', processElement: (x, ctx) => ctx.emit(x) }, { id: 'k' }));
    // Act
    const run1 = start(pipeline());
    const run2 = start(pipeline());
    // Assert: checkpoints 1, 2 and the final 3 failed when taken; the store stayed empty, so the restart starts
    // from scratch and fails the same way (not with CheckpointCorruptError).
    expect(warnings.map((w) => [w.kind, w.checkpointId])).toEqual([
      ['checkpoint-failed', 1], ['checkpoint-failed', 2], ['checkpoint-failed', 3],
      ['checkpoint-failed', 1], ['checkpoint-failed', 2], ['checkpoint-failed', 3],
    ]);
    for (const run of [run1, run2]) {
      expect(run.completed).toBe(false);
      expect(run.error).toBeInstanceOf(CheckpointEncodeError);
      expect((run.error as CheckpointEncodeError).cause).toBeInstanceOf(TypeError);
      expect(((run.error as CheckpointEncodeError).cause as Error).message).toContain('codec "binary-json": encode returned');
      expect(run.outputs).toEqual([]);
    }
    expect(store.list()).toEqual([]);
  });

  it('store.write rejecting: warning, the pipeline carries on, the next checkpoint commits the failed epoch', async () => {
    // Arrange
    const warnings: CheckpointWarning[] = [];
    const metrics = checkpointMetrics();
    const failure = new Error('disk full');
    const store = interceptedStore((id) => (id === 1 ? Promise.reject(failure) : Promise.resolve()));
    const job = checkpointable({ source: arraySource([1, 2, 3, 4, 5]), store, every: { records: 2 }, onWarning: (w) => warnings.push(w), metrics });
    // Act
    const outputs = await lastValueFrom(job.pipe().pipe(toArray()));
    // Assert
    expect(warnings).toEqual([{ kind: 'checkpoint-failed', checkpointId: 1, message: 'disk full', error: failure }]);
    expect(store.list()).toEqual([2, 3]);
    expect(stampsOf(outputs)).toEqual([[1, 0, 1], [1, 1, 2], [2, 0, 3], [2, 1, 4], [3, 0, 5]]);
    expect(metrics.snapshot()).toMatchObject({ started: 3, completed: 2, failed: 1 });
  });

  it('store.write throwing synchronously: the same', () => {
    // Arrange
    const warnings: CheckpointWarning[] = [];
    const store = interceptedStore((id) => {
      if (id === 2) throw new Error('EIO');
    });
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2, 3, 4, 5]), store, every: { records: 2 }, onWarning: (w) => warnings.push(w) }).pipe());
    // Assert
    expect(warnings.map((w) => [w.kind, w.checkpointId, w.message])).toEqual([['checkpoint-failed', 2, 'EIO']]);
    expect(run.completed).toBe(true);
    expect(stampsOf(run.outputs)).toEqual([[1, 0, 1], [1, 1, 2], [2, 0, 3], [2, 1, 4], [3, 0, 5]]);
  });

  it('the final save failing: the output errors (it never completes silently)', () => {
    // Arrange
    const failure = new Error('ENOSPC');
    const store = interceptedStore((id) => {
      if (id === 3) throw failure;
    });
    const warnings: CheckpointWarning[] = [];
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2, 3, 4, 5]), store, every: { records: 2 }, onWarning: (w) => warnings.push(w) }).pipe());
    // Assert: checkpoints 1 and 2 released their outputs; the last epoch (5) is not emitted.
    expect(run.error).toBe(failure);
    expect(run.completed).toBe(false);
    expect(valuesOf(run.outputs)).toEqual([1, 2, 3, 4]);
    expect(warnings.map((w) => w.checkpointId)).toEqual([3]);
    expect(store.list()).toEqual([1, 2]);
  });

  it('an operator that swallows a barrier: the output errors with CheckpointBindingError when the next barrier reaches the end', () => {
    // Arrange: a source that never completes, so only barrier 2 can reveal that barrier 1 was lost.
    const store = new MemoryCheckpointStore();
    const dropBarrierOne = filter((e: StreamElement<number>) => !(e.kind === 'barrier' && e.checkpointId === 1));
    // Act
    const run = start(checkpointable({ source: endlessSource([1, 2, 3, 4]), store, every: { records: 2 } }).pipe(dropBarrierOne));
    // Assert: no checkpoint was written, nothing released.
    expect(run.error).toBeInstanceOf(CheckpointBindingError);
    expect((run.error as Error).message).toContain('barrier 1 never reached the end of the pipeline, but barrier 2 did');
    expect((run.error as CheckpointBindingError).input).toEqual({ kind: 'barrier', checkpointId: 1 });
    expect(store.list()).toEqual([]);
    expect(run.outputs).toEqual([]);
  });

  it('an operator that swallows every barrier: the output errors with CheckpointBindingError when the pipeline completes', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    const dropBarriers = filter((e: StreamElement<number>) => e.kind !== 'barrier');
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 } }).pipe(dropBarriers));
    // Assert
    expect(run.error).toBeInstanceOf(CheckpointBindingError);
    expect((run.error as Error).message).toContain('barrier 1 never reached the end of the pipeline, but the pipeline completed');
    expect(run.completed).toBe(false);
    expect(store.list()).toEqual([]);
  });

  it('onWarning that throws is ignored', () => {
    // Arrange
    const store = interceptedStore((id) => {
      if (id === 1) throw new Error('EIO');
    });
    let called = 0;
    const onWarning = () => {
      called++;
      throw new Error('the hook is broken');
    };
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 }, onWarning }).pipe());
    // Assert
    expect(called).toBe(1);
    expect(run.error).toBeUndefined();
    expect(run.completed).toBe(true);
    expect(valuesOf(run.outputs)).toEqual([1, 2, 3]);
  });
});

// ---- the sink's two-phase protocol -----------------------------------------------------------------------------------------

describe('CheckpointSink protocol', () => {
  it('recover(undefined) first; then per checkpoint preCommit -> store.write -> commit, and only then the emission', () => {
    // Arrange
    const log: string[] = [];
    const store = interceptedStore(() => undefined, log);
    const job = checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 }, sink: loggingSink(log) });
    // Act
    start(job.pipe(), log);
    // Assert
    expect(log).toEqual([
      'recover undefined',
      'preCommit 1 [1,2]', 'write 1', 'commit 1', 'emit 1', 'emit 2',
      'preCommit 2 [3]', 'write 2', 'commit 2', 'emit 3',
      'complete',
    ]);
  });

  it('recover(n) on restart, before the re-emitted outputs', () => {
    // Arrange: run 1 stores checkpoint 1 ([1, 2]), then crashes with 3 held.
    const log: string[] = [];
    const store = interceptedStore(() => undefined, log);
    const sink = loggingSink(log);
    start(checkpointable({ source: endlessSource([1, 2, 3]), store, every: { records: 2 }, sink }).pipe()).subscription.unsubscribe();
    log.length = 0;
    // Act
    start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 }, sink }).pipe(), log);
    // Assert
    expect(log).toEqual(['recover 1', 'emit 1', 'emit 2', 'preCommit 2 [3]', 'write 2', 'commit 2', 'emit 3', 'complete']);
  });

  it('a store write that fails is ambiguous: no abort; the next checkpoint pre-commits only its own epoch, commits both in order, and releases both', async () => {
    // Arrange: checkpoint 1 is stored, but its write reports a failure.
    const log: string[] = [];
    const store = storedThenFailing([1], log);
    const job = checkpointable({
      source: arraySource([1, 2, 3]), store, every: { records: 2 }, sink: loggingSink(log), onWarning: (w) => log.push(`warn ${w.checkpointId}`),
    });
    // Act
    start(job.pipe(), log);
    await settle();
    // Assert: checkpoint 2 stores both epochs' outputs, with their own stamps, for re-emission.
    expect(log).toEqual([
      'recover undefined',
      'preCommit 1 [1,2]', 'write 1', 'warn 1',
      'preCommit 2 [3]', 'write 2', 'commit 1', 'commit 2', 'emit 1', 'emit 2', 'emit 3',
      'complete',
    ]);
    expect(JSON.parse(bodyOf(store, 2).outputs!)).toEqual([
      { checkpointId: 1, sequence: 0, element: { kind: 'record', value: 1 } },
      { checkpointId: 1, sequence: 1, element: { kind: 'record', value: 2 } },
      { checkpointId: 2, sequence: 0, element: { kind: 'record', value: 3 } },
    ]);
  });

  it('two ambiguous writes in a row: the next durable checkpoint commits each of them, oldest first, then itself', async () => {
    // Arrange
    const log: string[] = [];
    const store = storedThenFailing([1, 2], log);
    const job = checkpointable({ source: arraySource([1, 2, 3, 4, 5]), store, every: { records: 2 }, sink: loggingSink(log) });
    // Act
    const run = start(job.pipe(), log);
    await settle();
    // Assert
    expect(log).toEqual([
      'recover undefined',
      'preCommit 1 [1,2]', 'write 1',
      'preCommit 2 [3,4]', 'write 2',
      'preCommit 3 [5]', 'write 3', 'commit 1', 'commit 2', 'commit 3', 'emit 1', 'emit 2', 'emit 3', 'emit 4', 'emit 5',
      'complete',
    ]);
    expect(stampsOf(run.outputs)).toEqual([[1, 0, 1], [1, 1, 2], [2, 0, 3], [2, 1, 4], [3, 0, 5]]);
  });

  describe('a checkpoint stored but reported failed, then a crash', () => {
    const VALUES = [1, 2, 3, 4, 5, 6];

    /** The committed output of an uninterrupted run over `values`. */
    function uninterrupted(values: readonly number[] = VALUES): unknown[] {
      const sink = new MemorySink();
      const run = start(checkpointable({ source: arraySource(values), store: new MemoryCheckpointStore(), every: { records: 2 }, sink }).pipe());
      expect(run.completed).toBe(true);
      return sink.committedValues();
    }

    /** Run 1: checkpoint 1 ([1, 2]) durable; checkpoint 2 ([3, 4]) stored, its write reported failed; then a crash. */
    async function crashedRun(): Promise<{ store: MemoryCheckpointStore; sink: MemorySink; run: Run<number> }> {
      const sink = new MemorySink();
      const store = storedThenFailing([2], sink.log);
      const run = start(checkpointable({
        source: endlessSource(VALUES.slice(0, 4)), store, every: { records: 2 }, sink, onWarning: (w) => sink.log.push(`warn ${w.checkpointId}`),
      }).pipe(), sink.log);
      await settle();
      run.subscription.unsubscribe();
      return { store, sink, run };
    }

    it('run 1 keeps the pre-commit of the ambiguous checkpoint (no abort) and emits only what is durable', async () => {
      // Arrange + Act
      const { store, sink, run } = await crashedRun();
      // Assert
      expect(sink.log).toEqual([
        'recover undefined',
        'preCommit 1 [1,2]', 'write 1', 'commit 1', 'emit 1', 'emit 2',
        'preCommit 2 [3,4]', 'write 2', 'warn 2',
      ]);
      expect(store.list()).toEqual([1, 2]);
      expect([...sink.staged.keys()]).toEqual([2]);
      expect(valuesOf(run.outputs)).toEqual([1, 2]);
    });

    it('a restart from that checkpoint commits exactly what an uninterrupted run commits', async () => {
      // Arrange
      const expected = uninterrupted();
      const { store, sink } = await crashedRun();
      sink.log.length = 0;
      // Act
      const run2 = start(checkpointable({ source: arraySource(VALUES), store, every: { records: 2 }, sink }).pipe(), sink.log);
      // Assert: recover(2) commits the kept epoch 2; its outputs are re-emitted; the run goes on from position 4.
      expect(run2.completed).toBe(true);
      expect(sink.committedValues()).toEqual(expected);
      expect(sink.log).toEqual([
        'recover 2', 'emit 3', 'emit 4',
        'preCommit 3 [5,6]', 'write 3', 'commit 3', 'emit 5', 'emit 6',
        'preCommit 4 []', 'write 4', 'commit 4',
        'complete',
      ]);
    });

    it('a restart from the older checkpoint (the ambiguous one is gone) also commits exactly what an uninterrupted run commits', async () => {
      // Arrange: the store kept only checkpoint 1 (the write of 2 really failed after all).
      const expected = uninterrupted();
      const { store, sink } = await crashedRun();
      const older = storeWith(store, [1]);
      sink.log.length = 0;
      // Act
      const run2 = start(checkpointable({ source: arraySource(VALUES), store: older, every: { records: 2 }, sink }).pipe(), sink.log);
      // Assert: recover(1) drops the pending epoch 2, which the replay stages and commits again.
      expect(run2.completed).toBe(true);
      expect(sink.committedValues()).toEqual(expected);
      expect(sink.log).toEqual([
        'recover 1', 'emit 1', 'emit 2',
        'preCommit 2 [3,4]', 'commit 2', 'emit 3', 'emit 4',
        'preCommit 3 [5,6]', 'commit 3', 'emit 5', 'emit 6',
        'preCommit 4 []', 'commit 4',
        'complete',
      ]);
    });

    it('the final checkpoint stored but reported failed: the run errors; a restart commits its epoch once and completes', async () => {
      // Arrange: run 1 over 1..5; its final checkpoint 3 ([5]) is stored, its write reported failed.
      const values = [1, 2, 3, 4, 5];
      const expected = uninterrupted(values);
      const sink = new MemorySink();
      const store = storedThenFailing([3], sink.log);
      const run1 = start(checkpointable({ source: arraySource(values), store, every: { records: 2 }, sink }).pipe());
      await settle();
      sink.log.length = 0;
      // Act
      const run2 = start(checkpointable({ source: arraySource(values), store, every: { records: 2 }, sink }).pipe(), sink.log);
      // Assert: run 1 did not complete silently (and held 5 back); run 2 restored the final checkpoint, committed
      // its epoch and re-emitted it.
      expect((run1.error as Error).message).toBe('ETIMEDOUT writing checkpoint 3');
      expect(run1.completed).toBe(false);
      expect(valuesOf(run1.outputs)).toEqual([1, 2, 3, 4]);
      expect(sink.log).toEqual(['recover 3', 'emit 5', 'complete']);
      expect(stampsOf(run2.outputs)).toEqual([[3, 0, 5]]);
      expect(sink.committedValues()).toEqual(expected);
    });
  });

  it('a checkpoint that fails before its pre-commit (a value the codec refuses): nothing to abort; its outputs are carried into the next pre-commit', () => {
    // Arrange: the source position at barrier 1 is a Date, which jsonCodec refuses.
    const log: string[] = [];
    const store = interceptedStore(() => undefined, log);
    const items: SourceItem<number, unknown>[] = [{ value: 1, position: 1 }, { value: 2, position: new Date(0) }, { value: 3, position: 3 }, { value: 4, position: 4 }];
    const source: ReplayableSource<number, unknown> = { open: () => from(items) };
    const job = checkpointable({ source, store, every: { records: 2 }, sink: loggingSink(log), onWarning: (w) => log.push(`warn ${w.checkpointId}`) });
    // Act
    start(job.pipe(), log);
    // Assert
    expect(log).toEqual([
      'recover undefined',
      'warn 1',
      'preCommit 2 [1,2,3,4]', 'write 2', 'commit 2', 'emit 1', 'emit 2', 'emit 3', 'emit 4',
      'preCommit 3 []', 'write 3', 'commit 3',
      'complete',
    ]);
  });

  it('preCommit failing: checkpoint-failed warning, abort(n) for what it may have written, no store write for it, the pipeline carries on', () => {
    // Arrange
    const log: string[] = [];
    const warnings: CheckpointWarning[] = [];
    const store = interceptedStore(() => undefined, log);
    const job = checkpointable({
      source: arraySource([1, 2, 3]), store, every: { records: 2 }, sink: loggingSink(log, 1), onWarning: (w) => warnings.push(w),
    });
    // Act
    const run = start(job.pipe(), log);
    // Assert
    expect(warnings.map((w) => [w.kind, w.checkpointId, w.message])).toEqual([['checkpoint-failed', 1, 'sink full']]);
    expect(log).toEqual(['recover undefined', 'preCommit 1 [1,2]', 'abort 1', 'preCommit 2 [1,2,3]', 'write 2', 'commit 2', 'emit 1', 'emit 2', 'emit 3', 'complete']);
    expect(run.completed).toBe(true);
  });

  it("with 'at-least-once', outputs are emitted at once and the sink still gets each epoch's outputs", () => {
    // Arrange
    const log: string[] = [];
    const store = interceptedStore(() => undefined, log);
    const job = checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 }, sink: loggingSink(log), delivery: 'at-least-once' });
    // Act
    start(job.pipe(), log);
    // Assert
    expect(log).toEqual([
      'recover undefined', 'write 1', // the start checkpoint: no epoch of its own for the sink
      'emit 1', 'emit 2', 'preCommit 2 [1,2]', 'write 2', 'commit 2', 'emit 3', 'preCommit 3 [3]', 'write 3', 'commit 3', 'complete',
    ]);
  });

  it('an asynchronous sink: the emission waits for commit', async () => {
    // Arrange
    const log: string[] = [];
    let commit1: (() => void) | undefined;
    const sink: CheckpointSink<unknown> = {
      ...loggingSink(log),
      commit: (id) => {
        log.push(`commit ${id}`);
        return id === 1 ? new Promise<void>((resolve) => (commit1 = resolve)) : undefined;
      },
    };
    const job = checkpointable({ source: arraySource([1, 2, 3]), every: { records: 2 }, sink });
    // Act
    const run = start(job.pipe(), log);
    // Assert
    expect(run.outputs).toEqual([]);
    commit1!();
    await settle();
    expect(log).toEqual(['recover undefined', 'preCommit 1 [1,2]', 'commit 1', 'emit 1', 'emit 2', 'preCommit 2 [3]', 'commit 2', 'emit 3', 'complete']);
  });
});

// ---- restore errors ---------------------------------------------------------------------------------------------------------

describe('restore errors', () => {
  /** Run 1: an asyncWaitOrdered 'a' over 1..3 with checkpoints every 2 records, to completion. */
  function storeWithAsyncA(): MemoryCheckpointStore {
    const store = new MemoryCheckpointStore();
    start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 } }).pipe(asyncWaitOrdered((x: number) => of(x), { id: 'a' })));
    return store;
  }

  it('state for an operator id the pipeline does not have (an id renamed): CheckpointRestoreError', () => {
    // Arrange
    const store = storeWithAsyncA();
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 } }).pipe(asyncWaitOrdered((x: number) => of(x), { id: 'b' })));
    // Assert
    expect(run.error).toBeInstanceOf(CheckpointRestoreError);
    expect(run.error).toMatchObject({ checkpointId: 2, input: 'a' });
    expect((run.error as Error).message).toContain('operator id "a" (a asyncWaitOrdered), which the pipeline does not have (its ids: "b")');
    expect(run.outputs).toEqual([]);
  });

  it('an id that changed kind: CheckpointRestoreError', () => {
    // Arrange
    const store = storeWithAsyncA();
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 } }).pipe(asyncWaitUnordered((x: number) => of(x), { id: 'a' })));
    // Assert
    expect(run.error).toBeInstanceOf(CheckpointRestoreError);
    expect(run.error).toMatchObject({ input: 'a' });
    expect((run.error as Error).message).toContain('operator id "a" was a asyncWaitOrdered and is now a asyncWaitUnordered');
  });

  it('a codec of another name: CheckpointRestoreError', () => {
    // Arrange
    const store = storeWithAsyncA();
    const codec: CheckpointCodec = { name: 'json2', encode: (v) => JSON.stringify(v), decode: (t) => JSON.parse(t) };
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 }, codec }).pipe(asyncWaitOrdered((x: number) => of(x), { id: 'a' })));
    // Assert
    expect(run.error).toBeInstanceOf(CheckpointRestoreError);
    expect(run.error).toMatchObject({ input: 'json' });
    expect((run.error as Error).message).toContain('written with codec "json", but the pipeline uses "json2"');
  });

  /** Operators with id 'op' of each stateful kind, for the malformed-state cases. */
  const OPERATORS: Record<string, () => OperatorFunction<StreamElement<number>, StreamElement<unknown>>> = {
    asyncWaitOrdered: () => asyncWaitOrdered((x: number) => of(x), { id: 'op' }),
    asyncWaitUnordered: () => asyncWaitUnordered((x: number) => of(x), { id: 'op' }),
    keyedTimers: () => keyedTimers(runningSum, { id: 'op' }),
    withWatermarks: () => withWatermarks<number>({ input: 'elements', id: 'op', timestampOf: (x) => x, maxOutOfOrderness: 0 }),
  };

  it.each<[string, string]>([
    ['asyncWaitOrdered', '{"not":"an array"}'],
    ['asyncWaitOrdered', '[{"kind":"barrier","checkpointId":1}]'],
    ['asyncWaitUnordered', '[1,2]'],
    ['keyedTimers', '{"watermark":null,"state":[]}'],
    ['keyedTimers', '{"watermark":null,"state":[],"eventTimers":[["k","soon"]],"processingTimers":[]}'],
    ['withWatermarks', '{"maxTimestamp":"4"}'],
  ])('malformed state for a %s (%s): CheckpointRestoreError', (kind, state) => {
    // Arrange: an intact checkpoint 7 whose state for 'op' does not have the operator's shape.
    const store = new MemoryCheckpointStore();
    store.write(7, forgeCheckpoint(7, { position: '0', operators: [{ id: 'op', kind, state }] }));
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2]), store, every: { records: 1 } }).pipe(OPERATORS[kind]!()));
    // Assert
    expect(run.error).toBeInstanceOf(CheckpointRestoreError);
    expect(run.error).toMatchObject({ checkpointId: 7 });
    expect((run.error as Error).message).toContain(`the stored state of the ${kind} "op" is malformed`);
    expect(run.outputs).toEqual([]);
  });

  it('state the codec cannot decode: CheckpointRestoreError with the decode error as cause', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    store.write(1, forgeCheckpoint(1, { operators: [{ id: 'op', kind: 'keyedTimers', state: '{broken' }] }));
    // Act
    const run = start(checkpointable({ source: arraySource([1]), store, every: { records: 1 } }).pipe(OPERATORS['keyedTimers']!()));
    // Assert
    expect(run.error).toBeInstanceOf(CheckpointRestoreError);
    expect((run.error as Error).message).toContain('cannot decode the state of "op"');
    expect((run.error as CheckpointRestoreError).cause).toBeInstanceOf(SyntaxError);
  });

  it('malformed committed outputs: CheckpointRestoreError', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    store.write(1, forgeCheckpoint(1, { outputs: '[{"checkpointId":1,"sequence":0,"element":{"kind":"watermark","timestamp":3}}]' }));
    // Act
    const run = start(checkpointable({ source: arraySource([1]), store, every: { records: 1 } }).pipe());
    // Assert
    expect(run.error).toBeInstanceOf(CheckpointRestoreError);
    expect((run.error as Error).message).toContain('committed outputs are malformed');
  });

  it('a forged but well-formed checkpoint restores (the forging helper itself is sound)', () => {
    // Arrange: checkpoint 4 at position 1, with one committed output and a running sum of 100.
    const store = new MemoryCheckpointStore();
    store.write(4, forgeCheckpoint(4, {
      position: '1',
      operators: [{ id: 'op', kind: 'keyedTimers', state: '{"watermark":null,"state":[["all",100]],"eventTimers":[],"processingTimers":[]}' }],
      outputs: '[{"checkpointId":4,"sequence":0,"element":{"kind":"record","value":100}}]',
    }));
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2]), store, every: { records: 1 } }).pipe(OPERATORS['keyedTimers']!()));
    // Assert
    expect(run.error).toBeUndefined();
    expect(stampsOf(run.outputs)).toEqual([[4, 0, 100], [5, 0, 102]]);
  });
});

// ---- store ownership and isolation --------------------------------------------------------------------------------------------

describe('store ownership', () => {
  it('a store in use by a running pipeline: a second subscription errors with a TypeError; after the first ends, a new one works', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    const job = checkpointable({ source: endlessSource([1, 2, 3]), store, every: { records: 1 } });
    const first = start(job.pipe());
    // Act
    const second = start(checkpointable({ source: arraySource([1]), store, every: { records: 1 } }).pipe());
    // Assert
    expect(second.error).toBeInstanceOf(TypeError);
    expect((second.error as Error).message).toContain('already used by a running pipeline');
    expect(first.error).toBeUndefined();
    expect(store.list()).toEqual([1, 2, 3]);
    // Assert: the refused subscription did not release the store either.
    expect(start(job.pipe()).error).toBeInstanceOf(TypeError);
    // Act: the first run ends (crash), then a new subscription.
    first.subscription.unsubscribe();
    const third = start(checkpointable({ source: arraySource([1, 2, 3, 4]), store, every: { records: 1 } }).pipe());
    // Assert: it restores from checkpoint 3 and runs to the end.
    expect(third.error).toBeUndefined();
    expect(third.completed).toBe(true);
    expect(stampsOf(third.outputs)).toEqual([[3, 0, 3], [4, 0, 4]]);
  });

  it('the store is free again after a run completes or errors', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    const failing: ReplayableSource<number, number> = { open: () => concat(of({ value: 1, position: 1 }), timer(0).pipe(map(() => { throw new Error('boom'); }))) };
    newScheduler().run(({ flush }) => {
      const run1 = start(checkpointable({ source: failing, store, every: { records: 5 } }).pipe());
      flush();
      expect((run1.error as Error).message).toBe('boom');
    });
    // Act
    const run2 = start(checkpointable({ source: arraySource([1, 2]), store, every: { records: 5 } }).pipe());
    const run3 = start(checkpointable({ source: arraySource([1, 2]), store, every: { records: 5 } }).pipe());
    // Assert
    expect(run2.completed).toBe(true);
    expect(run3.completed).toBe(true);
  });

  it("a crashed run's store write still in flight: a restart on the same store waits for it, then restores the checkpoint it landed", async () => {
    // Arrange: run 1 stores checkpoint 1 and emits its epoch; the write of checkpoint 2 is still running when it crashes.
    const values = ['a', 'b', 'c', 'd', 'e', 'f'];
    const store = new ManualStore();
    const metrics = checkpointMetrics();
    const run1 = start(checkpointable({ source: arraySource(values), store, every: { records: 2 } }).pipe());
    store.writes[0]!.resolve();
    await settle();
    expect(store.writes.map((w) => w.id)).toEqual([1, 2]);
    run1.subscription.unsubscribe();
    const run2 = start(checkpointable({ source: arraySource(values), store, every: { records: 3 }, metrics }).pipe());
    await settle();
    const beforeTheWriteLanded = { outputs: run2.outputs.length, writes: store.writes.length, restored: metrics.restored };
    // Act: the dead run's write lands.
    store.writes[1]!.resolve();
    await settle();
    store.writes[2]!.resolve(); // run 2's final checkpoint
    await settle();
    // Assert: run 2 did nothing until then; it restored checkpoint 2 (re-emitting its epoch), and no stamp names
    // two different values across the runs.
    expect(beforeTheWriteLanded).toEqual({ outputs: 0, writes: 2, restored: 0 });
    expect(metrics.restored).toBe(1);
    expect(stampsOf(run1.outputs)).toEqual([[1, 0, 'a'], [1, 1, 'b']]);
    expect(stampsOf(run2.outputs)).toEqual([[2, 0, 'c'], [2, 1, 'd'], [3, 0, 'e'], [3, 1, 'f']]);
    expect(store.writes.map((w) => w.id)).toEqual([1, 2, 3]);
    expect(run2.completed).toBe(true);
  });

  it("a crashed run's store write that then fails: the restart waits for it too, then restores the previous checkpoint", async () => {
    // Arrange
    const store = new ManualStore();
    const run1 = start(checkpointable({ source: arraySource([1, 2, 3, 4]), store, every: { records: 2 } }).pipe());
    store.writes[0]!.resolve();
    await settle();
    run1.subscription.unsubscribe();
    const run2 = start(checkpointable({ source: arraySource([1, 2, 3, 4]), store, every: { records: 2 } }).pipe());
    await settle();
    const outputsBefore = run2.outputs.length;
    // Act
    store.writes[1]!.reject(new Error('EIO'));
    await settle();
    store.writes[2]!.resolve(); // run 2's checkpoint 2
    await settle();
    store.writes[3]!.resolve(); // run 2's final checkpoint 3
    await settle();
    // Assert: restored from 1 (re-emits 1, 2), then 3, 4 under run 2's own checkpoint 2.
    expect(outputsBefore).toBe(0);
    expect(store.writes.map((w) => w.id)).toEqual([1, 2, 2, 3]);
    expect(stampsOf(run2.outputs)).toEqual([[1, 0, 1], [1, 1, 2], [2, 0, 3], [2, 1, 4]]);
    expect(run2.completed).toBe(true);
  });

  it('an idempotent consumer sees every value exactly once when a crashed run\'s late write lands while a restart waits and crashes too', async () => {
    // Arrange: a store whose writes of the ids `hold` picks wait for the test.
    const inner = new MemoryCheckpointStore({ retain: 100 });
    const held: Array<() => void> = [];
    let hold: (id: number) => boolean = () => false;
    const store: CheckpointStore = {
      write: (id, text) => {
        if (!hold(id)) return Promise.resolve().then(() => inner.write(id, text));
        return new Promise<void>((resolve) => held.push(() => (inner.write(id, text), resolve())));
      },
      list: async () => inner.list(),
      read: async (id) => inner.read(id),
    };
    const values = ['a', 'b', 'c', 'd', 'e', 'f'];
    const seen = new Map<string, string[]>();
    const consume = (o: CheckpointedOutput<string>): void => {
      const key = `${o.checkpointId}:${o.sequence}`;
      seen.set(key, [...new Set([...(seen.get(key) ?? []), o.element.value as string])]);
    };
    // Run 1 (every 2 records): checkpoint 1 lands, the write of checkpoint 2 is slow; it crashes.
    hold = (id) => id === 2;
    const run1 = checkpointable({ source: arraySource(values), store, every: { records: 2 } }).pipe().subscribe(consume);
    await settle();
    run1.unsubscribe();
    // Run 2 (redeployed with every 3 records) starts, and crashes too, while run 1's write is still running.
    hold = (id) => id === 3;
    const job2 = checkpointable({ source: arraySource(values), store, every: { records: 3 } });
    const run2 = job2.pipe().subscribe(consume);
    await settle();
    run2.unsubscribe();
    // Act: run 1's write of checkpoint 2 lands; then a third run.
    held[0]!();
    await settle();
    hold = () => false;
    let completed = false;
    job2.pipe().subscribe({ next: consume, complete: () => (completed = true) });
    await settle();
    // Assert: deduplicated by (checkpointId, sequence), every value exactly once, each stamp naming one value.
    expect(completed).toBe(true);
    expect(held).toHaveLength(1);
    const byStamp = [...seen.entries()].sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }));
    expect(byStamp.filter(([, vs]) => vs.length > 1)).toEqual([]);
    expect(byStamp.map(([, [v]]) => v)).toEqual(values);
  });

  it('two pipelines with separate stores in one process, sharing the very same operator objects, keep separate state', () => {
    // Arrange
    const storeA = new MemoryCheckpointStore();
    const storeB = new MemoryCheckpointStore();
    const sum = keyedTimers(runningSum, { id: 'sum' });
    const a1 = start(checkpointable({ source: endlessSource([1, 2, 3, 4]), store: storeA, every: { records: 2 } }).pipe(sum));
    const b1 = start(checkpointable({ source: endlessSource([10, 20, 30, 40]), store: storeB, every: { records: 2 } }).pipe(sum));
    a1.subscription.unsubscribe();
    b1.subscription.unsubscribe();
    // Act
    const a2 = start(checkpointable({ source: arraySource([1, 2, 3, 4, 5]), store: storeA, every: { records: 2 } }).pipe(sum));
    const b2 = start(checkpointable({ source: arraySource([10, 20, 30, 40, 50]), store: storeB, every: { records: 2 } }).pipe(sum));
    // Assert
    expect(valuesOf(a1.outputs)).toEqual([1, 3, 6, 10]);
    expect(valuesOf(b1.outputs)).toEqual([10, 30, 60, 100]);
    expect(valuesOf(a2.outputs)).toEqual([6, 10, 15]);
    expect(valuesOf(b2.outputs)).toEqual([60, 100, 150]);
  });

  it('two pipelines with separate stores run at the same time without interfering', async () => {
    // Arrange
    const storeA = new MemoryCheckpointStore();
    const storeB = new MemoryCheckpointStore();
    const sum = keyedTimers(runningSum, { id: 'sum' });
    const a1 = start(checkpointable({ source: endlessSource([1, 2]), store: storeA, every: { records: 2 } }).pipe(sum));
    // Act: B runs while A is still running.
    const b = start(checkpointable({ source: arraySource([10, 20, 30]), store: storeB, every: { records: 2 } }).pipe(sum));
    // Assert
    expect(b.error).toBeUndefined();
    expect(valuesOf(b.outputs)).toEqual([10, 30, 60]);
    expect(stateOf(await readLatestCheckpoint(storeA), 'sum')).toEqual({ watermark: null, state: [['all', 3]], eventTimers: [], processingTimers: [] });
    a1.subscription.unsubscribe();
  });
});

// ---- errors while starting ----------------------------------------------------------------------------------------------

describe('errors while starting', () => {
  /** An operator that throws when it is applied to its source (as the pipeline is built, on subscribe). */
  const throwsWhenApplied = (): OperatorFunction<StreamElement<number>, StreamElement<number>> => () => {
    throw new Error('operator factory failed');
  };

  it.each<[string, () => CheckpointStore]>([
    ['a synchronous store', () => new MemoryCheckpointStore()],
    ['an asynchronous store', () => new AsyncStore()],
  ])('with %s, an operator that throws when applied errors the output, and the store is released', async (_name, makeStore) => {
    // Arrange
    const store = makeStore();
    const job = checkpointable({ source: arraySource([1]), store, every: { records: 1 } });
    // Act
    const run = start(job.pipe(throwsWhenApplied()));
    await settle();
    const next = start(job.pipe());
    await settle();
    // Assert
    expect((run.error as Error | undefined)?.message).toBe('operator factory failed');
    expect(run.completed).toBe(false);
    expect(next.error).toBeUndefined();
    expect(next.completed).toBe(true);
  });

  it('an asynchronous store whose list() resolves to a non-array: the output errors with a TypeError', async () => {
    // Arrange
    const store = new AsyncStore();
    (store as { list: () => Promise<unknown> }).list = async () => undefined;
    // Act
    const run = start(checkpointable({ source: arraySource([1]), store, every: { records: 1 } }).pipe());
    await settle();
    // Assert
    expect(run.error).toBeInstanceOf(TypeError);
    expect(run.outputs).toEqual([]);
  });
});

// ---- metrics ---------------------------------------------------------------------------------------------------------------

describe('metrics', () => {
  it('counts a run to completion; the gauges end at 0', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    const metrics = checkpointMetrics();
    // Act
    start(checkpointable({ source: arraySource([1, 2, 3, 4, 5]), store, every: { records: 2 }, metrics }).pipe());
    // Assert
    expect(metrics.snapshot()).toEqual({
      started: 3, completed: 3, failed: 0, closeFailed: 0, finalRestored: 0, stops: 0, corruptSkipped: 0, restored: 0, emitted: 5, reEmitted: 0,
      lastCompletedId: 3, lastSize: store.read(3).length, heldOutputs: 0, inProgress: 0,
    });
    expect(Object.isFrozen(metrics.snapshot())).toBe(true);
  });

  it('gauges count held outputs and checkpoints in progress, and go back to 0 on unsubscribe', () => {
    // Arrange
    const store = new ManualStore();
    const metrics = checkpointMetrics();
    const run = start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 }, metrics }).pipe());
    // Act + Assert: checkpoint 1 is being written, the final one waits behind it; 3 outputs held.
    expect(metrics.snapshot()).toMatchObject({ started: 2, inProgress: 2, heldOutputs: 3, completed: 0, emitted: 0 });
    run.subscription.unsubscribe();
    expect(metrics.snapshot()).toMatchObject({ started: 2, inProgress: 0, heldOutputs: 0, completed: 0, emitted: 0 });
  });

  it('a write completing after the crash changes nothing', async () => {
    // Arrange
    const store = new ManualStore();
    const metrics = checkpointMetrics();
    const run = start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 }, metrics }).pipe());
    run.subscription.unsubscribe();
    // Act
    store.writes[0]!.resolve();
    await settle();
    // Assert: nothing emitted after the crash, no further write.
    expect(run.outputs).toEqual([]);
    expect(store.writes).toHaveLength(1);
    expect(metrics.snapshot()).toMatchObject({ completed: 0, emitted: 0, heldOutputs: 0, inProgress: 0 });
  });

  it('one metrics object shared by two runs adds up, with gauges back at 0', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    const metrics = checkpointMetrics();
    const job = checkpointable({ source: endlessSource([1, 2, 3]), store, every: { records: 2 }, metrics });
    start(job.pipe()).subscription.unsubscribe();
    // Act
    start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 }, metrics }).pipe());
    // Assert: run 1: checkpoint 1 (emits 1, 2), 3 held then dropped; run 2: re-emits 1, 2, final 2 emits 3.
    expect(metrics.snapshot()).toMatchObject({
      started: 2, completed: 2, restored: 1, reEmitted: 2, emitted: 5, lastCompletedId: 2, heldOutputs: 0, inProgress: 0,
    });
  });
});

// ---- MemoryCheckpointStore and readLatestCheckpoint -----------------------------------------------------------------------

describe('MemoryCheckpointStore', () => {
  it('keeps the newest 3 by default, listed in ascending order', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    // Act
    for (const id of [5, 1, 2, 4, 3]) store.write(id, `text ${id}`);
    // Assert
    expect(store.list()).toEqual([3, 4, 5]);
    expect(store.read(4)).toBe('text 4');
    expect(() => store.read(1)).toThrow('MemoryCheckpointStore: no checkpoint 1');
  });

  it('keeps `retain` checkpoints', () => {
    // Arrange
    const one = new MemoryCheckpointStore({ retain: 1 });
    const five = new MemoryCheckpointStore({ retain: 5 });
    // Act
    for (let id = 1; id <= 7; id++) {
      one.write(id, String(id));
      five.write(id, String(id));
    }
    // Assert
    expect(one.list()).toEqual([7]);
    expect(five.list()).toEqual([3, 4, 5, 6, 7]);
  });

  it('overwrites an id written twice', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    // Act
    store.write(1, 'a');
    store.write(1, 'b');
    // Assert
    expect(store.list()).toEqual([1]);
    expect(store.read(1)).toBe('b');
  });

  it.each<[string, unknown, string]>([
    ['retain 0', { retain: 0 }, 'option "retain" must be an integer >= 1, got 0'],
    ['retain 1.5', { retain: 1.5 }, 'option "retain" must be an integer >= 1, got 1.5'],
    ['retain "2"', { retain: '2' }, 'option "retain" must be an integer >= 1, got "2"'],
    ['an unknown option', { keep: 2 }, 'MemoryCheckpointStore: unknown option "keep"'],
    ['options null', null, 'option "options" must be an object, got null'],
  ])('%s: throws a TypeError', (_name, options, message) => {
    // Arrange + Act
    const act = () => new MemoryCheckpointStore(options as never);
    // Assert
    expect(act).toThrow(TypeError);
    expect(act).toThrow(message);
  });
});

describe('readLatestCheckpoint', () => {
  /** A store with checkpoints 1, 2 and 3 (final) from a running sum over 1..5. */
  function storeWithThree(): MemoryCheckpointStore {
    const store = new MemoryCheckpointStore();
    start(checkpointable({ source: arraySource([1, 2, 3, 4, 5]), store, every: { records: 2 } }).pipe(keyedTimers(runningSum, { id: 'sum' })));
    expect(store.list()).toEqual([1, 2, 3]);
    return store;
  }

  it('an empty store: undefined', async () => {
    // Arrange + Act + Assert
    await expect(readLatestCheckpoint(new MemoryCheckpointStore())).resolves.toBeUndefined();
  });

  it('returns the newest checkpoint, verified and with its values still encoded', async () => {
    // Arrange
    const store = storeWithThree();
    // Act
    const latest = await readLatestCheckpoint(store);
    // Assert
    expect(latest).toMatchObject({ checkpointId: 3, version: 2, codec: 'json', final: true, position: '5' });
    expect(typeof latest!.createdAt).toBe('number');
    expect(typeof latest!.outputs).toBe('string');
  });

  it.each<[string, (text: string) => string]>([
    ['truncated', (text) => text.slice(0, text.length / 2)],
    ['a flipped byte in the body', (text) => text.replace('"position":"5"', '"position":"4"')],
    ['the version changed (the checksum covers it)', (text) => text.replace('"version":2', '"version":3')],
    ['not a checkpoint', () => '{"hello":"world"}'],
    ['empty', () => ''],
  ])('the newest one %s: falls back to the previous one, with a corrupt-skipped warning', async (_name, mangle) => {
    // Arrange
    const store = storeWithThree();
    const original = store.read(3);
    const mangled = mangle(original);
    expect(mangled).not.toBe(original);
    store.write(3, mangled);
    const warnings: CheckpointWarning[] = [];
    // Act
    const latest = await readLatestCheckpoint(store, { onWarning: (w) => warnings.push(w) });
    // Assert
    expect(latest?.checkpointId).toBe(2);
    expect(stateOf(latest, 'sum')).toEqual({ watermark: null, state: [['all', 10]], eventTimers: [], processingTimers: [] });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ kind: 'corrupt-skipped', checkpointId: 3 });
    expect(warnings[0]!.message).toContain('checkpoint 3');
  });

  it('a well-formed checkpoint stored under another id is corrupt too', async () => {
    // Arrange: checkpoint 2's (intact) text written as 3.
    const store = storeWithThree();
    store.write(3, store.read(2));
    const warnings: CheckpointWarning[] = [];
    // Act
    const latest = await readLatestCheckpoint(store, { onWarning: (w) => warnings.push(w) });
    // Assert
    expect(latest?.checkpointId).toBe(2);
    expect(warnings[0]!.message).toContain('the file says it is checkpoint 2');
  });

  it('all corrupt: rejects with CheckpointCorruptError listing the ids tried, newest first', async () => {
    // Arrange
    const store = storeWithThree();
    for (const id of store.list()) store.write(id, store.read(id).slice(0, 40));
    const warnings: CheckpointWarning[] = [];
    // Act
    const result = readLatestCheckpoint(store, { onWarning: (w) => warnings.push(w) });
    // Assert
    await expect(result).rejects.toBeInstanceOf(CheckpointCorruptError);
    await expect(result).rejects.toMatchObject({ input: [3, 2, 1] });
    expect(warnings.map((w) => [w.kind, w.checkpointId])).toEqual([['corrupt-skipped', 3], ['corrupt-skipped', 2], ['corrupt-skipped', 1]]);
  });

  it('a store read that throws counts as corrupt', async () => {
    // Arrange
    const store = storeWithThree();
    const read = store.read.bind(store);
    Object.assign(store, { read: (id: number) => (id === 3 ? Promise.reject(new Error('EACCES')) : read(id)) });
    const warnings: CheckpointWarning[] = [];
    // Act
    const latest = await readLatestCheckpoint(store, { onWarning: (w) => warnings.push(w) });
    // Assert
    expect(latest?.checkpointId).toBe(2);
    expect(warnings).toEqual([{ kind: 'corrupt-skipped', checkpointId: 3, message: 'EACCES', error: expect.any(Error) }]);
  });

  it('an intact checkpoint of an unknown format version: CheckpointVersionError, no fallback', async () => {
    // Arrange
    const store = storeWithThree();
    store.write(4, forgeCheckpoint(4, {}, 3));
    // Act
    const result = readLatestCheckpoint(store);
    // Assert
    await expect(result).rejects.toBeInstanceOf(CheckpointVersionError);
    await expect(result).rejects.toMatchObject({ checkpointId: 4, input: 3, supported: [1, 2] });
  });

  it.each<[string, (store: MemoryCheckpointStore) => CheckpointStore]>([
    ['a synchronous store', (store) => store],
    ['an asynchronous store', (store) => new AsyncStore(store)],
  ])('with %s, an onWarning that throws is ignored: it still resolves to the previous checkpoint', async (_name, view) => {
    // Arrange
    const store = storeWithThree();
    store.write(3, store.read(3).slice(0, 20));
    let calls = 0;
    const onWarning = (): void => {
      calls++;
      throw new Error('the hook is broken');
    };
    // Act
    const latest = await readLatestCheckpoint(view(store), { onWarning });
    // Assert
    expect(latest?.checkpointId).toBe(2);
    expect(calls).toBe(1);
  });

  it.each<[string, (store: MemoryCheckpointStore) => CheckpointStore]>([
    ['a synchronous store', (store) => store],
    ['an asynchronous store', (store) => new AsyncStore(store)],
  ])('with %s, an onWarning that throws is ignored: all corrupt still rejects with CheckpointCorruptError', async (_name, view) => {
    // Arrange
    const store = storeWithThree();
    for (const id of store.list()) store.write(id, store.read(id).slice(0, 40));
    let calls = 0;
    const onWarning = (): void => {
      calls++;
      throw new Error('the hook is broken');
    };
    // Act
    const result = readLatestCheckpoint(view(store), { onWarning });
    // Assert
    await expect(result).rejects.toBeInstanceOf(CheckpointCorruptError);
    await expect(result).rejects.toMatchObject({ input: [3, 2, 1] });
    expect(calls).toBe(3);
  });

  it('a pipeline starting over a store whose newest checkpoint is corrupt restores the previous one and reports it', () => {
    // Arrange
    const store = storeWithThree();
    store.write(3, store.read(3).slice(0, 50));
    const warnings: CheckpointWarning[] = [];
    const metrics = checkpointMetrics();
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2, 3, 4, 5]), store, every: { records: 2 }, onWarning: (w) => warnings.push(w), metrics })
      .pipe(keyedTimers(runningSum, { id: 'sum' })));
    // Assert: restored from 2 (sum 10): re-emits 6, 10, then 15, stamped above the damaged checkpoint 3, whose
    // outputs may have been released already.
    expect(warnings.map((w) => [w.kind, w.checkpointId])).toEqual([['corrupt-skipped', 3]]);
    expect(metrics.corruptSkipped).toBe(1);
    expect(stampsOf(run.outputs)).toEqual([[2, 0, 6], [2, 1, 10], [4, 0, 15]]);
  });

  it('a pipeline over a store with only corrupt checkpoints errors with CheckpointCorruptError (it never starts from scratch)', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    store.write(1, '{"format":"rxjs-sluice.checkpoint","vers');
    // Act
    const run = start(checkpointable({ source: arraySource([1]), store, every: { records: 1 } }).pipe());
    // Assert
    expect(run.error).toBeInstanceOf(CheckpointCorruptError);
    expect(run.outputs).toEqual([]);
  });
});
