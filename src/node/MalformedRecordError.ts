/** How much of a malformed line an error message quotes. */
const PREVIEW_CHARS = 200;

/**
 * A record of the input cannot be parsed: a line of an `ndjsonSource` file that is not JSON (with
 * `onMalformed: 'error'`, the default). `.input` holds the line and the byte offset where it starts, `.cause`
 * the parser's `SyntaxError`; the message quotes at most the first 200 characters of the line.
 *
 * ## Example
 * ```ts
 * import { MalformedRecordError } from 'rxjs-sluice/node';
 * const explain = (e: unknown) =>
 *   e instanceof MalformedRecordError ? `bad line at byte ${e.input.position}: ${e.input.line.slice(0, 40)}` : String(e);
 * ```
 */
export class MalformedRecordError extends Error {
  override readonly name = 'MalformedRecordError';
  /** The line (whole) and the byte offset where it starts. */
  readonly input: { readonly line: string; readonly position: number };
  /** Why it could not be parsed (the `SyntaxError` of `JSON.parse`). */
  readonly cause: unknown;

  /** `where` names the input in the message (`ndjsonSource ./events.ndjson`). */
  constructor(where: string, line: string, position: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const preview = line.length > PREVIEW_CHARS
      ? `${JSON.stringify(line.slice(0, PREVIEW_CHARS))}… (${line.length} characters)`
      : JSON.stringify(line);
    super(`${where}: malformed record at byte ${position}: ${reason}; the line: ${preview}`);
    this.input = Object.freeze({ line, position });
    this.cause = cause;
  }
}
