/**
 * What one entry of a batch function's result array may hold, beside a plain result: several results (or none)
 * for its record, or a failure of that record alone.
 */

/** Brands the entry objects, across copies of the package. */
const ENTRY = Symbol.for('rxjs-sluice.batch-entry');

/**
 * Zero, one or many results for one record of a batch (see {@link batchResults}).
 *
 * ## Example
 * ```ts
 * import { batchResults, type BatchResults } from 'rxjs-sluice';
 * const none: BatchResults<string> = batchResults([]);
 * ```
 */
export interface BatchResults<O> {
  readonly [ENTRY]: 'results';
  /** The record's results, in order: each becomes one output record with the input's timestamp. */
  readonly results: readonly O[];
}

/**
 * A failure of one record of a batch (see {@link batchFailure}).
 *
 * ## Example
 * ```ts
 * import { batchFailure, type BatchFailure } from 'rxjs-sluice';
 * const notFound: BatchFailure = batchFailure({ status: 404 });
 * ```
 */
export interface BatchFailure {
  readonly [ENTRY]: 'failure';
  /** What the record failed with: handed to `retry.retryOnError`, `onError` and `AsyncCallError.cause`. */
  readonly error: unknown;
}

/**
 * One entry of a batch function's result array, index-aligned with its input values: a plain value is that
 * record's one result; an `Error` instance (DataLoader's convention) or a {@link batchFailure} fails that record
 * only; {@link batchResults} gives it zero or several results.
 *
 * ## Example
 * ```ts
 * import { batchFailure, batchResults, type BatchEntry } from 'rxjs-sluice';
 * const entries: BatchEntry<string>[] = ['one', batchResults(['a', 'b']), batchResults([]), new Error('gone'), batchFailure(404)];
 * ```
 */
export type BatchEntry<O> = O | Error | BatchResults<O> | BatchFailure;

/**
 * Gives one record of a batch zero or several results: the entry for that record in the batch function's result
 * array. Each result becomes one output record with the input's timestamp; `batchResults([])` emits nothing for
 * it (a filter), and the record still counts as done.
 *
 * ## Example
 * ```ts
 * import { asyncBatchOrdered, batchResults } from 'rxjs-sluice';
 *
 * // Each line to its words: one entry per line, several results per entry.
 * const words = asyncBatchOrdered((lines: string[]) => lines.map((line) => batchResults(line.split(' '))));
 * ```
 */
export function batchResults<O>(results: readonly O[]): BatchResults<O> {
  if (!Array.isArray(results)) throw new TypeError(`batchResults: expected an array of results, got ${typeof results}`);
  return Object.freeze({ [ENTRY]: 'results' as const, results: results.slice() });
}

/**
 * Fails one record of a batch, whatever the error value (an `Error` instance in the slot does the same): that
 * record alone is retried under the `retry` policy, or handed to `onError`, or errors the output with
 * `AsyncCallError`. The other records of the batch keep their results.
 *
 * ## Example
 * ```ts
 * import { asyncBatchUnordered, batchFailure } from 'rxjs-sluice';
 *
 * declare function mget(keys: string[]): Promise<(string | null)[]>;
 * const lookUp = asyncBatchUnordered(async (keys: string[]) =>
 *   (await mget(keys)).map((v, i) => v ?? batchFailure(`missing ${keys[i]}`)));
 * ```
 */
export function batchFailure(error: unknown): BatchFailure {
  return Object.freeze({ [ENTRY]: 'failure' as const, error });
}

/** The brand of an entry object, or undefined for a plain value. */
export function entryKind(entry: unknown): 'results' | 'failure' | undefined {
  if (entry === null || typeof entry !== 'object') return undefined;
  const kind = (entry as { [ENTRY]?: unknown })[ENTRY];
  return kind === 'results' || kind === 'failure' ? kind : undefined;
}
