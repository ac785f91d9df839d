/**
 * The committed output of a `FileSink` directory is damaged: an epoch file was deleted, truncated or altered,
 * its checksum file is missing or damaged, an epoch that the sink did not write sits among them, or the
 * output does not end where the restored checkpoint says it does. `recover` checks every committed epoch up to
 * the restored checkpoint against the receipt stored in that checkpoint, and `readCommitted` checks each epoch
 * against its checksum file, so damage is never read as output. The message names the epoch, the file, and
 * the repair.
 *
 * ## Example
 * ```ts
 * import { FileSinkCorruptError, readCommitted } from 'rxjs-sluice/node';
 * try {
 *   readCommitted('./out');
 * } catch (e) {
 *   if (e instanceof FileSinkCorruptError) console.error(`epoch ${e.epoch} (${e.input}): ${e.reason}`);
 * }
 * ```
 */
export class FileSinkCorruptError extends Error {
  override readonly name = 'FileSinkCorruptError';
  /** The damaged (or missing) file. */
  readonly input: string;
  /** The epoch concerned. */
  readonly epoch: number;
  /** The checkpoint being restored; undefined when reading the output. */
  readonly checkpointId: number | undefined;
  /** What is wrong with it. */
  readonly reason: string;
  /** The underlying error (why a file could not be read), when there is one. */
  readonly cause: unknown;

  constructor(dir: string, file: string, epoch: number, checkpointId: number | undefined, reason: string, cause?: unknown) {
    super(
      `FileSink ${dir}: epoch ${epoch} (${file}) ${reason}` +
        (checkpointId === undefined ? '' : `, so checkpoint ${checkpointId} cannot be restored`) +
        '. Its committed output is damaged: put the original files back (from a backup), or move the directory away ' +
        'and the checkpoints with it, to start a new lineage.',
    );
    this.input = file;
    this.epoch = epoch;
    this.checkpointId = checkpointId;
    this.reason = reason;
    this.cause = cause;
  }
}
