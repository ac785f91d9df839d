import { type OperatorFunction } from 'rxjs';
import { type StreamElement } from '../elements/streamElement.js';
import { UnorderedQueue } from '../asyncWait/unorderedQueue.js';
import { batchOperator } from './batchOperator.js';
import { type AsyncBatchOptions, type AsyncBatchValuesOptions, type BatchFunction } from './options.js';

/**
 * {@link asyncBatchOrdered}, with results emitted as their records complete, as asyncWaitUnordered does: never
 * across a watermark (or a side output), so event time stays correct. A batch may span a watermark: its
 * records before the watermark go out first, then the watermark, then its records after it. Records retried
 * alone complete later than their batch-mates, and do not hold them back.
 *
 * @param batchFn - The batch call: `(values, { signal, attempt, attempts, timestamps })`.
 * @param options - See {@link AsyncBatchOptions}; validated here, a bad one throws a `TypeError`.
 *
 * ## Example
 * ```ts
 * import { from } from 'rxjs';
 * import { asyncBatchUnordered, batchFailure, toRecords, values } from 'rxjs-sluice';
 *
 * declare function priceAll(skus: string[]): Promise<Record<string, number>>;
 *
 * from(['sku-1', 'sku-2', 'sku-3']).pipe(
 *   toRecords(),
 *   asyncBatchUnordered(async (skus: string[]) => {
 *     const prices = await priceAll(skus);
 *     return skus.map((sku) => prices[sku] ?? batchFailure(`no price for ${sku}`)); // fails that record only
 *   }, { retry: { maxRetries: 2, delay: 100 }, onError: () => [] }),
 *   values(),
 * ).subscribe(console.log);
 * ```
 */
export function asyncBatchUnordered<I, O>(
  batchFn: BatchFunction<I, O>,
  options: AsyncBatchValuesOptions<I, O>,
): OperatorFunction<I, StreamElement<O>>;
export function asyncBatchUnordered<I, O>(
  batchFn: BatchFunction<I, O>,
  options?: AsyncBatchOptions<I, O>,
): OperatorFunction<StreamElement<I>, StreamElement<O>>;
export function asyncBatchUnordered<I, O>(
  batchFn: BatchFunction<I, O>,
  options?: AsyncBatchOptions<I, O> | AsyncBatchValuesOptions<I, O>,
): OperatorFunction<StreamElement<I>, StreamElement<O>> | OperatorFunction<I, StreamElement<O>> {
  return batchOperator('asyncBatchUnordered', batchFn, options, () => new UnorderedQueue<I, O>());
}
