import { type FiredTimer } from './KeyedProcessError.js';

/**
 * Thrown by `ctx.timerService.registerEventTimeTimer` / `registerProcessingTimeTimer` inside `onTimer` when
 * the new timer is in the domain of the timer that is firing and at or below its time. Such a timer is
 * already due: it would fire at once, and if its `onTimer` registers it again, again and again without end
 * (Flink loops forever there, without yielding). A later time, or the other domain, is fine. Left uncaught,
 * it errors the output as the `cause` of a `KeyedProcessError` (callback `'onTimer'`); caught, the timer is
 * simply not registered.
 *
 * ## Example
 * ```ts
 * import { KeyedProcessError, TimerLoopError } from 'rxjs-sluice';
 * const explain = (e: unknown) => {
 *   if (e instanceof KeyedProcessError && e.cause instanceof TimerLoopError) {
 *     console.error(`timer ${e.cause.firing.timestamp} re-registered itself at ${e.cause.input.timestamp}`);
 *   }
 * };
 * ```
 */
export class TimerLoopError<K = unknown> extends Error {
  override readonly name = 'TimerLoopError';
  /** The timer that was being registered, and was not. */
  readonly input: FiredTimer<K>;
  /** The timer whose `onTimer` registered it. */
  readonly firing: FiredTimer<K>;

  constructor(operator: string, input: FiredTimer<K>, firing: FiredTimer<K>) {
    const key = typeof input.key === 'string' ? JSON.stringify(input.key) : String(input.key);
    super(
      `${operator}: onTimer of the ${firing.timeDomain}-time timer at ${firing.timestamp} (key ${key}) registered a ` +
        `${input.timeDomain}-time timer at ${input.timestamp}, at or below its own time: it would fire at once, ` +
        'and again each time it re-registers, without end. Register a later time.',
    );
    this.input = input;
    this.firing = firing;
  }
}
