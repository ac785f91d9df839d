/**
 * The error an {@link asyncWaitKeyed} output fails with when its `key` function throws for a record, or returns
 * something that cannot be a key: not a string, a number (NaN excluded), a bigint or a boolean. An object would
 * be compared by identity, which would make every record its own key and silently lose the order; `undefined`
 * is almost always a missing field. The record is not called.
 *
 * ## Example
 * ```ts
 * import { of } from 'rxjs';
 * import { asyncWaitKeyed, AsyncKeyError, toRecords } from 'rxjs-sluice';
 *
 * of({ user: undefined, amount: 5 }).pipe(
 *   toRecords(),
 *   asyncWaitKeyed(async (t) => t.amount, { key: (t) => t.user }),
 * ).subscribe({
 *   error: (e) => {
 *     if (e instanceof AsyncKeyError) console.log(e.input, e.message); // { user: undefined, amount: 5 } asyncWaitKeyed: ...
 *   },
 * });
 * ```
 */
export class AsyncKeyError<I = unknown> extends Error {
  override readonly name = 'AsyncKeyError';
  /** The input value whose key could not be had. */
  readonly input: I;
  /** What `key` threw, or a `TypeError` describing the value it returned. */
  readonly cause: unknown;

  constructor(operator: string, input: I, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`${operator}: option "key" failed for a record: ${reason}`);
    this.input = input;
    this.cause = cause;
  }
}
