import { type ObservableInput, type SchedulerLike } from 'rxjs';
import { type MutableCheckpointMetrics } from './checkpointMetrics.js';
import { type CheckpointCodec } from './codec.js';
import { type CheckpointSink } from './sink.js';
import { type ReplayableSource } from './source.js';
import { type CheckpointStore } from './store.js';
import { type CheckpointWarning } from './warning.js';

/** checkpointable's options, validated and defaulted. */
export interface ResolvedCheckpointableOptions {
  readonly source: ReplayableSource<unknown, unknown>;
  readonly records: number | undefined;
  readonly interval: number | undefined;
  readonly store: CheckpointStore;
  readonly exactlyOnce: boolean;
  readonly sink: CheckpointSink<unknown> | undefined;
  readonly codec: CheckpointCodec;
  readonly scheduler: SchedulerLike;
  readonly onWarning: ((warning: CheckpointWarning) => void) | undefined;
  readonly metrics: MutableCheckpointMetrics | undefined;
  readonly stop: ObservableInput<unknown> | undefined;
}
