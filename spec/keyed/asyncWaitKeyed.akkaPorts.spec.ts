/**
 * Ports of Akka's and Pekko's mapAsyncPartitioned specs (Pekko stream-typed-tests MapAsyncPartitionedSpec, suites
 * "MapAsyncPartitionedUnordered" and "MapAsyncPartitionedOrdered"; Pekko/Akka FlowMapAsyncPartitionedSpec).
 * Akka's `parallelism` is our `capacity` (it bounds the buffer: waiting, running and completed elements), its
 * partitioner our `key`, `mapAsyncPartitioned` our `order: 'input'` and `mapAsyncPartitionedUnordered` our
 * `order: 'key'`. Delays run in virtual time; Akka's blocking sleeps become timers.
 */
import fc from 'fast-check';
import { Subject, VirtualTimeScheduler, lastValueFrom, map, range, timer, toArray, type Observable } from 'rxjs';
import { asyncWaitKeyed, record, values, type StreamElement } from 'rxjs-sluice';
import { soak } from '../support/soak';

interface TestKeyValue {
  readonly key: number;
  readonly delay: number;
  readonly value: string;
}

/** Runs elements through asyncWaitKeyed in virtual time; the call answers [key, value] after the element's delay. */
function runElements(elements: readonly TestKeyValue[], capacity: number, order: 'key' | 'input'): { out: string[]; startedAt: Map<string, number> } {
  const scheduler = new VirtualTimeScheduler(undefined, Infinity);
  const startedAt = new Map<string, number>();
  const out: string[] = [];
  const source = new Subject<StreamElement<TestKeyValue>>();
  source.pipe(
    asyncWaitKeyed((e: TestKeyValue) => {
      startedAt.set(e.value, scheduler.now());
      return timer(e.delay, scheduler).pipe(map(() => e.value));
    }, { key: (e) => e.key, capacity, order, scheduler }),
    values(),
  ).subscribe((v) => out.push(v));
  for (const e of elements) source.next(record(e));
  source.complete();
  scheduler.flush();
  return { out, startedAt };
}

const ELEMENTS: readonly TestKeyValue[] = [
  { key: 1, delay: 1000, value: '1.a' },
  { key: 2, delay: 700, value: '2.a' },
  { key: 1, delay: 500, value: '1.b' },
  { key: 2, delay: 900, value: '2.b' },
  { key: 1, delay: 500, value: '1.c' },
];

/** Pekko's generator: 1..100 elements over 1..8 partitions, delays of 10..29 ms; parallelism 2..8. */
const elementsArb = fc.integer({ min: 1, max: 8 }).chain((partitions) => fc.array(
  fc.record({ key: fc.integer({ min: 0, max: partitions - 1 }), delay: fc.integer({ min: 10, max: 29 }) }),
  { minLength: 1, maxLength: 100 },
)).map((raw) => raw.map((e, i): TestKeyValue => ({ ...e, value: String(i + 1) })));

const groupByKey = (elements: readonly TestKeyValue[], out: readonly string[]): Map<number, string[]> => {
  const keyOf = new Map(elements.map((e) => [e.value, e.key]));
  const groups = new Map<number, string[]>();
  for (const v of out) groups.set(keyOf.get(v)!, [...(groups.get(keyOf.get(v)!) ?? []), v]);
  return groups;
};

describe("Pekko MapAsyncPartitionedUnordered (order: 'key')", () => {
  it('process elements in parallel by partition', () => {
    // Act
    const { out } = runElements(ELEMENTS, 2, 'key');

    // Assert
    expect(out).toEqual(['2.a', '1.a', '1.b', '2.b', '1.c']);
  });

  it('process elements in parallel preserving order in partition (output grouped by key equals input grouped by key)', () => {
    fc.assert(fc.property(elementsArb, fc.integer({ min: 2, max: 8 }), (elements, parallelism) => {
      const { out } = runElements(elements, parallelism, 'key');
      expect(groupByKey(elements, out)).toEqual(groupByKey(elements, elements.map((e) => e.value)));
    }), { numRuns: soak(100, 1000) });
  });

  it('process elements in sequence preserving order in partition (parallelism 1)', () => {
    fc.assert(fc.property(elementsArb, (elements) => {
      const { out } = runElements(elements, 1, 'key');
      expect(out).toEqual(elements.map((e) => e.value)); // one at a time: input order
    }), { numRuns: soak(100, 1000) });
  });
});

describe("Pekko MapAsyncPartitionedOrdered (order: 'input')", () => {
  it('process elements in parallel by partition: input order, and starts in order within each key', () => {
    // Arrange: the ordered suite's input order
    const elements = [ELEMENTS[0]!, ELEMENTS[1]!, ELEMENTS[2]!, ELEMENTS[4]!, ELEMENTS[3]!];

    // Act
    const { out, startedAt } = runElements(elements, 2, 'input');

    // Assert
    expect(out).toEqual(['1.a', '2.a', '1.b', '1.c', '2.b']);
    expect(startedAt.get('1.a')!).toBeLessThan(startedAt.get('1.b')!);
    expect(startedAt.get('1.b')!).toBeLessThan(startedAt.get('1.c')!);
    expect(startedAt.get('2.a')!).toBeLessThan(startedAt.get('2.b')!);
  });

  it('process elements in parallel preserving order in partition (output equals input)', () => {
    fc.assert(fc.property(elementsArb, fc.integer({ min: 2, max: 8 }), (elements, parallelism) => {
      expect(runElements(elements, parallelism, 'input').out).toEqual(elements.map((e) => e.value));
    }), { numRuns: soak(100, 1000) });
  });
});

describe('FlowMapAsyncPartitionedSpec', () => {
  it('produce elements in order of ingestion regardless of future completion order (50 promises completed at random)', async () => {
    // Arrange
    const resolvers: Array<(v: number) => void> = [];
    const output = lastValueFrom(range(0, 50).pipe(
      map((x) => record(x)),
      asyncWaitKeyed((x: number) => new Promise<number>((resolve) => (resolvers[x] = resolve)), { key: (x) => x % 7, capacity: 25, order: 'input' }),
      values(),
      toArray(),
    ));

    // Act: complete the promises in a shuffled order, each once its call has been made
    const order = fc.sample(fc.shuffledSubarray(Array.from({ length: 50 }, (_, i) => i), { minLength: 50 }), { numRuns: 1, seed: 7 })[0]!;
    const resolved = new Set<number>();
    while (resolved.size < 50) {
      for (const i of order) {
        if (resolvers[i] === undefined || resolved.has(i)) continue;
        resolved.add(i);
        resolvers[i]!(i);
      }
      await new Promise((r) => setImmediate(r));
    }

    // Assert
    expect(await output).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('not backpressure when partition slots are busy: only 0 and 9 run at first, then each key in turn', () => {
    // Arrange: capacity 10, key n < 9; every call waits for its promise
    const started: number[] = [];
    const answers = new Map<number, Subject<number>>();
    const out: number[] = [];
    const source = new Subject<StreamElement<number>>();
    source.pipe(asyncWaitKeyed((n: number) => {
      started.push(n);
      const answer = new Subject<number>();
      answers.set(n, answer);
      return answer;
    }, { key: (n) => n < 9, capacity: 10, order: 'input' }), values()).subscribe((n) => out.push(n));
    const answer = (n: number): void => {
      answers.get(n)!.next(n);
      answers.get(n)!.complete();
    };

    // Act / Assert: all 11 accepted (10 held, 1 beyond capacity), one call per key in flight
    for (let n = 0; n <= 10; n++) source.next(record(n));
    expect(started).toEqual([0, 9]);
    answer(0);
    for (let n = 1; n <= 8; n++) {
      expect(started.at(-1)).toBe(n);
      answer(n);
    }
    answer(9);
    expect(started.at(-1)).toBe(10);
    answer(10);
    source.complete();
    expect(out).toEqual(Array.from({ length: 11 }, (_, i) => i));
  });

  it.each([
    ['signal future failure', (n: number): Observable<number> | Promise<number> => Promise.reject(new Error(`BOOM ${n}`))],
    ['signal error when constructing future', (n: number): Observable<number> | Promise<number> => {
      throw new Error(`BOOM ${n}`);
    }],
  ])('%s: the output errors with AsyncCallError carrying the input and the cause', async (_name, fail) => {
    // Arrange
    let error: unknown;
    const source = new Subject<StreamElement<number>>();
    source.pipe(asyncWaitKeyed((n: number) => (n === 3 ? fail(n) : new Subject<number>()), { key: (n) => n % 3, capacity: 4 }))
      .subscribe({ error: (e: unknown) => (error = e) });

    // Act
    for (let n = 1; n <= 5; n++) source.next(record(n));
    await Promise.resolve();

    // Assert
    expect(error).toMatchObject({ name: 'AsyncCallError', input: 3, cause: expect.objectContaining({ message: 'BOOM 3' }) });
  });

  it('ignore null-completed futures: a call with no result emits nothing for its record', async () => {
    // Akka skips null results; here a call that completes without a value has zero results.
    const out = await lastValueFrom(range(1, 10).pipe(
      map((x) => record(x)),
      asyncWaitKeyed((x: number) => (x % 3 === 0 ? [] : [String(x)]), { key: (x) => x % 2, capacity: 5, order: 'input' }),
      values(),
      toArray(),
    ));
    expect(out).toEqual(['1', '2', '4', '5', '7', '8', '10']);
  });

  it('handle cancel properly: unsubscribing unsubscribes the input and aborts the calls', () => {
    const source = new Subject<StreamElement<number>>();
    const signals: AbortSignal[] = [];
    const subscription = source.pipe(asyncWaitKeyed((_x: number, { signal }) => {
      signals.push(signal);
      return new Subject<number>();
    }, { key: (x) => x % 2, capacity: 4 })).subscribe();
    for (let n = 0; n < 4; n++) source.next(record(n));

    subscription.unsubscribe();

    expect(source.observed).toBe(false);
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
  });

  it('not run more futures than allowed overall or per-partition (10,000 elements, random latencies)', async () => {
    // Arrange: Akka's stress test; counters fail a call that would exceed either limit.
    const capacity = 8;
    const perKey = 2;
    const partitions = 9;
    let global = 0;
    const perPartition = new Array<number>(partitions).fill(0);
    let exceeded = '';
    const fn = async (x: number): Promise<number> => {
      const p = x % partitions;
      if (++global > capacity) exceeded ||= 'global parallelism exceeded';
      if (++perPartition[p]! > perKey) exceeded ||= `partition parallelism for partition ${p} exceeded`;
      await new Promise((r) => (x % 3 === 0 ? setImmediate(r) : queueMicrotask(() => r(undefined))));
      global--;
      perPartition[p]!--;
      return x;
    };

    // Act
    const out = await lastValueFrom(range(1, soak(10_000, 100_000)).pipe(
      map((x) => record(x)),
      asyncWaitKeyed(fn, { key: (x) => x % partitions, capacity, perKeyConcurrency: perKey, order: 'input' }),
      values(),
      toArray(),
    ));

    // Assert
    expect(exceeded).toBe('');
    expect(out).toEqual(Array.from({ length: out.length }, (_, i) => i + 1));
  });
});
