import * as api from 'rxjs-sluice';
import * as nodeApi from 'rxjs-sluice/node';
import {
  asyncWaitMetrics, asyncWaitOrdered, barrier, record, watermark,
  type AsyncCallContext, type AsyncFunction, type AsyncRetryOptions, type AsyncWaitCounters, type AsyncWaitMetrics,
  type AsyncWaitOptions, type CheckpointBarrier, type ExponentialBackoff, type RetryDelay, type RetryReason,
  type StreamElement, type StreamRecord, type Watermark,
} from 'rxjs-sluice';

const EXPECTED_RUNTIME_EXPORTS = [
  'AsyncBatchError',
  'AsyncCallError',
  'AsyncKeyError',
  'AsyncTimeoutError',
  'CheckpointBindingError',
  'CheckpointCorruptError',
  'CheckpointEncodeError',
  'CheckpointRestoreError',
  'CheckpointStoreError',
  'CheckpointVersionError',
  'KeyedProcessError',
  'MemoryCheckpointStore',
  'SourcePositionError',
  'TimerLoopError',
  'arraySource',
  'asyncBatchMetrics',
  'asyncBatchOrdered',
  'asyncBatchUnordered',
  'asyncWaitKeyed',
  'asyncWaitMetrics',
  'asyncWaitOrdered',
  'asyncWaitUnordered',
  'barrier',
  'batchFailure',
  'batchResults',
  'checkpointMetrics',
  'checkpointable',
  'filterRecords',
  'isBarrier',
  'isRecord',
  'isSideOutput',
  'isWatermark',
  'iterableSource',
  'jsonCodec',
  'keyedTimers',
  'keyedTimersMetrics',
  'mainOutput',
  'mapRecords',
  'outputTag',
  'pulled',
  'readLatestCheckpoint',
  'record',
  'selectTag',
  'sideOutput',
  'sourceMetrics',
  'toRecords',
  'values',
  'watermark',
  'withWatermarks',
];

describe('public entry point', () => {
  it('exports exactly the expected runtime names', () => {
    expect(Object.keys(api).sort()).toEqual(EXPECTED_RUNTIME_EXPORTS);
  });

  it.each(EXPECTED_RUNTIME_EXPORTS.filter((name) => name !== 'jsonCodec'))('exports %s as a function', (name) => {
    expect(typeof (api as Record<string, unknown>)[name]).toBe('function');
  });

  it('exports jsonCodec as a frozen codec object', () => {
    expect(api.jsonCodec.name).toBe('json');
    expect(Object.isFrozen(api.jsonCodec)).toBe(true);
    expect(api.jsonCodec.decode(api.jsonCodec.encode({ a: [1, 'b', null] }))).toEqual({ a: [1, 'b', null] });
  });

  it('keeps the Node-only parts on the rxjs-sluice/node subpath', () => {
    // Arrange / Act
    const node: Record<string, unknown> = { ...nodeApi };

    // Assert
    expect(Object.keys(node).sort()).toEqual([
      'DirectoryLockedError', 'FileCheckpointStore', 'FileCheckpointStoreError', 'FileSink', 'FileSinkCorruptError', 'FileSinkError',
      'LineTooLongError', 'MalformedRecordError', 'SourceReadError',
      'fileLinesSource', 'ndjsonSource', 'readCommitted', 'readCommittedElements', 'readableSource',
    ]);
    expect(Object.keys(api)).not.toContain('FileCheckpointStore');
  });

  it('exports the public types (checked by the compiler)', () => {
    // Arrange: every exported type is used, so removing one fails `tsc --noEmit` on this file.
    const r: StreamRecord<number> = record(1, 1);
    const w: Watermark = watermark(1);
    const b: CheckpointBarrier = barrier(1);
    const elements: StreamElement<number>[] = [r, w, b];
    const backoff: ExponentialBackoff = { initial: 1, multiplier: 2, max: 8 };
    const byReason: RetryDelay<number> = (_n: number, reason: RetryReason<number>) => (reason.kind === 'error' ? 1 : 2);
    const retry: AsyncRetryOptions<number> = { maxRetries: 1, delay: backoff };
    const fn: AsyncFunction<number, number> = (x: number, ctx: AsyncCallContext) => [x + ctx.attempt];
    const metrics: AsyncWaitMetrics = asyncWaitMetrics();
    const counters: AsyncWaitCounters = metrics.snapshot();
    const options: AsyncWaitOptions<number, number> = { capacity: 2, retry, metrics };

    // Act / Assert
    expect(() => asyncWaitOrdered(fn, options)).not.toThrow();
    expect(() => asyncWaitOrdered(fn, { retry: { maxRetries: 1, delay: byReason } })).not.toThrow();
    expect(elements.map((e) => e.kind)).toEqual(['record', 'watermark', 'barrier']);
    expect(counters.started).toBe(0);
  });
});
