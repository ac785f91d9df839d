import { type SchedulerLike, type Subscription } from 'rxjs';
import { delayUntil } from '../shared/schedulerDelay.js';

/**
 * The single physical processing-time timer (Flink's `nextTimer` in InternalTimerServiceImpl): one scheduled
 * action, for the earliest processing-time timer, moved only when an earlier timer appears. Every arming is
 * asynchronous on asyncScheduler and TestScheduler, even for a timestamp in the past (delay 0).
 */
export class ProcessingClock {
  /** The scheduled action; null when disarmed. Cancelled by disarm(). */
  private action: Subscription | null = null;
  /** The timestamp the action was armed for; Infinity when disarmed. */
  private armedFor = Infinity;
  /** Identifies the current arming, so a superseded action that still runs does nothing. Null when disarmed. */
  private token: object | null = null;

  constructor(
    private readonly scheduler: SchedulerLike,
    /** Called when the armed time arrives; the clock is disarmed by then. */
    private readonly onWake: () => void,
  ) {}

  /** Makes sure a wake-up comes at or before `timestamp`: re-arms only for an earlier time. */
  armFor(timestamp: number): void {
    if (this.token !== null && this.armedFor <= timestamp) return;
    this.disarm();
    const token = {};
    this.token = token;
    this.armedFor = timestamp;
    // A timer beyond setInterval's limit is armed at the limit: it wakes early, finds nothing due and re-arms.
    const action = this.scheduler.schedule(() => {
      if (this.token !== token) return;
      this.token = null;
      this.action = null;
      this.armedFor = Infinity;
      this.onWake();
    }, delayUntil(this.scheduler, timestamp));
    // A synchronous scheduler may already have run (or superseded) this arming inside schedule().
    if (this.token === token) this.action = action;
    else action.unsubscribe();
  }

  /** Cancels the pending wake-up, if any. */
  disarm(): void {
    this.token = null;
    this.armedFor = Infinity;
    const action = this.action;
    this.action = null;
    action?.unsubscribe();
  }
}
