import {
  arraySource, checkpointable, checkpointMetrics, mapRecords, MemoryCheckpointStore, type CheckpointSink, type CheckpointStore,
  type CheckpointWarning, type ReplayableSource, type SourceItem,
} from 'rxjs-sluice';
import { concat, from, NEVER } from 'rxjs';
import { start } from '../support/checkpoints';
import { deferred } from '../support/deferred';

/**
 * The optional open/close lifecycle of stores and sinks: open once when the pipeline is subscribed (store, then
 * sink) before anything is read or recovered; close once when it ends (sink, then store), after its writes have
 * settled; what a failing open or close does.
 */

/** Lets every settled promise run its callbacks. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A replayable source that never completes once its values are out. */
function endlessSource<T>(values: readonly T[]): ReplayableSource<T, number> {
  return {
    open: (position = 0) =>
      concat(from(values.slice(position).map((value, i): SourceItem<T, number> => ({ value, position: position + i + 1 }))), NEVER),
  };
}

/** A MemoryCheckpointStore that logs every call (`store.open`, `store.list`, …); `overrides` replace methods. */
function loggingStore(log: string[], overrides: Partial<CheckpointStore> = {}): CheckpointStore {
  const inner = new MemoryCheckpointStore({ retain: 100 });
  return {
    open: () => void log.push('store.open'),
    close: () => void log.push('store.close'),
    list: () => (log.push('store.list'), inner.list()),
    read: (id) => (log.push(`store.read ${id}`), inner.read(id)),
    write: (id, text) => (log.push(`store.write ${id}`), inner.write(id, text)),
    ...overrides,
  };
}

/** A sink that logs every call; `overrides` replace methods. */
function loggingSink(log: string[], overrides: Partial<CheckpointSink<unknown>> = {}): CheckpointSink<unknown> {
  return {
    open: () => void log.push('sink.open'),
    close: () => void log.push('sink.close'),
    preCommit: (id) => void log.push(`sink.preCommit ${id}`),
    commit: (id) => void log.push(`sink.commit ${id}`),
    abort: (id) => void log.push(`sink.abort ${id}`),
    recover: (id) => void log.push(`sink.recover ${String(id)}`),
    ...overrides,
  };
}

describe('store and sink lifecycle: open and close', () => {
  it('open comes first (store, then sink), before list and recover; close comes last (sink, then store), before completion', () => {
    // Arrange
    const log: string[] = [];
    const job = checkpointable({ source: arraySource([1, 2]), store: loggingStore(log), sink: loggingSink(log), every: { records: 2 } });
    // Act
    const run = start(job.pipe(), log);
    // Assert
    expect(run.completed).toBe(true);
    expect(log).toEqual([
      'store.open', 'sink.open', 'store.list', 'sink.recover undefined',
      'sink.preCommit 1', 'store.write 1', 'sink.commit 1', 'emit 1', 'emit 2',
      'sink.preCommit 2', 'store.write 2', 'sink.commit 2',
      'sink.close', 'store.close', 'complete',
    ]);
  });

  it('each is closed once when the output errors, and once when it is unsubscribed', () => {
    // Arrange
    const failLog: string[] = [];
    const crashLog: string[] = [];
    const failing: ReplayableSource<number, number> = { open: () => { throw new Error('cannot open the log'); } };
    // Act
    const failed = start(checkpointable({ source: failing, store: loggingStore(failLog), sink: loggingSink(failLog), every: { records: 1 } }).pipe());
    const crashed = start(checkpointable({ source: endlessSource([1]), store: loggingStore(crashLog), sink: loggingSink(crashLog), every: { records: 5 } }).pipe());
    crashed.subscription.unsubscribe();
    crashed.subscription.unsubscribe();
    // Assert
    expect((failed.error as Error).message).toBe('cannot open the log');
    expect(failLog.filter((l) => /open|close/.test(l))).toEqual(['store.open', 'sink.open', 'sink.close', 'store.close']);
    expect(crashLog.filter((l) => /open|close/.test(l))).toEqual(['store.open', 'sink.open', 'sink.close', 'store.close']);
  });

  it('ending is called at once when the run ends (sink, then store), before its writes settle and before close; a throw is a close-failed warning', async () => {
    // Arrange: the write of checkpoint 1 hangs until the test resolves it; the sink's ending throws
    const log: string[] = [];
    const warnings: CheckpointWarning[] = [];
    const write = deferred<void>();
    const store = { ...loggingStore(log, { write: (id) => (log.push(`store.write ${id}`), write.promise) }), ending: () => void log.push('store.ending') };
    const sink = { ...loggingSink(log), ending: () => { log.push('sink.ending'); throw new Error('sink ending failed'); } };
    const run = start(checkpointable({ source: endlessSource([1]), store, sink, every: { records: 1 }, onWarning: (w) => warnings.push(w) }).pipe());
    // Act
    run.subscription.unsubscribe();
    const atUnsubscribe = log.filter((l) => /ending|close/.test(l));
    write.resolve();
    await settle();
    // Assert
    expect(atUnsubscribe).toEqual(['sink.ending', 'store.ending']);
    expect(log.filter((l) => /ending|close/.test(l))).toEqual(['sink.ending', 'store.ending', 'sink.close', 'store.close']);
    expect(warnings.map((w) => [w.kind, w.message])).toEqual([['close-failed', 'sink ending failed']]);
  });

  it('a store and sink without open/close work as before', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 } }).pipe());
    // Assert
    expect(run.completed).toBe(true);
    expect(store.list()).toEqual([1, 2]);
  });

  it('close waits for a store write still in flight after an unsubscribe', async () => {
    // Arrange: the write of checkpoint 1 hangs until the test resolves it.
    const log: string[] = [];
    const write = deferred<void>();
    const store = loggingStore(log, { write: (id) => (log.push(`store.write ${id}`), write.promise) });
    const run = start(checkpointable({ source: endlessSource([1]), store, every: { records: 1 } }).pipe());
    // Act
    run.subscription.unsubscribe();
    await settle();
    const beforeTheWriteSettled = [...log];
    write.resolve();
    await settle();
    // Assert
    expect(beforeTheWriteSettled).toEqual(['store.open', 'store.list', 'store.write 1']);
    expect(log).toEqual(['store.open', 'store.list', 'store.write 1', 'store.close']);
  });

  it('on failure everything stops at once, and the output errors only after the write in flight and close (sink, then store) have settled', async () => {
    // Arrange: the write of checkpoint 1 and the store's close hang until the test resolves them; record 3 throws.
    const log: string[] = [];
    const write = deferred<void>();
    const close = deferred<void>();
    const store = loggingStore(log, { write: (id) => (log.push(`store.write ${id}`), write.promise), close: () => (log.push('store.close'), close.promise) });
    const job = checkpointable({ source: arraySource([1, 2, 3, 4]), store, sink: loggingSink(log), every: { records: 2 } });
    const run = start(job.pipe(mapRecords((x: number) => {
      if (x === 3) throw new Error('record 3');
      return x;
    })), log);
    // Act
    await settle();
    const whileWriting = [...log];
    write.resolve();
    await settle();
    const whileClosing = [...log];
    close.resolve();
    await settle();
    // Assert: no output after the failure, no error before the store is closed
    expect(whileWriting).toEqual(['store.open', 'sink.open', 'store.list', 'sink.recover undefined', 'sink.preCommit 1', 'store.write 1']);
    expect(whileClosing.slice(whileWriting.length)).toEqual(['sink.close', 'store.close']);
    expect(log.slice(whileClosing.length)).toEqual(['error']);
    expect((run.error as Error).message).toBe('record 3');
    expect(run.outputs).toEqual([]);
  });

  it("a new run on the same store waits for the previous run's asynchronous close before it opens", async () => {
    // Arrange
    const log: string[] = [];
    const close = deferred<void>();
    const store = loggingStore(log, { close: () => (log.push('store.close'), close.promise) });
    const run1 = start(checkpointable({ source: endlessSource([1]), store, every: { records: 5 } }).pipe());
    run1.subscription.unsubscribe();
    // Act
    const run2 = start(checkpointable({ source: arraySource([1]), store, every: { records: 5 } }).pipe());
    await settle();
    const whileClosing = [...log];
    close.resolve();
    await settle();
    // Assert
    expect(whileClosing).toEqual(['store.open', 'store.list', 'store.close']);
    expect(log.slice(3)).toEqual(['store.open', 'store.list', 'store.write 1', 'store.close']);
    expect(run2.completed).toBe(true);
  });

  it('a failing store open errors the output with that error; nothing is listed, the sink is not opened, nothing is closed', async () => {
    // Arrange
    const log: string[] = [];
    const locked = new Error('directory locked by another process');
    const store = loggingStore(log, { open: () => (log.push('store.open'), Promise.reject(locked)) });
    // Act
    const run = start(checkpointable({ source: arraySource([1]), store, sink: loggingSink(log), every: { records: 1 } }).pipe());
    await settle();
    // Assert
    expect(run.error).toBe(locked);
    expect(log).toEqual(['store.open']);
  });

  it('a failing sink open errors the output with that error, and the store (already open) is closed', () => {
    // Arrange
    const log: string[] = [];
    const locked = new Error('sink directory locked');
    const sink = loggingSink(log, { open: () => { log.push('sink.open'); throw locked; } });
    // Act
    const run = start(checkpointable({ source: arraySource([1]), store: loggingStore(log), sink, every: { records: 1 } }).pipe());
    // Assert
    expect(run.error).toBe(locked);
    expect(log).toEqual(['store.open', 'sink.open', 'store.close']);
  });

  it('a failing close on completion errors the output instead of completing; the other one is still closed', () => {
    // Arrange
    const log: string[] = [];
    const stuck = new Error('cannot release the lock');
    const sink = loggingSink(log, { close: () => { log.push('sink.close'); throw stuck; } });
    const metrics = checkpointMetrics();
    // Act
    const run = start(checkpointable({ source: arraySource([1]), store: loggingStore(log), sink, every: { records: 5 }, metrics }).pipe(), log);
    // Assert
    expect(run.error).toBe(stuck);
    expect(run.completed).toBe(false);
    expect(log.slice(-3)).toEqual(['sink.close', 'store.close', 'error']);
    expect(metrics.closeFailed).toBe(0);
  });

  it('a failing close after an unsubscribe goes to onWarning (close-failed) and metrics.closeFailed', async () => {
    // Arrange
    const warnings: CheckpointWarning[] = [];
    const metrics = checkpointMetrics();
    const stuck = new Error('cannot release the lock');
    const store = loggingStore([], { close: () => Promise.reject(stuck) });
    const run = start(checkpointable({
      source: endlessSource([1, 2]), store, every: { records: 1 }, metrics, onWarning: (w) => warnings.push(w),
    }).pipe());
    // Act
    run.subscription.unsubscribe();
    await settle();
    // Assert
    expect(warnings).toEqual([{ kind: 'close-failed', checkpointId: 2, message: 'cannot release the lock', error: stuck }]);
    expect(metrics.closeFailed).toBe(1);
  });

  it('a sink in use by a running pipeline: a second pipeline with the same sink errors with a TypeError', () => {
    // Arrange
    const sink = loggingSink([]);
    const first = start(checkpointable({ source: endlessSource([1]), sink, every: { records: 1 } }).pipe());
    // Act
    const second = start(checkpointable({ source: arraySource([1]), sink, every: { records: 1 } }).pipe());
    // Assert
    expect(second.error).toBeInstanceOf(TypeError);
    expect((second.error as Error).message).toContain('sink is already used by a running pipeline');
    expect(first.error).toBeUndefined();
    first.subscription.unsubscribe();
  });

  it.each([
    ['store', 'open'], ['store', 'close'], ['sink', 'open'], ['sink', 'close'],
  ] as const)('validates %s.%s: given, it must be a function', (part, method) => {
    // Arrange
    const options = {
      source: arraySource([1]), every: { records: 1 },
      store: part === 'store' ? Object.assign(new MemoryCheckpointStore(), { [method]: 'yes' }) : new MemoryCheckpointStore(),
      sink: part === 'sink' ? { ...loggingSink([]), [method]: 'yes' } : undefined,
    };
    // Act
    const act = (): unknown => checkpointable(options as never);
    // Assert
    expect(act).toThrow(new TypeError(`checkpointable: option "${part}.${method}" must be a function, got "yes"`));
  });
});
