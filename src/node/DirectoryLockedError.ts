/**
 * Who holds a directory lock, as its lock file says.
 *
 * ## Example
 * ```ts
 * import { DirectoryLockedError, type LockOwner } from 'rxjs-sluice/node';
 * const ownerOf = (e: unknown): LockOwner | undefined => (e instanceof DirectoryLockedError ? e.owner : undefined);
 * ```
 */
export interface LockOwner {
  /** The owner's process id. */
  readonly pid: number;
  /** The host name of the owner's machine (`os.hostname()`). */
  readonly host: string;
}

/**
 * A `FileCheckpointStore` or `FileSink` could not take its directory's lock in `open()`: another live pipeline
 * holds it (another process on this host, another instance in this process, or a process on another host,
 * whose liveness cannot be checked from here), or the lock file is damaged. Two pipelines writing one
 * directory would restore each other's checkpoints and duplicate or lose committed output, so the second is
 * refused. The message says who holds the lock and how to repair a lock whose owner is gone.
 *
 * ## Example
 * ```ts
 * import { DirectoryLockedError } from 'rxjs-sluice/node';
 * const explain = (e: unknown) =>
 *   e instanceof DirectoryLockedError ? `${e.input} is used by pid ${e.owner?.pid} on ${e.owner?.host} (${e.lockFile})` : String(e);
 * ```
 */
export class DirectoryLockedError extends Error {
  override readonly name = 'DirectoryLockedError';
  /** The directory that is locked. */
  readonly input: string;
  /** The lock file that stands in the way. */
  readonly lockFile: string;
  /** Its owner; undefined when the lock file is damaged. */
  readonly owner: LockOwner | undefined;
  /** The underlying error, when there is one (why a lock file could not be read). */
  readonly cause: unknown;

  constructor(dir: string, lockFile: string, owner: LockOwner | undefined, message: string, cause?: unknown) {
    super(message);
    this.input = dir;
    this.lockFile = lockFile;
    this.owner = owner;
    this.cause = cause;
  }
}
