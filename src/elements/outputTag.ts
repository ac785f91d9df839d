import { describe } from '../shared/describe.js';
import { checkOptionalTimestamp } from '../shared/timestamps.js';
import { type SideOutputRecord } from './streamElement.js';

/**
 * Names a side output of {@link keyedTimers}: Flink's `OutputTag<T>`. `T` is the type of the values sent on
 * it; the tag is plain data (`{ name }`), and two tags with the same name are the same output, as in Flink.
 *
 * ## Example
 * ```ts
 * import { outputTag, type OutputTag } from 'rxjs-sluice';
 * const lateEvents: OutputTag<{ id: string }> = outputTag('late-events');
 * ```
 */
export interface OutputTag<T> {
  /** The tag's name; side-output records carry it as `tag`. */
  readonly name: string;
  /** Type-only marker of the value type; never present at run time. */
  readonly __valueType?: (value: T) => T;
}

/**
 * Creates an output tag.
 *
 * @param name - A non-empty string that identifies the side output.
 * @throws TypeError when `name` is not a non-empty string.
 *
 * ## Example
 * ```ts
 * import { outputTag } from 'rxjs-sluice';
 * const late = outputTag<number>('late'); // { name: 'late' }
 * ```
 */
export function outputTag<T>(name: string): OutputTag<T> {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`outputTag: name must be a non-empty string, got ${describe(name)}`);
  }
  return Object.freeze({ name });
}

/**
 * Creates a side-output record, for expected values in tests or for hand-written sources.
 *
 * @param tag - The output tag.
 * @param value - The payload.
 * @param timestamp - Optional event time in milliseconds; must be a finite number when given.
 * @throws TypeError when `tag` is not an output tag or `timestamp` is not a finite number.
 *
 * ## Example
 * ```ts
 * import { outputTag, sideOutput } from 'rxjs-sluice';
 * sideOutput(outputTag<string>('alerts'), 'disk full', 5); // { kind: 'sideOutput', tag: 'alerts', value: 'disk full', timestamp: 5 }
 * ```
 */
export function sideOutput<T>(tag: OutputTag<T>, value: T, timestamp?: number): SideOutputRecord<T> {
  checkOutputTag('sideOutput', tag);
  checkOptionalTimestamp('sideOutput', timestamp);
  return sideOutputOf(tag.name, value, timestamp);
}

/** Builds a side-output record without validation (internal). Without a timestamp the key is absent. */
export function sideOutputOf<T>(tag: string, value: T, timestamp: number | undefined): SideOutputRecord<T> {
  return timestamp === undefined
    ? { kind: 'sideOutput', tag, value }
    : { kind: 'sideOutput', tag, value, timestamp };
}

/** Throws a TypeError unless `tag` is an output tag (Flink's testNullOutputTagRefusal). Internal. */
export function checkOutputTag(caller: string, tag: unknown): asserts tag is OutputTag<unknown> {
  const name = (tag as { name?: unknown } | null)?.name;
  if (tag === null || typeof tag !== 'object' || typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`${caller}: expected an output tag created by outputTag(name), got ${describe(tag)}`);
  }
}
