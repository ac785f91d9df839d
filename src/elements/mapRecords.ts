import { map, type OperatorFunction } from 'rxjs';
import { recordOf, type StreamElement } from './streamElement.js';

/**
 * Maps the value of every record, keeping its timestamp. Watermarks, barriers and any other element kind
 * pass through unchanged, in place. What `project` throws errors the output, as with RxJS `map`.
 *
 * @param project - Called with the record's value and timestamp; returns the new value.
 *
 * ## Example
 * ```ts
 * import { of } from 'rxjs';
 * import { mapRecords, record, watermark } from 'rxjs-sluice';
 *
 * of(record(2, 10), watermark(10)).pipe(mapRecords((v) => v * 10)).subscribe(console.log);
 * // { kind: 'record', value: 20, timestamp: 10 }, then { kind: 'watermark', timestamp: 10 }
 * ```
 */
export function mapRecords<T, R>(
  project: (value: T, timestamp: number | undefined) => R,
): OperatorFunction<StreamElement<T>, StreamElement<R>> {
  if (typeof project !== 'function') throw new TypeError(`mapRecords: project must be a function, got ${typeof project}`);
  return map((element) => {
    if (element.kind !== 'record') return element;
    return recordOf(project(element.value, element.timestamp), element.timestamp);
  });
}
