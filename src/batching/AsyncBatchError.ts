/**
 * The error a batching operator's output fails with when a batch call breaks the batch contract, or a record
 * cannot be batched at all. `kind` says which:
 *
 * - `'result-length'`: the result array does not have one entry per input value (both lengths are named);
 * - `'result-type'`: the call did not deliver exactly one array (a non-array, no value, or several);
 * - `'weight'`: a record weighs more than `maxBatchWeight` by itself, so no batch can take it (Flink's
 *   AsyncSink refuses such a record too), or `weigh` returned something that is not a finite number >= 0.
 *
 * These are bugs in the batch function or the options, not failures of the service: they are neither retried
 * nor handed to `onError`. Results are never padded or truncated to fit.
 *
 * ## Example
 * ```ts
 * import { from } from 'rxjs';
 * import { asyncBatchOrdered, AsyncBatchError, toRecords } from 'rxjs-sluice';
 *
 * from([1, 2, 3]).pipe(toRecords(), asyncBatchOrdered((xs: number[]) => xs.slice(1))).subscribe({
 *   error: (e) => {
 *     if (e instanceof AsyncBatchError) console.log(e.kind, e.expected, e.received); // 'result-length' 3 2
 *   },
 * });
 * ```
 */
export class AsyncBatchError<I = unknown> extends Error {
  override readonly name = 'AsyncBatchError';
  /** What broke the contract (see above). */
  readonly kind: 'result-length' | 'result-type' | 'weight';
  /** The offending input: the batch's values for a result error, the record's value for a weight error. */
  readonly input: I;
  /** What was received: the call's result (or its emissions), or the weight. */
  readonly cause: unknown;
  /** The entry count the result should have had ('result-length'), or the weight limit ('weight'). */
  readonly expected: number | undefined;
  /** The entry count received ('result-length'), or the record's weight ('weight'). */
  readonly received: number | undefined;

  constructor(
    operator: string, kind: AsyncBatchError['kind'], input: I, cause: unknown, message: string,
    expected?: number, received?: number,
  ) {
    super(`${operator}: ${message}`);
    this.kind = kind;
    this.input = input;
    this.cause = cause;
    this.expected = expected;
    this.received = received;
  }
}
