/**
 * The error an async-wait operator's output fails with when an element's total time budget (`timeout`,
 * retries included) runs out and no `onTimeout` fallback is configured. Flink's equivalent is the
 * `TimeoutException("Async function call has timed out.")` thrown by `AsyncFunction.timeout`.
 *
 * ## Example
 * ```ts
 * import { NEVER, of } from 'rxjs';
 * import { asyncWaitOrdered, AsyncTimeoutError, toRecords } from 'rxjs-sluice';
 *
 * of(1).pipe(toRecords(), asyncWaitOrdered(() => NEVER, { timeout: 50 })).subscribe({
 *   error: (e) => {
 *     if (e instanceof AsyncTimeoutError) console.log(e.input, e.timeout, e.attempts); // 1 50 1
 *   },
 * });
 * ```
 */
export class AsyncTimeoutError<I = unknown> extends Error {
  override readonly name = 'AsyncTimeoutError';
  /** The input value whose call timed out. */
  readonly input: I;
  /** The configured timeout, in milliseconds. */
  readonly timeout: number;
  /** How many calls were made for this input, retries included. */
  readonly attempts: number;
  /**
   * The element's most recent call failure, if it had one: the error behind the retry that was waiting or
   * running when time ran out. Undefined when no call had failed (a retry on results does not count).
   */
  readonly cause: unknown;

  constructor(operator: string, input: I, timeout: number, attempts: number, cause?: unknown) {
    super(`${operator}: async call timed out after ${timeout} ms (${attempts} attempt${attempts === 1 ? '' : 's'})`);
    this.input = input;
    this.timeout = timeout;
    this.attempts = attempts;
    this.cause = cause;
  }
}
