import { from, lastValueFrom, map, take, timer, toArray } from 'rxjs';
import {
  arraySource, asyncWaitOrdered, checkpointable, MemoryCheckpointStore, readLatestCheckpoint, sourceMetrics, SourcePositionError,
  type ArraySourceOptions, type CheckpointedOutput, type ReplayableSource, type SourceItem,
} from 'rxjs-sluice';
import { collect, newScheduler } from '../support/marbles';

/**
 * arraySource: a replayable source over an array whose position is the index of the next value. Positions and
 * restore (past the end, or not an index: SourcePositionError), synchronous reads, validation, errors, a restore
 * inside checkpointable, and the types it infers.
 */

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when its argument is `true`. */
const assertType = <T extends true>(): T | undefined => undefined;
/** Type-checks code without running it: for the lines that must not compile. */
const compileOnly = (_code: () => void): void => undefined;

/** One opening of `source` at `position`, read synchronously. */
const openAt = <T>(source: ReplayableSource<T, number>, position?: number) => collect(from(source.open(position)));

describe('arraySource', () => {
  describe('positions: the index of the next value', () => {
    it('opened at the beginning: every value, synchronously, with the index after it', () => {
      // Act
      const run = openAt(arraySource(['a', 'b', 'c']));

      // Assert
      expect(run).toEqual({
        values: [{ value: 'a', position: 1 }, { value: 'b', position: 2 }, { value: 'c', position: 3 }],
        error: undefined,
        completed: true,
      });
    });

    it.each([
      [0, ['a', 'b', 'c']],
      [1, ['b', 'c']],
      [2, ['c']],
      [3, []],
    ])('opened at %p: the values from that index on, at once', (position, expected) => {
      // Act
      const run = openAt(arraySource(['a', 'b', 'c']), position);

      // Assert
      expect(run.values.map((item) => item.value)).toEqual(expected);
      expect(run.values.map((item) => item.position)).toEqual(expected.map((_v, i) => position + i + 1));
      expect(run.completed).toBe(true);
    });

    it('opened past the end (the array shrank since the checkpoint): SourcePositionError with .input = the position', () => {
      // Arrange
      const values = [1, 2, 3, 4];
      const source = arraySource(values);
      values.length = 2;

      // Act
      const run = openAt(source, 3);

      // Assert
      expect(run.values).toEqual([]);
      expect(run.error).toBeInstanceOf(SourcePositionError);
      expect(run.error).toMatchObject({
        name: 'SourcePositionError',
        input: 3,
        cause: undefined,
        message: 'arraySource: cannot open at position 3: the array has only 2 values (it changed since the checkpoint was taken)',
      });
    });

    it.each([-1, 0.5, NaN, -Infinity, '1', null, 2 ** 53])('position %p is not an index: SourcePositionError', (position) => {
      // Act
      const run = openAt(arraySource([1, 2, 3]), position as number);

      // Assert
      expect(run.error).toBeInstanceOf(SourcePositionError);
      expect((run.error as SourcePositionError).input).toBe(position);
      expect((run.error as Error).message).toMatch(/^arraySource: cannot open at position .*: positions are indices, integers >= 0$/);
    });

    it('each opening reads the array anew, as it is then', () => {
      // Arrange
      const values = [1, 2];
      const source = arraySource(values);

      // Act
      const first = openAt(source);
      values.push(3);
      const second = openAt(source, 1);

      // Assert
      expect(first.values.map((item) => item.value)).toEqual([1, 2]);
      expect(second.values).toEqual([{ value: 2, position: 2 }, { value: 3, position: 3 }]);
    });

    it('timestampOf gets each value and its index in the array', () => {
      // Arrange
      const seen: Array<[number, number]> = [];
      const source = arraySource([{ at: 7 }, { at: 9 }, { at: 4 }], { timestampOf: (e, index) => (seen.push([e.at, index]), e.at * 10) });

      // Act
      const run = openAt(source, 1);

      // Assert
      expect(run.values).toEqual([{ value: { at: 9 }, position: 2, timestamp: 90 }, { value: { at: 4 }, position: 3, timestamp: 40 }]);
      expect(seen).toEqual([[9, 1], [4, 2]]);
    });

    it('counts what it reads, and stops reading when the subscription ends (take(2))', () => {
      // Arrange
      const metrics = sourceMetrics();
      const source = arraySource([...'abcdefgh'], { metrics });

      // Act
      const run = collect(from(source.open(2)).pipe(take(2)));

      // Assert
      expect(run.values.map((item) => item.value)).toEqual(['c', 'd']);
      expect(metrics.snapshot()).toEqual({ read: 2, pauses: 0, backPressuredTime: 0, skipped: 0, paused: 0 });
    });
  });

  describe('validation: a TypeError naming the option and the value, when arraySource() is called', () => {
    it.each([
      ['abc', '"abc"'],
      [new Set([1]), 'a Set'],
      [undefined, 'undefined'],
      [{ length: 1, 0: 'x' }, '{"0":"x","length":1}'],
    ])('refuses values = %p, which is not an array', (values, shown) => {
      expect(() => arraySource(values as never)).toThrow(new TypeError(`arraySource: values must be an array, got ${shown}`));
    });

    it.each([
      ['options null', null, 'arraySource: option "options" must be an object, got null'],
      ['an unknown option', { timestamp: () => 1 }, 'arraySource: unknown option "timestamp" (known options: timestampOf, metrics, scheduler)'],
      ['timestampOf not a function', { timestampOf: 'at' }, 'arraySource: option "timestampOf" must be a function, got "at"'],
      ['metrics not made by sourceMetrics()', { metrics: [] }, 'arraySource: option "metrics" must be an object made by sourceMetrics(), got an array of length 0'],
      ['a scheduler that is not one', { scheduler: 'async' }, 'arraySource: option "scheduler" must be a SchedulerLike (with now() and schedule()), got "async"'],
    ])('refuses %s', (_name, options, message) => {
      expect(() => arraySource([1], options as never)).toThrow(new TypeError(message));
    });
  });

  describe('errors reach the output', () => {
    it('timestampOf throwing: the items before it, then that error', () => {
      // Arrange
      const failure = new Error('no time');
      const source = arraySource([1, 2, 3], {
        timestampOf: (x) => {
          if (x === 2) throw failure;
          return x;
        },
      });

      // Act
      const run = openAt(source);

      // Assert
      expect(run).toEqual({ values: [{ value: 1, position: 1, timestamp: 1 }], error: failure, completed: false });
    });
  });

  describe('inside checkpointable', () => {
    it('a restore starts at the stored index: the runs commit every result once', async () => {
      // Arrange: 12 values, a checkpoint every 3 records, calls of 10 ms at capacity 2; run 1 crashes at 35
      const store = new MemoryCheckpointStore();
      const values = Array.from({ length: 12 }, (_, i) => i);
      const job = (metrics = sourceMetrics()) =>
        checkpointable({ source: arraySource(values, { metrics }), every: { records: 3 }, store })
          .pipe(asyncWaitOrdered((x: number) => timer(10).pipe(map(() => 10 * x)), { id: 'times-ten', capacity: 2 }));
      const outputs: CheckpointedOutput<number>[] = [];
      const restarted = sourceMetrics();
      let completed = false;

      // Act
      const crashing = newScheduler();
      crashing.run(({ flush }) => {
        const first = job().subscribe((o) => outputs.push(o));
        crashing.schedule(() => first.unsubscribe(), 35);
        flush();
      });
      const position = Number((await readLatestCheckpoint(store))?.position);
      newScheduler().run(({ flush }) => {
        job(restarted).subscribe({ next: (o) => outputs.push(o), complete: () => (completed = true) });
        flush();
      });

      // Assert
      expect(position).toBeGreaterThan(0);
      expect(restarted.read).toBe(values.length - position);
      const committed = new Map<string, number>();
      for (const o of outputs) {
        const stamp = `${o.checkpointId}:${o.sequence}`;
        if (committed.has(stamp)) expect(o.element.value).toBe(committed.get(stamp));
        else committed.set(stamp, o.element.value as number);
      }
      expect([...committed.values()]).toEqual(values.map((x) => 10 * x));
      expect(completed).toBe(true);
    });
  });

  describe('types', () => {
    it('infers the value type from the array, and timestampOf gets it, without explicit generics', async () => {
      // Arrange + Act
      const plain = arraySource([1, 2]);
      const readonlyValues: readonly string[] = ['a'];
      const fromReadonly = arraySource(readonlyValues);
      const timed = arraySource([{ at: 1 }], { timestampOf: (e) => e.at });
      const options: ArraySourceOptions<{ at: number }> = { timestampOf: (e, index) => e.at + index };

      // Assert
      assertType<Equal<typeof plain, ReplayableSource<number, number>>>();
      assertType<Equal<typeof fromReadonly, ReplayableSource<string, number>>>();
      assertType<Equal<typeof timed, ReplayableSource<{ at: number }, number>>>();
      compileOnly(() => {
        // @ts-expect-error values must be an array
        arraySource(new Set([1]));
        // @ts-expect-error timestampOf gets the value type
        arraySource([{ at: 1 }], { timestampOf: (e: string) => e.length });
      });
      const items = await lastValueFrom(from(arraySource([{ at: 3 }], options).open(0)).pipe(toArray()));
      expect(items).toEqual([{ value: { at: 3 }, position: 1, timestamp: 3 }] satisfies SourceItem<{ at: number }, number>[]);
    });
  });
});
