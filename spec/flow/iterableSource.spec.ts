import { from, lastValueFrom, map, timer, toArray, type Observable } from 'rxjs';
import {
  asyncWaitOrdered, checkpointable, iterableSource, MemoryCheckpointStore, readLatestCheckpoint, sourceMetrics, SourcePositionError,
  type CheckpointedOutput, type PullInput, type ReplayableSource, type SourceItem,
} from 'rxjs-sluice';
import { collect, newScheduler } from '../support/marbles';

/**
 * iterableSource: a replayable source over what `open()` returns each time (an array, an iterable, an async
 * iterable, a ReadableStream). Its position is the number of items read; reopened at n it calls `open()` again and
 * skips n items, and an input that now has fewer is a SourcePositionError. Validation, errors, a restore inside
 * checkpointable, and the types it infers.
 */

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when its argument is `true`. */
const assertType = <T extends true>(): T | undefined => undefined;
/** Type-checks code without running it: for the lines that must not compile. */
const compileOnly = (_code: () => void): void => undefined;

function* numbers(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

async function* asyncNumbers(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/** A ReadableStream of 0..n-1, read on demand. */
function streamOf(n: number): ReadableStream<number> {
  let i = 0;
  return new ReadableStream<number>({
    pull: (controller) => {
      if (i < n) controller.enqueue(i++);
      else controller.close();
    },
  }, { highWaterMark: 0 });
}

/** Every item of one opening of `source` at `position`, or the error it failed with. */
async function itemsOf<T>(source: ReplayableSource<T, number>, position?: number): Promise<SourceItem<T, number>[]> {
  return lastValueFrom(from(source.open(position)).pipe(toArray()));
}

/** The inputs 0..n-1 of every kind, each made afresh by `open`; `sync` ones are read synchronously. */
const KINDS: ReadonlyArray<readonly [name: string, open: (n: number) => PullInput<number>, sync: boolean]> = [
  ['an array', (n) => [...numbers(n)], true],
  ['a Set', (n) => new Set(numbers(n)), true],
  ['a generator', (n) => numbers(n), true],
  ['an async generator', (n) => asyncNumbers(n), false],
  ['a ReadableStream', (n) => streamOf(n), false],
];

/** The items 0..n-1 from `from`, each with the position after it. */
const itemsFrom = (from: number, n: number): SourceItem<number, number>[] =>
  Array.from({ length: n - from }, (_, i) => ({ value: from + i, position: from + i + 1 }));

describe('iterableSource', () => {
  describe('positions: the number of items read', () => {
    it.each(KINDS)('%s: opened at the beginning, every item with the count of items read so far', async (_name, make, sync) => {
      // Arrange
      let opened = 0;
      const source = iterableSource(() => (opened++, make(4)));

      // Act
      const items = await itemsOf(source);
      const synchronous = collect(from(source.open(undefined)));

      // Assert
      expect(items).toEqual(itemsFrom(0, 4));
      expect(opened).toBe(2);
      expect(synchronous.completed).toBe(sync);
    });

    it.each(KINDS)('%s: reopened at n, it calls open() once and skips n items', async (_name, make) => {
      // Arrange
      let opened = 0;
      const source = iterableSource(() => (opened++, make(6)));

      // Act
      const items = await itemsOf(source, 4);

      // Assert
      expect(items).toEqual(itemsFrom(4, 6));
      expect(opened).toBe(1);
    });

    it.each(KINDS)('%s: reopened at its length, it completes with nothing', async (_name, make) => {
      await expect(itemsOf(iterableSource(() => make(3)), 3)).resolves.toEqual([]);
    });

    it.each(KINDS)('%s: an input now shorter than the position is a SourcePositionError with .input = the position', async (_name, make) => {
      // Arrange
      const source = iterableSource(() => make(3));

      // Act
      const error: unknown = await itemsOf(source, 5).then(() => undefined, (e: unknown) => e);

      // Assert
      expect(error).toBeInstanceOf(SourcePositionError);
      expect(error).toMatchObject({
        name: 'SourcePositionError',
        input: 5,
        cause: undefined,
        message: 'iterableSource: cannot open at position 5: the input ends after 3 items (it changed since the checkpoint was taken)',
      });
    });

    it.each([-1, 1.5, NaN, Infinity, '2', null, 2 ** 53])('position %p is not a count of items: SourcePositionError, and open() is not called', (position) => {
      // Arrange
      let opened = 0;
      const source = iterableSource(() => (opened++, [1, 2, 3]));

      // Act
      const run = collect(from(source.open(position as number)));

      // Assert
      expect(run.error).toBeInstanceOf(SourcePositionError);
      expect((run.error as SourcePositionError).input).toBe(position);
      expect((run.error as Error).message).toMatch(/^iterableSource: cannot open at position .*: positions are item counts, integers >= 0$/);
      expect(opened).toBe(0);
    });

    it('counts only the items it emits in metrics.read, not those it skips', () => {
      // Arrange
      const metrics = sourceMetrics();
      const source = iterableSource(() => numbers(5), { metrics });

      // Act
      const run = collect(from(source.open(3)));

      // Assert
      expect(run.values).toEqual(itemsFrom(3, 5));
      expect(metrics.read).toBe(2);
    });

    it('timestampOf gets each value and its index in the whole input, skipped items included', () => {
      // Arrange
      const seen: Array<[string, number]> = [];
      const source = iterableSource(() => ['a', 'b', 'c', 'd'], { timestampOf: (value, index) => (seen.push([value, index]), 100 + index) });

      // Act
      const run = collect(from(source.open(2)));

      // Assert
      expect(run.values).toEqual([{ value: 'c', position: 3, timestamp: 102 }, { value: 'd', position: 4, timestamp: 103 }]);
      expect(seen).toEqual([['c', 2], ['d', 3]]);
    });
  });

  describe('validation: a TypeError naming the option and the value, when iterableSource() is called', () => {
    it.each([
      [[1, 2], 'an array of length 2'],
      ['abc', '"abc"'],
      [undefined, 'undefined'],
    ])('refuses open = %p, which is not a function', (open, shown) => {
      expect(() => iterableSource(open as never)).toThrow(
        new TypeError(`iterableSource: open must be a function returning the input afresh (so it can be replayed), got ${shown}`),
      );
    });

    it.each([
      ['options null', null, 'iterableSource: option "options" must be an object, got null'],
      ['an unknown option', { metric: 1 }, 'iterableSource: unknown option "metric" (known options: timestampOf, metrics, scheduler)'],
      ['timestampOf not a function', { timestampOf: 3 }, 'iterableSource: option "timestampOf" must be a function, got 3'],
      ['metrics not made by sourceMetrics()', { metrics: { read: 0 } }, 'iterableSource: option "metrics" must be an object made by sourceMetrics(), got {"read":0}'],
      ['a scheduler without now()', { scheduler: { schedule: () => undefined } }, 'iterableSource: option "scheduler" must be a SchedulerLike (with now() and schedule()), got {}'],
    ])('refuses %s', (_name, options, message) => {
      expect(() => iterableSource(() => [1], options as never)).toThrow(new TypeError(message));
    });
  });

  describe('errors reach the output', () => {
    it('what open() throws', () => {
      // Arrange
      const failure = new Error('no such table');
      const source = iterableSource((): number[] => {
        throw failure;
      });

      // Act
      const run = collect(from(source.open(undefined)));

      // Assert
      expect(run).toEqual({ values: [], error: failure, completed: false });
    });

    it.each([
      ['a string', 'abc', 'iterableSource: a string is not read one character at a time; pass [s] for one item'],
      ['a number', 42, 'iterableSource: expected an array, an iterable, an async iterable or a ReadableStream, got 42'],
    ])('open() returning %s: a TypeError', (_name, input, message) => {
      const run = collect(from(iterableSource(() => input as never).open(undefined)));
      expect(run.error).toEqual(new TypeError(message));
    });

    it('an iterator throwing, also while items are skipped', () => {
      // Arrange
      const failure = new Error('bad sector');
      function* failing(): Generator<number> {
        yield 0;
        throw failure;
      }
      const source = iterableSource(failing);

      // Act
      const fresh = collect(from(source.open(undefined)));
      const reopened = collect(from(source.open(3)));

      // Assert
      expect(fresh).toEqual({ values: [{ value: 0, position: 1 }], error: failure, completed: false });
      expect(reopened).toEqual({ values: [], error: failure, completed: false });
    });

    it('an async iterator rejecting, also while items are skipped', async () => {
      // Arrange
      const failure = new Error('connection reset');
      async function* failing(): AsyncGenerator<number> {
        yield 0;
        yield 1;
        throw failure;
      }
      const source = iterableSource(failing);

      // Act + Assert
      await expect(itemsOf(source)).rejects.toBe(failure);
      await expect(itemsOf(source, 4)).rejects.toBe(failure);
    });

    it('timestampOf throwing, on a sync and on an async input: the items before it, then that error', async () => {
      // Arrange
      const failure = new Error('no timestamp');
      const timestampOf = (value: number): number => {
        if (value === 2) throw failure;
        return value;
      };
      const sync = iterableSource(() => numbers(5), { timestampOf });
      const async = iterableSource(() => asyncNumbers(5), { timestampOf });
      const seen: number[] = [];

      // Act
      const run = collect(from(sync.open(undefined)));
      const asyncRun = lastValueFrom(from(async.open(undefined)).pipe(map((item) => seen.push(item.value))));

      // Assert
      expect(run.values).toEqual([{ value: 0, position: 1, timestamp: 0 }, { value: 1, position: 2, timestamp: 1 }]);
      expect(run.error).toBe(failure);
      await expect(asyncRun).rejects.toBe(failure);
      expect(seen).toEqual([0, 1]);
    });
  });

  describe('inside checkpointable', () => {
    it('a restore reopens the input and skips what the checkpoint had read: the runs commit every result once', async () => {
      // Arrange: 10 items, a checkpoint every 2 records, calls of 10 ms at capacity 2; run 1 crashes at 25
      const store = new MemoryCheckpointStore();
      let opened = 0;
      const job = (metrics = sourceMetrics()) =>
        checkpointable({ source: iterableSource(() => (opened++, numbers(10)), { metrics }), every: { records: 2 }, store })
          .pipe(asyncWaitOrdered((x: number) => timer(10).pipe(map(() => 10 * x)), { id: 'times-ten', capacity: 2 }));
      const outputs: CheckpointedOutput<number>[][] = [[], []];
      const restarted = sourceMetrics();
      let completed = false;

      // Act
      const crashing = newScheduler();
      crashing.run(({ flush }) => {
        const first = job().subscribe((o) => outputs[0]!.push(o));
        crashing.schedule(() => first.unsubscribe(), 25);
        flush();
      });
      const position = Number((await readLatestCheckpoint(store))?.position);
      newScheduler().run(({ flush }) => {
        job(restarted).subscribe({ next: (o) => outputs[1]!.push(o), complete: () => (completed = true) });
        flush();
      });

      // Assert: the restarted run read only what follows the checkpoint's position
      expect(position).toBeGreaterThan(0);
      expect(opened).toBe(2);
      expect(restarted.read).toBe(10 - position);
      const committed = new Map<string, number>();
      for (const o of outputs.flat()) {
        const stamp = `${o.checkpointId}:${o.sequence}`;
        if (committed.has(stamp)) expect(o.element.value).toBe(committed.get(stamp));
        else committed.set(stamp, o.element.value as number);
      }
      expect([...committed.values()]).toEqual([...numbers(10)].map((x) => 10 * x));
      expect(outputs[0]!.length).toBeGreaterThan(0);
      expect(completed).toBe(true);
    });
  });

  describe('types', () => {
    it('infers the value type from what open() returns, without explicit generics', async () => {
      // Arrange + Act
      const fromArray = iterableSource(() => [1, 2]);
      const fromGenerator = iterableSource(function* () {
        yield 'a';
      });
      const fromAsync = iterableSource(async function* () {
        yield true;
      });
      const fromStream = iterableSource(() => new ReadableStream<Date>());
      const timed = iterableSource(() => [{ at: 5 }], { timestampOf: (e) => e.at });
      const opened = timed.open(0);

      // Assert
      assertType<Equal<typeof fromArray, ReplayableSource<number, number>>>();
      assertType<Equal<typeof fromGenerator, ReplayableSource<string, number>>>();
      assertType<Equal<typeof fromAsync, ReplayableSource<boolean, number>>>();
      assertType<Equal<typeof fromStream, ReplayableSource<Date, number>>>();
      assertType<Equal<typeof timed, ReplayableSource<{ at: number }, number>>>();
      compileOnly(() => {
        // @ts-expect-error open must be a function: the input itself cannot be replayed
        iterableSource([1, 2]);
        // @ts-expect-error timestampOf gets the value type
        iterableSource(() => [{ at: 5 }], { timestampOf: (e: string) => e.length });
      });
      await expect(lastValueFrom(from(opened as Observable<SourceItem<{ at: number }, number>>))).resolves.toEqual({ value: { at: 5 }, position: 1, timestamp: 5 });
    });
  });
});
