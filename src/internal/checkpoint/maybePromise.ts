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
 * from `step` or a rejection both reach `onError`.
 */
export function andThen<T>(step: () => MaybePromise<T>, next: (value: T) => void, onError: (err: unknown) => void): void {
  let value: MaybePromise<T>;
  try {
    value = step();
  } catch (err) {
    onError(err);
    return;
  }
  if (isThenable(value)) value.then(next, onError);
  else next(value);
}
