import { firstValueFrom, lastValueFrom, of, toArray, type Observable, type OperatorFunction } from 'rxjs';
import {
  AsyncCallError, asyncBatchOrdered, asyncBatchUnordered, batchFailure, batchResults, record, toRecords, values,
  type AsyncBatchOptions, type StreamElement,
} from 'rxjs-sluice';
import { collect } from '../support/marbles';

/**
 * What the batching operators' types infer. `npm test` runs `tsc --noEmit` over spec/, so every assignment below
 * is a compile-time assertion, and every `@ts-expect-error` line must fail to compile (an unused one is itself an
 * error). The same pipelines also run, so each check is about code that works.
 *
 * No call below names its generics: I comes from the batch function's parameter (or the input stream inside a
 * pipe), O from the entries of the array it returns, directly, through a Promise or through an Observable.
 */

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when its argument is `true`. */
const assertType = <T extends true>(): T | undefined => undefined;
/** Type-checks code without running it: for the lines that must not compile, which would do something if run. */
const compileOnly = (_code: () => void): void => undefined;

/** Runs `op` over records of `inputs` (the source ends at once, so the open batch goes at once) and collects the values. */
const valuesOf = <I, O>(inputs: I[], op: OperatorFunction<StreamElement<I>, StreamElement<O>>): Promise<O[]> =>
  lastValueFrom(of(...inputs).pipe(toRecords(), op, values(), toArray()));

describe('asyncBatchOrdered / asyncBatchUnordered types', () => {
  it('infers I and O from a batch function returning an array', () => {
    // Arrange + Act
    const op = asyncBatchOrdered((xs: number[]) => xs.map((x) => String(x)));
    // Assert
    assertType<Equal<typeof op, OperatorFunction<StreamElement<number>, StreamElement<string>>>>();
    expect(collect(of(record(1), record(2)).pipe(op, values())).values).toEqual(['1', '2']);
  });

  it('infers O from an async function returning Promise<(string | Error)[]>: an Error entry is a failure, not a result', async () => {
    // Arrange + Act
    const annotated = asyncBatchUnordered(async (xs: number[]): Promise<(string | Error)[]> => xs.map((x) => (x > 0 ? `+${x}` : new Error('not positive'))));
    const inferred = asyncBatchUnordered(async (xs: number[]) => xs.map((x) => (x > 0 ? `+${x}` : new Error('not positive'))));
    const allSettled = asyncBatchOrdered((xs: number[]) => Promise.all(xs.map(async (x) => (x > 0 ? `+${x}` : new Error('not positive')))));
    // Assert
    assertType<Equal<typeof annotated, OperatorFunction<StreamElement<number>, StreamElement<string>>>>();
    assertType<Equal<typeof inferred, OperatorFunction<StreamElement<number>, StreamElement<string>>>>();
    assertType<Equal<typeof allSettled, OperatorFunction<StreamElement<number>, StreamElement<string>>>>();
    await expect(valuesOf([1, 2], annotated)).resolves.toEqual(['+1', '+2']);
    await expect(valuesOf([1, 2], inferred)).resolves.toEqual(['+1', '+2']);
    await expect(valuesOf([1, -2], allSettled)).rejects.toBeInstanceOf(AsyncCallError);
  });

  it('infers O through batchResults and batchFailure entries', async () => {
    // Arrange + Act
    const words = asyncBatchOrdered((lines: string[]) => lines.map((line) => batchResults(line.split(' '))));
    const mixed = asyncBatchOrdered((xs: number[]) => xs.map((x) => (x > 1 ? batchResults([x, x]) : x === 0 ? batchFailure('zero') : x)));
    const later = asyncBatchOrdered(async (xs: number[]) => xs.map((x) => (x > 0 ? batchResults([String(x)]) : batchFailure(x))));
    // Assert
    assertType<Equal<typeof words, OperatorFunction<StreamElement<string>, StreamElement<string>>>>();
    assertType<Equal<typeof mixed, OperatorFunction<StreamElement<number>, StreamElement<number>>>>();
    assertType<Equal<typeof later, OperatorFunction<StreamElement<number>, StreamElement<string>>>>();
    await expect(valuesOf(['a b', 'c'], words)).resolves.toEqual(['a', 'b', 'c']);
    await expect(valuesOf([1, 2], mixed)).resolves.toEqual([1, 2, 2]);
    await expect(valuesOf([3], later)).resolves.toEqual(['3']);
  });

  it('infers O from a function returning Observable<number[]>', async () => {
    // Arrange + Act
    const lengths = asyncBatchOrdered((xs: string[]) => of(xs.map((x) => x.length)));
    const none = asyncBatchOrdered((xs: number[]) => of(xs.map(() => batchResults<string>([]))));
    // Assert
    assertType<Equal<typeof lengths, OperatorFunction<StreamElement<string>, StreamElement<number>>>>();
    assertType<Equal<typeof none, OperatorFunction<StreamElement<number>, StreamElement<string>>>>();
    await expect(valuesOf(['ab', 'c'], lengths)).resolves.toEqual([2, 1]);
    await expect(valuesOf([1, 2], none)).resolves.toEqual([]);
  });

  it('infers O from an external batch API (one round trip for many keys), with options that mention O', async () => {
    // Arrange
    const mget = (keys: string[]): Promise<(string | null)[]> => Promise.resolve(keys.map((k) => (k === 'gone' ? null : k.toUpperCase())));
    // Act
    const op = asyncBatchOrdered((keys: string[]) => mget(keys), { maxBatchSize: 100, linger: 0, onError: () => [] });
    // Assert
    assertType<Equal<typeof op, OperatorFunction<StreamElement<string>, StreamElement<string | null>>>>();
    await expect(valuesOf(['a', 'gone'], op)).resolves.toEqual(['A', null]);
  });

  it('types every option from I and O: weigh, onTimeout, retry.retryOnResult, and ctx', async () => {
    // Arrange + Act
    const op = asyncBatchOrdered((xs: number[], ctx) => xs.map((x, n) => x * 10 + ctx.attempts[n]! + (ctx.timestamps[n] ?? 0) - ctx.attempt), {
      weigh: (x) => x, maxBatchWeight: 10, timeout: 1_000, onTimeout: (x) => [-x],
      retry: { maxRetries: 1, delay: 0, retryOnResult: (results) => results.length === 0 },
    });
    // Assert
    assertType<Equal<typeof op, OperatorFunction<StreamElement<number>, StreamElement<number>>>>();
    await expect(valuesOf([1, 2], op)).resolves.toEqual([10, 20]);
  });

  it("selects the plain-values overload with input: 'values'", async () => {
    // Arrange + Act
    const op = asyncBatchOrdered((xs: number[]) => xs.map((x) => String(x)), { input: 'values' });
    const unordered = asyncBatchUnordered((xs: number[]) => xs.map((x) => x > 1), { input: 'values', maxBatchSize: 2 });
    // Assert
    assertType<Equal<typeof op, OperatorFunction<number, StreamElement<string>>>>();
    assertType<Equal<typeof unordered, OperatorFunction<number, StreamElement<boolean>>>>();
    await expect(lastValueFrom(of(1, 2).pipe(op, values(), toArray()))).resolves.toEqual(['1', '2']);
    await expect(lastValueFrom(of(1, 2).pipe(unordered, values(), toArray()))).resolves.toEqual([false, true]);
  });

  it('infers I from the input stream inside a pipe, without annotating the batch function', async () => {
    // Arrange + Act
    const fromElements = of(record(1), record(2)).pipe(asyncBatchOrdered((xs) => xs.map((x) => x * 2)), values());
    const fromValues = of('a', 'bc').pipe(asyncBatchUnordered((xs) => xs.map((x) => x.length), { input: 'values' }), values());
    const withOptions = of(record(1), record(2)).pipe(asyncBatchOrdered((xs) => xs.map((x) => x * 2), {
      weigh: (x) => x, maxBatchWeight: 5, timeout: 1_000, onTimeout: (x) => [-x], onError: () => [],
    }), values());
    // Assert
    assertType<Equal<typeof fromElements, Observable<number>>>();
    assertType<Equal<typeof fromValues, Observable<number>>>();
    assertType<Equal<typeof withOptions, Observable<number>>>();
    await expect(lastValueFrom(fromElements.pipe(toArray()))).resolves.toEqual([2, 4]);
    await expect(lastValueFrom(fromValues.pipe(toArray()))).resolves.toEqual([1, 2]);
    await expect(lastValueFrom(withOptions.pipe(toArray()))).resolves.toEqual([2, 4]);
  });

  it('accepts a declared options object, and keeps explicit generics working', async () => {
    // Arrange
    const options: AsyncBatchOptions<number, string> = { maxBatchSize: 2, linger: undefined, weigh: undefined, metrics: undefined };
    // Act
    const op = asyncBatchOrdered((xs: number[]) => xs.map((x) => `#${x}`), options);
    const explicit = asyncBatchOrdered<number, string>((xs) => xs.map((x) => `#${x}`));
    // Assert
    assertType<Equal<typeof op, OperatorFunction<StreamElement<number>, StreamElement<string>>>>();
    assertType<Equal<typeof explicit, typeof op>>();
    await expect(valuesOf([1, 2, 3], op)).resolves.toEqual(['#1', '#2', '#3']);
    await expect(valuesOf([4], explicit)).resolves.toEqual(['#4']);
  });

  it('refuses a batch function that does not return an array of entries', async () => {
    // Arrange + Act
    compileOnly(() => {
      // @ts-expect-error one number is not an array with one entry per value
      asyncBatchOrdered((xs: number[]) => xs.length);
      // @ts-expect-error a Promise of a number is not a Promise of an array
      asyncBatchUnordered(async (xs: number[]) => xs.length);
      // @ts-expect-error an Observable of numbers is not an Observable of one array
      asyncBatchOrdered((xs: number[]) => of(xs.length));
    });
    // Assert: refused at run time too
    const notArray = asyncBatchOrdered(((xs: number[]) => xs.length) as never);
    await expect(firstValueFrom(of(record(1)).pipe(notArray))).rejects.toMatchObject({ name: 'AsyncBatchError', kind: 'result-type' });
  });

  it('refuses options that do not fit I and O, and a mode known only at run time', () => {
    // Arrange
    const modeOf = (plain: boolean) => (plain ? ('values' as const) : ('elements' as const));
    const weighString = (s: string) => s.length;
    // Act
    compileOnly(() => {
      // @ts-expect-error weigh takes the input values (numbers here)
      asyncBatchOrdered((xs: number[]) => xs, { weigh: weighString, maxBatchWeight: 3 });
      // @ts-expect-error onError's results are outputs (numbers here)
      asyncBatchOrdered((xs: number[]) => xs, { onError: () => ['fallback'] });
      // @ts-expect-error ctx.attempt is a number
      asyncBatchOrdered((xs: number[], ctx) => xs.map(() => ctx.attempt.toUpperCase()));
      // @ts-expect-error input: 'values' | 'elements' picks neither overload: the stream types would be wrong
      asyncBatchOrdered((xs: number[]) => xs, { input: modeOf(false) });
      // @ts-expect-error plain values into the elements overload
      of(1, 2).pipe(asyncBatchOrdered((xs: number[]) => xs));
    });
    const mistyped = collect(of(record(1)).pipe(asyncBatchOrdered((xs: number[]) => xs, { weigh: weighString as never, maxBatchWeight: 3 })));
    // Assert: the mistyped weigh is refused at run time too (a number has no length: no weight)
    expect(mistyped.error).toMatchObject({ name: 'AsyncBatchError', kind: 'weight', input: 1 });
  });
});
