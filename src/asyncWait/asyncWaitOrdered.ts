import { Observable, type OperatorFunction } from 'rxjs';
import { type StreamElement } from '../elements/streamElement.js';
import { statefulOperator } from '../checkpoint/stateful.js';
import { AsyncWaitRun } from './asyncWaitRun.js';
import { resolveAsyncWaitOptions, type AsyncFunction, type AsyncWaitOptions, type AsyncWaitValuesOptions } from './options.js';
import { OrderedQueue } from './orderedQueue.js';

/**
 * Calls an async function for every record, at most `capacity` at a time, and emits the results in input
 * order: Flink's `AsyncDataStream.orderedWait`. Watermarks (and any other element that is not a record or a
 * barrier) keep their places among the records; watermarks that wait behind a record with nothing between
 * them go out as one, the highest, and a side output takes a capacity slot. A checkpoint barrier does not
 * wait: the operator snapshots the inputs it holds and forwards the barrier at once, ahead of them (as in
 * Flink); a restore replays them.
 *
 * `fn(value, ctx)` returns any `ObservableInput` (Observable, Promise, array, iterable…). Every value it emits
 * before completing becomes one output record with the input's timestamp, so one input yields 0..n outputs.
 * The results of one input are released together, when its call completes and all earlier inputs are out.
 * Unlike `mergeMap(fn, n)` the queues are O(1) per element, so a flood of a million records stays linear.
 *
 * Errors: a failed call (after retries) errors the output with `AsyncCallError` unless `onError` supplies
 * results; a timeout errors it with `AsyncTimeoutError` unless `onTimeout` does. An upstream error is passed
 * on at once, and unsubscribing aborts every `ctx.signal`, cancels every timer and starts no further call.
 *
 * Hangs: there is no timeout by default, and a call that never settles then holds its record forever. Every
 * later result waits behind it, the output never completes, and in Node the process exits (with code 0) once
 * nothing else is scheduled, with the records behind the call never processed. Set `timeout` wherever a call
 * can hang; `metrics.oldestInFlightAge` shows how long the oldest call has been running.
 *
 * @param fn - The async call. It receives the record's value and `{ signal, attempt, timestamp }`.
 * @param options - See {@link AsyncWaitOptions}; all are validated here, and a bad one throws a `TypeError`.
 *   With {@link AsyncWaitValuesOptions} (`input: 'values'`) the source emits plain values instead of elements.
 *
 * ## Example
 * ```ts
 * import { from } from 'rxjs';
 * import { asyncWaitOrdered, toRecords, values } from 'rxjs-sluice';
 *
 * const lookUp = async (id: number, signal: AbortSignal) => ({ id, name: `user-${id}` }); // e.g. a fetch
 *
 * from([1, 2, 3]).pipe(
 *   toRecords(),
 *   asyncWaitOrdered((id, { signal }) => lookUp(id, signal), { capacity: 10, timeout: 1_000 }),
 *   values(),
 * ).subscribe(console.log); // user-1, user-2, user-3: always in input order
 * ```
 */
export function asyncWaitOrdered<I, O>(
  fn: AsyncFunction<I, O>,
  options: AsyncWaitValuesOptions<I, O>,
): OperatorFunction<I, StreamElement<O>>;
export function asyncWaitOrdered<I, O>(
  fn: AsyncFunction<I, O>,
  options?: AsyncWaitOptions<I, O>,
): OperatorFunction<StreamElement<I>, StreamElement<O>>;
export function asyncWaitOrdered<I, O>(
  fn: AsyncFunction<I, O>,
  options?: AsyncWaitOptions<I, O> | AsyncWaitValuesOptions<I, O>,
): OperatorFunction<StreamElement<I>, StreamElement<O>> | OperatorFunction<I, StreamElement<O>> {
  const resolved = resolveAsyncWaitOptions('asyncWaitOrdered', fn, options);
  return statefulOperator('asyncWaitOrdered', resolved.id, (checkpoint) => (source: Observable<StreamElement<I>>) =>
    new Observable<StreamElement<O>>((subscriber) => {
      new AsyncWaitRun<I, O>('asyncWaitOrdered', subscriber, fn, resolved, new OrderedQueue<I, O>(), checkpoint).start(source);
    }));
}
