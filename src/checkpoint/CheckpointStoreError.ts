/**
 * A checkpoint store cannot be used at all: its directory is missing (and creating it was not allowed), or is
 * not a directory. Raised when the store is opened, before any pipeline runs.
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

  constructor(location: string, message: string, cause?: unknown) {
    super(`checkpoint store ${location}: ${message}`);
    this.input = location;
    this.cause = cause;
  }
}
