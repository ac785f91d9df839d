import { asyncScheduler, Observable, type SchedulerLike } from 'rxjs';
import { expectObject, expectScheduler, optionError, rejectUnknownOptions } from '../shared/validate.js';
import { flowSlot } from './flowGate.js';
import { checkPullInput, pullerOf, type PullInput } from './pullers.js';
import { PullLoop, type Puller } from './pullLoop.js';
import { MutableSourceMetrics, type SourceMetrics } from './sourceMetrics.js';

/**
 * Options of {@link pulled}.
 *
 * ## Example
 * ```ts
 * import { asyncScheduler } from 'rxjs';
 * import { sourceMetrics, type PulledOptions } from 'rxjs-sluice';
 * const options: PulledOptions = { metrics: sourceMetrics(), scheduler: asyncScheduler };
 * ```
 */
export interface PulledOptions {
  /**
   * A `sourceMetrics()` object to count into: items read, pauses and back-pressured time.
   * @default undefined
   */
  readonly metrics?: SourceMetrics | undefined;
  /**
   * The clock for the back-pressured time. `TestScheduler.run` virtualises the default.
   * @default asyncScheduler
   */
  readonly scheduler?: SchedulerLike | undefined;
}

const NAME = 'pulled';

/**
 * An Observable that reads `input` only as fast as the sluice operators it feeds drain it: the flow-controlled
 * counterpart of `from()`. Each subscription pulls an item only while no flow-controlled operator downstream
 * (asyncWait*, asyncBatch*) has inputs waiting beyond its capacity, pauses when one has, and resumes the moment
 * it drains; plain operators in between (`map`, `filter`, `mergeMap` with synchronous inners) do not break
 * this. So a pipeline holds about `capacity` records per operator, whatever the input's size.
 *
 * Reads an array, any iterable or async iterable (a Node `Readable` included), or a WHATWG `ReadableStream`.
 * An iterator is closed (`return()`), and a stream's reader cancelled, when the subscription ends early. With
 * no flow-controlled operator downstream it reads as fast as the input answers, like `from()`.
 * See docs/flow-control.md.
 *
 * @param input - What to read; each subscription reads it anew (an iterator is asked for once per subscription).
 * @param options - See {@link PulledOptions}; validated here, and a bad one throws a `TypeError`.
 *
 * ## Example
 * ```ts
 * import { asyncWaitOrdered, pulled } from 'rxjs-sluice';
 *
 * async function* lines() {
 *   for (let i = 0; i < 1_000_000; i++) yield `line ${i}`;
 * }
 * // At most about 100 lines are read ahead of the calls, however many the generator has.
 * pulled(lines()).pipe(asyncWaitOrdered(async (line) => line.length, { capacity: 100, input: 'values' })).subscribe();
 * ```
 */
export function pulled<T>(input: PullInput<T>, options: PulledOptions = {}): Observable<T> {
  expectObject(NAME, 'options', options);
  rejectUnknownOptions(NAME, options, ['metrics', 'scheduler']);
  const { metrics, scheduler = asyncScheduler } = options;
  if (metrics !== undefined && !(metrics instanceof MutableSourceMetrics)) {
    throw optionError(NAME, 'metrics', 'an object made by sourceMetrics()', metrics);
  }
  expectScheduler(NAME, 'scheduler', scheduler);
  checkPullInput(NAME, input); // validates now; an iterator is only asked for (a stream locked) at subscribe
  return pulledObservable(NAME, () => pullerOf(NAME, input), scheduler, (metrics as MutableSourceMetrics | undefined) ?? null);
}

/**
 * The Observable every flow-controlled source returns (internal): each subscription joins the gate of the
 * chain subscribing it (see flowSlot), makes its puller (what `makePuller` throws errors the subscription), and
 * runs the read loop.
 */
export function pulledObservable<T>(
  /** The source's name, for its error messages. */
  caller: string,
  makePuller: () => Puller<T>,
  scheduler: SchedulerLike,
  metrics: MutableSourceMetrics | null,
): Observable<T> {
  return new Observable<T>((subscriber) => {
    const gate = flowSlot().current;
    let puller: Puller<T>;
    try {
      puller = makePuller();
    } catch (err) {
      subscriber.error(err);
      return;
    }
    new PullLoop<T>(caller, subscriber, puller, gate, scheduler, metrics).start();
  });
}
