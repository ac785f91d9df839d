/// <reference types="node" />
import { type ReplayableSource, type SourceItem } from '../checkpoint/source.js';
import { pulledObservable } from '../flow/pulled.js';
import { resolveSourceOptions, type SourceOptions } from '../flow/sourceOptions.js';
import { expectFunction, optionError } from '../shared/validate.js';
import { type FileLinesSourceOptions } from './fileLinesSource.js';
import { expectPath, LINE_OPTIONS, openLinePuller, resolveLineOptions, SKIP, type LineHandler } from './linePuller.js';
import { MalformedRecordError } from './MalformedRecordError.js';

/**
 * What {@link ndjsonSource} tells its `onWarning` hook: a malformed line skipped under `onMalformed: 'skip'`.
 *
 * ## Example
 * ```ts
 * import { type NdjsonWarning } from 'rxjs-sluice/node';
 * const onWarning = (w: NdjsonWarning) => console.warn(`${w.path} byte ${w.position}: ${w.message}`);
 * ```
 */
export interface NdjsonWarning {
  /** What happened: a line that is not JSON was skipped. */
  readonly kind: 'malformed-skipped';
  /** The file. */
  readonly path: string;
  /** The byte offset where the line starts. */
  readonly position: number;
  /** The line, whole (without its `\n`). */
  readonly line: string;
  /** Why it could not be parsed (the `SyntaxError` of `JSON.parse`). */
  readonly error: unknown;
  /** A one-line description, quoting at most the first 200 characters of the line. */
  readonly message: string;
}

/**
 * Options of {@link ndjsonSource}: those of every source (its `timestampOf` gets each parsed value and the byte
 * offset where its line starts), how the file is read (as for `fileLinesSource`), and what a malformed line does.
 *
 * ## Example
 * ```ts
 * import { sourceMetrics } from 'rxjs-sluice';
 * import { ndjsonSource, type NdjsonSourceOptions } from 'rxjs-sluice/node';
 * const metrics = sourceMetrics();
 * const options: NdjsonSourceOptions<{ at: number }> = {
 *   timestampOf: (e) => e.at, onMalformed: 'skip', onWarning: (w) => console.warn(w.message), metrics,
 * };
 * const source = ndjsonSource('./events.ndjson', options);
 * ```
 */
export interface NdjsonSourceOptions<T> extends SourceOptions<T>, Pick<FileLinesSourceOptions, 'encoding' | 'chunkSize' | 'maxLineBytes'> {
  /**
   * A line that is not JSON: `'error'` fails the output with a `MalformedRecordError`; `'skip'` drops the line,
   * counts it in `metrics.skipped` and reports it to `onWarning`. Blank lines are never records, whatever this is.
   * @default 'error'
   */
  readonly onMalformed?: 'error' | 'skip' | undefined;
  /**
   * Told about every line skipped under `onMalformed: 'skip'`. What it throws is ignored: a warning hook must
   * not take the pipeline down.
   * @default undefined (metrics.skipped still counts them)
   */
  readonly onWarning?: ((warning: NdjsonWarning) => void) | undefined;
}

const NAME = 'ndjsonSource';

/**
 * A replayable, flow-controlled source of the values of a newline-delimited JSON file (one JSON text per line),
 * read by the same line reader as {@link fileLinesSource}: the position is the byte offset just after a line, so
 * a restore seeks there, and CRLF, a last line without a newline, encodings, `chunkSize` and `maxLineBytes` work
 * the same. Lines that are empty or hold only whitespace are not records: they are passed over, uncounted. A
 * line that is not JSON fails the output with a `MalformedRecordError` (its `.input` the line and the byte
 * offset where it starts, `.cause` the `SyntaxError`), or with `onMalformed: 'skip'` is dropped, counted in
 * `metrics.skipped` and reported to `onWarning` (again after a restore to a position before it). Every other failure is `fileLinesSource`'s: `SourceReadError`,
 * `SourcePositionError`, `LineTooLongError`, or what `timestampOf` throws.
 *
 * @param path - The file to read; a non-empty string.
 * @param options - See {@link NdjsonSourceOptions}; validated here, and a bad one throws a `TypeError`.
 *
 * ## Example
 * ```ts
 * import { asyncWaitOrdered, checkpointable } from 'rxjs-sluice';
 * import { FileCheckpointStore, ndjsonSource } from 'rxjs-sluice/node';
 *
 * interface Order { id: string; at: number }
 * const job = checkpointable({
 *   source: ndjsonSource<Order>('./orders.ndjson', { timestampOf: (o) => o.at }),
 *   store: new FileCheckpointStore('./state'),
 *   every: { records: 10_000 },
 * });
 * job.pipe(asyncWaitOrdered(async (o: Order) => o.id.toUpperCase(), { id: 'normalise', capacity: 100 })).subscribe();
 * ```
 */
export function ndjsonSource<T = unknown>(path: string, options: NdjsonSourceOptions<T> = {}): ReplayableSource<T, number> {
  expectPath(NAME, path);
  const { timestampOf, metrics, scheduler } = resolveSourceOptions(NAME, options, [...LINE_OPTIONS, 'onMalformed', 'onWarning']);
  const reading = resolveLineOptions(NAME, options);
  const { onMalformed = 'error', onWarning } = options;
  if (onMalformed !== 'error' && onMalformed !== 'skip') throw optionError(NAME, 'onMalformed', "'error' or 'skip'", onMalformed);
  expectFunction(NAME, 'onWarning', onWarning);
  const where = `${NAME} ${path}`;

  /** A line that JSON.parse refused: blank (passed over), or malformed (skipped and reported, or an error). */
  const refused = (line: string, start: number, error: unknown): typeof SKIP => {
    if (BLANK.test(line)) return SKIP;
    const malformed = new MalformedRecordError(where, line, start, error);
    if (onMalformed === 'error') throw malformed;
    if (metrics !== null) metrics.skipped++;
    try {
      onWarning?.({ kind: 'malformed-skipped', path, position: start, line, error, message: `${malformed.message} (skipped)` });
    } catch {
      // A warning hook must not take the pipeline down: what it throws is ignored (documented on the option).
    }
    return SKIP;
  };

  const handle: LineHandler<SourceItem<T, number>> = (line, start, position) => {
    let value: T;
    try {
      value = JSON.parse(line) as T;
    } catch (error) {
      return refused(line, start, error);
    }
    return timestampOf === undefined ? { value, position } : { value, position, timestamp: timestampOf(value, start) };
  };
  return {
    open: (position = 0) =>
      pulledObservable<SourceItem<T, number>>(NAME, () => openLinePuller(NAME, path, position, reading, handle), scheduler, metrics),
  };
}

/** A line with nothing but whitespace (tested only on lines JSON.parse refused, so never on the hot path). */
const BLANK = /^\s*$/;
