import { IntervalTotal } from '../flow/intervalTotal.js';

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
  /**
   * Total: watermarks merged into an adjacent one while they waited behind a record (in the held queue or
   * beyond capacity): a run of watermarks with nothing in between goes out as one, the highest of the run.
   */
  readonly watermarksCoalesced: number;
  /**
   * Total: ms of scheduler time during which inputs waited beyond `capacity` (`buffered` above 0). Fed by a
   * flow-controlled source (see docs/flow-control.md), that is the time this operator held the source paused: in
   * a chain of operators, the bottleneck is the one whose figure grows fastest. It grows while inputs wait, not
   * only once they are admitted.
   */
  readonly backPressureTime: number;
  /** Gauge: admitted records not yet complete (a call running, a retry waiting, or a fallback running). */
  readonly inFlight: number;
  /**
   * Gauge: complete records held back for their turn (ordered mode, or unordered behind a watermark), and side
   * outputs held in their place. Each takes a capacity slot: `inFlight + waiting` never exceeds `capacity`.
   */
  readonly waiting: number;
  /**
   * Gauge: inputs queued beyond `capacity`, not yet admitted: records and side outputs, the watermarks between
   * them (adjacent ones coalesced), and any barrier waiting for an emission to end. This is where a source
   * faster than the calls piles up.
   */
  readonly buffered: number;
  /**
   * Gauge: the scheduler time at which the longest-running work still in flight began: a record's first call
   * (its retries and retry delays included), or a fallback (`onError`, `onTimeout`). `null` when nothing is in
   * flight. A value that stays put while the clock moves on is a call that does not settle: without a
   * `timeout`, such a call holds the operator forever.
   */
  readonly oldestInFlightSince: number | null;
  /**
   * Gauge: how long that work has been running, in ms of the operator's scheduler time
   * (`scheduler.now() - oldestInFlightSince`); 0 when nothing is in flight. Alert on it, e.g. when it exceeds
   * the slowest call you expect.
   */
  readonly oldestInFlightAge: number;
  /**
   * With adaptive concurrency (`concurrency.adaptive`): the current limit on calls in flight (batches for
   * asyncBatch). Updated at every change, and kept after the subscription ends; with several subscriptions, the
   * latest update. `null` without adaptive concurrency.
   */
  readonly concurrencyLimit: number | null;
  /** With adaptive concurrency: the lowest call latency the limiter has seen (its no-load estimate), in ms. */
  readonly minRtt: number | null;
  /** With adaptive concurrency: the latency the limiter's last update was based on (a window's average), in ms. */
  readonly sampleRtt: number | null;
  /**
   * Gauge: admitted records waiting for a call slot under `concurrency.adaptive` or for a token under `rateLimit`
   * (their `timeout` runs meanwhile).
   */
  readonly waitingForCall: number;
  /**
   * Gauge (asyncWaitKeyed): admitted records waiting for their key's turn (`perKeyConcurrency` calls of their key
   * are running). Counted in `inFlight` too; their `timeout` has not started. 0 for the other operators.
   */
  readonly waitingForKey: number;
  /**
   * Gauge (asyncWaitKeyed): keys holding at least one record (waiting, in flight, or done and not yet emitted). A
   * key's entry is dropped once it holds nothing, so this never exceeds the records held. 0 for the other operators.
   */
  readonly activeKeys: number;
  /** Total: retries the retry budget (`retry.budget`) refused. */
  readonly retriesDenied: number;
  /** Total: records reported as stalled (pending longer than `stallWarning`). */
  readonly stalls: number;
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

/** What a running operator reports for the oldest-in-flight gauges (internal): read only when they are read. */
export interface InFlightSource {
  /** Scheduler time the oldest work in flight began; null when none is. O(1). */
  oldestSince(): number | null;
  /** The operator's scheduler time. */
  now(): number;
}

/** The writable implementation (internal). Only the operators write to it; users see {@link AsyncWaitMetrics}. */
export class MutableAsyncWaitMetrics implements AsyncWaitMetrics {
  started = 0;
  succeeded = 0;
  failed = 0;
  timedOut = 0;
  retried = 0;
  emitted = 0;
  watermarksCoalesced = 0;
  /** The intervals during which inputs waited beyond capacity: backPressureTime reads them live. */
  readonly backPressure = new IntervalTotal();
  inFlight = 0;
  waiting = 0;
  buffered = 0;
  concurrencyLimit: number | null = null;
  minRtt: number | null = null;
  sampleRtt: number | null = null;
  waitingForCall = 0;
  waitingForKey = 0;
  activeKeys = 0;
  retriesDenied = 0;
  stalls = 0;
  /** The running subscriptions that report to this object, for the oldest-in-flight gauges; each leaves on teardown. */
  private readonly sources = new Set<InFlightSource>();

  /** Starts reporting `source` in the oldest-in-flight gauges (one per subscription, not per record). */
  track(source: InFlightSource): void {
    this.sources.add(source);
  }

  untrack(source: InFlightSource): void {
    this.sources.delete(source);
  }

  get backPressureTime(): number {
    return this.backPressure.total;
  }

  /** The earliest over the subscriptions: O(subscriptions) per read, nothing per record. */
  get oldestInFlightSince(): number | null {
    let oldest: number | null = null;
    for (const source of this.sources) {
      const since = source.oldestSince();
      if (since !== null && (oldest === null || since < oldest)) oldest = since;
    }
    return oldest;
  }

  /** The largest over the subscriptions, each measured on its own scheduler's clock. */
  get oldestInFlightAge(): number {
    let age = 0;
    for (const source of this.sources) {
      const since = source.oldestSince();
      if (since !== null) age = Math.max(age, source.now() - since);
    }
    return age;
  }

  snapshot(): AsyncWaitCounters {
    const { started, succeeded, failed, timedOut, retried, emitted, watermarksCoalesced, backPressureTime, inFlight, waiting, buffered } = this;
    const { concurrencyLimit, minRtt, sampleRtt, waitingForCall, waitingForKey, activeKeys, retriesDenied, stalls } = this;
    return Object.freeze({
      started, succeeded, failed, timedOut, retried, emitted, watermarksCoalesced, backPressureTime, inFlight, waiting, buffered,
      oldestInFlightSince: this.oldestInFlightSince,
      oldestInFlightAge: this.oldestInFlightAge,
      concurrencyLimit, minRtt, sampleRtt, waitingForCall, waitingForKey, activeKeys, retriesDenied, stalls,
    });
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
