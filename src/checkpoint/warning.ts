/**
 * Something went wrong that the pipeline survives, reported to `onWarning`:
 * - `'corrupt-skipped'`: on start, a stored checkpoint was truncated, damaged or unreadable, and loading
 *   fell back to an older one;
 * - `'checkpoint-failed'`: a checkpoint could not be completed (a value the codec refused, a store or sink
 *   that failed to write it). The next one is tried as usual;
 * - `'close-failed'`: the store's or the sink's `close` failed after the output had already ended (an error or an
 *   unsubscribe); `checkpointId` is the newest checkpoint the run restored or completed (0 if none);
 * - `'final-restored'`: the restored checkpoint is final (the pipeline had finished), and the source, opened at
 *   its position, did not answer at once: records appended to it since could not be ruled out, and are not
 *   processed (a source that has records there at once errors the output instead).
 *
 * ## Example
 * ```ts
 * import { type CheckpointWarning } from 'rxjs-sluice';
 * const onWarning = (w: CheckpointWarning) => console.warn(`[${w.kind}] checkpoint ${w.checkpointId}: ${w.message}`);
 * ```
 */
export interface CheckpointWarning {
  /** What happened. */
  readonly kind: 'corrupt-skipped' | 'checkpoint-failed' | 'close-failed' | 'final-restored';
  /** The checkpoint concerned. */
  readonly checkpointId: number;
  /** A one-line description. */
  readonly message: string;
  /** The underlying error. */
  readonly error: unknown;
}

/** Builds a warning whose message is the error's. */
export function warningOf(kind: CheckpointWarning['kind'], checkpointId: number, error: unknown): CheckpointWarning {
  return { kind, checkpointId, message: error instanceof Error ? error.message : String(error), error };
}
