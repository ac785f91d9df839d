import { filter, type OperatorFunction } from 'rxjs';
import { type CheckpointBarrier, type StreamElement, type StreamRecord, type Watermark } from './streamElement.js';

/**
 * Keeps the main output of a {@link keyedTimers} result and drops every side-output record: the stream that
 * Flink's `process(...)` returns. Records, watermarks and barriers pass through unchanged, and the output type
 * says so: it has no side-output case left.
 *
 * ## Example
 * ```ts
 * import { keyedTimers, mainOutput, outputTag, values, type StreamElement } from 'rxjs-sluice';
 *
 * declare const readings$: import('rxjs').Observable<StreamElement<number>>;
 * const negatives = outputTag<number>('negatives');
 * readings$.pipe(
 *   keyedTimers({ key: () => 'all', processElement: (x, ctx) => (x < 0 ? ctx.output(negatives, x) : [x]) }),
 *   mainOutput(),
 *   values(),
 * ).subscribe(console.log); // only the non-negative readings
 * ```
 */
export function mainOutput<T>(): OperatorFunction<StreamElement<T>, StreamRecord<T> | Watermark | CheckpointBarrier> {
  return filter((element): element is StreamRecord<T> | Watermark | CheckpointBarrier => element.kind !== 'sideOutput');
}
