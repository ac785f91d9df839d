// A consumer compiled with exactOptionalPropertyTypes, filling every public options type from a configuration
// whose fields may be undefined (read from a file, the environment, a form). Every optional option must accept
// an explicit undefined (`?: T | undefined`), or such a consumer cannot pass its configuration through.
import type { SchedulerLike } from 'rxjs';
import {
  arraySource, asyncWaitOrdered, asyncWaitUnordered, checkpointable, keyedTimers, MemoryCheckpointStore, readLatestCheckpoint,
  withWatermarks,
  type ArraySourceOptions, type AsyncCallContext, type AsyncRetryOptions, type AsyncWaitMetrics, type AsyncWaitOptions,
  type AsyncWaitValuesOptions, type CheckpointableOptions, type CheckpointCodec, type CheckpointMetrics, type CheckpointSink,
  type CheckpointStore, type CheckpointTrigger, type CheckpointWarning, type KeyedProcessFunction, type KeyedTimersMetrics,
  type KeyedTimersOptions, type MemoryCheckpointStoreOptions, type ReplayableSource, type SourceItem, type WithWatermarksOptions,
} from 'rxjs-sluice';
import {
  FileCheckpointStore, FileSink, readCommittedElements,
  type FileCheckpointStoreOptions, type FileSinkOptions, type ReadCommittedOptions,
} from 'rxjs-sluice/node';

/** Every optional setting, each possibly undefined. */
interface Config {
  readonly capacity?: number | undefined;
  readonly timeout?: number | undefined;
  readonly onTimeout?: ((value: number, ctx: AsyncCallContext) => number[]) | undefined;
  readonly retry?: AsyncRetryOptions<number> | undefined;
  readonly retryOnError?: ((error: unknown) => boolean) | undefined;
  readonly retryOnResult?: ((results: readonly number[]) => boolean) | undefined;
  readonly onError?: ((error: unknown, value: number) => number[]) | undefined;
  readonly scheduler?: SchedulerLike | undefined;
  readonly asyncMetrics?: AsyncWaitMetrics | undefined;
  readonly id?: string | undefined;
  readonly input?: 'elements' | undefined;
  readonly processingTimersOnComplete?: 'drop' | 'fire' | 'wait' | undefined;
  readonly eventTimersOnComplete?: 'fire' | 'drop' | undefined;
  readonly timersMetrics?: KeyedTimersMetrics | undefined;
  readonly interval?: number | undefined;
  readonly idleTimeout?: number | undefined;
  readonly watermarkInput?: 'values' | 'elements' | undefined;
  readonly records?: number | undefined;
  readonly store?: CheckpointStore | undefined;
  readonly delivery?: 'exactly-once' | 'at-least-once' | undefined;
  readonly sink?: CheckpointSink<never> | undefined;
  readonly codec?: CheckpointCodec | undefined;
  readonly onWarning?: ((warning: CheckpointWarning) => void) | undefined;
  readonly checkpointMetrics?: CheckpointMetrics | undefined;
  readonly timestampOf?: ((value: number, index: number) => number) | undefined;
  readonly timestamp?: number | undefined;
  readonly retain?: number | undefined;
  readonly createDirectory?: boolean | undefined;
}
declare const cfg: Config;
const lookUp = async (x: number): Promise<number> => x;

// asyncWaitOrdered / asyncWaitUnordered
const retry: AsyncRetryOptions<number> = { maxRetries: 3, delay: 10, retryOnError: cfg.retryOnError, retryOnResult: cfg.retryOnResult };
const asyncOptions: AsyncWaitOptions<number, number> = {
  capacity: cfg.capacity, timeout: cfg.timeout, onTimeout: cfg.onTimeout, retry: cfg.retry, onError: cfg.onError,
  scheduler: cfg.scheduler, metrics: cfg.asyncMetrics, id: cfg.id, input: cfg.input,
};
const valuesOptions: AsyncWaitValuesOptions<number, number> = { input: 'values', capacity: cfg.capacity, timeout: cfg.timeout, retry };
export const ordered = asyncWaitOrdered(lookUp, asyncOptions);
export const unordered = asyncWaitUnordered(lookUp, valuesOptions);

// keyedTimers
const timersOptions: KeyedTimersOptions = {
  scheduler: cfg.scheduler, processingTimersOnComplete: cfg.processingTimersOnComplete,
  eventTimersOnComplete: cfg.eventTimersOnComplete, metrics: cfg.timersMetrics, id: cfg.id,
};
const count: KeyedProcessFunction<number, number, number, number> = { key: (x) => x % 2, processElement: (x, ctx) => ctx.emit(x) };
export const timers = keyedTimers(count, timersOptions);

// withWatermarks
const watermarkOptions: WithWatermarksOptions<number> = {
  timestampOf: (x) => x, maxOutOfOrderness: 100, interval: cfg.interval, idleTimeout: cfg.idleTimeout,
  scheduler: cfg.scheduler, input: cfg.watermarkInput, id: cfg.id,
};
export const watermarks = withWatermarks(watermarkOptions);

// checkpointable, its sources and its stores
const sourceOptions: ArraySourceOptions<number> = { timestampOf: cfg.timestampOf };
const item: SourceItem<number, number> = { value: 1, position: 1, timestamp: cfg.timestamp };
const source: ReplayableSource<number, number> = arraySource([1, 2, 3], sourceOptions);
const every: CheckpointTrigger = { records: cfg.records, interval: cfg.interval };
const memoryOptions: MemoryCheckpointStoreOptions = { retain: cfg.retain };
const jobOptions: CheckpointableOptions<number, number> = {
  source, every, store: cfg.store, delivery: cfg.delivery, sink: cfg.sink, codec: cfg.codec,
  scheduler: cfg.scheduler, onWarning: cfg.onWarning, metrics: cfg.checkpointMetrics,
};
export const job = checkpointable(jobOptions);
export const memory = new MemoryCheckpointStore(memoryOptions);
export const latest = readLatestCheckpoint(memory, { onWarning: cfg.onWarning });

// rxjs-sluice/node
const fileStoreOptions: FileCheckpointStoreOptions = { retain: cfg.retain, createDirectory: cfg.createDirectory };
const sinkOptions: FileSinkOptions = { codec: cfg.codec };
const readOptions: ReadCommittedOptions = { codec: cfg.codec };
export const fileStore = new FileCheckpointStore('./checkpoints', fileStoreOptions);
export const sink = new FileSink('./output', sinkOptions);
export const committed = readCommittedElements('./output', readOptions);
export { item };
