import { NEVER, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { AsyncTimeoutError, asyncWaitOrdered, keyedTimers, record, type StreamElement } from 'rxjs-sluice';
import { newScheduler } from '../support/marbles';

/**
 * Deadlines beyond setInterval's limit (2^31 − 1 ms, about 24.8 days). asyncScheduler hands delays to
 * setInterval, and Node turns a longer one into 1 ms, so an operator must never ask for more: it arms at the
 * limit and re-arms until the deadline. Checked in virtual time, with a scheduler that records every delay.
 */
const LIMIT = 2 ** 31 - 1;
const THIRTY_DAYS = 30 * 24 * 3600 * 1000;

/** Delegates to `inner` and records the delay of every schedule() call. */
function recordingDelays(inner: SchedulerLike, delays: number[]): SchedulerLike {
  return {
    now: () => inner.now(),
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
      delays.push(delay);
      return inner.schedule(work, delay, state);
    },
  };
}

describe('deadlines beyond setInterval\'s limit', () => {
  it('asyncWait: a 30-day timeout fires after 30 days, never asking the scheduler for more than the limit', () => {
    // Arrange
    const scheduler: TestScheduler = newScheduler();
    const delays: number[] = [];
    const errors: Array<{ at: number; error: unknown }> = [];

    // Act
    scheduler.run(({ cold }) => {
      cold<StreamElement<number>>('a', { a: record(1) })
        .pipe(asyncWaitOrdered(() => NEVER, { timeout: THIRTY_DAYS, scheduler: recordingDelays(scheduler, delays) }))
        .subscribe({ error: (error: unknown) => errors.push({ at: scheduler.now(), error }) });
    });

    // Assert
    expect(errors).toHaveLength(1);
    expect(errors[0]!.at).toBe(THIRTY_DAYS);
    expect(errors[0]!.error).toBeInstanceOf(AsyncTimeoutError);
    expect(Math.max(...delays)).toBe(LIMIT);
    expect(delays.length).toBeGreaterThan(1); // armed at the limit, then re-armed
  });

  it('keyedTimers: a processing-time timer 30 days out fires after 30 days, never asking for more than the limit', () => {
    // Arrange
    const scheduler: TestScheduler = newScheduler();
    const delays: number[] = [];
    const fired: Array<{ at: number; value: unknown }> = [];

    // Act
    scheduler.run(({ cold }) => {
      cold<StreamElement<string>>('a', { a: record('k') })
        .pipe(keyedTimers<string, string, string>({
          key: (k) => k,
          processElement: (_k, ctx) => ctx.timerService.registerProcessingTimeTimer(THIRTY_DAYS),
          onTimer: (t, ctx) => ctx.emit(`${ctx.key}@${t}`),
        }, { scheduler: recordingDelays(scheduler, delays) }))
        .subscribe((element) => fired.push({ at: scheduler.now(), value: element }));
    });

    // Assert
    expect(fired).toEqual([{ at: THIRTY_DAYS, value: record(`k@${THIRTY_DAYS}`) }]);
    expect(Math.max(...delays)).toBe(LIMIT);
    expect(delays.length).toBeGreaterThan(1);
  });
});
