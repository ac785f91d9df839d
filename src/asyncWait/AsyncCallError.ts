/**
 * The error an async-wait operator's output fails with when an element's call fails, its retries are
 * exhausted (or the error is not retriable), and no `onError` fallback is configured. It also reports a
 * function that returned something that is not an `ObservableInput`: then `cause` is a `TypeError`.
 *
 * ## Example
 * ```ts
 * import { of, throwError } from 'rxjs';
 * import { asyncWaitOrdered, AsyncCallError, toRecords } from 'rxjs-sluice';
 *
 * of(7).pipe(toRecords(), asyncWaitOrdered(() => throwError(() => new Error('db down')))).subscribe({
 *   error: (e) => {
 *     if (e instanceof AsyncCallError) console.log(e.input, (e.cause as Error).message); // 7 'db down'
 *   },
 * });
 * ```
 */
export class AsyncCallError<I = unknown> extends Error {
  override readonly name = 'AsyncCallError';
  /** The input value whose call failed. */
  readonly input: I;
  /** What the last call failed with: the thrown or emitted error. */
  readonly cause: unknown;
  /** How many calls were made for this input, retries included. */
  readonly attempts: number;

  constructor(operator: string, input: I, cause: unknown, attempts: number, detail?: string) {
    const reason = detail ?? (cause instanceof Error ? cause.message : String(cause));
    super(`${operator}: async call failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${reason}`);
    this.input = input;
    this.cause = cause;
    this.attempts = attempts;
  }
}
