import {
  Subject, VirtualTimeScheduler, asyncScheduler, lastValueFrom, of, take, tap, timer, toArray, type Observable,
} from 'rxjs';
import {
  KeyedProcessError, barrier, keyedTimers, keyedTimersMetrics, outputTag, record, sideOutput, values, watermark,
  type KeyedContext, type KeyedProcessFunction, type KeyedTimersOptions, type OnTimerContext, type StreamElement,
} from 'rxjs-sluice';
import { captureError, collect, newScheduler, stream } from '../support/marbles';
import { CountingScheduler } from '../support/countingScheduler';
import { ev, keyedErrorLike, type Ev, type KEl } from '../support/keyedTimersHelpers';

/**
 * Behaviour of keyedTimers (docs/keyed-timers.md): watermarks and event-time timers, timer identity,
 * output timestamps, keyed state, processing-time timers, completion policies, pass-through, re-entrancy,
 * unsubscription, the context's lifetime and errors.
 *
 * In `run` mode one frame is 1 ms of virtual time; `Nms` advances N frames, and every character of a `(...)` group
 * advances one frame too. The default scheduler (asyncScheduler) is virtualised by `run`.
 */

/** processElement registers an event-time timer at `e.n`; onTimer emits `key@t`. */
const eventTimerAtN: KeyedProcessFunction<Ev, string> = {
  key: (e) => e.k,
  processElement: (e, ctx) => ctx.timerService.registerEventTimeTimer(e.n),
  onTimer: (t, ctx) => ctx.emit(`${ctx.key}@${t}`),
};

/** processElement registers a processing-time timer at `e.n`; onTimer emits `key@t/now`. */
const processingTimerAtN: KeyedProcessFunction<Ev, string> = {
  key: (e) => e.k,
  processElement: (e, ctx) => ctx.timerService.registerProcessingTimeTimer(e.n),
  onTimer: (t, ctx) => ctx.emit(`${ctx.key}@${t}/${ctx.timerService.currentProcessingTime()}`),
};

/** The value of a record element (for logs). */
const valueOf = <T>(e: StreamElement<T>): T | string => (e.kind === 'record' ? e.value : e.kind);

describe('keyedTimers', () => {
  describe('watermarks', () => {
    it('fires every event timer at or below an advancing watermark in (timestamp, registration) order, then forwards it', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: z@3 is registered before a@3, and a@5 before a@3; b@7 is beyond the first watermark.
        const source = cold<KEl>('(zabcW) 5ms (X|)', {
          z: record(ev('z', 3)), a: record(ev('a', 5)), b: record(ev('a', 3)), c: record(ev('b', 7)),
          W: watermark(6), X: watermark(10),
        });
        // Act
        const out = source.pipe(keyedTimers(eventTimerAtN));
        // Assert
        expectObservable(out).toBe('(123W) 6ms (4X|)', {
          1: record('z@3', 3), 2: record('a@3', 3), 3: record('a@5', 5), W: watermark(6), 4: record('b@7', 7), X: watermark(10),
        });
      });
    });

    it('forwards the advancing watermark itself (the same object)', () => {
      // Arrange
      const mark = watermark(4);
      // Act
      const out = collect(stream<Ev>(record(ev('a', 1)), mark).pipe(keyedTimers(eventTimerAtN)));
      // Assert
      expect(out.values).toEqual([record('a@1', 1), mark]);
      expect(out.values[1]).toBe(mark);
      expect(out.completed).toBe(true);
    });

    it('breaks timestamp ties in registration order across keys, whatever the keys are', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: keys registered in the order m, 2, a, '10' at the same time 4.
        const source = cold<KEl>('(mnabW|)', {
          m: record(ev('m', 4)), n: record(ev(2, 4)), a: record(ev('a', 4)), b: record(ev('10', 4)), W: watermark(4),
        });
        // Act
        const out = source.pipe(keyedTimers(eventTimerAtN));
        // Assert
        expectObservable(out).toBe('(1234W|)', {
          1: record('m@4', 4), 2: record('2@4', 4), 3: record('a@4', 4), 4: record('10@4', 4), W: watermark(4),
        });
      });
    });

    it('fires a timer registered in onTimer above the firing one and at or below the watermark in the same advance; one above it waits', () => {
      const fired: number[] = [];
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: the timer at 3 registers 6 (= W) and 8 (above W). (At or below 3 would be a TimerLoopError.)
        const source = cold<KEl>('(aW) 5ms (X|)', { a: record(ev('a', 3)), W: watermark(6), X: watermark(10) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, number>({
            key: (e) => e.k,
            processElement: (e, ctx) => ctx.timerService.registerEventTimeTimer(e.n),
            onTimer: (t, ctx) => {
              fired.push(t);
              ctx.emit(t);
              if (t === 3) {
                ctx.timerService.registerEventTimeTimer(6);
                ctx.timerService.registerEventTimeTimer(8);
              }
            },
          }),
        );
        // Assert
        expectObservable(out).toBe('(36W) 4ms (8X|)', {
          3: record(3, 3), 6: record(6, 6), W: watermark(6), 8: record(8, 8), X: watermark(10),
        });
      });
      expect(fired).toEqual([3, 6, 8]);
    });

    it('fires an event timer registered at or below the current watermark only at the next advancing watermark', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: after W(10), a registers a timer at 4 (already passed); the next watermark is 11 at frame 5.
        const source = cold<KEl>('Wa 3ms (X|)', { W: watermark(10), a: record(ev('a', 4)), X: watermark(11) });
        // Act
        const out = source.pipe(keyedTimers(eventTimerAtN));
        // Assert: nothing fires when it is registered; it fires before X.
        expectObservable(out).toBe('W 4ms (1X|)', { W: watermark(10), 1: record('a@4', 4), X: watermark(11) });
      });
    });

    it('neither forwards nor acts on watermarks that do not advance event time (-Infinity first, equal, lower), and counts them', () => {
      const metrics = keyedTimersMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: -Infinity, 5, a (timer at 4, below 5), 5 again, 3, then 6.
        const source = cold<KEl>('m f a g h 3ms (s|)', {
          m: watermark(-Infinity), f: watermark(5), a: record(ev('a', 4)), g: watermark(5), h: watermark(3), s: watermark(6),
        });
        // Act
        const out = source.pipe(keyedTimers(eventTimerAtN, { metrics }));
        // Assert: the timer at 4 waits for the watermark 6.
        expectObservable(out).toBe('-f 6ms (1s|)', { f: watermark(5), 1: record('a@4', 4), s: watermark(6) });
      });
      expect(metrics.watermarksIgnored).toBe(3);
      expect(metrics.watermarksForwarded).toBe(2);
    });

    it('still processes late records (timestamp at or below the current watermark) and counts them', () => {
      const metrics = keyedTimersMetrics();
      const seen: Array<[number | undefined, number]> = [];
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: after W(10): ts 10 (late), ts 5 (late), ts 11 (on time), no ts (never late).
        const source = cold<StreamElement<string>>('(Wabcd|)', {
          W: watermark(10), a: record('a', 10), b: record('b', 5), c: record('c', 11), d: record('d'),
        });
        // Act
        const out = source.pipe(
          keyedTimers<string, string>({
            key: (v) => v,
            processElement: (v, ctx) => {
              seen.push([ctx.timestamp, ctx.timerService.currentWatermark()]);
              ctx.emit(v.toUpperCase());
            },
          }, { metrics }),
        );
        // Assert
        expectObservable(out).toBe('(Wabcd|)', {
          W: watermark(10), a: record('A', 10), b: record('B', 5), c: record('C', 11), d: record('D'),
        });
      });
      expect(seen).toEqual([[10, 10], [5, 10], [11, 10], [undefined, 10]]);
      expect(metrics.records).toBe(4);
      expect(metrics.lateRecords).toBe(2);
    });

    it('reports -Infinity as the current watermark before the first one, then the last advancing one', () => {
      // Arrange
      const seen: number[] = [];
      const fn: KeyedProcessFunction<string, never> = {
        key: (v) => v,
        processElement: (_v, ctx) => {
          seen.push(ctx.timerService.currentWatermark());
        },
      };
      // Act
      collect(stream<string>(record('a'), watermark(7), record('b'), watermark(3), record('c')).pipe(keyedTimers(fn)));
      // Assert
      expect(seen).toEqual([-Infinity, 7, 7]);
    });
  });

  describe('timer identity', () => {
    it('fires a timer registered twice for the same key, domain and time once', () => {
      const onTimer = jest.fn((t: number, ctx: OnTimerContext<string | number, string, unknown>) => ctx.emit(`${ctx.timeDomain}@${t}`));
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: two records of key a each register event 5 twice and processing 10 twice.
        const source = cold<KEl>('(ab) 6ms W', { a: record(ev('a')), b: record(ev('a')), W: watermark(5) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            key: (e) => e.k,
            processElement: (_e, ctx) => {
              ctx.timerService.registerEventTimeTimer(5);
              ctx.timerService.registerEventTimeTimer(5);
              ctx.timerService.registerProcessingTimeTimer(10);
              ctx.timerService.registerProcessingTimeTimer(10);
            },
            onTimer,
          }),
        );
        // Assert: the watermark comes at 10; the processing timer wakes at 10 too, after it (scheduled later).
        expectObservable(out).toBe('10ms (EWP)', { P: record('processing@10'), E: record('event@5', 5), W: watermark(5) });
      });
      expect(onTimer).toHaveBeenCalledTimes(2);
    });

    it('keeps timers of different keys, or of different domains, at the same time apart', () => {
      const fired: Array<[string | number, string, number]> = [];
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<KEl>('(ab) 2ms W', { a: record(ev('a')), b: record(ev('b')), W: watermark(5) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            key: (e) => e.k,
            processElement: (_e, ctx) => {
              ctx.timerService.registerEventTimeTimer(5);
              ctx.timerService.registerProcessingTimeTimer(5);
            },
            onTimer: (t, ctx) => {
              fired.push([ctx.key, ctx.timeDomain, t]);
            },
          }),
        );
        // Assert: the processing timers are due at 5, the watermark comes at 6.
        expectObservable(out).toBe('6ms W', { W: watermark(5) });
      });
      expect(fired).toEqual([['a', 'processing', 5], ['b', 'processing', 5], ['a', 'event', 5], ['b', 'event', 5]]);
    });

    it('ignores deleting a timer that does not exist (wrong time, wrong domain, or another key\'s)', () => {
      const metrics = keyedTimersMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: a registers event 5; b then deletes event 5 (a's, not b's), event 6 and processing 5.
        const source = cold<KEl>('(abW|)', { a: record(ev('a')), b: record(ev('b')), W: watermark(5) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            key: (e) => e.k,
            processElement: (e, ctx) => {
              if (e.k === 'a') {
                ctx.timerService.registerEventTimeTimer(5);
                ctx.timerService.deleteEventTimeTimer(6);
                ctx.timerService.deleteProcessingTimeTimer(5);
              } else {
                ctx.timerService.deleteEventTimeTimer(5);
                ctx.timerService.deleteEventTimeTimer(6);
                ctx.timerService.deleteProcessingTimeTimer(5);
              }
            },
            onTimer: (t, ctx) => ctx.emit(`${ctx.key}@${t}`),
          }, { metrics }),
        );
        // Assert
        expectObservable(out).toBe('(1W|)', { 1: record('a@5', 5), W: watermark(5) });
      });
      expect(metrics.eventTimersFired).toBe(1);
      expect(metrics.eventTimers).toBe(0);
      expect(metrics.processingTimers).toBe(0);
    });

    it('does not fire a deleted timer, and fires a re-registered one once, as a new registration', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: a registers 5, b registers 5, then a deletes its 5 and registers it again; c registers 7 and deletes it.
        const source = cold<KEl>('(abAcW|)', {
          a: record(ev('a', 1)), b: record(ev('b', 1)), A: record(ev('a', 2)), c: record(ev('c', 1)), W: watermark(10),
        });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            key: (e) => e.k,
            processElement: (e, ctx) => {
              if (e.k === 'c') {
                ctx.timerService.registerEventTimeTimer(7);
                ctx.timerService.deleteEventTimeTimer(7);
              } else if (e.n === 2) {
                ctx.timerService.deleteEventTimeTimer(5);
                ctx.timerService.registerEventTimeTimer(5);
              } else {
                ctx.timerService.registerEventTimeTimer(5);
              }
            },
            onTimer: (t, ctx) => ctx.emit(`${ctx.key}@${t}`),
          }),
        );
        // Assert: a's new registration comes after b's.
        expectObservable(out).toBe('(baW|)', { b: record('b@5', 5), a: record('a@5', 5), W: watermark(10) });
      });
    });

    it('does not fire a processing timer deleted before it is due', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: a registers processing 10 and 20; at 5 the second record deletes 10.
        const source = cold<KEl>('a 4ms b', { a: record(ev('a', 1)), b: record(ev('a', 2)) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            key: (e) => e.k,
            processElement: (e, ctx) => {
              if (e.n === 1) {
                ctx.timerService.registerProcessingTimeTimer(10);
                ctx.timerService.registerProcessingTimeTimer(20);
              } else {
                ctx.timerService.deleteProcessingTimeTimer(10);
              }
            },
            onTimer: (t, ctx) => ctx.emit(`${ctx.key}@${t}`),
          }),
        );
        // Assert
        expectObservable(out).toBe('20ms P', { P: record('a@20') });
      });
    });
  });

  describe('output timestamps', () => {
    const tag = outputTag<string>('side');
    /** Emits and side-outputs `pe:<key>` in processElement and `<domain>:<key>` in onTimer. */
    const both: KeyedProcessFunction<Ev, string> = {
      key: (e) => e.k,
      processElement: (e, ctx) => {
        ctx.timerService.registerEventTimeTimer(e.n);
        ctx.timerService.registerProcessingTimeTimer(e.n);
        ctx.emit(`pe:${ctx.key}`);
        ctx.output(tag, `pe:${ctx.key}`);
      },
      onTimer: (_t, ctx) => {
        ctx.emit(`${ctx.timeDomain}:${ctx.key}`);
        ctx.output(tag, `${ctx.timeDomain}:${ctx.key}`);
      },
    };

    it('stamps processElement outputs with the input timestamp, event-timer outputs with the timer time, processing-timer outputs with none', () => {
      const outputs: StreamElement<string>[] = [];
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: a (ts 2) registers event and processing timers at 10; b has no timestamp and registers at 20.
        // The watermark 25 comes at 30.
        const source = cold<KEl>('(ab) 26ms W', { a: record(ev('a', 10), 2), b: record(ev('b', 20)), W: watermark(25) });
        // Act
        const out = source.pipe(keyedTimers(both), tap((e) => outputs.push(e)));
        // Assert
        expectObservable(out).toBe('(1234) 4ms (56) 6ms (78) 6ms (9ABCW)', {
          1: record('pe:a', 2), 2: sideOutput(tag, 'pe:a', 2), 3: record('pe:b'), 4: sideOutput(tag, 'pe:b'),
          5: record('processing:a'), 6: sideOutput(tag, 'processing:a'), 7: record('processing:b'), 8: sideOutput(tag, 'processing:b'),
          9: record('event:a', 10), A: sideOutput(tag, 'event:a', 10), B: record('event:b', 20), C: sideOutput(tag, 'event:b', 20),
          W: watermark(25),
        });
      });
      // toEqual does not tell an absent key from an undefined one: check the keys themselves.
      expect(outputs.map((e) => 'timestamp' in e)).toEqual([
        true, true, false, false,
        false, false, false, false,
        true, true, true, true, true,
      ]);
    });

    it('stamps event-timer outputs with the timer time, not the watermark time', () => {
      // Act
      const out = collect(stream<Ev>(record(ev('a', 3), 1), watermark(100)).pipe(keyedTimers(eventTimerAtN)));
      // Assert
      expect(out.values).toStrictEqual([{ kind: 'record', value: 'a@3', timestamp: 3 }, watermark(100)]);
    });

    it('stamps a processing-timer output with no timestamp, even when the record that registered it had one', () => {
      const outputs: StreamElement<string>[] = [];
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<KEl>('a', { a: record(ev('a', 3), 50) });
        // Act
        const out = source.pipe(keyedTimers(processingTimerAtN), tap((e) => outputs.push(e)));
        // Assert
        expectObservable(out).toBe('3ms P', { P: record('a@3/3') });
      });
      expect(outputs).toStrictEqual([{ kind: 'record', value: 'a@3/3' }]);
    });

    it('gives ctx.timestamp and ctx.timeDomain of the record in processElement and of the timer in onTimer', () => {
      const seen: Array<[string, number | undefined, string | undefined]> = [];
      newScheduler().run(({ cold, flush }) => {
        // Arrange
        const source = cold<KEl>('(ab) 26ms W', { a: record(ev('a', 10), 2), b: record(ev('b', 20)), W: watermark(25) });
        // Act
        source.pipe(
          keyedTimers<Ev, never>({
            key: (e) => e.k,
            processElement: (e, ctx) => {
              seen.push([`pe:${ctx.key}`, ctx.timestamp, (ctx as unknown as Partial<OnTimerContext<string | number, never, never>>).timeDomain]);
              ctx.timerService.registerEventTimeTimer(e.n);
              ctx.timerService.registerProcessingTimeTimer(e.n);
            },
            onTimer: (_t, ctx) => {
              seen.push([`timer:${ctx.key}`, ctx.timestamp, ctx.timeDomain]);
            },
          }),
        ).subscribe();
        flush();
      });
      // Assert
      expect(seen).toEqual([
        ['pe:a', 2, undefined], ['pe:b', undefined, undefined],
        ['timer:a', 10, 'processing'], ['timer:b', 20, 'processing'],
        ['timer:a', 10, 'event'], ['timer:b', 20, 'event'],
      ]);
    });
  });

  describe('state', () => {
    /** Counts records per key and emits `key=count`; event timers at `n` emit `key:timer=count`. */
    const counting: KeyedProcessFunction<Ev, string, string | number, number> = {
      key: (e) => e.k,
      processElement: (e, ctx) => {
        ctx.state.update((ctx.state.value() ?? 0) + 1);
        if (e.n > 0) ctx.timerService.registerEventTimeTimer(e.n);
        ctx.emit(`${ctx.key}=${ctx.state.value()}`);
      },
      onTimer: (_t, ctx) => ctx.emit(`${ctx.key}:timer=${ctx.state.value()}`),
    };

    it('keeps one state per key', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<KEl>('abab a|', { a: record(ev('a')), b: record(ev('b')) });
        // Act
        const out = source.pipe(keyedTimers(counting));
        // Assert
        expectObservable(out).toBe('abcd e|', {
          a: record('a=1'), b: record('b=1'), c: record('a=2'), d: record('b=2'), e: record('a=3'),
        });
      });
    });

    it('gives onTimer the state of the timer\'s key', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: a counts 2, b counts 1; b's timer fires first, then a's, with b's record last before the watermark.
        const source = cold<KEl>('(aAbW|)', {
          a: record(ev('a', 8)), A: record(ev('a')), b: record(ev('b', 7)), W: watermark(10),
        });
        // Act
        const out = source.pipe(keyedTimers(counting));
        // Assert
        expectObservable(out).toBe('(123BAW|)', {
          1: record('a=1'), 2: record('a=2'), 3: record('b=1'), B: record('b:timer=1', 7), A: record('a:timer=2', 8), W: watermark(10),
        });
      });
    });

    it('treats update(undefined) as clear(), and value() as undefined when unset', () => {
      // Arrange
      const seen: Array<number | undefined> = [];
      const fn: KeyedProcessFunction<Ev, never, string | number, number> = {
        key: (e) => e.k,
        processElement: (e, ctx) => {
          seen.push(ctx.state.value());
          if (e.n === 0) ctx.state.update(7);
          else if (e.n === 1) ctx.state.update(undefined);
          else ctx.state.clear();
          seen.push(ctx.state.value());
        },
      };
      // Act
      collect(stream<Ev>(record(ev('a', 0)), record(ev('a', 1)), record(ev('a', 0)), record(ev('a', 2)), record(ev('a', 0))).pipe(keyedTimers(fn)));
      // Assert
      expect(seen).toEqual([undefined, 7, 7, undefined, undefined, 7, 7, undefined, undefined, 7]);
    });

    it('keeps state that an onTimer sets for the next record of that key', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: the timer of a resets a's count to 10.
        const source = cold<KEl>('(aWb|)', { a: record(ev('a', 1)), W: watermark(1), b: record(ev('a')) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string, string | number, number>({
            ...counting,
            onTimer: (_t, ctx) => ctx.state.update(10),
          }),
        );
        // Assert
        expectObservable(out).toBe('(1W2|)', { 1: record('a=1'), W: watermark(1), 2: record('a=11') });
      });
    });

    it('treats the number 1 and the string \'1\' as different keys, for state and timers', () => {
      const keys: unknown[] = [];
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<KEl>('(abaW|)', { a: record(ev(1, 5)), b: record(ev('1', 5)), W: watermark(5) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string, string | number, number>({
            ...counting,
            onTimer: (_t, ctx) => {
              keys.push(ctx.key);
              ctx.emit(`${typeof ctx.key}:${ctx.state.value()}`);
            },
          }),
        );
        // Assert
        expectObservable(out).toBe('(123NSW|)', {
          1: record('1=1'), 2: record('1=1'), 3: record('1=2'), N: record('number:2', 5), S: record('string:1', 5), W: watermark(5),
        });
      });
      expect(keys).toEqual([1, '1']);
      expect(typeof keys[0]).toBe('number');
      expect(typeof keys[1]).toBe('string');
    });
  });

  describe('processing-time timers', () => {
    it('fires at the scheduler\'s time, earliest first, whatever the registration order', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: one record registers 30, 10 and 20 (keys c, a, b).
        const source = cold<KEl>('(cab)', { c: record(ev('c', 30)), a: record(ev('a', 10)), b: record(ev('b', 20)) });
        // Act
        const out = source.pipe(keyedTimers(processingTimerAtN));
        // Assert
        expectObservable(out).toBe('10ms a 9ms b 9ms c', { a: record('a@10/10'), b: record('b@20/20'), c: record('c@30/30') });
      });
    });

    it('fires timers due at the same time in registration order across keys', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<KEl>('(zam)', { z: record(ev('z', 10)), a: record(ev('a', 10)), m: record(ev('m', 10)) });
        // Act
        const out = source.pipe(keyedTimers(processingTimerAtN));
        // Assert
        expectObservable(out).toBe('10ms (zam)', { z: record('z@10/10'), a: record('a@10/10'), m: record('m@10/10') });
      });
    });

    it('re-arms for an earlier timer registered later', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: 50 is registered at 0, 20 at 5.
        const source = cold<KEl>('a 4ms b', { a: record(ev('a', 50)), b: record(ev('b', 20)) });
        // Act
        const out = source.pipe(keyedTimers(processingTimerAtN));
        // Assert
        expectObservable(out).toBe('20ms b 29ms a', { a: record('a@50/50'), b: record('b@20/20') });
      });
    });

    it('fires a timer in the past or at the present with delay 0, after processElement has returned', () => {
      const log: string[] = [];
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: at 5, a registers processing timers at 2 and 5, then emits.
        const source = cold<KEl>('5ms a', { a: record(ev('a')) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            key: (e) => e.k,
            processElement: (_e, ctx) => {
              log.push('processElement start');
              ctx.timerService.registerProcessingTimeTimer(2);
              ctx.timerService.registerProcessingTimeTimer(5);
              ctx.emit('E');
              log.push('processElement end');
            },
            onTimer: (t, ctx) => {
              log.push(`onTimer ${t} at ${ctx.timerService.currentProcessingTime()}`);
              ctx.emit(`P${t}`);
            },
          }),
        );
        // Assert
        expectObservable(out).toBe('5ms (EPQ)', { E: record('E'), P: record('P2'), Q: record('P5') });
      });
      expect(log).toEqual(['processElement start', 'processElement end', 'onTimer 2 at 5', 'onTimer 5 at 5']);
    });

    it('never fires a past timer synchronously: it waits for the scheduler to run', () => {
      // Arrange: a virtual-time scheduler that runs only when flushed.
      const scheduler = new VirtualTimeScheduler();
      const fn: KeyedProcessFunction<Ev, string> = {
        key: (e) => e.k,
        processElement: (_e, ctx) => {
          ctx.timerService.registerProcessingTimeTimer(-100);
          ctx.emit('E');
        },
        onTimer: (t, ctx) => ctx.emit(`P${t}`),
      };
      // Act
      const out = collect(stream<Ev>(record(ev('a'))).pipe(keyedTimers(fn, { scheduler, processingTimersOnComplete: 'wait' })));
      const beforeFlush = { values: [...out.values], completed: out.completed };
      scheduler.flush();
      // Assert
      expect(beforeFlush).toEqual({ values: [record('E')], completed: false });
      expect(out.values).toEqual([record('E'), record('P-100')]);
      expect(out.completed).toBe(true);
    });

    it('uses the scheduler option for the clock and the timers', () => {
      // Arrange: a VirtualTimeScheduler outside TestScheduler.run, so asyncScheduler stays real.
      const scheduler = new VirtualTimeScheduler();
      const log: Array<[string, number, number]> = [];
      const fn: KeyedProcessFunction<Ev, string> = {
        key: (e) => e.k,
        processElement: (e, ctx) => {
          const now = ctx.timerService.currentProcessingTime();
          log.push(['processElement', now, scheduler.now()]);
          ctx.timerService.registerProcessingTimeTimer(now + e.n);
        },
        onTimer: (t, ctx) => {
          log.push([`onTimer ${t}`, ctx.timerService.currentProcessingTime(), scheduler.now()]);
        },
      };
      const input = new Subject<KEl>();
      const out = collect(input.pipe(keyedTimers(fn, { scheduler })));
      // Act
      input.next(record(ev('a', 5000)));
      input.next(record(ev('b', 3000)));
      const beforeFlush = [...log];
      scheduler.flush();
      // Assert: the timers ran at virtual 3000 and 5000 during flush(), not on the real clock.
      expect(beforeFlush).toEqual([['processElement', 0, 0], ['processElement', 0, 0]]);
      expect(log.slice(2)).toEqual([['onTimer 3000', 3000, 3000], ['onTimer 5000', 5000, 5000]]);
      expect(out.completed).toBe(false);
      input.complete();
      expect(out.completed).toBe(true);
    });
  });

  describe('completion policies', () => {
    /** a registers an event timer at 5 and a processing timer 10 ms ahead; onTimer emits `domain@t`. */
    const oneOfEach: KeyedProcessFunction<Ev, string> = {
      key: (e) => e.k,
      processElement: (_e, ctx) => {
        ctx.timerService.registerEventTimeTimer(5);
        ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 10);
      },
      onTimer: (t, ctx) => ctx.emit(`${ctx.timeDomain}@${t}`),
    };
    const E = record('event@5', 5);
    const P = record('processing@10');

    type Combination = [
      event: 'fire' | 'drop', processing: 'drop' | 'fire' | 'wait', marbles: string,
      counts: { eventTimersFired: number; eventTimersDropped: number; processingTimersFired: number; processingTimersDropped: number },
    ];
    const combinations: Combination[] = [
      ['fire', 'drop', '(E|)', { eventTimersFired: 1, eventTimersDropped: 0, processingTimersFired: 0, processingTimersDropped: 1 }],
      ['fire', 'fire', '(EP|)', { eventTimersFired: 1, eventTimersDropped: 0, processingTimersFired: 1, processingTimersDropped: 0 }],
      ['fire', 'wait', 'E 9ms (P|)', { eventTimersFired: 1, eventTimersDropped: 0, processingTimersFired: 1, processingTimersDropped: 0 }],
      ['drop', 'drop', '|', { eventTimersFired: 0, eventTimersDropped: 1, processingTimersFired: 0, processingTimersDropped: 1 }],
      ['drop', 'fire', '(P|)', { eventTimersFired: 0, eventTimersDropped: 1, processingTimersFired: 1, processingTimersDropped: 0 }],
      ['drop', 'wait', '10ms (P|)', { eventTimersFired: 0, eventTimersDropped: 1, processingTimersFired: 1, processingTimersDropped: 0 }],
    ];

    it.each(combinations)('eventTimersOnComplete %s × processingTimersOnComplete %s: %s', (event, processing, marbles, counts) => {
      const metrics = keyedTimersMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: the source completes right after a.
        const source = cold<KEl>('(a|)', { a: record(ev('a')) });
        // Act
        const out = source.pipe(keyedTimers(oneOfEach, { eventTimersOnComplete: event, processingTimersOnComplete: processing, metrics }));
        // Assert
        expectObservable(out).toBe(marbles, { E, P });
      });
      expect(metrics.snapshot()).toEqual(expect.objectContaining({ ...counts, eventTimers: 0, processingTimers: 0 }));
    });

    it('uses eventTimersOnComplete \'fire\' and processingTimersOnComplete \'drop\' by default', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold<KEl>('(a|)', { a: record(ev('a')) });

        const out = source.pipe(keyedTimers(oneOfEach));

        expectObservable(out).toBe('(E|)', { E });
      });
    });

    it('fires event timers at completion in (timestamp, registration) order, with the ones registered meanwhile', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: timers at 9 (key b) and 4 (key a); the timer at 4 registers 6 for a.
        const source = cold<KEl>('(baW) 3ms |', { b: record(ev('b', 9)), a: record(ev('a', 4)), W: watermark(1) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            ...eventTimerAtN,
            onTimer: (t, ctx) => {
              ctx.emit(`${ctx.key}@${t}`);
              if (t === 4) ctx.timerService.registerEventTimeTimer(6);
            },
          }),
        );
        // Assert: no watermark is emitted at completion.
        expectObservable(out).toBe('W 7ms (123|)', { W: watermark(1), 1: record('a@4', 4), 2: record('a@6', 6), 3: record('b@9', 9) });
      });
    });

    it('fires an event timer at Number.MAX_SAFE_INTEGER ("at end of input") only at completion, stamped with that time', () => {
      const END = Number.MAX_SAFE_INTEGER;
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: a large finite watermark comes at 1; the source completes at 6.
        const source = cold<KEl>('aW 4ms |', { a: record(ev('a', END)), W: watermark(END - 1) });
        // Act
        const out = source.pipe(keyedTimers(eventTimerAtN));
        // Assert
        expectObservable(out).toBe('-W 4ms (E|)', { W: watermark(END - 1), E: record(`a@${END}`, END) });
      });
    });

    it('reports Infinity as the current watermark in every callback after completion', () => {
      const seen: Array<[string, number]> = [];
      newScheduler().run(({ cold, flush }) => {
        // Arrange: event timer at 5 (fires at completion, frame 0), processing timer at 3 (awaited: 'wait').
        const source = cold<KEl>('(aW|)', { a: record(ev('a')), W: watermark(2) });
        // Act
        source.pipe(
          keyedTimers<Ev, never>({
            key: (e) => e.k,
            processElement: (_e, ctx) => {
              seen.push(['processElement', ctx.timerService.currentWatermark()]);
              ctx.timerService.registerEventTimeTimer(5);
              ctx.timerService.registerProcessingTimeTimer(3);
            },
            onTimer: (_t, ctx) => {
              seen.push([ctx.timeDomain, ctx.timerService.currentWatermark()]);
            },
          }, { processingTimersOnComplete: 'wait' }),
        ).subscribe();
        flush();
      });
      // Assert
      expect(seen).toEqual([['processElement', -Infinity], ['event', Infinity], ['processing', Infinity]]);
    });

    it('reports Infinity as the current watermark to processing timers fired at completion (\'fire\')', () => {
      // Arrange
      const seen: number[] = [];
      const fn: KeyedProcessFunction<Ev, never> = {
        key: (e) => e.k,
        processElement: (_e, ctx) => ctx.timerService.registerProcessingTimeTimer(1000),
        onTimer: (_t, ctx) => {
          seen.push(ctx.timerService.currentWatermark());
        },
      };
      // Act
      const out = collect(stream<Ev>(record(ev('a')), watermark(3)).pipe(keyedTimers(fn, { processingTimersOnComplete: 'fire' })));
      // Assert
      expect(seen).toEqual([Infinity]);
      expect(out.completed).toBe(true);
    });

    it('\'fire\': fires every pending processing timer once, at once and in order, and drops (counts) the ones registered meanwhile', () => {
      const metrics = keyedTimersMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: pending at completion: 20 (a) and 10 (b); the timer at 10 registers 15 and 25 for b.
        const source = cold<KEl>('(ab|)', { a: record(ev('a', 20)), b: record(ev('b', 10)) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            ...processingTimerAtN,
            onTimer: (t, ctx) => {
              ctx.emit(`${ctx.key}@${t}/${ctx.timerService.currentProcessingTime()}`);
              if (t === 10) {
                ctx.timerService.registerProcessingTimeTimer(15);
                ctx.timerService.registerProcessingTimeTimer(25);
              }
            },
          }, { processingTimersOnComplete: 'fire', metrics }),
        );
        // Assert: all at frame 0, without timestamps.
        expectObservable(out).toBe('(13|)', { 1: record('b@10/0'), 3: record('a@20/0') });
      });
      expect(metrics.processingTimersFired).toBe(2);
      expect(metrics.processingTimersDropped).toBe(2);
      expect(metrics.processingTimers).toBe(0);
    });

    it('\'fire\': ends even when a processing timer re-arms itself (each pending timer fires once)', () => {
      const metrics = keyedTimersMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: pending at completion: 100 (a) and 5000 (b); every firing re-arms its key 1000 ms later.
        const source = cold<KEl>('(ab|)', { a: record(ev('a', 100)), b: record(ev('b', 5000)) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            ...processingTimerAtN,
            onTimer: (t, ctx) => {
              ctx.emit(`${ctx.key}@${t}`);
              ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 1000);
            },
          }, { processingTimersOnComplete: 'fire', metrics }),
        );
        // Assert
        expectObservable(out).toBe('(ab|)', { a: record('a@100'), b: record('b@5000') });
      });
      expect(metrics.snapshot()).toMatchObject({ processingTimersFired: 2, processingTimersDropped: 2, processingTimers: 0 });
    });

    it('\'fire\': fires processing timers that event timers register at completion after the event timers', () => {
      const metrics = keyedTimersMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: pending at completion: processing 10 and 20, event 1; the event timer registers processing 15 and 25.
        const source = cold<KEl>('(a|)', { a: record(ev('a')) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            key: (e) => e.k,
            processElement: (_e, ctx) => {
              ctx.timerService.registerProcessingTimeTimer(20);
              ctx.timerService.registerProcessingTimeTimer(10);
              ctx.timerService.registerEventTimeTimer(1);
            },
            onTimer: (t, ctx) => {
              ctx.emit(`${ctx.timeDomain}@${t}`);
              if (ctx.timeDomain === 'event') {
                ctx.timerService.registerProcessingTimeTimer(25);
                ctx.timerService.registerProcessingTimeTimer(15);
              }
            },
          }, { processingTimersOnComplete: 'fire', metrics }),
        );
        // Assert
        expectObservable(out).toBe('(E1234|)', {
          E: record('event@1', 1), 1: record('processing@10'), 2: record('processing@15'), 3: record('processing@20'),
          4: record('processing@25'),
        });
      });
      expect(metrics.processingTimersDropped).toBe(0);
    });

    it('\'wait\': keeps firing on the scheduler and completes right after the last timer fires', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: timers at 10 and 30; the one at 10 registers one at 40.
        const source = cold<KEl>('(ab|)', { a: record(ev('a', 30)), b: record(ev('b', 10)) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            ...processingTimerAtN,
            onTimer: (t, ctx) => {
              ctx.emit(`${ctx.key}@${t}`);
              if (t === 10) ctx.timerService.registerProcessingTimeTimer(40);
            },
          }, { processingTimersOnComplete: 'wait' }),
        );
        // Assert
        expectObservable(out).toBe('10ms 1 19ms 2 9ms (3|)', { 1: record('b@10'), 2: record('a@30'), 3: record('b@40') });
      });
    });

    it('\'wait\': completes at once when the last processing timer is deleted by an event timer firing at completion', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: processing timer at 100; event timer at 5 deletes it.
        const source = cold<KEl>('(a|)', { a: record(ev('a')) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            key: (e) => e.k,
            processElement: (_e, ctx) => {
              ctx.timerService.registerProcessingTimeTimer(100);
              ctx.timerService.registerEventTimeTimer(5);
            },
            onTimer: (t, ctx) => {
              ctx.emit(`${ctx.timeDomain}@${t}`);
              ctx.timerService.deleteProcessingTimeTimer(100);
            },
          }, { processingTimersOnComplete: 'wait' }),
        );
        // Assert
        expectObservable(out).toBe('(E|)', { E: record('event@5', 5) });
      });
    });

    it('\'wait\': completes when the last processing timer is deleted by another processing timer', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: timers at 10 and 100 for key a; the one at 10 deletes the one at 100.
        const source = cold<KEl>('(a|)', { a: record(ev('a')) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            key: (e) => e.k,
            processElement: (_e, ctx) => {
              ctx.timerService.registerProcessingTimeTimer(10);
              ctx.timerService.registerProcessingTimeTimer(100);
            },
            onTimer: (t, ctx) => {
              ctx.emit(`p@${t}`);
              ctx.timerService.deleteProcessingTimeTimer(100);
            },
          }, { processingTimersOnComplete: 'wait' }),
        );
        // Assert
        expectObservable(out).toBe('10ms (P|)', { P: record('p@10') });
      });
    });

    it('\'wait\': awaits a processing timer that an event timer registers at completion', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: the event timer at 5 fires at completion (frame 0) and registers a processing timer at 10.
        const source = cold<KEl>('(a|)', { a: record(ev('a')) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            key: (e) => e.k,
            processElement: (_e, ctx) => ctx.timerService.registerEventTimeTimer(5),
            onTimer: (t, ctx) => {
              ctx.emit(`${ctx.timeDomain}@${t}`);
              if (ctx.timeDomain === 'event') ctx.timerService.registerProcessingTimeTimer(10);
            },
          }, { processingTimersOnComplete: 'wait' }),
        );
        // Assert
        expectObservable(out).toBe('E 9ms (P|)', { E: record('event@5', 5), P: record('processing@10') });
      });
    });

    it('\'wait\': an unsubscribe while waiting cancels the remaining processing timers', () => {
      const onTimer = jest.fn();
      const live = new Map<number, number>();
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: the source completes at 0 with a processing timer pending at 20; the subscriber leaves at 10.
        const counting = new CountingScheduler(asyncScheduler);
        const source = cold<KEl>('(a|)', { a: record(ev('a', 20)) });
        for (const t of [5, 15]) timer(t).subscribe(() => live.set(t, counting.live));
        // Act
        const out = source.pipe(keyedTimers({ ...processingTimerAtN, onTimer }, { scheduler: counting, processingTimersOnComplete: 'wait' }));
        // Assert
        expectObservable(out, '^ 9ms !').toBe('');
      });
      expect(live).toEqual(new Map([[5, 1], [15, 0]]));
      expect(onTimer).not.toHaveBeenCalled();
    });

    it('errors instead of completing when an onTimer fired at completion throws', () => {
      const boom = new Error('at completion');
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: two event timers (1 and 2) fire at completion; the first throws.
        const source = cold<KEl>('(ab|)', { a: record(ev('a', 1)), b: record(ev('b', 2)) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            ...eventTimerAtN,
            onTimer: () => {
              throw boom;
            },
          }),
        );
        // Assert
        expectObservable(out).toBe('#', undefined, keyedErrorLike({
          callback: 'onTimer', input: { key: 'a', timestamp: 1, timeDomain: 'event' }, key: 'a', cause: boom,
        }));
      });
    });

    it('\'wait\' with no processing timers pending completes with the source', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold<KEl>('a 2ms |', { a: record(ev('a', 1)) });

        const out = source.pipe(keyedTimers(eventTimerAtN, { processingTimersOnComplete: 'wait' }));

        expectObservable(out).toBe('3ms (1|)', { 1: record('a@1', 1) });
      });
    });

    type AfterCompletion = [processing: 'fire' | 'wait', event: 'fire' | 'drop', marbles: string, eventTimersDropped: number];
    const afterCompletion: AfterCompletion[] = [
      ['wait', 'fire', '10ms (PE|)', 0],
      ['wait', 'drop', '10ms (P|)', 1],
      ['fire', 'fire', '(PE|)', 0],
      ['fire', 'drop', '(P|)', 1],
    ];

    it.each(afterCompletion)(
      'processingTimersOnComplete %s: an event timer registered by a processing onTimer after completion follows eventTimersOnComplete %s',
      (processing, event, marbles, eventTimersDropped) => {
        const metrics = keyedTimersMetrics();
        newScheduler().run(({ cold, expectObservable }) => {
          // Arrange: processing timer at 10; its onTimer registers an event timer at 3.
          const source = cold<KEl>('(a|)', { a: record(ev('a', 10)) });
          // Act
          const out = source.pipe(
            keyedTimers<Ev, string>({
              ...processingTimerAtN,
              onTimer: (t, ctx) => {
                ctx.emit(`${ctx.timeDomain}@${t}`);
                if (ctx.timeDomain === 'processing') ctx.timerService.registerEventTimeTimer(3);
              },
            }, { processingTimersOnComplete: processing, eventTimersOnComplete: event, metrics }),
          );
          // Assert
          expectObservable(out).toBe(marbles, { P: record('processing@10'), E: record('event@3', 3) });
        });
        expect(metrics.eventTimersDropped).toBe(eventTimersDropped);
        expect(metrics.eventTimers).toBe(0);
      },
    );

    it('emits no watermark at completion, with or without timers', () => {
      // Act
      const out = collect(stream<Ev>(record(ev('a', 2)), watermark(1)).pipe(keyedTimers(eventTimerAtN)));
      // Assert
      expect(out.values).toEqual([watermark(1), record('a@2', 2)]);
      expect(out.completed).toBe(true);
    });
  });

  describe('pass-through', () => {
    it('forwards barriers and upstream side-output records in place, untouched, without calling processElement', () => {
      // Arrange
      const tag = outputTag<string>('upstream');
      const B = barrier(1);
      const s = sideOutput(tag, 'from upstream', 3);
      const W = watermark(2);
      const processElement = jest.fn((v: string, ctx: KeyedContext<string | number, string, unknown>) => ctx.emit(v));
      // Act
      const out = collect(stream<string>(record('a', 1), B, s, W, record('b', 3)).pipe(keyedTimers({ key: (v: string) => v, processElement })));
      // Assert
      expect(out.values).toEqual([record('a', 1), B, s, W, record('b', 3)]);
      expect(out.values[1]).toBe(B);
      expect(out.values[2]).toBe(s);
      expect(out.values[3]).toBe(W);
      expect(processElement.mock.calls.map((c) => c[0])).toEqual(['a', 'b']);
    });

    it('keeps barriers in place among timer outputs', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<KEl>('a B 2ms W 4ms B|', { a: record(ev('a', 1)), B: barrier(7), W: watermark(1) });
        // Act
        const out = source.pipe(keyedTimers(eventTimerAtN));
        // Assert
        expectObservable(out).toBe('-B 2ms (1W)-B|', { B: barrier(7), 1: record('a@1', 1), W: watermark(1) });
      });
    });
  });

  describe('re-entrancy', () => {
    it('processes input pushed from downstream during processElement after that call returns, never interleaved', () => {
      // Arrange: the downstream feeds b and c back into the input when it sees a.
      const input = new Subject<StreamElement<string>>();
      const log: string[] = [];
      const out = input.pipe(
        keyedTimers<string, string>({
          key: (v) => v,
          processElement: (v, ctx) => {
            log.push(`processElement(${v}) start`);
            ctx.emit(v);
            log.push(`processElement(${v}) end`);
          },
        }),
      );
      out.subscribe((e) => {
        const v = valueOf(e);
        log.push(`next(${v})`);
        if (v === 'a') {
          input.next(record('b'));
          input.next(record('c'));
          log.push('pushed b, c');
        }
      });
      // Act
      input.next(record('a'));
      log.push('input.next(a) returned');
      // Assert
      expect(log).toEqual([
        'processElement(a) start', 'next(a)', 'pushed b, c', 'processElement(a) end',
        'processElement(b) start', 'next(b)', 'processElement(b) end',
        'processElement(c) start', 'next(c)', 'processElement(c) end',
        'input.next(a) returned',
      ]);
    });

    it('processes input pushed from downstream during an onTimer batch after the watermark\'s whole advance', () => {
      // Arrange: timers at 1 (a) and 2 (b); the downstream pushes record x when it sees a's timer output.
      const input = new Subject<StreamElement<Ev>>();
      const log: string[] = [];
      const out = input.pipe(
        keyedTimers<Ev, string>({
          key: (e) => e.k,
          processElement: (e, ctx) => {
            log.push(`processElement(${e.k}) start`);
            if (e.n > 0) ctx.timerService.registerEventTimeTimer(e.n);
            log.push(`processElement(${e.k}) end`);
          },
          onTimer: (t, ctx) => {
            log.push(`onTimer(${ctx.key}@${t}) start`);
            ctx.emit(`${ctx.key}@${t}`);
            log.push(`onTimer(${ctx.key}@${t}) end`);
          },
        }),
      );
      out.subscribe((e) => {
        const v = valueOf(e);
        log.push(`next(${v})`);
        if (v === 'a@1') input.next(record(ev('x')));
      });
      input.next(record(ev('a', 1)));
      input.next(record(ev('b', 2)));
      log.length = 0;
      // Act
      input.next(watermark(5));
      // Assert
      expect(log).toEqual([
        'onTimer(a@1) start', 'next(a@1)', 'onTimer(a@1) end',
        'onTimer(b@2) start', 'next(b@2)', 'onTimer(b@2) end',
        'next(watermark)',
        'processElement(x) start', 'processElement(x) end',
      ]);
    });

    it('stops calling onTimer when a downstream take(n) unsubscribes in the middle of a batch of event timers', () => {
      const onTimer = jest.fn((t: number, ctx: OnTimerContext<string | number, string, unknown>) => {
        ctx.emit(`${ctx.key}@${t}`);
      });
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: timers at 1, 2, 3 all due at W(5).
        const source = cold<KEl>('(abcW)', { a: record(ev('a', 1)), b: record(ev('b', 2)), c: record(ev('c', 3)), W: watermark(5) });
        // Act
        const out = source.pipe(keyedTimers<Ev, string>({ ...eventTimerAtN, onTimer }), take(2));
        // Assert
        expectObservable(out).toBe('(12|)', { 1: record('a@1', 1), 2: record('b@2', 2) });
      });
      expect(onTimer.mock.calls.map((c) => c[0])).toEqual([1, 2]);
    });

    it('stops calling onTimer when a downstream take(n) unsubscribes in the middle of a batch of processing timers', () => {
      const onTimer = jest.fn((t: number, ctx: OnTimerContext<string | number, string, unknown>) => {
        ctx.emit(`${ctx.key}@${t}`);
      });
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: three processing timers due at 10.
        const source = cold<KEl>('(abc)', { a: record(ev('a', 10)), b: record(ev('b', 10)), c: record(ev('c', 10)) });
        // Act
        const out = source.pipe(keyedTimers<Ev, string>({ ...processingTimerAtN, onTimer }), take(1));
        // Assert
        expectObservable(out).toBe('10ms (1|)', { 1: record('a@10') });
      });
      expect(onTimer).toHaveBeenCalledTimes(1);
    });
  });

  describe('unsubscribe', () => {
    it('cancels the scheduled processing-time action, and later time advances call nothing', () => {
      const onTimer = jest.fn();
      const live = new Map<number, number>();
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: a timer at 50; the subscriber leaves at 10.
        const counting = new CountingScheduler(asyncScheduler);
        const source = cold<KEl>('a', { a: record(ev('a', 50)) });
        for (const t of [5, 20]) timer(t).subscribe(() => live.set(t, counting.live));
        // Act
        const out = source.pipe(keyedTimers({ ...processingTimerAtN, onTimer }, { scheduler: counting }));
        // Assert
        expectObservable(out, '^ 9ms !').toBe('');
        timer(100).subscribe(() => live.set(100, counting.live));
      });
      expect(live).toEqual(new Map([[5, 1], [20, 0], [100, 0]]));
      expect(onTimer).not.toHaveBeenCalled();
    });

    it('keeps one scheduled action for the earliest timer, and none once no processing timer remains', () => {
      const live = new Map<number, number>();
      const onTimer = jest.fn();
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: 50 registered at 0, 20 registered at 5 (re-arms), 70 at 8 (no change); at 12 all are deleted.
        const counting = new CountingScheduler(asyncScheduler);
        const source = cold<KEl>('a 4ms b 2ms c 3ms d', { a: record(ev('a', 50)), b: record(ev('a', 20)), c: record(ev('a', 70)), d: record(ev('a', -1)) });
        for (const t of [1, 6, 9, 13]) timer(t).subscribe(() => live.set(t, counting.live));
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            key: (e) => e.k,
            processElement: (e, ctx) => {
              if (e.n > 0) ctx.timerService.registerProcessingTimeTimer(e.n);
              else for (const t of [20, 50, 70]) ctx.timerService.deleteProcessingTimeTimer(t);
            },
            onTimer,
          }, { scheduler: counting }),
        );
        // Assert
        expectObservable(out).toBe('');
      });
      expect(live).toEqual(new Map([[1, 1], [6, 1], [9, 1], [13, 0]]));
      expect(onTimer).not.toHaveBeenCalled();
    });

    it('unsubscribes from the source and calls nothing after an unsubscribe', () => {
      const processElement = jest.fn((e: Ev, ctx: KeyedContext<string | number, never, unknown>) => ctx.timerService.registerEventTimeTimer(e.n));
      const onTimer = jest.fn();
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        // Arrange: a at 0 registers an event timer at 1; the subscriber leaves at 5; more input would come at 10 and 20.
        const source = cold<KEl>('a 9ms a 9ms W', { a: record(ev('a', 1)), W: watermark(5) });
        // Act
        const out = source.pipe(keyedTimers({ key: (e: Ev) => e.k, processElement, onTimer }));
        // Assert
        expectObservable(out, '^ 4ms !').toBe('');
        expectSubscriptions(source.subscriptions).toBe('^ 4ms !');
      });
      expect(processElement).toHaveBeenCalledTimes(1);
      expect(onTimer).not.toHaveBeenCalled();
    });
  });

  describe('ctx lifetime', () => {
    const tag = outputTag<string>('t');
    const uses: Array<[string, (ctx: KeyedContext<string | number, string, number>) => void]> = [
      ['emit', (ctx) => ctx.emit('x')],
      ['output', (ctx) => ctx.output(tag, 'x')],
      ['state.value', (ctx) => ctx.state.value()],
      ['state.update', (ctx) => ctx.state.update(1)],
      ['state.clear', (ctx) => ctx.state.clear()],
      ['timerService.registerEventTimeTimer', (ctx) => ctx.timerService.registerEventTimeTimer(1)],
      ['timerService.registerProcessingTimeTimer', (ctx) => ctx.timerService.registerProcessingTimeTimer(1)],
      ['timerService.deleteEventTimeTimer', (ctx) => ctx.timerService.deleteEventTimeTimer(1)],
      ['timerService.deleteProcessingTimeTimer', (ctx) => ctx.timerService.deleteProcessingTimeTimer(1)],
    ];

    it.each(uses)('throws when ctx.%s is used after processElement has returned, and changes nothing', (_name, use) => {
      // Arrange
      let saved: KeyedContext<string | number, string, number> | undefined;
      const metrics = keyedTimersMetrics();
      const input = new Subject<StreamElement<string>>();
      const out = collect(input.pipe(keyedTimers<string, string, string | number, number>({
        key: (v) => v,
        processElement: (_v, ctx) => {
          saved = ctx;
        },
      }, { metrics })));
      input.next(record('a', 1));
      // Act / Assert
      expect(() => use(saved!)).toThrow(Error);
      expect(out.values).toEqual([]);
      expect(out.error).toBeUndefined();
      expect(metrics.snapshot()).toEqual(expect.objectContaining({ emitted: 0, sideOutputs: 0, keysWithState: 0, eventTimers: 0, processingTimers: 0 }));
    });

    it.each(uses)('throws when ctx.%s is used after onTimer has returned', (_name, use) => {
      // Arrange
      let saved: KeyedContext<string | number, string, number> | undefined;
      const fn: KeyedProcessFunction<string, string, string | number, number> = {
        key: (v) => v,
        processElement: (_v, ctx) => ctx.timerService.registerEventTimeTimer(1),
        onTimer: (_t, ctx) => {
          saved = ctx;
        },
      };
      const input = new Subject<StreamElement<string>>();
      collect(input.pipe(keyedTimers(fn)));
      input.next(record('a', 1));
      input.next(watermark(1));
      // Act / Assert
      expect(saved).toBeDefined();
      expect(() => use(saved!)).toThrow(Error);
    });
  });

  describe('errors', () => {
    it('errors with KeyedProcessError when key throws, with the record value, no key and the cause', () => {
      const boom = new Error('key broke');
      const errors: unknown[] = [];
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<KEl>('ab', { a: record(ev('a')), b: record(ev('b')) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            key: (e) => {
              if (e.k === 'b') throw boom;
              return e.k;
            },
            processElement: (e, ctx) => ctx.emit(String(e.k)),
          }),
          captureError(errors),
        );
        // Assert
        expectObservable(out).toBe('a#', { a: record('a') }, keyedErrorLike({ callback: 'key', input: ev('b'), key: undefined, cause: boom }));
      });
      expect(errors[0]).toBeInstanceOf(KeyedProcessError);
      expect((errors[0] as KeyedProcessError).cause).toBe(boom);
    });

    it('errors with KeyedProcessError when processElement throws, with the record value, its key and the cause', () => {
      const boom = new Error('processElement broke');
      const errors: unknown[] = [];
      const failing = ev(7, 2);
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<KEl>('a-b', { a: record(ev('a', 1)), b: record(failing, 4) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            key: (e) => e.k,
            processElement: (e, ctx) => {
              ctx.emit(`before ${e.n}`);
              if (e.n === 2) throw boom;
            },
          }),
          captureError(errors),
        );
        // Assert: what was emitted before the throw is kept.
        expectObservable(out).toBe('a-(b#)', { a: record('before 1'), b: record('before 2', 4) }, keyedErrorLike({
          callback: 'processElement', input: ev(7, 2), key: 7, cause: boom,
        }));
      });
      expect(errors[0]).toBeInstanceOf(KeyedProcessError);
      expect((errors[0] as KeyedProcessError).input).toBe(failing);
    });

    it.each(['event', 'processing'] as const)('errors with KeyedProcessError when an %s onTimer throws, with the timer as input', (domain) => {
      const boom = new Error('onTimer broke');
      const onTimer = jest.fn(() => {
        throw boom;
      });
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: a timer at 5 (and a second one at 5 for key b, which must not fire); for event time the
        // watermark comes at 5.
        const source = cold<KEl>(domain === 'event' ? '(ab) 1ms W' : '(ab)', { a: record(ev('a', 5)), b: record(ev('b', 5)), W: watermark(5) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            key: (e) => e.k,
            processElement: (e, ctx) => {
              if (domain === 'event') ctx.timerService.registerEventTimeTimer(e.n);
              else ctx.timerService.registerProcessingTimeTimer(e.n);
            },
            onTimer,
          }),
        );
        // Assert
        expectObservable(out).toBe('5ms #', undefined, keyedErrorLike({
          callback: 'onTimer', input: { key: 'a', timestamp: 5, timeDomain: domain }, key: 'a', cause: boom,
        }));
      });
      expect(onTimer).toHaveBeenCalledTimes(1);
    });

    it.each([
      ['NaN', NaN],
      ['an object', { id: 1 }],
      ['undefined', undefined],
      ['null', null],
      ['a boolean', true],
    ])('errors with KeyedProcessError (callback key, TypeError cause) when key returns %s', (_label, returned) => {
      const errors: unknown[] = [];
      const processElement = jest.fn();
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<StreamElement<string>>('a', { a: record('v', 1) });
        // Act
        const out = source.pipe(keyedTimers({ key: () => returned as never, processElement }), captureError(errors));
        // Assert
        expectObservable(out).toBe('#', undefined, keyedErrorLike({ callback: 'key', input: 'v', key: undefined }));
      });
      expect((errors[0] as KeyedProcessError).cause).toBeInstanceOf(TypeError);
      expect(processElement).not.toHaveBeenCalled();
    });

    it.each([
      ['registerEventTimeTimer(NaN)', (ctx: KeyedContext<string | number, string, unknown>) => ctx.timerService.registerEventTimeTimer(NaN)],
      ['registerEventTimeTimer(\'5\')', (ctx: KeyedContext<string | number, string, unknown>) => ctx.timerService.registerEventTimeTimer('5' as never)],
      ['registerEventTimeTimer(Infinity)', (ctx: KeyedContext<string | number, string, unknown>) => ctx.timerService.registerEventTimeTimer(Infinity)],
      ['registerEventTimeTimer(-Infinity)', (ctx: KeyedContext<string | number, string, unknown>) => ctx.timerService.registerEventTimeTimer(-Infinity)],
      ['registerProcessingTimeTimer(Infinity)', (ctx: KeyedContext<string | number, string, unknown>) => ctx.timerService.registerProcessingTimeTimer(Infinity)],
      ['registerProcessingTimeTimer(-Infinity)', (ctx: KeyedContext<string | number, string, unknown>) => ctx.timerService.registerProcessingTimeTimer(-Infinity)],
      ['registerProcessingTimeTimer(NaN)', (ctx: KeyedContext<string | number, string, unknown>) => ctx.timerService.registerProcessingTimeTimer(NaN)],
      ['output(null, v)', (ctx: KeyedContext<string | number, string, unknown>) => ctx.output(null as never, 'v')],
      ['output(undefined, v)', (ctx: KeyedContext<string | number, string, unknown>) => ctx.output(undefined as never, 'v')],
      ['output({}, v)', (ctx: KeyedContext<string | number, string, unknown>) => ctx.output({} as never, 'v')],
    ])('errors with KeyedProcessError with a TypeError cause on %s in processElement', (_label, misuse) => {
      const errors: unknown[] = [];
      const metrics = keyedTimersMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<StreamElement<string>>('a', { a: record('v', 1) });
        // Act
        const out = source.pipe(keyedTimers({ key: (v: string) => v, processElement: (_v, ctx) => misuse(ctx) }, { metrics }), captureError(errors));
        // Assert
        expectObservable(out).toBe('#', undefined, keyedErrorLike({ callback: 'processElement', input: 'v', key: 'v' }));
      });
      expect((errors[0] as KeyedProcessError).cause).toBeInstanceOf(TypeError);
      expect(metrics.sideOutputs).toBe(0);
    });

    it.each([
      ['a number', 5],
      ['null', null],
      ['a string', 'record'],
    ])('errors with a TypeError (not KeyedProcessError) when the input element is %s', (_label, element) => {
      // Arrange
      const processElement = jest.fn();
      const source = of(element) as unknown as Observable<StreamElement<string>>;
      // Act
      const out = collect(source.pipe(keyedTimers({ key: (v: string) => v, processElement })));
      // Assert
      expect(out.error).toBeInstanceOf(TypeError);
      expect(out.error).not.toBeInstanceOf(KeyedProcessError);
      expect(processElement).not.toHaveBeenCalled();
    });

    it('passes an upstream error through unchanged, and fires no pending timer', () => {
      const upstream = new Error('upstream');
      const errors: unknown[] = [];
      const onTimer = jest.fn();
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: a processing timer at 10 and an event timer at 1 are pending when the source errors at 3.
        const source = cold<KEl>('a 2ms #', { a: record(ev('a', 10)) }, upstream);
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            key: (e) => e.k,
            processElement: (e, ctx) => {
              ctx.timerService.registerProcessingTimeTimer(e.n);
              ctx.timerService.registerEventTimeTimer(1);
            },
            onTimer,
          }, { processingTimersOnComplete: 'wait' }),
          captureError(errors),
        );
        // Assert
        expectObservable(out).toBe('3ms #', undefined, upstream);
      });
      expect(errors[0]).toBe(upstream);
      expect(onTimer).not.toHaveBeenCalled();
    });

    it('calls nothing after an error, and cancels pending processing timers', () => {
      const calls: string[] = [];
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange: a registers a processing timer at 10; b throws at 2; c would come at 4.
        const source = cold<KEl>('a-b-c', { a: record(ev('a', 10)), b: record(ev('b')), c: record(ev('c')) });
        // Act
        const out = source.pipe(
          keyedTimers<Ev, string>({
            key: (e) => e.k,
            processElement: (e, ctx) => {
              calls.push(`processElement ${e.k}`);
              if (e.k === 'a') ctx.timerService.registerProcessingTimeTimer(e.n);
              if (e.k === 'b') throw new Error('b');
            },
            onTimer: () => {
              calls.push('onTimer');
            },
          }),
        );
        // Assert
        expectObservable(out).toBe('--#', undefined, keyedErrorLike({ callback: 'processElement' }));
      });
      expect(calls).toEqual(['processElement a', 'processElement b']);
    });
  });

  describe('without onTimer', () => {
    it('consumes due timers silently', () => {
      const metrics = keyedTimersMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<KEl>('a 2ms W 9ms |', { a: record(ev('a', 4)), W: watermark(4) });
        // Act
        const out = source.pipe(keyedTimers<Ev, string>({
          key: (e) => e.k,
          processElement: (e, ctx) => {
            ctx.timerService.registerEventTimeTimer(e.n);
            ctx.timerService.registerProcessingTimeTimer(e.n);
          },
        }, { metrics }));
        // Assert
        expectObservable(out).toBe('3ms W 9ms |', { W: watermark(4) });
      });
      expect(metrics.snapshot()).toEqual(expect.objectContaining({ eventTimersFired: 1, processingTimersFired: 1, eventTimers: 0, processingTimers: 0 }));
    });
  });

  describe('with the real asyncScheduler', () => {
    it('fires a short processing timer for real and completes after it (\'wait\')', async () => {
      // Arrange
      const seen: Array<{ t: number; now: number }> = [];
      const fn: KeyedProcessFunction<string, string> = {
        key: (v) => v,
        processElement: (_v, ctx) => ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 5),
        onTimer: (t, ctx) => {
          seen.push({ t, now: ctx.timerService.currentProcessingTime() });
          ctx.emit(`fired ${ctx.key}`);
        },
      };
      const options: KeyedTimersOptions = { scheduler: asyncScheduler, processingTimersOnComplete: 'wait' };
      // Act
      const out = await lastValueFrom(of(record('a')).pipe(keyedTimers(fn, options), values(), toArray()));
      // Assert
      expect(out).toEqual(['fired a']);
      expect(seen).toHaveLength(1);
      expect(seen[0].now).toBeGreaterThanOrEqual(seen[0].t);
    });
  });
});
