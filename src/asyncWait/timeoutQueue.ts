import { type SchedulerLike, type Subscription } from 'rxjs';
import { delayUntil } from '../shared/schedulerDelay.js';
import { type HeldList } from './heldList.js';
import { type HeldRecord } from './heldRecord.js';

/**
 * The deadlines of the records under a timeout, behind ONE scheduled action.
 *
 * Every record gets the same budget and records are admitted in scheduler-time order, so the `calls` list
 * (records whose own call, retry wait or timeout wait is pending, in admission order) is already sorted by
 * deadline: its front is the next deadline, with no timer per record. A record leaves that list the moment it
 * settles or starts a fallback, wherever it sits, so the list never holds more than `capacity` records, however
 * long a slow one stays at its front. (Should the clock step backwards, a later deadline can sit behind an
 * earlier one; it then fires late by at most that step, never early.)
 */
export class TimeoutQueue<I, O> {
  /** The one scheduled action, for the front record's deadline (or earlier); null when none is armed. */
  private action: Subscription | null = null;
  /** Deadline the armed action is for. */
  private armedFor = Infinity;

  constructor(
    private readonly scheduler: SchedulerLike,
    /** Owned by InFlight; this queue only reads its front, and removes the records that expire. */
    private readonly calls: HeldList<I, O>,
    /** Called for each record whose deadline has passed, after it has left `calls`. */
    private readonly expire: (held: HeldRecord<I, O>) => void,
    /** Stops firing once the run is closed. */
    private readonly isClosed: () => boolean,
  ) {}

  /** `held`, with its deadline set, has just joined `calls`. */
  added(held: HeldRecord<I, O>): void {
    if (this.action === null) this.arm(held.deadline);
  }

  /**
   * A record has left `calls`. Once none is left the timer is released; otherwise it stays armed, and should
   * it wake before the new front's deadline, fire() re-arms for that one.
   */
  removed(): void {
    if (this.calls.isEmpty()) this.disarm();
  }

  clear(): void {
    this.disarm();
  }

  private fire(): void {
    this.action = null;
    this.armedFor = Infinity;
    const calls = this.calls;
    const now = this.scheduler.now();
    let front = calls.front;
    while (front !== null && !this.isClosed()) {
      if (front.deadline > now) {
        this.arm(front.deadline);
        return;
      }
      calls.remove(front);
      this.expire(front);
      front = calls.front;
    }
  }

  private arm(deadline: number): void {
    if (this.action !== null && this.armedFor <= deadline) return;
    this.disarm();
    this.armedFor = deadline;
    // Capped at setInterval's limit: a far deadline wakes early, and fire() re-arms for it.
    const delay = delayUntil(this.scheduler, deadline);
    // A scheduler may run a 0 ms action synchronously (queueScheduler): then there is nothing to keep.
    let ran = false;
    const action = this.scheduler.schedule(() => {
      ran = true;
      this.fire();
    }, delay);
    if (!ran) this.action = action;
  }

  private disarm(): void {
    const action = this.action;
    this.action = null;
    this.armedFor = Infinity;
    if (action !== null) action.unsubscribe();
  }
}
