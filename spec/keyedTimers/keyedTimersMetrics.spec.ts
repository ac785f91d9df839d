import { take, timer } from 'rxjs';
import {
  keyedTimers, keyedTimersMetrics, outputTag, record, watermark, type KeyedProcessFunction, type KeyedTimersCounters, type StreamElement,
} from 'rxjs-sluice';
import { newScheduler } from '../support/marbles';
import {
  ZERO_COUNTERS, ZERO_KEYED_GAUGES, ev, gaugesOf, keyedErrorLike, readAt, type Ev, type KEl,
} from '../support/keyedTimersHelpers';

const COUNTER_NAMES = [
  'emitted', 'eventTimers', 'eventTimersDropped', 'eventTimersFired', 'keysWithState', 'lateRecords', 'processingTimers',
  'processingTimersDropped', 'processingTimersFired', 'records', 'sideOutputs', 'watermarksForwarded', 'watermarksIgnored',
] as const;

/**
 * A scripted function: the record's `n` says what processElement does for its key.
 * 1: set state; 2: clear state; 3: update(undefined); 4: register event timers at 10 and 20; 5: register processing
 * timers at 10 and 20; 6: throw. onTimer emits `domain@t`.
 */
const scripted: KeyedProcessFunction<Ev, string, string | number, number> = {
  key: (e) => e.k,
  processElement: (e, ctx) => {
    switch (e.n) {
      case 1: return ctx.state.update(1);
      case 2: return ctx.state.clear();
      case 3: return ctx.state.update(undefined);
      case 4:
        ctx.timerService.registerEventTimeTimer(10);
        return ctx.timerService.registerEventTimeTimer(20);
      case 5:
        ctx.timerService.registerProcessingTimeTimer(10);
        return ctx.timerService.registerProcessingTimeTimer(20);
      case 6: throw new Error('scripted failure');
    }
  },
  onTimer: (t, ctx) => ctx.emit(`${ctx.timeDomain}@${t}`),
};

describe('keyedTimersMetrics()', () => {
  it('starts with every counter at 0', () => {
    // Act
    const metrics = keyedTimersMetrics();

    // Assert
    expect(metrics.snapshot()).toEqual(ZERO_COUNTERS);
    for (const name of COUNTER_NAMES) expect(metrics[name]).toBe(0);
  });

  it('creates an independent object on each call', () => {
    // Arrange
    const used = keyedTimersMetrics();
    const unused = keyedTimersMetrics();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold<KEl>('(a|)', { a: record(ev('a', 1)) }).pipe(keyedTimers(scripted, { metrics: used }));
      expectObservable(out).toBe('|');
    });

    // Assert
    expect(used.records).toBe(1);
    expect(unused.snapshot()).toEqual(ZERO_COUNTERS);
  });

  describe('snapshot()', () => {
    it('returns a frozen plain object with exactly the thirteen counters', () => {
      // Act
      const snapshot = keyedTimersMetrics().snapshot();

      // Assert
      expect(Object.isFrozen(snapshot)).toBe(true);
      expect(Object.getPrototypeOf(snapshot)).toBe(Object.prototype);
      expect(Object.keys(snapshot).sort()).toEqual([...COUNTER_NAMES]);
      expect(() => {
        (snapshot as { records: number }).records = 5;
      }).toThrow(TypeError);
      expect(snapshot.records).toBe(0);
    });

    it('is detached: it does not follow later changes of the live object, and each call makes a new copy', () => {
      // Arrange
      const metrics = keyedTimersMetrics();
      const before = metrics.snapshot();

      // Act
      newScheduler().run(({ cold, expectObservable }) => {
        const out = cold<KEl>('(ab)', { a: record(ev('a', 1)), b: record(ev('b', 4)) }).pipe(keyedTimers(scripted, { metrics }));
        expectObservable(out).toBe('');
      });
      const after = metrics.snapshot();

      // Assert
      expect(before).toEqual(ZERO_COUNTERS);
      expect(after).toEqual({ ...ZERO_COUNTERS, records: 2, keysWithState: 1, eventTimers: 2 });
      expect(metrics.snapshot()).not.toBe(metrics.snapshot());
    });

    it('matches the live fields at the moment it is taken', () => {
      // Arrange
      const metrics = keyedTimersMetrics();
      let snapshot: KeyedTimersCounters | undefined;
      const live: Record<string, number> = {};

      // Act
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold<KEl>('(abc) 10ms |', { a: record(ev('a', 1)), b: record(ev('b', 4)), c: record(ev('c', 5)) });
        expectObservable(source.pipe(keyedTimers(scripted, { metrics }))).toBe('10ms p 4ms (rs|)', {
          p: record('processing@10'), r: record('event@10', 10), s: record('event@20', 20),
        });
        timer(5).subscribe(() => {
          snapshot = metrics.snapshot();
          for (const name of COUNTER_NAMES) live[name] = metrics[name];
        });
      });

      // Assert
      expect(snapshot).toEqual(live);
      expect(snapshot).toEqual({ ...ZERO_COUNTERS, records: 3, keysWithState: 1, eventTimers: 2, processingTimers: 2 });
    });
  });
});

describe('keyedTimers metrics observed through a real run', () => {
  it('counts records, late records, emitted, side outputs, forwarded and ignored watermarks', () => {
    // Arrange: after W(10): a (ts 5, late) emits; b (ts 20) outputs; c (no ts) emits twice; d (ts 10, late) does both.
    // Then 10 again and 5 are ignored, 12 is forwarded.
    const metrics = keyedTimersMetrics();
    const tag = outputTag<string>('side');
    const fn: KeyedProcessFunction<string, string> = {
      key: (v) => v,
      processElement: (v, ctx) => {
        if (v !== 'b') ctx.emit(v);
        if (v === 'c') ctx.emit(v);
        if (v === 'b' || v === 'd') ctx.output(tag, v);
      },
    };

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<StreamElement<string>>('(WabcdVXY|)', {
        W: watermark(10), a: record('a', 5), b: record('b', 20), c: record('c'), d: record('d', 10),
        V: watermark(10), X: watermark(5), Y: watermark(12),
      });
      const out = source.pipe(keyedTimers(fn, { metrics }));
      expectObservable(out).toBe('(WabccdeY|)', {
        W: watermark(10), a: record('a', 5), b: { kind: 'sideOutput', tag: 'side', value: 'b', timestamp: 20 }, c: record('c'),
        d: record('d', 10), e: { kind: 'sideOutput', tag: 'side', value: 'd', timestamp: 10 }, Y: watermark(12),
      });
    });

    // Assert
    expect(metrics.snapshot()).toEqual({
      ...ZERO_COUNTERS, records: 4, lateRecords: 2, emitted: 4, sideOutputs: 2, watermarksForwarded: 2, watermarksIgnored: 2,
    });
  });

  it('does not count a record whose key() failed', () => {
    // Arrange
    const metrics = keyedTimersMetrics();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<KEl>('ab', { a: record(ev('a', 1)), b: record(ev(NaN, 1)) });
      expectObservable(source.pipe(keyedTimers(scripted, { metrics }))).toBe('-#', undefined, keyedErrorLike({ callback: 'key' }));
    });

    // Assert
    expect(metrics.records).toBe(1);
  });

  it('tracks the eventTimers gauge (duplicates and missing deletes not counted) and counts eventTimersFired', () => {
    // Arrange: a registers 10, 20, 30 and 10 again; at 5, b of key a deletes 30 and 99 and registers 25;
    // W(12) at 10, W(22) at 15, completion at 20.
    const metrics = keyedTimersMetrics();
    const fn: KeyedProcessFunction<Ev, string> = {
      key: (e) => e.k,
      processElement: (e, ctx) => {
        if (e.n === 1) {
          for (const t of [10, 20, 30, 10]) ctx.timerService.registerEventTimeTimer(t);
        } else {
          ctx.timerService.deleteEventTimeTimer(30);
          ctx.timerService.deleteEventTimeTimer(99);
          ctx.timerService.registerEventTimeTimer(25);
        }
      },
      onTimer: (t, ctx) => ctx.emit(`${t}`),
    };
    let readings = new Map<number, KeyedTimersCounters>();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<KEl>('a 4ms b 4ms W 4ms X 4ms |', { a: record(ev('a', 1)), b: record(ev('a', 2)), W: watermark(12), X: watermark(22) });
      readings = readAt(metrics, [2, 7, 12, 17]);
      expectObservable(source.pipe(keyedTimers(fn, { metrics }))).toBe('10ms (1W) 1ms (2X) 1ms (3|)', {
        1: record('10', 10), W: watermark(12), 2: record('20', 20), X: watermark(22), 3: record('25', 25),
      });
    });

    // Assert
    expect(readings.get(2)).toEqual({ ...ZERO_COUNTERS, records: 1, eventTimers: 3 });
    expect(readings.get(7)).toEqual({ ...ZERO_COUNTERS, records: 2, eventTimers: 3 });
    expect(readings.get(12)).toEqual({ ...ZERO_COUNTERS, records: 2, eventTimers: 2, eventTimersFired: 1, emitted: 1, watermarksForwarded: 1 });
    expect(readings.get(17)).toEqual({ ...ZERO_COUNTERS, records: 2, eventTimers: 1, eventTimersFired: 2, emitted: 2, watermarksForwarded: 2 });
    expect(metrics.snapshot()).toEqual({ ...ZERO_COUNTERS, records: 2, eventTimersFired: 3, emitted: 3, watermarksForwarded: 2 });
  });

  it('tracks the processingTimers gauge (duplicates and missing deletes not counted) and counts processingTimersFired', () => {
    // Arrange: a registers 10, 20, 30 and 10 again; at 5, b of key a deletes 30 and 99.
    const metrics = keyedTimersMetrics();
    const fn: KeyedProcessFunction<Ev, string> = {
      key: (e) => e.k,
      processElement: (e, ctx) => {
        if (e.n === 1) {
          for (const t of [10, 20, 30, 10]) ctx.timerService.registerProcessingTimeTimer(t);
        } else {
          ctx.timerService.deleteProcessingTimeTimer(30);
          ctx.timerService.deleteProcessingTimeTimer(99);
        }
      },
      onTimer: (t, ctx) => ctx.emit(`${t}`),
    };
    let readings = new Map<number, KeyedTimersCounters>();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<KEl>('a 4ms b 29ms |', { a: record(ev('a', 1)), b: record(ev('a', 2)) });
      readings = readAt(metrics, [2, 7, 12, 25]);
      expectObservable(source.pipe(keyedTimers(fn, { metrics }))).toBe('10ms 1 9ms 2 14ms |', { 1: record('10'), 2: record('20') });
    });

    // Assert
    expect(readings.get(2)).toEqual({ ...ZERO_COUNTERS, records: 1, processingTimers: 3 });
    expect(readings.get(7)).toEqual({ ...ZERO_COUNTERS, records: 2, processingTimers: 2 });
    expect(readings.get(12)).toEqual({ ...ZERO_COUNTERS, records: 2, processingTimers: 1, processingTimersFired: 1, emitted: 1 });
    expect(readings.get(25)).toEqual({ ...ZERO_COUNTERS, records: 2, processingTimersFired: 2, emitted: 2 });
    expect(metrics.snapshot()).toEqual({ ...ZERO_COUNTERS, records: 2, processingTimersFired: 2, emitted: 2 });
  });

  it('tracks the keysWithState gauge through update, clear, update(undefined) and clearing an empty state', () => {
    // Arrange: a set; b set; a set again; a clear; b update(undefined); c clear (had nothing).
    const metrics = keyedTimersMetrics();
    let readings = new Map<number, KeyedTimersCounters>();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<KEl>('a-b-A-C-U-D', {
        a: record(ev('a', 1)), b: record(ev('b', 1)), A: record(ev('a', 1)), C: record(ev('a', 2)), U: record(ev('b', 3)), D: record(ev('c', 2)),
      });
      readings = readAt(metrics, [1, 3, 5, 7, 9, 11]);
      expectObservable(source.pipe(keyedTimers(scripted, { metrics }))).toBe('');
    });

    // Assert
    expect([1, 3, 5, 7, 9, 11].map((t) => readings.get(t)?.keysWithState)).toEqual([1, 2, 2, 1, 0, 0]);
  });

  it('counts timers dropped at completion and returns the gauges to 0, keeping the totals', () => {
    // Arrange: a holds state, two event timers and two processing timers; both policies drop.
    const metrics = keyedTimersMetrics();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<KEl>('(abc|)', { a: record(ev('a', 1)), b: record(ev('a', 4)), c: record(ev('a', 5)) });
      expectObservable(source.pipe(keyedTimers(scripted, { metrics, eventTimersOnComplete: 'drop', processingTimersOnComplete: 'drop' }))).toBe('|');
    });

    // Assert
    expect(metrics.snapshot()).toEqual({ ...ZERO_COUNTERS, records: 3, eventTimersDropped: 2, processingTimersDropped: 2 });
  });

  it('counts the timers fired at completion, and the processing timers registered during \'fire\' as dropped', () => {
    // Arrange: processing 10 and 20 pending at completion; the one at 10 registers 30 while they fire.
    const metrics = keyedTimersMetrics();
    const fn: KeyedProcessFunction<Ev, string, string | number, number> = {
      ...scripted,
      onTimer: (t, ctx) => {
        if (t === 10 && ctx.timeDomain === 'processing') ctx.timerService.registerProcessingTimeTimer(30);
      },
    };

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<KEl>('(ab|)', { a: record(ev('a', 4)), b: record(ev('a', 5)) });
      expectObservable(source.pipe(keyedTimers(fn, { metrics, processingTimersOnComplete: 'fire' }))).toBe('|');
    });

    // Assert
    expect(metrics.snapshot()).toEqual({
      ...ZERO_COUNTERS, records: 2, eventTimersFired: 2, processingTimersFired: 2, processingTimersDropped: 1,
    });
  });

  it('returns the gauges to 0 when a callback error ends the output', () => {
    // Arrange: a holds state and timers of both domains; b throws at 3.
    const metrics = keyedTimersMetrics();
    let readings = new Map<number, KeyedTimersCounters>();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<KEl>('(abc) d', { a: record(ev('a', 1)), b: record(ev('a', 4)), c: record(ev('a', 5)), d: record(ev('b', 6)) });
      readings = readAt(metrics, [1, 8]);
      expectObservable(source.pipe(keyedTimers(scripted, { metrics }))).toBe('-----#', undefined, keyedErrorLike({ callback: 'processElement' }));
    });

    // Assert
    expect(gaugesOf(readings.get(1))).toEqual({ keysWithState: 1, eventTimers: 2, processingTimers: 2 });
    expect(gaugesOf(readings.get(8))).toEqual(ZERO_KEYED_GAUGES);
    expect(metrics.snapshot()).toEqual({ ...ZERO_COUNTERS, records: 4 });
  });

  it('returns the gauges to 0 after an upstream error', () => {
    // Arrange
    const metrics = keyedTimersMetrics();
    const upstream = new Error('upstream');

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<KEl>('(abc) #', { a: record(ev('a', 1)), b: record(ev('a', 4)), c: record(ev('a', 5)) }, upstream);
      expectObservable(source.pipe(keyedTimers(scripted, { metrics, processingTimersOnComplete: 'wait' }))).toBe('-----#', undefined, upstream);
    });

    // Assert
    expect(metrics.snapshot()).toEqual({ ...ZERO_COUNTERS, records: 3 });
  });

  it('returns the gauges to 0 after an early unsubscribe, keeps the totals, and fires nothing later', () => {
    // Arrange
    const metrics = keyedTimersMetrics();
    let readings = new Map<number, KeyedTimersCounters>();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<KEl>('(abc) 20ms W', { a: record(ev('a', 1)), b: record(ev('a', 4)), c: record(ev('a', 5)), W: watermark(100) });
      readings = readAt(metrics, [3, 8, 50]);
      expectObservable(source.pipe(keyedTimers(scripted, { metrics })), '^ 6ms !').toBe('');
    });

    // Assert
    expect(gaugesOf(readings.get(3))).toEqual({ keysWithState: 1, eventTimers: 2, processingTimers: 2 });
    expect(readings.get(8)).toEqual({ ...ZERO_COUNTERS, records: 3 });
    expect(readings.get(50)).toEqual({ ...ZERO_COUNTERS, records: 3 });
  });

  it('returns the gauges to 0 when the downstream unsubscribes inside emit and the callback then writes state and timers', () => {
    // Arrange: processElement emits first (take(1) unsubscribes right there), then sets state and registers timers.
    const metrics = keyedTimersMetrics();
    const fn: KeyedProcessFunction<Ev, string, string | number, number> = {
      key: (e) => e.k,
      processElement: (_e, ctx) => {
        ctx.emit('first');
        ctx.state.update(1);
        ctx.timerService.registerEventTimeTimer(10);
        ctx.timerService.registerProcessingTimeTimer(10);
      },
    };

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<KEl>('a', { a: record(ev('a')) });
      expectObservable(source.pipe(keyedTimers(fn, { metrics }), take(1))).toBe('(f|)', { f: record('first') });
    });

    // Assert
    expect(metrics.snapshot()).toEqual({ ...ZERO_COUNTERS, records: 1, emitted: 1 });
  });

  it('returns the gauges to 0 on completion even when state is still held', () => {
    const metrics = keyedTimersMetrics();

    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<KEl>('(ab|)', { a: record(ev('a', 1)), b: record(ev('b', 1)) });
      expectObservable(source.pipe(keyedTimers(scripted, { metrics }))).toBe('|');
    });

    expect(metrics.snapshot()).toEqual({ ...ZERO_COUNTERS, records: 2 });
  });

  it('shows the sum of two subscriptions that share one metrics object', () => {
    // Arrange: each subscription holds state and two timers of each domain until 10, then fires the processing ones.
    const metrics = keyedTimersMetrics();
    let readings = new Map<number, KeyedTimersCounters>();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<KEl>('(abc) 20ms |', { a: record(ev('a', 1)), b: record(ev('a', 4)), c: record(ev('a', 5)) });
      const out = source.pipe(keyedTimers(scripted, { metrics }));
      readings = readAt(metrics, [5, 15]);
      const expected = '10ms p 9ms q 4ms (rs|)';
      const outputs = { p: record('processing@10'), q: record('processing@20'), r: record('event@10', 10), s: record('event@20', 20) };
      expectObservable(out).toBe(expected, outputs);
      expectObservable(out).toBe(expected, outputs);
    });

    // Assert
    expect(readings.get(5)).toEqual({ ...ZERO_COUNTERS, records: 6, keysWithState: 2, eventTimers: 4, processingTimers: 4 });
    expect(readings.get(15)).toEqual({
      ...ZERO_COUNTERS, records: 6, keysWithState: 2, eventTimers: 4, processingTimers: 2, processingTimersFired: 2, emitted: 2,
    });
    expect(metrics.snapshot()).toEqual({
      ...ZERO_COUNTERS, records: 6, processingTimersFired: 4, eventTimersFired: 4, emitted: 8,
    });
  });

  it('shows the sum of two operators sharing one metrics object, minus one that ended early', () => {
    // Arrange
    const metrics = keyedTimersMetrics();
    let readings = new Map<number, KeyedTimersCounters>();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<KEl>('(ab) 20ms |', { a: record(ev('a', 1)), b: record(ev('a', 4)) });
      const first = source.pipe(keyedTimers(scripted, { metrics }));
      const second = source.pipe(keyedTimers(scripted, { metrics, eventTimersOnComplete: 'drop' }));
      readings = readAt(metrics, [5, 15]);
      expectObservable(first).toBe('24ms (rs|)', { r: record('event@10', 10), s: record('event@20', 20) });
      expectObservable(second, '^ 9ms !').toBe('');
    });

    // Assert
    expect(readings.get(5)).toEqual({ ...ZERO_COUNTERS, records: 4, keysWithState: 2, eventTimers: 4 });
    expect(readings.get(15)).toEqual({ ...ZERO_COUNTERS, records: 4, keysWithState: 1, eventTimers: 2 });
    expect(metrics.snapshot()).toEqual({ ...ZERO_COUNTERS, records: 4, eventTimersFired: 2, emitted: 2 });
  });
});
