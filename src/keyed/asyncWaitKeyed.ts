import { Observable, type OperatorFunction } from 'rxjs';
import { type StreamElement } from '../elements/streamElement.js';
import { statefulOperator } from '../checkpoint/stateful.js';
import { AsyncWaitRun } from '../asyncWait/asyncWaitRun.js';
import { type AsyncFunction } from '../asyncWait/options.js';
import { OrderedQueue } from '../asyncWait/orderedQueue.js';
import { UnorderedQueue } from '../asyncWait/unorderedQueue.js';
import { KeyTable } from './keyTable.js';
import { resolveKeyedOptions, type AsyncWaitKeyedOptions, type AsyncWaitKeyedValuesOptions } from './options.js';

/**
 * Calls an async function for every record, keeping order per key: the records of one key are called one at a
 * time (or `perKeyConcurrency` at a time) in their input order, and their results leave in that order, while
 * the records of other keys run concurrently, at most `capacity` held in all. Akka's `mapAsyncPartitioned`,
 * with Flink's watermarks and everything asyncWait has.
 *
 * - `order: 'key'` (the default): one key's results leave in its input order; different keys' results leave as
 *   they complete. Nothing crosses a watermark (or a side output), as in {@link asyncWaitUnordered}.
 * - `order: 'input'`: every result leaves in global input order, as in {@link asyncWaitOrdered}.
 *
 * `capacity` bounds every record held: those waiting for their key's turn, those in flight and those done and
 * waiting to be emitted. A record of a busy key takes its slot and waits in its key's queue; it never stops
 * the records behind it: a record of a free key starts on admission. Its `timeout` starts with its turn. With a
 * call gate (`concurrency.adaptive`, `rateLimit`), a record joins the gate's queue when its turn comes, and the
 * call slots go to that queue in order (retries first): each key has at most `perKeyConcurrency` records in it,
 * so a hot key gets a slot per turn, as every other key does, and cannot crowd the others out. A record keeps its
 * key's turn until it has its final results (retries and fallbacks included), as Akka frees a partition at
 * completion, not at emission.
 *
 * Timeouts, retries, fallbacks, `AbortSignal`s, metrics (`waitingForKey` counts the records waiting for their
 * turn), the `scheduler`, flow control and checkpoints (with an `id`: the held inputs, waiting ones included,
 * replayed in input order on restore) are as in {@link asyncWaitOrdered}. A key's entry is dropped as soon as
 * the key holds nothing, so a stream of a million distinct keys holds memory for at most `capacity` of them.
 *
 * @param fn - The async call. It receives the record's value and `{ signal, attempt, timestamp }`.
 * @param options - See {@link AsyncWaitKeyedOptions}; `key` is required. All are validated here, and a bad one
 *   throws a `TypeError`. With {@link AsyncWaitKeyedValuesOptions} (`input: 'values'`) the source emits plain values.
 *
 * ## Example
 * ```ts
 * import { from } from 'rxjs';
 * import { asyncWaitKeyed, toRecords, values } from 'rxjs-sluice';
 *
 * interface Payment { account: string; cents: number }
 * const charge = async (p: Payment, signal: AbortSignal) => `${p.account} charged ${p.cents}`; // e.g. a fetch
 *
 * from<Payment[]>([{ account: 'a', cents: 5 }, { account: 'b', cents: 7 }, { account: 'a', cents: 3 }]).pipe(
 *   toRecords(),
 *   asyncWaitKeyed((p, { signal }) => charge(p, signal), { key: (p) => p.account, capacity: 100, timeout: 2_000 }),
 *   values(),
 * ).subscribe(console.log); // a's 5 always before a's 3; b's 7 whenever it completes
 * ```
 */
export function asyncWaitKeyed<I, O>(
  fn: AsyncFunction<I, O>,
  options: AsyncWaitKeyedValuesOptions<I, O>,
): OperatorFunction<I, StreamElement<O>>;
export function asyncWaitKeyed<I, O>(
  fn: AsyncFunction<I, O>,
  options: AsyncWaitKeyedOptions<I, O>,
): OperatorFunction<StreamElement<I>, StreamElement<O>>;
export function asyncWaitKeyed<I, O>(
  fn: AsyncFunction<I, O>,
  options: AsyncWaitKeyedOptions<I, O> | AsyncWaitKeyedValuesOptions<I, O>,
): OperatorFunction<StreamElement<I>, StreamElement<O>> | OperatorFunction<I, StreamElement<O>> {
  const resolved = resolveKeyedOptions('asyncWaitKeyed', fn, options);
  const byKey = resolved.order === 'key';
  return statefulOperator('asyncWaitKeyed', resolved.id, (checkpoint) => (source: Observable<StreamElement<I>>) =>
    new Observable<StreamElement<O>>((subscriber) => {
      // One table per subscription: the calls' turns and, in 'key' order, the emission order within a segment.
      const keys = new KeyTable<I, O>('asyncWaitKeyed', resolved.key, resolved.perKeyConcurrency, byKey);
      const queue = byKey ? new UnorderedQueue<I, O>(keys) : new OrderedQueue<I, O>();
      new AsyncWaitRun<I, O>('asyncWaitKeyed', subscriber, fn, resolved, queue, checkpoint, undefined, (host) => keys.attach(host)).start(source);
    }));
}
