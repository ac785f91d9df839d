import { Readable } from 'stream';
import { from, lastValueFrom, map, take, tap, toArray } from 'rxjs';
import { asyncWaitOrdered, SourcePositionError, sourceMetrics } from 'rxjs-sluice';
import { readableSource, SourceReadError } from 'rxjs-sluice/node';
import { deferred, type Deferred } from '../support/deferred';
import { crashedAndRestoredRun, errorOf, failureOf, readAll, tick, uninterruptedRun, until } from '../support/sourceRuns';
import { tempDirs } from '../support/tempDirs';

/**
 * readableSource: a Node Readable read with read(), synchronously while it has data buffered and waiting for
 * 'readable' / 'end' when it has none; the position is the number of items read, so a restore calls open() again
 * and skips that many. The stream is destroyed when the subscription ends early, and its errors reach the output.
 */

const freshDir = tempDirs('sluice-readable-');

/** An object-mode stream of `values`, pushed one per _read, synchronously. */
function objects<T>(values: readonly T[]): Readable {
  let next = 0;
  return new Readable({ objectMode: true, read() { this.push(next < values.length ? values[next++] : null); } });
}

describe('readableSource: items and positions', () => {
  it('gives the objects of an object-mode stream, each with the count of items read as its position', async () => {
    // Arrange
    const source = readableSource(() => objects([{ id: 'a' }, { id: 'b' }, { id: 'c' }]));

    // Act
    const items = await readAll(source);

    // Assert
    expect(items).toEqual([{ value: { id: 'a' }, position: 1 }, { value: { id: 'b' }, position: 2 }, { value: { id: 'c' }, position: 3 }]);
  });

  it('gives the chunks of a byte stream (one chunk buffered at a time with highWaterMark 1)', async () => {
    // Arrange
    const chunks = ['ab', 'cde', 'f'];
    const open = (): Readable => {
      let next = 0;
      return new Readable({ highWaterMark: 1, read() { this.push(next < chunks.length ? Buffer.from(chunks[next++]!) : null); } });
    };

    // Act
    const items = await readAll(readableSource<Buffer>(open));

    // Assert
    expect(items.map((i) => [i.value.toString(), i.position])).toEqual([['ab', 1], ['cde', 2], ['f', 3]]);
  });

  it('reads a stream that answers asynchronously (Readable.from an async generator)', async () => {
    // Arrange
    async function* slowly() {
      for (let i = 0; i < 5; i++) {
        await tick();
        yield i;
      }
    }

    // Act
    const items = await readAll(readableSource(() => Readable.from(slowly())));

    // Assert
    expect(items.map((i) => i.value)).toEqual([0, 1, 2, 3, 4]);
  });

  it('stamps each item with timestampOf(item, index)', async () => {
    // Arrange
    const calls: [unknown, number][] = [];

    // Act
    const items = await readAll(readableSource<{ at: number }>(() => objects([{ at: 5 }, { at: 9 }]), { timestampOf: (e, i) => (calls.push([e, i]), e.at) }));

    // Assert
    expect(items).toEqual([{ value: { at: 5 }, position: 1, timestamp: 5 }, { value: { at: 9 }, position: 2, timestamp: 9 }]);
    expect(calls).toEqual([[{ at: 5 }, 0], [{ at: 9 }, 1]]);
  });

  it('completes with nothing on an empty stream', async () => {
    // Act
    const items = await readAll(readableSource(() => objects([])));

    // Assert
    expect(items).toEqual([]);
  });
});

describe('readableSource: a restore', () => {
  it('calls open() again and skips as many items as the position says', async () => {
    // Arrange
    let opens = 0;
    const source = readableSource(() => (opens++, objects(['a', 'b', 'c', 'd'])));

    // Act
    const items = await readAll(source, 2);

    // Assert
    expect(items).toEqual([{ value: 'c', position: 3 }, { value: 'd', position: 4 }]);
    expect(opens).toBe(1);
  });

  it('at exactly the number of items completes with nothing', async () => {
    // Act
    const items = await readAll(readableSource(() => objects(['a', 'b'])), 2);

    // Assert
    expect(items).toEqual([]);
  });

  it('past the end (the stream has fewer items now): SourcePositionError, the stream destroyed', async () => {
    // Arrange
    const streams: Readable[] = [];
    const source = readableSource(() => {
      const stream = objects(['a', 'b']);
      streams.push(stream);
      return stream;
    });

    // Act
    const error = await failureOf(source, 5);

    // Assert
    expect(error).toBeInstanceOf(SourcePositionError);
    expect(error).toMatchObject({ input: 5 });
    expect((error as Error).message).toContain('after 2 items');
    expect(streams).toHaveLength(1);
    expect(streams[0]!.destroyed).toBe(true);
  });

  it.each([[-1], [0.5], [Number.NaN], ['1'], [null]])('at a position %p that is not an integer >= 0: SourcePositionError, open() not called', async (position) => {
    // Arrange
    let opens = 0;

    // Act
    const error = await failureOf(readableSource(() => (opens++, objects([1]))), position as number);

    // Assert
    expect(error).toBeInstanceOf(SourcePositionError);
    expect(opens).toBe(0);
  });
});

describe('readableSource: failures', () => {
  it('a stream error errors the output with that error, after the items before it', async () => {
    // Arrange
    const boom = new Error('disk on fire');
    const open = (): Readable => {
      let next = 0;
      return new Readable({
        objectMode: true,
        read() {
          if (next < 2) this.push(next++);
          else this.destroy(boom);
        },
      });
    };
    const seen: unknown[] = [];

    // Act
    const error = await errorOf(from(readableSource(open).open(undefined)).pipe(tap((i) => seen.push(i.value))));

    // Assert
    expect(seen).toEqual([0, 1]);
    expect(error).toBe(boom);
  });

  it('a stream error while the source is paused by back-pressure is kept (no uncaught error) and errors the output', async () => {
    // Arrange: capacity 1, calls the test settles; the stream fails while the source waits for room
    const boom = new Error('connection reset');
    const stream = objects([1, 2, 3, 4, 5, 6]);
    const calls: Deferred<number>[] = [];
    const metrics = sourceMetrics();
    let error: unknown;
    from(readableSource(() => stream, { metrics }).open(undefined)).pipe(
      map((i) => i.value as number),
      asyncWaitOrdered(() => {
        const call = deferred<number>();
        calls.push(call);
        return call.promise;
      }, { capacity: 1, input: 'values' }),
    ).subscribe({ error: (e: unknown) => (error = e) });
    await until(() => metrics.paused === 1);

    // Act
    stream.destroy(boom);
    await tick();
    const beforeDrain = error;
    calls[0]!.resolve(10);
    await until(() => error !== undefined);

    // Assert
    expect(beforeDrain).toBeUndefined();
    expect(error).toBe(boom);
  });

  it('a stream destroyed before its end without an error: SourceReadError with the items read', async () => {
    // Arrange
    const open = (): Readable => {
      let next = 0;
      return new Readable({
        objectMode: true,
        read() {
          if (next < 3) this.push(next++);
          else setImmediate(() => this.destroy());
        },
      });
    };

    // Act
    const error = await failureOf(readableSource(open));

    // Assert
    expect(error).toBeInstanceOf(SourceReadError);
    expect(error).toMatchObject({ input: undefined, position: 3 });
    expect((error as Error).message).toContain('destroyed before its end');
  });

  it('a stream already destroyed when open() returns it: SourceReadError', async () => {
    // Arrange
    const stream = objects([1, 2]);
    stream.destroy();

    // Act
    const error = await failureOf(readableSource(() => stream));

    // Assert
    expect(error).toBeInstanceOf(SourceReadError);
  });

  it('open() throwing errors the output with what it threw', async () => {
    // Arrange
    const boom = new Error('cannot connect');

    // Act
    const error = await failureOf(readableSource(() => { throw boom; }));

    // Assert
    expect(error).toBe(boom);
  });

  it('open() returning something that is not a Readable errors the output with a TypeError', async () => {
    // Act
    const error = await failureOf(readableSource(() => [1, 2] as unknown as Readable));

    // Assert
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/readableSource: open\(\) must return a Node Readable, got an array/);
  });

  it('timestampOf throwing errors the output with what it threw, and destroys the stream', async () => {
    // Arrange
    const boom = new Error('no time');
    const stream = objects([1, 2, 3]);

    // Act
    const error = await failureOf(readableSource(() => stream, { timestampOf: (x: number) => { if (x === 2) throw boom; return x; } }));

    // Assert
    expect(error).toBe(boom);
    expect(stream.destroyed).toBe(true);
  });
});

describe('readableSource: options are checked at creation', () => {
  it('open that is not a function throws a TypeError', () => {
    // Act / Assert
    expect(() => readableSource(objects([1]) as never)).toThrow(/readableSource: open must be a function/);
  });

  it.each([
    [{ timestampOf: 1 }, /option "timestampOf" must be a function, got 1/],
    [{ metrics: {} }, /option "metrics" must be an object made by sourceMetrics\(\)/],
    [{ encoding: 'utf8' }, /unknown option "encoding"/],
  ])('%p throws a TypeError naming the option and the value', (options, message) => {
    // Act / Assert
    expect(() => readableSource(() => objects([1]), options as never)).toThrow(message);
  });
});

describe('readableSource: the stream', () => {
  it('is destroyed when take(2) ends the subscription early', async () => {
    // Arrange
    const stream = objects(Array.from({ length: 100 }, (_, i) => i));

    // Act
    const items = await lastValueFrom(from(readableSource(() => stream).open(undefined)).pipe(take(2), toArray()));

    // Assert
    expect(items.map((i) => i.value)).toEqual([0, 1]);
    expect(stream.destroyed).toBe(true);
  });

  it('is destroyed on an unsubscribe while the source waits for it', async () => {
    // Arrange: a stream that never has data
    const stream = new Readable({ objectMode: true, read() {} });
    const subscription = from(readableSource(() => stream).open(undefined)).subscribe();
    await tick();

    // Act
    subscription.unsubscribe();

    // Assert
    expect(stream.destroyed).toBe(true);
    expect(stream.listenerCount('readable')).toBe(0);
  });

  it('gets no more listeners however many times the source waits for it, and keeps only its error listener at the end', async () => {
    // Arrange: each of 50 items comes on a later macrotask, so the source waits 50 times
    async function* slowly() {
      for (let i = 0; i < 50; i++) {
        await tick();
        yield i;
      }
    }
    const stream = Readable.from(slowly());
    const counts = new Set<string>();
    const note = (): void => {
      counts.add(['readable', 'end', 'error', 'close'].map((e) => stream.listenerCount(e)).join(','));
    };
    const baseline = ['readable', 'end', 'error', 'close'].map((e) => stream.listenerCount(e));

    // Act
    const items = await lastValueFrom(from(readableSource(() => stream).open(undefined)).pipe(tap(note), toArray()));

    // Assert
    expect(items).toHaveLength(50);
    expect(counts).toEqual(new Set([[baseline[0]! + 1, baseline[1]! + 1, baseline[2]! + 1, baseline[3]! + 1].join(',')]));
    expect(stream.listenerCount('readable')).toBe(baseline[0]);
    expect(stream.listenerCount('end')).toBe(baseline[1]);
    expect(stream.listenerCount('error')).toBe(baseline[2]! + 1);
  });
});

describe('readableSource: flow control', () => {
  it('reads at most capacity + 1 items ahead of a slow asyncWaitOrdered (capacity 5)', async () => {
    // Arrange
    const values = Array.from({ length: 200 }, (_, i) => i);
    const stream = objects(values);
    const metrics = sourceMetrics();
    let emitted = 0;
    let maxAhead = 0;
    let maxBuffered = 0;
    const note = (): void => {
      maxAhead = Math.max(maxAhead, metrics.read - emitted);
      maxBuffered = Math.max(maxBuffered, stream.readableLength);
    };

    // Act
    const out = await lastValueFrom(from(readableSource<number>(() => stream, { metrics }).open(undefined)).pipe(
      map((item) => item.value),
      tap(note),
      asyncWaitOrdered(async (x: number) => {
        await tick();
        return x * 2;
      }, { capacity: 5, input: 'values' }),
      tap(() => {
        emitted++;
        note();
      }),
      toArray(),
    ));

    // Assert: the single-operator bound of docs/flow-control.md; the stream itself stays within its highWaterMark
    expect(out.map((e) => e.kind === 'record' && e.value)).toEqual(values.map((x) => x * 2));
    expect(maxAhead).toBeLessThanOrEqual(6);
    // It was held: one pause at least (a refill that shuts the gate again at once continues the same pause).
    expect(metrics.pauses).toBeGreaterThanOrEqual(1);
    expect(metrics.paused).toBe(0);
    expect(maxBuffered).toBeLessThanOrEqual(stream.readableHighWaterMark);
  });
});

describe('readableSource in a checkpointable pipeline', () => {
  it('crashed part-way and restored, commits exactly what an uninterrupted run commits', async () => {
    // Arrange
    const values = Array.from({ length: 120 }, (_, i) => ({ i }));
    const source = readableSource<{ i: number }>(() => Readable.from(values));
    const transform = (r: { i: number }): number => r.i * 3;

    // Act
    const expected = await uninterruptedRun(source, freshDir, 12, transform);
    const restored = await crashedAndRestoredRun(source, freshDir, 12, transform, 3);

    // Assert
    expect(expected).toEqual(values.map(transform));
    expect(restored.committed).toEqual(expected);
    expect(restored.firstOpened).toEqual([undefined]);
    expect(restored.secondOpened[0]).toBeGreaterThan(0);
  });
});
