import { type SchedulerLike } from 'rxjs';
import { expectNumber, expectObject, optionError, rejectUnknownOptions } from '../shared/validate.js';

/**
 * A retry budget (Finagle's `RetryBudget`, with the ratio of gRPC's retry throttling): over a sliding window of
 * `ttl` ms of scheduler time, retries may number at most `ratio` times the first attempts (new calls) made in
 * the window, plus a floor of `minPerSecond · ttl / 1000` so that a quiet stream can still retry. When a
 * service fails broadly, retries then add at most that fraction of load instead of multiplying it.
 *
 * ## Example
 * ```ts
 * import { type RetryBudgetOptions } from 'rxjs-sluice';
 *
 * // Retries may add at most 10% to the calls of the last 10 s, plus 1 retry a second.
 * const budget: RetryBudgetOptions = { ratio: 0.1 };
 * // Finagle's defaults: 20% of calls, plus 10 retries a second, over 10 s.
 * const finagle: RetryBudgetOptions = { ratio: 0.2, minPerSecond: 10, ttl: 10_000 };
 * ```
 */
export interface RetryBudgetOptions {
  /**
   * Retries allowed per first attempt within the window, a number in [0, 10]: 0.1 lets retries be at most 10% of
   * first attempts, 2 allows two retries per first attempt. 0 leaves only the floor.
   * @default none: required
   */
  readonly ratio: number;
  /**
   * The floor: retries a second allowed whatever the traffic, a finite number >= 0 (the window allows
   * `minPerSecond · ttl / 1000` of them on top of the ratio). With `ratio` 0 and `minPerSecond` 0 nothing is
   * ever retried.
   * @default 1 (Finagle's default is 10, for a whole client; an operator is usually one stream among many)
   */
  readonly minPerSecond?: number | undefined;
  /**
   * The window, in ms of scheduler time (a finite number > 0): first attempts and retries count for this long.
   * The window moves in tenths of `ttl`, so an attempt stops counting between `0.9 · ttl` and `ttl` after it.
   * @default 10_000 (Finagle's)
   */
  readonly ttl?: number | undefined;
}

/** A validated retry budget (internal): every field set. */
export interface ResolvedRetryBudget {
  /** Retries per first attempt, in [0, 10]. */
  readonly ratio: number;
  /** Retries a second allowed whatever the traffic, >= 0. */
  readonly minPerSecond: number;
  /** The window in ms of scheduler time, > 0. */
  readonly ttl: number;
}

const KNOWN_BUDGET_OPTIONS = ['ratio', 'minPerSecond', 'ttl'] as const;

/** The largest `ratio`: ten retries per call is already no budget; `ratio: 20` most likely meant 20%. */
const MAX_RATIO = 10;

/**
 * Validates the `retry.budget` option (internal): null when it is undefined, else the resolved budget with its
 * defaults. Throws a TypeError naming the option (`retry.budget.ratio`, ...) and the value.
 */
export function resolveRetryBudget(operator: string, value: unknown): ResolvedRetryBudget | null {
  if (value === undefined) return null;
  expectObject(operator, 'retry.budget', value);
  rejectUnknownOptions(`${operator} retry.budget`, value, KNOWN_BUDGET_OPTIONS);
  const { ratio, minPerSecond = 1, ttl = 10_000 } = value as { ratio?: unknown; minPerSecond?: unknown; ttl?: unknown };
  if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 0 || ratio > MAX_RATIO) {
    throw optionError(operator, 'retry.budget.ratio', `a number in [0, ${MAX_RATIO}] (retries per first attempt: 0.1 allows 10%)`, ratio);
  }
  expectNumber(operator, 'retry.budget.minPerSecond', minPerSecond, 0);
  expectNumber(operator, 'retry.budget.ttl', ttl, 0, true);
  return { ratio, minPerSecond, ttl };
}

/** Buckets in the window: the window slides in steps of ttl / BUCKETS. */
const BUCKETS = 10;

/**
 * Slack on the comparison: `ratio · deposits` is floating-point (0.29 · 100 is 28.999999999999996), and a
 * retry the exact arithmetic allows must not be refused.
 */
const TOLERANCE = 1e-9;

/**
 * A retry budget on a scheduler's clock (internal). Pure: it reads `scheduler.now()` and never schedules
 * anything.
 *
 * Time is cut into buckets of `w = ttl / 10` ms (bucket k is [k·w, (k+1)·w)); the window at time t is the
 * current bucket and the 9 before it, i.e. [s, t] with s = (⌊t/w⌋ − 9)·w, between `ttl − w` and `ttl` long. A
 * retry is allowed (and counted) when the retries already counted in the window, plus this one, stay within
 * `ratio · deposits in the window + minPerSecond · ttl / 1000`. The ring of 10 buckets keeps running totals:
 * each call costs O(1), and moving on expires at most 10 buckets, whatever the traffic.
 *
 * Guarantee (clock never going backwards): when a retry is allowed at time t, the retries allowed in
 * [t − (ttl − w), t], itself included, number at most `ratio · D + minPerSecond · ttl / 1000`, where D counts
 * the deposits made in (t − ttl, t] so far. So over any stretch of `ttl − w` ms, retries stay within the ratio
 * of the deposits of the ttl before its last retry, plus the floor. A stretch of a whole `ttl` may hold the
 * retries of two windows (up to twice the floor): that is the price of moving in buckets.
 *
 * A clock that goes backwards (a virtual clock reset) counts as no time passing: nothing expires, and the
 * window moves on again from the new time.
 */
export class RetryBudget {
  /** First attempts per bucket, a ring indexed from `head`. */
  private readonly deposits = new Float64Array(BUCKETS);
  /** Allowed retries per bucket, same ring. */
  private readonly withdrawals = new Float64Array(BUCKETS);
  /** Sum of `deposits`: first attempts in the window. */
  private depositTotal = 0;
  /** Sum of `withdrawals`: retries in the window. */
  private withdrawalTotal = 0;
  /** Ring slot of the current bucket. */
  private head = 0;
  /** Absolute number of the current bucket, ⌊now / w⌋ at the last look at the clock. */
  private bucket: number;
  /** Bucket width in ms: ttl / BUCKETS. */
  private readonly width: number;
  /** Retries per first attempt. */
  private readonly ratio: number;
  /** Retries allowed in the window whatever the traffic: minPerSecond · ttl / 1000. */
  private readonly floor: number;

  constructor(
    private readonly scheduler: SchedulerLike,
    options: ResolvedRetryBudget,
  ) {
    this.width = options.ttl / BUCKETS;
    this.ratio = options.ratio;
    this.floor = (options.minPerSecond * options.ttl) / 1000;
    this.bucket = Math.floor(scheduler.now() / this.width);
  }

  /** Retries that would be allowed now, one after another with no new first attempt (an integer >= 0): for metrics. */
  get balance(): number {
    this.advance();
    return Math.max(0, Math.floor(this.allowance() - this.withdrawalTotal + TOLERANCE));
  }

  /** A first attempt (a new call, not a retry) started: it raises the allowance while its bucket is in the window (0.9·ttl to ttl). */
  deposit(): void {
    this.advance();
    this.deposits[this.head]!++;
    this.depositTotal++;
  }

  /**
   * A retry wants to start: true, and the retry counted, when the retries in the window including it stay
   * within `ratio · deposits + floor`; false (nothing counted) otherwise.
   */
  tryWithdraw(): boolean {
    this.advance();
    if (this.withdrawalTotal + 1 > this.allowance() + TOLERANCE) return false;
    this.withdrawals[this.head]!++;
    this.withdrawalTotal++;
    return true;
  }

  private allowance(): number {
    return this.ratio * this.depositTotal + this.floor;
  }

  /** Moves the window to now: expires the buckets that have left it (at most all 10). */
  private advance(): void {
    const bucket = Math.floor(this.scheduler.now() / this.width);
    const steps = bucket - this.bucket;
    // Backwards (steps < 0): re-anchor on the new bucket, expiring nothing.
    this.bucket = bucket;
    if (!(steps > 0)) return;
    for (let i = Math.min(steps, BUCKETS); i > 0; i--) {
      const slot = (this.head = (this.head + 1) % BUCKETS);
      this.depositTotal -= this.deposits[slot]!;
      this.withdrawalTotal -= this.withdrawals[slot]!;
      this.deposits[slot] = 0;
      this.withdrawals[slot] = 0;
    }
  }
}
