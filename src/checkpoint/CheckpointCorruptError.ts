/**
 * The error loading fails with when checkpoints exist but none of them is valid: each was truncated, had a
 * flipped byte (its checksum does not match), or could not be read. A pipeline never silently starts from
 * scratch in that case. When only the latest ones are bad, loading falls back to the newest valid one and
 * reports each one skipped through `onWarning` and `checkpointMetrics().corruptSkipped` instead.
 *
 * ## Example
 * ```ts
 * import { CheckpointCorruptError, MemoryCheckpointStore, readLatestCheckpoint } from 'rxjs-sluice';
 *
 * const store = new MemoryCheckpointStore();
 * store.write(1, '{"format":"rxjs-sluice.checkpoint","vers'); // torn write
 * readLatestCheckpoint(store).catch((e) => {
 *   if (e instanceof CheckpointCorruptError) console.log(e.input); // [1]: the ids that were tried
 * });
 * ```
 */
export class CheckpointCorruptError extends Error {
  override readonly name = 'CheckpointCorruptError';
  /** The checkpoint ids that were tried, newest first; all of them were invalid. */
  readonly input: readonly number[];
  /** Why the oldest one was rejected (a TypeError describing the damage, or the read error). */
  readonly cause: unknown;

  constructor(checkpointIds: readonly number[], cause: unknown) {
    super(
      `checkpoint store: ${checkpointIds.length} checkpoint(s) found (${checkpointIds.join(', ')}) but none is valid; ` +
        `refusing to start from scratch (last problem: ${cause instanceof Error ? cause.message : String(cause)})`,
    );
    this.input = checkpointIds;
    this.cause = cause;
  }
}
