/**
 * Why a checkpoint failed: a value in it (an operator's state, an in-flight input, the source position, or a
 * held output) could not be encoded by the codec. The pipeline does not stop: the failed checkpoint is
 * reported through `onWarning` and `checkpointMetrics().failed`, and a restart would resume from the previous
 * checkpoint. Under `'exactly-once'` the outputs of the failed epoch wait for the next checkpoint.
 *
 * ## Example
 * ```ts
 * import { CheckpointEncodeError, type CheckpointWarning } from 'rxjs-sluice';
 * const onWarning = (w: CheckpointWarning) => {
 *   if (w.error instanceof CheckpointEncodeError) console.warn(w.error.operatorId, w.error.input);
 * };
 * ```
 */
export class CheckpointEncodeError extends Error {
  override readonly name = 'CheckpointEncodeError';
  /** The value that could not be encoded (the whole snapshot of that operator, source position or output set). */
  readonly input: unknown;
  /** The checkpoint that failed. */
  readonly checkpointId: number;
  /** Whose value it was: an operator id, `'source position'` or `'outputs'`. */
  readonly operatorId: string;
  /** What the codec threw. */
  readonly cause: unknown;

  constructor(checkpointId: number, operatorId: string, input: unknown, cause: unknown) {
    super(`checkpoint ${checkpointId}: cannot encode the snapshot of ${operatorId}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.input = input;
    this.checkpointId = checkpointId;
    this.operatorId = operatorId;
    this.cause = cause;
  }
}
