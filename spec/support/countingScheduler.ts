/**
 * A SchedulerLike for the specs that delegates to another scheduler and counts the actions scheduled on it. An
 * action is live from its schedule() call until it runs or its Subscription is unsubscribed, whichever comes
 * first (counted once). It stands in for Flink's TestProcessingTimeService (getNumActiveTimers /
 * getActiveTimerTimestamps) in the keyedTimers ports.
 */
import { type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';

/** Delegates now() and schedule() to `inner` and counts the actions scheduled, run and still live. */
export class CountingScheduler implements SchedulerLike {
  /** The scheduler that does the actual scheduling and keeps the time. */
  readonly #inner: SchedulerLike;
  /** Every live action (by a token of its own), with the time it is due. */
  readonly #live = new Map<object, number>();
  /** Backs `scheduled`. */
  #scheduled = 0;
  /** Backs `executed`. */
  #executed = 0;
  /** Backs `maxLive`. */
  #maxLive = 0;

  /** Wraps `inner`, which does the actual scheduling and keeps the time. */
  constructor(inner: SchedulerLike) {
    this.#inner = inner;
  }

  /** The inner scheduler's now(). */
  now(): number {
    return this.#inner.now();
  }

  /** Schedules `work` on the inner scheduler, counting the action live until it runs or is unsubscribed. */
  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay?: number, state?: T): Subscription {
    const token = {};
    const live = this.#live;
    live.set(token, this.#inner.now() + (delay ?? 0));
    this.#scheduled++;
    this.#maxLive = Math.max(this.#maxLive, live.size);
    let ran = false;
    const onRun = () => {
      if (ran) return;
      ran = true;
      this.#executed++;
      live.delete(token);
    };
    const action = this.#inner.schedule<T>(function (this: SchedulerAction<T>, s?: T) {
      onRun();
      work.call(this, s);
    }, delay, state);
    action.add(() => live.delete(token));
    return action;
  }

  /** How many actions are live now: scheduled, and neither run nor unsubscribed. */
  get live(): number {
    return this.#live.size;
  }

  /** The due times (inner now() + delay at schedule time) of the live actions, ascending. */
  get liveDueTimes(): number[] {
    return [...this.#live.values()].sort((a, b) => a - b);
  }

  /** How many times schedule() was called. */
  get scheduled(): number {
    return this.#scheduled;
  }

  /** How many actions ran (each counted once, even if it rescheduled itself and ran again). */
  get executed(): number {
    return this.#executed;
  }

  /** The most actions that were live at once. */
  get maxLive(): number {
    return this.#maxLive;
  }
}
