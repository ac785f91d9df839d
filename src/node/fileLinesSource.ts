/// <reference types="node" />
import { type ReplayableSource, type SourceItem } from '../checkpoint/source.js';
import { pulledObservable } from '../flow/pulled.js';
import { resolveSourceOptions, type SourceOptions } from '../flow/sourceOptions.js';
import { expectPath, LINE_OPTIONS, openLinePuller, resolveLineOptions, type LineEncoding, type LineHandler } from './linePuller.js';

/**
 * Options of {@link fileLinesSource}: those of every source (its `timestampOf` gets each line and the byte
 * offset where it starts), and how the file is read.
 *
 * ## Example
 * ```ts
 * import { fileLinesSource, type FileLinesSourceOptions } from 'rxjs-sluice/node';
 * const options: FileLinesSourceOptions = { encoding: 'latin1', chunkSize: 1 << 20, maxLineBytes: 1 << 20 };
 * const source = fileLinesSource('./access.log', options);
 * ```
 */
export interface FileLinesSourceOptions extends SourceOptions<string> {
  /**
   * The file's text encoding: one in which a newline is the byte 0x0A and that byte is never part of another
   * character (so not UTF-16).
   * @default 'utf8'
   */
  readonly encoding?: LineEncoding | undefined;
  /**
   * How many bytes each read asks for (an integer >= 1). Lines are answered at once while the current chunk
   * holds them; the next chunk is read when it does not.
   * @default 65536
   */
  readonly chunkSize?: number | undefined;
  /**
   * The longest line accepted, in bytes, not counting its `\n` (a `\r` before it counts). A longer line fails
   * the output with a `LineTooLongError` instead of being buffered, so a file without newlines is never read
   * into memory whole. An integer >= 1.
   * @default 16777216 (16 MiB)
   */
  readonly maxLineBytes?: number | undefined;
}

const NAME = 'fileLinesSource';

/**
 * A replayable, flow-controlled source of the lines of a text file. The position is the byte offset just after
 * a line (after its `\n`), so a restore seeks there and reads on: nothing before it is read again. Lines are
 * split on `\n`, a `\r` before it is removed (CRLF files), and a last line without a newline is still a line
 * (its position is the file's size); an empty file has no lines. Like every sluice source, it reads only while
 * the operators it feeds have room (see docs/flow-control.md), so a huge file is not read ahead of them.
 *
 * It fails, never restarts silently or skips, when:
 * - the file is missing, unreadable, a directory or anything but a regular file, or a read fails:
 *   `SourceReadError`, its `.input` the path and `.cause` the system error;
 * - the position is past the end of the file (it shrank), is not the end of a line (the byte before it is not
 *   a `\n`, unless it is the file's end: the file changed), or is not an integer >= 0: `SourcePositionError`;
 * - a line is longer than `maxLineBytes`: `LineTooLongError`;
 * - `timestampOf` throws: the output errors with what it threw.
 *
 * The file is opened when the source is subscribed (opened at a position), read with `fs.read` in chunks,
 * and closed at its end, on an error, or when the subscription ends early.
 *
 * @param path - The file to read; a non-empty string.
 * @param options - See {@link FileLinesSourceOptions}; validated here, and a bad one throws a `TypeError`.
 *
 * ## Example
 * ```ts
 * import { asyncWaitOrdered, checkpointable } from 'rxjs-sluice';
 * import { FileCheckpointStore, fileLinesSource } from 'rxjs-sluice/node';
 *
 * const job = checkpointable({
 *   source: fileLinesSource('./access.log'),
 *   store: new FileCheckpointStore('./state'),
 *   every: { records: 10_000 },
 * });
 * job.pipe(asyncWaitOrdered(async (line: string) => line.length, { id: 'measure', capacity: 100 })).subscribe();
 * ```
 */
export function fileLinesSource(path: string, options: FileLinesSourceOptions = {}): ReplayableSource<string, number> {
  expectPath(NAME, path);
  const { timestampOf, metrics, scheduler } = resolveSourceOptions(NAME, options, LINE_OPTIONS);
  const reading = resolveLineOptions(NAME, options);
  const handle: LineHandler<SourceItem<string, number>> = timestampOf === undefined
    ? (value, _start, position) => ({ value, position })
    : (value, start, position) => ({ value, position, timestamp: timestampOf(value, start) });
  return {
    open: (position = 0) =>
      pulledObservable<SourceItem<string, number>>(NAME, () => openLinePuller(NAME, path, position, reading, handle), scheduler, metrics),
  };
}
