import { from, lastValueFrom, map, take, timer, toArray, type Observable, type ObservableInput } from 'rxjs';
import { asyncWaitMetrics, asyncWaitOrdered, pulled, sourceMetrics, type PullInput } from 'rxjs-sluice';
import { collect, newScheduler } from '../support/marbles';

/**
 * pulled: every kind of input (array, iterable, async iterable, ReadableStream), read like from() when no
 * flow-controlled operator is downstream; validation; what the input throws or rejects with; closing the input
 * when the subscription ends early; and the types it infers. The read-ahead bound behind an operator is in
 * flowControl.marbles.spec.ts.
 */

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when its argument is `true`. */
const assertType = <T extends true>(): T | undefined => undefined;
/** Type-checks code without running it: for the lines that must not compile. */
const compileOnly = (_code: () => void): void => undefined;

/** Lets pending promise callbacks and stream reads run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A ReadableStream whose source is pulled for each read (no read-ahead), logging pulls and cancellation. */
function countingStream(n: number, log: string[] = []): ReadableStream<number> {
  let i = 0;
  return new ReadableStream<number>({
    pull: (controller) => {
      log.push(`pull ${i}`);
      if (i < n) controller.enqueue(i++);
      else controller.close();
    },
    cancel: () => {
      log.push('cancel');
    },
  }, { highWaterMark: 0 });
}

function* numbers(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

async function* asyncNumbers(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

describe('pulled', () => {
  describe('without a flow-controlled operator downstream it reads like from()', () => {
    it.each([
      ['an array', () => [1, 2, 3]],
      ['a Set', () => new Set(['a', 'b'])],
      ['a Map (its entries)', () => new Map([['k', 1], ['l', 2]])],
      ['a generator', () => numbers(4)],
      ['an empty array', () => []],
    ] as const)('%s: the same values, synchronously, and completes', (_name, make) => {
      // Arrange
      const expected = collect(from(make() as Iterable<unknown>));

      // Act
      const actual = collect(pulled(make() as PullInput<unknown>));

      // Assert
      expect(actual).toEqual(expected);
      expect(actual.completed).toBe(true);
    });

    it.each([
      ['an async generator', () => asyncNumbers(5)],
      ['a ReadableStream', () => countingStream(5)],
    ] as const)('%s: the same values, and completes', async (_name, make) => {
      // Arrange
      const expected = await lastValueFrom(from(make() as unknown as ObservableInput<number>).pipe(toArray())); // rxjs's ReadableStreamLike and lib.dom's differ

      // Act
      const actual = await lastValueFrom(pulled(make()).pipe(toArray()));

      // Assert
      expect(actual).toEqual(expected);
      expect(actual).toEqual([0, 1, 2, 3, 4]);
    });

    it('counts what it reads, and never pauses', () => {
      // Arrange
      const metrics = sourceMetrics();

      // Act
      collect(pulled(numbers(7), { metrics }));

      // Assert
      expect(metrics.snapshot()).toEqual({ read: 7, pauses: 0, backPressuredTime: 0, skipped: 0, paused: 0 });
    });

    it('reads the input anew on each subscription; an iterator (a generator object) can be read once, like from()', () => {
      // Arrange
      const array = pulled([1, 2]);
      const set = pulled(new Set([3]));
      const generator = pulled(numbers(2));

      // Act
      const runs = [collect(array), collect(array), collect(set), collect(set), collect(generator), collect(generator)];

      // Assert
      expect(runs.map((r) => r.values)).toEqual([[1, 2], [1, 2], [3], [3], [0, 1], []]);
      expect(runs.every((r) => r.completed)).toBe(true);
    });

    it('does not touch the input before it is subscribed: no iterator is asked for, no stream is locked', () => {
      // Arrange
      const asked: string[] = [];
      const iterable: Iterable<number> = { [Symbol.iterator]: () => (asked.push('iterator'), [1][Symbol.iterator]()) };
      const stream = countingStream(1);

      // Act
      const fromIterable = pulled(iterable);
      const fromStream = pulled(stream);
      const before = { asked: [...asked], locked: stream.locked };
      collect(fromIterable);
      fromStream.subscribe();

      // Assert
      expect(before).toEqual({ asked: [], locked: false });
      expect(asked).toEqual(['iterator']);
      expect(stream.locked).toBe(true);
    });
  });

  describe('validation: a TypeError naming the option and the value, when pulled() is called', () => {
    it('refuses a string (it would be read one character at a time)', () => {
      expect(() => pulled('abc' as unknown as PullInput<string>)).toThrow(
        new TypeError('pulled: a string is not read one character at a time; pass [s] for one item'),
      );
    });

    it.each([
      [42, '42'],
      [null, 'null'],
      [undefined, 'undefined'],
      [{ length: 2 }, '{"length":2}'],
      [() => [1], 'a function'],
    ])('refuses %p, which is not an input', (input, shown) => {
      expect(() => pulled(input as unknown as PullInput<number>)).toThrow(
        new TypeError(`pulled: expected an array, an iterable, an async iterable or a ReadableStream, got ${shown}`),
      );
    });

    it.each([
      [null, 'null'],
      [[], 'an array of length 0'],
      ['fast', '"fast"'],
    ])('refuses options %p', (options, shown) => {
      expect(() => pulled([1], options as never)).toThrow(new TypeError(`pulled: option "options" must be an object, got ${shown}`));
    });

    it('refuses an unknown option', () => {
      expect(() => pulled([1], { metric: sourceMetrics() } as never)).toThrow(
        new TypeError('pulled: unknown option "metric" (known options: metrics, scheduler)'),
      );
    });

    it.each([
      ['a plain object', {}, '{}'],
      ['a snapshot', sourceMetrics().snapshot(), '{"read":0,"pauses":0,"backPressuredTime":0,"skipped":0,"paused":0}'],
      ["an operator's metrics", asyncWaitMetrics(), undefined],
      ['a number', 1, '1'],
    ])('refuses metrics that are %s, not made by sourceMetrics()', (_name, metrics, shown) => {
      const act = () => pulled([1], { metrics: metrics as never });
      expect(act).toThrow(TypeError);
      expect(act).toThrow(/^pulled: option "metrics" must be an object made by sourceMetrics\(\), got /);
      if (shown !== undefined) expect(act).toThrow(`got ${shown}`);
    });

    it.each([
      [{}, '{}'],
      [5, '5'],
      [null, 'null'],
    ])('refuses scheduler %p', (scheduler, shown) => {
      expect(() => pulled([1], { scheduler: scheduler as never })).toThrow(
        new TypeError(`pulled: option "scheduler" must be a SchedulerLike (with now() and schedule()), got ${shown}`),
      );
    });

    it('takes undefined options as their defaults', () => {
      expect(collect(pulled([1, 2], { metrics: undefined, scheduler: undefined })).values).toEqual([1, 2]);
    });
  });

  describe('what the input throws or rejects with errors the output', () => {
    it("a sync iterator's next() throwing: the values before it, then that error", () => {
      // Arrange
      const failure = new Error('disk on fire');
      function* failing(): Generator<number> {
        yield 1;
        yield 2;
        throw failure;
      }

      // Act
      const run = collect(pulled(failing()));

      // Assert
      expect(run.values).toEqual([1, 2]);
      expect(run.error).toBe(failure);
    });

    it('asking for the iterator throwing: the error, at subscribe', () => {
      // Arrange
      const failure = new Error('cannot open');
      const iterable: Iterable<number> = {
        [Symbol.iterator]: () => {
          throw failure;
        },
      };

      // Act
      const run = collect(pulled(iterable));

      // Assert
      expect(run).toEqual({ values: [], error: failure, completed: false });
    });

    it('an async generator throwing, and an async iterator rejecting: that error', async () => {
      // Arrange
      const failure = new Error('network down');
      async function* failing(): AsyncGenerator<number> {
        yield 1;
        throw failure;
      }
      const rejecting: AsyncIterable<number> = {
        [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(failure) }),
      };

      // Act
      const first = lastValueFrom(pulled(failing()).pipe(toArray()));
      const second = lastValueFrom(pulled(rejecting).pipe(toArray()));

      // Assert
      await expect(first).rejects.toBe(failure);
      await expect(second).rejects.toBe(failure);
    });

    it('a ReadableStream erroring: that error', async () => {
      // Arrange
      const failure = new Error('stream broke');
      let i = 0;
      const stream = new ReadableStream<number>({
        pull: (controller) => {
          if (i < 2) controller.enqueue(i++);
          else controller.error(failure);
        },
      }, { highWaterMark: 0 });
      const seen: number[] = [];

      // Act
      const run = lastValueFrom(pulled(stream).pipe(map((x) => (seen.push(x), x))));

      // Assert
      await expect(run).rejects.toBe(failure);
      expect(seen).toEqual([0, 1]);
    });

    it('a ReadableStream already locked: a TypeError (from the stream) at subscribe', () => {
      // Arrange
      const stream = countingStream(1);
      stream.getReader();

      // Act
      const run = collect(pulled(stream));

      // Assert
      expect(run.error).toEqual(expect.objectContaining({ name: 'TypeError' })); // Node's own realm: not this realm's TypeError
      expect(run.values).toEqual([]);
    });

    it("an async iterator's next() resolving to something other than an iterator result: a TypeError", async () => {
      // Arrange
      const broken: AsyncIterable<number> = {
        [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve(undefined as never) }),
      };

      // Act
      const run = lastValueFrom(pulled(broken));

      // Assert
      await expect(run).rejects.toEqual(expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/^pulled: the input.s next\(\) gave undefined, not an iterator result/) }));
    });

    /** An iterator that yields 0..n-1, then answers `result` instead of an iterator result. */
    const brokenIterable = (n: number, result: unknown): Iterable<number> => ({
      [Symbol.iterator]: () => {
        let i = 0;
        return { next: () => (i < n ? { done: false, value: i++ } : (result as IteratorResult<number>)) };
      },
    });

    it("a sync iterator's next() returning something other than an iterator result: a TypeError, as for an async one", () => {
      // Act
      const run = collect(pulled(brokenIterable(2, undefined)));

      // Assert
      expect(run.values).toEqual([0, 1]);
      expect(run.error).toEqual(expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/^pulled: the input.s next\(\) gave undefined, not an iterator result/) }));
    });

    it("the same behind an operator, where the read resumes from the operator's drain: the output errors, nothing is thrown", () => {
      const scheduler = newScheduler();
      scheduler.run(({ flush }) => {
        // Arrange: capacity 1, so the broken answer comes on a resumed read, at 10
        const events: string[] = [];
        let thrown: unknown;

        // Act
        pulled(brokenIterable(3, null)).pipe(
          asyncWaitOrdered((x: number) => timer(10).pipe(map(() => x)), { capacity: 1, input: 'values' }),
        ).subscribe({
          next: (e) => events.push(`${scheduler.now()}: ${String(e.kind === 'record' ? e.value : e.kind)}`),
          error: (err: unknown) => events.push(`${scheduler.now()}: error ${(err as Error).name}`),
          complete: () => events.push('complete'),
        });
        try {
          flush();
        } catch (err) {
          thrown = err;
        }

        // Assert
        expect(thrown).toBeUndefined();
        expect(events).toEqual(['10: 0', '20: 1', '20: error TypeError']);
      });
    });
  });

  describe('closing the input when the subscription ends early', () => {
    it("a generator's finally runs, and nothing is read after take(2)", () => {
      // Arrange
      const log: string[] = [];
      function* logged(): Generator<number> {
        try {
          for (let i = 0; i < 100; i++) {
            log.push(`yield ${i}`);
            yield i;
          }
        } finally {
          log.push('finally');
        }
      }
      const metrics = sourceMetrics();

      // Act
      const run = collect(pulled(logged(), { metrics }).pipe(take(2)));

      // Assert
      expect(run.values).toEqual([0, 1]);
      expect(log).toEqual(['yield 0', 'yield 1', 'finally']);
      expect(metrics.read).toBe(2);
    });

    it("an async generator's finally runs after take(2)", async () => {
      // Arrange
      const log: string[] = [];
      async function* logged(): AsyncGenerator<number> {
        try {
          for (let i = 0; i < 100; i++) yield i;
        } finally {
          log.push('finally');
        }
      }

      // Act
      const values = await lastValueFrom(pulled(logged()).pipe(take(2), toArray()));
      await settle();

      // Assert
      expect(values).toEqual([0, 1]);
      expect(log).toEqual(['finally']);
    });

    it("a ReadableStream's reader is cancelled after take(2)", async () => {
      // Arrange
      const log: string[] = [];
      const stream = countingStream(100, log);

      // Act
      const values = await lastValueFrom(pulled(stream).pipe(take(2), toArray()));
      await settle();

      // Assert
      expect(values).toEqual([0, 1]);
      expect(log.at(-1)).toBe('cancel');
      expect(log.filter((line) => line === 'cancel')).toHaveLength(1);
    });

    it('a complete input is not closed: its iterator ran to its end', () => {
      // Arrange
      const log: string[] = [];
      const iterable: Iterable<number> = {
        [Symbol.iterator]: () => {
          const inner = [1, 2][Symbol.iterator]();
          return { next: () => inner.next(), return: () => (log.push('return'), { done: true, value: undefined }) };
        },
      };

      // Act
      const run = collect(pulled(iterable));

      // Assert
      expect(run.completed).toBe(true);
      expect(log).toEqual([]);
    });
  });

  describe('types', () => {
    it('infers the item type of every kind of input, without explicit generics', async () => {
      // Arrange + Act
      const readonlyArray: readonly number[] = [1, 2];
      const fromArray = pulled(readonlyArray);
      const fromSet = pulled(new Set(['a']));
      const fromMap = pulled(new Map([['k', 1]]));
      const fromGenerator = pulled(numbers(1));
      const fromAsync = pulled(asyncNumbers(1));
      const fromStream = pulled(new ReadableStream<boolean>({ start: (c) => (c.enqueue(true), c.close()) }));

      // Assert
      assertType<Equal<typeof fromArray, Observable<number>>>();
      assertType<Equal<typeof fromSet, Observable<string>>>();
      assertType<Equal<typeof fromMap, Observable<[string, number]>>>();
      assertType<Equal<typeof fromGenerator, Observable<number>>>();
      assertType<Equal<typeof fromAsync, Observable<number>>>();
      assertType<Equal<typeof fromStream, Observable<boolean>>>();
      compileOnly(() => {
        // @ts-expect-error not an input
        pulled(42);
        // @ts-expect-error metrics must be a SourceMetrics
        pulled([1], { metrics: 1 });
      });
      expect(collect(fromMap).values).toEqual([['k', 1]]);
      await expect(lastValueFrom(fromStream)).resolves.toBe(true);
    });
  });
});
