import { type SchedulerLike, type Subscription } from 'rxjs';
import { scheduleAfter } from '../shared/schedulerDelay.js';
import { createLimiter, type ResolvedAdaptive } from './adaptiveOptions.js';
import { type ConcurrencyLimiter } from './limiter.js';
import { TokenBucket, type ResolvedRateLimit } from './tokenBucket.js';

/** A call allowed to start (internal): when, with how many in flight, and how many tokens it took. */
export interface Permit {
  /** Scheduler time the call started. */
  readonly startedAt: number;
  /** Calls in flight when it started, itself included. */
  readonly inFlight: number;
}

/** How a call ended, for the limiter: a latency sample, a drop (timeout or overload), or nothing to learn. */
export type CallOutcome = 'ok' | 'drop' | 'ignore';

/** What the gate needs of a rate limit (a TokenBucket): take tokens, or say how long until there are enough. */
export interface TokenSource {
  tryTake(n: number): boolean;
  delayUntil(n: number): number;
}

/** The gauges and totals a gate keeps up to date (internal; the operator's metrics object implements it). */
export interface CallGateCounters {
  concurrencyLimit: number | null;
  minRtt: number | null;
  sampleRtt: number | null;
}

/**
 * Decides when a call may start (internal): at most `limit` calls in flight (an adaptive limiter's current limit,
 * or a fixed bound), and, with a rate limit, only when the token bucket has the tokens for it. Shared by the
 * per-record calls of asyncWait and the batch calls of asyncBatch (one gate per subscription).
 *
 * A call that may not start yet waits in its operator's queue; the operator asks again (`tryAcquire`) when a call
 * ends, and the gate calls `wake` when tokens will be there (one timer at a time, on the scheduler). Limits are
 * not state: a restored pipeline starts again from the limiter's initial limit.
 */
export class CallGate {
  /** Calls in flight now. */
  private inFlight = 0;
  /** The pending wake-up for tokens, if any. */
  private wakeTimer: Subscription | null = null;

  constructor(
    private readonly scheduler: SchedulerLike,
    /** The adaptive limit, or null for a fixed one. */
    private readonly limiter: ConcurrencyLimiter | null,
    /** The fixed limit when there is no limiter. */
    private readonly fixedLimit: number,
    /** The rate limit, or null. */
    private readonly bucket: TokenSource | null,
    private readonly counters: CallGateCounters,
    /** Told when tokens are there again (from a scheduler action): the operator retries its waiting calls. */
    private readonly wake: () => void,
  ) {
    if (limiter !== null) counters.concurrencyLimit = limiter.limit;
  }

  /** The current limit on calls in flight. */
  get limit(): number {
    return this.limiter === null ? this.fixedLimit : this.limiter.limit;
  }

  /**
   * A permit for a call that needs `tokens` tokens, or null if it must wait: for a call to end (the limit is
   * reached), or for the tokens (a wake-up is then scheduled).
   */
  tryAcquire(tokens: number): Permit | null {
    if (this.inFlight >= this.limit) return null;
    const bucket = this.bucket;
    if (bucket !== null && !bucket.tryTake(tokens)) {
      this.armWake(bucket.delayUntil(tokens));
      return null;
    }
    return { startedAt: this.scheduler.now(), inFlight: ++this.inFlight };
  }

  /** A call ended: its slot is free, and the limiter learns from it (not for 'ignore'). */
  release(permit: Permit, outcome: CallOutcome): void {
    this.inFlight--;
    const limiter = this.limiter;
    if (limiter === null || outcome === 'ignore') return;
    const now = this.scheduler.now();
    limiter.onSample({ rtt: now - permit.startedAt, inFlight: permit.inFlight, dropped: outcome === 'drop' }, now);
    const counters = this.counters;
    counters.concurrencyLimit = limiter.limit;
    counters.minRtt = limiter.minRtt;
    counters.sampleRtt = limiter.sampleRtt;
  }

  /** Teardown: no wake-up outlives the subscription. */
  clear(): void {
    this.wakeTimer?.unsubscribe();
    this.wakeTimer = null;
  }

  private armWake(delay: number): void {
    if (this.wakeTimer !== null) return; // one at a time: the earliest waiter's need comes first (FIFO)
    // The exact delay, fractions included: rounding it up would lose the refill of the rounded part whenever the
    // bucket is full by then (burst 1 at 300/s would give 250/s). The bucket grants a shortfall of a hair, so the
    // tokens are there at the computed instant.
    this.wakeTimer = scheduleAfter(this.scheduler, Math.max(0, delay), () => {
      this.wakeTimer = null;
      this.wake();
    });
  }
}

/**
 * The gate of one subscription, or null when neither an adaptive limit nor a rate limit is set (the operator then
 * starts every call at once, as without this module: nothing is added to its hot path).
 */
export function makeCallGate(
  scheduler: SchedulerLike,
  concurrency: ResolvedAdaptive | null,
  rateLimit: ResolvedRateLimit | null,
  fixedLimit: number,
  counters: CallGateCounters,
  wake: () => void,
): CallGate | null {
  if (concurrency === null && rateLimit === null) return null;
  const limiter = concurrency === null ? null : createLimiter(concurrency);
  const bucket = rateLimit === null ? null : new TokenBucket(scheduler, rateLimit);
  return new CallGate(scheduler, limiter, fixedLimit, bucket, counters, wake);
}
