import { type SchedulerLike, type Subscription } from 'rxjs';
import { delayUntil, MAX_DELAY } from '../shared/schedulerDelay.js';

/**
 * Calls `tick` every `interval` ms of scheduler time, on a fixed grid from now, until the returned Subscription is
 * unsubscribed. An interval beyond setInterval's limit (MAX_DELAY, about 24.8 days; Node would run a longer delay
 * after 1 ms) wakes at the limit and re-arms on the scheduler's clock until the tick is due.
 *
 * Each tick is a fresh action, not one that reschedules itself. rxjs recycles a self-rescheduling action's
 * setInterval, and under TestScheduler.run (rxjs 7.8) such a timer keeps its place in the table of timers while
 * its turn in the queue moves on: when a timer due in the same frame is then cancelled by another's handler (an
 * unsubscribe, a crash), the frame's last turn finds nothing due and rxjs throws "Expected a due immediate or
 * interval". One timer per tick costs nothing at checkpoint rates.
 */
export function everyInterval(scheduler: SchedulerLike, interval: number, tick: () => void): { unsubscribe(): void } {
  const long = interval > MAX_DELAY;
  /** When the next tick is due. */
  let due = scheduler.now() + interval;
  /** The armed wake-up; null once stopped. */
  let armed: Subscription | null = null;
  /** Set by unsubscribe: a tick running then must not re-arm. */
  let stopped = false;
  const arm = (): void => {
    armed = scheduler.schedule(wake, delayUntil(scheduler, due)); // on the grid, whatever the last tick's lateness
  };
  const wake = (): void => {
    if (stopped) return;
    if (long && scheduler.now() < due) {
      arm(); // woke at the limit: not due yet
      return;
    }
    tick();
    if (stopped) return;
    due += interval;
    arm();
  };
  arm();
  return {
    unsubscribe: () => {
      stopped = true;
      armed?.unsubscribe();
      armed = null;
    },
  };
}
