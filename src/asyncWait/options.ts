import { checkOperatorId } from '../checkpoint/stateful.js';
import { asyncScheduler, type ObservableInput, type SchedulerLike } from 'rxjs';
import { MutableAsyncWaitMetrics, type AsyncWaitMetrics } from './asyncWaitMetrics.js';
import { resolveConcurrency, type ConcurrencyOptions, type ResolvedAdaptive } from '../limits/adaptiveOptions.js';
import { resolveRateLimit, type RateLimitOptions, type ResolvedRateLimit } from '../limits/tokenBucket.js';
import { resolveRetryBudget, type ResolvedRetryBudget, type RetryBudgetOptions } from '../limits/retryBudget.js';
import { type AsyncWarning } from './asyncWarning.js';
import {
  expectFunction, expectInteger, expectNumber, expectObject, expectScheduler, optionError, rejectUnknownOptions,
} from '../shared/validate.js';

/**
 * What `fn`, and `onTimeout`, receive beside the value.
 *
 * ## Example
 * ```ts
 * import { asyncWaitOrdered, type AsyncCallContext } from 'rxjs-sluice';
 *
 * const fetchPrice = (sku: string, { signal, attempt, timestamp }: AsyncCallContext) =>
 *   fetch(`https://prices.example.com/${sku}?attempt=${attempt}&asOf=${timestamp ?? ''}`, { signal }).then((r) => r.json());
 * const prices = asyncWaitOrdered(fetchPrice, { timeout: 500 });
 * ```
 */
export interface AsyncCallContext {
  /**
   * Aborted when this call is abandoned: its element timed out, the output errored, or the subscriber
   * unsubscribed. It is not aborted when the call completes normally. Created on first read, so a function
   * that never reads it pays nothing for it.
   */
  readonly signal: AbortSignal;
  /** 1 for the first call of an element, 2 for its first retry, and so on. */
  readonly attempt: number;
  /** The input record's event timestamp, when it has one. */
  readonly timestamp?: number;
}

/**
 * The user function of an async-wait operator: one call per input record (plus retries). It may return any
 * `ObservableInput`: every value emitted before completion is one output record. A bare string is refused
 * (RxJS would emit its characters one by one): return `[s]` or `of(s)` for one string result.
 *
 * ## Example
 * ```ts
 * import { from } from 'rxjs';
 * import { asyncWaitUnordered, type AsyncFunction } from 'rxjs-sluice';
 *
 * // Zero, one or many results per input: here, one output record per word.
 * const words: AsyncFunction<string, string> = (line) => from(line.split(' '));
 * const split = asyncWaitUnordered(words);
 * ```
 */
export type AsyncFunction<I, O> = (value: I, ctx: AsyncCallContext) => ObservableInput<O>;

/**
 * Exponential backoff: the first retry waits `initial`, each later one `min(previous * multiplier, max)`.
 *
 * ## Example
 * ```ts
 * import { type ExponentialBackoff } from 'rxjs-sluice';
 * const backoff: ExponentialBackoff = { initial: 100, multiplier: 2, max: 2_000 }; // 100, 200, 400, ... 2000
 * ```
 */
export interface ExponentialBackoff {
  /**
   * Delay before the first retry, in ms (>= 0).
   * @default none: required
   */
  readonly initial: number;
  /**
   * Growth factor per retry (>= 1).
   * @default none: required
   */
  readonly multiplier: number;
  /**
   * Upper bound of any delay, in ms (>= initial).
   * @default none: required
   */
  readonly max: number;
}

/**
 * Why a retry is happening: the call failed, or `retryOnResult` rejected its results.
 *
 * ## Example
 * ```ts
 * import { type RetryReason } from 'rxjs-sluice';
 * // Back off harder after errors than after empty results.
 * const delay = (n: number, reason: RetryReason<string>) => (reason.kind === 'error' ? 500 * n : 50);
 * ```
 */
export type RetryReason<O> =
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'result'; readonly results: readonly O[] };

/**
 * A retry delay: fixed ms, exponential backoff, or a function of the retry number (1 for the first retry).
 *
 * ## Example
 * ```ts
 * import { type RetryDelay } from 'rxjs-sluice';
 * const fixed: RetryDelay<unknown> = 250;
 * const exponential: RetryDelay<unknown> = { initial: 100, multiplier: 2, max: 1_000 };
 * const jittered: RetryDelay<unknown> = (n) => 100 * n + Math.random() * 50;
 * ```
 */
export type RetryDelay<O> = number | ExponentialBackoff | ((retryNumber: number, reason: RetryReason<O>) => number);

/**
 * Retry policy. Backoff state belongs to each element: one element's retries never slow another's.
 *
 * ## Example
 * ```ts
 * import { asyncWaitOrdered, type AsyncRetryOptions } from 'rxjs-sluice';
 *
 * const retry: AsyncRetryOptions<string[]> = {
 *   maxRetries: 3,
 *   delay: { initial: 100, multiplier: 2, max: 1_000 },
 *   retryOnError: (e) => !(e instanceof TypeError),   // bugs are not retried
 *   retryOnResult: (results) => results.length === 0, // Flink's EMPTY_RESULT_PREDICATE
 * };
 * const lookUp = asyncWaitOrdered((id: number) => fetch(`/tags/${id}`).then((r) => r.json() as Promise<string[]>), { retry, timeout: 5_000 });
 * ```
 */
export interface AsyncRetryOptions<O> {
  /**
   * How many retries an element may make after its first call (an integer >= 0).
   * @default none: required
   */
  readonly maxRetries: number;
  /**
   * How long to wait before each retry, in ms of scheduler time. Any length is honoured, even beyond
   * setTimeout's limit of about 24.8 days.
   * @default none: required
   */
  readonly delay: RetryDelay<O>;
  /**
   * Whether a failed call should be retried. `undefined` is the same as leaving it out.
   * @default () => true (every error is retried)
   */
  readonly retryOnError?: ((error: unknown) => boolean) | undefined;
  /**
   * Whether a completed call's results should be retried, e.g. `(r) => r.length === 0`. When retries are
   * exhausted the last results are accepted. `undefined` is the same as leaving it out.
   * @default undefined (results are never retried)
   */
  readonly retryOnResult?: ((results: readonly O[]) => boolean) | undefined;
  /**
   * A retry budget: retries may use at most this fraction of calls over a sliding window (as gRPC's and
   * Finagle's retry budgets do), so a struggling service is not hammered with retries. A retry the budget
   * refuses is not made: the record fails for good (`onError`, or `AsyncCallError`), or with `retryOnResult`
   * keeps the result it has, and each refusal is counted in `metrics.retriesDenied` and reported to `onWarning`
   * (`'retry-denied'`). See docs/protecting-services.md.
   * @default undefined (no budget: every retry the policy allows is made)
   */
  readonly budget?: RetryBudgetOptions | undefined;
}

/**
 * Options of {@link asyncWaitOrdered} and {@link asyncWaitUnordered}. Every field is validated when the
 * operator is created; a bad value throws a `TypeError` naming the option and the value. Every field is
 * optional, and a field set to `undefined` means the same as a field left out (so `{ timeout: config.timeout }`
 * compiles under `exactOptionalPropertyTypes`).
 *
 * ## Example
 * ```ts
 * import { asyncScheduler } from 'rxjs';
 * import { asyncWaitMetrics, type AsyncWaitOptions } from 'rxjs-sluice';
 *
 * const options: AsyncWaitOptions<number, string> = {
 *   capacity: 50,
 *   timeout: 2_000,
 *   onTimeout: (id) => [`user-${id} (cached)`],
 *   retry: { maxRetries: 2, delay: 200 },
 *   onError: (err, id) => [],                    // drop the record, keep the stream going
 *   scheduler: asyncScheduler,
 *   metrics: asyncWaitMetrics(),
 * };
 * ```
 */
export interface AsyncWaitOptions<I, O> {
  /**
   * The most records held at once: calls in flight plus results waiting for their turn. A side output (or an
   * element of a kind sluice does not know) takes a slot too, until it goes out. More inputs wait in a FIFO
   * queue, counted in `metrics.buffered`. Watermarks and barriers take no slot; watermarks that wait with
   * nothing between them coalesce into one.
   * @default 100
   */
  readonly capacity?: number | undefined;
  /**
   * Total time budget of one element in ms, from its first call to its final result, retries included.
   * Time spent queued beyond `capacity` does not count (as in Flink); time an admitted record waits for a call slot
   * (`concurrency.adaptive`) or a token (`rateLimit`) does, so an overloaded service cannot hold a record longer
   * than its budget. Any length is honoured, even beyond
   * setTimeout's limit of about 24.8 days.
   *
   * Without a timeout, a call that never settles holds its record forever: the output never completes, and
   * in Node the process may exit with nothing left to run while records are still queued behind the call.
   * Set one whenever a call can hang, and watch `metrics.oldestInFlightAge`.
   * @default undefined (no timeout)
   */
  readonly timeout?: number | undefined;
  /**
   * Results to use when an element times out. Without it, the output errors with `AsyncTimeoutError`.
   * Requires `timeout`.
   * @default undefined (a timeout errors the output)
   */
  readonly onTimeout?: ((value: I, ctx: AsyncCallContext) => ObservableInput<O>) | undefined;
  /**
   * Retry policy for failed calls and rejected results.
   * @default undefined (no retries)
   */
  readonly retry?: AsyncRetryOptions<O> | undefined;
  /**
   * Fallback results once an element's call has failed for good. Without it, the output errors with
   * `AsyncCallError`.
   * @default undefined (a failure errors the output)
   */
  readonly onError?: ((error: unknown, value: I) => ObservableInput<O>) | undefined;
  /**
   * Clock and timer source for timeouts and retry delays. `TestScheduler.run` virtualises the default.
   * @default asyncScheduler
   */
  readonly scheduler?: SchedulerLike | undefined;
  /**
   * Where to publish live counters; create one with `asyncWaitMetrics()`.
   * @default undefined (counters are kept privately)
   */
  readonly metrics?: AsyncWaitMetrics | undefined;
  /**
   * The operator's identity in checkpoints (Flink's `uid`): required, and distinct, when the operator runs
   * inside a `checkpointable` pipeline. Keep it stable across releases, or state cannot be restored.
   * @default undefined (allowed only outside a checkpointable pipeline)
   */
  readonly id?: string | undefined;
  /**
   * Adaptive concurrency: `{ adaptive: { limiter: 'aimd' | 'gradient', min, max, initial, isOverload } }` limits
   * the calls in flight to what the service sustains, learned from latency, timeouts and overload errors.
   * `capacity` still bounds the records held; the adaptive limit only bounds the calls in flight, and a record
   * admitted beyond it waits for a call slot (its `timeout` runs meanwhile). See docs/protecting-services.md.
   * @default undefined (up to `capacity` calls in flight)
   */
  readonly concurrency?: ConcurrencyOptions | undefined;
  /**
   * A token bucket on the scheduler for a service with a quota: at most `perSecond` calls a second, with bursts
   * of up to `burst`. Every call takes a token, retries included. A call without a token waits (its `timeout`
   * runs meanwhile).
   * @default undefined (no rate limit)
   */
  readonly rateLimit?: RateLimitOptions | undefined;
  /**
   * A record whose call (retries included) has been pending longer than this many ms is reported once, through
   * `onWarning` (`'stall'`, with the input) and `metrics.stalls`, even without a `timeout`: the safety net for a
   * call that never settles.
   * @default undefined (no stall warnings)
   */
  readonly stallWarning?: number | undefined;
  /**
   * Told about stalls and refused retries (see {@link AsyncWarning}). What it throws is ignored: a warning hook
   * must not take the pipeline down.
   * @default undefined (metrics still count them)
   */
  readonly onWarning?: ((warning: AsyncWarning) => void) | undefined;
  /**
   * What the source emits: `StreamElement`s (records, watermarks, barriers), as produced by `toRecords()`,
   * `withWatermarks()` or a `checkpointable` source. For plain values, pass {@link AsyncWaitValuesOptions}
   * (`input: 'values'`) instead.
   * @default 'elements'
   */
  readonly input?: 'elements' | undefined;
}

/**
 * The options of an async-wait operator fed plain values: every option of {@link AsyncWaitOptions}, with
 * `input: 'values'`. Each value is a record without a timestamp, so `toRecords()` is not needed; the output is
 * still a stream of elements. It is also faster under a flood: inputs queued beyond `capacity` are kept as the
 * bare values, and a record is made only when one is admitted. Not allowed inside a `checkpointable` pipeline,
 * whose stream carries barriers. A separate type, so that an `input` whose value is only known at run time
 * (`'values' | 'elements'`) does not compile, rather than being typed as the wrong mode.
 *
 * ## Example
 * ```ts
 * import { range } from 'rxjs';
 * import { asyncWaitUnordered, values, type AsyncWaitValuesOptions } from 'rxjs-sluice';
 *
 * const options: AsyncWaitValuesOptions<number, string> = { input: 'values', capacity: 50, timeout: 1_000 };
 * range(1, 10).pipe(asyncWaitUnordered((id) => Promise.resolve(`user-${id}`), options), values()).subscribe();
 * ```
 */
export type AsyncWaitValuesOptions<I, O> = Omit<AsyncWaitOptions<I, O>, 'input'> & {
  /**
   * The source emits plain values.
   * @default none: required, since it is what selects this options type
   */
  readonly input: 'values';
};

/** Retry policy after validation, with the delay normalised to a function. */
export interface ResolvedRetry<O> {
  readonly budget: ResolvedRetryBudget | null;
  readonly maxRetries: number;
  readonly delayOf: (retryNumber: number, reason: RetryReason<O>) => number;
  readonly retryOnError: ((error: unknown) => boolean) | undefined;
  readonly retryOnResult: ((results: readonly O[]) => boolean) | undefined;
}

/** Options after validation and defaults. */
export interface ResolvedAsyncWaitOptions<I, O> {
  readonly capacity: number;
  /** Infinity when no timeout is set. */
  readonly timeout: number;
  readonly onTimeout: ((value: I, ctx: AsyncCallContext) => ObservableInput<O>) | undefined;
  readonly retry: ResolvedRetry<O> | undefined;
  readonly onError: ((error: unknown, value: I) => ObservableInput<O>) | undefined;
  readonly scheduler: SchedulerLike;
  /** Undefined when the user passed none; each subscription then keeps its own. */
  readonly metrics: MutableAsyncWaitMetrics | undefined;
  readonly id: string | undefined;
  /** True with `input: 'values'`. */
  readonly valuesIn: boolean;
  /** The adaptive concurrency, or null for a fixed limit. */
  readonly concurrency: ResolvedAdaptive | null;
  readonly rateLimit: ResolvedRateLimit | null;
  /** Infinity without stall warnings. */
  readonly stallWarning: number;
  readonly onWarning: ((warning: AsyncWarning) => void) | undefined;
}

/** What bounds the calls an operator's gate governs: per record (asyncWait) or per batch (asyncBatch). */
export interface GateBounds {
  /** The most calls in flight without an adaptive limit, and the default `concurrency.adaptive.max`. */
  readonly maxInFlight: number;
  /** The most tokens one call takes (a rate limit's `burst` must hold them). */
  readonly tokensPerCall: number;
  /** The option that bounds calls in flight, for messages. */
  readonly boundName: string;
}

const KNOWN_OPTIONS = [
  'capacity', 'timeout', 'onTimeout', 'retry', 'onError', 'scheduler', 'metrics', 'id', 'input', 'concurrency', 'rateLimit',
  'stallWarning', 'onWarning',
] as const;
const KNOWN_RETRY_OPTIONS = ['maxRetries', 'delay', 'retryOnError', 'retryOnResult', 'budget'] as const;

/** Validates every option up front, so a mistake throws when the operator is created, not mid-stream. */
export function resolveAsyncWaitOptions<I, O>(
  operator: string,
  fn: unknown,
  options: AsyncWaitOptions<I, O> | AsyncWaitValuesOptions<I, O> | undefined,
  /** Options of an operator built on asyncWait's (batching), named too when an unknown one is reported. */
  alsoKnown: readonly string[] = [],
  /** What its calls are (batching: batches); by default one call per record, up to `capacity` at once. */
  bounds?: GateBounds,
): ResolvedAsyncWaitOptions<I, O> {
  if (typeof fn !== 'function') throw new TypeError(`${operator}: fn must be a function, got ${typeof fn}`);
  if (options === undefined) options = {};
  expectObject(operator, 'options', options);
  rejectUnknownOptions(operator, options, [...KNOWN_OPTIONS, ...alsoKnown]);
  const {
    capacity = 100, timeout, onTimeout, retry, onError, scheduler = asyncScheduler, metrics, id, input = 'elements', concurrency, rateLimit,
    stallWarning, onWarning,
  } = options;

  expectInteger(operator, 'capacity', capacity, 1);
  if (timeout !== undefined) expectNumber(operator, 'timeout', timeout, 0, true);
  expectFunction(operator, 'onTimeout', onTimeout);
  expectFunction(operator, 'onError', onError);
  expectScheduler(operator, 'scheduler', scheduler);
  checkOperatorId(operator, id);
  if (input !== 'elements' && input !== 'values') throw optionError(operator, 'input', "'elements' or 'values'", input);
  if (metrics !== undefined && !(metrics instanceof MutableAsyncWaitMetrics)) {
    throw optionError(operator, 'metrics', 'an object created by asyncWaitMetrics()', metrics);
  }
  if (onTimeout !== undefined && timeout === undefined) {
    throw optionError(operator, 'onTimeout', 'accompanied by a "timeout" (it could never be called)', onTimeout);
  }
  if (stallWarning !== undefined) expectNumber(operator, 'stallWarning', stallWarning, 0, true);
  expectFunction(operator, 'onWarning', onWarning);
  const { maxInFlight, tokensPerCall, boundName } = bounds ?? { maxInFlight: capacity, tokensPerCall: 1, boundName: 'capacity' };

  return {
    capacity,
    timeout: timeout ?? Infinity,
    onTimeout,
    retry: retry === undefined ? undefined : resolveRetry(operator, retry),
    onError,
    scheduler,
    metrics,
    id,
    valuesIn: input === 'values',
    concurrency: resolveConcurrency(operator, concurrency, maxInFlight, boundName),
    rateLimit: resolveRateLimit(operator, rateLimit, tokensPerCall),
    stallWarning: stallWarning ?? Infinity,
    onWarning,
  };
}

function resolveRetry<O>(operator: string, retry: AsyncRetryOptions<O>): ResolvedRetry<O> {
  expectObject(operator, 'retry', retry);
  rejectUnknownOptions(`${operator} retry`, retry, KNOWN_RETRY_OPTIONS);
  const { maxRetries, delay, retryOnError, retryOnResult, budget } = retry;
  expectInteger(operator, 'retry.maxRetries', maxRetries, 0);
  expectFunction(operator, 'retry.retryOnError', retryOnError);
  expectFunction(operator, 'retry.retryOnResult', retryOnResult);
  return { maxRetries, delayOf: resolveDelay(operator, delay), retryOnError, retryOnResult, budget: resolveRetryBudget(operator, budget) };
}

function resolveDelay<O>(operator: string, delay: RetryDelay<O>): (retryNumber: number, reason: RetryReason<O>) => number {
  if (typeof delay === 'function') return delay;
  if (typeof delay === 'number') {
    expectNumber(operator, 'retry.delay', delay, 0);
    return () => delay;
  }
  if (delay === null || typeof delay !== 'object') {
    throw optionError(operator, 'retry.delay', 'a number of ms, { initial, multiplier, max } or a function', delay);
  }
  rejectUnknownOptions(`${operator} retry.delay`, delay, ['initial', 'multiplier', 'max']);
  const { initial, multiplier, max } = delay;
  expectNumber(operator, 'retry.delay.initial', initial, 0);
  expectNumber(operator, 'retry.delay.multiplier', multiplier, 1);
  expectNumber(operator, 'retry.delay.max', max, initial);
  return (retryNumber) => Math.min(initial * Math.pow(multiplier, retryNumber - 1), max);
}
