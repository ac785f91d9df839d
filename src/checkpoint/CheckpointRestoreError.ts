/**
 * The error a checkpointable pipeline fails with when a valid checkpoint does not fit the pipeline: it holds
 * state for an operator id the pipeline does not have (Flink refuses that too, unless told to allow
 * non-restored state), an id now names an operator of another kind, the checkpoint was written with another
 * codec, or an operator's stored state is malformed.
 *
 * ## Example
 * ```ts
 * import { CheckpointRestoreError } from 'rxjs-sluice';
 * const explain = (e: unknown) =>
 *   e instanceof CheckpointRestoreError ? `checkpoint ${e.checkpointId}: ${e.message}` : String(e);
 * ```
 */
export class CheckpointRestoreError extends Error {
  override readonly name = 'CheckpointRestoreError';
  /** What did not fit: the stored operator id (or codec name) that the pipeline cannot take. */
  readonly input: unknown;
  /** The checkpoint being restored. */
  readonly checkpointId: number;
  /** The underlying problem, when there is one (a decode error, say). */
  readonly cause: unknown;

  constructor(checkpointId: number, input: unknown, message: string, cause?: unknown) {
    super(`checkpoint ${checkpointId}: ${message}`);
    this.input = input;
    this.checkpointId = checkpointId;
    this.cause = cause;
  }
}
