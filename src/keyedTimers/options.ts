import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { type OutputTag } from '../elements/outputTag.js';
import { MutableKeyedTimersMetrics, type KeyedTimersMetrics } from './keyedTimersMetrics.js';
import { describe } from '../shared/describe.js';
import { checkOperatorId } from '../checkpoint/stateful.js';
import { expectObject, expectScheduler, optionError, rejectUnknownOptions } from '../shared/validate.js';

/**
 * The time domain of a timer: Flink's `TimeDomain.EVENT_TIME` / `PROCESSING_TIME`.
 *
 * ## Example
 * ```ts
 * import { type TimeDomain } from 'rxjs-sluice';
 * const domain: TimeDomain = 'event';
 * ```
 */
export type TimeDomain = 'event' | 'processing';

/**
 * Per-key value state: Flink's `ValueState<S>`. Inside `processElement` it is the record's key's state; inside
 * `onTimer` it is the timer's key's state.
 *
 * ## Example
 * ```ts
 * import { type ValueState } from 'rxjs-sluice';
 * const bump = (count: ValueState<number>) => count.update((count.value() ?? 0) + 1);
 * ```
 */
export interface ValueState<S> {
  /** The current key's value, or undefined when it has none (Flink returns null). */
  value(): S | undefined;
  /** Sets the current key's value. `update(undefined)` is `clear()`, as Flink's `update(null)` is. */
  update(value: S | undefined): void;
  /** Removes the current key's value. */
  clear(): void;
}

/**
 * Time and timers for the current key: Flink's `TimerService`. Timestamps are milliseconds. Timers are
 * identified by (key, domain, timestamp): registering one twice fires it once, and deleting one that does not
 * exist does nothing.
 *
 * ## Example
 * ```ts
 * import { type TimerService } from 'rxjs-sluice';
 * // fire once a minute has passed in event time, rounded to the minute to keep the timer count down
 * const endOfMinute = (timers: TimerService, t: number) => timers.registerEventTimeTimer(t - (t % 60_000) + 60_000);
 * ```
 */
export interface TimerService {
  /** The scheduler's `now()`. */
  currentProcessingTime(): number;
  /** The last watermark that advanced event time; `-Infinity` before the first, `Infinity` once input has completed. */
  currentWatermark(): number;
  /**
   * Registers an event-time timer at a finite `time`: it fires once a watermark reaches `time`, or at end of
   * input (see `eventTimersOnComplete`). `Number.MAX_SAFE_INTEGER` means "at end of input".
   */
  registerEventTimeTimer(time: number): void;
  /**
   * Registers a processing-time timer at a finite `time`: it fires once the scheduler's clock reaches `time`
   * (or at end of input, see `processingTimersOnComplete`). Never inside a callback: on asyncScheduler and
   * TestScheduler even a past time fires asynchronously; a synchronous scheduler such as queueScheduler runs it
   * right after the current callback and its timers.
   */
  registerProcessingTimeTimer(time: number): void;
  /** Deletes an event-time timer of the current key. */
  deleteEventTimeTimer(time: number): void;
  /** Deletes a processing-time timer of the current key. */
  deleteProcessingTimeTimer(time: number): void;
}

/**
 * What `processElement` receives: Flink's `KeyedProcessFunction.Context` plus its `Collector`. It is valid
 * only during the call; using it afterwards throws.
 *
 * ## Example
 * ```ts
 * import { type KeyedContext } from 'rxjs-sluice';
 * const echo = (value: string, ctx: KeyedContext<string, string, number>) => {
 *   ctx.state.update((ctx.state.value() ?? 0) + 1);
 *   ctx.emit(`${ctx.key}:${value}@${ctx.timestamp}`);
 * };
 * ```
 */
export interface KeyedContext<K, O, S> {
  /** The current key. */
  readonly key: K;
  /** The record's timestamp (undefined when it has none); in `onTimer`, the timer's timestamp. */
  readonly timestamp: number | undefined;
  /** Emits a main-output record, with the input's timestamp (in `onTimer`: see {@link OnTimerContext}). */
  emit(value: O): void;
  /** Emits a side-output record on `tag`, with the same timestamp rule as `emit`. */
  output<X>(tag: OutputTag<X>, value: X): void;
  /** The current key's value state. */
  readonly state: ValueState<S>;
  /** Clocks and timers of the current key. */
  readonly timerService: TimerService;
}

/**
 * What `onTimer` receives: Flink's `OnTimerContext`. `emit` stamps outputs with the timer's timestamp for
 * event-time timers and with no timestamp for processing-time timers (Flink's rule).
 *
 * ## Example
 * ```ts
 * import { type OnTimerContext } from 'rxjs-sluice';
 * const onTimer = (t: number, ctx: OnTimerContext<string, string, number>) => {
 *   if (ctx.timeDomain === 'event') ctx.emit(`${ctx.key} window ending ${t}: ${ctx.state.value() ?? 0}`);
 *   ctx.state.clear();
 * };
 * ```
 */
export interface OnTimerContext<K, O, S> extends KeyedContext<K, O, S> {
  /** The timer's timestamp. */
  readonly timestamp: number;
  /** The timer's time domain. */
  readonly timeDomain: TimeDomain;
}

/**
 * The user function of {@link keyedTimers}: Flink's `KeyedProcessFunction<K, I, O>` with one value state of
 * type `S` per key. All three members are synchronous, and `processElement` and `onTimer` never interleave.
 *
 * ## Example
 * ```ts
 * import { type KeyedProcessFunction } from 'rxjs-sluice';
 *
 * // count per user, reported when event time passes the end of each minute
 * const perMinute: KeyedProcessFunction<{ user: string }, string, string, number> = {
 *   key: (click) => click.user,
 *   processElement: (_click, ctx) => {
 *     if (ctx.state.value() === undefined) ctx.timerService.registerEventTimeTimer(ctx.timestamp! - (ctx.timestamp! % 60_000) + 60_000);
 *     ctx.state.update((ctx.state.value() ?? 0) + 1);
 *   },
 *   onTimer: (_t, ctx) => {
 *     ctx.emit(`${ctx.key}: ${ctx.state.value()}`);
 *     ctx.state.clear();
 *   },
 * };
 * ```
 */
export interface KeyedProcessFunction<I, O, K extends string | number = string | number, S = unknown> {
  /** Extracts the key of a record's value: a string, or a finite number (-0 is the key 0). Anything else errors the output with a `KeyedProcessError`. */
  key(value: I): K;
  /** Called once per record, with the record's key as the current key. */
  processElement(value: I, ctx: KeyedContext<K, O, S>): void;
  /** Called once per fired timer, with the timer's key as the current key. Optional: timers may only matter for state. */
  onTimer?(timestamp: number, ctx: OnTimerContext<K, O, S>): void;
}

/**
 * Options of {@link keyedTimers}. Every field is optional.
 *
 * ## Example
 * ```ts
 * import { keyedTimersMetrics, type KeyedTimersOptions } from 'rxjs-sluice';
 * const options: KeyedTimersOptions = { processingTimersOnComplete: 'wait', metrics: keyedTimersMetrics() };
 * ```
 */
export interface KeyedTimersOptions {
  /**
   * Clock and timer source for processing time. `TestScheduler.run` virtualises the default.
   * @default asyncScheduler
   */
  readonly scheduler?: SchedulerLike;
  /**
   * What happens to pending processing-time timers when the input completes: `'drop'` them (Flink's choice;
   * they are counted in `metrics.processingTimersDropped`), `'fire'` them at once in timestamp order (each
   * pending one once; ones registered while they fire are dropped and counted), or `'wait'` for them to fire
   * on time and complete after the last one.
   * @default 'drop'
   */
  readonly processingTimersOnComplete?: 'drop' | 'fire' | 'wait';
  /**
   * What happens to pending event-time timers when the input completes: `'fire'` them as if the watermark
   * were `+Infinity` (Flink's end-of-input `MAX_WATERMARK`), or `'drop'` them (counted in
   * `metrics.eventTimersDropped`).
   * @default 'fire'
   */
  readonly eventTimersOnComplete?: 'fire' | 'drop';
  /**
   * Where to publish live counters; create one with `keyedTimersMetrics()`.
   * @default undefined (counters are kept privately)
   */
  readonly metrics?: KeyedTimersMetrics;
  /**
   * The operator's identity in checkpoints (Flink's `uid`): required, and distinct, when the operator runs
   * inside a `checkpointable` pipeline. Its snapshot holds every key's state, both timer sets and the current
   * watermark; state values must therefore be encodable by the pipeline's codec (plain JSON by default).
   * @default undefined
   */
  readonly id?: string;
}

/** Options after validation and defaults. */
export interface ResolvedKeyedTimersOptions {
  readonly scheduler: SchedulerLike;
  readonly processingTimersOnComplete: 'drop' | 'fire' | 'wait';
  readonly eventTimersOnComplete: 'fire' | 'drop';
  /** Undefined when the user passed none; each subscription then keeps its own. */
  readonly metrics: MutableKeyedTimersMetrics | undefined;
  readonly id: string | undefined;
}

const OPERATOR = 'keyedTimers';
const KNOWN_OPTIONS = ['scheduler', 'processingTimersOnComplete', 'eventTimersOnComplete', 'metrics', 'id'] as const;

/** Validates the function and every option up front, so a mistake throws when the operator is created. */
export function resolveKeyedTimersOptions(fn: unknown, options: KeyedTimersOptions | undefined): ResolvedKeyedTimersOptions {
  if (fn === null || typeof fn !== 'object') {
    throw new TypeError(`${OPERATOR}: fn must be an object with key, processElement and optional onTimer, got ${describe(fn)}`);
  }
  const { key, processElement, onTimer } = fn as Record<string, unknown>;
  if (typeof key !== 'function') throw new TypeError(`${OPERATOR}: fn.key must be a function, got ${describe(key)}`);
  if (typeof processElement !== 'function') {
    throw new TypeError(`${OPERATOR}: fn.processElement must be a function, got ${describe(processElement)}`);
  }
  if (onTimer !== undefined && typeof onTimer !== 'function') {
    throw new TypeError(`${OPERATOR}: fn.onTimer must be a function when given, got ${describe(onTimer)}`);
  }
  if (options === undefined) options = {};
  expectObject(OPERATOR, 'options', options);
  rejectUnknownOptions(OPERATOR, options, KNOWN_OPTIONS);
  const { scheduler = asyncScheduler, processingTimersOnComplete = 'drop', eventTimersOnComplete = 'fire', metrics, id } = options;
  expectScheduler(OPERATOR, 'scheduler', scheduler);
  checkOperatorId(OPERATOR, id);
  if (processingTimersOnComplete !== 'drop' && processingTimersOnComplete !== 'fire' && processingTimersOnComplete !== 'wait') {
    throw optionError(OPERATOR, 'processingTimersOnComplete', "'drop', 'fire' or 'wait'", processingTimersOnComplete);
  }
  if (eventTimersOnComplete !== 'fire' && eventTimersOnComplete !== 'drop') {
    throw optionError(OPERATOR, 'eventTimersOnComplete', "'fire' or 'drop'", eventTimersOnComplete);
  }
  if (metrics !== undefined && !(metrics instanceof MutableKeyedTimersMetrics)) {
    throw optionError(OPERATOR, 'metrics', 'an object created by keyedTimersMetrics()', metrics);
  }
  return { scheduler, processingTimersOnComplete, eventTimersOnComplete, metrics, id };
}
