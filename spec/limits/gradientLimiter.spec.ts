import { GradientLimiter, LONG_WARMUP, LONG_WINDOW } from '../../src/limits/gradientLimiter';
import { feed, gradientParams } from '../support/limiters';

describe('GradientLimiter (Gradient2)', () => {
  it('starts at the initial limit, with no RTT known', () => {
    // Arrange / Act
    const limiter = new GradientLimiter(gradientParams({ initial: 12 }));

    // Assert
    expect([limiter.limit, limiter.minRtt, limiter.sampleRtt]).toEqual([12, null, null]);
  });

  it('rises at a steady latency with the limit in use: limit * 1 + sqrt(limit), smoothed', () => {
    // Arrange: smoothing 1 shows the target itself.
    const unsmoothed = new GradientLimiter(gradientParams({ initial: 16, smoothing: 1 }));
    const smoothed = new GradientLimiter(gradientParams({ initial: 16 }));

    // Act
    feed(unsmoothed, 1, { rtt: 10, inFlight: 16 });
    feed(smoothed, 1, { rtt: 10, inFlight: 16 });

    // Assert
    expect(unsmoothed.limit).toBe(20); // 16 + sqrt(16)
    expect(smoothed.limit).toBe(16); // floor(16 * 0.8 + 20 * 0.2) = floor(16.8): the estimate stays fractional
    expect(unsmoothed.sampleRtt).toBe(10);
  });

  it('keeps rising, one window at a time, up to max and no further', () => {
    // Arrange
    const limiter = new GradientLimiter(gradientParams({ initial: 10, max: 100 }));
    const limits: number[] = [];

    // Act
    let now = 0;
    for (let i = 0; i < 150; i++) {
      now = feed(limiter, 1, { rtt: 10, inFlight: 'limit' }, now);
      limits.push(limiter.limit);
    }

    // Assert: non-decreasing, at max within about 70 windows (10 -> 100 by 0.2 * sqrt(limit) per window).
    expect(limits.every((l, i) => i === 0 || l >= limits[i - 1]!)).toBe(true);
    expect(limits[59]).toBeLessThan(100);
    expect(limits[79]).toBe(100);
    expect(limits[149]).toBe(100);
  });

  it('falls when latency doubles: gradient = 1.5 * longRtt / shortRtt', () => {
    // Arrange: a long RTT of 10 ms at limit 100 (= max).
    const limiter = new GradientLimiter(gradientParams({ initial: 100, max: 100, smoothing: 1 }));
    let now = feed(limiter, 20, { rtt: 10, inFlight: 100 });

    // Act
    now = feed(limiter, 1, { rtt: 20, inFlight: 100 }, now);
    const first = limiter.limit;
    feed(limiter, 5, { rtt: 20, inFlight: 'limit' }, now);

    // Assert: longRtt = 10 + (20 - 10) * 2 / (LONG_WINDOW + 1); target = 100 * gradient + sqrt(100).
    const longRtt = 10 + (10 * 2) / (LONG_WINDOW + 1);
    expect(first).toBe(Math.floor(100 * ((1.5 * longRtt) / 20) + 10));
    expect(first).toBe(86);
    expect(limiter.limit).toBeLessThan(first);
  });

  it('takes the long RTT as the plain mean of the first windows (warm-up), then as an EMA', () => {
    // Arrange: warm-up windows at 10 ms, then one at 40 ms: mean (10 * LONG_WARMUP + 40) / (LONG_WARMUP + 1)
    // if it still counted as warm-up, EMA 10 + 30 * 2 / (LONG_WINDOW + 1) once past it.
    const limiter = new GradientLimiter(gradientParams({ initial: 100, max: 100, smoothing: 1 }));
    const now = feed(limiter, LONG_WARMUP - 1, { rtt: 10, inFlight: 100 });

    // Act: the 10th window (the last of the warm-up) at 40 ms.
    feed(limiter, 1, { rtt: 40, inFlight: 100 }, now);

    // Assert: longRtt = (9 * 10 + 40) / 10 = 13; gradient = 1.5 * 13 / 40 = 0.4875 -> 0.5 (the floor).
    expect(limiter.limit).toBe(Math.floor(100 * 0.5 + 10));
  });

  it('does not move while application-limited (in flight < limit / 2), even when latency doubles', () => {
    // Arrange
    const limiter = new GradientLimiter(gradientParams({ initial: 100, max: 100 }));
    let now = feed(limiter, 20, { rtt: 10, inFlight: 100 });

    // Act
    now = feed(limiter, 10, { rtt: 20, inFlight: 49 }, now);
    const slowAppLimited = limiter.limit;
    feed(limiter, 10, { rtt: 10, inFlight: 49 }, now);

    // Assert
    expect(slowAppLimited).toBe(100);
    expect(limiter.limit).toBe(100);
  });

  it('does not grow while application-limited at a steady latency', () => {
    // Arrange
    const limiter = new GradientLimiter(gradientParams({ initial: 40 }));

    // Act
    feed(limiter, 30, { rtt: 10, inFlight: 19 });

    // Assert
    expect(limiter.limit).toBe(40);
  });

  it('cuts by backoffRatio on a drop, which Gradient2 ignores', () => {
    // Arrange: healthy latency all along; the service rejects fast.
    const limiter = new GradientLimiter(gradientParams({ initial: 100, max: 100 }));
    const limits: number[] = [];

    // Act
    let now = 0;
    for (let i = 0; i < 3; i++) {
      now = feed(limiter, 1, { rtt: 1, inFlight: 100, dropped: true }, now);
      limits.push(limiter.limit);
    }

    // Assert: 100 -> 90 -> 81 -> 72.9
    expect(limits).toEqual([90, 81, 72]);
  });

  it('leaves the long RTT alone on drops: a timeout does not teach it that slow is normal', () => {
    // Arrange
    const limiter = new GradientLimiter(gradientParams({ initial: 50, max: 100, smoothing: 1 }));
    let now = feed(limiter, 20, { rtt: 10, inFlight: 'limit' }); // longRtt 10; limit at max
    now = feed(limiter, 5, { rtt: 5000, inFlight: 100, dropped: true }, now);
    const afterDrops = limiter.limit;

    // Act: latency doubles; gradient 1.5 * 10 / 20 = 0.75 (were the timeouts averaged in, it would be 1).
    feed(limiter, 1, { rtt: 20, inFlight: afterDrops }, now);

    // Assert
    expect(limiter.limit).toBeLessThan(afterDrops);
  });

  it('lowers the long RTT fast (x 0.95 per window) after a long overload, so a new rise is seen', () => {
    // Arrange: long RTT 10, then a long stretch at 100 ms (the long RTT follows), then back to 10 ms.
    const run = () => {
      const limiter = new GradientLimiter(gradientParams({ initial: 100, max: 100, smoothing: 1 }));
      let now = feed(limiter, 20, { rtt: 10, inFlight: 100 });
      now = feed(limiter, 300, { rtt: 100, inFlight: 1000 }, now);
      now = feed(limiter, 60, { rtt: 10, inFlight: 1000 }, now);
      return { limiter, now };
    };
    const { limiter, now } = run();
    const before = limiter.limit;

    // Act: latency rises to 40 ms. By the EMA alone the long RTT would still be about 10 + 88 * 0.98^60 = 36
    // (gradient 1.35 -> 1: no fall); with the 0.95 rule it is about 20 (gradient 0.75).
    feed(limiter, 1, { rtt: 40, inFlight: 1000 }, now);

    // Assert
    expect(before).toBe(100);
    expect(limiter.limit).toBeLessThan(before);
  });

  it('heads for 4 while the gradient is at its floor (0.5 * limit + sqrt(limit) = limit)', () => {
    // Arrange: the long RTT at 10 ms, then windows at 10 s: the long RTT stays below a third of that (gradient
    // 0.5) for about 20 windows, 10 + 9990 * (1 - 0.98^k) < 3333.
    const limiter = new GradientLimiter(gradientParams({ initial: 100, max: 100, smoothing: 1 }));
    const now = feed(limiter, 20, { rtt: 10, inFlight: 100 });

    // Act: 100 -> 60 -> 37.7 -> 25 -> ... -> 4.4
    feed(limiter, 15, { rtt: 10_000, inFlight: 'limit' }, now);

    // Assert
    expect(limiter.limit).toBe(4);
  });

  it('exposes an integer limit, at least min, while the estimate stays fractional', () => {
    // Arrange: min 3; drops take the estimate to 3 exactly, then growth adds fractions.
    const limiter = new GradientLimiter(gradientParams({ min: 3, initial: 5 }));

    // Act
    let now = feed(limiter, 10, { rtt: 1, inFlight: 5, dropped: true });
    const atMin = limiter.limit;
    now = feed(limiter, 1, { rtt: 10, inFlight: 3 }, now); // 3 * 0.8 + (3 + sqrt(3)) * 0.2 = 3.35
    const fraction = limiter.limit;
    feed(limiter, 3, { rtt: 10, inFlight: 'limit' }, now); // 3.35 -> 3.72 -> 4.10 -> ...

    // Assert
    expect([atMin, fraction]).toEqual([3, 3]);
    expect(limiter.limit).toBe(4);
  });
});
