/// <reference types="node" />
import { readdir, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type CheckpointStore } from '../checkpoint/store.js';
import { expectInteger, expectObject, optionError, rejectUnknownOptions } from '../shared/validate.js';
import { openDirectory } from './directory.js';
import { DirectoryLock, isLockTemporary } from './directoryLock.js';
import { DirectoryLockedError } from './DirectoryLockedError.js';
import { FileCheckpointStoreError, type FileCheckpointStoreOperation } from './FileCheckpointStoreError.js';
import { paddedId, syncDirectory, writeFileDurably } from './fsync.js';
import { readRegularFile } from './regularFile.js';

/**
 * Options of {@link FileCheckpointStore}.
 *
 * ## Example
 * ```ts
 * import { FileCheckpointStore, type FileCheckpointStoreOptions } from 'rxjs-sluice/node';
 * const options: FileCheckpointStoreOptions = { retain: 5, createDirectory: false };
 * const store = new FileCheckpointStore('/var/lib/my-job/checkpoints', options);
 * ```
 */
export interface FileCheckpointStoreOptions {
  /**
   * How many of the newest checkpoints to keep. More than 1 lets a restore fall back past a damaged file.
   * @default 3
   */
  readonly retain?: number | undefined;
  /**
   * Create the directory (and its parents) when it does not exist, as Flink does with its checkpoint
   * directory. With `false`, a missing directory throws `CheckpointStoreError`, which catches a mistyped path
   * before a pipeline silently starts from scratch in a new, empty directory.
   * @default true
   */
  readonly createDirectory?: boolean | undefined;
}

const NAME = 'FileCheckpointStore';
const FILE = /^checkpoint-(\d{20})\.json$/;
/** A write's temporary file (`writeFileDurably`): `checkpoint-<id>.json.<pid>-<n>.tmp`. */
const TEMPORARY = /^checkpoint-\d{20}\.json\..+\.tmp$/;

/**
 * Keeps checkpoints as files in a directory, one per checkpoint: `checkpoint-<id, 20 digits>.json`. Each write
 * goes to a temporary file that is fsynced, renamed into place and made durable by fsyncing the directory,
 * so a crash at any instant leaves either the whole new checkpoint or none of it. The newest `retain` are
 * kept. Loading (by the pipeline) verifies each file's checksum and falls back past damaged ones; a file with
 * a checkpoint's name that is not a regular file (a FIFO, a device, a directory) is damage too, found without
 * blocking on it.
 *
 * A pipeline calls `open()` when it starts and `close()` when it ends. `open()` takes the directory's lock
 * (`sluice-store.lock-<n>`), so a second live pipeline on the directory, in this process or another one,
 * fails with `DirectoryLockedError`; a lock whose owner has died is taken over. Once the lock is held it
 * deletes the temporary files that crashed writes left behind. The methods work without `open()` too, taking
 * no lock: a reader of a running pipeline's checkpoints (`readLatestCheckpoint`) must not be refused.
 * File system errors are `FileCheckpointStoreError`s naming the operation, the file and the checkpoint.
 *
 * @param dir - The directory; created if missing unless `createDirectory` is false.
 * @throws CheckpointStoreError when the directory is missing (and may not be created) or is not a directory.
 *
 * ## Example
 * ```ts
 * import { arraySource, checkpointable } from 'rxjs-sluice';
 * import { FileCheckpointStore, FileSink } from 'rxjs-sluice/node';
 *
 * const job = checkpointable({
 *   source: arraySource(['a', 'b', 'c']),
 *   store: new FileCheckpointStore('./state/checkpoints'),
 *   sink: new FileSink('./state/output'),
 *   every: { records: 100 },
 * });
 * job.pipe().subscribe({ complete: () => console.log('done; a rerun resumes from the last checkpoint') });
 * ```
 */
export class FileCheckpointStore implements CheckpointStore {
  /** The directory, made absolute. */
  readonly dir: string;
  /** How many checkpoints to keep. */
  private readonly retain: number;
  /** The directory's lock: taken by open(), given back by close(). */
  private readonly lock: DirectoryLock;

  constructor(dir: string, options: FileCheckpointStoreOptions = {}) {
    if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(`${NAME}: dir must be a non-empty string, got ${String(dir)}`);
    expectObject(NAME, 'options', options);
    rejectUnknownOptions(NAME, options, ['retain', 'createDirectory']);
    const { retain = 3, createDirectory = true } = options;
    expectInteger(NAME, 'retain', retain, 1);
    if (typeof createDirectory !== 'boolean') throw optionError(NAME, 'createDirectory', 'a boolean', createDirectory);
    this.dir = resolve(dir);
    this.retain = retain;
    this.lock = new DirectoryLock(this.dir, 'store', NAME);
    openDirectory(this.dir, createDirectory);
  }

  /**
   * Takes the directory's lock, then deletes the temporary files of writes that crashed. Rejects with
   * `DirectoryLockedError` when another live pipeline holds the lock (or this store is already open), and with
   * `FileCheckpointStoreError` on a file system error.
   */
  async open(): Promise<void> {
    try {
      await this.lock.acquire();
    } catch (err) {
      throw err instanceof DirectoryLockedError ? err : new FileCheckpointStoreError('open', this.dir, undefined, err);
    }
    try {
      await this.removeTemporaries();
    } catch (err) {
      await this.lock.release().catch(() => undefined);
      throw err;
    }
  }

  /** Gives the directory's lock back; does nothing when it is not held. */
  /** The pipeline has ended: a successor in this process waits for close() rather than being refused. */
  ending(): void {
    this.lock.ending();
  }

  async close(): Promise<void> {
    await this.lock.release().catch((err: unknown) => {
      throw new FileCheckpointStoreError('close', this.dir, undefined, err);
    });
  }

  async write(checkpointId: number, text: string): Promise<void> {
    const path = join(this.dir, fileName(checkpointId));
    await attempt('write', path, checkpointId, () => writeFileDurably(path, text));
    // The checkpoint is durable now: retention is best effort, and its failure must not make the write look
    // failed (the pipeline would then treat a checkpoint that exists as missing). The next write retries it.
    try {
      const ids = await this.list();
      const old = ids.slice(0, Math.max(0, ids.length - this.retain)).filter((id) => id !== checkpointId);
      if (old.length === 0) return;
      await Promise.all(old.map((id) => unlink(join(this.dir, fileName(id))).catch(() => undefined)));
      await syncDirectory(this.dir);
    } catch {
      // Left for the next write.
    }
  }

  /** Ids in ascending order; temporary files left by a crash are ignored. */
  async list(): Promise<number[]> {
    const names = await attempt('list', this.dir, undefined, () => readdir(this.dir));
    const ids: number[] = [];
    for (const name of names) {
      const match = FILE.exec(name);
      if (match !== null) ids.push(Number(match[1]));
    }
    return ids.sort((a, b) => a - b);
  }

  /** The checkpoint's text. A file that is not a regular file is refused at once (never opened for a blocking read). */
  async read(checkpointId: number): Promise<string> {
    const path = join(this.dir, fileName(checkpointId));
    return (await attempt('read', path, checkpointId, () => readRegularFile(path))).toString('utf8');
  }

  /** Deletes what crashed writes left: temporary checkpoint files, and temporary lock files. */
  private async removeTemporaries(): Promise<void> {
    const names = await attempt('open', this.dir, undefined, () => readdir(this.dir));
    const leftovers = names.filter((name) => TEMPORARY.test(name) || isLockTemporary(name, 'store'));
    if (leftovers.length === 0) return;
    for (const name of leftovers) {
      const path = join(this.dir, name);
      await attempt('open', path, undefined, () => unlink(path).catch(ignoreMissing));
    }
    await attempt('open', this.dir, undefined, () => syncDirectory(this.dir));
  }
}

/** Runs a file system step, turning its failure into a FileCheckpointStoreError that says what failed where. */
async function attempt<T>(operation: FileCheckpointStoreOperation, path: string, checkpointId: number | undefined, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw new FileCheckpointStoreError(operation, path, checkpointId, err);
  }
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

function fileName(checkpointId: number): string {
  return `checkpoint-${paddedId(checkpointId)}.json`;
}
