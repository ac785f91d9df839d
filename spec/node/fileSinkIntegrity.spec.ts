import { copyFileSync, mkdirSync, readdirSync, rmdirSync, readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'fs';
import { join } from 'path';
import { NEVER, concat, from, lastValueFrom, toArray } from 'rxjs';
import {
  CheckpointRestoreError, arraySource, checkpointable, jsonCodec,
  type CheckpointedOutput, type ReplayableSource, type SinkRecovery, type SourceItem,
} from 'rxjs-sluice';
import { FileCheckpointStore, FileSink, FileSinkCorruptError, readCommitted } from 'rxjs-sluice/node';
import { crash } from '../support/crash';
import { tempDirs } from '../support/tempDirs';

/**
 * FileSink integrity: preCommit returns a receipt (the head of a SHA-256 chain over every epoch up to this one,
 * with counts), which the pipeline stores in the checkpoint; recover checks every committed epoch up to the
 * restored checkpoint against its checksum file and the whole against the receipt, and readCommitted checks each
 * epoch, so a deleted, truncated, altered or foreign epoch is a FileSinkCorruptError naming the epoch and the
 * file, never output that silently lacks records. An aborted preCommit does not advance the chain.
 */

const freshDir = tempDirs('sluice-integrity-');
jest.setTimeout(20_000); // the pipeline restarts wait for commits on what may be a loaded machine

const pad = (id: number): string => String(id).padStart(20, '0');
const dataFile = (dir: string, id: number): string => join(dir, `epoch-${pad(id)}.jsonl`);
const sumFile = (dir: string, id: number): string => join(dir, `epoch-${pad(id)}.sum`);

/** An output record stamped (checkpointId, sequence). */
const out = (checkpointId: number, sequence: number, value: unknown): CheckpointedOutput<unknown> =>
  ({ checkpointId, sequence, element: { kind: 'record', value } });

/** What the pipeline hands recover() when it restores checkpoint `id` with `receipt`. */
const recovery = (checkpointId: number | undefined, receipt: string | undefined): SinkRecovery => ({ checkpointId, receipt, codec: jsonCodec });

/** Commits epochs `ids` (two records each) through one sink, as a pipeline would; returns each epoch's receipt. */
async function committedEpochs(dir: string, ids: readonly number[]): Promise<Map<number, string>> {
  const sink = new FileSink(dir);
  const receipts = new Map<number, string>();
  for (const id of ids) {
    const receipt = await sink.preCommit(id, [out(id, 0, `e${id}a`), out(id, 1, `e${id}b`)]);
    receipts.set(id, receipt);
    await sink.commit(id);
  }
  return receipts;
}

/** Every epoch and checksum file of a directory with its content, to check that a refused recover changed nothing. */
const snapshotOf = (dir: string): Record<string, string> =>
  Object.fromEntries(readdirSync(dir).filter((name) => name.startsWith('epoch-')).sort().map((name) => [name, readFileSync(join(dir, name), 'utf8')]));

/** What a promise rejects with (fails the test when it resolves). */
const rejectionOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e);

/** Flips the lowest bit of a byte in the middle of a file: same length, other content. */
function flipMiddleByte(path: string): void {
  const bytes = readFileSync(path);
  const index = Math.floor(bytes.length / 2);
  bytes[index] = bytes[index]! ^ 0x01;
  writeFileSync(path, bytes);
}

describe('FileSink receipts', () => {
  it('preCommit returns a receipt: the chain head after its epoch, with the epoch, epoch count and line count', async () => {
    // Arrange
    const dir = freshDir();

    // Act
    const receipts = await committedEpochs(dir, [1, 2, 3]);

    // Assert
    const parsed = [1, 2, 3].map((id) => JSON.parse(receipts.get(id)!) as Record<string, unknown>);
    expect(parsed.map((r) => [r['format'], r['version'], r['epoch'], r['epochs'], r['records']])).toEqual([
      ['rxjs-sluice.filesink', 1, 1, 1, 2], ['rxjs-sluice.filesink', 1, 2, 2, 4], ['rxjs-sluice.filesink', 1, 3, 3, 6],
    ]);
    for (const r of parsed) expect(r['chain']).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(parsed.map((r) => r['chain'])).size).toBe(3);
  });

  it('recover with the receipt of the restored checkpoint accepts intact output', async () => {
    // Arrange
    const dir = freshDir();
    const receipts = await committedEpochs(dir, [1, 2, 3]);

    // Act / Assert
    await expect(new FileSink(dir).recover(3, recovery(3, receipts.get(3)))).resolves.toBe(3);
    expect(readCommitted(dir)).toBe(['e1a', 'e1b', 'e2a', 'e2b', 'e3a', 'e3b'].map((v) => `${JSON.stringify({ kind: 'record', value: v })}\n`).join(''));
  });

  it('an aborted preCommit does not advance the chain: the next receipt is that of a history without it', async () => {
    // Arrange: epoch 2 pre-committed, then aborted (its checkpoint failed); its outputs go into epoch 3.
    const dir = freshDir();
    const sink = new FileSink(dir);
    await sink.preCommit(1, [out(1, 0, 'a')]);
    await sink.commit(1);
    await sink.preCommit(2, [out(2, 0, 'b')]);
    await sink.abort(2);
    const clean = freshDir();
    const cleanSink = new FileSink(clean);
    await cleanSink.preCommit(1, [out(1, 0, 'a')]);
    await cleanSink.commit(1);

    // Act
    const receipt = await sink.preCommit(3, [out(2, 0, 'b'), out(3, 0, 'c')]);
    await sink.commit(3);
    const cleanReceipt = await cleanSink.preCommit(3, [out(2, 0, 'b'), out(3, 0, 'c')]);

    // Assert
    expect(typeof receipt).toBe('string');
    expect(receipt).toBe(cleanReceipt);
    await expect(new FileSink(dir).recover(3, recovery(3, receipt))).resolves.toBe(3);
  });

  it('a preCommit that failed half-way and was aborted does not advance the chain either', async () => {
    // Arrange: epoch 2's checksum file cannot be written (a directory has its name).
    const dir = freshDir();
    const sink = new FileSink(dir);
    await sink.preCommit(1, [out(1, 0, 'a')]);
    await sink.commit(1);
    const blocker = join(dir, `epoch-${pad(2)}.sum.pending`);
    mkdirSync(blocker);
    const failed = await rejectionOf(sink.preCommit(2, [out(2, 0, 'b')]));
    await sink.abort(2).catch(() => undefined);
    rmdirSync(blocker);

    // Act
    const receipt = await sink.preCommit(3, [out(2, 0, 'b')]);
    await sink.commit(3);

    // Assert
    expect(failed).toBeInstanceOf(Error);
    await expect(new FileSink(dir).recover(3, recovery(3, receipt))).resolves.toBe(3);
    expect(JSON.parse(receipt)).toMatchObject({ epoch: 3, epochs: 2, records: 2 });
  });

  it('a receipt that is not a FileSink receipt (the checkpoint was taken with another sink) is a CheckpointRestoreError', async () => {
    // Arrange
    const dir = freshDir();
    await committedEpochs(dir, [1]);

    // Act
    const error = await rejectionOf(new FileSink(dir).recover(1, recovery(1, 'kafka-offsets:42')));

    // Assert
    expect(error).toBeInstanceOf(CheckpointRestoreError);
    expect(error).toMatchObject({ checkpointId: 1, input: 'kafka-offsets:42' });
  });
});

describe('FileSink damage detection', () => {
  /** Each kind of damage to a directory with epochs 1, 2, 3 committed (and 5, 6: 4 failed, its outputs are in 5). */
  const damages: Array<[string, (dir: string) => void, number, (dir: string) => string, RegExp]> = [
    ['a middle epoch file deleted', (dir) => unlinkSync(dataFile(dir, 2)), 2, (dir) => dataFile(dir, 2), /missing/],
    ['a middle epoch deleted with its checksum file', (dir) => { unlinkSync(dataFile(dir, 2)); unlinkSync(sumFile(dir, 2)); }, 2, (dir) => dataFile(dir, 2), /missing/],
    ['the first epoch deleted with its checksum file', (dir) => { unlinkSync(dataFile(dir, 1)); unlinkSync(sumFile(dir, 1)); }, 1, (dir) => dataFile(dir, 1), /missing/],
    ['an epoch file truncated', (dir) => truncateSync(dataFile(dir, 3), 10), 3, (dir) => dataFile(dir, 3), /truncated/],
    ['an epoch file emptied', (dir) => truncateSync(dataFile(dir, 1), 0), 1, (dir) => dataFile(dir, 1), /truncated/],
    ['an epoch file altered (one byte flipped)', (dir) => flipMiddleByte(dataFile(dir, 5)), 5, (dir) => dataFile(dir, 5), /altered/],
    ['an epoch file with a line appended', (dir) => writeFileSync(dataFile(dir, 2), '{"kind":"record","value":"extra"}\n', { flag: 'a' }), 2, (dir) => dataFile(dir, 2), /more than/],
    ['an epoch file replaced by another epoch\'s', (dir) => copyFileSync(dataFile(dir, 1), dataFile(dir, 2)), 2, (dir) => dataFile(dir, 2), /altered/],
    ['a checksum file deleted', (dir) => unlinkSync(sumFile(dir, 3)), 3, (dir) => sumFile(dir, 3), /no checksum file/],
    ['a checksum file damaged', (dir) => writeFileSync(sumFile(dir, 3), '{"format":'), 3, (dir) => sumFile(dir, 3), /damaged checksum/],
    ['a foreign epoch among them (in the gap of the failed checkpoint 4)', (dir) => writeFileSync(dataFile(dir, 4), '{"kind":"record","value":"foreign"}\n'), 4, (dir) => sumFile(dir, 4), /no checksum file/],
    ['a foreign epoch with a checksum file copied along', (dir) => { copyFileSync(dataFile(dir, 3), dataFile(dir, 4)); copyFileSync(sumFile(dir, 3), sumFile(dir, 4)); }, 4, (dir) => sumFile(dir, 4), /damaged checksum/],
    ['two epochs swapped', (dir) => {
      renameSync(dataFile(dir, 2), join(dir, 'x'));
      renameSync(dataFile(dir, 3), dataFile(dir, 2));
      renameSync(join(dir, 'x'), dataFile(dir, 3));
    }, 2, (dir) => dataFile(dir, 2), /altered/],
  ];

  describe.each(damages)('%s', (_name, damage, epoch, fileOf, reason) => {
    it('makes recover fail with FileSinkCorruptError naming the epoch and the file, changing nothing', async () => {
      // Arrange
      const dir = freshDir();
      const receipts = await committedEpochs(dir, [1, 2, 3, 5, 6]);
      damage(dir);
      const before = snapshotOf(dir);

      // Act
      const error = await rejectionOf(new FileSink(dir).recover(6, recovery(6, receipts.get(6))));

      // Assert
      expect(error).toBeInstanceOf(FileSinkCorruptError);
      expect(error).toMatchObject({ epoch, input: fileOf(dir), checkpointId: 6 });
      expect((error as FileSinkCorruptError).reason).toMatch(reason);
      expect((error as Error).message).toContain(fileOf(dir));
      expect(snapshotOf(dir)).toEqual(before);
    });

    it('makes readCommitted fail with FileSinkCorruptError rather than return damaged output', async () => {
      // Arrange
      const dir = freshDir();
      await committedEpochs(dir, [1, 2, 3, 5, 6]);
      damage(dir);

      // Act
      let error: unknown;
      try {
        readCommitted(dir);
      } catch (e) {
        error = e;
      }

      // Assert
      expect(error).toBeInstanceOf(FileSinkCorruptError);
      expect(error).toMatchObject({ epoch, input: fileOf(dir) });
    });
  });

  it('finds the newest epochs deleted (files and checksums) through the receipt', async () => {
    // Arrange: 5 and 6 deleted whole; readCommitted alone cannot tell (what is left is consistent).
    const dir = freshDir();
    const receipts = await committedEpochs(dir, [1, 2, 3, 5, 6]);
    for (const id of [5, 6]) {
      unlinkSync(dataFile(dir, id));
      unlinkSync(sumFile(dir, id));
    }

    // Act
    const error = await rejectionOf(new FileSink(dir).recover(6, recovery(6, receipts.get(6))));

    // Assert
    expect(error).toBeInstanceOf(FileSinkCorruptError);
    expect(error).toMatchObject({ epoch: 6, input: dataFile(dir, 6), checkpointId: 6 });
    expect((error as Error).message).toMatch(/ends with epoch 3/);
  });

  it('finds a consistent chain that is not the one the receipt describes (another run\'s output put in place)', async () => {
    // Arrange: the same epoch ids, other content, written by another run into the directory.
    const dir = freshDir();
    const receipts = await committedEpochs(dir, [1, 2]);
    const other = freshDir();
    const sink = new FileSink(other);
    for (const id of [1, 2]) {
      await sink.preCommit(id, [out(id, 0, `other ${id}`)]);
      await sink.commit(id);
    }
    for (const name of readdirSync(other)) copyFileSync(join(other, name), join(dir, name));

    // Act
    const error = await rejectionOf(new FileSink(dir).recover(2, recovery(2, receipts.get(2))));

    // Assert
    expect(error).toBeInstanceOf(FileSinkCorruptError);
    expect(error).toMatchObject({ epoch: 2 });
  });

  it('commits pending epochs up to the restored checkpoint before checking them against its receipt', async () => {
    // Arrange: epoch 3 pre-committed, checkpoint 3 durable, then a crash before its commit.
    const dir = freshDir();
    await committedEpochs(dir, [1, 2]);
    const receipt = await new FileSink(dir).preCommit(3, [out(3, 0, 'x')]);

    // Act
    await new FileSink(dir).recover(3, recovery(3, receipt));

    // Assert
    expect(readdirSync(dir).filter((n) => n.endsWith('.pending'))).toEqual([]);
    expect(readCommitted(dir).split('\n').filter(Boolean)).toHaveLength(5);
  });
});

describe('FileSink output written before checksum files existed', () => {
  /** Epochs 1..3 committed, then every checksum file removed: what a FileSink of an earlier version left. */
  async function oldOutput(dir: string): Promise<Map<number, string>> {
    const receipts = await committedEpochs(dir, [1, 2, 3]);
    for (const id of [1, 2, 3]) unlinkSync(sumFile(dir, id));
    return receipts;
  }

  it('is taken as it is by a restore of a checkpoint without a receipt (also written before): it gets checksum files', async () => {
    // Arrange
    const dir = freshDir();
    const receipts = await oldOutput(dir);

    // Act
    await new FileSink(dir).recover(3, recovery(3, undefined));

    // Assert: the same chain as if the checksum files had been there all along.
    expect(readdirSync(dir).filter((n) => n.endsWith('.sum'))).toHaveLength(3);
    expect(readCommitted(dir).split('\n').filter(Boolean)).toHaveLength(6);
    await expect(new FileSink(dir).recover(3, recovery(3, receipts.get(3)))).resolves.toBe(3);
  });

  it('is damage when the restored checkpoint has a receipt: its checksum files were deleted', async () => {
    // Arrange
    const dir = freshDir();
    const receipts = await oldOutput(dir);

    // Act
    const error = await rejectionOf(new FileSink(dir).recover(3, recovery(3, receipts.get(3))));

    // Assert
    expect(error).toBeInstanceOf(FileSinkCorruptError);
    expect(error).toMatchObject({ epoch: 1, input: sumFile(dir, 1) });
  });

  it('is damage when some epochs have checksum files and others not, receipt or not', async () => {
    // Arrange
    const dir = freshDir();
    await committedEpochs(dir, [1, 2, 3]);
    unlinkSync(sumFile(dir, 2));

    // Act
    const error = await rejectionOf(new FileSink(dir).recover(3, recovery(3, undefined)));

    // Assert
    expect(error).toBeInstanceOf(FileSinkCorruptError);
    expect(error).toMatchObject({ epoch: 2, input: sumFile(dir, 2) });
  });
});

describe('FileSink damage, restarting a pipeline', () => {
  /** `values`, then stays open: a run over it ends only by a crash. */
  const endless = (values: readonly string[]): ReplayableSource<string, number> => ({
    open: (position = 0) => concat(from(values.slice(position).map((value, i): SourceItem<string, number> => ({ value, position: position + i + 1 }))), NEVER),
  });

  /** Runs a pipeline (a checkpoint every record) over `values` until `epochs` epochs are committed, then crashes. */
  async function crashedRun(storeDir: string, sinkDir: string, values: readonly string[], epochs: number): Promise<void> {
    const files = [new FileCheckpointStore(storeDir), new FileSink(sinkDir)] as const;
    const run = checkpointable({ source: endless(values), store: files[0], sink: files[1], every: { records: 1 } }).pipe().subscribe();
    const deadline = Date.now() + 10_000;
    while (readdirSync(sinkDir).filter((n) => n.endsWith('.jsonl')).length < epochs) {
      if (Date.now() > deadline) throw new Error('the run did not commit in time');
      await new Promise((r) => setTimeout(r, 1));
    }
    await crash(run, ...files);
  }

  const restart = (storeDir: string, sinkDir: string, values: readonly string[]): Promise<unknown> =>
    lastValueFrom(checkpointable({ source: arraySource(values), store: new FileCheckpointStore(storeDir), sink: new FileSink(sinkDir), every: { records: 1 } })
      .pipe().pipe(toArray())).then(() => undefined, (e: unknown) => e);

  it('a deleted middle epoch stops the restart with FileSinkCorruptError, and nothing more is committed', async () => {
    // Arrange
    const storeDir = freshDir();
    const sinkDir = freshDir();
    await crashedRun(storeDir, sinkDir, ['a', 'b', 'c'], 3);
    unlinkSync(dataFile(sinkDir, 2));
    const before = snapshotOf(sinkDir);

    // Act
    const error = await restart(storeDir, sinkDir, ['a', 'b', 'c', 'd']);

    // Assert
    expect(error).toBeInstanceOf(FileSinkCorruptError);
    expect(error).toMatchObject({ epoch: 2 });
    expect(snapshotOf(sinkDir)).toEqual(before);
  });

  it('the newest committed epoch deleted stops the restart too: the checkpoint\'s receipt says it should be there', async () => {
    // Arrange
    const storeDir = freshDir();
    const sinkDir = freshDir();
    await crashedRun(storeDir, sinkDir, ['a', 'b', 'c'], 3);
    unlinkSync(dataFile(sinkDir, 3));
    unlinkSync(sumFile(sinkDir, 3));

    // Act
    const error = await restart(storeDir, sinkDir, ['a', 'b', 'c', 'd']);

    // Assert
    expect(error).toBeInstanceOf(FileSinkCorruptError);
    expect(error).toMatchObject({ epoch: 3, checkpointId: 3 });
  });
});
