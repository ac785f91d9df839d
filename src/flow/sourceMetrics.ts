import { IntervalTotal } from './intervalTotal.js';

/**
 * Counters a flow-controlled source keeps while it runs. Totals only grow; the gauge returns to 0 when the
 * subscription ends.
 *
 * ## Example
 * ```ts
 * import { sourceMetrics, type SourceCounters } from 'rxjs-sluice';
 * const metrics = sourceMetrics();
 * const line = (c: SourceCounters) => `${c.read} read, back-pressured ${c.backPressuredTime} ms`;
 * console.log(line(metrics.snapshot()));
 * ```
 */
export interface SourceCounters {
  /** Total: items the source has emitted. */
  readonly read: number;
  /**
   * Total: times the source paused because an operator downstream was full. A pause lasts until a read leaves
   * the gate open: under a fast source, the one item read each time a slot frees (which fills the operator
   * again at once) continues the same pause, so this counts the stretches the source was held, not the records.
   */
  readonly pauses: number;
  /**
   * Total: ms of scheduler time the source spent paused by back-pressure (Flink's back-pressured time). Divide
   * its growth by the wall time between two reads for Flink's `backPressuredTimeMsPerSecond`. It grows while a
   * pause lasts, not only when it ends.
   */
  readonly backPressuredTime: number;
  /** Total: input skipped under a documented rule (a malformed NDJSON line with `onMalformed: 'skip'`). */
  readonly skipped: number;
  /** Gauge: 1 while the source is paused by back-pressure, else 0. */
  readonly paused: number;
}

/**
 * A live view of a source's counters: pass it as the `metrics` option of {@link pulled}, {@link arraySource},
 * {@link iterableSource} or a Node file source, and read it at any time. One object may be shared by several
 * sources: it then shows their sum.
 *
 * ## Example
 * ```ts
 * import { sourceMetrics, type SourceMetrics } from 'rxjs-sluice';
 * const metrics: SourceMetrics = sourceMetrics();
 * if (metrics.paused === 1) console.log('the source waits for the operators');
 * ```
 */
export interface SourceMetrics extends SourceCounters {
  /** A plain, frozen copy of the counters at this instant. */
  snapshot(): SourceCounters;
}

/** The writable implementation (internal). Only sources write to it; users see {@link SourceMetrics}. */
export class MutableSourceMetrics implements SourceMetrics {
  read = 0;
  pauses = 0;
  skipped = 0;
  paused = 0;
  /** The pauses: backPressuredTime reads them live, so it grows while a pause lasts. */
  readonly pausedTime = new IntervalTotal();

  get backPressuredTime(): number {
    return this.pausedTime.total;
  }

  snapshot(): SourceCounters {
    const { read, pauses, backPressuredTime, skipped, paused } = this;
    return Object.freeze({ read, pauses, backPressuredTime, skipped, paused });
  }
}

/**
 * Creates a metrics object for the `metrics` option of a flow-controlled source.
 *
 * ## Example
 * ```ts
 * import { asyncWaitOrdered, pulled, sourceMetrics } from 'rxjs-sluice';
 * const metrics = sourceMetrics();
 * pulled([1, 2, 3], { metrics }).pipe(asyncWaitOrdered(async (x) => x * 2, { capacity: 1, input: 'values' })).subscribe({
 *   complete: () => console.log(`read ${metrics.read}, paused ${metrics.pauses} times`),
 * });
 * ```
 */
export function sourceMetrics(): SourceMetrics {
  return new MutableSourceMetrics();
}
