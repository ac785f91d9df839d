import {
  resolveAsyncWaitOptions, type AsyncWaitOptions, type AsyncWaitValuesOptions, type ResolvedAsyncWaitOptions,
} from '../asyncWait/options.js';
import { expectFunction, expectInteger, expectObject, optionError } from '../shared/validate.js';

/**
 * What {@link asyncWaitKeyed} adds to asyncWait's options: the key, how many calls of one key may overlap, and
 * the output order.
 *
 * ## Example
 * ```ts
 * import { type KeyedOptions } from 'rxjs-sluice';
 *
 * interface Payment { account: string; cents: number }
 * const keyed: KeyedOptions<Payment> = { key: (p) => p.account, perKeyConcurrency: 1, order: 'key' };
 * ```
 */
export interface KeyedOptions<I> {
  /**
   * The key of a record's value: records of one key are called and emitted in their input order. A string, a
   * number (not NaN; -0 is 0), a bigint or a boolean; anything else, or a throw, errors the output with an
   * `AsyncKeyError` carrying the input. Called once per record, when it is admitted, in input order.
   * @default none: required
   */
  readonly key: (value: I) => unknown;
  /**
   * The most calls of one key in flight at once (an integer in [1, capacity]). Above 1, the calls of a key
   * overlap, and their results still leave in the key's input order. A record of a busy key waits for its turn
   * holding a capacity slot, without holding back the records of other keys.
   * @default 1
   */
  readonly perKeyConcurrency?: number | undefined;
  /**
   * `'key'`: the results of one key leave in that key's input order; across keys, as they complete; nothing
   * crosses a watermark (or a side output), as in asyncWaitUnordered. `'input'`: every result leaves in global
   * input order, as in asyncWaitOrdered (Akka's `mapAsyncPartitioned`), with the calls still run per key.
   * @default 'key'
   */
  readonly order?: 'key' | 'input' | undefined;
}

/**
 * Options of {@link asyncWaitKeyed} over a stream of elements: asyncWait's options ({@link AsyncWaitOptions})
 * and {@link KeyedOptions}. Validated when the operator is created; a bad value throws a `TypeError` naming the
 * option and the value.
 *
 * ## Example
 * ```ts
 * import { type AsyncWaitKeyedOptions } from 'rxjs-sluice';
 *
 * const options: AsyncWaitKeyedOptions<{ user: string }, string> = {
 *   key: (update) => update.user, capacity: 200, timeout: 2_000, retry: { maxRetries: 2, delay: 100 },
 * };
 * ```
 */
export type AsyncWaitKeyedOptions<I, O> = AsyncWaitOptions<I, O> & KeyedOptions<I>;

/**
 * {@link AsyncWaitKeyedOptions} for a source of plain values (`input: 'values'`), as {@link AsyncWaitValuesOptions}.
 *
 * ## Example
 * ```ts
 * import { type AsyncWaitKeyedValuesOptions } from 'rxjs-sluice';
 * const options: AsyncWaitKeyedValuesOptions<string, number> = { input: 'values', key: (id) => id.slice(0, 4) };
 * ```
 */
export type AsyncWaitKeyedValuesOptions<I, O> = AsyncWaitValuesOptions<I, O> & KeyedOptions<I>;

/** Options after validation and defaults. */
export interface ResolvedKeyedOptions<I, O> extends ResolvedAsyncWaitOptions<I, O> {
  readonly key: (value: I) => unknown;
  readonly perKeyConcurrency: number;
  readonly order: 'key' | 'input';
}

const KEYED_OPTIONS = ['key', 'perKeyConcurrency', 'order'];

/** Validates every option up front: asyncWait's through its own validation, then the keyed ones. */
export function resolveKeyedOptions<I, O>(
  operator: string,
  fn: unknown,
  options: AsyncWaitKeyedOptions<I, O> | AsyncWaitKeyedValuesOptions<I, O> | undefined,
): ResolvedKeyedOptions<I, O> {
  if (typeof fn !== 'function') throw new TypeError(`${operator}: fn must be a function, got ${typeof fn}`);
  expectObject(operator, 'options', options);
  const { key, perKeyConcurrency = 1, order = 'key', ...shared } = options;
  const base = resolveAsyncWaitOptions<I, O>(operator, fn, shared as AsyncWaitOptions<I, O>, KEYED_OPTIONS);
  expectFunction(operator, 'key', key, false);
  if (typeof perKeyConcurrency !== 'number' || !Number.isSafeInteger(perKeyConcurrency) || perKeyConcurrency < 1 || perKeyConcurrency > base.capacity) {
    expectInteger(operator, 'perKeyConcurrency', perKeyConcurrency, 1);
    throw optionError(operator, 'perKeyConcurrency', `an integer in [1, capacity] = [1, ${base.capacity}] (a key can never run more calls than capacity)`, perKeyConcurrency);
  }
  if (order !== 'key' && order !== 'input') throw optionError(operator, 'order', "'key' or 'input'", order);
  return { ...base, key, perKeyConcurrency, order };
}
