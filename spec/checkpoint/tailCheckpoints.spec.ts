import { asyncScheduler, delay, map, timer, type Observable } from 'rxjs';
import {
  arraySource, asyncWaitOrdered, checkpointable, keyedTimers, MemoryCheckpointStore, readLatestCheckpoint,
  type CheckpointedOutput, type KeyedProcessFunction,
} from 'rxjs-sluice';
import { start } from '../support/checkpoints';
import { newScheduler } from '../support/marbles';

/**
 * Interval checkpoints after the source has completed: while an asyncWait flushes its calls or a keyedTimers
 * waits for its processing-time timers ('wait'), the interval trigger keeps firing until the pipeline completes.
 * Each tick hands a barrier to the operator still draining, so the tail is not one final epoch: outputs are
 * released as it goes (under 'exactly-once'), and a crash in the tail resumes from the last tick's checkpoint.
 * Virtual time throughout (TestScheduler.run).
 */

/** Each output as [virtual time of its emission, value]. */
function timed<O>(outputs: readonly CheckpointedOutput<O>[], times: readonly number[]): Array<[number, O]> {
  return outputs.map((o, i) => [times[i]!, o.element.value as O]);
}

/** A call that answers after 100 ms of virtual time with the input upper-cased; `calls` logs each input. */
const slowUpper = (calls: string[]) => (x: string) => {
  calls.push(x);
  return timer(100).pipe(map(() => x.toUpperCase()));
};

describe('interval checkpoints after the source has completed', () => {
  /** Subscribes, recording the virtual time of each output. */
  function startTimed<O>(output: Observable<CheckpointedOutput<O>>) {
    const times: number[] = [];
    const run = start(output.pipe(map((o) => (times.push(asyncScheduler.now()), o))));
    return { run, times };
  }

  it('an asyncWait flushing slow calls: each result is released at the tick after it, not all at the end', () => {
    newScheduler().run(({ flush }) => {
      // Arrange: the source completes at once; the calls run one at a time (capacity 1), 100 ms each.
      const job = checkpointable({ source: arraySource(['a', 'b', 'c']), every: { interval: 30 } });
      // Act
      const { run, times } = startTimed(job.pipe(asyncWaitOrdered(slowUpper([]), { id: 'slow', capacity: 1 })));
      flush();
      // Assert: A and B at the ticks after their results (120, 210); C with the final checkpoint at 300. Before,
      // all three waited for the end.
      expect(timed(run.outputs, times)).toEqual([[120, 'A'], [210, 'B'], [300, 'C']]);
      expect(run.completed).toBe(true);
    });
  });

  it("a keyedTimers waiting for its processing-time timers ('wait'): each timer's output is released at the tick after it", () => {
    newScheduler().run(({ flush }) => {
      // Arrange: one record sets timers at +50 and +500; the source completes at once.
      const fn: KeyedProcessFunction<string, string, string, number> = {
        key: () => 'k',
        processElement: (_x, ctx) => {
          ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 50);
          ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 500);
        },
        onTimer: (time, ctx) => ctx.emit(`fired at ${time}`),
      };
      const job = checkpointable({ source: arraySource(['x']), every: { interval: 20 } });
      // Act
      const { run, times } = startTimed(job.pipe(keyedTimers(fn, { id: 'timers', processingTimersOnComplete: 'wait' })));
      flush();
      // Assert
      expect(timed(run.outputs, times)).toEqual([[60, 'fired at 50'], [500, 'fired at 500']]);
      expect(run.completed).toBe(true);
    });
  });

  it('a crash in the tail resumes from the last tick: only the calls not yet done are made again', () => {
    const store = new MemoryCheckpointStore();
    const calls: string[] = [];
    const job = checkpointable({ source: arraySource(['a', 'b', 'c']), store, every: { interval: 10 } });
    newScheduler().run(({ flush }) => {
      // Arrange: crash at 150, when A is out and B's call is half done.
      const { run } = startTimed(job.pipe(asyncWaitOrdered(slowUpper(calls), { id: 'slow', capacity: 1 })));
      asyncScheduler.schedule(() => run.subscription.unsubscribe(), 150);
      flush();
      expect(run.outputs.map((o) => o.element.value)).toEqual(['A']);
    });
    const beforeRestart = calls.length;
    newScheduler().run(({ flush }) => {
      // Act
      const { run } = startTimed(job.pipe(asyncWaitOrdered(slowUpper(calls), { id: 'slow', capacity: 1 })));
      flush();
      // Assert: A again (checkpoint 2's epoch, same stamp), then B and C from their held inputs.
      expect(run.outputs.map((o) => o.element.value)).toEqual(['A', 'B', 'C']);
      expect(run.completed).toBe(true);
    });
    expect(calls.slice(0, beforeRestart)).toEqual(['a', 'b']);
    expect(calls.slice(beforeRestart)).toEqual(['b', 'c']);
  });

  it('the tail checkpoint records the end position; the operators upstream of the draining one are spent (null)', async () => {
    // Arrange: keyedTimers (upstream, done at once) then a slow asyncWait.
    const store = new MemoryCheckpointStore({ retain: 100 });
    const count: KeyedProcessFunction<string, string, string, number> = {
      key: (x) => x,
      processElement: (x, ctx) => ctx.emit(x),
    };
    newScheduler().run(({ flush }) => {
      const job = checkpointable({ source: arraySource(['a', 'b']), store, every: { interval: 10 } });
      // Act
      // Capacity 2: both records fit, so the (flow-controlled) source reads to its end and completes at once.
      start(job.pipe(keyedTimers(count, { id: 'keys' }), asyncWaitOrdered(slowUpper([]), { id: 'slow', capacity: 2 })));
      flush();
    });
    // Assert: checkpoint 1 (tick 10) holds a and b as the asyncWait's inputs in flight; keyedTimers is spent.
    const first = JSON.parse(store.read(1)) as { body: { position: string; operators: Array<{ id: string; state: string }> } };
    expect(first.body.position).toBe('2');
    expect(first.body.operators.map((o) => [o.id, JSON.parse(o.state)])).toEqual([
      ['keys', null],
      ['slow', [{ kind: 'record', value: 'a' }, { kind: 'record', value: 'b' }]],
    ]);
    expect((await readLatestCheckpoint(store))?.final).toBe(true);
  });

  it('a user operator still delaying the end (not a sluice operator): ticks cannot take a checkpoint, the final one commits', () => {
    newScheduler().run(({ flush }) => {
      // Arrange
      const job = checkpointable({ source: arraySource(['a']), every: { interval: 10 } });
      // Act
      const { run, times } = startTimed(job.pipe(delay(100)));
      flush();
      // Assert
      expect(timed(run.outputs, times)).toEqual([[100, 'a']]);
      expect(run.completed).toBe(true);
    });
  });
});
