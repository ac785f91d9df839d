import { NEVER, Subject, asyncScheduler, filter, of } from 'rxjs';
import {
  isRecord, keyedTimers, record, watermark, withWatermarks, type StreamElement, type WithWatermarksOptions,
} from 'rxjs-sluice';
import { captureError, collect, newScheduler } from '../support/marbles';
import { CountingScheduler } from '../support/countingScheduler';

/**
 * Marble tests of withWatermarks (Flink's bounded-out-of-orderness generator with the auto-watermark interval and
 * idleness). In `run` mode one frame is 1 ms of virtual time; `Nms` advances N frames, and every character of a
 * `(...)` group advances one frame too. Values are numbers and `timestampOf` is the identity unless stated.
 */

type El = StreamElement<number>;

/** Options with the identity as timestampOf, the given out-of-orderness and the rest. */
const identity = (extra: Partial<WithWatermarksOptions<number>> & { maxOutOfOrderness: number }): WithWatermarksOptions<number> => ({
  timestampOf: (v: number) => v,
  ...extra,
});

describe('withWatermarks', () => {
  describe('records', () => {
    it('emits each value at once as a record stamped with timestampOf', () => {
      // Arrange
      const a = { id: 'a', at: 1_000 };
      const b = { id: 'b', at: 4_000 };
      const source = new Subject<{ id: string; at: number }>();
      const received: StreamElement<{ id: string; at: number }>[] = [];
      const subscription = source
        .pipe(withWatermarks({ timestampOf: (e) => e.at, maxOutOfOrderness: 0 }))
        .subscribe((e) => received.push(e));

      // Act
      source.next(a);
      source.next(b);
      subscription.unsubscribe();

      // Assert: both records synchronously, before any (asynchronous) tick.
      expect(received).toEqual([record(a, 1_000), record(b, 4_000)]);
      expect(received[0]!.kind === 'record' && received[0]!.value).toBe(a);
    });

    it('emits records in virtual time at the frame they arrive, with the watermark only on the tick', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: 100 at 0, 110 at 5, 105 (out of order) at 15; ooo 5, interval 10.
        const source = cold<number>('a 4ms b 9ms c 20ms |', { a: 100, b: 110, c: 105 });

        // Act
        const out = source.pipe(withWatermarks(identity({ maxOutOfOrderness: 5, interval: 10 })));

        // Assert: the tick at 10 emits 110 - 5 - 1; the late-ish 105 neither lowers nor repeats it; nothing at completion.
        expectObservable(out).toBe('a 4ms b 4ms W 4ms c 20ms |', {
          a: record(100, 100), b: record(110, 110), W: watermark(104), c: record(105, 105),
        });
      });
    });

    it('still emits late records (timestamp at or below the last watermark) as records', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: the watermark 99 is emitted at 10; 99 and 50 arrive after it.
        const source = cold<number>('a 19ms b c 9ms |', { a: 100, b: 99, c: 50 });

        // Act
        const out = source.pipe(withWatermarks(identity({ maxOutOfOrderness: 0, interval: 10 })));

        // Assert
        expectObservable(out).toBe('a 9ms W 9ms b c 9ms |', {
          a: record(100, 100), W: watermark(99), b: record(99, 99), c: record(50, 50),
        });
      });
    });
  });

  describe('watermarks on the interval grid', () => {
    it('emits max - maxOutOfOrderness - 1 on each tick where it has advanced, never repeating it', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: ticks at 10, 20, 30, 40; records 100 at 0, 120 at 12, 120 again at 22, 130 at 35.
        const source = cold<number>('a 11ms b 9ms c 12ms d 9ms |', { a: 100, b: 120, c: 120, d: 130 });

        // Act
        const out = source.pipe(withWatermarks(identity({ maxOutOfOrderness: 10, interval: 10 })));

        // Assert: 89 at 10, 109 at 20, nothing at 30 (no advance), 119 at 40, nothing at completion (45).
        expectObservable(out).toBe('a 9ms W 1ms b 7ms X 1ms c 12ms d 4ms Y 4ms |', {
          a: record(100, 100), b: record(120, 120), c: record(120, 120), d: record(130, 130),
          W: watermark(89), X: watermark(109), Y: watermark(119),
        });
      });
    });

    it('places the ticks at subscription time + k * interval', () => {
      const scheduler = newScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        // Arrange: subscribed at 3, so the ticks are at 13 and 23 (not at 10 and 20).
        const source = hot<number>('5ms a 8ms b 20ms |', { a: 100, b: 200 });

        // Act
        const out = source.pipe(withWatermarks(identity({ maxOutOfOrderness: 0, interval: 10 })));

        // Assert
        expectObservable(out, '3ms ^').toBe('5ms a 7ms W b 8ms V 11ms |', {
          a: record(100, 100), b: record(200, 200), W: watermark(99), V: watermark(199),
        });
      });
    });

    it('ticks every 200 ms by default', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: no interval and no scheduler given; run mode virtualises asyncScheduler.
        const source = cold<number>('a 299ms b 499ms |', { a: 1_000, b: 2_000 });

        // Act
        const out = source.pipe(withWatermarks({ timestampOf: (v: number) => v, maxOutOfOrderness: 100 }));

        // Assert: ticks at 200 and 400.
        expectObservable(out).toBe('a 199ms W 99ms b 99ms V 399ms |', {
          a: record(1_000, 1_000), b: record(2_000, 2_000), W: watermark(899), V: watermark(1_899),
        });
      });
    });

    it('schedules no tick for a source that stays quiet, and none after the watermark has caught up', () => {
      const scheduler = newScheduler();
      const counting = new CountingScheduler(asyncScheduler);
      const liveAt: Record<number, number> = {};
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: one record at 0, then 1 s of silence; probes read the live actions at 5 and 500.
        const source = cold<number>('a 999ms |', { a: 100 });
        asyncScheduler.schedule(() => (liveAt[5] = counting.live), 5);
        asyncScheduler.schedule(() => (liveAt[500] = counting.live), 500);

        // Act
        const out = source.pipe(withWatermarks(identity({ maxOutOfOrderness: 0, interval: 10, scheduler: counting })));

        // Assert
        expectObservable(out).toBe('a 9ms W 989ms |', { a: record(100, 100), W: watermark(99) });
      });
      expect(liveAt).toEqual({ 5: 1, 500: 0 });
      expect({ scheduled: counting.scheduled, executed: counting.executed }).toEqual({ scheduled: 1, executed: 1 });
      expect(counting.live).toBe(0);
    });

    it('schedules nothing at all for a source that never emits', () => {
      const scheduler = newScheduler();
      const counting = new CountingScheduler(asyncScheduler);
      scheduler.run(({ expectObservable }) => {
        // Arrange
        const out = NEVER.pipe(withWatermarks(identity({ maxOutOfOrderness: 0, interval: 10, scheduler: counting })));

        // Act / Assert
        expectObservable(out, '^ 1000ms !').toBe('');
      });
      expect(counting.scheduled).toBe(0);
    });

    it('does not schedule a tick for an out-of-order record that cannot advance the watermark', () => {
      const scheduler = newScheduler();
      const counting = new CountingScheduler(asyncScheduler);
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: 100 at 0 (tick at 10 emits 99), then 80 and 100 at 20 and 30.
        const source = cold<number>('a 19ms b 9ms c 9ms |', { a: 100, b: 80, c: 100 });

        // Act
        const out = source.pipe(withWatermarks(identity({ maxOutOfOrderness: 0, interval: 10, scheduler: counting })));

        // Assert
        expectObservable(out).toBe('a 9ms W 9ms b 9ms c 9ms |', {
          a: record(100, 100), b: record(80, 80), c: record(100, 100), W: watermark(99),
        });
      });
      expect(counting.scheduled).toBe(1);
    });
  });

  describe('completion', () => {
    it('emits the watermark once more at completion when it has advanced since the last tick, then completes', () => {
      const scheduler = newScheduler();
      const counting = new CountingScheduler(asyncScheduler);
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: completes at 4, before the first tick at 10.
        const source = cold<number>('a 2ms b |', { a: 100, b: 120 });

        // Act
        const out = source.pipe(withWatermarks(identity({ maxOutOfOrderness: 5, interval: 10, scheduler: counting })));

        // Assert
        expectObservable(out).toBe('a 2ms b (W|)', { a: record(100, 100), b: record(120, 120), W: watermark(114) });
      });
      // the pending tick at 10 was cancelled
      expect(counting.executed).toBe(0);
      expect(counting.live).toBe(0);
    });

    it('emits no watermark at completion when it has not advanced since the last one', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<number>('a 19ms |', { a: 100 });

        // Act
        const out = source.pipe(withWatermarks(identity({ maxOutOfOrderness: 5, interval: 10 })));

        // Assert
        expectObservable(out).toBe('a 9ms W 9ms |', { a: record(100, 100), W: watermark(94) });
      });
    });

    it('emits no +Infinity (or any) watermark when an empty source completes', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<number>('20ms |');

        // Act
        const out = source.pipe(withWatermarks(identity({ maxOutOfOrderness: 5, interval: 10, idleTimeout: 5 })));

        // Assert
        expectObservable(out).toBe('20ms |');
      });
    });

    it('ends a synchronous source with the bounded watermark only, never +Infinity', () => {
      // Act
      const out = collect(of(1_000, 4_000, 2_500).pipe(withWatermarks(identity({ maxOutOfOrderness: 2_000 }))));

      // Assert
      expect(out.values).toEqual([record(1_000, 1_000), record(4_000, 4_000), record(2_500, 2_500), watermark(1_999)]);
      expect(out.completed).toBe(true);
    });
  });

  describe('idleTimeout', () => {
    it('lets the watermark follow the clock while the source is idle, and never go back when records resume', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: ooo 5, interval 10, idle after 30 ms. 100 at 0, 101 at 45, completion at 95.
        const source = cold<number>('a 44ms b 49ms |', { a: 100, b: 101 });

        // Act
        const out = source.pipe(withWatermarks(identity({ maxOutOfOrderness: 5, interval: 10, idleTimeout: 30 })));

        // Assert:
        //   10: 100 - 6 = 94; 20: still 94 (idle for 20 < 30) -> nothing;
        //   30: idle for 30 -> 100 + 30 - 6 = 124; 40: 134;
        //   45: b ends idleness; 50..80: 101 + idleFor(<30 -> 0 at 50..70; 35 at 80 -> 130) - 6 <= 134 -> nothing;
        //   90: 101 + 45 - 6 = 140; 95: completion, 95 <= 140 -> nothing.
        expectObservable(out).toBe('a 9ms W 19ms X 9ms Y 4ms b 44ms Z 4ms |', {
          a: record(100, 100), b: record(101, 101),
          W: watermark(94), X: watermark(124), Y: watermark(134), Z: watermark(140),
        });
      });
    });

    it('keeps ticking while idle, and an unsubscribe cancels the pending tick', () => {
      const scheduler = newScheduler();
      const counting = new CountingScheduler(asyncScheduler);
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: idle from 10; the source never completes.
        const source = cold<number>('a', { a: 0 });

        // Act
        const out = source.pipe(withWatermarks(identity({ maxOutOfOrderness: 0, interval: 10, idleTimeout: 10, scheduler: counting })));

        // Assert: 10: 0 + 10 - 1; 20: 19; 30: 29; unsubscribed at 35.
        expectObservable(out, '^ 34ms !').toBe('a 9ms W 9ms X 9ms Y', {
          a: record(0, 0), W: watermark(9), X: watermark(19), Y: watermark(29),
        });
      });
      expect({ scheduled: counting.scheduled, executed: counting.executed }).toEqual({ scheduled: 4, executed: 3 });
      expect(counting.live).toBe(0);
    });

    it('emits no watermark and schedules nothing when no record was ever seen', () => {
      const scheduler = newScheduler();
      const counting = new CountingScheduler(asyncScheduler);
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<number>('100ms |');

        // Act
        const out = source.pipe(withWatermarks(identity({ maxOutOfOrderness: 0, interval: 10, idleTimeout: 10, scheduler: counting })));

        // Assert
        expectObservable(out).toBe('100ms |');
      });
      expect(counting.scheduled).toBe(0);
    });
  });

  describe('errors', () => {
    it('errors the output with what timestampOf throws, after the earlier records', () => {
      const scheduler = newScheduler();
      const boom = new Error('boom');
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<number>('a b c|', { a: 1, b: 2, c: 3 });

        // Act
        const out = source.pipe(withWatermarks<number>({
          timestampOf: (v) => {
            if (v === 2) throw boom;
            return v;
          },
          maxOutOfOrderness: 0,
          interval: 10,
        }));

        // Assert
        expectObservable(out).toBe('a #', { a: record(1, 1) }, boom);
      });
    });

    it.each([
      ['NaN', NaN, /NaN/],
      ['Infinity', Infinity, /Infinity/],
      ['-Infinity', -Infinity, /-Infinity/],
      ['a string', '5', /"5"/],
      ['undefined', undefined, /undefined/],
    ])('errors the output with a TypeError naming the value when timestampOf returns %s', (_label, bad, named) => {
      const scheduler = newScheduler();
      const errors: unknown[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<number>('a b c|', { a: 1, b: 2, c: 3 });

        // Act
        const out = source.pipe(
          withWatermarks<number>({ timestampOf: (v) => (v === 2 ? (bad as unknown as number) : v), maxOutOfOrderness: 0, interval: 10 }),
          captureError(errors),
        );

        // Assert
        expectObservable(out).toBe('a #', { a: record(1, 1) }, expect.any(TypeError));
      });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(TypeError);
      expect((errors[0] as Error).message).toMatch(/withWatermarks/);
      expect((errors[0] as Error).message).toMatch(named);
    });

    it('forwards an upstream error unchanged, with no final watermark, and cancels the pending tick', () => {
      const scheduler = newScheduler();
      const counting = new CountingScheduler(asyncScheduler);
      const upstream = new Error('upstream');
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: the tick for 100 is due at 10; the source errors at 5.
        const source = cold<number>('a 4ms #', { a: 100 }, upstream);

        // Act
        const out = source.pipe(withWatermarks(identity({ maxOutOfOrderness: 0, interval: 10, scheduler: counting })));

        // Assert
        expectObservable(out).toBe('a 4ms #', { a: record(100, 100) }, upstream);
      });
      expect({ scheduled: counting.scheduled, executed: counting.executed }).toEqual({ scheduled: 1, executed: 0 });
      expect(counting.live).toBe(0);
    });
  });

  describe('unsubscription', () => {
    it('cancels the pending tick: nothing is emitted afterwards and no action stays scheduled', () => {
      const scheduler = newScheduler();
      const counting = new CountingScheduler(asyncScheduler);
      const received: El[] = [];
      scheduler.run(({ cold }) => {
        // Arrange: the tick for 100 is due at 10; unsubscribed at 5.
        const source = cold<number>('a 50ms |', { a: 100 });
        const out = source.pipe(withWatermarks(identity({ maxOutOfOrderness: 0, interval: 10, scheduler: counting })));
        const subscription = out.subscribe((e) => received.push(e));

        // Act
        asyncScheduler.schedule(() => subscription.unsubscribe(), 5);
      });

      // Assert
      expect(received).toEqual([record(100, 100)]);
      expect({ scheduled: counting.scheduled, executed: counting.executed }).toEqual({ scheduled: 1, executed: 0 });
      expect(counting.live).toBe(0);
    });
  });

  describe('validation', () => {
    const timestampOf = (v: number) => v;

    it.each<[string, unknown, RegExp]>([
      ['maxOutOfOrderness is missing', { timestampOf }, /maxOutOfOrderness/],
      ['maxOutOfOrderness is undefined', { timestampOf, maxOutOfOrderness: undefined }, /maxOutOfOrderness/],
      ['maxOutOfOrderness is negative', { timestampOf, maxOutOfOrderness: -1 }, /maxOutOfOrderness/],
      ['maxOutOfOrderness is NaN', { timestampOf, maxOutOfOrderness: NaN }, /maxOutOfOrderness/],
      ['maxOutOfOrderness is Infinity', { timestampOf, maxOutOfOrderness: Infinity }, /maxOutOfOrderness/],
      ['maxOutOfOrderness is a string', { timestampOf, maxOutOfOrderness: '5' }, /maxOutOfOrderness/],
      ['interval is 0', { timestampOf, maxOutOfOrderness: 0, interval: 0 }, /interval/],
      ['interval is negative', { timestampOf, maxOutOfOrderness: 0, interval: -10 }, /interval/],
      ['interval is NaN', { timestampOf, maxOutOfOrderness: 0, interval: NaN }, /interval/],
      ['interval is Infinity', { timestampOf, maxOutOfOrderness: 0, interval: Infinity }, /interval/],
      ['interval is a string', { timestampOf, maxOutOfOrderness: 0, interval: '10' }, /interval/],
      ['idleTimeout is 0', { timestampOf, maxOutOfOrderness: 0, idleTimeout: 0 }, /idleTimeout/],
      ['idleTimeout is negative', { timestampOf, maxOutOfOrderness: 0, idleTimeout: -1 }, /idleTimeout/],
      ['idleTimeout is NaN', { timestampOf, maxOutOfOrderness: 0, idleTimeout: NaN }, /idleTimeout/],
      ['idleTimeout is Infinity', { timestampOf, maxOutOfOrderness: 0, idleTimeout: Infinity }, /idleTimeout/],
      ['timestampOf is missing', { maxOutOfOrderness: 0 }, /timestampOf/],
      ['timestampOf is a number', { timestampOf: 5, maxOutOfOrderness: 0 }, /timestampOf/],
      ['timestampOf is null', { timestampOf: null, maxOutOfOrderness: 0 }, /timestampOf/],
      ['scheduler is null', { timestampOf, maxOutOfOrderness: 0, scheduler: null }, /scheduler/],
      ['scheduler is a plain object', { timestampOf, maxOutOfOrderness: 0, scheduler: {} }, /scheduler/],
      ['scheduler has no schedule()', { timestampOf, maxOutOfOrderness: 0, scheduler: { now: () => 0 } }, /scheduler/],
      ['an option is unknown', { timestampOf, maxOutOfOrderness: 0, intervall: 10 }, /intervall/],
      ['options is null', null, /options/],
      ['options is undefined', undefined, /options/],
      ['options is a number', 5, /options/],
      ['options is a string', 'fast', /options/],
      ['options is an array', [], /options/],
    ])('throws a TypeError at creation when %s', (_label, options, named) => {
      // Act
      const create = () => withWatermarks(options as WithWatermarksOptions<number>);

      // Assert
      expect(create).toThrow(TypeError);
      expect(create).toThrow(/withWatermarks/);
      expect(create).toThrow(named);
    });

    it('accepts maxOutOfOrderness 0 and every option at a valid value', () => {
      expect(() => withWatermarks<number>({ timestampOf, maxOutOfOrderness: 0 })).not.toThrow();
      expect(() => withWatermarks<number>({
        timestampOf, maxOutOfOrderness: 10, interval: 0.5, idleTimeout: 1, scheduler: asyncScheduler,
      })).not.toThrow();
    });
  });

  describe('with keyedTimers downstream', () => {
    type Event = { k: string; at: number };

    it('fires event-time timers as the watermarks it emits arrive, and the rest at completion', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: every event registers a timer 10 ms after its timestamp; ooo 0, interval 10.
        const source = cold<Event>('a 2ms b 11ms c 24ms |', {
          a: { k: 'x', at: 5 }, b: { k: 'y', at: 12 }, c: { k: 'x', at: 30 },
        });

        // Act
        const out = source.pipe(
          withWatermarks<Event>({ timestampOf: (e) => e.at, maxOutOfOrderness: 0, interval: 10 }),
          keyedTimers<Event, string>({
            key: (e) => e.k,
            processElement: (e, ctx) => ctx.timerService.registerEventTimeTimer(e.at + 10),
            onTimer: (t, ctx) => ctx.emit(`${ctx.key}@${t}`),
          }),
        );

        // Assert: 10: W11 fires nothing; 20: W29 fires x@15 and y@22 first; 40: completion fires x@40.
        expectObservable(out).toBe('10ms A 9ms (XYB) 15ms (Z|)', {
          A: watermark(11), X: record('x@15', 15), Y: record('y@22', 22), B: watermark(29), Z: record('x@40', 40),
        });
      });
    });

    it('fires a heartbeat-style event-time timer on a quiet source when idleTimeout is set', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: each event re-arms a "silent for 100 ms" timer; events at 0 (t 1000) and 30 (t 1030), then
        // silence until completion at 300. Idle from 80: the watermark is 1030 + idleFor - 1, so it passes 1130 at 140.
        const source = cold<Event>('a 29ms b 269ms |', { a: { k: 'x', at: 1_000 }, b: { k: 'x', at: 1_030 } });

        // Act
        const out = source.pipe(
          withWatermarks<Event>({ timestampOf: (e) => e.at, maxOutOfOrderness: 0, interval: 10, idleTimeout: 50 }),
          keyedTimers<Event, string, string, number>({
            key: (e) => e.k,
            processElement: (e, ctx) => {
              const armed = ctx.state.value();
              if (armed !== undefined) ctx.timerService.deleteEventTimeTimer(armed);
              ctx.timerService.registerEventTimeTimer(e.at + 100);
              ctx.state.update(e.at + 100);
            },
            onTimer: (t, ctx) => {
              ctx.emit(`${ctx.key} silent since ${t - 100}`);
              ctx.state.clear();
            },
          }, { eventTimersOnComplete: 'drop' }),
          filter(isRecord),
        );

        // Assert: fired at 140 by an idle watermark (completion would have dropped it).
        expectObservable(out).toBe('140ms A 159ms |', { A: record('x silent since 1030', 1_130) });
      });
    });
  });
});
