import { defer, lastValueFrom, mergeMap, retry, toArray } from 'rxjs';
import { arraySource, asyncWaitOrdered, checkpointable, mapRecords, type CheckpointedOutput } from 'rxjs-sluice';
import { FileCheckpointStore, FileSink, readCommittedElements } from 'rxjs-sluice/node';
import { tempDirs } from '../support/tempDirs';

/**
 * A pipeline's output ends (completes or errors) only once its store and sink are closed, so the restart that
 * RxJS users write, `defer(() => checkpointable({ store: new FileCheckpointStore(dir), ... })).pipe(retry())`,
 * finds the directories free: each attempt builds new store and sink objects, and the failed attempt's locks are
 * given back before retry() subscribes the next one (docs/checkpoints.md, "Open and close").
 */
const freshDir = tempDirs('sluice-restart-');

describe('restarting after the output ends', () => {
  it('retry() over a pipeline built per attempt restores from the failed attempt\'s checkpoint, with no DirectoryLockedError', async () => {
    // Arrange: the third attempt gets through; the first two fail at the 7th record (after checkpoints at 2, 4, 6)
    const stateDir = freshDir();
    const outDir = freshDir();
    let attempts = 0;
    const attempt = defer(() => {
      attempts++;
      const failAt = attempts < 3 ? 7 : Infinity;
      return checkpointable({
        source: arraySource([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        store: new FileCheckpointStore(stateDir),
        sink: new FileSink(outDir),
        every: { records: 2 },
      }).pipe(
        mapRecords((x: number) => {
          if (x === failAt) throw new Error(`attempt ${attempts} fails at ${x}`);
          return x * 10;
        }),
        asyncWaitOrdered((x: number) => Promise.resolve(x + 1), { capacity: 3, id: 'plus-one' }),
      );
    });

    // Act
    const outputs: CheckpointedOutput<number>[] = await lastValueFrom(attempt.pipe(retry(2), toArray()));

    // Assert
    expect(attempts).toBe(3);
    expect(outputs.length).toBeGreaterThan(0);
    expect(readCommittedElements(outDir).map((e) => e.kind === 'record' && e.value)).toEqual([11, 21, 31, 41, 51, 61, 71, 81, 91, 101]);
  });

  it('retry() after an error raised downstream of the job (which reaches it as an unsubscribe) waits for the old run\'s close, instead of DirectoryLockedError', async () => {
    // Arrange: the consumer after the job fails once, asynchronously, at the 5th output
    const stateDir = freshDir();
    const outDir = freshDir();
    let attempts = 0;
    let failed = false;
    const attempt = defer(() => {
      attempts++;
      return checkpointable({
        source: arraySource([1, 2, 3, 4, 5, 6, 7, 8]),
        store: new FileCheckpointStore(stateDir),
        sink: new FileSink(outDir),
        every: { records: 2 },
      }).pipe(asyncWaitOrdered((x: number) => Promise.resolve(x * 10), { capacity: 2, id: 'times-ten' }));
    }).pipe(
      mergeMap(async (output) => {
        if (!failed && output.element.kind === 'record' && output.element.value === 50) {
          failed = true;
          throw new Error('the consumer failed once');
        }
        return output;
      }),
    );

    // Act
    await lastValueFrom(attempt.pipe(retry(2), toArray()));

    // Assert: the second attempt restored and completed; the committed output is whole, once
    expect(attempts).toBe(2);
    expect(readCommittedElements(outDir).map((e) => e.kind === 'record' && e.value)).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
  });
});
