import { MIN_RTT_EPOCH, WindowedSamples, type SampleWindow } from '../../src/limits/windowedSamples';

const ok = (rtt: number, inFlight = 1) => ({ rtt, inFlight, dropped: false });
const drop = (rtt: number, inFlight = 1) => ({ rtt, inFlight, dropped: true });

describe('WindowedSamples (windows of samples, as Netflix WindowedLimit)', () => {
  it('closes a window on the first sample at or after its end, once it holds minSamples, and summarises it', () => {
    // Arrange: the first sample (rtt 30 at t=0) opens a window of clamp(2 * 30, 10, 1000) = 60 ms.
    const windows = new WindowedSamples({ minTime: 10, maxTime: 1000, minSamples: 3 });
    const results: (SampleWindow | null)[] = [];

    // Act
    results.push(windows.onSample(ok(30, 4), 0));
    results.push(windows.onSample(ok(40, 7), 20));
    results.push(windows.onSample(ok(50, 5), 59));
    results.push(windows.onSample(ok(60, 2), 60));

    // Assert
    expect(results.slice(0, 3)).toEqual([null, null, null]);
    expect(results[3]).toEqual({ avgRtt: 45, minRtt: 30, maxInFlight: 7, dropped: false, count: 4 });
  });

  it('sizes the next window as clamp(2 * the closed window\'s lowest RTT, minTime, maxTime)', () => {
    // Arrange
    const at = (minRtt: number) => {
      const windows = new WindowedSamples({ minTime: 10, maxTime: 1000, minSamples: 1 });
      windows.onSample(ok(1), 0); // first window: 10 ms (minTime), closed by the next sample
      windows.onSample(ok(minRtt), 10); // closes it; the window it closed had lowest RTT 1: next window 10 ms...
      windows.onSample(ok(minRtt), 20); // ...closed here: its lowest RTT is minRtt
      // Act: the window opened at t=20 is clamp(2 * minRtt, 10, 1000) long.
      return [1, 2, 9, 10, 59, 60, 199, 200, 999, 1000, 1999, 2000].find((dt) => windows.onSample(ok(minRtt), 20 + dt) !== null);
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
    const closedAt = [0, 100, 200, 300, 400, 500].findIndex((t) => windows.onSample(ok(10), t) !== null);

    // Assert: the fifth sample closes it.
    expect(closedAt).toBe(4);
  });

  it('closes the window at once on a drop, whatever its length and count', () => {
    // Arrange: a 1 s window that needs 100 samples.
    const windows = new WindowedSamples({ minTime: 1000, maxTime: 1000, minSamples: 100 });
    windows.onSample(ok(10, 3), 0);

    // Act
    const closed = windows.onSample(drop(500, 8), 1);

    // Assert: the dropped call's RTT (a timeout) is left out of the RTTs.
    expect(closed).toEqual({ avgRtt: 10, minRtt: 10, maxInFlight: 8, dropped: true, count: 2 });
  });

  it('after a window closed at once on a drop, further drops only mark the next window, which closes by the rules', () => {
    // Arrange: 20 ms windows of at least 3 samples; a burst of timeouts at t=0..2.
    const windows = new WindowedSamples({ minTime: 20, maxTime: 20, minSamples: 3 });
    windows.onSample(ok(5), 0);
    const first = windows.onSample(drop(1000), 1);

    // Act
    const during = [2, 3, 4].map((t) => windows.onSample(drop(1000), t));
    const atEnd = windows.onSample(ok(5), 21); // the window opened at t=1 ends at t=21

    // Assert
    expect(first?.dropped).toBe(true);
    expect(during).toEqual([null, null, null]);
    expect(atEnd).toEqual({ avgRtt: 5, minRtt: 5, maxInFlight: 1, dropped: true, count: 4 });
    // That window closed by the rules: the next drop closes its window at once again.
    expect(windows.onSample(drop(1000), 22)).toMatchObject({ dropped: true, count: 1, avgRtt: null, minRtt: null });
  });

  it('leaves dropped calls out of minRtt: a fast rejection is not a fast answer', () => {
    // Arrange
    const windows = new WindowedSamples({ minTime: 0, maxTime: 0, minSamples: 1 });

    // Act
    windows.onSample(drop(0), 0);
    const before = windows.minRtt;
    windows.onSample(ok(40), 1);
    windows.onSample(drop(2), 2);

    // Assert
    expect(before).toBeNull();
    expect(windows.minRtt).toBe(40);
  });

  it('sizes the window after an all-drop window from minRtt', () => {
    // Arrange: minRtt 50; then a window of drops only.
    const windows = new WindowedSamples({ minTime: 0, maxTime: 1000, minSamples: 1 });
    windows.onSample(ok(50), 0);
    windows.onSample(ok(50), 100); // closes the first window (100 ms long)
    windows.onSample(drop(5000), 101); // closes the next at once; it had no RTT

    // Act: the window opened at t=101 is clamp(2 * 50, 0, 1000) = 100 ms long.
    const early = windows.onSample(ok(50), 200);
    const atEnd = windows.onSample(ok(50), 201);

    // Assert
    expect(early).toBeNull();
    expect(atEnd).not.toBeNull();
  });

  it('counts RTTs below 1 ms as 1 ms (the scheduler clock counts whole ms)', () => {
    // Arrange
    const windows = new WindowedSamples({ minTime: 0, maxTime: 0, minSamples: 2 });

    // Act
    windows.onSample(ok(0), 0);
    const closed = windows.onSample(ok(3), 0);

    // Assert
    expect(windows.minRtt).toBe(1);
    expect(closed).toMatchObject({ avgRtt: 2, minRtt: 1 });
  });

  it(`lets minRtt rise again: it is the lowest RTT of the last ${MIN_RTT_EPOCH} to ${2 * MIN_RTT_EPOCH} windows`, () => {
    // Arrange: one-sample windows; one fast call, then slower ones.
    const windows = new WindowedSamples({ minTime: 0, maxTime: 0, minSamples: 1 });
    windows.onSample(ok(5), 0);
    let now = 1;
    const minRtts: (number | null)[] = [];

    // Act
    for (let i = 2; i < 2 * MIN_RTT_EPOCH; i++) windows.onSample(ok(10), now++);
    minRtts.push(windows.minRtt); // after 2 * epoch - 1 windows: the fast call's epoch is the previous one
    windows.onSample(ok(10), now);
    minRtts.push(windows.minRtt); // after 2 * epoch windows: it has aged out

    // Assert
    expect(minRtts).toEqual([5, 10]);
  });

  it('lowers minRtt at once when a faster call finishes, inside an open window', () => {
    // Arrange
    const windows = new WindowedSamples({ minTime: 1000, maxTime: 1000, minSamples: 10 });
    windows.onSample(ok(30), 0);

    // Act
    windows.onSample(ok(12), 1);

    // Assert
    expect(windows.minRtt).toBe(12);
  });
});
