import { describe } from '../shared/describe.js';
import { expectFunction, expectInteger, expectNumber, expectObject, optionError } from '../shared/validate.js';
import { AimdLimiter } from './aimdLimiter.js';
import { GradientLimiter } from './gradientLimiter.js';
import { type ConcurrencyLimiter } from './limiter.js';
import { type WindowParams } from './windowedSamples.js';

/**
 * How the windows of an adaptive limit are sized: the limit moves at most once per window. A window is
 * `clamp(2 * RTT, minTime, maxTime)` long (about two round trips: one for a change to take effect, one to see
 * its result) and closes once it has lasted that long and holds `minSamples` calls. A timed-out or overloaded
 * call closes it at once, so the limit falls without waiting.
 *
 * ## Example
 * ```ts
 * import { type AdaptiveWindowOptions } from 'rxjs-sluice';
 *
 * // A noisy service: average at least 50 calls, over at least 200 ms, before moving the limit.
 * const window: AdaptiveWindowOptions = { minTime: 200, minSamples: 50 };
 * ```
 */
export interface AdaptiveWindowOptions {
  /**
   * The shortest window, in ms of scheduler time (a finite number >= 0). It sets the pace for fast services
   * only: any service slower than minTime / 2 gets windows of two round trips. 10 ms gives a 5 ms service
   * windows of two round trips, so it grows from 10 to 100 calls in flight in about a second, where Netflix's
   * 1 s windows would take a minute and a half.
   * @default 10, or maxTime when that is lower
   */
  readonly minTime?: number | undefined;
  /**
   * The longest window, in ms of scheduler time (a finite number >= minTime): a slow service still updates
   * about once per maxTime, given minSamples calls (Netflix's 1 s).
   * @default 1000, or minTime when that is higher
   */
  readonly maxTime?: number | undefined;
  /**
   * The fewest calls a window must hold before it closes on time (an integer >= 1), so that one outlier does
   * not move the limit (Netflix's windowSize). At low limits a window lasts until this many calls have finished.
   * @default 10
   */
  readonly minSamples?: number | undefined;
}

/**
 * An adaptive limit on the calls in flight, within the operator's fixed bound: it rises while the service keeps
 * its latency and falls when latency grows or calls time out (or fail with an error `isOverload` marks).
 *
 * Both compare a window's mean latency with `minRtt`, the service's no-load latency: the lowest latency seen,
 * re-measured every 50 windows by a short probe during which the limit is halved (so that it can also rise
 * when the service has become slower for good).
 *
 * - `'gradient'` (Netflix's Gradient2 update, anchored on minRtt as Envoy's gradient controller): per window,
 *   `gradient = clamp(tolerance * minRtt / windowRtt, 0.5, 1)`, and the limit moves a `smoothing` fraction of the
 *   way towards `limit * gradient + sqrt(limit)`. It grows by about `smoothing * sqrt(limit)` per window while
 *   latency stays within `tolerance` of minRtt, and falls when it does not; it ignores the latency when the calls
 *   in flight stay below half the limit. A drop multiplies it by `backoffRatio`. Against a service that serves C
 *   calls at a time it settles near `tolerance * C + sqrt(limit)`.
 * - `'aimd'` (Netflix's AIMDLimit): per window, a drop or a mean latency above `tolerance * minRtt` multiplies
 *   the limit by `backoffRatio`; otherwise, when at least half of it is in use, it grows by 1. Against a service
 *   that serves C calls at a time it saws between about `backoffRatio * tolerance * C` and `tolerance * C`.
 *
 * ## Example
 * ```ts
 * import { asyncWaitUnordered, type AdaptiveConcurrencyOptions } from 'rxjs-sluice';
 *
 * declare function lookUp(id: number, signal: AbortSignal): Promise<string>;
 * const adaptive: AdaptiveConcurrencyOptions = {
 *   limiter: 'aimd',
 *   min: 2,
 *   isOverload: (error) => (error as { status?: number }).status === 503, // shed load: counts as a drop
 * };
 * // Up to 200 calls in flight, fewer while the service struggles.
 * const enrich = asyncWaitUnordered((id: number, { signal }) => lookUp(id, signal), { capacity: 200, timeout: 2_000, concurrency: { adaptive } });
 * ```
 */
export interface AdaptiveConcurrencyOptions {
  /**
   * The algorithm: `'gradient'` (latency-gradient, Netflix's Gradient2) or `'aimd'` (additive increase,
   * multiplicative decrease).
   * @default 'gradient'
   */
  readonly limiter?: 'aimd' | 'gradient' | undefined;
  /**
   * The lowest limit (an integer >= 1, at most max).
   * @default 1
   */
  readonly min?: number | undefined;
  /**
   * The highest limit: an integer in [min, the operator's bound]. The bound (`capacity` for the async-wait
   * operators, `maxInFlightBatches` for the batching ones) caps the calls in flight whatever the limit (and
   * `capacity` the records held), so a higher max is refused: raise the bound instead.
   * @default the operator's bound
   */
  readonly max?: number | undefined;
  /**
   * The limit at the start, before any window has closed (an integer in [min, max]).
   * @default 10, brought within [min, max]
   */
  readonly initial?: number | undefined;
  /**
   * Which call errors mean the service is overloaded (HTTP 429 or 503, a "resource exhausted" status): such a
   * failure counts as a drop and cuts the limit, like a timeout. Other errors give the limiter no sample.
   * @default undefined (only timeouts count as drops)
   */
  readonly isOverload?: ((error: unknown) => boolean) | undefined;
  /**
   * The multiplicative decrease, in [0.5, 1): on a window with a drop (both limiters), and for `'aimd'` also
   * on a window whose latency is over tolerance.
   * @default 0.9
   */
  readonly backoffRatio?: number | undefined;
  /**
   * How much latency above the no-load latency (minRtt) is tolerated (a finite number >= 1). For `'aimd'`, a
   * window whose mean RTT exceeds `tolerance * minRtt` cuts the limit; for `'gradient'`, the limit falls once a
   * window's mean RTT exceeds `tolerance * minRtt`. Calls beyond the service's own concurrency only queue, so
   * the limit settles near tolerance times that concurrency (the gradient's `sqrt(limit)` headroom adds to it:
   * with 1.25 and a service of 8 it settles near 13.5, about 1.7x). Keep it below 2: the probes that re-measure
   * minRtt halve the limit, and must then find the service without a queue.
   * @default 1.5 for 'aimd', 1.25 for 'gradient' (Envoy's default buffer of 25%)
   */
  readonly tolerance?: number | undefined;
  /**
   * `'gradient'` only: how far each window moves the limit towards its target, in (0, 1]; 1 jumps straight
   * to it. Refused with `'aimd'`, which moves in whole steps.
   * @default 0.2
   */
  readonly smoothing?: number | undefined;
  /**
   * How samples are grouped into windows: see {@link AdaptiveWindowOptions}.
   * @default { minTime: 10, maxTime: 1000, minSamples: 10 }
   */
  readonly window?: AdaptiveWindowOptions | undefined;
}

/**
 * The `concurrency` option of the flow-controlled operators.
 *
 * ## Example
 * ```ts
 * import { type ConcurrencyOptions } from 'rxjs-sluice';
 *
 * const concurrency: ConcurrencyOptions = { adaptive: { limiter: 'gradient', max: 64 } };
 * ```
 */
export interface ConcurrencyOptions {
  /**
   * An adaptive limit on the calls in flight, below the operator's bound.
   * @default undefined (the bound is the limit)
   */
  readonly adaptive?: AdaptiveConcurrencyOptions | undefined;
}

/** Validated `concurrency.adaptive` options, every default applied (internal). */
export interface ResolvedAdaptive {
  readonly limiter: 'aimd' | 'gradient';
  readonly min: number;
  readonly max: number;
  readonly initial: number;
  readonly isOverload: ((error: unknown) => boolean) | undefined;
  readonly backoffRatio: number;
  readonly tolerance: number;
  /** 'gradient' only (0.2 by default); unused by 'aimd'. */
  readonly smoothing: number;
  readonly window: WindowParams;
}

const CONCURRENCY_OPTIONS = ['adaptive'];
const ADAPTIVE_OPTIONS = ['limiter', 'min', 'max', 'initial', 'isOverload', 'backoffRatio', 'tolerance', 'smoothing', 'window'];
const WINDOW_OPTIONS = ['minTime', 'maxTime', 'minSamples'];

/** Throws unless every own key of `options` is in `allowed`; the message names the key's full path and its value. */
function rejectUnknown(operator: string, path: string, options: object, allowed: readonly string[]): void {
  for (const [key, value] of Object.entries(options)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`${operator}: unknown option "${path}.${key}" (got ${describe(value)}; known options: ${allowed.join(', ')})`);
    }
  }
}

/**
 * Validates an operator's `concurrency` option (internal) and applies the defaults. Returns null when it is
 * undefined or has no `adaptive` part (the operator's bound is then its only limit). Throws a TypeError naming
 * the operator, the option's path (e.g. `concurrency.adaptive.min`) and the value for anything else amiss:
 * unknown keys, values out of range, min > max, initial outside [min, max], max above the operator's bound,
 * `smoothing` with `'aimd'`.
 *
 * Usage: `resolveConcurrency('asyncWaitOrdered', options.concurrency, capacity)` at operator creation, then
 * `createLimiter(resolved)` once per subscription.
 *
 * @param defaultMax the operator's own bound (capacity, maxInFlightBatches): the default, and the highest allowed, max.
 * @param boundName the option that sets that bound, for the error message.
 */
export function resolveConcurrency(operator: string, value: unknown, defaultMax: number, boundName = 'capacity'): ResolvedAdaptive | null {
  if (value === undefined) return null;
  expectObject(operator, 'concurrency', value);
  rejectUnknown(operator, 'concurrency', value, CONCURRENCY_OPTIONS);
  const adaptive = (value as ConcurrencyOptions).adaptive as unknown;
  if (adaptive === undefined) return null;
  const path = 'concurrency.adaptive';
  expectObject(operator, path, adaptive);
  rejectUnknown(operator, path, adaptive, ADAPTIVE_OPTIONS);
  const options = adaptive as AdaptiveConcurrencyOptions;

  const limiter = options.limiter ?? 'gradient';
  if (limiter !== 'aimd' && limiter !== 'gradient') throw optionError(operator, `${path}.limiter`, "'aimd' or 'gradient'", limiter);

  const min = options.min ?? 1;
  expectInteger(operator, `${path}.min`, min, 1);
  const max = options.max ?? defaultMax;
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1 || max > defaultMax) {
    throw optionError(
      operator, `${path}.max`,
      `an integer in [1, ${defaultMax}] (${boundName} is ${defaultMax}, and caps the calls in flight whatever the limit: raise ${boundName} for a higher max)`,
      max,
    );
  }
  if (min > max) {
    const which = options.max === undefined ? `${boundName} (${max}), which ${path}.max defaults to` : `${path}.max (${max})`;
    throw optionError(operator, `${path}.min`, `an integer <= ${which}`, min);
  }
  const initial = options.initial ?? Math.min(max, Math.max(min, 10));
  if (typeof initial !== 'number' || !Number.isSafeInteger(initial) || initial < min || initial > max) {
    throw optionError(operator, `${path}.initial`, `an integer in [min, max] = [${min}, ${max}]`, initial);
  }

  expectFunction(operator, `${path}.isOverload`, options.isOverload);
  const backoffRatio = options.backoffRatio ?? 0.9;
  if (typeof backoffRatio !== 'number' || !(backoffRatio >= 0.5 && backoffRatio < 1)) {
    throw optionError(operator, `${path}.backoffRatio`, 'a number in [0.5, 1)', backoffRatio);
  }
  const tolerance = options.tolerance ?? (limiter === 'gradient' ? 1.25 : 1.5);
  expectNumber(operator, `${path}.tolerance`, tolerance, 1);
  if (limiter === 'aimd' && options.smoothing !== undefined) {
    throw optionError(operator, `${path}.smoothing`, "left out with limiter 'aimd' (it applies to 'gradient' only)", options.smoothing);
  }
  const smoothing = options.smoothing ?? 0.2;
  if (typeof smoothing !== 'number' || !(smoothing > 0 && smoothing <= 1)) {
    throw optionError(operator, `${path}.smoothing`, 'a number in (0, 1]', smoothing);
  }

  return {
    limiter, min, max, initial, isOverload: options.isOverload, backoffRatio, tolerance, smoothing,
    window: resolveWindow(operator, `${path}.window`, options.window),
  };
}

/** Validates `concurrency.adaptive.window` and applies its defaults. */
function resolveWindow(operator: string, path: string, window: unknown): WindowParams {
  if (window === undefined) return { minTime: 10, maxTime: 1000, minSamples: 10 };
  expectObject(operator, path, window);
  rejectUnknown(operator, path, window, WINDOW_OPTIONS);
  const { minTime: givenMin, maxTime: givenMax, minSamples = 10 } = window as AdaptiveWindowOptions;
  if (givenMin !== undefined) expectNumber(operator, `${path}.minTime`, givenMin, 0);
  if (givenMax !== undefined) expectNumber(operator, `${path}.maxTime`, givenMax, 0);
  const minTime = givenMin ?? Math.min(10, givenMax ?? 10);
  const maxTime = givenMax ?? Math.max(1000, minTime);
  if (maxTime < minTime) throw optionError(operator, `${path}.maxTime`, `a finite number >= ${path}.minTime (${minTime})`, maxTime);
  expectInteger(operator, `${path}.minSamples`, minSamples, 1);
  return { minTime, maxTime, minSamples };
}

/**
 * A fresh limiter for one subscription (internal): an `AimdLimiter` or a `GradientLimiter`, starting at
 * `initial`. See `resolveConcurrency` for how to get `resolved`.
 */
export function createLimiter(resolved: ResolvedAdaptive): ConcurrencyLimiter {
  return resolved.limiter === 'aimd' ? new AimdLimiter(resolved) : new GradientLimiter(resolved);
}
