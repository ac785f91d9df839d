import Denque from 'denque';
import { type SchedulerLike, type Subscription } from 'rxjs';
import { delayUntil } from '../shared/schedulerDelay.js';
import { CALLING, RETRY_WAIT, TIMEOUT_WAIT, type HeldRecord } from './heldRecord.js';

/**
 * Deadlines of the records admitted with a timeout, behind ONE scheduled action.
 *
 * Every record gets the same budget and records are admitted in scheduler-time order, so deadlines arrive
 * already sorted: a FIFO is a priority queue here, O(1) per record, with no timer per record. Records that
 * settle early are dropped lazily when they reach the front. (Should the clock step backwards, a later
 * deadline can sit behind an earlier one; it then fires late by at most that step, never early.)
 */
export class TimeoutQueue<I, O> {
  /** Records in admission order; emptied on clear(). */
  private readonly fifo = new Denque<HeldRecord<I, O>>();
  /** The one scheduled action, for the front record's deadline; null when none is armed. */
  private action: Subscription | null = null;
  /** Deadline the armed action is for. */
  private armedFor = Infinity;

  constructor(
    private readonly scheduler: SchedulerLike,
    /** Called for each record whose deadline has passed while it is still unsettled. */
    private readonly expire: (held: HeldRecord<I, O>) => void,
    /** Stops firing once the run is closed. */
    private readonly isClosed: () => boolean,
  ) {}

  add(held: HeldRecord<I, O>): void {
    this.fifo.push(held);
    if (this.action === null) this.arm(held.deadline);
  }

  /** Drops settled records from the front, so they are not retained until their deadline. */
  trim(): void {
    const fifo = this.fifo;
    let front = fifo.peekFront();
    while (front !== undefined && !isUnsettled(front)) {
      fifo.shift(); // denque: O(1)
      front = fifo.peekFront();
    }
    if (front === undefined) this.disarm();
  }

  clear(): void {
    this.disarm();
    this.fifo.clear();
  }

  private fire(): void {
    this.action = null;
    this.armedFor = Infinity;
    const fifo = this.fifo;
    const now = this.scheduler.now();
    let front = fifo.peekFront();
    while (front !== undefined && !this.isClosed()) {
      if (isUnsettled(front)) {
        if (front.deadline > now) {
          this.arm(front.deadline);
          return;
        }
        fifo.shift(); // denque: O(1)
        this.expire(front);
      } else {
        fifo.shift(); // denque: O(1)
      }
      front = fifo.peekFront();
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

/** True while the record still waits for its own call, retry or timeout (not a fallback, not done). */
function isUnsettled(held: HeldRecord<unknown, unknown>): boolean {
  const state = held.state;
  return state === CALLING || state === RETRY_WAIT || state === TIMEOUT_WAIT;
}
