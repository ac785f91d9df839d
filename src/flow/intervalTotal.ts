import { type SchedulerLike } from 'rxjs';

/** An interval still running: when it began, on which clock (internal). */
export interface OpenInterval {
  readonly since: number;
  readonly scheduler: SchedulerLike;
}

/**
 * A total of time intervals that reads live (internal): the closed intervals plus those still open, each on its
 * own scheduler's clock. So a metric such as a source's back-pressured time grows while the pause lasts, not only
 * when it ends. begin/end are O(1); reading is O(intervals open), one per paused subscription at most.
 */
export class IntervalTotal {
  /** The sum of the intervals already ended. */
  private ended = 0;
  /** The intervals running now. */
  private readonly running = new Set<OpenInterval>();

  begin(scheduler: SchedulerLike): OpenInterval {
    const interval = { since: scheduler.now(), scheduler };
    this.running.add(interval);
    return interval;
  }

  end(interval: OpenInterval): void {
    if (this.running.delete(interval)) this.ended += interval.scheduler.now() - interval.since;
  }

  get total(): number {
    let total = this.ended;
    for (const interval of this.running) total += interval.scheduler.now() - interval.since;
    return total;
  }
}
