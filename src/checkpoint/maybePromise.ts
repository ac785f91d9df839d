/**
 * A value now, or later. Stores and sinks may answer synchronously (memory) or asynchronously (files).
 *
 * ## Example
 * ```ts
 * import { type MaybePromise } from 'rxjs-sluice';
 * const now: MaybePromise<number> = 1;
 * const later: MaybePromise<number> = Promise.resolve(1);
 * ```
 */
export type MaybePromise<T> = T | PromiseLike<T>;

/** True for anything with a `then` method. */
export function isThenable<T>(value: MaybePromise<T>): value is PromiseLike<T> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<T>).then === 'function';
}

/**
 * Runs `next` on the value, synchronously when it is already there, so that a synchronous store keeps a whole
 * checkpoint inside one scheduler action (which is what lets `TestScheduler` drive checkpointing). A throw
 * from `step` or from `next`, and a rejection, all reach `onError`: nothing escapes into a promise chain
 * where it would be lost.
 */
export function andThen<T>(step: () => MaybePromise<T>, next: (value: T) => void, onError: (err: unknown) => void): void {
  const proceed = (value: T): void => {
    try {
      next(value);
    } catch (err) {
      onError(err);
    }
  };
  let value: MaybePromise<T>;
  try {
    value = step();
  } catch (err) {
    onError(err);
    return;
  }
  if (!isThenable(value)) {
    proceed(value);
    return;
  }
  try {
    value.then(proceed, onError);
  } catch (err) {
    onError(err); // a thenable whose then() throws
  }
}
