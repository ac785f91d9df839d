import { type SourceItem } from '../checkpoint/source.js';
import { SourcePositionError } from './SourcePositionError.js';
import { DONE } from './pullers.js';
import { type PullResult, type Puller } from './pullLoop.js';

/**
 * The items of a replayable source whose position is a count of items (internal): the inner puller's items
 * from the `from`-th on, each with the position after it and its timestamp. The first `from` items are read
 * and dropped (an iterable cannot seek); an input that ends before `from` is a {@link SourcePositionError}.
 */
export class CountedPuller<T> implements Puller<SourceItem<T, number>> {
  /** Items read so far, skipped ones included: the next item's index. */
  private index = 0;

  constructor(
    private readonly caller: string,
    private readonly inner: Puller<T>,
    /** The position to open at: how many items to skip. */
    private readonly from: number,
    private readonly timestampOf: ((value: T, index: number) => number) | undefined,
  ) {}

  next(): PullResult<SourceItem<T, number>> | PromiseLike<PullResult<SourceItem<T, number>>> {
    while (this.index < this.from) {
      const result = this.inner.next();
      if (isPromiseLike(result)) return this.skipRest(result);
      this.skip(result);
    }
    const result = this.inner.next();
    return isPromiseLike(result) ? result.then((settled) => this.item(settled)) : this.item(result);
  }

  /**
   * The rest of the skipping, once the input answers with promises: one flat loop, so skipping n items of an
   * async input holds one promise at a time, not a chain of n.
   */
  private async skipRest(first: PromiseLike<PullResult<T>>): Promise<PullResult<SourceItem<T, number>>> {
    this.skip(await first);
    while (this.index < this.from) {
      const result = this.inner.next();
      this.skip(isPromiseLike(result) ? await result : result);
    }
    const result = this.inner.next();
    return this.item(isPromiseLike(result) ? await result : result);
  }

  /** One item before the position, dropped; the end there is a SourcePositionError. */
  private skip(result: PullResult<T>): void {
    if (result.done === true) {
      throw new SourcePositionError(this.from,
        `${this.caller}: cannot open at position ${this.from}: the input ends after ${this.index} items (it changed since the checkpoint was taken)`);
    }
    this.index++;
  }

  private item(result: PullResult<T>): PullResult<SourceItem<T, number>> {
    if (result.done === true) return DONE;
    const value = result.value;
    const index = this.index++;
    const timestampOf = this.timestampOf;
    return { done: false, value: timestampOf === undefined ? { value, position: index + 1 } : { value, position: index + 1, timestamp: timestampOf(value, index) } };
  }

  close(): void {
    this.inner.close();
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}
