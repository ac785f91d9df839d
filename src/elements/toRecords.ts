import { map, type OperatorFunction } from 'rxjs';
import { recordOf, type StreamRecord } from './streamElement.js';
import { badTimestampOf } from '../shared/timestamps.js';

/**
 * Wraps plain values as records: the entry point from an ordinary Rx stream into sluice operators.
 *
 * @param timestampOf - Optional: returns the event time of a value (and its index). It must return a
 * finite number; anything else errors the output with a `TypeError`. Without it, records carry no timestamp.
 *
 * ## Example
 * ```ts
 * import { of } from 'rxjs';
 * import { toRecords } from 'rxjs-sluice';
 *
 * of({ id: 1, at: 1_000 }).pipe(toRecords((e) => e.at)).subscribe(console.log);
 * // { kind: 'record', value: { id: 1, at: 1000 }, timestamp: 1000 }
 * ```
 */
export function toRecords<T>(timestampOf?: (value: T, index: number) => number): OperatorFunction<T, StreamRecord<T>> {
  if (timestampOf === undefined) return map((value) => recordOf(value, undefined));
  if (typeof timestampOf !== 'function') {
    throw new TypeError(`toRecords: timestampOf must be a function, got ${typeof timestampOf}`);
  }
  return map((value, index) => {
    const timestamp = timestampOf(value, index);
    const error = badTimestampOf('toRecords', timestamp, value);
    if (error !== null) throw error;
    return recordOf(value, timestamp);
  });
}
