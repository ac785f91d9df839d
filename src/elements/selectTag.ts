import { filter, map, type OperatorFunction } from 'rxjs';
import { checkOutputTag, type OutputTag } from './outputTag.js';
import {
  recordOf, type CheckpointBarrier, type StreamElement, type StreamRecord, type Watermark,
} from './streamElement.js';

/**
 * Selects one side output of a {@link keyedTimers} result: Flink's `getSideOutput(tag)`. Side-output records
 * of `tag` become ordinary records (value and timestamp kept); watermarks and barriers pass through in place,
 * as Flink sends watermarks to side outputs too; main records and other tags are dropped.
 *
 * @param tag - The tag given to `ctx.output(tag, value)`; tags match by name.
 * @throws TypeError when `tag` is not an output tag.
 *
 * ## Example
 * ```ts
 * import { share } from 'rxjs';
 * import { keyedTimers, mainOutput, outputTag, selectTag, type StreamElement } from 'rxjs-sluice';
 *
 * declare const clicks$: import('rxjs').Observable<StreamElement<{ user: string }>>;
 * const late = outputTag<{ user: string }>('late');
 * const result$ = clicks$.pipe(
 *   keyedTimers({
 *     key: (c) => c.user,
 *     processElement: (c, ctx) => {
 *       const isLate = ctx.timestamp !== undefined && ctx.timestamp <= ctx.timerService.currentWatermark();
 *       if (isLate) ctx.output(late, c);
 *       else return [c];
 *     },
 *   }),
 *   share(),
 * );
 * result$.pipe(mainOutput()).subscribe(console.log);
 * result$.pipe(selectTag(late)).subscribe((r) => console.warn('late', r));
 * ```
 */
export function selectTag<T>(
  tag: OutputTag<T>,
): OperatorFunction<StreamElement<unknown>, StreamRecord<T> | Watermark | CheckpointBarrier> {
  checkOutputTag('selectTag', tag);
  const name = tag.name;
  return (source) =>
    source.pipe(
      filter((element) => (element.kind === 'sideOutput' ? element.tag === name : element.kind !== 'record')),
      map((element) =>
        element.kind === 'sideOutput' ? recordOf(element.value as T, element.timestamp) : (element as Watermark | CheckpointBarrier),
      ),
    );
}
