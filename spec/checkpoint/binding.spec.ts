import { asyncScheduler, EMPTY, map, mergeMap, of, pipe, subscribeOn, type Observable, type OperatorFunction } from 'rxjs';
import * as sluice from 'rxjs-sluice';
import {
  arraySource, asyncWaitOrdered, CheckpointBindingError, checkpointable, keyedTimers, MemoryCheckpointStore,
  readLatestCheckpoint, type KeyedProcessFunction, type ReplayableSource, type SourceItem, type StreamElement,
} from 'rxjs-sluice';
import { concat, from, NEVER } from 'rxjs';
import { start } from '../support/checkpoints';

/**
 * How stateful operators are bound to their pipeline: at subscribe time, not through the elements. Copying the
 * elements (spread, structuredClone, a JSON round trip) or loading a second copy of the package cannot unbind an
 * operator; one the pipeline cannot bind (hidden in a composed operator, subscribed inside a mergeMap inner, on a
 * path barriers do not take) fails with CheckpointBindingError instead of being left out of the checkpoints.
 */

type El = StreamElement<string>;

/** Per key, how many records it has seen: keyedTimers state that a restore must bring back. */
const countPerKey: KeyedProcessFunction<string, string, string, number> = {
  key: (word) => word,
  processElement: (word, ctx) => {
    ctx.state.update((ctx.state.value() ?? 0) + 1);
    ctx.emit(`${word}:${ctx.state.value()}`);
  },
};

/** Ways an operator may copy every element it passes on. */
const COPIES: ReadonlyArray<readonly [name: string, copy: (e: El) => El]> = [
  ['a spread', (e) => ({ ...e })],
  ['structuredClone', (e) => structuredClone(e)],
  ['a JSON round trip', (e) => JSON.parse(JSON.stringify(e)) as El],
];

/** A replayable source that never completes once its values are out: a run over it ends only by a crash. */
function endlessSource<T>(values: readonly T[]): ReplayableSource<T, number> {
  return {
    open: (position = 0) =>
      concat(from(values.slice(position).map((value, i): SourceItem<T, number> => ({ value, position: position + i + 1 }))), NEVER),
  };
}

/** The record values a run emitted. */
const valuesOf = (run: { outputs: readonly { element: { value?: unknown } }[] }): unknown[] => run.outputs.map((o) => o.element.value);

describe('binding stateful operators to their pipeline', () => {
  describe.each(COPIES)('behind an operator that copies every element (%s)', (_name, copy) => {
    it('a keyedTimers passed to pipe() is checkpointed and restored: its counts carry on after a crash', () => {
      // Arrange
      const store = new MemoryCheckpointStore();
      const words = ['a', 'b', 'a', 'a', 'b'];
      const crashed = start(checkpointable({ source: endlessSource(words.slice(0, 3)), store, every: { records: 1 } })
        .pipe(map(copy), keyedTimers(countPerKey, { id: 'count' })));
      crashed.subscription.unsubscribe();
      // Act
      const restarted = start(checkpointable({ source: arraySource(words), store, every: { records: 1 } })
        .pipe(map(copy), keyedTimers(countPerKey, { id: 'count' })));
      // Assert
      expect(valuesOf(crashed)).toEqual(['a:1', 'b:1', 'a:2']);
      expect(valuesOf(restarted)).toEqual(['a:2', 'a:3', 'b:2']);
    });

    it('a keyedTimers hidden in a composed operator: the output errors with CheckpointBindingError, before any record flows', () => {
      // Arrange
      const store = new MemoryCheckpointStore();
      const composed: OperatorFunction<El, El> = pipe(map(copy), keyedTimers(countPerKey, { id: 'count' }));
      // Act
      const run = start(checkpointable({ source: arraySource(['a', 'b', 'a']), store, every: { records: 1 } }).pipe(composed));
      // Assert: no checkpoint without its state, and no restore that would restart its counts from zero.
      expect(run.error).toBeInstanceOf(CheckpointBindingError);
      expect((run.error as Error).message).toContain('the keyedTimers (id "count") is inside a composed operator');
      expect(run.outputs).toEqual([]);
      expect(store.list()).toEqual([]);
    });

    it('a keyedTimers subscribed inside a mergeMap inner: the first barrier errors the output with CheckpointBindingError', () => {
      // Arrange: each element gets its own inner keyedTimers, subscribed after the pipeline (unbound).
      const store = new MemoryCheckpointStore();
      const inner = mergeMap((e: El) => of(copy(e)).pipe(keyedTimers(countPerKey, { id: 'inner' })));
      // Act
      const run = start(checkpointable({ source: arraySource(['a', 'b']), store, every: { records: 1 } }).pipe(inner));
      // Assert
      expect(run.error).toBeInstanceOf(CheckpointBindingError);
      expect((run.error as Error).message).toContain('barrier 1 of a running pipeline reached the keyedTimers (id "inner"), which is not bound to it');
      expect(store.list()).toEqual([]);
    });
  });

  it('a barrier routed around a stateful operator: CheckpointBindingError, no checkpoint without its state', () => {
    // Arrange: records go through keyedTimers, barriers around it (a composed operator cannot hide it: it is
    // the same operator object as a pipe() argument, so it is bound, and the end sees that it missed barrier 1).
    const store = new MemoryCheckpointStore();
    const count = keyedTimers(countPerKey, { id: 'count' });
    const recordsOnly = mergeMap((e: El) => (e.kind === 'barrier' ? EMPTY : of(e)));
    // Act
    const run = start(checkpointable({ source: arraySource(['a', 'b']), store, every: { records: 1 } })
      .pipe(count, recordsOnly, map((e: StreamElement<string>) => e)));
    const routedAround = start(checkpointable({ source: arraySource(['a', 'b']), store: new MemoryCheckpointStore(), every: { records: 1 } })
      .pipe(mergeMap((e: El) => (e.kind === 'barrier' ? of(e) : EMPTY)), keyedTimers(countPerKey, { id: 'count' })));
    // Assert: the first drops every barrier after the operator; the second lets only barriers reach it and the
    // end, so it does snapshot them (its state is empty and correct).
    expect(run.error).toBeInstanceOf(CheckpointBindingError);
    expect(routedAround.error).toBeUndefined();
    expect(store.list()).toEqual([]);
  });

  it('a stateful operator passed to pipe() but subscribed late (subscribeOn after it) is still bound', async () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    const job = checkpointable({ source: arraySource(['a', 'b', 'a']), store, every: { records: 1 } });
    // Act
    const run = start(job.pipe(keyedTimers(countPerKey, { id: 'count' }), subscribeOn(asyncScheduler)));
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Assert
    expect(run.error).toBeUndefined();
    expect(run.completed).toBe(true);
    expect(valuesOf(run)).toEqual(['a:1', 'b:1', 'a:2']);
    expect(store.list()).toEqual([2, 3, 4]); // the newest 3 of 4: one per record, and the final one
  });

  it('the same stateful operator subscribed twice in one pipeline: CheckpointBindingError', () => {
    // Arrange
    const count = keyedTimers(countPerKey, { id: 'count' });
    const twice = (source: Observable<El>) => source.pipe(count);
    // Act
    const run = start(checkpointable({ source: arraySource(['a']), every: { records: 1 } }).pipe(count, twice as never));
    // Assert
    expect(run.error).toBeInstanceOf(CheckpointBindingError);
    expect((run.error as Error).message).toContain('subscribed twice');
  });

  it("an operator that subscribes the pipeline's source twice: CheckpointBindingError", () => {
    // Arrange
    const twice = (source: Observable<El>) => concat(source, source);
    // Act
    const run = start(checkpointable({ source: arraySource(['a']), every: { records: 1 } }).pipe(twice));
    // Assert
    expect(run.error).toBeInstanceOf(CheckpointBindingError);
    expect((run.error as Error).message).toContain("the pipeline's source was subscribed twice");
  });

  it('a hand-made barrier outside any pipeline still passes an unbound stateful operator', () => {
    // Arrange
    const out: El[] = [];
    // Act
    from<El[]>([sluice.record('a'), sluice.barrier(7)]).pipe(keyedTimers(countPerKey)).subscribe((e) => out.push(e));
    // Assert
    expect(out).toEqual([sluice.record('a:1'), sluice.barrier(7)]);
  });

  describe('a second copy of the package in the process (its own module instances, as an ES module and a CommonJS build would be)', () => {
    /** A fresh copy of every module of the package. */
    let copy: typeof sluice;
    beforeAll(() => {
      jest.isolateModules(() => {
        copy = jest.requireActual<typeof sluice>('../../src/index.ts');
      });
    });

    it('is a distinct copy', () => {
      // Arrange + Act + Assert
      expect(copy.keyedTimers).not.toBe(keyedTimers);
      expect(copy.CheckpointBindingError).not.toBe(CheckpointBindingError);
    });

    it("its stateful operators in this copy's pipeline are checkpointed and restored", async () => {
      // Arrange
      const store = new MemoryCheckpointStore();
      const words = ['a', 'b', 'a', 'a'];
      const crashed = start(checkpointable({ source: endlessSource(words.slice(0, 3)), store, every: { records: 1 } })
        .pipe(copy.keyedTimers(countPerKey, { id: 'count' }), copy.asyncWaitOrdered((s: string) => [s], { id: 'echo' })));
      crashed.subscription.unsubscribe();
      // Act: the restart mixes both copies' operators.
      const restarted = start(checkpointable({ source: arraySource(words), store, every: { records: 1 } })
        .pipe(copy.keyedTimers(countPerKey, { id: 'count' }), asyncWaitOrdered((s: string) => [s], { id: 'echo' })));
      // Assert
      const latest = await readLatestCheckpoint(store);
      expect(valuesOf(crashed)).toEqual(['a:1', 'b:1', 'a:2']);
      expect(valuesOf(restarted)).toEqual(['a:2', 'a:3']); // checkpoint 3's epoch again, then the rest
      expect(latest?.operators.map((o) => o.id)).toEqual(['count', 'echo']);
      expect(restarted.completed).toBe(true);
    });

    it("hidden in a composed operator in the other copy's pipeline: CheckpointBindingError", () => {
      // Arrange
      const composed: OperatorFunction<El, El> = pipe(map((e: El) => ({ ...e })), copy.keyedTimers(countPerKey, { id: 'count' }));
      // Act
      const run = start(copy.checkpointable({ source: copy.arraySource(['a', 'b']), every: { records: 1 } }).pipe(keyedTimers(countPerKey, { id: 'x' }), composed));
      // Assert: the error comes from the copy that runs the pipeline.
      expect(run.error).toBeInstanceOf(copy.CheckpointBindingError);
      expect((run.error as Error).message).toContain('inside a composed operator');
    });

    it('subscribed inside a mergeMap inner of the other copy, behind a JSON round trip: the barrier errors the output', () => {
      // Arrange
      const inner = mergeMap((e: El) => of(JSON.parse(JSON.stringify(e)) as El).pipe(copy.keyedTimers(countPerKey, { id: 'inner' })));
      // Act
      const run = start(checkpointable({ source: arraySource(['a']), every: { records: 1 } }).pipe(inner));
      // Assert
      expect(run.error).toBeInstanceOf(copy.CheckpointBindingError);
      expect((run.error as Error).message).toContain('which is not bound to it');
    });
  });
});
