import { TestScheduler } from 'rxjs/testing';
import { filter } from 'rxjs';
import {
  isRecord, keyedTimers, keyedTimersMetrics, record, watermark, withWatermarks,
  type KeyedProcessFunction, type StreamElement,
} from 'rxjs-sluice';

/**
 * keyedTimers in marble diagrams: the three timer recipes of the design notes (seed 004), which
 * docs/keyed-timers.md shows. In the event-time examples, event time lives in the records' timestamps and the
 * watermarks, so frames only give the order; in the processing-time example frames are the scheduler's clock.
 */

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

const MINUTE = 60_000;
/** The start of the one-minute window that holds `t` (Flink's TimeWindow.getWindowStartWithOffset, offset 0). */
const windowStart = (t: number): number => t - (((t % MINUTE) + MINUTE) % MINUTE);

/** A reading: which sensor, and how much. */
interface Reading {
  sensor: string;
  n: number;
}

describe('keyedTimers recipes', () => {
  // 1. Tumbling one-minute sum per key. The first reading of a key in a window registers an event-time timer at
  //    the window's end; the timer emits the sum and clears the state, so the next reading starts a new window.
  //
  //   input    abcWVd-----|      a = a@1s (1), b = b@2s (5), c = a@30s (2), W = watermark 59.999s,
  //                                V = watermark 60s, d = a@61s (4)
  //   output   ---W(xyV)-(z|)     at V: a's window [0, 60s) sums 3, b's sums 5 (ties fire in registration
  //                                order) and only then V; at completion a's second window sums 4
  it('tumbling one-minute sum per key', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange
      const tumblingSum: KeyedProcessFunction<Reading, string, string, number> = {
        key: (r) => r.sensor,
        processElement: (r, ctx) => {
          const sum = ctx.state.value();
          if (sum === undefined) ctx.timerService.registerEventTimeTimer(windowStart(ctx.timestamp!) + MINUTE);
          ctx.state.update((sum ?? 0) + r.n);
        },
        onTimer: (_end, ctx) => {
          ctx.emit(`${ctx.key}=${ctx.state.value()}`);
          ctx.state.clear();
        },
      };
      const input = cold<StreamElement<Reading>>('abcWVd-----|', {
        a: record({ sensor: 'a', n: 1 }, 1_000),
        b: record({ sensor: 'b', n: 5 }, 2_000),
        c: record({ sensor: 'a', n: 2 }, 30_000),
        W: watermark(MINUTE - 1),
        V: watermark(MINUTE),
        d: record({ sensor: 'a', n: 4 }, 61_000),
      });

      // Act
      const output = input.pipe(keyedTimers(tumblingSum));

      // Assert: a timer's output carries the timer's timestamp (the window end)
      expectObservable(output).toBe('---W(xyV)--(z|)', {
        W: watermark(MINUTE - 1),
        x: record('a=3', MINUTE),
        y: record('b=5', MINUTE),
        V: watermark(MINUTE),
        z: record('a=4', 2 * MINUTE),
      });
    });
  });

  // 1b. The seed's recipe keeps one sum per key, so a reading of the next window that arrives before the watermark
  //     closes the current one (d = a@61s before V = 60s) would join the current sum. Keeping a sum per window end,
  //     with one timer per window end, is exact under any out-of-orderness the watermark allows.
  //
  //   input    abcWdV-----|      as above, but d arrives before V
  //   output   ---W-(xyV)-(z|)   a's first window still sums 3; d is counted in a's second window
  it('tumbling one-minute sum per key, exact when the next window starts before the watermark', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange
      const tumblingSum: KeyedProcessFunction<Reading, string, string, Record<number, number>> = {
        key: (r) => r.sensor,
        processElement: (r, ctx) => {
          const end = windowStart(ctx.timestamp!) + MINUTE;
          const sums = ctx.state.value() ?? {};
          ctx.timerService.registerEventTimeTimer(end); // idempotent: one timer per (key, window end)
          ctx.state.update({ ...sums, [end]: (sums[end] ?? 0) + r.n });
        },
        onTimer: (end, ctx) => {
          const { [end]: sum, ...rest } = ctx.state.value()!;
          ctx.emit(`${ctx.key}=${sum}`);
          if (Object.keys(rest).length === 0) ctx.state.clear();
          else ctx.state.update(rest);
        },
      };
      const input = cold<StreamElement<Reading>>('abcWdV-----|', {
        a: record({ sensor: 'a', n: 1 }, 1_000),
        b: record({ sensor: 'b', n: 5 }, 2_000),
        c: record({ sensor: 'a', n: 2 }, 30_000),
        W: watermark(MINUTE - 1),
        d: record({ sensor: 'a', n: 4 }, 61_000),
        V: watermark(MINUTE),
      });

      // Act
      const output = input.pipe(keyedTimers(tumblingSum));

      // Assert
      expectObservable(output).toBe('---W-(xyV)-(z|)', {
        W: watermark(MINUTE - 1),
        x: record('a=3', MINUTE),
        y: record('b=5', MINUTE),
        V: watermark(MINUTE),
        z: record('a=4', 2 * MINUTE),
      });
    });
  });

  // 2. Emit every minute even without input: onTimer resets the sum to 0 and re-registers itself a minute later,
  //    so a key that went quiet still reports 0. At end of input the watermark is +Infinity, so the timer must
  //    stop re-arming then, or it would fire forever (as it would in Flink at MAX_WATERMARK).
  //
  //   input    ab--W----V----X----|    a = a@1s (1), b = b@2s (5), W = watermark 60s, V = 120s, X = 180s
  //   output   ----(xyW)(pqV)(rsX)(tu|)
  it('periodic per-key sum, emitted every minute even without input', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange
      const everyMinute: KeyedProcessFunction<Reading, string, string, number> = {
        key: (r) => r.sensor,
        processElement: (r, ctx) => {
          const sum = ctx.state.value();
          if (sum === undefined) ctx.timerService.registerEventTimeTimer(windowStart(ctx.timestamp!) + MINUTE);
          ctx.state.update((sum ?? 0) + r.n);
        },
        onTimer: (end, ctx) => {
          ctx.emit(`${ctx.key}=${ctx.state.value()}`);
          ctx.state.update(0);
          if (ctx.timerService.currentWatermark() !== Infinity) ctx.timerService.registerEventTimeTimer(end + MINUTE);
        },
      };
      const input = cold<StreamElement<Reading>>('ab--W----V----X----|', {
        a: record({ sensor: 'a', n: 1 }, 1_000),
        b: record({ sensor: 'b', n: 5 }, 2_000),
        W: watermark(MINUTE),
        V: watermark(2 * MINUTE),
        X: watermark(3 * MINUTE),
      });

      // Act
      const output = input.pipe(keyedTimers(everyMinute));

      // Assert: at completion the pending 4-minute timers fire once (watermark +Infinity) and do not re-arm
      expectObservable(output).toBe('----(xyW)(pqV)(rsX)(tu|)', {
        x: record('a=1', MINUTE),
        y: record('b=5', MINUTE),
        W: watermark(MINUTE),
        p: record('a=0', 2 * MINUTE),
        q: record('b=0', 2 * MINUTE),
        V: watermark(2 * MINUTE),
        r: record('a=0', 3 * MINUTE),
        s: record('b=0', 3 * MINUTE),
        X: watermark(3 * MINUTE),
        t: record('a=0', 4 * MINUTE),
        u: record('b=0', 4 * MINUTE),
      });
    });
  });

  // 3. Heartbeat alert in processing time: every input re-arms its key's timer 60 s ahead (deleting the old one,
  //    whose time the state remembers); a key silent for 60 s emits `Heartbeat timeout:<key>`.
  //    processingTimersOnComplete: 'wait' keeps the timers alive after the input completes at 40 s.
  //
  //   time     0      10s    30s   40s        70s                      90s
  //   input    a      b      a     |
  //   output   a      b      a                Heartbeat timeout:b      Heartbeat timeout:a, complete
  it('heartbeat alert: no input for a key within 60 s', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange
      const heartbeat: KeyedProcessFunction<string, string, string, number> = {
        key: (sensor) => sensor,
        processElement: (sensor, ctx) => {
          const previous = ctx.state.value();
          if (previous !== undefined) ctx.timerService.deleteProcessingTimeTimer(previous);
          const deadline = ctx.timerService.currentProcessingTime() + 60_000;
          ctx.timerService.registerProcessingTimeTimer(deadline);
          ctx.state.update(deadline);
          ctx.emit(sensor);
        },
        onTimer: (_deadline, ctx) => {
          ctx.emit(`Heartbeat timeout:${ctx.key}`);
          ctx.state.clear();
        },
      };
      const metrics = keyedTimersMetrics();
      const input = cold<StreamElement<string>>('a 9999ms b 19999ms a 9999ms |', {
        a: record('a'),
        b: record('b'),
      });

      // Act
      const output = input.pipe(keyedTimers(heartbeat, { processingTimersOnComplete: 'wait', metrics }));

      // Assert: processing-time outputs carry no timestamp
      expectObservable(output).toBe('a 9999ms b 19999ms a 39999ms x 19999ms (y|)', {
        a: record('a'),
        b: record('b'),
        x: record('Heartbeat timeout:b'),
        y: record('Heartbeat timeout:a'),
      });
      // Metrics are read once the run has flushed.
      return () => expect(metrics.snapshot()).toMatchObject({ processingTimersFired: 2, processingTimersDropped: 0 });
    });
  });

  // The same heartbeat, but in event time behind withWatermarks with an idle timeout: when the whole source goes
  // quiet, event time keeps following the clock, so the alert still fires.
  //
  //   input      a@0 at 0 s, then silence until completion at 200 s
  //   watermarks on ticks every 10 s; after 20 s of silence event time runs on with the clock, so the tick at
  //              70 s emits 0 + 70 000 − 0 − 1 = 69 999, which fires the 60 s timer
  //   alerts     'Heartbeat timeout:a' at 70 s (stamped 60 s), completion at 200 s
  it('event-time heartbeat on a quiet source, with withWatermarks idleTimeout', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange
      const heartbeat: KeyedProcessFunction<{ sensor: string; at: number }, string, string> = {
        key: (e) => e.sensor,
        processElement: (e, ctx) => ctx.timerService.registerEventTimeTimer(e.at + 60_000),
        onTimer: (_t, ctx) => ctx.emit(`Heartbeat timeout:${ctx.key}`),
      };
      const input = cold('a 199999ms |', { a: { sensor: 'a', at: 0 } });

      // Act
      const alerts = input.pipe(
        withWatermarks({ timestampOf: (e) => e.at, maxOutOfOrderness: 0, interval: 10_000, idleTimeout: 20_000 }),
        keyedTimers(heartbeat),
        filter(isRecord),
      );

      // Assert
      expectObservable(alerts).toBe('70000ms a 129999ms |', { a: record('Heartbeat timeout:a', 60_000) });
    });
  });
});
