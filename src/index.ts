/**
 * rxjs-sluice: Apache Flink's stream-processing semantics as RxJS pipeable operators.
 * This is the package's one public entry point.
 *
 * @packageDocumentation
 */
export {
  record, watermark, barrier, isRecord, isWatermark, isBarrier, isSideOutput,
  type StreamElement, type StreamRecord, type Watermark, type CheckpointBarrier, type SideOutputRecord,
} from './elements/streamElement.js';
export { outputTag, sideOutput, type OutputTag } from './elements/outputTag.js';
export { mapRecords } from './elements/mapRecords.js';
export { filterRecords } from './elements/filterRecords.js';
export { toRecords } from './elements/toRecords.js';
export { values } from './elements/values.js';
export { asyncWaitOrdered } from './asyncWait/asyncWaitOrdered.js';
export { asyncWaitUnordered } from './asyncWait/asyncWaitUnordered.js';
export { asyncWaitKeyed } from './keyed/asyncWaitKeyed.js';
export type { AsyncWaitKeyedOptions, AsyncWaitKeyedValuesOptions, KeyedOptions } from './keyed/options.js';
export { AsyncKeyError } from './keyed/AsyncKeyError.js';
export type {
  AsyncWaitOptions, AsyncWaitValuesOptions, AsyncFunction, AsyncCallContext, AsyncRetryOptions, RetryDelay, RetryReason, ExponentialBackoff,
} from './asyncWait/options.js';
export { asyncWaitMetrics, type AsyncWaitMetrics, type AsyncWaitCounters } from './asyncWait/asyncWaitMetrics.js';
export type { AsyncWarning } from './asyncWait/asyncWarning.js';
export type { AdaptiveConcurrencyOptions, AdaptiveWindowOptions, ConcurrencyOptions } from './limits/adaptiveOptions.js';
export type { RateLimitOptions } from './limits/tokenBucket.js';
export type { RetryBudgetOptions } from './limits/retryBudget.js';
export { asyncBatchOrdered } from './batching/asyncBatchOrdered.js';
export { asyncBatchUnordered } from './batching/asyncBatchUnordered.js';
export type {
  AsyncBatchOptions, AsyncBatchValuesOptions, BatchCallContext, BatchFunction, BatchResult,
} from './batching/options.js';
export { batchResults, batchFailure, type BatchEntry, type BatchResults, type BatchFailure } from './batching/batchEntries.js';
export { asyncBatchMetrics, type AsyncBatchMetrics, type AsyncBatchCounters, type BatchFlushes } from './batching/asyncBatchMetrics.js';
export { AsyncBatchError } from './batching/AsyncBatchError.js';
export { keyedTimers } from './keyedTimers/keyedTimers.js';
export type {
  KeyedProcessFunction, KeyedContext, OnTimerContext, KeyedOutputs, ValueState, TimerService, TimeDomain, KeyedTimersOptions,
} from './keyedTimers/options.js';
export { keyedTimersMetrics, type KeyedTimersMetrics, type KeyedTimersCounters } from './keyedTimers/keyedTimersMetrics.js';
export { selectTag } from './elements/selectTag.js';
export { mainOutput } from './elements/mainOutput.js';
export { withWatermarks, type WithWatermarksOptions } from './watermarks/withWatermarks.js';
export { KeyedProcessError, type KeyedCallback, type FiredTimer } from './keyedTimers/KeyedProcessError.js';
export { TimerLoopError } from './keyedTimers/TimerLoopError.js';
export { AsyncTimeoutError } from './asyncWait/AsyncTimeoutError.js';
export { AsyncCallError } from './asyncWait/AsyncCallError.js';
export {
  checkpointable, type CheckpointableOptions, type CheckpointableJob, type CheckpointTrigger, type RecordValueOf,
} from './checkpoint/checkpointable.js';
export type { ReplayableSource, SourceItem } from './checkpoint/source.js';
export { arraySource, type ArraySourceOptions } from './flow/arraySource.js';
export { iterableSource } from './flow/iterableSource.js';
export type { SourceOptions } from './flow/sourceOptions.js';
export { SourcePositionError } from './flow/SourcePositionError.js';
export { pulled, type PulledOptions } from './flow/pulled.js';
export type { PullInput } from './flow/pullers.js';
export { sourceMetrics, type SourceMetrics, type SourceCounters } from './flow/sourceMetrics.js';
export {
  MemoryCheckpointStore, readLatestCheckpoint, type CheckpointStore, type StoredCheckpoint, type MemoryCheckpointStoreOptions,
  type MaybePromise,
} from './checkpoint/store.js';
export { jsonCodec, type CheckpointCodec } from './checkpoint/codec.js';
export type { CheckpointSink, CheckpointedOutput, SinkRecovery } from './checkpoint/sink.js';
export type { CheckpointWarning } from './checkpoint/warning.js';
export { checkpointMetrics, type CheckpointMetrics, type CheckpointCounters } from './checkpoint/checkpointMetrics.js';
export { CheckpointCorruptError } from './checkpoint/CheckpointCorruptError.js';
export { CheckpointVersionError } from './checkpoint/CheckpointVersionError.js';
export { CheckpointRestoreError } from './checkpoint/CheckpointRestoreError.js';
export { CheckpointEncodeError } from './checkpoint/CheckpointEncodeError.js';
export { CheckpointStoreError } from './checkpoint/CheckpointStoreError.js';
export { CheckpointBindingError } from './checkpoint/CheckpointBindingError.js';
