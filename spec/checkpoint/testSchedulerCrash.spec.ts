import { asyncScheduler, map, merge, NEVER, timer } from 'rxjs';
import {
  asyncWaitOrdered, asyncWaitUnordered, checkpointable, keyedTimers, MemoryCheckpointStore, type ReplayableSource,
} from 'rxjs-sluice';
import { newScheduler } from '../support/marbles';

/**
 * Crashing a pipeline (an unsubscribe) inside TestScheduler.run, in the same frame as other timers of the
 * pipeline. rxjs 7.8's run mode throws "Expected a due immediate or interval" when a self-rescheduling timer (its
 * setInterval recycled) runs out of turn and a handler then cancels a timer due in that frame; the checkpoint
 * interval used to be such a timer. Each tick is now a timer of its own, so every crash frame works.
 */

/** `count` records, the i-th at 7 * (i + 1) ms, each on a timer of its own (so the source adds no recycled timer). */
function spacedSource(count: number): ReplayableSource<number, number> {
  return {
    open: (position = 0) => merge(
      ...Array.from({ length: Math.max(0, count - position) }, (_, i) =>
        timer(7 * (i + 1)).pipe(map(() => ({ value: position + i, position: position + i + 1 })))),
      NEVER,
    ),
  };
}

/** What `act` throws, as text; null when it returns. */
function thrownBy(act: () => void): string | null {
  try {
    act();
    return null;
  } catch (err) {
    return String(err);
  }
}

describe('a crash under TestScheduler.run in the same frame as the pipeline\'s timers', () => {
  it('the reported case: unordered asyncWait, capacity 1, calls of 7 ms, every 7 ms, crash at 14', () => {
    // Arrange
    const scheduler = newScheduler();
    let crashed = false;
    // Act
    const act = (): void => scheduler.run(() => {
      const job = checkpointable({ source: spacedSource(3), store: new MemoryCheckpointStore(), every: { interval: 7 } });
      const subscription = job.pipe(asyncWaitUnordered((x: number) => timer(7).pipe(map(() => x)), { id: 'a', capacity: 1 })).subscribe();
      asyncScheduler.schedule(() => {
        subscription.unsubscribe();
        crashed = true;
      }, 14);
    });
    // Assert
    expect(act).not.toThrow();
    expect(crashed).toBe(true);
  });

  it.each([
    ['asyncWaitUnordered', () => asyncWaitUnordered((x: number) => timer(7).pipe(map(() => x)), { id: 'a', capacity: 1, timeout: 14, onTimeout: () => [] })],
    ['asyncWaitOrdered', () => asyncWaitOrdered((x: number) => timer(7 * (x % 3)).pipe(map(() => x)), { id: 'a', capacity: 2, timeout: 7, onTimeout: () => [] })],
    ['keyedTimers', () => keyedTimers<number, number, string, number>({
      key: () => 'k',
      processElement: (x, ctx) => ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 7 * (x + 1)),
      onTimer: (t, ctx) => ctx.emit(t),
    }, { id: 'k' })],
  ] as const)('%s: a crash at any frame from 1 to 42, with checkpoints every 7 or 14 ms, never throws', (_name, operator) => {
    for (const every of [7, 14]) {
      for (let crashAt = 1; crashAt <= 42; crashAt++) {
        // Arrange
        const scheduler = newScheduler();
        let crashed = false;
        // Act
        const act = (): void => scheduler.run(() => {
          const job = checkpointable({ source: spacedSource(5), store: new MemoryCheckpointStore(), every: { interval: every } });
          const subscription = job.pipe(operator() as never).subscribe({ error: () => undefined });
          asyncScheduler.schedule(() => {
            subscription.unsubscribe();
            crashed = true;
          }, crashAt);
        });
        // Assert
        expect({ every, crashAt, threw: thrownBy(act) }).toEqual({ every, crashAt, threw: null });
        expect(crashed).toBe(true);
      }
    }
  });
});
