import { type SchedulerLike } from 'rxjs';
import { expectInteger, expectNumber, expectObject, optionError, rejectUnknownOptions } from '../shared/validate.js';

/**
 * A rate limit for a service with a quota: a token bucket refilled continuously on the operator's scheduler.
 * Every call takes one token per element it carries (a batch takes one per element, all at once); a call without
 * its tokens waits. The bucket starts full, so up to `burst` tokens may go at once; after that, calls get
 * `perSecond` tokens a second. Over any stretch of W ms of scheduler time, at most `burst + perSecond · W / 1000`
 * tokens are taken.
 *
 * ## Example
 * ```ts
 * import { type RateLimitOptions } from 'rxjs-sluice';
 *
 * // At most 50 calls a second on average, and never more than 10 at once after a quiet spell.
 * const rateLimit: RateLimitOptions = { perSecond: 50, burst: 10 };
 * // One call every 2 s, none in bursts.
 * const slow: RateLimitOptions = { perSecond: 0.5 };
 * ```
 */
export interface RateLimitOptions {
  /**
   * Tokens added per second of scheduler time (a finite number > 0; fractions allowed: 0.5 is one token every
   * 2 s). The refill is continuous, not in steps.
   * @default none: required
   */
  readonly perSecond: number;
  /**
   * The bucket's size: how many tokens may be taken at once after a quiet spell (an integer >= 1, and at least
   * the largest call: an async-batch operator's `maxBatchSize`, since a whole batch takes its tokens at once).
   * The bucket starts full.
   * @default one second's worth, rounded up: `Math.ceil(perSecond)`, raised to 1, and to the largest call's size
   */
  readonly burst?: number | undefined;
}

/** A validated rate limit (internal): both fields set. */
export interface ResolvedRateLimit {
  /** Tokens per second of scheduler time, finite > 0. */
  readonly perSecond: number;
  /** Bucket size, an integer >= 1 and >= the largest call. */
  readonly burst: number;
}

const KNOWN_RATE_LIMIT_OPTIONS = ['perSecond', 'burst'] as const;

/**
 * Validates the `rateLimit` option (internal): null when it is undefined, else the resolved limit. Throws a
 * TypeError naming the option (`rateLimit.perSecond`, `rateLimit.burst`) and the value. `minBurst` is the most
 * tokens one call takes at once (1 for per-record calls, `maxBatchSize` for batches): a smaller `burst` could
 * never grant such a call, so it is rejected, and the default `burst` is raised to it.
 */
export function resolveRateLimit(operator: string, value: unknown, minBurst: number): ResolvedRateLimit | null {
  if (value === undefined) return null;
  expectObject(operator, 'rateLimit', value);
  rejectUnknownOptions(`${operator} rateLimit`, value, KNOWN_RATE_LIMIT_OPTIONS);
  const { perSecond, burst } = value as { perSecond?: unknown; burst?: unknown };
  expectNumber(operator, 'rateLimit.perSecond', perSecond, 0, true);
  if (burst === undefined) return { perSecond, burst: Math.max(1, minBurst, Math.ceil(perSecond)) };
  expectInteger(operator, 'rateLimit.burst', burst, 1);
  if (burst < minBurst) {
    throw optionError(
      operator, 'rateLimit.burst',
      `an integer >= ${minBurst} (one call takes up to ${minBurst} tokens at once, e.g. a whole batch of maxBatchSize elements, and a smaller bucket could never hold them)`,
      burst,
    );
  }
  return { perSecond, burst };
}

/**
 * Shortfalls up to this fraction of the bucket count as enough tokens: the refill is floating-point, and a call
 * that waited exactly `delayUntil(n)` ms must find its tokens there. The shortfall is carried, not forgiven, so
 * the bound below holds up to 1e-9 of the bucket in total, however many takes.
 */
const TOLERANCE = 1e-9;

/**
 * A token bucket on a scheduler's clock (internal). Pure: it reads `scheduler.now()` and never schedules
 * anything. Tokens refill continuously (fractional tokens accumulate) at `perSecond` per 1000 ms of scheduler
 * time, capped at `burst`; the bucket starts full. Hence over any closed interval of W ms, the tokens taken
 * never exceed `burst + perSecond · W / 1000`.
 *
 * A clock that goes backwards (a virtual clock reset) counts as no time passing: nothing refills, no token is
 * lost, and the refill resumes from the new time.
 */
export class TokenBucket {
  /**
   * Tokens in the bucket at `refilledAt`, in [-slack, burst] (fractional). A take granted within the tolerance
   * leaves it a hair below 0 rather than clamping: the shortfall is repaid by the refill, so it never adds up.
   */
  private available: number;
  /** Scheduler time of the last refill: tokens for the time since then are not yet added. */
  private refilledAt: number;
  /** Tokens per ms of scheduler time. */
  private readonly perMs: number;
  /** The bucket's size. */
  private readonly burst: number;
  /** Absolute shortfall tolerated by `enough` (TOLERANCE of the bucket). */
  private readonly slack: number;

  constructor(
    private readonly scheduler: SchedulerLike,
    options: ResolvedRateLimit,
  ) {
    this.perMs = options.perSecond / 1000;
    this.burst = options.burst;
    this.slack = options.burst * TOLERANCE;
    this.available = options.burst;
    this.refilledAt = scheduler.now();
  }

  /** Tokens in the bucket now, after the refill (fractional, in [0, burst]): for metrics. */
  get tokens(): number {
    this.refill();
    return Math.max(0, this.available);
  }

  /**
   * Takes `n` tokens if the bucket has them now (after the refill) and returns true; otherwise takes none and
   * returns false. A call for more than `burst` tokens never succeeds.
   */
  tryTake(n: number): boolean {
    this.refill();
    if (n > this.burst || !this.enough(n)) return false;
    this.available -= n;
    return true;
  }

  /**
   * Ms of scheduler time until the bucket will hold `n` tokens, if none are taken meanwhile: 0 when it holds
   * them now, Infinity when `n > burst` (never). Exact: `tryTake(n)` succeeds once that much time has passed.
   */
  delayUntil(n: number): number {
    this.refill();
    if (n > this.burst) return Infinity;
    if (this.enough(n)) return 0;
    return (n - this.available) / this.perMs;
  }

  private enough(n: number): boolean {
    return this.available + this.slack >= n;
  }

  private refill(): void {
    const now = this.scheduler.now();
    const elapsed = now - this.refilledAt;
    // A backwards clock (elapsed < 0) re-anchors without refilling: never a negative refill.
    if (elapsed > 0) this.available = Math.min(this.burst, this.available + elapsed * this.perMs);
    this.refilledAt = now;
  }
}
