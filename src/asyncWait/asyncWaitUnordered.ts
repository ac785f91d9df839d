import { Observable, type OperatorFunction } from 'rxjs';
import { type StreamElement } from '../elements/streamElement.js';
import { statefulOperator } from '../checkpoint/stateful.js';
import { AsyncWaitRun } from './asyncWaitRun.js';
import { resolveAsyncWaitOptions, type AsyncFunction, type AsyncWaitOptions, type AsyncWaitValuesOptions } from './options.js';
import { UnorderedQueue } from './unorderedQueue.js';

/**
 * Calls an async function for every record, at most `capacity` at a time, and emits each record's results as
 * soon as its call completes: Flink's `AsyncDataStream.unorderedWait`.
 *
 * Event time keeps its meaning: a record never crosses a watermark (nor any other element that is not a record
 * or a barrier). Such an element goes out only after every record before it, and nothing after it goes out
 * before it. A watermark with nothing held ahead of it goes out at once; watermarks that wait behind a record
 * with nothing between them go out as one, the highest. Without watermarks, output follows completion order.
 * A checkpoint barrier does not wait: the operator snapshots the inputs it holds and forwards the barrier at
 * once, ahead of them (as in Flink); a restore replays them.
 *
 * Everything else (ObservableInput results, timeouts, retries, fallbacks, errors, teardown) is as in
 * {@link asyncWaitOrdered}. That includes hangs: without a `timeout` (the default), a call that never settles
 * holds its slot and every watermark after it forever, and the output never completes.
 *
 * @param fn - The async call. It receives the record's value and `{ signal, attempt, timestamp }`.
 * @param options - See {@link AsyncWaitOptions}; all are validated here, and a bad one throws a `TypeError`.
 *   With {@link AsyncWaitValuesOptions} (`input: 'values'`) the source emits plain values instead of elements.
 *
 * ## Example
 * ```ts
 * import { map, of, timer } from 'rxjs';
 * import { asyncWaitUnordered, record, watermark } from 'rxjs-sluice';
 *
 * const slowDouble = (x: number) => timer(100 - 10 * x).pipe(map(() => 2 * x)); // later inputs finish first
 * of(record(1, 1), record(2, 2), watermark(2), record(3, 3))
 *   .pipe(asyncWaitUnordered(slowDouble))
 *   .subscribe(console.log); // 4@2, 2@1 (completion order), then W2, then 6@3
 * ```
 */
export function asyncWaitUnordered<I, O>(
  fn: AsyncFunction<I, O>,
  options: AsyncWaitValuesOptions<I, O>,
): OperatorFunction<I, StreamElement<O>>;
export function asyncWaitUnordered<I, O>(
  fn: AsyncFunction<I, O>,
  options?: AsyncWaitOptions<I, O>,
): OperatorFunction<StreamElement<I>, StreamElement<O>>;
export function asyncWaitUnordered<I, O>(
  fn: AsyncFunction<I, O>,
  options?: AsyncWaitOptions<I, O> | AsyncWaitValuesOptions<I, O>,
): OperatorFunction<StreamElement<I>, StreamElement<O>> | OperatorFunction<I, StreamElement<O>> {
  const resolved = resolveAsyncWaitOptions('asyncWaitUnordered', fn, options);
  return statefulOperator('asyncWaitUnordered', resolved.id, (checkpoint) => (source: Observable<StreamElement<I>>) =>
    new Observable<StreamElement<O>>((subscriber) => {
      new AsyncWaitRun<I, O>('asyncWaitUnordered', subscriber, fn, resolved, new UnorderedQueue<I, O>(), checkpoint).start(source);
    }));
}
