/// <reference types="node" />
import { readdir, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { jsonCodec, type CheckpointCodec } from '../checkpoint/codec.js';
import { CheckpointRestoreError } from '../checkpoint/CheckpointRestoreError.js';
import { type CheckpointedOutput, type CheckpointSink, type SinkRecovery } from '../checkpoint/sink.js';
import { describe } from '../shared/describe.js';
import { expectCodec, expectObject, rejectUnknownOptions } from '../shared/validate.js';
import { openDirectory } from './directory.js';
import { DirectoryLock, isLockTemporary } from './directoryLock.js';
import { DirectoryLockedError } from './DirectoryLockedError.js';
import {
  dataName, EPOCH_FILE, EpochVerifier, GENESIS, idsOf, isMissing, parseReceipt, parseSum, pendingDataName, pendingSumName,
  pointOf, sealEpoch, serializeReceipt, serializeSum, sumName, type ChainPoint, type FileRead,
} from './epochChain.js';
import { FileSinkCorruptError } from './FileSinkCorruptError.js';
import { FileSinkError, type FileSinkOperation } from './FileSinkError.js';
import { syncDirectory } from './fsync.js';
import { readRegularFile, writeRegularFile } from './regularFile.js';

const NAME = 'FileSink';

/**
 * Options of {@link FileSink}.
 *
 * ## Example
 * ```ts
 * import { type CheckpointCodec } from 'rxjs-sluice';
 * import { FileSink, type FileSinkOptions } from 'rxjs-sluice/node';
 * const bigintJson: CheckpointCodec = {
 *   name: 'bigint-json',
 *   encode: (v) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? { $big: String(x) } : x)),
 *   decode: (t) => JSON.parse(t, (_k, x) => (x && typeof x === 'object' && '$big' in x ? BigInt(x.$big) : x)),
 * };
 * const options: FileSinkOptions = { codec: bigintJson };
 * const sink = new FileSink('./out', options);
 * ```
 */
export interface FileSinkOptions {
  /**
   * How each output element becomes one line of an epoch file (and back, for `readCommittedElements`). Its
   * text must not contain a line break. Its name is recorded with every epoch, and a restore with a codec of
   * another name fails rather than mix encodings in one directory.
   * @default the pipeline's codec (handed to `recover`); `jsonCodec` for a sink used on its own, before any `recover`
   */
  readonly codec?: CheckpointCodec | undefined;
}

/**
 * A transactional file sink (Flink's `TwoPhaseCommitSinkFunction`, in the shape of its `FileSink`): each
 * checkpoint's outputs become one file, `epoch-<id, 20 digits>.jsonl`, one line per output element written by
 * the codec (the pipeline's, by default: `{"kind":"record","value":…,"timestamp":…}` with `jsonCodec`; the
 * file name carries the epoch, and the line order the sequence), next to a checksum file `epoch-<id>.sum`.
 *
 * `preCommit` writes and fsyncs `epoch-<id>.jsonl.pending` and `epoch-<id>.sum.pending`, and returns a
 * receipt (the head of a SHA-256 chain over every epoch up to this one) that the pipeline stores in the
 * checkpoint. Once the checkpoint is durable, `commit` renames both into place and fsyncs the directory. On
 * restart, `recover` commits the pending epochs up to the restored checkpoint (a crash between the checkpoint
 * and the rename), deletes later ones, and verifies every committed epoch against the restored checkpoint's
 * receipt: a deleted, truncated, altered or foreign epoch file fails with `FileSinkCorruptError`. Committed
 * epochs are never written twice. Reading the committed epochs in id order ({@link readCommitted}) gives
 * exactly the output of an uninterrupted run.
 *
 * A pipeline calls `open()` when it starts and `close()` when it ends: `open()` takes the directory's lock
 * (`sluice-sink.lock-<n>`), so a second live pipeline on it fails with `DirectoryLockedError`; a dead owner's
 * lock is taken over. Used on its own, without `open()`, the sink takes no lock.
 *
 * @param dir - The output directory; created if missing.
 * @throws CheckpointStoreError when the directory cannot be used; TypeError for a bad option.
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
  /** The codec given as an option; undefined to use the pipeline's. */
  private readonly ownCodec: CheckpointCodec | undefined;
  /** The codec lines are written with: the option's, else the pipeline's (from recover), else jsonCodec. */
  private codec: CheckpointCodec;
  /** The directory's lock: taken by open(), given back by close(). */
  private readonly lock: DirectoryLock;
  /** The chain through the newest committed epoch; undefined until known (recover sets it, else it is read from that epoch's checksum file). */
  private committed: ChainPoint | undefined = undefined;
  /** Pre-committed epochs not committed yet, ascending, each with the chain after it. Emptied by commit, abort and recover. */
  private staged: Array<{ readonly epoch: number; readonly point: ChainPoint }> = [];

  constructor(dir: string, options: FileSinkOptions = {}) {
    if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(`${NAME}: dir must be a non-empty string, got ${describe(dir)}`);
    expectObject(NAME, 'options', options);
    rejectUnknownOptions(NAME, options, ['codec']);
    if (options.codec !== undefined) expectCodec(NAME, 'codec', options.codec);
    this.dir = resolve(dir);
    this.ownCodec = options.codec;
    this.codec = options.codec ?? jsonCodec;
    this.lock = new DirectoryLock(this.dir, 'sink', NAME);
    openDirectory(this.dir, true, 'FileSink directory');
  }

  /**
   * Takes the directory's lock (and deletes temporary lock files a crash left). Rejects with
   * `DirectoryLockedError` when another live pipeline holds it (or this sink is already open).
   */
  async open(): Promise<void> {
    try {
      await this.lock.acquire();
    } catch (err) {
      throw err instanceof DirectoryLockedError ? err : new FileSinkError('open', this.dir, undefined, err);
    }
    try {
      await this.step('open', this.dir, undefined, async () => {
        const leftovers = (await readdir(this.dir)).filter((name) => isLockTemporary(name, 'sink'));
        for (const name of leftovers) await unlink(join(this.dir, name)).catch(ignoreMissing);
      });
    } catch (err) {
      await this.lock.release().catch(() => undefined);
      throw err;
    }
  }

  /** Gives the directory's lock back; does nothing when it is not held. */
  async close(): Promise<void> {
    await this.step('close', this.dir, undefined, () => this.lock.release());
  }

  /** The pipeline has ended: a successor in this process waits for close() rather than being refused. */
  ending(): void {
    this.lock.ending();
  }

  /**
   * Writes the epoch's lines and its checksum file as pending files, fsynced, and returns the receipt: the
   * chain over every epoch up to this one. An output the codec cannot write as one line fails with
   * `FileSinkError` (`operation: 'encode'`, `input`: the element), before anything is written.
   */
  async preCommit(checkpointId: number, outputs: readonly CheckpointedOutput<unknown>[]): Promise<string> {
    const data = Buffer.from(this.encodeAll(checkpointId, outputs), 'utf8');
    const dataPath = join(this.dir, pendingDataName(checkpointId));
    return this.step('preCommit', dataPath, checkpointId, async () => {
      const alreadyCommitted = await this.committedSumOf(checkpointId);
      // Committed before a crash (and pre-committed again by a run restored from an older checkpoint): never twice.
      if (alreadyCommitted !== undefined) return serializeReceipt(pointOf(alreadyCommitted));
      // The chain goes through the epochs still staged before this one (a checkpoint whose write was ambiguous
      // keeps its pre-commit, and is committed together with this one).
      const earlier = this.staged.filter((e) => e.epoch < checkpointId);
      const before = earlier.length === 0 ? await this.committedPoint(checkpointId) : earlier[earlier.length - 1]!.point;
      const { sum, point } = sealEpoch(before, checkpointId, this.codec.name, data);
      await writeRegularFile(dataPath, data);
      await writeRegularFile(join(this.dir, pendingSumName(checkpointId)), serializeSum(sum));
      // The files' names must be durable too before the checkpoint is: recover() looks for them after a power loss.
      await syncDirectory(this.dir);
      this.staged = [...earlier, { epoch: checkpointId, point }];
      return serializeReceipt(point);
    });
  }

  /** Renames the epoch's checksum file, then its lines, into place, and fsyncs the directory. Idempotent. */
  async commit(checkpointId: number): Promise<void> {
    const data = join(this.dir, dataName(checkpointId));
    await this.step('commit', data, checkpointId, async () => {
      await this.settle(checkpointId, true);
      await syncDirectory(this.dir);
      const entry = this.staged.find((e) => e.epoch === checkpointId);
      this.committed = entry?.point; // undefined (not staged by this instance): read from the checksum file when needed
      this.staged = this.staged.filter((e) => e.epoch > checkpointId);
    });
  }

  /** Deletes what preCommit wrote for the epoch; the chain goes back to where it was before it. */
  async abort(checkpointId: number): Promise<void> {
    await this.step('abort', join(this.dir, pendingDataName(checkpointId)), checkpointId, async () => {
      this.staged = this.staged.filter((e) => e.epoch < checkpointId);
      await this.settle(checkpointId, false);
    });
  }

  /**
   * Commits the pending epochs up to the restored checkpoint, deletes later ones, then verifies every committed
   * epoch against its checksum file, and the whole against the restored checkpoint's receipt. A checkpoint
   * without a receipt (written before receipts existed) over epochs without any checksum file (idem) is taken
   * as it is: the epochs get their checksum files, and are checked from then on.
   * Fails with `CheckpointRestoreError` when committed epochs lie beyond the restored checkpoint (see the repair
   * in docs/checkpoints.md) or were written with another codec, and with `FileSinkCorruptError` on damage.
   * Resolves to the highest epoch id it found, pending or committed (0 for none): the pipeline numbers its new
   * checkpoints above it, so that an epoch, and the output stamps that carry it, are never used twice.
   */
  async recover(checkpointId: number | undefined, recovery?: SinkRecovery): Promise<number> {
    this.codec = this.ownCodec ?? recovery?.codec ?? jsonCodec;
    this.staged = [];
    this.committed = undefined;
    /** The highest epoch id found in the directory, pending or committed (0 for none): returned to the pipeline. */
    let highest = 0;
    await this.step('recover', this.dir, checkpointId, async () => {
      const names = await readdir(this.dir);
      const committedIds = union(idsOf(names, EPOCH_FILE.data), idsOf(names, EPOCH_FILE.sum));
      const pendingIds = union(idsOf(names, EPOCH_FILE.pendingData), idsOf(names, EPOCH_FILE.pendingSum));
      // Both lists are ascending: their last ids are the highest.
      highest = Math.max(0, committedIds[committedIds.length - 1] ?? 0, pendingIds[pendingIds.length - 1] ?? 0);
      this.refuseBeyond(checkpointId, committedIds);
      for (const id of pendingIds) {
        // Up to the restored checkpoint, a pending epoch's checkpoint is durable: commit it. After it, the
        // checkpoint never became durable: the replay writes the epoch again.
        await this.settle(id, checkpointId !== undefined && id <= checkpointId);
      }
      await syncDirectory(this.dir);
      const settled = await readdir(this.dir);
      const committed = union(idsOf(settled, EPOCH_FILE.data), idsOf(settled, EPOCH_FILE.sum));
      if (recovery?.receipt === undefined && committed.length !== 0 && idsOf(settled, EPOCH_FILE.sum).length === 0) {
        // A checkpoint without a receipt, over epochs without checksum files: both written before FileSink had
        // them. There is nothing to check them against: take them as they are, and checksum them from here on.
        this.committed = await this.adopt(committed, checkpointId);
        return;
      }
      const verifier = new EpochVerifier(this.dir, checkpointId);
      for (const id of committed) {
        const sum = verifier.next(id, await readForCheck(join(this.dir, dataName(id))), await readForCheck(join(this.dir, sumName(id))));
        if (sum.codec !== this.codec.name) {
          throw new CheckpointRestoreError(checkpointId ?? 0, sum.codec,
            `FileSink ${this.dir}: epoch ${id} was written with codec "${sum.codec}", but the sink now writes with "${this.codec.name}"; its output would mix encodings`);
        }
      }
      if (recovery?.receipt !== undefined) {
        const receipt = parseReceipt(recovery.receipt);
        if (receipt === undefined) {
          throw new CheckpointRestoreError(checkpointId ?? 0, recovery.receipt, `its sink receipt is not a FileSink receipt (was it taken with another sink?)`);
        }
        verifier.matches(receipt);
      }
      this.committed = verifier.point;
    });
    return highest;
  }

  /** Writes the checksum files of epochs that have none (output written before checksum files existed). */
  private async adopt(epochs: readonly number[], checkpointId: number | undefined): Promise<ChainPoint> {
    let point = GENESIS;
    for (const epoch of epochs) {
      const file = join(this.dir, dataName(epoch));
      const data = await readForCheck(file);
      if (!Buffer.isBuffer(data)) throw new FileSinkCorruptError(this.dir, file, epoch, checkpointId, `cannot be read (${String((data.error as Error)?.message ?? data.error)})`, data.error);
      const sealed = sealEpoch(point, epoch, this.codec.name, data);
      await writeRegularFile(join(this.dir, sumName(epoch)), serializeSum(sealed.sum));
      point = sealed.point;
    }
    await syncDirectory(this.dir);
    return point;
  }

  /**
   * Settles an epoch's pending files: commits them (checksum file first, so that a visible epoch file always has
   * one), or deletes them. An epoch that is already committed is never written again; only its pending copies go.
   */
  private async settle(epoch: number, commit: boolean): Promise<void> {
    const data = join(this.dir, dataName(epoch));
    const sum = join(this.dir, sumName(epoch));
    const pendingData = join(this.dir, pendingDataName(epoch));
    const pendingSum = join(this.dir, pendingSumName(epoch));
    if (commit && !(await exists(data))) {
      await rename(pendingSum, sum).catch(ignoreMissing); // missing: the verification reports the epoch
      await rename(pendingData, data);
      return;
    }
    if (commit && !(await exists(sum))) await rename(pendingSum, sum).catch(ignoreMissing); // a commit cut short between its renames
    await unlink(pendingData).catch(ignoreMissing);
    await unlink(pendingSum).catch(ignoreMissing);
  }

  /** Committed epochs beyond the restored checkpoint: a fallback past committed output, which cannot be exactly-once. */
  private refuseBeyond(checkpointId: number | undefined, committed: readonly number[]): void {
    const beyond = committed.filter((id) => checkpointId === undefined || id > checkpointId);
    if (beyond.length === 0) return;
    const restored = checkpointId === undefined ? 'no checkpoint (a fresh start)' : `checkpoint ${checkpointId}`;
    throw new CheckpointRestoreError(
      checkpointId ?? 0, beyond,
      `FileSink ${this.dir} already holds committed output of epoch(s) ${beyond.join(', ')}, beyond ${restored}, which is being restored: ` +
        'the newer checkpoints are damaged or were deleted, and a replay from here would commit that output a second time, under other ' +
        'epoch boundaries. Repair: put the newer checkpoint files back (from a backup); or, accepting that the output of those epochs ' +
        `is written again, move their epoch-<id>.jsonl and epoch-<id>.sum files out of ${this.dir} (see "A damaged checkpoint with a FileSink" in docs/checkpoints.md).`,
    );
  }

  /** The chain through the newest committed epoch, read from its checksum file the first time. */
  private async committedPoint(checkpointId: number): Promise<ChainPoint> {
    if (this.committed !== undefined) return this.committed;
    const ids = idsOf(await readdir(this.dir), EPOCH_FILE.data);
    if (ids.length === 0) return (this.committed = GENESIS);
    const newest = ids[ids.length - 1]!;
    const sum = await this.committedSumOf(newest);
    if (sum === undefined) throw new FileSinkCorruptError(this.dir, join(this.dir, dataName(newest)), newest, undefined, `vanished while pre-committing epoch ${checkpointId}`);
    return (this.committed = pointOf(sum));
  }

  /** The checksum file of a committed epoch; undefined when the epoch is not committed. */
  private async committedSumOf(epoch: number) {
    if (!(await exists(join(this.dir, dataName(epoch))))) return undefined;
    const file = join(this.dir, sumName(epoch));
    const read = await readForCheck(file);
    const sum = Buffer.isBuffer(read) ? parseSum(read.toString('utf8')) : undefined;
    if (sum === undefined || sum.epoch !== epoch) {
      throw new FileSinkCorruptError(this.dir, file, epoch, undefined, 'has a missing or damaged checksum file', Buffer.isBuffer(read) ? undefined : read.error);
    }
    return sum;
  }

  /** The epoch's lines: one per output element, as the codec writes it. */
  private encodeAll(checkpointId: number, outputs: readonly CheckpointedOutput<unknown>[]): string {
    const codec = this.codec;
    let text = '';
    for (const { element } of outputs) {
      let line: unknown;
      try {
        line = codec.encode(element);
      } catch (err) {
        throw new FileSinkError('encode', this.dir, checkpointId, err, element);
      }
      if (typeof line !== 'string') {
        throw new FileSinkError('encode', this.dir, checkpointId, new TypeError(`codec "${codec.name}": encode returned ${describe(line)}, not a string`), element);
      }
      if (line.includes('\n')) {
        throw new FileSinkError('encode', this.dir, checkpointId, new TypeError(`codec "${codec.name}" wrote a line break, and an epoch file holds one element per line`), element);
      }
      text += `${line}\n`;
    }
    return text;
  }

  /** Runs a step, turning a file system error into a FileSinkError that says what failed where (named errors pass). */
  private async step<T>(operation: FileSinkOperation, path: string, checkpointId: number | undefined, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof FileSinkError || err instanceof FileSinkCorruptError || err instanceof CheckpointRestoreError) throw err;
      throw new FileSinkError(operation, (err as NodeJS.ErrnoException).path ?? path, checkpointId, err);
    }
  }
}

/** A file's bytes for verification, or why it could not be read (never blocking on a FIFO). */
export async function readForCheck(path: string): Promise<FileRead> {
  try {
    return await readRegularFile(path);
  } catch (error) {
    return { error };
  }
}

/** The sorted union of two ascending id lists. */
export function union(a: readonly number[], b: readonly number[]): number[] {
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
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
  if (!isMissing(err)) throw err;
}
