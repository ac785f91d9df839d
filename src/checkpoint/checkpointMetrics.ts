/**
 * Counters a checkpointable pipeline keeps. Totals only grow; gauges return to 0 when the run ends.
 *
 * ## Example
 * ```ts
 * import { checkpointMetrics, type CheckpointCounters } from 'rxjs-sluice';
 * const line = (c: CheckpointCounters) => `${c.completed} checkpoints, last ${c.lastCompletedId}, ${c.heldOutputs} held`;
 * console.log(line(checkpointMetrics().snapshot()));
 * ```
 */
export interface CheckpointCounters {
  /** Total: barriers injected (checkpoints begun), the final checkpoint included. */
  readonly started: number;
  /** Total: checkpoints saved durably (and committed to the sink, if any). */
  readonly completed: number;
  /** Total: checkpoints that failed (each also reported to `onWarning`). */
  readonly failed: number;
  /**
   * Total: a store's or sink's `close` that failed after the output had ended (an error or unsubscribe; each
   * also reported to `onWarning`). On completion a failing close errors the output instead.
   */
  readonly closeFailed: number;
  /** Total: damaged checkpoints skipped while loading. */
  readonly corruptSkipped: number;
  /** Total: runs that started from a checkpoint rather than from the beginning. */
  readonly restored: number;
  /**
   * Total: restores of a final checkpoint whose source did not answer at once, so it could not be checked for
   * records appended after the finished run (each also reported to `onWarning` as `'final-restored'`).
   */
  readonly finalRestored: number;
  /** Total: runs that ended with a stop checkpoint (the `stop` option) rather than at the end of their source. */
  readonly stops: number;
  /** Total: outputs emitted, repeats after a restore included. */
  readonly emitted: number;
  /** Total: outputs of the restored checkpoint emitted again on restore (`'exactly-once'`). */
  readonly reEmitted: number;
  /** The id of the newest checkpoint completed or restored by this run; 0 before any. */
  readonly lastCompletedId: number;
  /** The size, in characters, of the newest checkpoint written. */
  readonly lastSize: number;
  /** Gauge: outputs held back until their checkpoint is durable (`'exactly-once'`, or with a sink). */
  readonly heldOutputs: number;
  /** Gauge: checkpoints begun and not yet completed or failed. */
  readonly inProgress: number;
}

/**
 * A live view of a checkpointable pipeline's counters: pass it as the `metrics` option.
 *
 * ## Example
 * ```ts
 * import { checkpointMetrics, type CheckpointMetrics } from 'rxjs-sluice';
 * const metrics: CheckpointMetrics = checkpointMetrics();
 * if (metrics.failed > 0) console.warn('a checkpoint failed; see onWarning');
 * ```
 */
export interface CheckpointMetrics extends CheckpointCounters {
  /** A plain, frozen copy of the counters at this instant. */
  snapshot(): CheckpointCounters;
}

/** The writable implementation (internal). */
export class MutableCheckpointMetrics implements CheckpointMetrics {
  started = 0;
  completed = 0;
  failed = 0;
  closeFailed = 0;
  finalRestored = 0;
  stops = 0;
  corruptSkipped = 0;
  restored = 0;
  emitted = 0;
  reEmitted = 0;
  lastCompletedId = 0;
  lastSize = 0;
  heldOutputs = 0;
  inProgress = 0;

  snapshot(): CheckpointCounters {
    const { started, completed, failed, closeFailed, finalRestored, stops, corruptSkipped, restored, emitted, reEmitted, lastCompletedId, lastSize, heldOutputs, inProgress } = this;
    return Object.freeze({
      started, completed, failed, closeFailed, finalRestored, stops, corruptSkipped, restored, emitted, reEmitted, lastCompletedId, lastSize, heldOutputs, inProgress,
    });
  }
}

/**
 * Creates a metrics object for the `metrics` option of {@link checkpointable}.
 *
 * ## Example
 * ```ts
 * import { arraySource, checkpointable, checkpointMetrics } from 'rxjs-sluice';
 * const metrics = checkpointMetrics();
 * checkpointable({ source: arraySource([1, 2, 3, 4]), every: { records: 2 }, metrics }).pipe().subscribe();
 * console.log(metrics.completed); // 3: after 2 and 4 records, and the final one
 * ```
 */
export function checkpointMetrics(): CheckpointMetrics {
  return new MutableCheckpointMetrics();
}
