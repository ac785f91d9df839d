import { Observable, type OperatorFunction } from 'rxjs';
import { type StreamElement } from '../elements/streamElement.js';
import { statefulOperator } from '../checkpoint/stateful.js';
import { KeyedTimersRun } from './keyedTimersRun.js';
import { resolveKeyedTimersOptions, type KeyedProcessFunction, type KeyedTimersOptions } from './options.js';

/**
 * Per-key state plus event-time and processing-time timers: Flink's `keyBy(...).process(KeyedProcessFunction)`
 * with its `TimerService`, as a pipeable operator. It is what windows, sessions and heartbeats are built from.
 *
 * - `fn.key(value)` picks each record's key; `fn.processElement(value, ctx)` runs once per record with that
 *   key's `ctx.state` and `ctx.timerService`; `fn.onTimer(timestamp, ctx)` runs once per fired timer with the
 *   timer's key. The two never interleave. `fn.initialState()` makes the state of a key that has none.
 * - Both callbacks emit by returning an array of outputs (or with `ctx.emit(v)`). Outputs are stamped with the
 *   input's timestamp, the event-time timer's timestamp, or none for a processing-time timer.
 *   `ctx.output(tag, v)` does the same on a side output (see `selectTag`, `mainOutput`).
 * - A timer is one per (key, domain, timestamp). A watermark W fires every event-time timer at or below W,
 *   in (timestamp, registration) order, *before* W is forwarded; a watermark that does not advance event time
 *   is neither acted on nor forwarded. Processing-time timers run on the `scheduler`, behind one scheduled action.
 *   `onTimer` may not register a timer at or below its own time in its own domain (`TimerLoopError`).
 * - On completion, event-time timers fire (or are dropped) and processing-time timers are dropped, fired or
 *   awaited, as the options say. A callback that throws errors the output with `KeyedProcessError`.
 *   Unsubscribing cancels every scheduled action.
 *
 * Types: called without type arguments, it infers `I` from the input stream, `K` from what `key` returns, `S`
 * from what `initialState` returns and `O` from the arrays the callbacks return; `ctx.emit` then takes
 * `never`, so an output type that was not inferred fails to compile instead of becoming `unknown`. With
 * `requireTimestamps: true`, `ctx.timestamp` is a `number` in `processElement` too. The explicit form
 * `keyedTimers<I, O, K, S>(fn)` still works, with `ctx.emit` typed `O`.
 *
 * @param fn - `{ key, processElement, onTimer?, initialState? }`; see {@link KeyedProcessFunction}.
 * @param options - See {@link KeyedTimersOptions}; validated here, and a bad one throws a `TypeError`.
 *
 * ## Example
 * ```ts
 * import { of } from 'rxjs';
 * import { keyedTimers, record, values, watermark } from 'rxjs-sluice';
 *
 * // a tumbling one-minute sum per key, emitted when event time passes the end of the minute
 * of(record({ k: 'a', n: 1 }, 1_000), record({ k: 'a', n: 2 }, 30_000), watermark(60_000)).pipe(
 *   keyedTimers({
 *     key: (e) => e.k,
 *     initialState: () => 0,
 *     processElement: (e, ctx) => {
 *       ctx.timerService.registerEventTimeTimer(ctx.timestamp - (ctx.timestamp % 60_000) + 60_000); // idempotent
 *       ctx.state.update(ctx.state.value() + e.n);
 *     },
 *     onTimer: (_end, ctx) => {
 *       const sum = ctx.state.value();
 *       ctx.state.clear();
 *       return [`${ctx.key}: ${sum}`];
 *     },
 *   }, { requireTimestamps: true }),
 *   values(),
 * ).subscribe(console.log); // 'a: 3'
 * ```
 */
export function keyedTimers<
  I,
  O = never,
  K extends string | number = string | number,
  S = never,
  E = O,
  Seed = (() => S) | undefined,
  R extends boolean = boolean,
>(
  fn: KeyedProcessFunction<I, O, K, S, E, AbsentUnless<Seed>, RecordTimestamp<R>> & { readonly initialState?: Seed },
  options?: KeyedTimersOptions<R>,
): OperatorFunction<StreamElement<I>, StreamElement<O>> {
  const resolved = resolveKeyedTimersOptions(fn, options);
  return statefulOperator('keyedTimers', resolved.id, (checkpoint) => (source) =>
    new Observable<StreamElement<O>>((subscriber) => {
      // The declared context types only serve inference; the run works with one context for every call.
      const run = fn as unknown as KeyedProcessFunction<I, O, K, S, O, unknown, number | undefined>;
      new KeyedTimersRun<I, O, K, S>(subscriber, run, resolved, checkpoint).start(source);
    }));
}

/** What `ctx.state.value()` returns for a key without a value: nothing can lack one once there is an initialState. */
type AbsentUnless<Seed> = Seed extends undefined ? undefined : never;

/** The type of `ctx.timestamp` in processElement: a number once `requireTimestamps: true` guarantees one. */
type RecordTimestamp<R extends boolean> = R extends true ? number : number | undefined;
