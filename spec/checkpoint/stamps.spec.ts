import fc from 'fast-check';
import { concat, from, NEVER, take } from 'rxjs';
import {
  arraySource, CheckpointRestoreError, checkpointable, keyedTimers, MemoryCheckpointStore, type CheckpointedOutput, type CheckpointSink,
  type CheckpointStore, type KeyedProcessFunction, type ReplayableSource, type SourceItem,
} from 'rxjs-sluice';
import { start } from '../support/checkpoints';

/**
 * Output stamps are never used for two different outputs, across every run over a store: not after a fallback
 * past a damaged checkpoint (whose outputs were released), not past ids the store lists but cannot read or a sink
 * reports, and not under 'at-least-once', where outputs are released before their checkpoint exists.
 */

/** A replayable source that never completes once its values are out: a run over it ends only by a crash. */
function endlessSource<T>(values: readonly T[]): ReplayableSource<T, number> {
  return {
    open: (position = 0) =>
      concat(from(values.slice(position).map((value, i): SourceItem<T, number> => ({ value, position: position + i + 1 }))), NEVER),
  };
}

/** A running sum under one key: each output differs from the last, so a reused stamp names a different value. */
const runningSum: KeyedProcessFunction<number, number, string, number> = {
  key: () => 'all',
  processElement: (x, ctx) => {
    ctx.state.update((ctx.state.value() ?? 0) + x);
    ctx.emit(ctx.state.value()!);
  },
};

/** What a consumer that keys its writes by stamp keeps: the value of every stamp, and the stamps seen with two values. */
function byStamp(...runs: ReadonlyArray<{ outputs: readonly CheckpointedOutput<unknown>[] }>): { values: Map<string, unknown>; clashes: string[] } {
  const values = new Map<string, unknown>();
  const clashes: string[] = [];
  for (const output of runs.flatMap((run) => run.outputs)) {
    const stamp = `${output.checkpointId}:${output.sequence}`;
    if (values.has(stamp) && values.get(stamp) !== output.element.value) clashes.push(stamp);
    values.set(stamp, output.element.value);
  }
  return { values, clashes };
}

describe('output stamps across runs', () => {
  it("'exactly-once', the newest checkpoint damaged: the restart falls back, and stamps the new epochs above the damaged one", () => {
    // Arrange: run 1 releases epochs 1 and 2 (checkpoints 1, 2), then crashes; checkpoint 2 is then damaged.
    const store = new MemoryCheckpointStore();
    const values = [1, 2, 3, 4, 5, 6];
    const run1 = start(checkpointable({ source: endlessSource(values.slice(0, 4)), store, every: { records: 2 } })
      .pipe(keyedTimers(runningSum, { id: 'sum' })));
    run1.subscription.unsubscribe();
    store.write(2, store.read(2).slice(0, 40));
    // Act: run 2 (every 3 records) restores checkpoint 1.
    const run2 = start(checkpointable({ source: arraySource(values), store, every: { records: 3 } })
      .pipe(keyedTimers(runningSum, { id: 'sum' })));
    // Assert: a consumer deduplicating by stamp loses nothing: no stamp names two values, and it has every sum.
    const { values: kept, clashes } = byStamp(run1, run2);
    expect(clashes).toEqual([]);
    expect([...new Set(kept.values())].sort((a, b) => (a as number) - (b as number))).toEqual([1, 3, 6, 10, 15, 21]);
    expect(run2.outputs.map((o) => [o.checkpointId, o.sequence, o.element.value])).toEqual([
      [1, 0, 1], [1, 1, 3], // checkpoint 1's epoch again
      [3, 0, 6], [3, 1, 10], [3, 2, 15], [4, 0, 21], // not 2: run 1 released epoch 2
    ]);
  });

  it('a checkpoint id the store lists but cannot read counts too', () => {
    // Arrange: a run writes checkpoint 1 and crashes; the store also lists 7, which it cannot read.
    const inner = new MemoryCheckpointStore();
    const store: CheckpointStore = {
      write: (id, text) => inner.write(id, text),
      list: () => [...inner.list(), 7],
      read: (id) => {
        if (id === 7) throw new Error('EIO');
        return inner.read(id);
      },
    };
    start(checkpointable({ source: endlessSource([1]), store: inner, every: { records: 1 } }).pipe()).subscription.unsubscribe();
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2]), store, every: { records: 1 }, onWarning: () => undefined }).pipe());
    // Assert: checkpoint 1's output again, then epochs above 7.
    expect(run.completed).toBe(true);
    expect(run.outputs.map((o) => [o.checkpointId, o.element.value])).toEqual([[1, 1], [8, 2]]);
  });

  it('ids cannot pass 2^53 - 1: a listed id at the limit errors with CheckpointRestoreError before anything is emitted, rather than reuse stamps', () => {
    // Arrange: checkpoint 1 from a crashed run, and a stray, unreadable one listed at Number.MAX_SAFE_INTEGER
    // (above which ids stop increasing)
    const inner = new MemoryCheckpointStore();
    const store: CheckpointStore = {
      write: (id, text) => inner.write(id, text),
      list: () => [...inner.list(), Number.MAX_SAFE_INTEGER],
      read: (id) => {
        if (id === Number.MAX_SAFE_INTEGER) throw new Error('EIO');
        return inner.read(id);
      },
    };
    start(checkpointable({ source: endlessSource([1]), store: inner, every: { records: 1 } }).pipe()).subscription.unsubscribe();
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2]), store, every: { records: 1 }, onWarning: () => undefined }).pipe());
    // Assert: checkpoint 1 was restored, and nothing was emitted or written under a new id
    expect(run.error).toBeInstanceOf(CheckpointRestoreError);
    expect((run.error as Error).message).toMatch(/ids are exhausted/);
    expect(run.outputs).toEqual([]);
    expect(inner.list()).toEqual([1]);
  });

  it.each<[string, unknown[]]>([
    ['an id beyond 2^53 - 1', [1, 2 ** 53]],
    ['a string', [1, '2']],
    ['NaN', [NaN]],
    ['0', [0]],
  ])('a store whose list() returns %s among its ids errors the output with a TypeError naming it', (_name, ids) => {
    // Arrange
    const inner = new MemoryCheckpointStore();
    const store: CheckpointStore = { write: (id, text) => inner.write(id, text), list: () => ids as number[], read: (id) => inner.read(id) };
    // Act
    const run = start(checkpointable({ source: arraySource([1]), store, every: { records: 1 } }).pipe());
    // Assert
    expect(run.error).toBeInstanceOf(TypeError);
    expect((run.error as Error).message).toMatch(/store\.list\(\) returned .* among its ids/);
    expect(run.outputs).toEqual([]);
  });

  it('the highest epoch a sink reports from recover counts too; a value that is not an integer >= 0 errors the output', () => {
    // Arrange
    const sink = (highest: unknown): CheckpointSink<unknown> => ({
      preCommit: () => undefined, commit: () => undefined, abort: () => undefined, recover: () => highest as number,
    });
    // Act
    const run = start(checkpointable({ source: arraySource([1]), sink: sink(41), every: { records: 1 } }).pipe());
    const bad = start(checkpointable({ source: arraySource([1]), sink: sink(-1), every: { records: 1 } }).pipe());
    // Assert
    expect(run.outputs.map((o) => o.checkpointId)).toEqual([42]);
    expect(bad.error).toBeInstanceOf(TypeError);
    expect((bad.error as Error).message).toContain('sink.recover returned -1');
  });

  it("'at-least-once': outputs released before their checkpoint, then a crash: the restart never stamps another output with their stamps", () => {
    // Arrange: run 1 releases 1..4 at once (every 3 records: checkpoint after 3), then crashes.
    const store = new MemoryCheckpointStore();
    const values = [1, 2, 3, 4, 5, 6];
    const run1 = start(checkpointable({ source: endlessSource(values.slice(0, 4)), store, every: { records: 3 }, delivery: 'at-least-once' })
      .pipe(keyedTimers(runningSum, { id: 'sum' })));
    run1.subscription.unsubscribe();
    // Act: run 2, every 2 records.
    const run2 = start(checkpointable({ source: arraySource(values), store, every: { records: 2 }, delivery: 'at-least-once' })
      .pipe(keyedTimers(runningSum, { id: 'sum' })));
    // Assert: no stamp appears twice (a repeat, 10, has a new stamp), and none names two values.
    const stamps = [...run1.outputs, ...run2.outputs].map((o) => `${o.checkpointId}:${o.sequence}`);
    expect(new Set(stamps).size).toBe(stamps.length);
    expect(byStamp(run1, run2).clashes).toEqual([]);
    expect(run2.outputs.map((o) => o.element.value)).toEqual([10, 15, 21]);
  });

  it("'at-least-once': a crash before any checkpoint of the run: the next run's stamps differ as well", () => {
    // Arrange: no barrier before the crash.
    const store = new MemoryCheckpointStore();
    const run1 = start(checkpointable({ source: endlessSource([1, 2]), store, every: { records: 10 }, delivery: 'at-least-once' }).pipe());
    run1.subscription.unsubscribe();
    // Act
    const run2 = start(checkpointable({ source: arraySource([1, 2]), store, every: { records: 10 }, delivery: 'at-least-once' }).pipe());
    // Assert
    expect(run1.outputs.map((o) => [o.checkpointId, o.sequence])).toEqual([[1, 0], [1, 1]]);
    expect(run2.outputs.map((o) => [o.checkpointId, o.sequence])).toEqual([[2, 0], [2, 1]]);
  });

  it("'at-least-once': a start checkpoint that cannot be written errors the output before anything is emitted", () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    const failure = new Error('EROFS');
    store.write = () => {
      throw failure;
    };
    // Act
    const run = start(checkpointable({ source: arraySource([1]), store, every: { records: 1 }, delivery: 'at-least-once' }).pipe());
    // Assert
    expect(run.error).toBe(failure);
    expect(run.outputs).toEqual([]);
  });

  it('property: crashes at random outputs, up to two newest checkpoints damaged before random restarts, either delivery: no stamp ever names two values, and none is lost', () => {
    fc.assert(fc.property(
      fc.constantFrom<'exactly-once' | 'at-least-once'>('exactly-once', 'at-least-once'),
      fc.array(fc.record({ records: fc.integer({ min: 1, max: 4 }), crashAt: fc.integer({ min: 1, max: 12 }), damage: fc.integer({ min: 0, max: 2 }) }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 1, max: 4 }),
      (delivery, crashes, lastRecords) => {
        // Arrange: ten values; each run crashes at its crashAt-th output (from inside the consumer); before a
        // restart up to two of the newest checkpoints may be damaged (so the restart falls back past them).
        const values = Array.from({ length: 10 }, (_, i) => i + 1);
        const store = new MemoryCheckpointStore({ retain: 100 });
        const seen = new Map<string, unknown>();
        const clashes: string[] = [];
        const consume = (o: CheckpointedOutput<unknown>): void => {
          const stamp = `${o.checkpointId}:${o.sequence}`;
          if (seen.has(stamp) && seen.get(stamp) !== o.element.value) clashes.push(stamp);
          seen.set(stamp, o.element.value);
        };
        const job = (records: number) => checkpointable({ source: arraySource(values), store, every: { records }, delivery, onWarning: () => undefined })
          .pipe(keyedTimers(runningSum, { id: 'sum' }));
        // Act
        for (const { records, crashAt, damage } of crashes) {
          // take(crashAt) unsubscribes the run right after its crashAt-th output: a crash; or it ends sooner.
          job(records).pipe(take(crashAt)).subscribe({ next: consume, error: () => undefined }).unsubscribe();
          // Damage the newest `damage` checkpoints, keeping at least one intact (else there is nothing to restore).
          const ids = store.list().filter((id) => store.read(id).endsWith('\n'));
          for (const id of ids.slice(Math.max(1, ids.length - damage))) store.write(id, store.read(id).slice(0, 30));
        }
        let completed = false;
        job(lastRecords).subscribe({ next: consume, complete: () => (completed = true) });
        // Assert: every running sum was seen under some stamp, and no stamp names two of them.
        expect(completed).toBe(true);
        expect(clashes).toEqual([]);
        const sums = values.map((_, i) => ((i + 1) * (i + 2)) / 2);
        expect(sums.filter((sum) => ![...seen.values()].includes(sum))).toEqual([]);
      },
    ), { numRuns: 200 });
  });
});
