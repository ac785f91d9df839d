/// <reference types="node" />
import { readdirSync, readFileSync } from 'node:fs';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type CheckpointedOutput, type CheckpointSink } from '../checkpoint/sink.js';
import { CheckpointRestoreError } from '../checkpoint/CheckpointRestoreError.js';
import { openDirectory } from './directory.js';
import { DirectoryLock, isLockTemporary } from './directoryLock.js';
import { paddedId, syncDirectory } from './fsync.js';

const COMMITTED = /^epoch-(\d{20})\.jsonl$/;
const STAGED = /^epoch-(\d{20})\.jsonl\.pending$/;

/**
 * A transactional file sink (Flink's `TwoPhaseCommitSinkFunction`, in the shape of its `FileSink`): each
 * checkpoint's outputs become one file, `epoch-<id, 20 digits>.jsonl`, one JSON line per output element
 * (`{"kind":"record","value":…,"timestamp":…}`; the file name carries the epoch, and the line order the
 * sequence). `preCommit` writes and fsyncs `epoch-<id>.jsonl.pending`; once
 * the checkpoint is durable, `commit` renames it into place and fsyncs the directory. On restart, `recover`
 * commits the pending files of checkpoints up to the restored one (a crash between the checkpoint and the
 * rename) and deletes later ones; committed epochs are never written twice. Reading the committed epochs in
 * id order ({@link readCommitted}) gives exactly the output of an uninterrupted run.
 *
 * @param dir - The output directory; created if missing.
 *
 * ## Example
 * ```ts
 * import { arraySource, checkpointable, mapRecords } from 'rxjs-sluice';
 * import { FileCheckpointStore, FileSink, readCommitted } from 'rxjs-sluice/node';
 *
 * const sink = new FileSink('./out');
 * checkpointable({ source: arraySource([1, 2, 3]), store: new FileCheckpointStore('./ckpt'), sink, every: { records: 2 } })
 *   .pipe(mapRecords((x: number) => x * 2))
 *   .subscribe({ complete: () => console.log(readCommitted('./out')) });
 * ```
 */
export class FileSink implements CheckpointSink<unknown> {
  /** The directory, made absolute. */
  readonly dir: string;
  /** The directory's lock: taken by open(), given back by close(). */
  private readonly lock: DirectoryLock;

  constructor(dir: string) {
    if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(`FileSink: dir must be a non-empty string, got ${String(dir)}`);
    this.dir = resolve(dir);
    this.lock = new DirectoryLock(this.dir, 'sink', 'FileSink');
    openDirectory(this.dir, true);
  }

  /** Takes the directory's lock (and deletes temporary lock files a crash left); DirectoryLockedError when another live pipeline holds it. */
  async open(): Promise<void> {
    await this.lock.acquire();
    try {
      for (const name of (await readdir(this.dir)).filter((n) => isLockTemporary(n, 'sink'))) await unlink(join(this.dir, name)).catch(ignoreMissing);
    } catch (err) {
      await this.lock.release().catch(() => undefined);
      throw err;
    }
  }

  /** Gives the directory's lock back; does nothing when it is not held. */
  async close(): Promise<void> {
    await this.lock.release();
  }

  async preCommit(checkpointId: number, outputs: readonly CheckpointedOutput<unknown>[]): Promise<void> {
    let text = '';
    for (const output of outputs) text += JSON.stringify(output.element) + '\n';
    const handle = await open(this.staged(checkpointId), 'w');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    // The file's name must be durable too before the checkpoint is: recover() looks for it after a power loss.
    await syncDirectory(this.dir);
  }

  async commit(checkpointId: number): Promise<void> {
    if (await exists(this.committed(checkpointId))) {
      // Committed before a crash (and pre-committed again by a run restored from an older checkpoint): never twice.
      await unlink(this.staged(checkpointId)).catch(ignoreMissing);
      return;
    }
    await rename(this.staged(checkpointId), this.committed(checkpointId));
    await syncDirectory(this.dir);
  }

  async abort(checkpointId: number): Promise<void> {
    await unlink(this.staged(checkpointId)).catch(ignoreMissing);
  }

  async recover(checkpointId: number | undefined): Promise<void> {
    const names = await readdir(this.dir);
    // Committed epochs beyond the restored checkpoint mean newer checkpoints existed and were lost (damaged,
    // or deleted): replaying from here would commit that output a second time, under other epoch boundaries.
    const beyond = names.map((name) => COMMITTED.exec(name)).filter((m) => m !== null).map((m) => Number(m![1]))
      .filter((id) => checkpointId === undefined || id > checkpointId).sort((a, b) => a - b);
    if (beyond.length !== 0) {
      throw new CheckpointRestoreError(
        checkpointId ?? 0, beyond,
        `FileSink ${this.dir} already holds committed output of checkpoint(s) ${beyond.join(', ')}, beyond the one being restored (${checkpointId ?? 'none'}); restoring would commit it twice. Repair the checkpoints or move the output away.`,
      );
    }
    for (const name of names) {
      const match = STAGED.exec(name);
      if (match === null) continue;
      const id = Number(match[1]);
      if (checkpointId !== undefined && id <= checkpointId) {
        if (await exists(this.committed(id))) await unlink(this.staged(id));
        else await rename(this.staged(id), this.committed(id));
      } else {
        await unlink(this.staged(id)); // its checkpoint never became durable: the replay writes it again
      }
    }
    await syncDirectory(this.dir);
  }

  private staged(checkpointId: number): string {
    return join(this.dir, `epoch-${paddedId(checkpointId)}.jsonl.pending`);
  }

  private committed(checkpointId: number): string {
    return join(this.dir, `epoch-${paddedId(checkpointId)}.jsonl`);
  }
}

/**
 * The committed output of a {@link FileSink} directory: every committed epoch file, in checkpoint order,
 * concatenated. Pending (uncommitted) files are ignored.
 *
 * ## Example
 * ```ts
 * import { readCommitted } from 'rxjs-sluice/node';
 * const lines = readCommitted('./out').split('\n').filter(Boolean).map((l) => JSON.parse(l));
 * ```
 */
export function readCommitted(dir: string): string {
  return readdirSync(dir)
    .filter((name) => COMMITTED.test(name))
    .sort()
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    ignoreMissing(err);
    return false;
  }
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}
