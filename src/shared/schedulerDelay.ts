import { Subscription, type SchedulerLike } from 'rxjs';

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

/**
 * Runs `work` once, `delay` ms of scheduler time from now, however long that is: beyond MAX_DELAY the action
 * wakes at the limit and re-arms for the rest (measured on the scheduler's clock), as often as needed.
 * Unsubscribing the returned Subscription cancels it. Within the limit this is exactly
 * `scheduler.schedule(work, delay)`: no wrapper, no clock read, so ordinary delays keep the scheduler's timing.
 */
export function scheduleAfter(scheduler: SchedulerLike, delay: number, work: () => void): Subscription {
  if (!(delay > MAX_DELAY)) return scheduler.schedule(work, delay);
  const due = scheduler.now() + delay;
  /** The leg scheduled now: a wake-up at the limit, or the last one, which runs `work`. */
  let leg: Subscription | null = null;
  const handle = new Subscription(() => leg?.unsubscribe());
  const arm = (): void => {
    const left = due - scheduler.now();
    leg = left > MAX_DELAY ? scheduler.schedule(arm, MAX_DELAY) : scheduler.schedule(work, Math.max(0, left));
  };
  arm();
  return handle;
}
