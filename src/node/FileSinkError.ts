/**
 * What a `FileSink` was doing when it failed, for {@link FileSinkError}: a protocol step (`'open'`,
 * `'preCommit'`, `'commit'`, `'abort'`, `'recover'`, `'close'`), `'encode'` (an output the codec could not
 * write as one line) or `'read'` (reading committed output back).
 *
 * ## Example
 * ```ts
 * import { type FileSinkOperation } from 'rxjs-sluice/node';
 * const isEncoding = (op: FileSinkOperation) => op === 'encode';
 * ```
 */
export type FileSinkOperation = 'open' | 'preCommit' | 'commit' | 'abort' | 'recover' | 'close' | 'encode' | 'read';

/**
 * A `FileSink` step failed: a file system error (`ENOSPC`, `EACCES`, a FIFO where an epoch file should be…)
 * or an output its codec cannot encode (`operation: 'encode'`, `input`: the output element). It says which
 * operation, which file and which epoch. In a pipeline a failed `preCommit` fails that checkpoint (reported
 * through `onWarning`), and its outputs wait for the next one; a failed `commit` or `recover` stops the run.
 *
 * ## Example
 * ```ts
 * import { type CheckpointWarning } from 'rxjs-sluice';
 * import { FileSinkError } from 'rxjs-sluice/node';
 * const onWarning = (w: CheckpointWarning) => {
 *   if (w.error instanceof FileSinkError && w.error.operation === 'encode') console.warn('cannot write', w.error.input);
 * };
 * ```
 */
export class FileSinkError extends Error {
  override readonly name = 'FileSinkError';
  /** The step that failed. */
  readonly operation: FileSinkOperation;
  /** The file (or directory) concerned. */
  readonly path: string;
  /** The epoch (checkpoint id) concerned; undefined for `open`, `close` and `read`. */
  readonly checkpointId: number | undefined;
  /** The output element that could not be encoded (`'encode'`); otherwise the path. */
  readonly input: unknown;
  /** The underlying error (the file system's, or the codec's). */
  readonly cause: unknown;

  constructor(operation: FileSinkOperation, path: string, checkpointId: number | undefined, cause: unknown, input: unknown = path) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const epoch = checkpointId === undefined ? '' : ` epoch ${checkpointId}`;
    super(operation === 'encode'
      ? `FileSink ${path}: cannot encode an output of epoch ${checkpointId}: ${reason}`
      : `FileSink: cannot ${operation}${epoch} (${path}): ${reason}`);
    this.operation = operation;
    this.path = path;
    this.checkpointId = checkpointId;
    this.input = input;
    this.cause = cause;
  }
}
