import { MutableAsyncWaitMetrics, type AsyncWaitCounters } from '../asyncWait/asyncWaitMetrics.js';

/**
 * Why batches left the open state, one counter per reason. A batch is flushed once, for the first reason that
 * applies.
 *
 * ## Example
 * ```ts
 * import { type BatchFlushes } from 'rxjs-sluice';
 * const share = (f: BatchFlushes) => f.linger / Math.max(1, f.size + f.weight + f.linger + f.capacity + f.end);
 * ```
 */
export interface BatchFlushes {
  /** It reached `maxBatchSize` records. */
  readonly size: number;
  /** It reached `maxBatchWeight`, or the next record would have taken it over. */
  readonly weight: number;
  /** `linger` ms passed since its first record (and a call slot was free). */
  readonly linger: number;
  /** Its own records held every capacity slot, so no more could join it: waiting would only add latency. */
  readonly capacity: number;
  /** The input ended (and retries after the end go at once too). */
  readonly end: number;
}

/**
 * The counters of a batching operator: every counter of {@link AsyncWaitCounters}, per record (`retried`
 * counts records retried, whatever batch they went into), and these, per batch.
 *
 * ## Example
 * ```ts
 * import { asyncBatchMetrics, type AsyncBatchCounters } from 'rxjs-sluice';
 * const line = (c: AsyncBatchCounters) => `${c.batchesStarted} batches, mean ${c.meanBatchSize.toFixed(1)}, ${c.flushes.linger} by linger`;
 * console.log(line(asyncBatchMetrics().snapshot()));
 * ```
 */
export interface AsyncBatchCounters extends AsyncWaitCounters {
  /** Total: batch calls started. */
  readonly batchesStarted: number;
  /** Total: batch calls that delivered a result array (whatever its entries say). */
  readonly batchesSucceeded: number;
  /** Total: batch calls that failed as a whole (threw, rejected, errored): each of their records failed. */
  readonly batchesFailed: number;
  /** Gauge: batch calls running; never above `maxInFlightBatches`. */
  readonly batchesInFlight: number;
  /** Total: records sent in batch calls, retries included (`batchedRecords / batchesStarted` is the mean size). */
  readonly batchedRecords: number;
  /** The mean number of records per batch call; 0 before the first. */
  readonly meanBatchSize: number;
  /** The largest batch call so far, in records. */
  readonly largestBatch: number;
  /**
   * Batch sizes as a histogram: entry i counts the batch calls of 2^i to 2^(i+1) - 1 records (1, 2-3, 4-7, …),
   * the last entry every larger one. 16 entries.
   */
  readonly batchSizeHistogram: readonly number[];
  /** Why batches were flushed. */
  readonly flushes: BatchFlushes;
}

/**
 * A live view of a batching operator's counters: pass it as the `metrics` option of {@link asyncBatchOrdered}
 * or {@link asyncBatchUnordered}.
 *
 * ## Example
 * ```ts
 * import { asyncBatchMetrics, type AsyncBatchMetrics } from 'rxjs-sluice';
 * const metrics: AsyncBatchMetrics = asyncBatchMetrics();
 * if (metrics.flushes.linger > metrics.flushes.size) console.log('batches leave half-empty: the input is slower than linger');
 * ```
 */
export interface AsyncBatchMetrics extends AsyncBatchCounters {
  /** A plain, frozen copy of the counters at this instant. */
  snapshot(): AsyncBatchCounters;
}

/** How many histogram buckets there are. */
const BUCKETS = 16;

/** The writable implementation (internal). */
export class MutableAsyncBatchMetrics extends MutableAsyncWaitMetrics implements AsyncBatchMetrics {
  batchesStarted = 0;
  batchesSucceeded = 0;
  batchesFailed = 0;
  batchesInFlight = 0;
  batchedRecords = 0;
  largestBatch = 0;
  readonly batchSizeHistogram: number[] = new Array<number>(BUCKETS).fill(0);
  readonly flushes = { size: 0, weight: 0, linger: 0, capacity: 0, end: 0 };

  get meanBatchSize(): number {
    return this.batchesStarted === 0 ? 0 : this.batchedRecords / this.batchesStarted;
  }

  /** A batch call of `size` records starts. O(1). */
  batchStarted(size: number): void {
    this.batchesStarted++;
    this.batchesInFlight++;
    this.batchedRecords += size;
    if (size > this.largestBatch) this.largestBatch = size;
    this.batchSizeHistogram[Math.min(BUCKETS - 1, 31 - Math.clz32(size))]!++;
  }

  override snapshot(): AsyncBatchCounters {
    const { batchesStarted, batchesSucceeded, batchesFailed, batchesInFlight, batchedRecords, largestBatch } = this;
    return Object.freeze({
      ...super.snapshot(),
      batchesStarted, batchesSucceeded, batchesFailed, batchesInFlight, batchedRecords, largestBatch,
      meanBatchSize: this.meanBatchSize,
      batchSizeHistogram: Object.freeze(this.batchSizeHistogram.slice()),
      flushes: Object.freeze({ ...this.flushes }),
    });
  }
}

/**
 * Creates a metrics object for the `metrics` option of {@link asyncBatchOrdered} / {@link asyncBatchUnordered}.
 *
 * ## Example
 * ```ts
 * import { range } from 'rxjs';
 * import { asyncBatchMetrics, asyncBatchUnordered, toRecords } from 'rxjs-sluice';
 *
 * const metrics = asyncBatchMetrics();
 * range(0, 1000).pipe(toRecords(), asyncBatchUnordered(async (xs: number[]) => xs.map((x) => x * 2), { metrics }))
 *   .subscribe({ complete: () => console.log(metrics.batchesStarted, metrics.meanBatchSize, metrics.flushes) });
 * ```
 */
export function asyncBatchMetrics(): AsyncBatchMetrics {
  return new MutableAsyncBatchMetrics();
}
