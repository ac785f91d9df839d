/**
 * A checkpoint store (or a FileSink's directory) cannot be used at all: its directory is missing (and creating it
 * was not allowed), or is not a directory. Raised when the store or sink is created, before any pipeline runs.
 *
 * ## Example
 * ```ts
 * import { CheckpointStoreError } from 'rxjs-sluice';
 * const explain = (e: unknown) => (e instanceof CheckpointStoreError ? `bad checkpoint dir ${e.input}` : String(e));
 * ```
 */
export class CheckpointStoreError extends Error {
  override readonly name = 'CheckpointStoreError';
  /** The location that could not be used (a directory path for file stores). */
  readonly input: string;
  /** The underlying error (an `ENOENT` from the file system, say). */
  readonly cause: unknown;

  /** `what` names the user of the location in the message: a checkpoint store, or a FileSink's directory. */
  constructor(location: string, message: string, cause?: unknown, what = 'checkpoint store') {
    super(`${what} ${location}: ${message}`);
    this.input = location;
    this.cause = cause;
  }
}
