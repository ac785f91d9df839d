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
export { mapRecords } from './operators/mapRecords.js';
export { filterRecords } from './operators/filterRecords.js';
export { toRecords } from './operators/toRecords.js';
export { values } from './operators/values.js';
export { asyncWaitOrdered } from './operators/asyncWaitOrdered.js';
export { asyncWaitUnordered } from './operators/asyncWaitUnordered.js';
export type {
  AsyncWaitOptions, AsyncWaitValuesOptions, AsyncFunction, AsyncCallContext, AsyncRetryOptions, RetryDelay, RetryReason, ExponentialBackoff,
} from './internal/asyncWait/options.js';
export { asyncWaitMetrics, type AsyncWaitMetrics, type AsyncWaitCounters } from './metrics/asyncWaitMetrics.js';
export { keyedTimers } from './operators/keyedTimers.js';
export type {
  KeyedProcessFunction, KeyedContext, OnTimerContext, ValueState, TimerService, TimeDomain, KeyedTimersOptions,
} from './internal/keyedTimers/options.js';
export { keyedTimersMetrics, type KeyedTimersMetrics, type KeyedTimersCounters } from './metrics/keyedTimersMetrics.js';
export { selectTag } from './operators/selectTag.js';
export { mainOutput } from './operators/mainOutput.js';
export { withWatermarks, type WithWatermarksOptions } from './operators/withWatermarks.js';
export { KeyedProcessError, type KeyedCallback, type FiredTimer } from './errors/KeyedProcessError.js';
export { AsyncTimeoutError } from './errors/AsyncTimeoutError.js';
export { AsyncCallError } from './errors/AsyncCallError.js';
export {
  checkpointable, type CheckpointableOptions, type CheckpointableJob, type CheckpointTrigger, type RecordValueOf,
} from './checkpoint/checkpointable.js';
export { arraySource, type ReplayableSource, type SourceItem, type ArraySourceOptions } from './checkpoint/source.js';
export {
  MemoryCheckpointStore, readLatestCheckpoint, type CheckpointStore, type StoredCheckpoint, type MemoryCheckpointStoreOptions,
  type MaybePromise,
} from './checkpoint/store.js';
export { jsonCodec, type CheckpointCodec } from './checkpoint/codec.js';
export type { CheckpointSink, CheckpointedOutput } from './checkpoint/sink.js';
export type { CheckpointWarning } from './checkpoint/warning.js';
export { checkpointMetrics, type CheckpointMetrics, type CheckpointCounters } from './metrics/checkpointMetrics.js';
export { CheckpointCorruptError } from './errors/CheckpointCorruptError.js';
export { CheckpointVersionError } from './errors/CheckpointVersionError.js';
export { CheckpointRestoreError } from './errors/CheckpointRestoreError.js';
export { CheckpointEncodeError } from './errors/CheckpointEncodeError.js';
export { CheckpointStoreError } from './errors/CheckpointStoreError.js';
