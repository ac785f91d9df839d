import { describe } from '../shared/describe.js';
import { type PullResult, type Puller } from './pullLoop.js';

/**
 * What {@link pulled} and {@link iterableSource} read: an array, any iterable, any async iterable (a Node
 * `Readable` included), or a WHATWG `ReadableStream`.
 *
 * ## Example
 * ```ts
 * import { type PullInput } from 'rxjs-sluice';
 * const inputs: PullInput<number>[] = [[1, 2], new Set([3]), (async function* () { yield 4; })()];
 * ```
 */
export type PullInput<T> = readonly T[] | Iterable<T> | AsyncIterable<T> | ReadableStream<T>;

/** The end of a puller's items. */
export const DONE: PullResult<never> = Object.freeze({ done: true, value: undefined });

/** How a {@link PullInput} is read. */
type InputKind = 'array' | 'stream' | 'async' | 'sync';

/**
 * Which kind of input `input` is, without touching it (no iterator is asked for, no stream locked), or a
 * TypeError naming `caller` and what it got instead.
 */
export function checkPullInput(caller: string, input: unknown): InputKind {
  if (Array.isArray(input)) return 'array';
  if ((input !== null && typeof input === 'object') || typeof input === 'function') {
    // A ReadableStream first: in Node it is also async-iterable, but a browser's may not be.
    if (isReadableStream(input as object)) return 'stream';
    if (typeof (input as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function') return 'async';
    if (typeof (input as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function') return 'sync';
  }
  if (typeof input === 'string') {
    throw new TypeError(`${caller}: a string is not read one character at a time; pass [s] for one item`);
  }
  throw new TypeError(`${caller}: expected an array, an iterable, an async iterable or a ReadableStream, got ${describe(input)}`);
}

/** A puller over `input` (asks for its iterator, or locks its stream), or a TypeError naming `caller`. */
export function pullerOf<T>(caller: string, input: PullInput<T>): Puller<T> {
  switch (checkPullInput(caller, input)) {
    case 'array':
      return new ArrayPuller(input as readonly T[]);
    case 'stream':
      return new StreamPuller((input as ReadableStream<T>).getReader());
    case 'async':
      return new IteratorPuller((input as AsyncIterable<T>)[Symbol.asyncIterator]());
    default:
      return new IteratorPuller((input as Iterable<T>)[Symbol.iterator]());
  }
}

function isReadableStream(input: object): input is ReadableStream<unknown> {
  return typeof (input as Partial<ReadableStream>).getReader === 'function' && typeof (input as Partial<ReadableStream>).tee === 'function';
}

/** An array: every answer is synchronous. */
class ArrayPuller<T> implements Puller<T> {
  /** The index of the next item. */
  private index = 0;

  constructor(private readonly values: readonly T[]) {}

  next(): PullResult<T> {
    const values = this.values;
    return this.index < values.length ? { done: false, value: values[this.index++]! } : DONE;
  }

  close(): void {
    this.index = this.values.length;
  }
}

/** A sync or async iterator: `return()` on an early end, as `for...of` does. */
class IteratorPuller<T> implements Puller<T> {
  constructor(private readonly iterator: Iterator<T> | AsyncIterator<T>) {}

  next(): PullResult<T> | PromiseLike<PullResult<T>> {
    return this.iterator.next();
  }

  close(): void {
    const result = this.iterator.return?.();
    // An async iterator's return() answers with a promise; its rejection has no one left to tell.
    if (result !== undefined && typeof (result as PromiseLike<unknown>).then === 'function') {
      (result as Promise<unknown>).then(undefined, () => undefined);
    }
  }
}

/** A ReadableStream's default reader: `cancel()` on an early end, which tells the stream's underlying source. */
class StreamPuller<T> implements Puller<T> {
  constructor(private readonly reader: ReadableStreamDefaultReader<T>) {}

  next(): PromiseLike<PullResult<T>> {
    return this.reader.read() as PromiseLike<PullResult<T>>;
  }

  close(): void {
    this.reader.cancel().then(undefined, () => undefined);
  }
}
