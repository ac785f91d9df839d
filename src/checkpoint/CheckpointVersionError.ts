/**
 * The error loading fails with when the latest checkpoint is intact (its checksum matches) but was written in
 * a format version this build of rxjs-sluice does not know, typically by a newer release. Loading does not
 * fall back to an older checkpoint here: that would silently rewind the pipeline past committed output.
 *
 * ## Example
 * ```ts
 * import { CheckpointVersionError } from 'rxjs-sluice';
 * const explain = (e: unknown) =>
 *   e instanceof CheckpointVersionError ? `checkpoint ${e.checkpointId} needs format ${e.input}` : String(e);
 * ```
 */
export class CheckpointVersionError extends Error {
  override readonly name = 'CheckpointVersionError';
  /** The format version found in the checkpoint. */
  readonly input: unknown;
  /** The checkpoint that carries it. */
  readonly checkpointId: number;
  /** The versions this build reads. */
  readonly supported: readonly number[];

  constructor(checkpointId: number, version: unknown, supported: readonly number[]) {
    super(`checkpoint ${checkpointId}: format version ${String(version)} is not supported (this build reads ${supported.join(', ')})`);
    this.input = version;
    this.checkpointId = checkpointId;
    this.supported = supported;
  }
}
