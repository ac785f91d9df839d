import { type Observable } from 'rxjs';
import {
  resolveAsyncWaitOptions, type AsyncWaitOptions, type AsyncWaitValuesOptions, type ResolvedAsyncWaitOptions,
} from '../asyncWait/options.js';
import { expectFunction, expectInteger, expectNumber, optionError } from '../shared/validate.js';
import { type BatchEntry } from './batchEntries.js';
import { MutableAsyncBatchMetrics, type AsyncBatchMetrics } from './asyncBatchMetrics.js';

/**
 * What a batch function receives beside the values.
 *
 * ## Example
 * ```ts
 * import { type BatchCallContext } from 'rxjs-sluice';
 * const describeBatch = (values: string[], { attempt, timestamps }: BatchCallContext) =>
 *   `${values.length} keys, attempt ${attempt}, oldest event at ${Math.min(...timestamps.map((t) => t ?? Infinity))}`;
 * ```
 */
export interface BatchCallContext {
  /**
   * Aborted when the batch call is abandoned: every record in it timed out, the output errored, or the
   * subscriber unsubscribed. Not aborted when the call completes. Created on first read.
   */
  readonly signal: AbortSignal;
  /**
   * The highest attempt number among the batch's records: 1 when every record is on its first call. Records
   * retried alone rejoin the batching path, so one batch may mix first calls and retries: see `attempts`.
   */
  readonly attempt: number;
  /** Each record's attempt number (1 for its first call), index-aligned with the values. */
  readonly attempts: readonly number[];
  /** Each record's event timestamp (undefined for a record without one), index-aligned with the values. */
  readonly timestamps: readonly (number | undefined)[];
}

/**
 * What a batch function returns: one array with one entry per input value, index-aligned (DataLoader's
 * contract), either directly or through a Promise or an Observable that emits exactly that one array. See
 * {@link BatchEntry} for what an entry may hold.
 *
 * ## Example
 * ```ts
 * import { type BatchResult } from 'rxjs-sluice';
 * const direct: BatchResult<number> = [2, 4, 6];
 * const later: BatchResult<number> = Promise.resolve([2, 4, new Error('no price')]);
 * ```
 */
export type BatchResult<O> = readonly BatchEntry<O>[] | PromiseLike<readonly BatchEntry<O>[]> | Observable<readonly BatchEntry<O>[]>;

/**
 * The user function of a batching operator: one call per batch of up to `maxBatchSize` values, in input order.
 *
 * ## Example
 * ```ts
 * import { type BatchFunction } from 'rxjs-sluice';
 *
 * declare function getUsers(ids: number[], signal: AbortSignal): Promise<Map<number, string>>;
 * const users: BatchFunction<number, string> = async (ids, { signal }) => {
 *   const found = await getUsers(ids, signal);
 *   return ids.map((id) => found.get(id) ?? new Error(`no user ${id}`)); // one entry per id, in order
 * };
 * ```
 */
export type BatchFunction<I, O> = (values: I[], ctx: BatchCallContext) => BatchResult<O>;

/** The batching options, beside those shared with asyncWait. */
interface BatchingOptions<I> {
  /**
   * The most records in one batch call (Flink AsyncSink's `maxBatchSize`, Kafka's `batch.size` in records,
   * DataLoader's `maxBatchSize`). A batch is flushed as soon as it holds this many. An integer >= 1.
   * @default 100
   */
  readonly maxBatchSize?: number | undefined;
  /**
   * How long a batch may wait for more records, in ms of scheduler time from its first record (Kafka's
   * `linger.ms`, Flink's `batchTimeout`): then it is flushed, full or not, as soon as a call slot is free.
   * `0` flushes what arrived synchronously together (DataLoader's per-tick batching). A finite number >= 0:
   * a batch that could wait forever would hold its records forever.
   * @default 5
   */
  readonly linger?: number | undefined;
  /**
   * The most batch calls running at once (Kafka's `max.in.flight.requests.per.connection`, the design notes'
   * N consumers). Full batches beyond it wait their turn, and new records keep filling the next batch.
   * An integer >= 1.
   * @default 5
   */
  readonly maxInFlightBatches?: number | undefined;
  /**
   * A weight limit per batch (Flink AsyncSink's `maxBatchSizeInBytes`), measured by `weigh`. A batch is
   * flushed when it reaches the limit, or before a record that would take it over; a record heavier than the
   * limit by itself errors the output with `AsyncBatchError` ('weight'). A finite number > 0; requires `weigh`.
   * @default undefined (no weight limit)
   */
  readonly maxBatchWeight?: number | undefined;
  /**
   * A record's weight (its size in bytes, say), called once per call attempt of the record; it must return a
   * finite number >= 0. Requires `maxBatchWeight`.
   * @default undefined
   */
  readonly weigh?: ((value: I) => number) | undefined;
}

/**
 * Options of {@link asyncBatchOrdered} and {@link asyncBatchUnordered}: the batching options, and every option
 * of asyncWait with the same meaning per record (`timeout` is one record's total budget across every batch it is
 * in; `retry` retries only the records that failed; `capacity` counts the records held in every stage: the open
 * batch, batches waiting for a slot, in flight, done and waiting for their turn). Validated when the operator is
 * created.
 *
 * ## Example
 * ```ts
 * import { asyncBatchMetrics, type AsyncBatchOptions } from 'rxjs-sluice';
 *
 * const options: AsyncBatchOptions<string, string> = {
 *   maxBatchSize: 100, linger: 5, maxInFlightBatches: 4, timeout: 2_000,
 *   retry: { maxRetries: 3, delay: { initial: 50, multiplier: 2, max: 1_000 } },
 *   onError: () => [], // a record that fails for good is dropped, and counted in metrics.failed
 *   metrics: asyncBatchMetrics(),
 * };
 * ```
 */
export interface AsyncBatchOptions<I, O> extends Omit<AsyncWaitOptions<I, O>, 'capacity' | 'metrics' | 'onTimeout'>, BatchingOptions<I> {
  /**
   * The most records held at once, in every stage: the open batch, batches waiting for a call slot, batches in
   * flight, results waiting for their turn. More inputs wait in a FIFO queue (`metrics.buffered`). When the open
   * batch alone holds every slot it is flushed at once (it cannot grow): so a capacity below `maxBatchSize` caps
   * the batches too. An integer >= 1.
   * @default maxBatchSize * (maxInFlightBatches + 1): enough to fill every call slot and the next batch
   */
  readonly capacity?: number | undefined;
  /**
   * Results for a record whose time budget ran out. Without it, the output errors with `AsyncTimeoutError`.
   * Requires `timeout`. Its `ctx` is that record's (its own signal, attempt and timestamp).
   * @default undefined (a timeout errors the output)
   */
  readonly onTimeout?: AsyncWaitOptions<I, O>['onTimeout'];
  /**
   * Where to publish live counters, per record and per batch; create one with `asyncBatchMetrics()`.
   * @default undefined (counters are kept privately)
   */
  readonly metrics?: AsyncBatchMetrics | undefined;
}

/**
 * The options of a batching operator fed plain values (`input: 'values'`): see {@link AsyncWaitValuesOptions}.
 *
 * ## Example
 * ```ts
 * import { range } from 'rxjs';
 * import { asyncBatchOrdered, values, type AsyncBatchValuesOptions } from 'rxjs-sluice';
 *
 * const options: AsyncBatchValuesOptions<number, number> = { input: 'values', maxBatchSize: 50 };
 * range(1, 200).pipe(asyncBatchOrdered((xs) => xs.map((x) => 2 * x), options), values()).subscribe();
 * ```
 */
export type AsyncBatchValuesOptions<I, O> = Omit<AsyncBatchOptions<I, O>, 'input'> & {
  /**
   * The source emits plain values.
   * @default none: required, since it is what selects this options type
   */
  readonly input: 'values';
};

/** Options after validation and defaults. */
export interface ResolvedAsyncBatchOptions<I, O> extends ResolvedAsyncWaitOptions<I, O> {
  readonly maxBatchSize: number;
  readonly linger: number;
  readonly maxInFlightBatches: number;
  /** Infinity without a weight limit. */
  readonly maxBatchWeight: number;
  readonly weigh: ((value: I) => number) | undefined;
  /** The user's metrics object, typed for the batch counters; undefined when none was given. */
  readonly batchMetrics: MutableAsyncBatchMetrics | undefined;
}

const BATCH_OPTIONS = ['maxBatchSize', 'linger', 'maxInFlightBatches', 'maxBatchWeight', 'weigh'] as const;

/** Validates every option up front: the batching ones here, the rest as asyncWait does. */
export function resolveAsyncBatchOptions<I, O>(
  operator: string,
  fn: unknown,
  options: AsyncBatchOptions<I, O> | AsyncBatchValuesOptions<I, O> | undefined,
): ResolvedAsyncBatchOptions<I, O> {
  if (typeof fn !== 'function') throw new TypeError(`${operator}: batchFn must be a function, got ${typeof fn}`);
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw optionError(operator, 'options', 'an object', options);
  const { maxBatchSize = 100, linger = 5, maxInFlightBatches = 5, maxBatchWeight, weigh, metrics, ...shared } = options;
  expectInteger(operator, 'maxBatchSize', maxBatchSize, 1);
  expectNumber(operator, 'linger', linger, 0);
  expectInteger(operator, 'maxInFlightBatches', maxInFlightBatches, 1);
  if (maxBatchWeight !== undefined) expectNumber(operator, 'maxBatchWeight', maxBatchWeight, 0, true);
  expectFunction(operator, 'weigh', weigh);
  if (maxBatchWeight !== undefined && weigh === undefined) {
    throw optionError(operator, 'maxBatchWeight', 'accompanied by a "weigh" function (records have no weight without one)', maxBatchWeight);
  }
  if (weigh !== undefined && maxBatchWeight === undefined) {
    throw optionError(operator, 'weigh', 'accompanied by a "maxBatchWeight" (a weight without a limit does nothing)', weigh);
  }
  if (metrics !== undefined && !(metrics instanceof MutableAsyncBatchMetrics)) {
    throw optionError(operator, 'metrics', 'an object created by asyncBatchMetrics()', metrics);
  }
  const capacity = shared.capacity ?? Math.min(maxBatchSize * (maxInFlightBatches + 1), Number.MAX_SAFE_INTEGER);
  // The shared options are checked by asyncWait's own validation, unknown keys included (the batching keys
  // were taken out above, so a misspelt one is still reported, with asyncWait's list of known options).
  // Its calls are batches: at most maxInFlightBatches at once, and a rate limit's burst must hold a whole batch.
  const bounds = { maxInFlight: maxInFlightBatches, tokensPerCall: maxBatchSize, boundName: 'maxInFlightBatches' };
  const base = resolveAsyncWaitOptions<I, O>(operator, fn, { ...shared, capacity, metrics } as AsyncWaitOptions<I, O>, BATCH_OPTIONS, bounds);
  return { ...base, maxBatchSize, linger, maxInFlightBatches, maxBatchWeight: maxBatchWeight ?? Infinity, weigh, batchMetrics: metrics };
}
