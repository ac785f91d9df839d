import { checkOptionalTimestamp } from '../shared/timestamps.js';

/**
 * A data record: a value plus an optional event-time timestamp (milliseconds, like Flink's `StreamRecord`).
 * Records are plain data, so a stream of them serialises as JSON.
 *
 * ## Example
 * ```ts
 * import { record, type StreamRecord } from 'rxjs-sluice';
 * const click: StreamRecord<{ user: string }> = record({ user: 'ada' }, 1_700_000_000_000);
 * ```
 */
export interface StreamRecord<T> {
  /** Discriminant: always `'record'`. */
  readonly kind: 'record';
  /** The payload. */
  readonly value: T;
  /** Event time in milliseconds. Absent for processing-time records. */
  readonly timestamp?: number;
}

/**
 * A watermark: the assertion that no record with a timestamp at or below `timestamp` should follow.
 * This is Flink's `Watermark`.
 *
 * ## Example
 * ```ts
 * import { watermark, type Watermark } from 'rxjs-sluice';
 * const upTo: Watermark = watermark(60_000); // event time has reached one minute
 * ```
 */
export interface Watermark {
  /** Discriminant: always `'watermark'`. */
  readonly kind: 'watermark';
  /** Event time in milliseconds. `-Infinity` and `Infinity` are allowed, but JSON writes them as `null`. */
  readonly timestamp: number;
}

/**
 * A checkpoint barrier. It travels in line with records, and each stateful operator snapshots its state
 * when the barrier reaches it (Flink's `CheckpointBarrier`).
 *
 * ## Example
 * ```ts
 * import { barrier, type CheckpointBarrier } from 'rxjs-sluice';
 * const third: CheckpointBarrier = barrier(3);
 * ```
 */
export interface CheckpointBarrier {
  /** Discriminant: always `'barrier'`. */
  readonly kind: 'barrier';
  /** Strictly increasing checkpoint number. */
  readonly checkpointId: number;
}

/**
 * A record on a side output: what `ctx.output(tag, value)` in {@link keyedTimers} emits (Flink's
 * `ctx.output(OutputTag, value)`). It travels in line with the main records, and `selectTag(tag)` turns the
 * ones of one tag back into ordinary records; `mainOutput()` drops them all. `tag` is the tag's name.
 *
 * ## Example
 * ```ts
 * import { outputTag, sideOutput, type SideOutputRecord } from 'rxjs-sluice';
 * const late = outputTag<number>('late');
 * const tooLate: SideOutputRecord<number> = sideOutput(late, 42, 1_000);
 * // { kind: 'sideOutput', tag: 'late', value: 42, timestamp: 1000 }
 * ```
 */
export interface SideOutputRecord<T = unknown> {
  /** Discriminant: always `'sideOutput'`. */
  readonly kind: 'sideOutput';
  /** The name of the output tag it was emitted on. */
  readonly tag: string;
  /** The payload. */
  readonly value: T;
  /** Event time in milliseconds, by the same rule as main output records. */
  readonly timestamp?: number;
}

/**
 * What flows through every sluice operator: records, watermarks and checkpoint barriers, plus side-output
 * records where a {@link keyedTimers} function uses `ctx.output`. Switch on `kind`.
 *
 * ## Example
 * ```ts
 * import { of } from 'rxjs';
 * import { barrier, record, watermark, type StreamElement } from 'rxjs-sluice';
 *
 * const stream = of<StreamElement<string>[]>(record('a', 1), watermark(1), barrier(1));
 * stream.subscribe((el) => {
 *   switch (el.kind) {
 *     case 'record': return console.log('value', el.value, 'at', el.timestamp);
 *     case 'watermark': return console.log('event time reached', el.timestamp);
 *     case 'barrier': return console.log('checkpoint', el.checkpointId);
 *     case 'sideOutput': return console.log('side output', el.tag, el.value);
 *   }
 * });
 * ```
 */
export type StreamElement<T> = StreamRecord<T> | Watermark | CheckpointBarrier | SideOutputRecord;

/**
 * Creates a record.
 *
 * @param value - The payload.
 * @param timestamp - Optional event time in milliseconds; must be a finite number when given.
 * @throws TypeError when `timestamp` is given but is not a finite number.
 *
 * ## Example
 * ```ts
 * import { record } from 'rxjs-sluice';
 * record('click', 1_000); // { kind: 'record', value: 'click', timestamp: 1000 }
 * record('click');        // { kind: 'record', value: 'click' }
 * ```
 */
export function record<T>(value: T, timestamp?: number): StreamRecord<T> {
  checkOptionalTimestamp('record', timestamp);
  return recordOf(value, timestamp);
}

/**
 * Builds a record without validation, for operators whose timestamp is already known to be valid.
 * Without a timestamp the key is absent (not `undefined`), so records compare and serialise cleanly.
 * Internal: not exported from the package entry.
 */
export function recordOf<T>(value: T, timestamp: number | undefined): StreamRecord<T> {
  return timestamp === undefined ? { kind: 'record', value } : { kind: 'record', value, timestamp };
}

/**
 * Creates a watermark.
 *
 * @param timestamp - Event time in milliseconds; any number but `NaN`.
 * @throws TypeError when `timestamp` is not a number or is `NaN`.
 *
 * ## Example
 * ```ts
 * import { watermark } from 'rxjs-sluice';
 * watermark(5_000); // { kind: 'watermark', timestamp: 5000 }
 * ```
 */
export function watermark(timestamp: number): Watermark {
  if (typeof timestamp !== 'number' || Number.isNaN(timestamp)) {
    throw new TypeError(`watermark: timestamp must be a number, got ${String(timestamp)}`);
  }
  return { kind: 'watermark', timestamp };
}

/**
 * Creates a checkpoint barrier.
 *
 * @param checkpointId - A non-negative safe integer.
 * @throws TypeError when `checkpointId` is not a non-negative safe integer.
 *
 * ## Example
 * ```ts
 * import { barrier } from 'rxjs-sluice';
 * barrier(7); // { kind: 'barrier', checkpointId: 7 }
 * ```
 */
export function barrier(checkpointId: number): CheckpointBarrier {
  if (!Number.isSafeInteger(checkpointId) || checkpointId < 0) {
    throw new TypeError(`barrier: checkpointId must be a non-negative safe integer, got ${String(checkpointId)}`);
  }
  return { kind: 'barrier', checkpointId };
}

/**
 * Tells whether an element is a record.
 *
 * ## Example
 * ```ts
 * import { isRecord, record, watermark } from 'rxjs-sluice';
 * isRecord(record(1)); // true
 * isRecord(watermark(1)); // false
 * ```
 */
export function isRecord<T>(element: StreamElement<T>): element is StreamRecord<T> {
  return element.kind === 'record';
}

/**
 * Tells whether an element is a watermark.
 *
 * ## Example
 * ```ts
 * import { isWatermark, watermark } from 'rxjs-sluice';
 * isWatermark(watermark(1)); // true
 * ```
 */
export function isWatermark(element: StreamElement<unknown>): element is Watermark {
  return element.kind === 'watermark';
}

/**
 * Tells whether an element is a checkpoint barrier.
 *
 * ## Example
 * ```ts
 * import { isBarrier, barrier } from 'rxjs-sluice';
 * isBarrier(barrier(1)); // true
 * ```
 */
export function isBarrier(element: StreamElement<unknown>): element is CheckpointBarrier {
  return element.kind === 'barrier';
}

/**
 * Tells whether an element is a side-output record.
 *
 * ## Example
 * ```ts
 * import { isSideOutput, outputTag, record, sideOutput } from 'rxjs-sluice';
 * isSideOutput(sideOutput(outputTag<number>('late'), 1)); // true
 * isSideOutput(record(1)); // false
 * ```
 */
export function isSideOutput(element: StreamElement<unknown>): element is SideOutputRecord {
  return element.kind === 'sideOutput';
}
