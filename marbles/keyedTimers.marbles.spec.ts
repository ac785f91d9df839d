import fc from 'fast-check';
import { TestScheduler } from 'rxjs/testing';
import { filter } from 'rxjs';
import {
  isRecord, keyedTimers, keyedTimersMetrics, outputTag, record, sideOutput, watermark, withWatermarks, type StreamElement,
} from 'rxjs-sluice';
import { collect, stream } from '../spec/support/marbles';

/**
 * keyedTimers in marble diagrams: the timer recipes that docs/keyed-timers.md shows, copied here verbatim (keep
 * the two in step). In the event-time examples, event time lives in the records' timestamps and the watermarks,
 * so frames only give the order; in the processing-time example frames are the scheduler's clock.
 */

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

// ---- the recipes, as docs/keyed-timers.md shows them ----------------------------------------------------------

interface Reading { sensor: string; n: number }
const MINUTE = 60_000;
const windowEnd = (t: number) => t - (((t % MINUTE) + MINUTE) % MINUTE) + MINUTE;
const late = outputTag<Reading>('late');

const tumblingSums = keyedTimers(
  {
    key: (r: Reading) => r.sensor,
    initialState: (): Record<number, number> => ({}), // window end -> sum, for the key's open windows
    processElement: (r, ctx) => {
      const end = windowEnd(ctx.timestamp);
      if (end <= ctx.timerService.currentWatermark()) return ctx.output(late, r); // its window has closed
      const sums = ctx.state.value(); // the stored object: changed in place
      sums[end] = (sums[end] ?? 0) + r.n;
      ctx.timerService.registerEventTimeTimer(end); // one timer per (key, window end): registering is idempotent
    },
    onTimer: (end, ctx) => {
      const sums = ctx.state.value();
      const sum = sums[end];
      delete sums[end];
      if (Object.keys(sums).length === 0) ctx.state.clear();
      return [`${ctx.key} [${end - MINUTE}, ${end}) = ${sum}`]; // stamped with the window end
    },
  },
  { requireTimestamps: true }, // event time: every reading has a timestamp, so ctx.timestamp is a number
);

const everyMinute = keyedTimers(
  {
    key: (r: Reading) => r.sensor,
    initialState: (): number | undefined => undefined, // an optional state: undefined until the timer is armed
    processElement: (r, ctx) => {
      const sum = ctx.state.value();
      if (sum === undefined) ctx.timerService.registerEventTimeTimer(windowEnd(ctx.timestamp));
      ctx.state.update((sum ?? 0) + r.n);
    },
    onTimer: (end, ctx) => {
      const sum = ctx.state.value();
      ctx.state.update(0);
      // At end of input the watermark is +Infinity: a timer that always re-arms would fire forever.
      if (ctx.timerService.currentWatermark() !== Infinity) ctx.timerService.registerEventTimeTimer(end + MINUTE);
      return [`${ctx.key}=${sum}`];
    },
  },
  { requireTimestamps: true },
);

/** The heartbeat recipe; the metrics option is the test's addition. */
const heartbeat = (metrics = keyedTimersMetrics()) => keyedTimers(
  {
    key: (sensor: string) => sensor,
    initialState: (): number | undefined => undefined, // the deadline of the key's pending timer
    processElement: (sensor, ctx) => {
      const previous = ctx.state.value(); // Flink has no "list my timers": remember the time yourself
      if (previous !== undefined) ctx.timerService.deleteProcessingTimeTimer(previous);
      const deadline = ctx.timerService.currentProcessingTime() + 60_000;
      ctx.timerService.registerProcessingTimeTimer(deadline);
      ctx.state.update(deadline);
      return [sensor];
    },
    onTimer: (_deadline, ctx) => {
      ctx.state.clear();
      return [`Heartbeat timeout:${ctx.key}`]; // processing-time output: no timestamp
    },
  },
  { processingTimersOnComplete: 'wait', metrics }, // the default, 'drop', would lose the alerts when the input ends
);

describe('keyedTimers recipes', () => {
  // 1. Tumbling one-minute sums per key, one sum and one timer per window. The watermark lags: readings of the
  //    second minute (d, e) arrive before it closes the first, and one of the first minute (c) arrives after
  //    them. Each window still gets exactly its own readings; a reading whose window has closed (L) goes to the
  //    side output.
  //
  //   input    adceWV---L---(X|)     a = a@1s (1), d = a@61s (4), c = a@30s (2), e = b@62s (5),
  //                                  W = watermark 59.999s, V = watermark 60s, L = a@10s (late), X = watermark 120s
  //   output   ----W(xV)L---(yzX|)   x = a's [0, 60s) = 3 at 60s; y, z = a's and b's [60s, 120s) = 4 and 5 at 120s
  it('tumbling one-minute sums per key: exact per window under a lagging watermark', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange
      const input = cold<StreamElement<Reading>>('adceWV---L---(X|)', {
        a: record({ sensor: 'a', n: 1 }, 1_000),
        d: record({ sensor: 'a', n: 4 }, 61_000),
        c: record({ sensor: 'a', n: 2 }, 30_000),
        e: record({ sensor: 'b', n: 5 }, 62_000),
        W: watermark(MINUTE - 1),
        V: watermark(MINUTE),
        L: record({ sensor: 'a', n: 9 }, 10_000),
        X: watermark(2 * MINUTE),
      });

      // Act
      const output = input.pipe(tumblingSums);

      // Assert: a timer's output carries the timer's timestamp (the window end); ties fire in registration order
      expectObservable(output).toBe('----W(xV)L---(yzX|)', {
        W: watermark(MINUTE - 1),
        x: record('a [0, 60000) = 3', MINUTE),
        V: watermark(MINUTE),
        L: sideOutput(late, { sensor: 'a', n: 9 }, 10_000),
        y: record('a [60000, 120000) = 4', 2 * MINUTE),
        z: record('b [60000, 120000) = 5', 2 * MINUTE),
        X: watermark(2 * MINUTE),
      });
    });
  });

  // 1b. The same recipe against a model, for any readings and any lagging watermark: every window of every key
  //     reports exactly the sum of its on-time readings, once; every late reading goes to the side output.
  it('tumbling one-minute sums per key: equal to a per-window model for any readings and watermarks', () => {
    const reading = fc.record({ sensor: fc.constantFrom('a', 'b', 'c'), n: fc.integer({ min: -5, max: 5 }), at: fc.integer({ min: -MINUTE, max: 5 * MINUTE }) });
    const step = fc.oneof(
      { weight: 4, arbitrary: reading.map((r) => ({ kind: 'reading' as const, ...r })) },
      { weight: 1, arbitrary: fc.integer({ min: -MINUTE, max: 6 * MINUTE }).map((t) => ({ kind: 'watermark' as const, t })) },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        // Arrange: the model keeps, per (key, window end), the sum of the readings that came before the
        // watermark passed that end; the others are late
        const sums = new Map<string, number>();
        const lateOnes: Reading[] = [];
        let wm = -Infinity;
        const elements: StreamElement<Reading>[] = [];
        for (const s of steps) {
          if (s.kind === 'watermark') {
            elements.push(watermark(s.t));
            wm = Math.max(wm, s.t);
            continue;
          }
          const r = { sensor: s.sensor, n: s.n };
          elements.push(record(r, s.at));
          const end = windowEnd(s.at);
          if (end <= wm) lateOnes.push(r);
          else sums.set(`${s.sensor} [${end - MINUTE}, ${end}) = `, (sums.get(`${s.sensor} [${end - MINUTE}, ${end}) = `) ?? 0) + s.n);
        }
        // Act
        const out = collect(stream(...elements).pipe(tumblingSums));
        // Assert
        expect(out.error).toBeUndefined();
        const reported = out.values.flatMap((e) => (e.kind === 'record' ? [e.value] : []));
        expect([...reported].sort()).toEqual([...sums].map(([window, sum]) => `${window}${sum}`).sort());
        expect(out.values.flatMap((e) => (e.kind === 'sideOutput' ? [e.value] : []))).toEqual(lateOnes);
      }),
    );
  });

  // 2. Emit every minute even without input: onTimer reports the sum, resets it to 0 and re-registers itself a
  //    minute later, so a key that went quiet still reports 0. At end of input the watermark is +Infinity, so the
  //    timer must stop re-arming then, or it would fire forever (as it would in Flink at MAX_WATERMARK).
  //
  //   input    ab--W----V----X----|    a = a@1s (1), b = b@2s (5), W = watermark 60s, V = 120s, X = 180s
  //   output   ----(xyW)(pqV)(rsX)(tu|)
  it('periodic per-key sum, emitted every minute even without input', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange
      const input = cold<StreamElement<Reading>>('ab--W----V----X----|', {
        a: record({ sensor: 'a', n: 1 }, 1_000),
        b: record({ sensor: 'b', n: 5 }, 2_000),
        W: watermark(MINUTE),
        V: watermark(2 * MINUTE),
        X: watermark(3 * MINUTE),
      });

      // Act
      const output = input.pipe(everyMinute);

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
      const metrics = keyedTimersMetrics();
      const input = cold<StreamElement<string>>('a 9999ms b 19999ms a 9999ms |', {
        a: record('a'),
        b: record('b'),
      });

      // Act
      const output = input.pipe(heartbeat(metrics));

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
      const input = cold('a 199999ms |', { a: { sensor: 'a', at: 0 } });

      // Act
      const alerts = input.pipe(
        withWatermarks({ timestampOf: (e) => e.at, maxOutOfOrderness: 0, interval: 10_000, idleTimeout: 20_000 }),
        keyedTimers({
          key: (e) => e.sensor,
          processElement: (e, ctx) => ctx.timerService.registerEventTimeTimer(e.at + 60_000),
          onTimer: (_t, ctx) => [`Heartbeat timeout:${ctx.key}`],
        }),
        filter(isRecord),
      );

      // Assert
      expectObservable(alerts).toBe('70000ms a 129999ms |', { a: record('Heartbeat timeout:a', 60_000) });
    });
  });
});
