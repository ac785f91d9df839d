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
 * `onTimer` it is the timer's key's state. `Absent` is what `value()` returns for a key without a value:
 * `undefined` (Flink's `null`), or `never` when the function has an `initialState`, since every key then has one.
 *
 * ## Example
 * ```ts
 * import { type ValueState } from 'rxjs-sluice';
 * const bump = (count: ValueState<number>) => count.update((count.value() ?? 0) + 1);
 * const bumpSeeded = (count: ValueState<number, never>) => count.update(count.value() + 1); // with initialState: () => 0
 * ```
 */
export interface ValueState<S, Absent = undefined> {
  /**
   * The current key's value. A key without one has `undefined` (Flink returns null); with an `initialState`, it
   * gets a fresh `initialState()`, stored as its value (so changes made to it in place are kept).
   */
  value(): S | Absent;
  /** Sets the current key's value. `update(undefined)` is `clear()`, as Flink's `update(null)` is. */
  update(value: S | undefined): void;
  /** Removes the current key's value (with an `initialState`, the next `value()` starts afresh). */
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
 * only during the call; using it afterwards throws. `Absent` is what `state.value()` returns for a key without
 * a value (see {@link ValueState}); `T` is the type of `timestamp`: `number` under `requireTimestamps: true`.
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
export interface KeyedContext<K, O, S, Absent = undefined, T extends number | undefined = number | undefined> {
  /** The current key. */
  readonly key: K;
  /**
   * The record's timestamp: undefined when it has none, unless `requireTimestamps` is set (then always a
   * number). In `onTimer`, the timer's timestamp.
   */
  readonly timestamp: T;
  /**
   * Emits a main-output record, with the input's timestamp (in `onTimer`: see {@link OnTimerContext}). Returning
   * an array of outputs from the callback does the same. Its parameter is `never` when `keyedTimers` is called
   * without type arguments (TypeScript cannot infer an output type from `emit` calls): return the outputs
   * instead, or give the type arguments.
   */
  emit(value: O): void;
  /** Emits a side-output record on `tag`, with the same timestamp rule as `emit`. */
  output<X>(tag: OutputTag<X>, value: X): void;
  /** The current key's value state. */
  readonly state: ValueState<S, Absent>;
  /** Clocks and timers of the current key. */
  readonly timerService: TimerService;
}

/**
 * What `onTimer` receives: Flink's `OnTimerContext`. `timestamp` is the timer's. `emit` (and returned outputs)
 * stamp outputs with the timer's timestamp for event-time timers and with no timestamp for processing-time
 * timers (Flink's rule).
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
export interface OnTimerContext<K, O, S, Absent = undefined> extends KeyedContext<K, O, S, Absent, number> {
  /** The timer's timestamp. */
  readonly timestamp: number;
  /** The timer's time domain. */
  readonly timeDomain: TimeDomain;
}

/**
 * What `processElement` and `onTimer` may return: an array of outputs, emitted in order once the callback
 * returns, exactly as `ctx.emit` would emit them; or nothing. Returning outputs is what lets `keyedTimers`
 * infer its output type `O` (as `mergeMap` infers it from what its function returns).
 *
 * ## Example
 * ```ts
 * import { type KeyedOutputs } from 'rxjs-sluice';
 * const alerts = (level: number): KeyedOutputs<string> => (level > 9 ? [`level ${level}`] : undefined);
 * ```
 */
export type KeyedOutputs<O> = readonly O[] | undefined | void;

/**
 * The user function of {@link keyedTimers}: Flink's `KeyedProcessFunction<K, I, O>` with one value state of
 * type `S` per key. All its members are synchronous, and `processElement` and `onTimer` never interleave.
 *
 * Written inline in a `keyedTimers({ ... })` call, nothing needs a type annotation: `I` comes from the input
 * stream (or `key`'s parameter), `K` from what `key` returns, `S` from what `initialState` returns, and `O` from
 * the arrays the callbacks return. The other parameters are for that inference: `E` is the type `ctx.emit`
 * accepts (`O` when the type arguments are given), `Absent` what `ctx.state.value()` returns for a key without
 * a value, `T` the type of `ctx.timestamp` in `processElement`.
 *
 * ## Example
 * ```ts
 * import { type KeyedProcessFunction } from 'rxjs-sluice';
 *
 * // count per user, reported when event time passes the end of each minute (declared apart: typed by hand)
 * const perMinute: KeyedProcessFunction<{ user: string }, string, string, number> = {
 *   key: (click) => click.user,
 *   processElement: (_click, ctx) => {
 *     if (ctx.timestamp === undefined) return;
 *     if (ctx.state.value() === undefined) ctx.timerService.registerEventTimeTimer(ctx.timestamp - (ctx.timestamp % 60_000) + 60_000);
 *     ctx.state.update((ctx.state.value() ?? 0) + 1);
 *   },
 *   onTimer: (_t, ctx) => {
 *     const count = ctx.state.value();
 *     ctx.state.clear();
 *     return [`${ctx.key}: ${count}`];
 *   },
 * };
 * ```
 */
export interface KeyedProcessFunction<
  I,
  O = never,
  K extends string | number = string | number,
  S = never,
  E = O,
  Absent = undefined,
  T extends number | undefined = number | undefined,
> {
  /** Extracts the key of a record's value: a string, or a finite number (-0 is the key 0). Anything else errors the output with a `KeyedProcessError`. */
  key(value: I): K;
  /**
   * Makes the state of a key that has none: `ctx.state.value()` then never returns `undefined`. It is called
   * (and its result stored) the first time a key's `value()` is read, and again after `clear()`; a result of
   * `undefined` is not stored. Like `scan`'s seed, it gives `S` its type: write `(): T | undefined => undefined`
   * for an optional state of type `T`.
   * @default undefined (a key without a value reads `undefined`)
   */
  initialState?: (() => S) | undefined;
  /** Called once per record, with the record's key as the current key. Returns outputs, or nothing. */
  processElement(value: I, ctx: KeyedContext<K, E, S, Absent, T>): KeyedOutputs<O>;
  /**
   * Called once per fired timer, with the timer's key as the current key. Returns outputs, or nothing. Optional:
   * timers may only matter for state.
   */
  onTimer?(timestamp: number, ctx: OnTimerContext<K, E, S, Absent>): KeyedOutputs<O>;
}

/**
 * Options of {@link keyedTimers}. Every field is optional. `R` is the type of `requireTimestamps`, inferred
 * from the literal you pass (it types `ctx.timestamp`).
 *
 * ## Example
 * ```ts
 * import { keyedTimersMetrics, type KeyedTimersOptions } from 'rxjs-sluice';
 * const options: KeyedTimersOptions = { processingTimersOnComplete: 'wait', metrics: keyedTimersMetrics() };
 * ```
 */
export interface KeyedTimersOptions<R extends boolean = boolean> {
  /**
   * Clock and timer source for processing time. `TestScheduler.run` virtualises the default.
   * @default asyncScheduler
   */
  readonly scheduler?: SchedulerLike | undefined;
  /**
   * What happens to pending processing-time timers when the input completes: `'drop'` them (Flink's choice;
   * they are counted in `metrics.processingTimersDropped`), `'fire'` them at once in timestamp order (each
   * pending one once; ones registered while they fire are dropped and counted), or `'wait'` for them to fire
   * on time and complete after the last one.
   * @default 'drop'
   */
  readonly processingTimersOnComplete?: 'drop' | 'fire' | 'wait' | undefined;
  /**
   * What happens to pending event-time timers when the input completes: `'fire'` them as if the watermark
   * were `+Infinity` (Flink's end-of-input `MAX_WATERMARK`), or `'drop'` them (counted in
   * `metrics.eventTimersDropped`).
   * @default 'fire'
   */
  readonly eventTimersOnComplete?: 'fire' | 'drop' | undefined;
  /**
   * Every record must carry a timestamp (an event-time pipeline, behind `withWatermarks`, say): one without
   * errors the output with a `TypeError` before `processElement` sees it, and `ctx.timestamp` in
   * `processElement` is typed `number`.
   * @default false
   */
  readonly requireTimestamps?: R | undefined;
  /**
   * Where to publish live counters; create one with `keyedTimersMetrics()`.
   * @default undefined (counters are kept privately)
   */
  readonly metrics?: KeyedTimersMetrics | undefined;
  /**
   * The operator's identity in checkpoints (Flink's `uid`): required, and distinct, when the operator runs
   * inside a `checkpointable` pipeline. Its snapshot holds every key's state, both timer sets and the current
   * watermark; state values must therefore be encodable by the pipeline's codec (`jsonCodec` by default).
   * @default undefined
   */
  readonly id?: string | undefined;
}

/** Options after validation and defaults. */
export interface ResolvedKeyedTimersOptions {
  readonly scheduler: SchedulerLike;
  readonly processingTimersOnComplete: 'drop' | 'fire' | 'wait';
  readonly eventTimersOnComplete: 'fire' | 'drop';
  readonly requireTimestamps: boolean;
  /** Undefined when the user passed none; each subscription then keeps its own. */
  readonly metrics: MutableKeyedTimersMetrics | undefined;
  readonly id: string | undefined;
}

const OPERATOR = 'keyedTimers';
const KNOWN_OPTIONS = ['scheduler', 'processingTimersOnComplete', 'eventTimersOnComplete', 'requireTimestamps', 'metrics', 'id'] as const;

/** Validates the function and every option up front, so a mistake throws when the operator is created. */
export function resolveKeyedTimersOptions(fn: unknown, options: KeyedTimersOptions<boolean> | undefined): ResolvedKeyedTimersOptions {
  if (fn === null || typeof fn !== 'object') {
    throw new TypeError(`${OPERATOR}: fn must be an object with key, processElement and optional onTimer and initialState, got ${describe(fn)}`);
  }
  const { key, processElement, onTimer, initialState } = fn as Record<string, unknown>;
  if (typeof key !== 'function') throw new TypeError(`${OPERATOR}: fn.key must be a function, got ${describe(key)}`);
  if (typeof processElement !== 'function') {
    throw new TypeError(`${OPERATOR}: fn.processElement must be a function, got ${describe(processElement)}`);
  }
  if (onTimer !== undefined && typeof onTimer !== 'function') {
    throw new TypeError(`${OPERATOR}: fn.onTimer must be a function when given, got ${describe(onTimer)}`);
  }
  if (initialState !== undefined && typeof initialState !== 'function') {
    throw new TypeError(`${OPERATOR}: fn.initialState must be a function returning the state of a new key, got ${describe(initialState)}`);
  }
  if (options === undefined) options = {};
  expectObject(OPERATOR, 'options', options);
  rejectUnknownOptions(OPERATOR, options, KNOWN_OPTIONS);
  const {
    scheduler = asyncScheduler, processingTimersOnComplete = 'drop', eventTimersOnComplete = 'fire', requireTimestamps = false, metrics, id,
  } = options;
  expectScheduler(OPERATOR, 'scheduler', scheduler);
  checkOperatorId(OPERATOR, id);
  if (processingTimersOnComplete !== 'drop' && processingTimersOnComplete !== 'fire' && processingTimersOnComplete !== 'wait') {
    throw optionError(OPERATOR, 'processingTimersOnComplete', "'drop', 'fire' or 'wait'", processingTimersOnComplete);
  }
  if (eventTimersOnComplete !== 'fire' && eventTimersOnComplete !== 'drop') {
    throw optionError(OPERATOR, 'eventTimersOnComplete', "'fire' or 'drop'", eventTimersOnComplete);
  }
  if (typeof requireTimestamps !== 'boolean') throw optionError(OPERATOR, 'requireTimestamps', 'true or false', requireTimestamps);
  if (metrics !== undefined && !(metrics instanceof MutableKeyedTimersMetrics)) {
    throw optionError(OPERATOR, 'metrics', 'an object created by keyedTimersMetrics()', metrics);
  }
  return { scheduler, processingTimersOnComplete, eventTimersOnComplete, requireTimestamps, metrics, id };
}
