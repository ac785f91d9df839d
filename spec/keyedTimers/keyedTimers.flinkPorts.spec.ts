import { type TestScheduler } from 'rxjs/testing';
import { NEVER, concat, from, merge, tap } from 'rxjs';
import {
  KeyedProcessError, keyedTimers, keyedTimersMetrics, mainOutput, outputTag, record, selectTag, sideOutput, watermark,
  type KeyedProcessFunction, type KeyedTimersMetrics, type StreamElement, type TimeDomain,
} from 'rxjs-sluice';
import { captureError, collect, newScheduler, stream } from '../support/marbles';
import { CountingScheduler } from '../support/countingScheduler';

/**
 * Ports of Apache Flink's KeyedProcessOperatorTest and InternalTimerServiceImplTest to keyedTimers. Each test is
 * named after the Flink test it ports. Flink's test harness (processWatermark / processElement /
 * setProcessingTime) becomes a cold marble source in virtual time (TestScheduler.run: 1 frame = 1 ms, and every
 * character of a `(...)` group advances one frame too), so `setProcessingTime(t)` is "an element at frame t".
 *
 * InternalTimerServiceImplTest drives the timer service directly with a current key and a namespace. keyedTimers
 * has no namespaces and no direct access to its timer service, so here the timers are registered and deleted by
 * records (a `Command` carries the key and the timestamps), the key is `${key}/${namespace}`, and Flink's
 * TestProcessingTimeService (getNumActiveTimers / getActiveTimerTimestamps) is a CountingScheduler (its `live` /
 * `liveDueTimes`) wrapped around the TestScheduler. "Probe" records report the timer gauges and the live physical
 * timers at chosen frames. Snapshot/restore and key-group tests are not ported: keyedTimers has neither.
 */

type Out = StreamElement<string>;

// ---- the timer-service harness ------------------------------------------------------------------------------------

/** One record of the InternalTimerServiceImplTest ports: what to do with the timers of `key`. */
interface Command {
  readonly key: string;
  readonly registerEvent?: readonly number[];
  readonly registerProcessing?: readonly number[];
  readonly deleteEvent?: readonly number[];
  readonly deleteProcessing?: readonly number[];
  /** Emit a report of the timer gauges and live physical timers instead. */
  readonly probe?: true;
}

const PROBE: StreamElement<Command> = record({ key: 'probe', probe: true });
const registerEvent = (key: string, ...timestamps: number[]) => record<Command>({ key, registerEvent: timestamps });
const registerProcessing = (key: string, ...timestamps: number[]) => record<Command>({ key, registerProcessing: timestamps });
const deleteEvent = (key: string, ...timestamps: number[]) => record<Command>({ key, deleteEvent: timestamps });
const deleteProcessing = (key: string, ...timestamps: number[]) => record<Command>({ key, deleteProcessing: timestamps });

/** What a probe emits: the pending timers of each domain and the physical timers' due times. */
const report = (event: number, processing: number, physical: number[]) =>
  record(`event=${event} processing=${processing} physical=[${physical.join(',')}]`);

/** What onTimer emits for a fired timer (with the timer's timestamp for event time, none for processing time). */
const fired = (key: string, timestamp: number, domain: TimeDomain) =>
  domain === 'event' ? record(`${key}@${timestamp}`, timestamp) : record(`${key}@${timestamp}`);

/**
 * Flink's mock Triggerable: applies each Command to its key's timers, answers probes, and emits `key@timestamp`
 * for every fired timer; `onFire` runs after that inside onTimer (Flink's doAnswer on the mock).
 */
function commandFunction(
  metrics: KeyedTimersMetrics,
  clock: CountingScheduler | undefined,
  onFire?: (timestamp: number, register: (t: number) => void) => void,
): KeyedProcessFunction<Command, string, string> {
  return {
    key: (c) => c.key,
    processElement: (c, ctx) => {
      if (c.probe) {
        ctx.emit(report(metrics.eventTimers, metrics.processingTimers, clock?.liveDueTimes ?? []).value);
        return;
      }
      const timers = ctx.timerService;
      for (const t of c.registerEvent ?? []) timers.registerEventTimeTimer(t);
      for (const t of c.registerProcessing ?? []) timers.registerProcessingTimeTimer(t);
      for (const t of c.deleteEvent ?? []) timers.deleteEventTimeTimer(t);
      for (const t of c.deleteProcessing ?? []) timers.deleteProcessingTimeTimer(t);
    },
    onTimer: (timestamp, ctx) => {
      ctx.emit(`${ctx.key}@${timestamp}`);
      const domain = ctx.timeDomain;
      onFire?.(timestamp, (t) =>
        domain === 'event' ? ctx.timerService.registerEventTimeTimer(t) : ctx.timerService.registerProcessingTimeTimer(t));
    },
  };
}

/** A stream laid out in virtual time: which elements happen at which frame (each frame's elements in order). */
type Timeline<T> = ReadonlyArray<readonly [frame: number, elements: ReadonlyArray<StreamElement<T>>]>;

/**
 * Writes a timeline as a marble string with its values, for cold() and toBe(). Throws when a frame falls inside
 * the previous group (a group of n elements occupies n + 2 frames), rather than silently shifting it.
 */
function marblesOf<T>(timeline: Timeline<T>): { marble: string; values: Record<string, StreamElement<T>> } {
  const symbols = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const values: Record<string, StreamElement<T>> = {};
  let marble = '';
  let cursor = 0;
  let used = 0;
  for (const [frame, elements] of timeline) {
    if (frame < cursor) throw new Error(`marblesOf: frame ${frame} lies inside the previous group, which ends at ${cursor}`);
    if (used + elements.length > symbols.length) throw new Error('marblesOf: too many values');
    if (frame > cursor) marble += ` ${frame - cursor}ms `;
    const letters = elements.map((element) => {
      const symbol = symbols[used++]!;
      values[symbol] = element;
      return symbol;
    }).join('');
    marble += elements.length === 1 ? letters : `(${letters})`;
    cursor = frame + (elements.length === 1 ? 1 : elements.length + 2);
  }
  return { marble, values };
}

/**
 * Runs `Command` records laid out as `input` through keyedTimers (with `metrics`, on a CountingScheduler around
 * the TestScheduler) and expects exactly `expected`. Returns the CountingScheduler, to inspect after the run.
 */
function expectTimeline(
  scheduler: TestScheduler,
  metrics: KeyedTimersMetrics,
  input: Timeline<Command>,
  expected: Timeline<string>,
  onFire?: (timestamp: number, register: (t: number) => void) => void,
): CountingScheduler {
  const counting = new CountingScheduler(scheduler);
  scheduler.run(({ cold, expectObservable }) => {
    const source = marblesOf(input);
    const out = cold<StreamElement<Command>>(source.marble, source.values).pipe(
      keyedTimers(commandFunction(metrics, counting, onFire), { scheduler: counting, metrics }),
    );
    const want = marblesOf(expected);
    expectObservable(out).toBe(want.marble, want.values);
  });
  return counting;
}

// ---- KeyedProcessOperatorTest ---------------------------------------------------------------------------------------

/** Flink's QueryingFlatMapFunction: reports the watermark or the processing time, and the record's timestamp. */
const queryingFunction = (domain: TimeDomain): KeyedProcessFunction<number, string, number> => ({
  key: (x) => x,
  processElement: (x, ctx) => {
    const time = domain === 'event' ? ctx.timerService.currentWatermark() : ctx.timerService.currentProcessingTime();
    ctx.emit(`${x}TIME:${time} TS:${ctx.timestamp ?? 'null'}`);
  },
  onTimer: () => {},
});

/** Flink's TriggeringFlatMapFunction: echoes the record and sets a timer 5 ms ahead; the timer emits 1777. */
function triggeringFunction(domain: TimeDomain, seen: Array<[key: number, domain: TimeDomain]>): KeyedProcessFunction<number, number, number> {
  return {
    key: (x) => x,
    processElement: (x, ctx) => {
      ctx.emit(x);
      if (domain === 'event') ctx.timerService.registerEventTimeTimer(ctx.timerService.currentWatermark() + 5);
      else ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 5);
    },
    onTimer: (_t, ctx) => {
      seen.push([ctx.key, ctx.timeDomain]);
      ctx.emit(1777);
    },
  };
}

/**
 * Flink's TriggeringStatefulFlatMapFunction: the first record of a key emits INPUT, keeps the value and sets a
 * timer 5 ms ahead; the second clears the state and deletes a timer 4 ms ahead (the one set 1 ms earlier). The
 * timer emits the state of its own key.
 */
function triggeringStatefulFunction(domain: TimeDomain, seen: TimeDomain[]): KeyedProcessFunction<number, string, number, number> {
  return {
    key: (x) => x,
    processElement: (x, ctx) => {
      const timers = ctx.timerService;
      if (ctx.state.value() === undefined) {
        ctx.emit(`INPUT:${x}`);
        ctx.state.update(x);
        if (domain === 'event') timers.registerEventTimeTimer(timers.currentWatermark() + 5);
        else timers.registerProcessingTimeTimer(timers.currentProcessingTime() + 5);
      } else {
        ctx.state.clear();
        if (domain === 'event') timers.deleteEventTimeTimer(timers.currentWatermark() + 4);
        else timers.deleteProcessingTimeTimer(timers.currentProcessingTime() + 4);
      }
    },
    onTimer: (_t, ctx) => {
      seen.push(ctx.timeDomain);
      ctx.emit(`STATE:${ctx.state.value()}`);
    },
  };
}

describe('KeyedProcessOperatorTest (Apache Flink, ported)', () => {
  it('testKeyQuerying', () => {
    const scheduler = newScheduler();
    const keys: number[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange: KeyQueryingProcessFunction over (key, text) pairs keyed by the first field.
      const source = cold<StreamElement<[number, string]>>('ab', { a: record([5, '5'], 12), b: record([42, '42'], 13) });
      // Act
      const out = source.pipe(
        keyedTimers<[number, string], string, number>({
          key: (pair) => pair[0],
          processElement: (pair, ctx) => {
            keys.push(ctx.key);
            ctx.emit(pair[1]);
          },
        }),
      );
      // Assert: the output proves processElement ran; ctx.key was each record's own key.
      expectObservable(out).toBe('AB', { A: record('5', 12), B: record('42', 13) });
    });
    expect(keys).toEqual([5, 42]);
  });

  it('testTimestampAndWatermarkQuerying', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange: WM17, 5@12, WM42, 6@13.
      const source = cold<StreamElement<number>>('abcd', { a: watermark(17), b: record(5, 12), c: watermark(42), d: record(6, 13) });
      // Act
      const out = source.pipe(keyedTimers(queryingFunction('event')));
      // Assert: each record sees the watermark before it and its own timestamp, and keeps that timestamp.
      expectObservable(out).toBe('ABCD', {
        A: watermark(17), B: record('5TIME:17 TS:12', 12), C: watermark(42), D: record('6TIME:42 TS:13', 13),
      });
    });
  });

  it('testTimestampAndProcessingTimeQuerying', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange: setProcessingTime(17), 5 (no timestamp), setProcessingTime(42), 6 (no timestamp).
      const source = cold<StreamElement<number>>('17ms a 24ms b', { a: record(5), b: record(6) });
      // Act
      const out = source.pipe(keyedTimers(queryingFunction('processing')));
      // Assert: processing time is the scheduler's clock; records without a timestamp give outputs without one.
      expectObservable(out).toBe('17ms A 24ms B', { A: record('5TIME:17 TS:null'), B: record('6TIME:42 TS:null') });
    });
  });

  it('testEventTimeTimers', () => {
    const scheduler = newScheduler();
    const seen: Array<[number, TimeDomain]> = [];
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange: WM0, 17@42 (registers an event timer at watermark + 5 = 5), WM5.
      const source = cold<StreamElement<number>>('abc', { a: watermark(0), b: record(17, 42), c: watermark(5) });
      // Act
      const out = source.pipe(keyedTimers(triggeringFunction('event', seen)));
      // Assert: the timer fires at WM5, stamped 5, before WM5 is forwarded.
      expectObservable(out).toBe('ab(cd)', { a: watermark(0), b: record(17, 42), c: record(1777, 5), d: watermark(5) });
    });
    expect(seen).toEqual([[17, 'event']]);
  });

  it('testProcessingTimeTimers', () => {
    const scheduler = newScheduler();
    const seen: Array<[number, TimeDomain]> = [];
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange: 17 at processing time 0 registers a processing timer at 0 + 5.
      const source = cold<StreamElement<number>>('a', { a: record(17) });
      // Act
      const out = source.pipe(keyedTimers(triggeringFunction('processing', seen)));
      // Assert: setProcessingTime(5) fires it; a processing-time timer's output has no timestamp.
      expectObservable(out).toBe('A 4ms B', { A: record(17), B: record(1777) });
    });
    expect(seen).toEqual([[17, 'processing']]);
  });

  it('testEventTimeTimerWithState', () => {
    const scheduler = newScheduler();
    const seen: TimeDomain[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange: WM1, 17@0 (timer at 6), 13@0 (timer at 6), WM2, 42@1 (timer at 7), 13@1 (clears 13's state and
      // deletes its timer at 2 + 4 = 6), then WM6 at frame 10 and WM7 at frame 20.
      const source = cold<StreamElement<number>>('abcdef 4ms g 9ms h', {
        a: watermark(1), b: record(17, 0), c: record(13, 0), d: watermark(2), e: record(42, 1), f: record(13, 1),
        g: watermark(6), h: watermark(7),
      });
      // Act
      const out = source.pipe(keyedTimers(triggeringStatefulFunction('event', seen)));
      // Assert: exactly Flink's expected output. The second 13 emits nothing, and its deleted timer never fires;
      // each timer sees only its own key's state.
      expectObservable(out).toBe('ABCDE 5ms (FG) 6ms (HI)', {
        A: watermark(1), B: record('INPUT:17', 0), C: record('INPUT:13', 0), D: watermark(2), E: record('INPUT:42', 1),
        F: record('STATE:17', 6), G: watermark(6), H: record('STATE:42', 7), I: watermark(7),
      });
    });
    expect(seen).toEqual(['event', 'event']);
  });

  it('testProcessingTimeTimerWithState', () => {
    const scheduler = newScheduler();
    const seen: TimeDomain[] = [];
    const log: Array<[frame: number, element: Out]> = [];
    scheduler.run(({ cold }) => {
      // Arrange: at processing time 1: 17 (timer at 6), 13 (timer at 6); at 2: 13 (clears its state and deletes
      // its timer at 2 + 4 = 6), 42 (timer at 7). Two frames in a row cannot both hold a group in one marble
      // string, so the two instants are two cold sources, and the output is logged with its frame.
      const source = merge(
        cold<StreamElement<number>>('1ms (ab)', { a: record(17), b: record(13) }),
        cold<StreamElement<number>>('2ms (cd)', { c: record(13), d: record(42) }),
      );
      // Act
      source.pipe(
        keyedTimers(triggeringStatefulFunction('processing', seen)),
        tap((element) => log.push([scheduler.now(), element])),
      ).subscribe();
    });
    // Assert: Flink's expected output, at the processing times it happens; no output has a timestamp.
    expect(log).toEqual([
      [1, record('INPUT:17')], [1, record('INPUT:13')], [2, record('INPUT:42')], [6, record('STATE:17')], [7, record('STATE:42')],
    ]);
    expect(seen).toEqual(['processing', 'processing']);
  });

  it('testNullOutputTagRefusal', () => {
    const scheduler = newScheduler();
    const errors: unknown[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange: NullOutputTagEmittingProcessFunction: ctx.output(null, value). setProcessingTime(17), then 5.
      const source = cold<StreamElement<number>>('17ms a', { a: record(5) });
      // Act
      const out = source.pipe(
        keyedTimers<number, string, number>({
          key: (x) => x,
          processElement: (x, ctx) => ctx.output(null as never, x),
        }),
        captureError(errors),
      );
      // Assert: Flink throws IllegalArgumentException; here the stream fails with a KeyedProcessError.
      expectObservable(out).toBe('17ms #', undefined, expect.objectContaining({
        name: 'KeyedProcessError', callback: 'processElement', input: 5, key: 5,
      }));
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(KeyedProcessError);
    expect((errors[0] as KeyedProcessError).cause).toBeInstanceOf(TypeError);
  });

  it('testSideOutput', () => {
    const INTEGER_OUTPUT_TAG = outputTag<number>('int-out');
    const LONG_OUTPUT_TAG = outputTag<bigint>('long-out');
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      // Arrange: SideOutputProcessFunction: IN:x on the main output, x on int-out and x as a long on long-out.
      const source = cold<StreamElement<number>>('a', { a: record(42, 17) });
      // Act
      const out = source.pipe(
        keyedTimers<number, string, number>({
          key: (x) => x,
          processElement: (x, ctx) => {
            ctx.emit(`IN:${x}`);
            ctx.output(INTEGER_OUTPUT_TAG, x);
            ctx.output(LONG_OUTPUT_TAG, BigInt(x));
          },
        }),
      );
      // Assert: every output, main or side, carries the input's timestamp.
      expectObservable(out).toBe('(ABC)', {
        A: record('IN:42', 17), B: sideOutput(INTEGER_OUTPUT_TAG, 42, 17), C: sideOutput(LONG_OUTPUT_TAG, BigInt(42), 17),
      });
      expectObservable(out.pipe(mainOutput())).toBe('A', { A: record('IN:42', 17) });
      expectObservable(out.pipe(selectTag(INTEGER_OUTPUT_TAG))).toBe('A', { A: record(42, 17) });
      expectObservable(out.pipe(selectTag(LONG_OUTPUT_TAG))).toBe('A', { A: record(BigInt(42), 17) });
    });
  });
});

// ---- InternalTimerServiceImplTest -------------------------------------------------------------------------------------

/** A 32-bit linear congruential generator: the same "random" scenario on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Many registrations over 12 keys and timestamps 1..40, each registered twice in its record and many also again
 * by later records of the same key. Returns the commands and the distinct timers in the order keyedTimers
 * documents for firing: by timestamp, then by first registration.
 */
function manyRegistrations(domain: TimeDomain): { commands: Command[]; total: number; distinct: Array<[key: string, timestamp: number]> } {
  const next = lcg(20240611);
  const commands: Command[] = [];
  const firstSeen = new Map<string, { key: string; timestamp: number; order: number }>();
  let total = 0;
  for (let i = 0; i < 60; i++) {
    const key = `k${Math.floor(next() * 12)}`;
    const timestamps = Array.from({ length: 4 }, () => 1 + Math.floor(next() * 40));
    const twice = [...timestamps, ...timestamps];
    commands.push(domain === 'event' ? { key, registerEvent: twice } : { key, registerProcessing: twice });
    for (const timestamp of twice) {
      total++;
      const id = `${key}@${timestamp}`;
      if (!firstSeen.has(id)) firstSeen.set(id, { key, timestamp, order: firstSeen.size });
    }
  }
  const distinct = [...firstSeen.values()]
    .sort((a, b) => a.timestamp - b.timestamp || a.order - b.order)
    .map((t): [string, number] => [t.key, t.timestamp]);
  return { commands, total, distinct };
}

describe('InternalTimerServiceImplTest (Apache Flink, ported)', () => {
  it('testOnlySetsOnePhysicalProcessingTimeTimer', () => {
    const scheduler = newScheduler();
    const metrics = keyedTimersMetrics();
    const counting = expectTimeline(
      scheduler,
      metrics,
      // Arrange: ciao@10, ciao@20, ciao@30, hello@10, hello@20 at time 0; probes at 15, 25, 35; ciao@40 at 36.
      [
        [0, [registerProcessing('k/ciao', 10), registerProcessing('k/ciao', 20), registerProcessing('k/ciao', 30),
          registerProcessing('k/hello', 10), registerProcessing('k/hello', 20), PROBE]],
        [15, [PROBE]],
        [25, [PROBE]],
        [35, [PROBE]],
        [36, [registerProcessing('k/ciao', 40), PROBE]],
      ],
      // Act + Assert: five timers but one physical timer, for 10; at 10 two fire and it moves to 20; at 20 two fire
      // and it moves to 30; at 30 the last fires and none is left; ciao@40 arms one again. (Flink also checks the
      // per-namespace counts; the fired timers below show them: hello has 2, ciao 3.) Ties fire in registration order.
      [
        [0, [report(0, 5, [10])]],
        [10, [fired('k/ciao', 10, 'processing'), fired('k/hello', 10, 'processing')]],
        [15, [report(0, 3, [20])]],
        [20, [fired('k/ciao', 20, 'processing'), fired('k/hello', 20, 'processing')]],
        [25, [report(0, 1, [30])]],
        [30, [fired('k/ciao', 30, 'processing')]],
        [35, [report(0, 0, [])]],
        [36, [report(0, 1, [40])]],
        [40, [fired('k/ciao', 40, 'processing')]],
      ],
    );
    expect(counting.maxLive).toBe(1);
    expect(counting.scheduled).toBe(4);
    expect(counting.live).toBe(0);
  });

  it('testRegisterEarlierProcessingTimerMovesPhysicalProcessingTimer', () => {
    const scheduler = newScheduler();
    const metrics = keyedTimersMetrics();
    const counting = expectTimeline(
      scheduler,
      metrics,
      // Arrange: ciao@20, probe, ciao@10, probe, all at time 0.
      [[0, [registerProcessing('k/ciao', 20), PROBE, registerProcessing('k/ciao', 10), PROBE]]],
      // Act + Assert: the one physical timer is at 20, then moves to 10 (still one); both timers then fire on time.
      [
        [0, [report(0, 1, [20]), report(0, 2, [10])]],
        [10, [fired('k/ciao', 10, 'processing')]],
        [20, [fired('k/ciao', 20, 'processing')]],
      ],
    );
    expect(counting.maxLive).toBe(1);
    // Armed for 20, re-armed for 10, and re-armed for 20 once 10 has fired.
    expect(counting.scheduled).toBe(3);
  });

  it('testRegisteringProcessingTimeTimerInOnProcessingTimeDoesNotLeakPhysicalTimers', () => {
    const scheduler = newScheduler();
    const metrics = keyedTimersMetrics();
    // The mock's answers: the timer at 10 registers 20, the timer at 20 registers 30.
    const registerTenLater = (t: number, register: (t: number) => void) => {
      if (t < 30) register(t + 10);
    };
    const counting = expectTimeline(
      scheduler,
      metrics,
      // Arrange: ciao@10 at time 0; probes at 15, 25 and 35.
      [[0, [registerProcessing('k/ciao', 10), PROBE]], [15, [PROBE]], [25, [PROBE]], [35, [PROBE]]],
      // Act + Assert: after each firing there is exactly one timer and one physical timer, for the new one.
      [
        [0, [report(0, 1, [10])]],
        [10, [fired('k/ciao', 10, 'processing')]],
        [15, [report(0, 1, [20])]],
        [20, [fired('k/ciao', 20, 'processing')]],
        [25, [report(0, 1, [30])]],
        [30, [fired('k/ciao', 30, 'processing')]],
        [35, [report(0, 0, [])]],
      ],
      registerTenLater,
    );
    expect(counting.maxLive).toBe(1);
    expect(counting.scheduled).toBe(3);
  });

  it('testSetAndFireEventTimeTimers', () => {
    const scheduler = newScheduler();
    const metrics = keyedTimersMetrics();
    expectTimeline(
      scheduler,
      metrics,
      // Arrange: two keys × two namespaces, all at event time 10; then WM10.
      [
        [0, [registerEvent('1/ciao', 10), registerEvent('1/hello', 10), registerEvent('2/ciao', 10), registerEvent('2/hello', 10), PROBE]],
        [10, [watermark(10), PROBE]],
      ],
      // Act + Assert: four timers; WM10 fires each once, for its own key (ties in registration order, which Flink's
      // mock verification leaves open), before WM10; none is left.
      [
        [0, [report(4, 0, [])]],
        [10, [fired('1/ciao', 10, 'event'), fired('1/hello', 10, 'event'), fired('2/ciao', 10, 'event'), fired('2/hello', 10, 'event'),
          watermark(10), report(0, 0, [])]],
      ],
    );
    expect(metrics.eventTimersFired).toBe(4);
  });

  it('testSetAndFireProcessingTimeTimers', () => {
    const scheduler = newScheduler();
    const metrics = keyedTimersMetrics();
    expectTimeline(
      scheduler,
      metrics,
      // Arrange: two keys × two namespaces, all at processing time 10; a probe at 20.
      [
        [0, [registerProcessing('1/ciao', 10), registerProcessing('1/hello', 10), registerProcessing('2/ciao', 10),
          registerProcessing('2/hello', 10), PROBE]],
        [20, [PROBE]],
      ],
      // Act + Assert: setProcessingTime(10) fires each once, for its own key, in registration order; none is left.
      [
        [0, [report(0, 4, [10])]],
        [10, [fired('1/ciao', 10, 'processing'), fired('1/hello', 10, 'processing'), fired('2/ciao', 10, 'processing'),
          fired('2/hello', 10, 'processing')]],
        [20, [report(0, 0, [])]],
      ],
    );
    expect(metrics.processingTimersFired).toBe(4);
  });

  it('testDeleteEventTimeTimers', () => {
    const scheduler = newScheduler();
    const metrics = keyedTimersMetrics();
    expectTimeline(
      scheduler,
      metrics,
      // Arrange: four timers at 10; delete 1/hello and 2/ciao; then WM10.
      [
        [0, [registerEvent('1/ciao', 10), registerEvent('1/hello', 10), registerEvent('2/ciao', 10), registerEvent('2/hello', 10),
          PROBE, deleteEvent('1/hello', 10), deleteEvent('2/ciao', 10), PROBE]],
        [20, [watermark(10), PROBE]],
      ],
      // Act + Assert: two are left, and only those fire.
      [
        [0, [report(4, 0, []), report(2, 0, [])]],
        [20, [fired('1/ciao', 10, 'event'), fired('2/hello', 10, 'event'), watermark(10), report(0, 0, [])]],
      ],
    );
    expect(metrics.eventTimersFired).toBe(2);
  });

  it('testDeleteProcessingTimeTimers', () => {
    const scheduler = newScheduler();
    const metrics = keyedTimersMetrics();
    const counting = expectTimeline(
      scheduler,
      metrics,
      // Arrange: four timers at 10; delete 1/hello and 2/ciao; a probe at 20.
      [
        [0, [registerProcessing('1/ciao', 10), registerProcessing('1/hello', 10), registerProcessing('2/ciao', 10),
          registerProcessing('2/hello', 10), PROBE, deleteProcessing('1/hello', 10), deleteProcessing('2/ciao', 10), PROBE]],
        [20, [PROBE]],
      ],
      // Act + Assert: two are left (the physical timer stays, for 10), and only those fire.
      [
        [0, [report(0, 4, [10]), report(0, 2, [10])]],
        [10, [fired('1/ciao', 10, 'processing'), fired('2/hello', 10, 'processing')]],
        [20, [report(0, 0, [])]],
      ],
    );
    expect(metrics.processingTimersFired).toBe(2);
    expect(counting.scheduled).toBe(1);
  });

  it('deleting the last processing-time timer cancels the physical timer (sluice; Flink keeps it until it fires)', () => {
    const scheduler = newScheduler();
    const metrics = keyedTimersMetrics();
    const counting = expectTimeline(
      scheduler,
      metrics,
      // Arrange: ciao@10, probe, delete ciao@10, probe, all at time 0; a probe at 20.
      [[0, [registerProcessing('k/ciao', 10), PROBE, deleteProcessing('k/ciao', 10), PROBE]], [20, [PROBE]]],
      // Act + Assert: Flink's deleteProcessingTimeTimer leaves its physical timer to go off for nothing; keyedTimers
      // cancels it as soon as no processing-time timer remains (documented), so nothing happens at 10.
      [[0, [report(0, 1, [10]), report(0, 0, [])]], [20, [report(0, 0, [])]]],
    );
    expect(counting.scheduled).toBe(1);
    expect(metrics.processingTimersFired).toBe(0);
  });

  it('a set of event-time timers, registered many times over, fires each timer exactly once', () => {
    // Arrange
    const metrics = keyedTimersMetrics();
    const { commands, total, distinct } = manyRegistrations('event');
    const source = stream<Command>(...commands.map((c) => record(c)), watermark(20), watermark(40));
    // Act
    const out = collect(source.pipe(keyedTimers(commandFunction(metrics, undefined), { metrics })));
    // Assert: the scenario really has duplicates; each distinct timer fires once, at the first watermark at or
    // above it, in (timestamp, first registration) order, before that watermark.
    expect(total).toBe(480);
    expect(distinct.length).toBeLessThan(total / 2);
    const firedBy = (lo: number, hi: number) => distinct.filter(([, t]) => t > lo && t <= hi).map(([k, t]) => fired(k, t, 'event'));
    expect(out.values).toEqual([...firedBy(-Infinity, 20), watermark(20), ...firedBy(20, 40), watermark(40)]);
    expect(out.error).toBeUndefined();
    expect(metrics.snapshot()).toEqual(expect.objectContaining({ eventTimersFired: distinct.length, eventTimers: 0 }));
  });

  it('a set of processing-time timers, registered many times over, fires each timer exactly once', () => {
    const scheduler = newScheduler();
    const metrics = keyedTimersMetrics();
    const log: Array<[frame: number, element: Out]> = [];
    const { commands, distinct } = manyRegistrations('processing');
    let counting!: CountingScheduler;
    scheduler.run(() => {
      // Arrange: every registration at time 0, from a source that stays open.
      counting = new CountingScheduler(scheduler);
      const source = concat(from(commands.map((c) => record(c))), NEVER);
      // Act
      source.pipe(
        keyedTimers(commandFunction(metrics, counting), { scheduler: counting, metrics }),
        tap((element) => log.push([scheduler.now(), element])),
      ).subscribe();
    });
    // Assert: each distinct timer fires once, at its own time, in (timestamp, first registration) order, behind
    // a single physical timer at any moment; nothing is left afterwards.
    expect(log).toEqual(distinct.map(([k, t]) => [t, fired(k, t, 'processing')]));
    expect(counting.maxLive).toBe(1);
    expect(counting.live).toBe(0);
    expect(metrics.snapshot()).toEqual(expect.objectContaining({ processingTimersFired: distinct.length, processingTimers: 0 }));
  });
});
