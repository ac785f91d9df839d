import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { recordOf, type StreamElement } from '../elements/streamElement.js';
import { badTimestampOf } from '../shared/timestamps.js';
import { subscribeSource } from '../shared/forwardingObserver.js';
import { checkOperatorId, malformedStateError, snapshotAtBarrier, statefulOperator } from '../checkpoint/stateful.js';
import { describe } from '../shared/describe.js';
import { scheduleAfter } from '../shared/schedulerDelay.js';
import {
  expectFunction, expectNumber, expectObject, expectScheduler, optionError, rejectUnknownOptions,
} from '../shared/validate.js';

/**
 * Options of {@link withWatermarks}: Flink's `WatermarkStrategy.forBoundedOutOfOrderness(...)`
 * `.withTimestampAssigner(...)` `.withIdleness(...)`, with the auto-watermark interval. An optional field set
 * to `undefined` means the same as a field left out (so `{ interval: config.interval }` compiles under
 * `exactOptionalPropertyTypes`).
 *
 * ## Example
 * ```ts
 * import { type WithWatermarksOptions } from 'rxjs-sluice';
 * const options: WithWatermarksOptions<{ at: number }> = { timestampOf: (e) => e.at, maxOutOfOrderness: 5_000, idleTimeout: 30_000 };
 * ```
 */
export interface WithWatermarksOptions<T> {
  /**
   * The event time of a value, in ms. Must return a finite number; anything else errors the output with a TypeError.
   * @default none: required
   */
  readonly timestampOf: (value: T) => number;
  /**
   * How far out of order records may arrive, in ms: the watermark trails the largest timestamp by this plus 1.
   * @default none: required
   */
  readonly maxOutOfOrderness: number;
  /**
   * How often, in ms of scheduler time, the watermark is emitted when it has advanced (Flink's
   * `autoWatermarkInterval`). Ticks fall on a grid from the moment of subscription, and only run while there is
   * something to emit. Any length is honoured, even beyond setTimeout's limit of about 24.8 days.
   * @default 200
   */
  readonly interval?: number | undefined;
  /**
   * After this many ms without a record, event time is assumed to follow the scheduler's clock: the watermark
   * keeps advancing by the time elapsed since the last record, so timers still fire on a quiet source.
   * @default undefined (a quiet source holds the watermark where it is)
   */
  readonly idleTimeout?: number | undefined;
  /**
   * Clock and timer source for the interval and the idle timeout. `TestScheduler.run` virtualises the default.
   * @default asyncScheduler
   */
  readonly scheduler?: SchedulerLike | undefined;
  /**
   * What arrives: plain `'values'`, or `'elements'` (a StreamElement stream, such as a `checkpointable`
   * source's). With `'elements'`, each record is re-stamped by `timestampOf(record.value)`, barriers and side
   * outputs pass in place, and upstream watermarks are dropped: this operator now owns event time (as Flink's
   * `assignTimestampsAndWatermarks` does).
   * @default 'values'
   */
  readonly input?: 'values' | 'elements' | undefined;
  /**
   * The operator's identity in checkpoints (Flink's `uid`): required, and distinct, inside a `checkpointable`
   * pipeline. Its snapshot is the largest timestamp seen; after a restore the first tick re-emits the
   * watermark that follows from it.
   * @default undefined (allowed only outside a checkpointable pipeline)
   */
  readonly id?: string | undefined;
}

const OPERATOR = 'withWatermarks';
const KNOWN_OPTIONS = ['timestampOf', 'maxOutOfOrderness', 'interval', 'idleTimeout', 'scheduler', 'input', 'id'] as const;

/**
 * Turns plain values into timestamped records plus watermarks: Flink's bounded-out-of-orderness watermark
 * generator. The watermark is the largest timestamp seen, minus `maxOutOfOrderness`, minus 1. It is emitted
 * every `interval` ms when it has advanced, and once more at completion. Watermarks never go backwards; a
 * record at or below the last watermark is still emitted (it is late, and `keyedTimers` can tell).
 *
 * With `idleTimeout`, a source quiet for that long lets event time run on with the scheduler's clock (as
 * Flink's `ProcessingTimeTrailingBoundedOutOfOrdernessTimestampExtractor` does), so timers fire on a quiet
 * key or stream. Completion itself marks the end of event time for downstream sluice operators.
 *
 * @param options - See {@link WithWatermarksOptions}; validated here, and a bad one throws a `TypeError`.
 *
 * ## Example
 * ```ts
 * import { of } from 'rxjs';
 * import { withWatermarks } from 'rxjs-sluice';
 *
 * of({ id: 'a', at: 1_000 }, { id: 'b', at: 4_000 }, { id: 'c', at: 2_500 }).pipe(
 *   withWatermarks({ timestampOf: (e) => e.at, maxOutOfOrderness: 2_000 }),
 * ).subscribe(console.log);
 * // record a@1000, record b@4000, record c@2500, then at completion watermark 1999 (4000 - 2000 - 1)
 * ```
 */
export function withWatermarks<T>(options: WithWatermarksOptions<T> & { readonly input?: 'values' | undefined }): OperatorFunction<T, StreamElement<T>>;
export function withWatermarks<T>(options: WithWatermarksOptions<T> & { readonly input: 'elements' }): OperatorFunction<StreamElement<T>, StreamElement<T>>;
export function withWatermarks<T>(options: WithWatermarksOptions<T>): OperatorFunction<T | StreamElement<T>, StreamElement<T>>;
export function withWatermarks<T>(options: WithWatermarksOptions<T>): OperatorFunction<never, StreamElement<T>> {
  expectObject(OPERATOR, 'options', options);
  rejectUnknownOptions(OPERATOR, options, KNOWN_OPTIONS);
  const { timestampOf, maxOutOfOrderness, interval = 200, idleTimeout, scheduler = asyncScheduler, input = 'values', id } = options;
  expectFunction(OPERATOR, 'timestampOf', timestampOf, false);
  if (maxOutOfOrderness === undefined) throw optionError(OPERATOR, 'maxOutOfOrderness', 'given (ms, >= 0)', maxOutOfOrderness);
  expectNumber(OPERATOR, 'maxOutOfOrderness', maxOutOfOrderness, 0);
  expectNumber(OPERATOR, 'interval', interval, 0, true);
  if (idleTimeout !== undefined) expectNumber(OPERATOR, 'idleTimeout', idleTimeout, 0, true);
  expectScheduler(OPERATOR, 'scheduler', scheduler);
  if (input !== 'values' && input !== 'elements') throw optionError(OPERATOR, 'input', "'values' or 'elements'", input);
  checkOperatorId(OPERATOR, id);
  const elements = input === 'elements';

  return statefulOperator('withWatermarks', id, (checkpoint) => (source: Observable<unknown>) =>
    new Observable<StreamElement<T>>((subscriber) => {
      /** When the subscription began: the origin of the tick grid. */
      const start = scheduler.now();
      /** The largest timestamp seen; -Infinity before the first record. */
      let maxTimestamp = -Infinity;
      /** Scheduler time of the last record; drives idleness. */
      let lastRecordAt = start;
      /** The last watermark emitted; watermarks only go up. */
      let lastEmitted = -Infinity;
      /** The pending tick; null when none is needed. Cancelled on teardown. */
      let tick: Subscription | null = null;

      /** The bounded watermark, extended by the idle time once the source has been quiet for idleTimeout. */
      const currentWatermark = (now: number): number => {
        const idleFor = now - lastRecordAt;
        const extension = idleTimeout !== undefined && idleFor >= idleTimeout ? idleFor : 0;
        return maxTimestamp + extension - maxOutOfOrderness - 1;
      };

      const emitIfAdvanced = (mark: number): void => {
        if (mark > lastEmitted) {
          lastEmitted = mark;
          subscriber.next({ kind: 'watermark', timestamp: mark });
        }
      };

      /** Schedules the next tick on the grid, unless one is pending or nothing could advance. */
      const scheduleTick = (now: number): void => {
        if (tick !== null || subscriber.closed) return;
        const advancing = currentWatermark(now) > lastEmitted || (idleTimeout !== undefined && maxTimestamp > -Infinity);
        if (!advancing) return;
        const nextTick = start + (Math.floor((now - start) / interval) + 1) * interval;
        // scheduleAfter: an interval beyond setInterval's limit is re-armed, not run after 1 ms.
        tick = scheduleAfter(scheduler, nextTick - now, () => {
          tick = null;
          const now = scheduler.now();
          emitIfAdvanced(currentWatermark(now));
          scheduleTick(now);
        });
      };

      subscriber.add(() => {
        tick?.unsubscribe();
        tick = null;
      });
      /** A record's value: its timestamp is (re)assigned here. */
      const onValue = (value: T): void => {
          // Typed number, but it is the user's: checked before use.
          let timestamp: number;
          try {
            timestamp = timestampOf(value);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          const error = badTimestampOf(OPERATOR, timestamp, value);
          if (error !== null) {
            subscriber.error(error);
            return;
          }
          const now = scheduler.now();
          if (timestamp > maxTimestamp) maxTimestamp = timestamp;
          lastRecordAt = now;
          subscriber.next(recordOf(value, timestamp));
          scheduleTick(now);
      };

      /** In 'elements' mode: the snapshot is the largest timestamp (null before the first record). */
      const onElement = (element: StreamElement<T>): void => {
        switch (element?.kind) {
          case 'record':
            onValue(element.value);
            return;
          case 'watermark':
            return; // this operator owns event time from here on
          case 'barrier': {
            const error = snapshotAtBarrier(checkpoint, 'withWatermarks', id, element, () => ({
              maxTimestamp: maxTimestamp === -Infinity ? null : maxTimestamp,
            }));
            if (error !== null) subscriber.error(error);
            else subscriber.next(element);
            return;
          }
          case 'sideOutput':
            subscriber.next(element);
            return;
          default:
            subscriber.error(new TypeError(`${OPERATOR}: with input 'elements', expected a StreamElement, got ${describe(element)}`));
        }
      };

      const restored = checkpoint?.restored as { maxTimestamp?: unknown } | null | undefined;
      if (checkpoint !== null && restored !== undefined && restored !== null) {
        const restoredMax = restored.maxTimestamp;
        if (restoredMax !== null && typeof restoredMax !== 'number') {
          subscriber.error(malformedStateError('withWatermarks', id, checkpoint, '{ maxTimestamp: number | null }'));
          return;
        }
        if (restoredMax !== null) {
          maxTimestamp = restoredMax;
          scheduleTick(start);
        }
      }

      subscribeSource(source, subscriber, {
        next: (input: unknown) => (elements ? onElement(input as StreamElement<T>) : onValue(input as T)),
        complete: () => {
          emitIfAdvanced(maxTimestamp - maxOutOfOrderness - 1);
          subscriber.complete();
        },
      });
    }));
}
