import {
  arraySource, checkpointable, MemoryCheckpointStore, readLatestCheckpoint, type CheckpointSink, type CheckpointWarning,
  type SinkRecovery,
} from 'rxjs-sluice';
import { forgeCheckpoint, start } from '../support/checkpoints';

/**
 * Sink receipts (checkpoint format version 2): the text a sink's preCommit returns is stored inside that
 * checkpoint and handed back to recover when it is restored; a version 1 checkpoint (no receipt) still restores.
 */

/** A sink whose preCommit(n) returns `receipt(n)`; it logs `recover` calls with what they were given. */
function receiptSink(receipt: (id: number) => unknown, recoveries: SinkRecovery[] = []): CheckpointSink<unknown> {
  return {
    preCommit: (id) => receipt(id) as string,
    commit: () => undefined,
    abort: () => undefined,
    recover: (_id, recovery) => void recoveries.push(recovery),
  };
}

describe('sink receipts', () => {
  it('the receipt preCommit returns is stored in its checkpoint and handed to recover when that checkpoint is restored', async () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    const recoveries: SinkRecovery[] = [];
    const sink = receiptSink((id) => `chain-through-${id}`, recoveries);
    const run1 = start(checkpointable({ source: arraySource([1, 2, 3, 4]), store, sink, every: { records: 2 } }).pipe());
    // Act
    start(checkpointable({ source: arraySource([1, 2, 3, 4]), store, sink, every: { records: 2 } }).pipe());
    // Assert
    expect(run1.completed).toBe(true);
    expect((await readLatestCheckpoint(store))?.receipt).toBe('chain-through-3');
    expect(JSON.parse(store.read(2))).toMatchObject({ version: 2, body: { receipt: 'chain-through-2' } });
    expect(recoveries.map(({ checkpointId, receipt }) => ({ checkpointId, receipt }))).toEqual([
      { checkpointId: undefined, receipt: undefined },
      { checkpointId: 3, receipt: 'chain-through-3' },
    ]);
  });

  it('a sink that returns no receipt: null in the checkpoint, undefined for recover', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    const recoveries: SinkRecovery[] = [];
    start(checkpointable({ source: arraySource([1, 2]), store, sink: receiptSink(() => undefined), every: { records: 1 } }).pipe());
    // Act
    start(checkpointable({ source: arraySource([1, 2]), store, sink: receiptSink(() => undefined, recoveries), every: { records: 1 } }).pipe());
    // Assert
    expect(JSON.parse(store.read(3))).toMatchObject({ version: 2, body: { receipt: null } });
    expect(recoveries).toEqual([{ checkpointId: 3, receipt: undefined, codec: expect.objectContaining({ name: 'json' }) }]);
  });

  it('a version 1 checkpoint (written before receipts existed) restores, with no receipt', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    store.write(4, forgeCheckpoint(4, { position: '2', outputs: '[]' }, 1));
    const recoveries: SinkRecovery[] = [];
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2, 3]), store, sink: receiptSink(() => 'r', recoveries), every: { records: 5 } }).pipe());
    // Assert
    expect(run.error).toBeUndefined();
    expect(run.completed).toBe(true);
    expect(run.outputs.map((o) => o.element.value)).toEqual([3]);
    expect(recoveries.map((r) => [r.checkpointId, r.receipt])).toEqual([[4, undefined]]);
  });

  it('an ambiguous write: the checkpoint that commits the kept epoch stores its own receipt; restoring either one hands back its own', () => {
    // Arrange: the write of checkpoint 2 lands but reports a failure; checkpoint 3 commits epochs 2 and 3.
    const store = new MemoryCheckpointStore({ retain: 100 });
    const write = store.write.bind(store);
    store.write = (id, text) => {
      write(id, text);
      if (id === 2) throw new Error('ETIMEDOUT');
    };
    const sink = receiptSink((id) => `receipt-${id}`);
    const run = start(checkpointable({ source: arraySource([1, 2, 3, 4, 5, 6]), store, sink, every: { records: 2 } }).pipe());
    const recoveries: SinkRecovery[] = [];
    // Act: restore from checkpoint 3, then from checkpoint 2 alone (as if 3 had never been written).
    const from3 = new MemoryCheckpointStore({ retain: 100 });
    const from2 = new MemoryCheckpointStore({ retain: 100 });
    for (const id of [1, 2, 3]) from3.write(id, store.read(id));
    for (const id of [1, 2]) from2.write(id, store.read(id));
    start(checkpointable({ source: arraySource([1, 2, 3, 4, 5, 6]), store: from3, sink: receiptSink(() => 'x', recoveries), every: { records: 2 } }).pipe());
    start(checkpointable({ source: arraySource([1, 2, 3, 4, 5, 6]), store: from2, sink: receiptSink(() => 'x', recoveries), every: { records: 2 } }).pipe());
    // Assert
    expect(run.completed).toBe(true);
    expect(recoveries.map((r) => [r.checkpointId, r.receipt])).toEqual([[3, 'receipt-3'], [2, 'receipt-2']]);
  });

  it('a receipt that is not a string fails that checkpoint (warned, the pre-commit aborted), and the run carries on', () => {
    // Arrange
    const store = new MemoryCheckpointStore();
    const warnings: CheckpointWarning[] = [];
    const aborted: number[] = [];
    const sink: CheckpointSink<unknown> = {
      ...receiptSink((id) => (id === 1 ? { chain: 'abc' } : `r${id}`)),
      abort: (id) => void aborted.push(id),
    };
    // Act
    const run = start(checkpointable({ source: arraySource([1, 2]), store, sink, every: { records: 1 }, onWarning: (w) => warnings.push(w) }).pipe());
    // Assert
    expect(run.completed).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ kind: 'checkpoint-failed', checkpointId: 1 });
    expect(warnings[0]!.error).toBeInstanceOf(TypeError);
    expect(warnings[0]!.message).toContain('sink.preCommit(1) returned');
    expect(aborted).toEqual([1]);
    expect(store.list()).toEqual([2, 3]);
  });
});
