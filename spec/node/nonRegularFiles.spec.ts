import { execFileSync } from 'child_process';
import { closeSync, constants, openSync, readdirSync, rmSync } from 'fs';
import { join } from 'path';
import { lastValueFrom, toArray } from 'rxjs';
import {
  CheckpointStoreError, arraySource, asyncWaitOrdered, checkpointMetrics, checkpointable, jsonCodec,
  type CheckpointWarning, type CheckpointedOutput,
} from 'rxjs-sluice';
import { DirectoryLockedError, FileCheckpointStore, FileCheckpointStoreError, FileSink, FileSinkCorruptError, FileSinkError, readCommitted } from 'rxjs-sluice/node';
import { tempDirs } from '../support/tempDirs';

/**
 * A file that is not a regular file (a FIFO, here made with mkfifo) where a store or sink expects one of its files:
 * opening a FIFO for a plain read blocks until a writer comes, which would hang start-up forever. Each such file
 * is damage, found at once: a checkpoint is skipped as damaged (corrupt-skipped), an epoch is a
 * FileSinkCorruptError, a lock file is a damaged lock.
 */

const freshDir = tempDirs('sluice-fifo-');
jest.setTimeout(20_000); // a blocked read would hang forever: `within` fails it long before this
const pad = (id: number): string => String(id).padStart(20, '0');

/** FIFOs made by the test, opened for writing (non-blocking) afterwards so that a reader stuck on one (a bug) wakes up. */
const fifos: string[] = [];
afterEach(() => {
  for (const path of fifos.splice(0)) {
    try {
      closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // No reader waits on it: nothing to wake.
    }
  }
});

function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
  fifos.push(path);
}

/** Fails (rather than hangs) when `promise` has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms = 8_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms (blocked on a FIFO?)`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const rejectionOf = (promise: Promise<unknown>): Promise<unknown> =>
  within(promise.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e));

const out = (checkpointId: number, sequence: number, value: unknown): CheckpointedOutput<unknown> =>
  ({ checkpointId, sequence, element: { kind: 'record', value } });

describe('FileCheckpointStore: a FIFO with a checkpoint\'s name', () => {
  it('read() rejects at once with FileCheckpointStoreError (a CheckpointStoreError) naming the file and the checkpoint', async () => {
    // Arrange
    const dir = freshDir();
    const path = join(dir, `checkpoint-${pad(4)}.json`);
    mkfifo(path);
    const store = new FileCheckpointStore(dir);

    // Act
    const error = await rejectionOf(store.read(4));

    // Assert
    expect(error).toBeInstanceOf(FileCheckpointStoreError);
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect(error).toMatchObject({ operation: 'read', path, checkpointId: 4, input: path });
    expect((error as Error).message).toMatch(/FIFO/);
  });

  it('is skipped on start-up as a damaged checkpoint (corrupt-skipped), and the pipeline restores the previous one', async () => {
    // Arrange: a completed run keeps checkpoints 2, 3, 4; the newest is replaced by a FIFO.
    const dir = freshDir();
    const build = (warnings: CheckpointWarning[], metrics = checkpointMetrics()) => checkpointable({
      source: arraySource([1, 2, 3, 4, 5, 6]), store: new FileCheckpointStore(dir), every: { records: 2 }, metrics, onWarning: (w) => warnings.push(w),
    }).pipe(asyncWaitOrdered(async (x: number) => x * 10, { id: 'enrich' }));
    const uninterrupted = await lastValueFrom(build([]).pipe(toArray()));
    rmSync(join(dir, `checkpoint-${pad(4)}.json`));
    mkfifo(join(dir, `checkpoint-${pad(4)}.json`));
    const warnings: CheckpointWarning[] = [];
    const metrics = checkpointMetrics();

    // Act
    const outputs = await within(lastValueFrom(build(warnings, metrics).pipe(toArray())));

    // Assert
    expect(warnings.map((w) => [w.kind, w.checkpointId])).toEqual([['corrupt-skipped', 4]]);
    expect(warnings[0]!.error).toBeInstanceOf(FileCheckpointStoreError);
    expect(metrics.snapshot()).toMatchObject({ corruptSkipped: 1, restored: 1 });
    expect(outputs.map((o) => o.element)).toEqual(uninterrupted.map((o) => o.element));
  });
});

describe('FileSink: a FIFO where an epoch file should be', () => {
  /** Epochs 1 and 2 committed; returns the receipt of 2. */
  async function twoEpochs(dir: string): Promise<string> {
    const sink = new FileSink(dir);
    await sink.preCommit(1, [out(1, 0, 'a')]);
    await sink.commit(1);
    const receipt = await sink.preCommit(2, [out(2, 0, 'b')]);
    await sink.commit(2);
    return receipt;
  }

  it.each([
    ['a committed epoch file', (id: number) => `epoch-${pad(id)}.jsonl`],
    ['a checksum file', (id: number) => `epoch-${pad(id)}.sum`],
  ])('%s: recover rejects at once with FileSinkCorruptError naming it', async (_name, nameOf) => {
    // Arrange
    const dir = freshDir();
    const receipt = await twoEpochs(dir);
    const path = join(dir, nameOf(2));
    rmSync(path);
    mkfifo(path);

    // Act
    const error = await rejectionOf(new FileSink(dir).recover(2, { checkpointId: 2, receipt, codec: jsonCodec }));

    // Assert
    expect(error).toBeInstanceOf(FileSinkCorruptError);
    expect(error).toMatchObject({ epoch: 2, input: path });
    expect((error as Error).message).toMatch(/FIFO/);
  });

  it('a committed epoch file: readCommitted throws FileSinkCorruptError at once', async () => {
    // Arrange
    const dir = freshDir();
    await twoEpochs(dir);
    const path = join(dir, `epoch-${pad(1)}.jsonl`);
    rmSync(path);
    mkfifo(path);

    // Act / Assert
    expect(() => readCommitted(dir)).toThrow(FileSinkCorruptError);
    expect(() => readCommitted(dir)).toThrow(/FIFO/);
  });

  it('a pending epoch up to the restored checkpoint: committed by recover, then found not to be a file', async () => {
    // Arrange: epoch 3 pre-committed (its checkpoint durable), then its pending file replaced by a FIFO.
    const dir = freshDir();
    await twoEpochs(dir);
    const receipt = await new FileSink(dir).preCommit(3, [out(3, 0, 'c')]);
    rmSync(join(dir, `epoch-${pad(3)}.jsonl.pending`));
    mkfifo(join(dir, `epoch-${pad(3)}.jsonl.pending`));
    fifos.push(join(dir, `epoch-${pad(3)}.jsonl`));

    // Act
    const error = await rejectionOf(new FileSink(dir).recover(3, { checkpointId: 3, receipt, codec: jsonCodec }));

    // Assert
    expect(error).toBeInstanceOf(FileSinkCorruptError);
    expect(error).toMatchObject({ epoch: 3, input: join(dir, `epoch-${pad(3)}.jsonl`) });
  });

  it('the pending file preCommit writes: it rejects at once with FileSinkError instead of waiting for a reader', async () => {
    // Arrange
    const dir = freshDir();
    const path = join(dir, `epoch-${pad(1)}.jsonl.pending`);
    mkfifo(path);

    // Act
    const error = await rejectionOf(new FileSink(dir).preCommit(1, [out(1, 0, 'a')]));

    // Assert
    expect(error).toBeInstanceOf(FileSinkError);
    expect(error).toMatchObject({ operation: 'preCommit', checkpointId: 1, path });
  });
});

describe.each([
  ['FileCheckpointStore', 'store', (dir: string) => new FileCheckpointStore(dir)],
  ['FileSink', 'sink', (dir: string) => new FileSink(dir)],
] as const)('%s: a FIFO as the lock file', (_name, role, build) => {
  it('is a damaged lock: open() rejects at once with DirectoryLockedError', async () => {
    // Arrange
    const dir = freshDir();
    mkfifo(join(dir, `sluice-${role}.lock-${pad(1)}`));

    // Act
    const error = await rejectionOf(build(dir).open());

    // Assert
    expect(error).toBeInstanceOf(DirectoryLockedError);
    expect((error as Error).message).toMatch(/damaged/);
    expect(readdirSync(dir)).toEqual([`sluice-${role}.lock-${pad(1)}`]);
  });
});
