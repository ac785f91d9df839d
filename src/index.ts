/**
 * rxjs-sluice: Apache Flink's stream-processing semantics as RxJS pipeable operators.
 * This is the package's one public entry point.
 *
 * @packageDocumentation
 */
export {
  record, watermark, barrier, isRecord, isWatermark, isBarrier,
  type StreamElement, type StreamRecord, type Watermark, type CheckpointBarrier,
} from './elements/streamElement.js';
export { mapRecords } from './operators/mapRecords.js';
export { filterRecords } from './operators/filterRecords.js';
export { toRecords } from './operators/toRecords.js';
export { values } from './operators/values.js';
export { asyncWaitOrdered } from './operators/asyncWaitOrdered.js';
export { asyncWaitUnordered } from './operators/asyncWaitUnordered.js';
export type {
  AsyncWaitOptions, AsyncFunction, AsyncCallContext, AsyncRetryOptions, RetryDelay, RetryReason, ExponentialBackoff,
} from './internal/asyncWait/options.js';
export { asyncWaitMetrics, type AsyncWaitMetrics, type AsyncWaitCounters } from './metrics/asyncWaitMetrics.js';
export { AsyncTimeoutError } from './errors/AsyncTimeoutError.js';
export { AsyncCallError } from './errors/AsyncCallError.js';
