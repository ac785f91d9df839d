import { GradientLimiter } from '../../src/limits/gradientLimiter';
import { PROBE_EVERY } from '../../src/limits/windowedSamples';
import { feed, gradientParams } from '../support/limiters';

/**
 * Feeds `limiter` `count` samples, one ms apart from `now`, from a service of `servers` servers whose calls take
 * `rtt` ms alone: with the limit in flight (L), each call takes rtt * max(1, L / servers) (Little's law).
 * Returns the time after the last one and the limits seen outside probes.
 */
function serve(limiter: GradientLimiter, count: number, servers: number, rtt: number, now = 0): { now: number; limits: number[] } {
  const limits: number[] = [];
  for (let i = 0; i < count; i++) {
    const inFlight = limiter.limit;
    limiter.onSample({ rtt: rtt * Math.max(1, inFlight / servers), inFlight, dropped: false }, now++);
    if (!limiter.probing) limits.push(limiter.limit);
  }
  return { now, limits };
}

describe('GradientLimiter (Gradient2 anchored on minRtt)', () => {
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
    const limits: (number | null)[] = [];

    // Act: the limits outside probes (null during one).
    let now = 0;
    for (let i = 0; i < 150; i++) {
      now = feed(limiter, 1, { rtt: 10, inFlight: 'limit' }, now);
      limits.push(limiter.probing ? null : limiter.limit);
    }

    // Assert: non-decreasing, at max within about 70 windows (10 -> 100 by 0.2 * sqrt(limit) per window).
    const outside = limits.filter((l): l is number => l !== null);
    expect(outside.every((l, i) => i === 0 || l >= outside[i - 1]!)).toBe(true);
    expect(limits[59]).toBeLessThan(100);
    expect(limits[79]).toBe(100);
    expect(limits[149]).toBe(100);
  });

  it('falls when latency doubles: gradient = 1.5 * minRtt / shortRtt', () => {
    // Arrange: minRtt 10 ms at limit 100 (= max).
    const limiter = new GradientLimiter(gradientParams({ initial: 100, max: 100, smoothing: 1 }));
    let now = feed(limiter, 20, { rtt: 10, inFlight: 100 });

    // Act
    now = feed(limiter, 1, { rtt: 20, inFlight: 100 }, now);
    const first = limiter.limit;
    feed(limiter, 5, { rtt: 20, inFlight: 'limit' }, now);

    // Assert: target = 100 * (1.5 * 10 / 20) + sqrt(100) = 85.
    expect(first).toBe(85);
    expect(limiter.limit).toBeLessThan(first);
  });

  it('holds the gradient at its floor (0.5) beyond 3x minRtt, and at 1 up to 1.5x', () => {
    // Arrange: minRtt 10; smoothing 1 shows the target.
    const at = (rtt: number) => {
      const limiter = new GradientLimiter(gradientParams({ initial: 100, max: 200, smoothing: 1 }));
      const now = feed(limiter, 1, { rtt: 10, inFlight: 100 }); // 100 + 10 = 110
      // Act
      feed(limiter, 1, { rtt, inFlight: 110 }, now);
      return limiter.limit;
    };

    // Assert: 110 * gradient + sqrt(110) = 110 * gradient + 10.49.
    expect(at(15)).toBe(120);
    expect(at(30)).toBe(65);
    expect(at(300)).toBe(65);
  });

  it('settles near tolerance * the service\'s concurrency + sqrt(limit), with minRtt at the no-load latency (no creep)', () => {
    // Arrange: 20 servers, 10 ms calls. Gradient2's long RTT would follow the queued latency and let the limit
    // climb; against minRtt the limit settles where L = 1.5 * 20 + sqrt(L), L = 36.1.
    const limiter = new GradientLimiter(gradientParams({ initial: 10 }));

    // Act: 20 probe intervals.
    const { limits } = serve(limiter, 20 * PROBE_EVERY, 20, 10);

    // Assert: probes at half the limit (18) find no queue.
    const settled = limits.slice(200);
    expect([Math.min(...settled), Math.max(...settled)]).toEqual([36, 36]);
    expect(limiter.minRtt).toBe(10);
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

  it('leaves minRtt alone on drops: fast rejections do not make healthy calls look congested', () => {
    // Arrange: minRtt 10; limit at max.
    const limiter = new GradientLimiter(gradientParams({ initial: 50, max: 100, smoothing: 1 }));
    let now = feed(limiter, 20, { rtt: 10, inFlight: 'limit' });
    now = feed(limiter, 5, { rtt: 1, inFlight: 100, dropped: true }, now);
    const afterDrops = limiter.limit;

    // Act: calls at 10 ms again; were the 1 ms rejections minRtt, the gradient would be 0.5.
    feed(limiter, 1, { rtt: 10, inFlight: afterDrops }, now);

    // Assert
    expect(limiter.minRtt).toBe(10);
    expect(limiter.limit).toBeGreaterThan(afterDrops);
  });

  it('re-measures minRtt every PROBE_EVERY windows at half the limit, cuts the saved limit on drops meanwhile, then returns to it', () => {
    // Arrange: windows of 2 calls; minRtt 5 at limit 100 (= max), then calls at 6 ms.
    const limiter = new GradientLimiter(gradientParams({ initial: 100, max: 100, window: { minTime: 0, maxTime: 0, minSamples: 2 } }));
    let now = feed(limiter, 2, { rtt: 5, inFlight: 100 });
    now = feed(limiter, 2 * (PROBE_EVERY - 1) - 1, { rtt: 6, inFlight: 100 }, now);
    const before = [limiter.limit, limiter.probing];

    // Act
    now = feed(limiter, 1, { rtt: 6, inFlight: 100 }, now); // the 50th window: the probe starts at 50
    const probe = [limiter.limit, limiter.probing];
    now = feed(limiter, 4, { rtt: 30, inFlight: 100 }, now); // started before the probe: skipped, and do not count
    const during = [limiter.limit, limiter.minRtt];
    now = feed(limiter, 1, { rtt: 1, inFlight: 1, dropped: true }, now); // 100 -> 90
    feed(limiter, 2, { rtt: 7, inFlight: 50 }, now);

    // Assert: minRtt 7 after the probe (it rose); the limit returns to 90.
    expect(before).toEqual([100, false]);
    expect(probe).toEqual([50, true]);
    expect(during).toEqual([50, 5]);
    expect([limiter.limit, limiter.probing, limiter.minRtt]).toEqual([90, false, 7]);
  });

  it('follows a service that became slower for good at the next probe', () => {
    // Arrange: 20 servers at 10 ms, then at 40 ms, from halfway between two probes.
    const limiter = new GradientLimiter(gradientParams({ initial: 10 }));
    const { now } = serve(limiter, 5 * PROBE_EVERY + PROBE_EVERY / 2, 20, 10);
    const before = limiter.limit;
    const minRtts: (number | null)[] = [];
    const limits: number[] = [];

    // Act
    let t = now;
    for (let i = 0; i < 3 * PROBE_EVERY; i++) {
      const step = serve(limiter, 1, 20, 40, t);
      t = step.now;
      minRtts.push(limiter.minRtt);
      limits.push(...step.limits);
    }

    // Assert: minRtt stays 10 until the next probe (the limit falls meanwhile, gradient 0.5), which finds 40 ms; the
    // limit then settles where it was.
    const firstSlow = minRtts.indexOf(40);
    expect(before).toBe(36);
    expect(firstSlow).toBeGreaterThan(PROBE_EVERY / 4);
    expect(firstSlow).toBeLessThan(PROBE_EVERY);
    expect(minRtts.slice(firstSlow).every((m) => m === 40)).toBe(true);
    expect(Math.min(...limits)).toBeLessThan(12);
    expect(limiter.limit).toBe(36);
  });

  it('heads for 4 while the gradient is at its floor (0.5 * limit + sqrt(limit) = limit)', () => {
    // Arrange: minRtt 10 ms, then windows at 10 s (gradient 0.5).
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
