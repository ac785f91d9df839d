import { CheckpointStoreError } from '../checkpoint/CheckpointStoreError.js';

/**
 * What a `FileCheckpointStore` operation does, for {@link FileCheckpointStoreError}: `'open'` (taking the
 * directory's lock and cleaning up after a crash), `'list'`, `'read'`, `'write'`, `'close'`.
 *
 * ## Example
 * ```ts
 * import { type FileCheckpointStoreOperation } from 'rxjs-sluice/node';
 * const retryable = (op: FileCheckpointStoreOperation) => op === 'write';
 * ```
 */
export type FileCheckpointStoreOperation = 'open' | 'list' | 'read' | 'write' | 'close';

/**
 * A file system error of a `FileCheckpointStore` (`ENOSPC`, `EACCES`, `EIO`, a file that is not a regular
 * file…), with which operation failed, on which file, for which checkpoint. It is a `CheckpointStoreError`,
 * so the pipeline treats it as any store failure: a failed write fails that checkpoint (reported through
 * `onWarning`), a read that fails makes loading skip that checkpoint as damaged, and a failed `open` or
 * `list` stops the run. Its `name` is `'CheckpointStoreError'`; `instanceof FileCheckpointStoreError` tells it apart.
 *
 * ## Example
 * ```ts
 * import { type CheckpointWarning } from 'rxjs-sluice';
 * import { FileCheckpointStoreError } from 'rxjs-sluice/node';
 * const onWarning = (w: CheckpointWarning) => {
 *   if (w.error instanceof FileCheckpointStoreError) console.warn(w.error.operation, w.error.path, w.error.checkpointId);
 * };
 * ```
 */
export class FileCheckpointStoreError extends CheckpointStoreError {
  // `name` stays 'CheckpointStoreError' (the base class's literal type): this is one, with details.
  /** The operation that failed. */
  readonly operation: FileCheckpointStoreOperation;
  /** The file (or the directory) it failed on; also `input`. */
  readonly path: string;
  /** The checkpoint concerned; undefined for `open`, `list` and `close`. */
  readonly checkpointId: number | undefined;

  constructor(operation: FileCheckpointStoreOperation, path: string, checkpointId: number | undefined, cause: unknown) {
    const what = checkpointId === undefined ? `cannot ${operation}` : `cannot ${operation} checkpoint ${checkpointId}`;
    super(path, `${what}: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
    this.operation = operation;
    this.path = path;
    this.checkpointId = checkpointId;
  }
}
