import { type SchedulerLike } from 'rxjs';

/**
 * setInterval's largest delay (2^31 − 1 ms, about 24.8 days). asyncScheduler passes delays to setInterval, and
 * Node turns a longer one into 1 ms (TimeoutOverflowWarning), so a far deadline would fire at once.
 */
export const MAX_DELAY = 2 ** 31 - 1;

/**
 * The delay to give `scheduler.schedule` for an action due at `time`: never negative, never above MAX_DELAY.
 * A capped action wakes early, so every caller re-checks the time when it runs and re-arms if it is not due.
 */
export function delayUntil(scheduler: SchedulerLike, time: number): number {
  return Math.min(Math.max(0, time - scheduler.now()), MAX_DELAY);
}
