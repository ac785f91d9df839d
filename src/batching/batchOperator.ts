import { Observable, type OperatorFunction } from 'rxjs';
import { type StreamElement } from '../elements/streamElement.js';
import { statefulOperator } from '../checkpoint/stateful.js';
import { AsyncWaitRun } from '../asyncWait/asyncWaitRun.js';
import { type HeldQueue } from '../asyncWait/emitter.js';
import { Batcher } from './batcher.js';
import { resolveAsyncBatchOptions, type AsyncBatchOptions, type AsyncBatchValuesOptions, type BatchFunction } from './options.js';

/**
 * Builds a batching operator: asyncWait's run (holding, ordering, timeouts, retries, snapshots, teardown) with a
 * Batcher making the calls. The two operators differ only in their held queue, as asyncWait's do.
 */
export function batchOperator<I, O>(
  kind: 'asyncBatchOrdered' | 'asyncBatchUnordered',
  batchFn: BatchFunction<I, O>,
  options: AsyncBatchOptions<I, O> | AsyncBatchValuesOptions<I, O> | undefined,
  newQueue: () => HeldQueue<I, O>,
): OperatorFunction<StreamElement<I>, StreamElement<O>> {
  const resolved = resolveAsyncBatchOptions(kind, batchFn, options);
  return statefulOperator(kind, resolved.id, (checkpoint) => (source: Observable<StreamElement<I>>) =>
    new Observable<StreamElement<O>>((subscriber) => {
      new AsyncWaitRun<I, O>(kind, subscriber, null, resolved, newQueue(), checkpoint, (host) => new Batcher(kind, host, batchFn, resolved))
        .start(source);
    }));
}
