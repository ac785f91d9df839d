import { asyncScheduler, Observable, type ObservableInput, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { type StreamElement, type StreamRecord } from '../elements/streamElement.js';
import { describe } from '../shared/describe.js';
import { CheckpointRun } from './checkpointRun.js';
import { type ResolvedCheckpointableOptions } from './resolvedOptions.js';
import { statefulDescriptorOf, type StatefulDescriptor } from './stateful.js';
import {
  expectFunction, expectInteger, expectNumber, expectObject, expectScheduler, optionError, rejectUnknownOptions,
} from '../shared/validate.js';
import { MutableCheckpointMetrics, type CheckpointMetrics } from './checkpointMetrics.js';
import { jsonCodec, type CheckpointCodec } from './codec.js';
import { type CheckpointedOutput, type CheckpointSink } from './sink.js';
import { type ReplayableSource } from './source.js';
import { MemoryCheckpointStore, type CheckpointStore } from './store.js';
import { type CheckpointWarning } from './warning.js';

/**
 * When to take a checkpoint. Give either or both. `records` counts source records since the last barrier;
 * `interval` ticks on a fixed grid from subscription until the pipeline completes, and a tick injects a barrier
 * only if a record arrived, or outputs are waiting for a checkpoint, since the last barrier (whichever trigger
 * injected it). After the source has completed, a tick hands its barrier to the stateful operator still
 * draining (an asyncWait flushing its calls, a keyedTimers waiting for its timers), so a long tail is
 * checkpointed, and released, as it goes.
 *
 * ## Example
 * ```ts
 * import { type CheckpointTrigger } from 'rxjs-sluice';
 * const trigger: CheckpointTrigger = { records: 10_000, interval: 5_000 }; // every 10k records or 5 s
 * ```
 */
export interface CheckpointTrigger {
  /**
   * Inject a barrier after every this many source records.
   * @default undefined (no record trigger; then `interval` is required)
   */
  readonly records?: number | undefined;
  /**
   * Inject a barrier every this many ms of scheduler time (Flink's checkpoint interval), if a record arrived or
   * outputs are waiting since the last barrier: an idle pipeline writes no new checkpoints. Any length is
   * honoured: beyond 2^31 − 1 ms (about 24.8 days, setInterval's limit) the tick re-arms until it is due.
   * @default undefined (no interval trigger; then `records` is required)
   */
  readonly interval?: number | undefined;
}

/**
 * Options of {@link checkpointable}.
 *
 * ## Example
 * ```ts
 * import { arraySource, MemoryCheckpointStore, type CheckpointableOptions } from 'rxjs-sluice';
 * const options: CheckpointableOptions<number, number> = {
 *   source: arraySource([1, 2, 3]),
 *   store: new MemoryCheckpointStore(),
 *   every: { records: 1_000 },
 *   delivery: 'exactly-once',
 * };
 * ```
 */
export interface CheckpointableOptions<T, P, S = unknown> {
  /** Where records come from; it is reopened at the restored checkpoint's position. */
  readonly source: ReplayableSource<T, P>;
  /** When to checkpoint. At least one of `records` and `interval` is required. */
  readonly every: CheckpointTrigger;
  /**
   * Where checkpoints go, and where the newest valid one is restored from on every subscription.
   * @default a MemoryCheckpointStore created with the pipeline (so a resubscription restores)
   */
  readonly store?: CheckpointStore | undefined;
  /**
   * `'exactly-once'`: outputs of epoch n are emitted (and committed to `sink`) only once checkpoint n is
   * durable, and the outputs a checkpoint commits are stored in it and emitted again on restore, with the
   * same stamps. `'at-least-once'`: each run first writes a start checkpoint, then emits outputs at once; after
   * a crash, those since the last checkpoint come again, with new stamps (see {@link CheckpointedOutput}).
   * @default 'exactly-once' (Flink's default checkpointing mode)
   */
  readonly delivery?: 'exactly-once' | 'at-least-once' | undefined;
  /**
   * A transactional sink that commits together with the checkpoints (see {@link CheckpointSink}). Its element
   * type `S` is checked against the pipeline's output: `job.pipe(...)` does not compile when the last operator
   * emits records that are not `S` (beyond 8 operators, `pipe` cannot check, so it refuses: nest some with
   * rxjs `pipe()`).
   * @default undefined
   */
  readonly sink?: CheckpointSink<S> | undefined;
  /**
   * How snapshot values become text.
   * @default jsonCodec (strict JSON)
   */
  readonly codec?: CheckpointCodec | undefined;
  /**
   * The clock for `every.interval` and for checkpoint times. `TestScheduler.run` virtualises the default.
   * @default asyncScheduler
   */
  readonly scheduler?: SchedulerLike | undefined;
  /**
   * Told about every damaged checkpoint skipped on start and every failed checkpoint. What it throws is
   * ignored: a warning hook must not take the pipeline down.
   * @default undefined (metrics still count them)
   */
  readonly onWarning?: ((warning: CheckpointWarning) => void) | undefined;
  /**
   * A `checkpointMetrics()` object to count into.
   * @default undefined
   */
  readonly metrics?: CheckpointMetrics | undefined;
  /**
   * A notifier (an Observable, a Promise, anything `from()` takes): when it first emits, the run stops with a
   * final checkpoint, as Flink's stop-with-savepoint does (without `--drain`). The source stops reading, a
   * barrier follows the last record read, and once that checkpoint is durable (its outputs committed and
   * emitted) the operators are unsubscribed, the store and sink closed, and the output completes. The input
   * does not end: no end-of-input timers fire and nothing is flushed, so the next run resumes from that
   * checkpoint as if never stopped (under `'at-least-once'`, outputs emitted after the barrier come again). The
   * notifier is subscribed before the restore loads, and only its first value counts. A stop after the source has ended lets the pipeline drain as usual. If the
   * stop checkpoint fails, the output errors with the failure (the previous checkpoint still stands); an error
   * from the notifier errors the output, as with `takeUntil`.
   * @default undefined (the run ends when its source ends)
   */
  readonly stop?: ObservableInput<unknown> | undefined;
}

/**
 * The record values of a stream-element type: what a pipeline ending in `E` outputs.
 *
 * ## Example
 * ```ts
 * import { type RecordValueOf, type StreamElement } from 'rxjs-sluice';
 * const value: RecordValueOf<StreamElement<string>> = 'only the record payload type: string';
 * ```
 */
export type RecordValueOf<E> = E extends StreamRecord<infer V> ? V : never;

/**
 * A checkpointable pipeline before its operators are given: call `pipe(...)` with them, as with an Observable.
 * Every stateful operator must be one of `pipe`'s own arguments and carry a distinct `id`; `pipe` checks the ids
 * and throws a `TypeError` otherwise. One hidden inside a composed operator, which `pipe` cannot see, makes the
 * output error with a `CheckpointBindingError` as it is subscribed (see docs/checkpoints.md).
 *
 * `S` is the element type of the job's sink (`unknown` without one): the last operator must emit
 * `StreamElement<S>` (records whose values are `S`, or watermarks, barriers and side outputs), or `pipe` does
 * not compile. Up to 8 operators are typed one by one; more are accepted only without a typed sink.
 *
 * ## Example
 * ```ts
 * import { arraySource, asyncWaitOrdered, checkpointable, type CheckpointableJob } from 'rxjs-sluice';
 * const job: CheckpointableJob<number> = checkpointable({ source: arraySource([1, 2]), every: { records: 1 } });
 * job.pipe(asyncWaitOrdered(async (x: number) => x * 2, { id: 'double' })).subscribe(console.log);
 * ```
 */
export interface CheckpointableJob<T, S = unknown> {
  pipe(...noOperators: [T] extends [S] ? [] : [never]): Observable<CheckpointedOutput<T>>;
  pipe<A extends StreamElement<S>>(op1: OperatorFunction<StreamElement<T>, A>): Observable<CheckpointedOutput<RecordValueOf<A>>>;
  pipe<A, B extends StreamElement<S>>(op1: OperatorFunction<StreamElement<T>, A>, op2: OperatorFunction<A, B>): Observable<CheckpointedOutput<RecordValueOf<B>>>;
  pipe<A, B, C extends StreamElement<S>>(
    op1: OperatorFunction<StreamElement<T>, A>, op2: OperatorFunction<A, B>, op3: OperatorFunction<B, C>,
  ): Observable<CheckpointedOutput<RecordValueOf<C>>>;
  pipe<A, B, C, D extends StreamElement<S>>(
    op1: OperatorFunction<StreamElement<T>, A>, op2: OperatorFunction<A, B>, op3: OperatorFunction<B, C>, op4: OperatorFunction<C, D>,
  ): Observable<CheckpointedOutput<RecordValueOf<D>>>;
  pipe<A, B, C, D, E extends StreamElement<S>>(
    op1: OperatorFunction<StreamElement<T>, A>, op2: OperatorFunction<A, B>, op3: OperatorFunction<B, C>, op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>,
  ): Observable<CheckpointedOutput<RecordValueOf<E>>>;
  pipe<A, B, C, D, E, F extends StreamElement<S>>(
    op1: OperatorFunction<StreamElement<T>, A>, op2: OperatorFunction<A, B>, op3: OperatorFunction<B, C>, op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>, op6: OperatorFunction<E, F>,
  ): Observable<CheckpointedOutput<RecordValueOf<F>>>;
  pipe<A, B, C, D, E, F, G extends StreamElement<S>>(
    op1: OperatorFunction<StreamElement<T>, A>, op2: OperatorFunction<A, B>, op3: OperatorFunction<B, C>, op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>, op6: OperatorFunction<E, F>, op7: OperatorFunction<F, G>,
  ): Observable<CheckpointedOutput<RecordValueOf<G>>>;
  pipe<A, B, C, D, E, F, G, H extends StreamElement<S>>(
    op1: OperatorFunction<StreamElement<T>, A>, op2: OperatorFunction<A, B>, op3: OperatorFunction<B, C>, op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>, op6: OperatorFunction<E, F>, op7: OperatorFunction<F, G>, op8: OperatorFunction<G, H>,
  ): Observable<CheckpointedOutput<RecordValueOf<H>>>;
  /** Nine operators or more: not typed one by one, so only without a typed sink (`S` unknown). */
  pipe(
    op1: OperatorFunction<StreamElement<T>, unknown>, op2: OperatorFunction<never, unknown>, op3: OperatorFunction<never, unknown>,
    op4: OperatorFunction<never, unknown>, op5: OperatorFunction<never, unknown>, op6: OperatorFunction<never, unknown>,
    op7: OperatorFunction<never, unknown>, op8: OperatorFunction<never, unknown>,
    op9: unknown extends S ? OperatorFunction<never, unknown> : never, ...more: OperatorFunction<never, unknown>[]
  ): Observable<CheckpointedOutput<unknown>>;
}

const NAME = 'checkpointable';
const KNOWN_OPTIONS = ['source', 'every', 'store', 'delivery', 'sink', 'codec', 'scheduler', 'onWarning', 'metrics', 'stop'] as const;

/**
 * Runs a pipeline of sluice operators over a replayable source with Flink's checkpointing: aligned barriers
 * injected in line with the records every N records and/or T ms, a snapshot of every stateful operator as
 * the barrier passes it, and a checkpoint (source position + snapshots + format version + checksum) saved to
 * the store when the barrier reaches the end. Each subscription first restores from the newest valid
 * checkpoint: operators get their state back, in-flight async inputs are replayed, and the source reopens
 * at the stored position. With `'exactly-once'` (the default) an output is emitted only once the checkpoint
 * that covers it is durable. See docs/checkpoints.md.
 *
 * @param options - See {@link CheckpointableOptions}; validated here, and a bad one throws a `TypeError`.
 *
 * ## Example
 * ```ts
 * import { arraySource, asyncWaitOrdered, checkpointable, keyedTimers, MemoryCheckpointStore } from 'rxjs-sluice';
 *
 * const store = new MemoryCheckpointStore();
 * const job = checkpointable({ source: arraySource([3, 1, 4, 1, 5]), store, every: { records: 2 } });
 * job.pipe(
 *   asyncWaitOrdered(async (x: number) => x * 10, { id: 'times-ten', capacity: 4 }),
 *   keyedTimers(
 *     { key: () => 'all', initialState: () => 0, processElement: (x, ctx) => { ctx.state.update(ctx.state.value() + x); return [`sum ${ctx.state.value()}`]; } },
 *     { id: 'running-sum' },
 *   ),
 * ).subscribe(({ checkpointId, sequence, element }) => console.log(checkpointId, sequence, element));
 * // Subscribe again after a crash: it resumes from the newest checkpoint in `store`.
 * ```
 */
export function checkpointable<T, P, S = unknown>(options: CheckpointableOptions<T, P, S>): CheckpointableJob<T, S> {
  const resolved = resolveOptions(options);
  const job = {
    pipe: (...operators: unknown[]) => {
      const descriptors = checkOperators(operators);
      return new Observable<CheckpointedOutput<unknown>>((subscriber) => {
        new CheckpointRun(subscriber, resolved, operators as OperatorFunction<unknown, unknown>[], descriptors).start();
      });
    },
  };
  return job as unknown as CheckpointableJob<T, S>;
}

function resolveOptions<T, P, S>(options: CheckpointableOptions<T, P, S>): ResolvedCheckpointableOptions {
  expectObject(NAME, 'options', options);
  rejectUnknownOptions(NAME, options, KNOWN_OPTIONS);
  const {
    source, every, store = new MemoryCheckpointStore(), delivery = 'exactly-once', sink, codec = jsonCodec,
    scheduler = asyncScheduler, onWarning, metrics, stop,
  } = options;
  expectObject(NAME, 'source', source);
  expectFunction(NAME, 'source.open', (source as { open?: unknown }).open, false);
  expectObject(NAME, 'every', every);
  rejectUnknownOptions(`${NAME} every`, every, ['records', 'interval']);
  if (every.records === undefined && every.interval === undefined) {
    throw optionError(NAME, 'every', 'an object with "records" and/or "interval"', every);
  }
  if (every.records !== undefined) expectInteger(NAME, 'every.records', every.records, 1);
  if (every.interval !== undefined) expectNumber(NAME, 'every.interval', every.interval, 0, true);
  expectObject(NAME, 'store', store);
  for (const method of ['write', 'list', 'read'] as const) expectFunction(NAME, `store.${method}`, (store as never)[method], false);
  for (const method of ['open', 'close'] as const) expectFunction(NAME, `store.${method}`, (store as never)[method]);
  if (delivery !== 'exactly-once' && delivery !== 'at-least-once') {
    throw optionError(NAME, 'delivery', `'exactly-once' or 'at-least-once'`, delivery);
  }
  if (sink !== undefined) {
    expectObject(NAME, 'sink', sink);
    for (const method of ['preCommit', 'commit', 'abort', 'recover'] as const) expectFunction(NAME, `sink.${method}`, (sink as never)[method], false);
    for (const method of ['open', 'close'] as const) expectFunction(NAME, `sink.${method}`, (sink as never)[method]);
  }
  expectObject(NAME, 'codec', codec);
  if (typeof codec.name !== 'string' || codec.name.length === 0) throw optionError(NAME, 'codec.name', 'a non-empty string', codec.name);
  expectFunction(NAME, 'codec.encode', codec.encode, false);
  expectFunction(NAME, 'codec.decode', codec.decode, false);
  expectScheduler(NAME, 'scheduler', scheduler);
  expectFunction(NAME, 'onWarning', onWarning);
  if (metrics !== undefined && !(metrics instanceof MutableCheckpointMetrics)) {
    throw optionError(NAME, 'metrics', 'an object made by checkpointMetrics()', metrics);
  }
  if (stop !== undefined && !isObservableInput(stop)) {
    throw optionError(NAME, 'stop', 'an Observable, a Promise or another input from() takes', stop);
  }
  return {
    source: source as ReplayableSource<unknown, unknown>, records: every.records, interval: every.interval, store,
    exactlyOnce: delivery === 'exactly-once', sink: sink as CheckpointSink<unknown> | undefined, codec, scheduler,
    onWarning, metrics, stop,
  };
}

/** The interop key of Observables from other libraries, as RxJS reads it. */
const OBSERVABLE: PropertyKey = (Symbol as { observable?: symbol }).observable ?? '@@observable';

/** What `from()` takes: an Observable (or interop), a Promise-like, an (async) iterable, a ReadableStream. */
function isObservableInput(value: unknown): value is ObservableInput<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  const candidate = value as Record<PropertyKey, unknown>;
  return typeof candidate['subscribe'] === 'function' || typeof candidate['then'] === 'function'
    || typeof candidate[Symbol.iterator] === 'function' || typeof candidate[Symbol.asyncIterator] === 'function'
    || typeof candidate['getReader'] === 'function'
    || typeof candidate[OBSERVABLE] === 'function';
}

/** Build-time check (Flink's uid rule): every stateful operator has an id, and no two share one. */
function checkOperators(operators: unknown[]): StatefulDescriptor[] {
  const descriptors: StatefulDescriptor[] = [];
  /** Where each id was first seen: pipe() argument number and kind. */
  const seen = new Map<string, { position: number; kind: string }>();
  operators.forEach((operator, index) => {
    const position = index + 1;
    if (typeof operator !== 'function') {
      throw new TypeError(`${NAME}: pipe() argument ${position} must be an operator function, got ${describe(operator)}`);
    }
    const descriptor = statefulDescriptorOf(operator);
    if (descriptor === undefined) return;
    const { id, kind } = descriptor;
    if (id === undefined) {
      throw new TypeError(
        `${NAME}: the ${kind} at pipe() argument ${position} has no "id"; every stateful operator in a checkpointable pipeline needs a distinct id (Flink's uid), so that its state can be found again on restore`,
      );
    }
    const first = seen.get(id);
    if (first !== undefined) {
      throw new TypeError(
        `${NAME}: id ${describe(id)} is used by the ${first.kind} at pipe() argument ${first.position} and by the ${kind} at argument ${position}; ids must be distinct`,
      );
    }
    seen.set(id, { position, kind });
    descriptors.push(descriptor);
  });
  return descriptors;
}
