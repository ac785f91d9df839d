import { type OperatorFunction } from 'rxjs';
import { type StreamElement } from '../elements/streamElement.js';
import { OrderedQueue } from '../asyncWait/orderedQueue.js';
import { batchOperator } from './batchOperator.js';
import { type AsyncBatchOptions, type AsyncBatchValuesOptions, type BatchFunction } from './options.js';

/**
 * Calls an async function once per batch of records, not once per record, and emits each record's results in
 * input order: async I/O in batches of up to `maxBatchSize` records (or `maxBatchWeight`), each sent at most
 * `linger` ms after its first record, with at most `maxInFlightBatches` calls running at once. Everything else
 * is asyncWaitOrdered's, per record: `capacity`, `timeout` (one record's total budget, across every batch it
 * is in), `retry` (only the records that failed go again, into later batches), `onTimeout`, `onError`,
 * watermarks in their places, barriers that overtake, checkpoints with an `id`, and metrics.
 *
 * `batchFn(values, ctx)` gets the batch's values in input order and returns one array with one entry per value,
 * index-aligned (DataLoader's contract), directly or through a Promise or an Observable of that one array. An
 * entry is that record's result; `batchResults([...])` gives it zero or several; an `Error` instance or
 * `batchFailure(e)` fails that record alone. A whole call that fails fails each of its records (each retried on
 * its own). A result of the wrong length, or anything but one array, errors the output with `AsyncBatchError`:
 * results are never padded or truncated.
 *
 * A batch spans watermarks: they wait in their places among the records, as in asyncWaitOrdered, and never
 * split a batch. The input's end sends the open batch at once.
 *
 * @param batchFn - The batch call: `(values, { signal, attempt, attempts, timestamps })`.
 * @param options - See {@link AsyncBatchOptions}; validated here, a bad one throws a `TypeError`. With
 *   {@link AsyncBatchValuesOptions} (`input: 'values'`) the source emits plain values.
 *
 * ## Example
 * ```ts
 * import { from } from 'rxjs';
 * import { asyncBatchOrdered, toRecords, values } from 'rxjs-sluice';
 *
 * declare function mget(keys: string[]): Promise<(string | null)[]>; // one round trip for many keys
 *
 * from(['a', 'b', 'c']).pipe(
 *   toRecords(),
 *   asyncBatchOrdered((keys: string[]) => mget(keys), { maxBatchSize: 100, linger: 5, maxInFlightBatches: 4, timeout: 2_000 }),
 *   values(),
 * ).subscribe(console.log); // the values of a, b, c: always in input order
 * ```
 */
export function asyncBatchOrdered<I, O>(
  batchFn: BatchFunction<I, O>,
  options: AsyncBatchValuesOptions<I, O>,
): OperatorFunction<I, StreamElement<O>>;
export function asyncBatchOrdered<I, O>(
  batchFn: BatchFunction<I, O>,
  options?: AsyncBatchOptions<I, O>,
): OperatorFunction<StreamElement<I>, StreamElement<O>>;
export function asyncBatchOrdered<I, O>(
  batchFn: BatchFunction<I, O>,
  options?: AsyncBatchOptions<I, O> | AsyncBatchValuesOptions<I, O>,
): OperatorFunction<StreamElement<I>, StreamElement<O>> | OperatorFunction<I, StreamElement<O>> {
  return batchOperator('asyncBatchOrdered', batchFn, options, () => new OrderedQueue<I, O>());
}
