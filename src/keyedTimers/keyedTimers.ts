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
 *   timer's key. The two never interleave.
 * - A timer is one per (key, domain, timestamp). A watermark W fires every event-time timer at or below W,
 *   in (timestamp, registration) order, *before* W is forwarded; a watermark that does not advance event time
 *   is neither acted on nor forwarded. Processing-time timers run on the `scheduler`, behind one scheduled action.
 * - `ctx.emit(v)` stamps the output with the input's timestamp, the event-time timer's timestamp, or none for a
 *   processing-time timer. `ctx.output(tag, v)` does the same on a side output (see `selectTag`, `mainOutput`).
 * - On completion, event-time timers fire (or are dropped) and processing-time timers are dropped, fired or
 *   awaited, as the options say. A callback that throws errors the output with `KeyedProcessError`.
 *   Unsubscribing cancels every scheduled action.
 *
 * @param fn - `{ key, processElement, onTimer? }`; see {@link KeyedProcessFunction}.
 * @param options - See {@link KeyedTimersOptions}; validated here, and a bad one throws a `TypeError`.
 *
 * ## Example
 * ```ts
 * import { of } from 'rxjs';
 * import { keyedTimers, record, values, watermark } from 'rxjs-sluice';
 *
 * // a tumbling one-minute sum per key, emitted when event time passes the end of the minute
 * of(record({ k: 'a', n: 1 }, 1_000), record({ k: 'a', n: 2 }, 30_000), watermark(60_000)).pipe(
 *   keyedTimers<{ k: string; n: number }, string, string, number>({
 *     key: (e) => e.k,
 *     processElement: (e, ctx) => {
 *       if (ctx.state.value() === undefined) ctx.timerService.registerEventTimeTimer(ctx.timestamp! - (ctx.timestamp! % 60_000) + 60_000);
 *       ctx.state.update((ctx.state.value() ?? 0) + e.n);
 *     },
 *     onTimer: (_t, ctx) => {
 *       ctx.emit(`${ctx.key}: ${ctx.state.value()}`);
 *       ctx.state.clear();
 *     },
 *   }),
 *   values(),
 * ).subscribe(console.log); // 'a: 3'
 * ```
 */
export function keyedTimers<I, O, K extends string | number = string | number, S = unknown>(
  fn: KeyedProcessFunction<I, O, K, S>,
  options?: KeyedTimersOptions,
): OperatorFunction<StreamElement<I>, StreamElement<O>> {
  const resolved = resolveKeyedTimersOptions(fn, options);
  return statefulOperator('keyedTimers', resolved.id, (checkpoint) => (source) =>
    new Observable<StreamElement<O>>((subscriber) => {
      new KeyedTimersRun<I, O, K, S>(subscriber, fn, resolved, checkpoint).start(source);
    }));
}
