import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { expectFunction, expectObject, expectScheduler, optionError, rejectUnknownOptions } from '../shared/validate.js';
import { MutableSourceMetrics, type SourceMetrics } from './sourceMetrics.js';

/**
 * The options every flow-controlled source takes.
 *
 * ## Example
 * ```ts
 * import { sourceMetrics, type SourceOptions } from 'rxjs-sluice';
 * const options: SourceOptions<{ at: number }> = { timestampOf: (e) => e.at, metrics: sourceMetrics() };
 * ```
 */
export interface SourceOptions<T> {
  /**
   * The event time of each value; without it records carry no timestamp. What it throws errors the output. Its
   * second argument is where the value is in the input: its index for arrays and iterables, the byte offset
   * of its line for the file sources.
   * @default undefined
   */
  readonly timestampOf?: ((value: T, index: number) => number) | undefined;
  /**
   * A `sourceMetrics()` object to count into: items read, pauses and back-pressured time.
   * @default undefined
   */
  readonly metrics?: SourceMetrics | undefined;
  /**
   * The clock for the back-pressured time. `TestScheduler.run` virtualises the default.
   * @default asyncScheduler
   */
  readonly scheduler?: SchedulerLike | undefined;
}

/** Validated source options (internal). */
export interface ResolvedSourceOptions<T> {
  readonly timestampOf: ((value: T, index: number) => number) | undefined;
  readonly metrics: MutableSourceMetrics | null;
  readonly scheduler: SchedulerLike;
}

/** The options every source shares. */
export const SOURCE_OPTIONS = ['timestampOf', 'metrics', 'scheduler'] as const;

/** Validates `options` of source `name` (a TypeError naming the option and value); `extra` names its own options. */
export function resolveSourceOptions<T>(name: string, options: SourceOptions<T>, extra: readonly string[] = []): ResolvedSourceOptions<T> {
  expectObject(name, 'options', options);
  rejectUnknownOptions(name, options, [...SOURCE_OPTIONS, ...extra]);
  const { timestampOf, metrics, scheduler = asyncScheduler } = options;
  expectFunction(name, 'timestampOf', timestampOf);
  if (metrics !== undefined && !(metrics instanceof MutableSourceMetrics)) {
    throw optionError(name, 'metrics', 'an object made by sourceMetrics()', metrics);
  }
  expectScheduler(name, 'scheduler', scheduler);
  return { timestampOf, metrics: metrics ?? null, scheduler };
}
