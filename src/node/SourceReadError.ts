/**
 * A Node source could not read its input: the file is missing, unreadable, a directory (or a FIFO, a device:
 * anything but a regular file, which alone can be read again from an offset), a read failed part-way, or a
 * `Readable` given to `readableSource` was destroyed before its end without an error. The output errors with
 * it; nothing is skipped, and the source never silently starts again.
 *
 * ## Example
 * ```ts
 * import { SourceReadError } from 'rxjs-sluice/node';
 * const explain = (e: unknown) =>
 *   e instanceof SourceReadError ? `cannot read ${e.input ?? 'the stream'} at ${e.position}: ${String(e.cause)}` : String(e);
 * ```
 */
export class SourceReadError extends Error {
  override readonly name = 'SourceReadError';
  /** The path of the file being read; undefined for a stream read by `readableSource`. */
  readonly input: string | undefined;
  /**
   * Where reading failed: for a file, the byte offset the source was opened at or read from; for a stream,
   * the number of items read before it failed.
   */
  readonly position: number;
  /** The system error (`ENOENT`, `EACCES`, `EIO`…), or undefined when there is none (a stream closed early). */
  readonly cause: unknown;

  constructor(input: string | undefined, position: number, message: string, cause?: unknown) {
    super(message);
    this.input = input;
    this.position = position;
    this.cause = cause;
  }
}
