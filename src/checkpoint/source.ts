import { Observable, type ObservableInput } from 'rxjs';
import { expectFunction, expectObject, rejectUnknownOptions } from '../shared/validate.js';

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

/**
 * Options of {@link arraySource}.
 *
 * ## Example
 * ```ts
 * import { arraySource, type ArraySourceOptions } from 'rxjs-sluice';
 * const options: ArraySourceOptions<{ at: number }> = { timestampOf: (e) => e.at };
 * const source = arraySource([{ at: 1 }, { at: 5 }], options);
 * ```
 */
export interface ArraySourceOptions<T> {
  /**
   * The event time of each value; without it records carry no timestamp.
   * @default undefined
   */
  readonly timestampOf?: ((value: T, index: number) => number) | undefined;
}

/**
 * A replayable source over an array: the position is the index of the next value. It emits synchronously,
 * which makes it the natural source for tests and for the examples.
 *
 * ## Example
 * ```ts
 * import { arraySource, checkpointable } from 'rxjs-sluice';
 * const job = checkpointable({ source: arraySource(['a', 'b', 'c']), every: { records: 1 } });
 * job.pipe().subscribe(({ checkpointId, element }) => console.log(checkpointId, element));
 * ```
 */
export function arraySource<T>(values: readonly T[], options: ArraySourceOptions<T> = {}): ReplayableSource<T, number> {
  if (!Array.isArray(values)) throw new TypeError(`arraySource: values must be an array, got ${typeof values}`);
  expectObject('arraySource', 'options', options);
  rejectUnknownOptions('arraySource', options, ['timestampOf']);
  const { timestampOf } = options;
  expectFunction('arraySource', 'timestampOf', timestampOf);
  return {
    open: (position = 0) =>
      new Observable<SourceItem<T, number>>((subscriber) => {
        if (!Number.isSafeInteger(position) || position < 0) {
          subscriber.error(new TypeError(`arraySource: cannot open at position ${String(position)}`));
          return;
        }
        for (let i = position; i < values.length && !subscriber.closed; i++) {
          const value = values[i]!;
          if (timestampOf === undefined) {
            subscriber.next({ value, position: i + 1 });
            continue;
          }
          let timestamp: number;
          try {
            timestamp = timestampOf(value, i);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          subscriber.next({ value, position: i + 1, timestamp });
        }
        subscriber.complete();
      }),
  };
}
