/**
 * Something an async operator survives but you should know about, reported to its `onWarning`:
 * - `'stall'`: a record's call (its retries included) has been pending longer than `stallWarning` ms. Reported
 *   once per record, even without a `timeout`: a call that never settles shows up here instead of hanging
 *   silently. `age` is how long it had been pending;
 * - `'retry-denied'`: the retry budget refused a retry, so the record failed for good (`onError` or
 *   `AsyncCallError`), or kept the result `retryOnResult` had rejected.
 *
 * ## Example
 * ```ts
 * import { type AsyncWarning } from 'rxjs-sluice';
 * const onWarning = (w: AsyncWarning) => console.warn(`[${w.kind}] ${w.message}`, w.input);
 * ```
 */
export interface AsyncWarning {
  /** What happened. */
  readonly kind: 'stall' | 'retry-denied';
  /** The input value of the record concerned. */
  readonly input: unknown;
  /** A one-line description. */
  readonly message: string;
  /** 'stall': ms the record's call had been pending when reported; 'retry-denied': undefined. */
  readonly age: number | undefined;
  /** 'retry-denied': the failure the retry was for (undefined for a rejected result); 'stall': undefined. */
  readonly error: unknown;
}
