import { type SchedulerLike } from 'rxjs';
import { type InFlightSource } from './asyncWaitMetrics.js';
import { HeldList } from './heldList.js';
import { type HeldRecord } from './heldRecord.js';
import { TimeoutQueue } from './timeoutQueue.js';

/**
 * The records of one run that are in flight (admitted, not yet DONE), oldest first, in two intrusive lists:
 * it drives the timeouts and the `oldestInFlight*` gauges. Every operation is O(1) and allocates nothing, and
 * a record leaves as soon as it settles, so it holds at most `capacity` records whatever the latency pattern.
 *
 * A run has one only when something reads it: a timeout, or a metrics object of the user's. Otherwise the run
 * skips it, and with it the clock read per admitted record.
 */
export class InFlight<I, O> implements InFlightSource {
  /** Records whose own call, retry wait or timeout wait is pending, in admission order (so deadline order). */
  readonly calls = new HeldList<I, O>();
  /** Records whose fallback (onError, onTimeout) runs, in the order the fallbacks started. */
  private readonly fallbacks = new HeldList<I, O>();
  /** The deadlines of `calls`; null without a timeout. */
  private readonly timeouts: TimeoutQueue<I, O> | null;

  constructor(
    private readonly scheduler: SchedulerLike,
    /** The time budget of each record in ms; Infinity without a timeout. */
    private readonly timeout: number,
    expire: (held: HeldRecord<I, O>) => void,
    isClosed: () => boolean,
  ) {
    this.timeouts = timeout === Infinity ? null : new TimeoutQueue<I, O>(scheduler, this.calls, expire, isClosed);
  }

  /** `held` was just admitted: its first call is about to start. Sets its deadline under a timeout. */
  admitted(held: HeldRecord<I, O>): void {
    const now = this.scheduler.now();
    held.since = now;
    this.calls.push(held);
    const timeouts = this.timeouts;
    if (timeouts !== null) {
      held.deadline = now + this.timeout;
      timeouts.added(held);
    }
  }

  /** `held`'s fallback is about to start: it no longer has a deadline, and its age now counts from here. */
  fallbackStarted(held: HeldRecord<I, O>): void {
    this.calls.remove(held); // a no-op after an expiry: the TimeoutQueue has already taken it out
    held.since = this.scheduler.now();
    this.fallbacks.push(held);
    if (this.timeouts !== null) this.timeouts.removed();
  }

  /** `held` has its final results (from its own call or a fallback). */
  settled(held: HeldRecord<I, O>): void {
    this.calls.remove(held); // whichever of the two lists holds it; the other ignores it
    this.fallbacks.remove(held);
    if (this.timeouts !== null) this.timeouts.removed();
  }

  oldestSince(): number | null {
    const call = this.calls.front;
    const fallback = this.fallbacks.front;
    if (call === null) return fallback === null ? null : fallback.since;
    return fallback === null || call.since <= fallback.since ? call.since : fallback.since;
  }

  now(): number {
    return this.scheduler.now();
  }

  clear(): void {
    if (this.timeouts !== null) this.timeouts.clear();
    this.calls.clear();
    this.fallbacks.clear();
  }
}
