/**
 * Which user callback of a {@link keyedTimers} function failed.
 *
 * ## Example
 * ```ts
 * import { KeyedProcessError, type KeyedCallback } from 'rxjs-sluice';
 * const where = (e: KeyedProcessError): KeyedCallback => e.callback; // 'key' | 'processElement' | 'onTimer'
 * ```
 */
export type KeyedCallback = 'key' | 'processElement' | 'onTimer';

/**
 * The timer an `onTimer` failure reports as its input.
 *
 * ## Example
 * ```ts
 * import { type FiredTimer } from 'rxjs-sluice';
 * const timer: FiredTimer<string> = { key: 'sensor-1', timestamp: 60_000, timeDomain: 'event' };
 * ```
 */
export interface FiredTimer<K> {
  readonly key: K;
  readonly timestamp: number;
  readonly timeDomain: 'event' | 'processing';
}

/**
 * The error a {@link keyedTimers} output fails with when a user callback throws: `key`, `processElement` or
 * `onTimer` (Flink fails the job in the same place). Misusing the context inside a callback, such as a timer
 * at `NaN` or an output with no tag, throws a `TypeError` there, which arrives here as `cause`.
 *
 * ## Example
 * ```ts
 * import { of } from 'rxjs';
 * import { keyedTimers, KeyedProcessError, toRecords } from 'rxjs-sluice';
 *
 * of('a').pipe(
 *   toRecords(),
 *   keyedTimers({ key: (s) => s, processElement: () => { throw new Error('boom'); } }),
 * ).subscribe({
 *   error: (e) => {
 *     if (e instanceof KeyedProcessError) console.log(e.callback, e.key, e.input); // processElement a a
 *   },
 * });
 * ```
 */
export class KeyedProcessError<I = unknown, K = unknown> extends Error {
  override readonly name = 'KeyedProcessError';
  /** The callback that threw. */
  readonly callback: KeyedCallback;
  /** The record's value (for `key` and `processElement`), or the timer (for `onTimer`). */
  readonly input: I | FiredTimer<K>;
  /** The current key; undefined when `key` itself failed. */
  readonly key: K | undefined;
  /** What the callback threw. */
  readonly cause: unknown;

  constructor(operator: string, callback: KeyedCallback, input: I | FiredTimer<K>, key: K | undefined, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const where = key === undefined ? '' : ` for key ${typeof key === 'string' ? JSON.stringify(key) : String(key)}`;
    super(`${operator}: ${callback} threw${where}: ${reason}`);
    this.callback = callback;
    this.input = input;
    this.key = key;
    this.cause = cause;
  }
}
