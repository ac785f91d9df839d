/// <reference types="node" />
import { mkdirSync, statSync } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type CheckpointStore } from '../checkpoint/store.js';
import { CheckpointStoreError } from '../checkpoint/CheckpointStoreError.js';
import { expectInteger, expectObject, rejectUnknownOptions } from '../shared/validate.js';
import { paddedId, syncDirectory, syncDirectorySync, writeFileDurably } from './fsync.js';

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
  readonly retain?: number;
  /**
   * Create the directory (and its parents) when it does not exist, as Flink does with its checkpoint
   * directory. With `false`, a missing directory throws `CheckpointStoreError`, which catches a mistyped path
   * before a pipeline silently starts from scratch in a new, empty directory.
   * @default true
   */
  readonly createDirectory?: boolean;
}

const NAME = 'FileCheckpointStore';
const FILE = /^checkpoint-(\d{20})\.json$/;

/**
 * Keeps checkpoints as files in a directory, one per checkpoint: `checkpoint-<id, 20 digits>.json`. Each write
 * goes to a temporary file that is fsynced, renamed into place and made durable by fsyncing the directory,
 * so a crash at any instant leaves either the whole new checkpoint or none of it. The newest `retain` are
 * kept. Loading (by the pipeline) verifies each file's checksum and falls back past damaged ones.
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

  constructor(dir: string, options: FileCheckpointStoreOptions = {}) {
    if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(`${NAME}: dir must be a non-empty string, got ${String(dir)}`);
    expectObject(NAME, 'options', options);
    rejectUnknownOptions(NAME, options, ['retain', 'createDirectory']);
    const { retain = 3, createDirectory = true } = options;
    expectInteger(NAME, 'retain', retain, 1);
    if (typeof createDirectory !== 'boolean') throw new TypeError(`${NAME}: option "createDirectory" must be a boolean, got ${String(createDirectory)}`);
    this.dir = resolve(dir);
    this.retain = retain;
    openDirectory(this.dir, createDirectory);
  }

  async write(checkpointId: number, text: string): Promise<void> {
    await writeFileDurably(join(this.dir, fileName(checkpointId)), text);
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
    const names = await readdir(this.dir);
    const ids: number[] = [];
    for (const name of names) {
      const match = FILE.exec(name);
      if (match !== null) ids.push(Number(match[1]));
    }
    return ids.sort((a, b) => a - b);
  }

  read(checkpointId: number): Promise<string> {
    return readFile(join(this.dir, fileName(checkpointId)), 'utf8');
  }
}

function fileName(checkpointId: number): string {
  return `checkpoint-${paddedId(checkpointId)}.json`;
}

/** Checks (or creates) a store or sink directory up front, so a bad path fails before any pipeline runs. */
export function openDirectory(dir: string, create: boolean): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new CheckpointStoreError(dir, 'cannot be read', err);
    if (!create) throw new CheckpointStoreError(dir, 'does not exist (and createDirectory is false)', err);
    try {
      const first = mkdirSync(dir, { recursive: true }) ?? dir;
      // Each new directory's entry in its parent must be durable too, or a power loss could take the whole
      // directory, and the pipeline would silently start from scratch.
      for (let created = dir; ; created = dirname(created)) {
        syncDirectorySync(dirname(created));
        if (created === first) break;
      }
    } catch (mkdirErr) {
      throw new CheckpointStoreError(dir, 'does not exist and cannot be created', mkdirErr);
    }
    return;
  }
  if (!isDirectory) throw new CheckpointStoreError(dir, 'is not a directory');
}
