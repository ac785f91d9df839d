import { PROBE_EVERY, WindowedSamples, type SampleWindow } from '../../src/limits/windowedSamples';

/** The limiter's own limit passed with each sample: far above any probe limit used here. */
const LIMIT = 1000;

const ok = (rtt: number, inFlight = 1) => ({ rtt, inFlight, dropped: false });
const drop = (rtt: number, inFlight = 1) => ({ rtt, inFlight, dropped: true });

describe('WindowedSamples (windows of samples, as Netflix WindowedLimit)', () => {
  it('closes a window on the first sample at or after its end, once it holds minSamples, and summarises it', () => {
    // Arrange: the first sample (rtt 30 at t=0) opens a window of clamp(2 * 30, 10, 1000) = 60 ms.
    const windows = new WindowedSamples({ minTime: 10, maxTime: 1000, minSamples: 3 });
    const results: (SampleWindow | null)[] = [];

    // Act
    results.push(windows.onSample(ok(30, 4), 0, LIMIT));
    results.push(windows.onSample(ok(40, 7), 20, LIMIT));
    results.push(windows.onSample(ok(50, 5), 59, LIMIT));
    results.push(windows.onSample(ok(60, 2), 60, LIMIT));

    // Assert
    expect(results.slice(0, 3)).toEqual([null, null, null]);
    expect(results[3]).toEqual({ avgRtt: 45, minRtt: 30, maxInFlight: 7, dropped: false, count: 4 });
  });

  it('sizes the next window as clamp(2 * the closed window\'s lowest RTT, minTime, maxTime)', () => {
    // Arrange
    const at = (minRtt: number) => {
      const windows = new WindowedSamples({ minTime: 10, maxTime: 1000, minSamples: 1 });
      windows.onSample(ok(1), 0, LIMIT); // first window: 10 ms (minTime), closed by the next sample
      windows.onSample(ok(minRtt), 10, LIMIT); // closes it; the window it closed had lowest RTT 1: next window 10 ms...
      windows.onSample(ok(minRtt), 20, LIMIT); // ...closed here: its lowest RTT is minRtt
      // Act: the window opened at t=20 is clamp(2 * minRtt, 10, 1000) long.
      return [1, 2, 9, 10, 59, 60, 199, 200, 999, 1000, 1999, 2000].find((dt) => windows.onSample(ok(minRtt), 20 + dt, LIMIT) !== null);
    };

    // Assert
    expect(at(3)).toBe(10); // 6 ms, raised to minTime
    expect(at(30)).toBe(60); // two round trips
    expect(at(100)).toBe(200);
    expect(at(5000)).toBe(1000); // capped at maxTime
  });

  it('keeps a window open past its end until it holds minSamples (Netflix would discard it)', () => {
    // Arrange: a 20 ms window (rtt 10) that needs 5 samples.
    const windows = new WindowedSamples({ minTime: 0, maxTime: 1000, minSamples: 5 });

    // Act: samples long after its end, one by one.
    const closedAt = [0, 100, 200, 300, 400, 500].findIndex((t) => windows.onSample(ok(10), t, LIMIT) !== null);

    // Assert: the fifth sample closes it.
    expect(closedAt).toBe(4);
  });

  it('closes the window at once on a drop, whatever its length and count', () => {
    // Arrange: a 1 s window that needs 100 samples.
    const windows = new WindowedSamples({ minTime: 1000, maxTime: 1000, minSamples: 100 });
    windows.onSample(ok(10, 3), 0, LIMIT);

    // Act
    const closed = windows.onSample(drop(500, 8), 1, LIMIT);

    // Assert: the dropped call's RTT (a timeout) is left out of the RTTs.
    expect(closed).toEqual({ avgRtt: 10, minRtt: 10, maxInFlight: 8, dropped: true, count: 2 });
  });

  it('after a window closed at once on a drop, further drops only mark the next window, which closes by the rules', () => {
    // Arrange: 20 ms windows of at least 3 samples; a burst of timeouts at t=0..2.
    const windows = new WindowedSamples({ minTime: 20, maxTime: 20, minSamples: 3 });
    windows.onSample(ok(5), 0, LIMIT);
    const first = windows.onSample(drop(1000), 1, LIMIT);

    // Act
    const during = [2, 3, 4].map((t) => windows.onSample(drop(1000), t, LIMIT));
    const atEnd = windows.onSample(ok(5), 21, LIMIT); // the window opened at t=1 ends at t=21

    // Assert
    expect(first?.dropped).toBe(true);
    expect(during).toEqual([null, null, null]);
    expect(atEnd).toEqual({ avgRtt: 5, minRtt: 5, maxInFlight: 1, dropped: true, count: 4 });
    // That window closed by the rules: the next drop closes its window at once again.
    expect(windows.onSample(drop(1000), 22, LIMIT)).toMatchObject({ dropped: true, count: 1, avgRtt: null, minRtt: null });
  });

  it('leaves dropped calls out of minRtt: a fast rejection is not a fast answer', () => {
    // Arrange
    const windows = new WindowedSamples({ minTime: 0, maxTime: 0, minSamples: 1 });

    // Act
    windows.onSample(drop(0), 0, LIMIT);
    const before = windows.minRtt;
    windows.onSample(ok(40), 1, LIMIT);
    windows.onSample(drop(2), 2, LIMIT);

    // Assert
    expect(before).toBeNull();
    expect(windows.minRtt).toBe(40);
  });

  it('sizes the window after an all-drop window from minRtt', () => {
    // Arrange: minRtt 50; then a window of drops only.
    const windows = new WindowedSamples({ minTime: 0, maxTime: 1000, minSamples: 1 });
    windows.onSample(ok(50), 0, LIMIT);
    windows.onSample(ok(50), 100, LIMIT); // closes the first window (100 ms long)
    windows.onSample(drop(5000), 101, LIMIT); // closes the next at once; it had no RTT

    // Act: the window opened at t=101 is clamp(2 * 50, 0, 1000) = 100 ms long.
    const early = windows.onSample(ok(50), 200, LIMIT);
    const atEnd = windows.onSample(ok(50), 201, LIMIT);

    // Assert
    expect(early).toBeNull();
    expect(atEnd).not.toBeNull();
  });

  it('counts RTTs below 1 ms as 1 ms (the scheduler clock counts whole ms)', () => {
    // Arrange
    const windows = new WindowedSamples({ minTime: 0, maxTime: 0, minSamples: 2 });

    // Act
    windows.onSample(ok(0), 0, LIMIT);
    const closed = windows.onSample(ok(3), 0, LIMIT);

    // Assert
    expect(windows.minRtt).toBe(1);
    expect(closed).toMatchObject({ avgRtt: 2, minRtt: 1 });
  });

  it('lowers minRtt at once when a faster call finishes, inside an open window', () => {
    // Arrange
    const windows = new WindowedSamples({ minTime: 1000, maxTime: 1000, minSamples: 10 });
    windows.onSample(ok(30), 0, LIMIT);

    // Act
    windows.onSample(ok(12), 1, LIMIT);

    // Assert
    expect(windows.minRtt).toBe(12);
  });

  describe('minRtt between probes, and probes', () => {
    /** One-sample windows (minSamples 1, or `minSamples` for the probe), `count` of them closed with `rtt`, from `now`. */
    const closeWindows = (windows: WindowedSamples, count: number, rtt: number, now: number, inFlight = 1): number => {
      for (let i = 0; i < count; i++) windows.onSample(ok(rtt, inFlight), now++, LIMIT);
      return now;
    };

    it('only lets minRtt fall between probes, even when every later call is slower (sustained queueing)', () => {
      // Arrange
      const windows = new WindowedSamples({ minTime: 0, maxTime: 0, minSamples: 1 });
      windows.onSample(ok(5), 0, LIMIT);

      // Act: many windows of slower calls, no probe started.
      closeWindows(windows, 10 * PROBE_EVERY, 10, 1);

      // Assert
      expect(windows.minRtt).toBe(5);
    });

    it(`has a probe due once ${PROBE_EVERY} windows have closed since the start or since the last probe ended, not before`, () => {
      // Arrange: one-sample windows (minTime 0: each sample closes its own).
      const windows = new WindowedSamples({ minTime: 0, maxTime: 0, minSamples: 1 });
      const due = (): boolean => {
        windows.probeIfDue(20, 10);
        return windows.probeLimit !== null;
      };
      let now = closeWindows(windows, PROBE_EVERY - 1, 10, 0);
      const early = due();

      // Act
      now = closeWindows(windows, 1, 10, now);
      const onTime = due();
      windows.probeIfDue(30, 15); // a probe is under way: ignored
      const limitDuring = windows.probeLimit;
      windows.onSample(ok(10, 10), now++, 20); // ends it (minSamples 1)
      now = closeWindows(windows, PROBE_EVERY - 1, 10, now);
      const earlyAgain = due();
      closeWindows(windows, 1, 10, now);

      // Assert
      expect([early, onTime, limitDuring, earlyAgain, due()]).toEqual([false, true, 10, false, true]);
    });

    it('starts a probe at once when its limit is not below the limit (it costs nothing)', () => {
      // Arrange
      const windows = new WindowedSamples({ minTime: 0, maxTime: 0, minSamples: 1 });
      windows.onSample(ok(10), 0, 1);

      // Act
      windows.probeIfDue(1, 1);

      // Assert
      expect(windows.probeLimit).toBe(1);
    });

    it('ends a probe at the minSamples-th non-dropped call started with at most the probe limit in flight; its lowest RTT becomes minRtt, higher or lower', () => {
      // Arrange: minRtt 5; windows of 3 samples; a probe at 10 for a limit of 20.
      const windows = new WindowedSamples({ minTime: 0, maxTime: 0, minSamples: 3 });
      const now = closeWindows(windows, 3 * PROBE_EVERY + 1, 5, 0, 20);
      windows.probeIfDue(20, 10);
      const probeLimit = windows.probeLimit;

      // Act: calls started before the probe (20 in flight) and drops do not count.
      const during = [ok(4, 20), drop(2, 5), ok(12, 10), ok(11, 8)].map((sample, i) => {
        windows.onSample(sample, now + i, 20);
        return [windows.probeLimit, windows.minRtt];
      });
      windows.onSample(ok(15, 10), now + 4, 20);

      // Assert: minRtt falls at once (the call at 4 ms) while the probe runs, then becomes the probe's lowest, 11.
      expect(probeLimit).toBe(10);
      expect(during).toEqual([[10, 4], [10, 4], [10, 4], [10, 4]]);
      expect([windows.probeLimit, windows.minRtt]).toEqual([null, 11]);
      // After the probe it falls again on a faster call.
      windows.onSample(ok(9, 20), now + 5, 20);
      expect(windows.minRtt).toBe(9);
    });

    it('returns only windows with a drop while a probe holds the limit down', () => {
      // Arrange: one-sample windows; a probe at 5 for a limit of 10.
      const windows = new WindowedSamples({ minTime: 0, maxTime: 0, minSamples: 1 });
      const now = closeWindows(windows, PROBE_EVERY, 10, 0, 10);
      windows.probeIfDue(10, 5);

      // Act
      const healthy = windows.onSample(ok(10, 10), now, 10); // started before the probe: closes a window
      const dropped = windows.onSample(drop(100, 10), now + 1, 10);
      const ending = windows.onSample(ok(10, 5), now + 2, 10); // ends the probe (minSamples 1)
      const after = windows.onSample(ok(10, 10), now + 3, 10);

      // Assert
      expect(healthy).toBeNull();
      expect(dropped).toMatchObject({ dropped: true, count: 1 });
      expect(ending).toBeNull();
      expect(windows.probeLimit).toBeNull();
      expect(after).toMatchObject({ dropped: false, count: 1 });
    });

    it('discards the open window when a probe that held the limit down ends: its calls ran at the probe limit', () => {
      // Arrange: windows of 2 samples; a probe at 5 for a limit of 10, needing 2 calls.
      const windows = new WindowedSamples({ minTime: 0, maxTime: 0, minSamples: 2 });
      let now = closeWindows(windows, 2 * PROBE_EVERY, 10, 0, 10);
      windows.probeIfDue(10, 5);

      // Act
      windows.onSample(ok(10, 5), now++, 10); // the probe's first call
      const heldBack = windows.onSample(ok(10, 20), now++, 10); // not a probe call; closes its window (2 samples)
      windows.onSample(ok(10, 5), now++, 10); // ends the probe: the window it opened is discarded
      const first = windows.onSample(ok(30, 10), now++, 10); // opens a new window
      const second = windows.onSample(ok(30, 10), now, 10);

      // Assert: were the probe call kept, `first` would close a window of 2 with a mean of 20.
      expect(heldBack).toBeNull();
      expect(first).toBeNull();
      expect(second).toEqual({ avgRtt: 30, minRtt: 30, maxInFlight: 10, dropped: false, count: 2 });
    });

    it('leaves the windows alone during a probe whose limit is not below the limit', () => {
      // Arrange: windows of 2 samples; a free probe at 1 for a limit of 1.
      const windows = new WindowedSamples({ minTime: 0, maxTime: 0, minSamples: 2 });
      windows.onSample(ok(5), 0, 1);
      windows.onSample(ok(5), 1, 1);
      windows.probeIfDue(1, 1);

      // Act
      const closed = [ok(20), ok(20)].map((sample, i) => windows.onSample(sample, 2 + i, 1));

      // Assert: the second call both ends the probe (minRtt 20) and closes its window as usual.
      expect(closed).toEqual([null, { avgRtt: 20, minRtt: 20, maxInFlight: 1, dropped: false, count: 2 }]);
      expect([windows.probeLimit, windows.minRtt]).toEqual([null, 20]);
    });
  });
});
