/**
 * A line of a file read by `fileLinesSource` or `ndjsonSource` is longer than the source's `maxLineBytes`: the
 * source fails rather than buffer it (a file without newlines would otherwise be read into memory whole). Raise
 * `maxLineBytes` if your lines really are that long.
 *
 * ## Example
 * ```ts
 * import { LineTooLongError } from 'rxjs-sluice/node';
 * const explain = (e: unknown) =>
 *   e instanceof LineTooLongError ? `${e.input}: the line at byte ${e.position} exceeds ${e.maxLineBytes} bytes` : String(e);
 * ```
 */
export class LineTooLongError extends Error {
  override readonly name = 'LineTooLongError';
  /** The path of the file. */
  readonly input: string;
  /** The byte offset where the line starts. */
  readonly position: number;
  /** The limit it exceeds, in bytes (not counting the line's `\n`). */
  readonly maxLineBytes: number;
  /** Always undefined: there is no underlying error. */
  readonly cause: unknown = undefined;

  constructor(caller: string, input: string, position: number, maxLineBytes: number) {
    super(`${caller}: the line at byte ${position} of ${input} is longer than maxLineBytes (${maxLineBytes} bytes); raise the option if lines are that long`);
    this.input = input;
    this.position = position;
    this.maxLineBytes = maxLineBytes;
  }
}
