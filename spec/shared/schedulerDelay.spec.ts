import { NEVER, take, throwError, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  AsyncTimeoutError, asyncWaitOrdered, asyncWaitUnordered, keyedTimers, record, watermark, withWatermarks,
  type AsyncCallContext, type RetryDelay, type StreamElement,
} from 'rxjs-sluice';
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

/**
 * Delegates to `inner` and records every delay, but runs a delay beyond the limit after 1 ms, as Node's
 * setTimeout and setInterval (under asyncScheduler) do: an operator that asks for more misfires at once.
 */
function nodeLike(inner: SchedulerLike, delays: number[]): SchedulerLike {
  return {
    now: () => inner.now(),
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
      delays.push(delay);
      if (delays.length > 10_000) throw new Error('runaway timer: over 10,000 actions scheduled');
      return inner.schedule(work, delay > LIMIT ? 1 : delay, state);
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

describe('retry delays beyond setInterval\'s limit', () => {
  const DELAYS: ReadonlyArray<readonly [string, RetryDelay<number>]> = [
    ['a fixed delay', THIRTY_DAYS],
    ['an exponential backoff', { initial: THIRTY_DAYS, multiplier: 2, max: 2 * THIRTY_DAYS }],
    ['a delay function', () => THIRTY_DAYS],
  ];

  describe.each([['asyncWaitOrdered', asyncWaitOrdered], ['asyncWaitUnordered', asyncWaitUnordered]] as const)('%s', (_name, operator) => {
    it.each(DELAYS)('%s of 30 days retries after 30 days, not at once (no retry storm)', (_kind, delay) => {
      // Arrange: the first call fails, the retry succeeds.
      const scheduler: TestScheduler = newScheduler();
      const delays: number[] = [];
      const calls: number[] = [];
      const outputs: Array<{ at: number; value: unknown }> = [];
      const fn = (x: number, ctx: AsyncCallContext) => {
        calls.push(scheduler.now());
        return ctx.attempt === 1 ? throwError(() => new Error('down')) : [x * 10];
      };

      // Act
      scheduler.run(({ cold }) => {
        cold<StreamElement<number>>('a', { a: record(1) })
          .pipe(operator(fn, { retry: { maxRetries: 3, delay }, scheduler: nodeLike(scheduler, delays) }))
          .subscribe((value) => outputs.push({ at: scheduler.now(), value }));
      });

      // Assert
      expect(calls).toEqual([0, THIRTY_DAYS]);
      expect(outputs).toEqual([{ at: THIRTY_DAYS, value: record(10) }]);
      expect(Math.max(...delays)).toBeLessThanOrEqual(LIMIT);
    });
  });

  it('runs a 30-day retry inside a 60-day timeout, and the timeout still settles a retry that hangs', () => {
    // Arrange: the first call fails at once, the retry (due at 30 days) hangs; a 60-day budget with a fallback.
    const scheduler: TestScheduler = newScheduler();
    const delays: number[] = [];
    const calls: number[] = [];
    const outputs: Array<{ at: number; value: unknown }> = [];

    // Act
    scheduler.run(({ cold }) => {
      cold<StreamElement<number>>('a', { a: record(1) })
        .pipe(asyncWaitOrdered((_x: number, ctx: AsyncCallContext) => {
          calls.push(scheduler.now());
          return ctx.attempt === 1 ? throwError(() => new Error('down')) : NEVER;
        }, {
          timeout: 2 * THIRTY_DAYS, onTimeout: () => ['timed out'], retry: { maxRetries: 1, delay: THIRTY_DAYS },
          scheduler: nodeLike(scheduler, delays),
        }))
        .subscribe((value) => outputs.push({ at: scheduler.now(), value }));
    });

    // Assert
    expect(calls).toEqual([0, THIRTY_DAYS]);
    expect(outputs).toEqual([{ at: 2 * THIRTY_DAYS, value: record('timed out') }]);
    expect(Math.max(...delays)).toBeLessThanOrEqual(LIMIT);
  });

  it('cancels a 30-day retry on unsubscribe, after it has re-armed at the limit', () => {
    // Arrange
    const scheduler: TestScheduler = newScheduler();
    const delays: number[] = [];
    const calls: number[] = [];

    // Act: unsubscribe a day after the first wake-up at the limit.
    scheduler.run(({ cold, expectObservable }) => {
      const out = cold<StreamElement<number>>('a', { a: record(1) }).pipe(asyncWaitOrdered(() => {
        calls.push(scheduler.now());
        return throwError(() => new Error('down'));
      }, { retry: { maxRetries: 1, delay: THIRTY_DAYS }, scheduler: nodeLike(scheduler, delays) }));
      expectObservable(out, `^ ${LIMIT + 86_400_000}ms !`).toBe('');
    });

    // Assert: the retry never ran, and it had been re-armed (more than one leg asked for).
    expect(calls).toEqual([0]);
    expect(delays.filter((d) => d > 0).length).toBeGreaterThan(1);
    expect(scheduler.actions).toHaveLength(0);
  });
});

describe('withWatermarks: an interval beyond setInterval\'s limit', () => {
  it('emits the watermark after 30 days, not every millisecond', () => {
    // Arrange: one record at 0 with timestamp 100, an interval of 30 days.
    const scheduler: TestScheduler = newScheduler();
    const delays: number[] = [];
    const outputs: Array<{ at: number; value: unknown }> = [];

    // Act: the source stays open for 70 days.
    scheduler.run(({ cold }) => {
      cold<number>(`a ${7 * 10 * 86_400_000}ms |`, { a: 100 })
        .pipe(withWatermarks({ timestampOf: (v: number) => v, maxOutOfOrderness: 0, interval: THIRTY_DAYS, scheduler: nodeLike(scheduler, delays) }))
        .subscribe((value) => outputs.push({ at: scheduler.now(), value }));
    });

    // Assert: one watermark, on the grid's first tick; no tick runs again, since nothing advanced.
    expect(outputs.slice(0, 2)).toEqual([{ at: 0, value: record(100, 100) }, { at: THIRTY_DAYS, value: watermark(99) }]);
    expect(outputs).toHaveLength(2);
    expect(Math.max(...delays)).toBeLessThanOrEqual(LIMIT);
  });

  it('keeps an idle source\'s watermark moving on a 30-day grid', () => {
    // Arrange: one record at 0, then silence; idle after 1 day, interval 30 days.
    const scheduler: TestScheduler = newScheduler();
    const delays: number[] = [];
    const outputs: Array<{ at: number; value: unknown }> = [];

    // Act: the idle watermark advances forever, so the output is cut after three watermarks.
    scheduler.run(({ cold }) => {
      cold<number>('a', { a: 0 })
        .pipe(
          withWatermarks({
            timestampOf: (v: number) => v, maxOutOfOrderness: 0, interval: THIRTY_DAYS, idleTimeout: 86_400_000,
            scheduler: nodeLike(scheduler, delays),
          }),
          take(4),
        )
        .subscribe((value) => outputs.push({ at: scheduler.now(), value }));
    });

    // Assert: the idle watermark follows the clock, one tick each 30 days.
    expect(outputs).toEqual([
      { at: 0, value: record(0, 0) },
      { at: THIRTY_DAYS, value: watermark(THIRTY_DAYS - 1) },
      { at: 2 * THIRTY_DAYS, value: watermark(2 * THIRTY_DAYS - 1) },
      { at: 3 * THIRTY_DAYS, value: watermark(3 * THIRTY_DAYS - 1) },
    ]);
    expect(Math.max(...delays)).toBeLessThanOrEqual(LIMIT);
  });
});
