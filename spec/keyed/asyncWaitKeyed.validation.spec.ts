import { NEVER, Subject, of, type Subscription } from 'rxjs';
import { AsyncKeyError, asyncWaitKeyed, asyncWaitMetrics, record, type AsyncWaitKeyedOptions, type StreamElement } from 'rxjs-sluice';

const fn = (x: number) => of(x);

describe('asyncWaitKeyed: options are validated when the operator is created', () => {
  it.each([
    ['no options at all', undefined, /options.*must be an object, got undefined/],
    ['a missing key', {}, /option "key" must be a function, got undefined/],
    ['a key that is not a function', { key: 'user' }, /option "key" must be a function, got "user"/],
    ['perKeyConcurrency 0', { key: fn, perKeyConcurrency: 0 }, /option "perKeyConcurrency" must be an integer >= 1, got 0/],
    ['perKeyConcurrency 1.5', { key: fn, perKeyConcurrency: 1.5 }, /option "perKeyConcurrency" must be an integer >= 1, got 1.5/],
    ['perKeyConcurrency above capacity', { key: fn, capacity: 4, perKeyConcurrency: 5 }, /option "perKeyConcurrency" must be an integer in \[1, capacity\] = \[1, 4\].*got 5/],
    ['an unknown order', { key: fn, order: 'global' }, /option "order" must be 'key' or 'input', got "global"/],
    ['a shared option gone wrong', { key: fn, capacity: 0 }, /option "capacity" must be an integer >= 1, got 0/],
    ['a misspelt option', { key: fn, perKeyConcurency: 2 }, /unknown option "perKeyConcurency".*perKeyConcurrency/],
  ])('%s throws a TypeError naming the option and the value', (_name, options, message) => {
    expect(() => asyncWaitKeyed(fn, options as unknown as AsyncWaitKeyedOptions<number, number>)).toThrow(TypeError);
    expect(() => asyncWaitKeyed(fn, options as unknown as AsyncWaitKeyedOptions<number, number>)).toThrow(message);
  });

  it('a function that is not one throws', () => {
    expect(() => asyncWaitKeyed('x' as never, { key: fn })).toThrow(/asyncWaitKeyed: fn must be a function, got string/);
  });
});

describe('asyncWaitKeyed: keys', () => {
  const run = (key: (x: number) => unknown, inputs: number[]): { out: number[]; error: unknown } => {
    const out: number[] = [];
    let error: unknown;
    const source = new Subject<StreamElement<number>>();
    source.pipe(asyncWaitKeyed((x: number) => [x], { key })).subscribe({
      next: (el) => el.kind === 'record' && out.push(el.value),
      error: (e: unknown) => (error = e),
    });
    for (const x of inputs) source.next(record(x));
    return { out, error };
  };

  it.each([
    ['an object (compared by identity, every record would be its own key)', () => ({ id: 1 }), /returned an object \(Object\) \{.*\}; a key must be a string, a number \(not NaN\), a bigint or a boolean/],
    ['a Date (named as an object, not shown like a string)', () => new Date(0), /returned an object \(Date\) /],
    ['a String object', () => new String('a'), /returned an object \(String\) /],
    ['undefined (a missing field)', () => undefined, /returned undefined/],
    ['NaN', () => NaN, /returned NaN/],
  ])('a key that is %s errors the output with AsyncKeyError carrying the input, before its call', (_name, key, message) => {
    const { out, error } = run(key, [7]);
    expect(out).toEqual([]);
    expect(error).toBeInstanceOf(AsyncKeyError);
    expect(error).toMatchObject({ input: 7, cause: expect.any(TypeError) });
    expect((error as Error).message).toMatch(message);
  });

  it('a throwing key errors the output with AsyncKeyError; what it threw is the cause', () => {
    const boom = new Error('no user');
    const { out, error } = run((x) => {
      if (x === 2) throw boom;
      return x;
    }, [1, 2, 3]);
    expect(out).toEqual([1]);
    expect(error).toMatchObject({ name: 'AsyncKeyError', input: 2, cause: boom, message: 'asyncWaitKeyed: option "key" failed for a record: no user' });
  });

  it('strings, numbers, bigints and booleans are keys, compared by value; -0 is 0', () => {
    const { out, error } = run((x) => [String(x % 2), x % 3, BigInt(x % 2), x % 2 === 0, x === 0 ? -0 : 0][x % 5], [0, 1, 2, 3, 4, 5]);
    expect(error).toBeUndefined();
    expect(out).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('asyncWaitKeyed: key() ending the subscription', () => {
  it('leaves every gauge at 0 when key() unsubscribes the output from inside (activeKeys stayed at 1)', () => {
    // Arrange
    const metrics = asyncWaitMetrics();
    const output: { subscription?: Subscription } = {}; // set once subscribed; key() ends it on the 2nd record
    const input = new Subject<StreamElement<number>>();
    output.subscription = input.pipe(
      asyncWaitKeyed(() => NEVER, { // calls never answer: record 1 holds its key
        key: (x: number) => {
          if (x === 2) output.subscription?.unsubscribe();
          return x % 2;
        },
        metrics,
      }),
    ).subscribe();
    // Act
    input.next(record(1));
    input.next(record(2));
    // Assert
    expect(output.subscription.closed).toBe(true);
    expect(metrics.snapshot()).toMatchObject({ activeKeys: 0, waitingForKey: 0, inFlight: 0, waiting: 0 });
  });
});
