/**
 * Counters an async-wait operator keeps while it runs. Totals only grow; gauges rise and fall, and return
 * to 0 when the subscription ends.
 *
 * ## Example
 * ```ts
 * import { asyncWaitMetrics, type AsyncWaitCounters } from 'rxjs-sluice';
 * const metrics = asyncWaitMetrics();
 * const line = (c: AsyncWaitCounters) => `${c.emitted} out, ${c.inFlight} in flight, ${c.failed} failed`;
 * console.log(line(metrics.snapshot()));
 * ```
 */
export interface AsyncWaitCounters {
  /** Total: records whose first call has started. */
  readonly started: number;
  /** Total: records whose own call (first or a retry) produced their final results. */
  readonly succeeded: number;
  /** Total: records whose calls failed for good (retries exhausted or not retriable), with or without `onError`. */
  readonly failed: number;
  /** Total: records whose time budget ran out, with or without `onTimeout`. */
  readonly timedOut: number;
  /** Total: retry calls started. */
  readonly retried: number;
  /** Total: output records emitted. */
  readonly emitted: number;
  /** Gauge: admitted records not yet complete (a call running, a retry waiting, or a fallback running). */
  readonly inFlight: number;
  /** Gauge: complete records held back for their turn (ordered mode, or unordered behind a watermark). */
  readonly waiting: number;
  /** Gauge: records queued beyond `capacity`, not yet started. */
  readonly buffered: number;
}

/**
 * A live view of an async-wait operator's counters. Pass it as the `metrics` option and read it at any time,
 * from a test, a log line or a progress bar. One object may be shared by several operators or subscriptions:
 * it then shows their sum.
 *
 * ## Example
 * ```ts
 * import { asyncWaitMetrics, type AsyncWaitMetrics } from 'rxjs-sluice';
 * const metrics: AsyncWaitMetrics = asyncWaitMetrics();
 * // ... pipe(asyncWaitOrdered(fn, { metrics })) ...
 * if (metrics.buffered > 10_000) console.warn('source is outrunning the service');
 * ```
 */
export interface AsyncWaitMetrics extends AsyncWaitCounters {
  /** A plain, frozen copy of the counters at this instant. */
  snapshot(): AsyncWaitCounters;
}

/** The writable implementation (internal). Only the operators write to it; users see {@link AsyncWaitMetrics}. */
export class MutableAsyncWaitMetrics implements AsyncWaitMetrics {
  started = 0;
  succeeded = 0;
  failed = 0;
  timedOut = 0;
  retried = 0;
  emitted = 0;
  inFlight = 0;
  waiting = 0;
  buffered = 0;

  snapshot(): AsyncWaitCounters {
    const { started, succeeded, failed, timedOut, retried, emitted, inFlight, waiting, buffered } = this;
    return Object.freeze({ started, succeeded, failed, timedOut, retried, emitted, inFlight, waiting, buffered });
  }
}

/**
 * Creates a metrics object for the `metrics` option of {@link asyncWaitOrdered} / {@link asyncWaitUnordered}.
 *
 * ## Example
 * ```ts
 * import { interval, map, range } from 'rxjs';
 * import { asyncWaitMetrics, asyncWaitUnordered, toRecords } from 'rxjs-sluice';
 *
 * const metrics = asyncWaitMetrics();
 * range(0, 1000).pipe(toRecords(), asyncWaitUnordered(async (x) => x * 2, { metrics })).subscribe();
 * // A progress bar polls it:
 * interval(100).pipe(map(() => metrics.snapshot())).subscribe((m) => console.log(`${m.emitted}/1000, ${m.inFlight} in flight`));
 * ```
 */
export function asyncWaitMetrics(): AsyncWaitMetrics {
  return new MutableAsyncWaitMetrics();
}
