import { concat, NEVER, timer, map, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { checkpointable, MemoryCheckpointStore, type ReplayableSource, type SourceItem } from 'rxjs-sluice';
import { start } from '../support/checkpoints';
import { newScheduler } from '../support/marbles';

/**
 * A checkpoint interval beyond setInterval's limit (2^31 − 1 ms, about 24.8 days) is honoured: the tick arms at
 * the limit and re-arms until it is due, instead of handing the scheduler a delay that Node turns into 1 ms.
 * Virtual time, with a scheduler that behaves as Node's timers do beyond the limit.
 */

const LIMIT = 2 ** 31 - 1;
const DAY = 24 * 3600 * 1000;

/** Delegates to `inner`, records every delay, and runs a delay beyond the limit after 1 ms, as Node's timers do. */
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

/** A source with one record at 0 and one at 35 days (virtual time, default scheduler), then silent. */
const twoRecords: ReplayableSource<string, number> = {
  open: (position = 0) =>
    concat(
      ...[[0, 'a'], [35 * DAY, 'b']].slice(position).map(([at, value], i) =>
        timer(at as number).pipe(map((): SourceItem<string, number> => ({ value: value as string, position: position + i + 1 })))),
      NEVER,
    ),
};

describe('a checkpoint interval beyond 2^31 − 1 ms', () => {
  it('a 30-day interval checkpoints at 30 and 60 days, never asking the scheduler for more than the limit', () => {
    // Arrange
    const scheduler: TestScheduler = newScheduler();
    const delays: number[] = [];
    const writes: number[] = [];
    const store = new MemoryCheckpointStore();
    const write = store.write.bind(store);
    store.write = (id, text) => {
      writes.push(scheduler.now());
      write(id, text);
    };
    // Act
    scheduler.run(() => {
      const run = start(checkpointable({ source: twoRecords, store, every: { interval: 30 * DAY }, scheduler: nodeLike(scheduler, delays) }).pipe());
      scheduler.schedule(() => run.subscription.unsubscribe(), 70 * DAY);
    });
    // Assert
    expect(writes).toEqual([30 * DAY, 60 * DAY]);
    expect(Math.max(...delays)).toBeLessThanOrEqual(LIMIT);
  });

  it('an interval within the limit keeps its fixed grid, asking for exactly the interval each time', () => {
    // Arrange
    const scheduler: TestScheduler = newScheduler();
    const delays: number[] = [];
    const writes: number[] = [];
    const store = new MemoryCheckpointStore();
    const write = store.write.bind(store);
    store.write = (id, text) => {
      writes.push(scheduler.now());
      write(id, text);
    };
    // Act
    scheduler.run(() => {
      const run = start(checkpointable({ source: twoRecords, store, every: { interval: 20 * DAY }, scheduler: nodeLike(scheduler, delays) }).pipe());
      scheduler.schedule(() => run.subscription.unsubscribe(), 70 * DAY);
    });
    // Assert: ticks at 20, 40, 60 days; a barrier at 20 (a) and 40 (b).
    expect(writes).toEqual([20 * DAY, 40 * DAY]);
    expect(new Set(delays)).toEqual(new Set([20 * DAY]));
  });
});
