/**
 * The error a replayable source fails with when it cannot be opened at a position: the position is past the
 * end of its input (an array or iterable with fewer items than the checkpoint read, a file that shrank), or it
 * does not fall where the source can resume (a file offset that is not the end of a line: the file changed).
 * A restore never silently starts again from the beginning or skips ahead.
 *
 * ## Example
 * ```ts
 * import { SourcePositionError } from 'rxjs-sluice';
 * const explain = (e: unknown) =>
 *   e instanceof SourcePositionError ? `cannot resume at ${String(e.input)}: ${e.message}` : String(e);
 * ```
 */
export class SourcePositionError extends Error {
  override readonly name = 'SourcePositionError';
  /** The position the source was asked to open at. */
  readonly input: unknown;
  /** The underlying problem, when there is one. */
  readonly cause: unknown;

  constructor(input: unknown, message: string, cause?: unknown) {
    super(message);
    this.input = input;
    this.cause = cause;
  }
}
