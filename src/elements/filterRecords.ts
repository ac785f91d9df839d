import { filter, type OperatorFunction } from 'rxjs';
import { type StreamElement } from './streamElement.js';

/**
 * Keeps the records whose value passes `predicate`. Watermarks, barriers and any other element kind
 * always pass, in place. What `predicate` throws errors the output, as with RxJS `filter`.
 *
 * @param predicate - Called with the record's value and timestamp.
 *
 * ## Example
 * ```ts
 * import { of } from 'rxjs';
 * import { filterRecords, record, watermark } from 'rxjs-sluice';
 *
 * of(record(1), record(2), watermark(5)).pipe(filterRecords((v) => v % 2 === 0)).subscribe(console.log);
 * // { kind: 'record', value: 2 }, then { kind: 'watermark', timestamp: 5 }
 * ```
 */
export function filterRecords<T, S extends T>(
  predicate: (value: T, timestamp: number | undefined) => value is S,
): OperatorFunction<StreamElement<T>, StreamElement<S>>;
export function filterRecords<T>(
  predicate: (value: T, timestamp: number | undefined) => boolean,
): OperatorFunction<StreamElement<T>, StreamElement<T>>;
export function filterRecords<T>(
  predicate: (value: T, timestamp: number | undefined) => boolean,
): OperatorFunction<StreamElement<T>, StreamElement<T>> {
  if (typeof predicate !== 'function') throw new TypeError(`filterRecords: predicate must be a function, got ${typeof predicate}`);
  return filter((element) => element.kind !== 'record' || predicate(element.value, element.timestamp));
}
