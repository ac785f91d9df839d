import { NEVER, map, throwError, timer, type Observable } from 'rxjs';
import {
  asyncWaitMetrics, asyncWaitOrdered, asyncWaitUnordered, record, watermark,
  type AsyncCallContext, type AsyncWaitCounters, type AsyncWaitMetrics, type StreamElement,
} from 'rxjs-sluice';
import { ZERO_GAUGES, ZERO_OPTIONAL_COUNTERS, newScheduler } from '../support/marbles';

const COUNTER_NAMES = [
  'activeKeys', 'backPressureTime', 'buffered', 'concurrencyLimit', 'emitted', 'failed', 'inFlight', 'minRtt', 'oldestInFlightAge',
  'oldestInFlightSince', 'retried', 'retriesDenied', 'sampleRtt', 'stalls', 'started', 'succeeded', 'timedOut', 'waiting', 'waitingForCall', 'waitingForKey',
  'watermarksCoalesced',
] as const;

const ZERO: AsyncWaitCounters = {
  started: 0, succeeded: 0, failed: 0, timedOut: 0, retried: 0, emitted: 0, watermarksCoalesced: 0, backPressureTime: 0, inFlight: 0,
  waiting: 0, buffered: 0, oldestInFlightSince: null, oldestInFlightAge: 0, ...ZERO_OPTIONAL_COUNTERS,
};

/** Takes a snapshot of `metrics` at each virtual time in `times`; call inside TestScheduler.run. */
function readAt(metrics: AsyncWaitMetrics, times: number[]): Map<number, AsyncWaitCounters> {
  const readings = new Map<number, AsyncWaitCounters>();
  for (const t of times) timer(t).subscribe(() => readings.set(t, metrics.snapshot()));
  return readings;
}

/** The gauges only. */
function gauges(c: AsyncWaitCounters | undefined): Partial<AsyncWaitCounters> | undefined {
  if (c === undefined) return undefined;
  const { inFlight, waiting, buffered, oldestInFlightSince, oldestInFlightAge } = c;
  return { inFlight, waiting, buffered, oldestInFlightSince, oldestInFlightAge };
}

/** The oldest-in-flight gauges: the oldest work in flight began at `since`, and the clock now reads `since + age`. */
const oldest = (since: number, age: number) => ({ oldestInFlightSince: since, oldestInFlightAge: age });

/** An inner observable that emits `value` after `ms` virtual milliseconds. */
const after = <T>(ms: number, value: T): Observable<T> => timer(ms).pipe(map(() => value));

describe('asyncWaitMetrics()', () => {
  it('starts with every counter at 0, and no oldest call in flight', () => {
    const metrics = asyncWaitMetrics();

    expect(metrics.snapshot()).toEqual(ZERO);
    for (const name of COUNTER_NAMES) expect(metrics[name]).toBe(ZERO[name]);
  });

  it('creates an independent object on each call', () => {
    newScheduler().run(({ cold, flush }) => {
      const used = asyncWaitMetrics();
      const unused = asyncWaitMetrics();

      cold<StreamElement<number>>('(a|)', { a: record(1) }).pipe(asyncWaitOrdered((x) => [x], { metrics: used })).subscribe();
      flush();

      expect(used.started).toBe(1);
      expect(unused.snapshot()).toEqual(ZERO);
    });
  });

  describe('snapshot()', () => {
    it('returns a frozen plain object with exactly the nineteen counters and gauges', () => {
      // Act
      const snapshot = asyncWaitMetrics().snapshot();

      // Assert
      expect(Object.isFrozen(snapshot)).toBe(true);
      expect(Object.getPrototypeOf(snapshot)).toBe(Object.prototype);
      expect(Object.keys(snapshot).sort()).toEqual([...COUNTER_NAMES]);
      expect(() => {
        (snapshot as { started: number }).started = 5;
      }).toThrow(TypeError);
    });

    it('is a copy: it does not follow later changes of the live object', () => {
      // Arrange
      const metrics = asyncWaitMetrics();
      const before = metrics.snapshot();

      // Act
      newScheduler().run(({ cold }) => {
        const source = cold<StreamElement<number>>('(ab|)', { a: record(1), b: record(2) });
        source.pipe(asyncWaitOrdered((x) => after(10, x), { metrics })).subscribe();
      });

      // Assert
      expect(metrics.started).toBe(2);
      expect(before).toEqual(ZERO);
      expect(metrics.snapshot()).not.toBe(metrics.snapshot());
    });

    it('matches the live fields at the moment it is taken', () => {
      // Arrange
      const metrics = asyncWaitMetrics();
      let snapshot: AsyncWaitCounters | undefined;
      const live: Record<string, number | null> = {};

      // Act
      newScheduler().run(({ cold }) => {
        const source = cold<StreamElement<number>>('(abc|)', { a: record(1), b: record(2), c: record(3) });
        source.pipe(asyncWaitOrdered((x) => after(10, x), { metrics, capacity: 2 })).subscribe();
        timer(5).subscribe(() => {
          snapshot = metrics.snapshot();
          for (const name of COUNTER_NAMES) live[name] = metrics[name];
        });
      });

      // Assert
      expect(snapshot).toEqual(live);
      expect(snapshot).toEqual({ ...ZERO, started: 2, inFlight: 2, buffered: 1, backPressureTime: 5, ...oldest(0, 5) });
    });
  });
});

describe('asyncWait metrics observed through a real run', () => {
  it('tracks inFlight, waiting and buffered in ordered mode, and returns them to 0 on completion', () => {
    // Arrange: capacity 2; record 2 finishes before record 1, so it waits; record 3 waits for a free slot.
    const metrics = asyncWaitMetrics();
    const delays: Record<number, number> = { 1: 30, 2: 10, 3: 10 };
    let readings = new Map<number, AsyncWaitCounters>();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<StreamElement<number>>('(abc|)', { a: record(1, 1), b: record(2, 2), c: record(3, 3) });
      readings = readAt(metrics, [5, 20, 35]);
      const out = source.pipe(asyncWaitOrdered((x: number) => after(delays[x]!, x * 10), { capacity: 2, metrics }));
      expectObservable(out).toBe('30ms (ab) 6ms (c|)', { a: record(10, 1), b: record(20, 2), c: record(30, 3) });
    });

    // Assert: record 3 waited beyond capacity from 0 until record 1's slot freed at 30, so backPressureTime is 30;
    // it reads live while record 3 waits (5 at 5, 20 at 20).
    expect(readings.get(5)).toEqual({ ...ZERO, started: 2, inFlight: 2, buffered: 1, backPressureTime: 5, ...oldest(0, 5) });
    expect(readings.get(20)).toEqual({ ...ZERO, started: 2, succeeded: 1, inFlight: 1, waiting: 1, buffered: 1, backPressureTime: 20, ...oldest(0, 20) });
    expect(readings.get(35)).toEqual({ ...ZERO, started: 3, succeeded: 2, emitted: 2, backPressureTime: 30, inFlight: 1, ...oldest(30, 5) });
    expect(metrics.snapshot()).toEqual({ ...ZERO, started: 3, succeeded: 3, emitted: 3, backPressureTime: 30 });
  });

  it('counts a completed record held behind a watermark as waiting in unordered mode', () => {
    // Arrange
    const metrics = asyncWaitMetrics();
    let readings = new Map<number, AsyncWaitCounters>();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<StreamElement<number>>('(awb|)', { a: record(30, 1), w: watermark(1), b: record(10, 2) });
      readings = readAt(metrics, [20]);
      const out = source.pipe(asyncWaitUnordered((ms: number) => after(ms, ms), { metrics }));
      expectObservable(out).toBe('30ms (awb|)', { a: record(30, 1), w: watermark(1), b: record(10, 2) });
    });

    // Assert
    expect(gauges(readings.get(20))).toEqual({ inFlight: 1, waiting: 1, buffered: 0, ...oldest(0, 20) });
    expect(gauges(metrics.snapshot())).toEqual(ZERO_GAUGES);
  });

  it('counts started, retried, succeeded, failed (with onError), timedOut (with onTimeout) and emitted', () => {
    // Arrange
    const metrics = asyncWaitMetrics();
    const fn = (value: string, ctx: AsyncCallContext): Observable<string> => {
      switch (value) {
        case 'ok': return after(10, 'ok');
        case 'flaky': return ctx.attempt === 1 ? throwError(() => new Error('flaky')) : after(10, 'flaky');
        case 'broken': return throwError(() => new Error('broken'));
        default: return NEVER;
      }
    };
    let readings = new Map<number, AsyncWaitCounters>();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<StreamElement<string>>('(abcd|)', {
        a: record('ok'), b: record('flaky'), c: record('broken'), d: record('hang'),
      });
      readings = readAt(metrics, [5, 15, 50]);
      const out = source.pipe(asyncWaitOrdered(fn, {
        timeout: 100,
        onTimeout: () => ['timeout'],
        onError: () => ['fallback'],
        retry: { maxRetries: 1, delay: 10 },
        metrics,
      }));
      expectObservable(out).toBe('10ms a 9ms (bc) 76ms (d|)', {
        a: record('ok'), b: record('flaky'), c: record('fallback'), d: record('timeout'),
      });
    });

    // Assert
    expect(readings.get(5)).toEqual({ ...ZERO, started: 4, inFlight: 4, ...oldest(0, 5) });
    expect(readings.get(15)).toEqual({
      ...ZERO, started: 4, retried: 2, succeeded: 1, failed: 1, emitted: 1, inFlight: 2, waiting: 1, ...oldest(0, 15),
    });
    expect(readings.get(50)).toEqual({
      ...ZERO, started: 4, retried: 2, succeeded: 2, failed: 1, emitted: 3, inFlight: 1, ...oldest(0, 50),
    });
    expect(metrics.snapshot()).toEqual({
      ...ZERO, started: 4, retried: 2, succeeded: 2, failed: 1, timedOut: 1, emitted: 4,
    });
  });

  it('counts every output record in emitted, and a record with no results as succeeded', () => {
    const metrics = asyncWaitMetrics();

    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<StreamElement<number>>('(abc|)', { a: record(3), b: record(0), c: record(2) });
      const out = source.pipe(asyncWaitUnordered((n: number) => Array.from({ length: n }, () => n), { metrics }));
      expectObservable(out).toBe('(aaacc|)', { a: record(3), c: record(2) });
    });

    expect(metrics.snapshot()).toEqual({ ...ZERO, started: 3, succeeded: 3, emitted: 5 });
  });

  it('counts a result retried by retryOnResult as retried, then succeeded once', () => {
    const metrics = asyncWaitMetrics();

    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<StreamElement<number>>('(a|)', { a: record(1) });
      const fn = (_x: number, ctx: AsyncCallContext) => (ctx.attempt < 3 ? [] : ['found']);
      const out = source.pipe(asyncWaitOrdered(fn, {
        retry: { maxRetries: 5, delay: 10, retryOnResult: (r) => r.length === 0 },
        metrics,
      }));
      expectObservable(out).toBe('20ms (a|)', { a: record('found') });
    });

    expect(metrics.snapshot()).toEqual({ ...ZERO, started: 1, retried: 2, succeeded: 1, emitted: 1 });
  });

  it('counts a failure without onError as failed and returns the gauges to 0 when the output errors', () => {
    const metrics = asyncWaitMetrics();

    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<StreamElement<number>>('(ab|)', { a: record(1), b: record(2) });
      const fn = (x: number) => (x === 1 ? timer(10).pipe(map(() => { throw new Error('down'); })) : NEVER);
      const out = source.pipe(asyncWaitOrdered(fn, { metrics }));
      expectObservable(out).toBe('10ms #', undefined, expect.anything());
    });

    expect(metrics.snapshot()).toEqual({ ...ZERO, started: 2, failed: 1 });
  });

  it('counts a timeout without onTimeout as timedOut and returns the gauges to 0 when the output errors', () => {
    const metrics = asyncWaitMetrics();

    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<StreamElement<number>>('(abc|)', { a: record(1), b: record(2), c: record(3) });
      const out = source.pipe(asyncWaitOrdered(() => NEVER, { timeout: 40, capacity: 2, metrics }));
      expectObservable(out).toBe('40ms #', undefined, expect.anything());
    });

    // Record 3 waited beyond capacity from 0 until the output errored at 40, when the subscription ended.
    expect(metrics.snapshot()).toEqual({ ...ZERO, started: 2, timedOut: 1, backPressureTime: 40 });
  });

  it('returns the gauges to 0 after an upstream error', () => {
    const metrics = asyncWaitMetrics();
    let readings = new Map<number, AsyncWaitCounters>();

    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<StreamElement<number>>('(abc) 10ms #', { a: record(1), b: record(2), c: record(3) });
      readings = readAt(metrics, [5]);
      const out = source.pipe(asyncWaitOrdered((x: number) => (x === 2 ? [x] : NEVER), { capacity: 2, metrics }));
      expectObservable(out).toBe('15ms #');
    });

    expect(gauges(readings.get(5))).toEqual({ inFlight: 1, waiting: 1, buffered: 1, ...oldest(0, 5) });
    expect(gauges(metrics.snapshot())).toEqual(ZERO_GAUGES);
  });

  it('returns the gauges to 0 after an early unsubscribe, keeps the totals, and starts no later timeout', () => {
    // Arrange: capacity 2; record 1 never completes, record 2 completes at once (waits), 3 and 4 are buffered.
    const metrics = asyncWaitMetrics();
    let readings = new Map<number, AsyncWaitCounters>();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<StreamElement<number>>('(abcd)', { a: record(1), b: record(2), c: record(3), d: record(4) });
      readings = readAt(metrics, [5, 20, 100]);
      const out = source.pipe(asyncWaitOrdered((x: number) => (x === 2 ? [x] : NEVER), { capacity: 2, timeout: 50, metrics }));
      expectObservable(out, '^ 9ms !').toBe('');
    });

    // Assert: records 3 and 4 waited beyond capacity from 0 until the unsubscribe at 10, and no longer after it.
    expect(readings.get(5)).toEqual({ ...ZERO, started: 2, succeeded: 1, inFlight: 1, waiting: 1, buffered: 2, backPressureTime: 5, ...oldest(0, 5) });
    expect(readings.get(20)).toEqual({ ...ZERO, started: 2, succeeded: 1, backPressureTime: 10 });
    expect(readings.get(100)).toEqual({ ...ZERO, started: 2, succeeded: 1, backPressureTime: 10 });
    expect(metrics.snapshot()).toEqual({ ...ZERO, started: 2, succeeded: 1, backPressureTime: 10 });
  });

  it('shows the sum of two subscriptions that share one metrics object', () => {
    // Arrange
    const metrics = asyncWaitMetrics();
    let readings = new Map<number, AsyncWaitCounters>();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<StreamElement<number>>('(abc|)', { a: record(1), b: record(2), c: record(3) });
      const out = source.pipe(asyncWaitOrdered((x: number) => after(10, x), { capacity: 2, metrics }));
      readings = readAt(metrics, [5]);
      expectObservable(out).toBe('10ms (ab) 6ms (c|)', { a: record(1), b: record(2), c: record(3) });
      expectObservable(out).toBe('10ms (ab) 6ms (c|)', { a: record(1), b: record(2), c: record(3) });
    });

    // Assert: in each subscription record 3 waited beyond capacity from 0 to 10: 10 + 10 ms in the sum.
    expect(readings.get(5)).toEqual({ ...ZERO, started: 4, inFlight: 4, buffered: 2, backPressureTime: 10, ...oldest(0, 5) });
    expect(metrics.snapshot()).toEqual({ ...ZERO, started: 6, succeeded: 6, emitted: 6, backPressureTime: 20 });
  });

  it('shows the sum of an ordered and an unordered operator sharing one metrics object, minus one that ended early', () => {
    // Arrange
    const metrics = asyncWaitMetrics();
    let readings = new Map<number, AsyncWaitCounters>();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<StreamElement<number>>('(ab|)', { a: record(1), b: record(2) });
      const ordered = source.pipe(asyncWaitOrdered((x: number) => after(20, x), { metrics }));
      const unordered = source.pipe(asyncWaitUnordered((x: number) => after(20, x), { metrics }));
      readings = readAt(metrics, [5, 15]);
      expectObservable(ordered).toBe('20ms (ab|)', { a: record(1), b: record(2) });
      expectObservable(unordered, '^ 9ms !').toBe('');
    });

    // Assert
    expect(readings.get(5)).toEqual({ ...ZERO, started: 4, inFlight: 4, ...oldest(0, 5) });
    expect(readings.get(15)).toEqual({ ...ZERO, started: 4, inFlight: 2, ...oldest(0, 15) });
    expect(metrics.snapshot()).toEqual({ ...ZERO, started: 4, succeeded: 2, emitted: 2 });
  });
});

describe('asyncWait metrics: the oldest call in flight', () => {
  it('makes a call that never settles visible: without a timeout its start stays put while its age grows, and the output never completes', () => {
    // Arrange: record 1 hangs; 2 and 3 arrive later and answer after 1 ms.
    const metrics = asyncWaitMetrics();
    let readings = new Map<number, AsyncWaitCounters>();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<StreamElement<number>>('a 9ms b 9ms c|', { a: record(1), b: record(2), c: record(3) });
      readings = readAt(metrics, [5, 15, 1_000, 86_400_000]);
      const out = source.pipe(asyncWaitUnordered((x: number) => (x === 1 ? NEVER : after(1, x)), { metrics }));
      expectObservable(out).toBe('11ms b 9ms c', { b: record(2), c: record(3) }); // no completion, ever
    });

    // Assert
    expect(gauges(readings.get(5))).toEqual({ inFlight: 1, waiting: 0, buffered: 0, ...oldest(0, 5) });
    expect(gauges(readings.get(15))).toEqual({ inFlight: 1, waiting: 0, buffered: 0, ...oldest(0, 15) });
    expect(gauges(readings.get(86_400_000))).toEqual({ inFlight: 1, waiting: 0, buffered: 0, ...oldest(0, 86_400_000) });
    expect(metrics.inFlight).toBe(1); // still stuck after the virtual run: only an unsubscribe ends it
  });

  it('moves on to the next oldest call as soon as the oldest settles, even from behind a newer one', () => {
    // Arrange: 1 (at 0) takes 20 ms; 2 (at 5) hangs; 3 (at 10) takes 1 ms and leaves from between them.
    const metrics = asyncWaitMetrics();
    let readings = new Map<number, AsyncWaitCounters>();
    const delays: Record<number, number> = { 1: 20, 3: 1 };

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<StreamElement<number>>('a 4ms b 4ms c', { a: record(1), b: record(2), c: record(3) });
      readings = readAt(metrics, [12, 30]);
      const out = source.pipe(asyncWaitUnordered((x: number) => (x === 2 ? NEVER : after(delays[x]!, x)), { metrics }));
      expectObservable(out).toBe('11ms c 8ms a', { a: record(1), c: record(3) });
    });

    // Assert
    expect(gauges(readings.get(12))).toEqual({ inFlight: 2, waiting: 0, buffered: 0, ...oldest(0, 12) });
    expect(gauges(readings.get(30))).toEqual({ inFlight: 1, waiting: 0, buffered: 0, ...oldest(5, 25) });
  });

  it('counts a fallback from the moment it starts, and a hanging fallback is as visible as a hanging call', () => {
    // Arrange: record 1's call fails at 10; its onError fallback then hangs. Record 2 keeps retrying until 30.
    const metrics = asyncWaitMetrics();
    let readings = new Map<number, AsyncWaitCounters>();
    const failAt10 = timer(10).pipe(map((): number => { throw new Error('down'); }));

    // Act
    newScheduler().run(({ cold }) => {
      const source = cold<StreamElement<number>>('a 19ms b', { a: record(1), b: record(2) });
      readings = readAt(metrics, [5, 15, 25, 100]);
      source.pipe(asyncWaitOrdered((x: number) => (x === 1 ? failAt10 : after(50, x)), {
        metrics, onError: () => NEVER,
      })).subscribe();
    });

    // Assert: until 10 the call of 1 (since 0); then its fallback (since 10); record 2 (since 20) is younger.
    expect(gauges(readings.get(5))).toEqual({ inFlight: 1, waiting: 0, buffered: 0, ...oldest(0, 5) });
    expect(gauges(readings.get(15))).toEqual({ inFlight: 1, waiting: 0, buffered: 0, ...oldest(10, 5) });
    expect(gauges(readings.get(25))).toEqual({ inFlight: 2, waiting: 0, buffered: 0, ...oldest(10, 15) });
    expect(gauges(readings.get(100))).toEqual({ inFlight: 1, waiting: 1, buffered: 0, ...oldest(10, 90) });
  });

  it('shows the oldest over every subscription sharing one metrics object, and forgets one that ended', () => {
    // Arrange: one subscription hangs from 0 until it is unsubscribed at 40; the other hangs from 30 on.
    const metrics = asyncWaitMetrics();
    let readings = new Map<number, AsyncWaitCounters>();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const hangs = asyncWaitOrdered(() => NEVER, { metrics });
      readings = readAt(metrics, [35, 50]);
      expectObservable(cold<StreamElement<number>>('a', { a: record(1) }).pipe(hangs), '^ 39ms !').toBe('');
      expectObservable(cold<StreamElement<number>>('30ms a', { a: record(2) }).pipe(hangs)).toBe('');
    });

    // Assert
    expect(gauges(readings.get(35))).toEqual({ inFlight: 2, waiting: 0, buffered: 0, ...oldest(0, 35) });
    expect(gauges(readings.get(50))).toEqual({ inFlight: 1, waiting: 0, buffered: 0, ...oldest(30, 20) });
  });

  it('tracks timed-out records too: the age of a call never reaches its timeout, and the onTimeout fallback restarts it', () => {
    // Arrange: a 40 ms budget; the call hangs, and so does its onTimeout fallback.
    const metrics = asyncWaitMetrics();
    let readings = new Map<number, AsyncWaitCounters>();

    // Act
    newScheduler().run(({ cold }) => {
      readings = readAt(metrics, [39, 45]);
      cold<StreamElement<number>>('a', { a: record(1) })
        .pipe(asyncWaitUnordered(() => NEVER, { metrics, timeout: 40, onTimeout: () => NEVER }))
        .subscribe();
    });

    // Assert
    expect(gauges(readings.get(39))).toEqual({ inFlight: 1, waiting: 0, buffered: 0, ...oldest(0, 39) });
    expect(gauges(readings.get(45))).toEqual({ inFlight: 1, waiting: 0, buffered: 0, ...oldest(40, 5) });
  });
});

describe('asyncWait metrics: backPressureTime', () => {
  it('adds up the time inputs waited beyond capacity, live while they wait', () => {
    // Arrange: capacity 1; records a, b, c arrive at 0, 1 and 2, and each call takes 10 ms.
    //   0: a is admitted (its call runs 0-10).
    //   1: b arrives with the slot taken: buffered goes 0 -> 1, inputs start waiting beyond capacity.
    //   2: c queues behind b (buffered 2).
    //  10: a answers; b is admitted (10-20); c still waits (buffered 1).
    //  20: b answers; c is admitted (20-30): buffered goes back to 0: 20 - 1 = 19 ms in all.
    //  30: c answers. Nothing waited beyond capacity again: backPressureTime ends at 19.
    const metrics = asyncWaitMetrics();
    let readings = new Map<number, AsyncWaitCounters>();

    // Act
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<StreamElement<string>>('abc|', { a: record('a'), b: record('b'), c: record('c') });
      readings = readAt(metrics, [15, 25]);
      const out = source.pipe(asyncWaitOrdered((x: string) => after(10, x), { capacity: 1, metrics }));
      expectObservable(out).toBe('10ms a 9ms b 9ms (c|)', { a: record('a'), b: record('b'), c: record('c') });
    });

    // Assert: at 15 c still waits, and the total reads live: 15 - 1 = 14; from 20 on it is 19.
    expect(readings.get(15)).toEqual({ ...ZERO, started: 2, succeeded: 1, emitted: 1, inFlight: 1, buffered: 1, backPressureTime: 14, ...oldest(10, 5) });
    expect(readings.get(25)).toEqual({ ...ZERO, started: 3, succeeded: 2, emitted: 2, backPressureTime: 19, inFlight: 1, ...oldest(20, 5) });
    expect(metrics.snapshot()).toEqual({ ...ZERO, started: 3, succeeded: 3, emitted: 3, backPressureTime: 19 });
  });
});
