/**
 * Counters a {@link keyedTimers} operator keeps while it runs. Totals only grow; gauges rise and fall, and
 * give back this subscription's share when it ends.
 *
 * ## Example
 * ```ts
 * import { keyedTimersMetrics, type KeyedTimersCounters } from 'rxjs-sluice';
 * const metrics = keyedTimersMetrics();
 * const line = (c: KeyedTimersCounters) => `${c.eventTimers} timers pending, ${c.processingTimersDropped} dropped`;
 * console.log(line(metrics.snapshot()));
 * ```
 */
export interface KeyedTimersCounters {
  /** Total: records passed to `processElement`. */
  readonly records: number;
  /** Total: records whose timestamp was at or below the current watermark when they arrived (still processed). */
  readonly lateRecords: number;
  /** Total: main-output records emitted (`ctx.emit`, or returned by a callback). */
  readonly emitted: number;
  /** Total: side-output records emitted (`ctx.output`). */
  readonly sideOutputs: number;
  /** Total: event-time timers fired. */
  readonly eventTimersFired: number;
  /** Total: processing-time timers fired. */
  readonly processingTimersFired: number;
  /** Total: watermarks that advanced event time and were forwarded. */
  readonly watermarksForwarded: number;
  /** Total: watermarks not greater than the current one: ignored and not forwarded. */
  readonly watermarksIgnored: number;
  /** Total: event-time timers dropped at completion (`eventTimersOnComplete: 'drop'`). */
  readonly eventTimersDropped: number;
  /** Total: processing-time timers dropped at completion (`processingTimersOnComplete: 'drop'`, or beyond the `'fire'` horizon). */
  readonly processingTimersDropped: number;
  /** Gauge: keys that hold a state value. */
  readonly keysWithState: number;
  /** Gauge: event-time timers registered and not yet fired or deleted. */
  readonly eventTimers: number;
  /** Gauge: processing-time timers registered and not yet fired or deleted. */
  readonly processingTimers: number;
}

/**
 * A live view of a {@link keyedTimers} operator's counters. Pass it as the `metrics` option and read it at any
 * time. One object may be shared by several operators or subscriptions: it then shows their sum.
 *
 * ## Example
 * ```ts
 * import { keyedTimersMetrics, type KeyedTimersMetrics } from 'rxjs-sluice';
 * const metrics: KeyedTimersMetrics = keyedTimersMetrics();
 * // ... pipe(keyedTimers(fn, { metrics })) ...
 * if (metrics.processingTimersDropped > 0) console.warn('processing-time timers were dropped at end of input');
 * ```
 */
export interface KeyedTimersMetrics extends KeyedTimersCounters {
  /** A plain, frozen copy of the counters at this instant. */
  snapshot(): KeyedTimersCounters;
}

/** The writable implementation (internal). Only the operator writes to it; users see {@link KeyedTimersMetrics}. */
export class MutableKeyedTimersMetrics implements KeyedTimersMetrics {
  records = 0;
  lateRecords = 0;
  emitted = 0;
  sideOutputs = 0;
  eventTimersFired = 0;
  processingTimersFired = 0;
  watermarksForwarded = 0;
  watermarksIgnored = 0;
  eventTimersDropped = 0;
  processingTimersDropped = 0;
  keysWithState = 0;
  eventTimers = 0;
  processingTimers = 0;

  snapshot(): KeyedTimersCounters {
    return Object.freeze({
      records: this.records,
      lateRecords: this.lateRecords,
      emitted: this.emitted,
      sideOutputs: this.sideOutputs,
      eventTimersFired: this.eventTimersFired,
      processingTimersFired: this.processingTimersFired,
      watermarksForwarded: this.watermarksForwarded,
      watermarksIgnored: this.watermarksIgnored,
      eventTimersDropped: this.eventTimersDropped,
      processingTimersDropped: this.processingTimersDropped,
      keysWithState: this.keysWithState,
      eventTimers: this.eventTimers,
      processingTimers: this.processingTimers,
    });
  }
}

/**
 * Creates a metrics object for the `metrics` option of {@link keyedTimers}.
 *
 * ## Example
 * ```ts
 * import { keyedTimers, keyedTimersMetrics, type StreamElement } from 'rxjs-sluice';
 *
 * declare const events$: import('rxjs').Observable<StreamElement<string>>;
 * const metrics = keyedTimersMetrics();
 * events$.pipe(keyedTimers({ key: (e) => e, processElement: (e) => [e] }, { metrics })).subscribe();
 * console.log(metrics.snapshot().watermarksIgnored); // watermarks that did not advance event time
 * ```
 */
export function keyedTimersMetrics(): KeyedTimersMetrics {
  return new MutableKeyedTimersMetrics();
}
