import { describe } from './describe.js';

/** Throws a TypeError unless an optional event timestamp is a finite number (record(), sideOutput()). */
export function checkOptionalTimestamp(caller: string, timestamp: unknown): void {
  if (timestamp !== undefined && !Number.isFinite(timestamp)) {
    throw new TypeError(`${caller}: timestamp must be a finite number, got ${describe(timestamp)}`);
  }
}

/**
 * The TypeError for a `timestampOf` result that is not a finite number, or null when it is one (toRecords,
 * withWatermarks). Undefined is refused too: it would silently drop a record's event time.
 */
export function badTimestampOf(operator: string, timestamp: unknown, value: unknown): TypeError | null {
  return Number.isFinite(timestamp)
    ? null
    : new TypeError(`${operator}: timestampOf must return a finite number, got ${describe(timestamp)} for value ${describe(value)}`);
}
