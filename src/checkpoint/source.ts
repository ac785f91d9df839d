import { type ObservableInput } from 'rxjs';

/**
 * One item a replayable source emits: the value, where to resume to read the item *after* it (Kafka's
 * committed-offset convention: last offset + 1), and an optional event-time timestamp.
 *
 * ## Example
 * ```ts
 * import { type SourceItem } from 'rxjs-sluice';
 * const line: SourceItem<string, number> = { value: 'GET /index.html', position: 42, timestamp: 1_700_000_000_000 };
 * ```
 */
export interface SourceItem<T, P> {
  /** The payload; it becomes a record. */
  readonly value: T;
  /** The position after this item: opening the source there yields the next item. Must be encodable by the codec. */
  readonly position: P;
  /**
   * Event time in ms, carried onto the record.
   * @default undefined (the record has no timestamp)
   */
  readonly timestamp?: number | undefined;
}

/**
 * A source that can be replayed from a position (a Kafka offset, a line number, an array index): the
 * checkpointed entry point of a {@link checkpointable} pipeline, like Flink's replayable sources. `open` must
 * be deterministic: opened at a position, it yields the same items as the first time.
 *
 * ## Example
 * ```ts
 * import { interval, map, take } from 'rxjs';
 * import { type ReplayableSource } from 'rxjs-sluice';
 * // Ticks 0..99, one every 10 ms, resumable at any tick:
 * const ticks: ReplayableSource<number, number> = {
 *   open: (from = 0) => interval(10).pipe(map((i) => ({ value: from + i, position: from + i + 1 })), take(100 - from)),
 * };
 * ```
 */
export interface ReplayableSource<T, P> {
  /** Opens the source at `position`, or at its beginning when `position` is undefined. */
  open(position: P | undefined): ObservableInput<SourceItem<T, P>>;
}
