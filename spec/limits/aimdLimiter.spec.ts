import { AimdLimiter } from '../../src/limits/aimdLimiter';
import { PROBE_EVERY } from '../../src/limits/windowedSamples';
import { aimdParams, feed } from '../support/limiters';

describe('AimdLimiter', () => {
  describe('ports of Netflix AIMDLimitTest (one sample per window, as AIMDLimit fed directly)', () => {
    it('testDefault: starts at the initial limit', () => {
      // Arrange / Act
      const limiter = new AimdLimiter(aimdParams({ initial: 10 }));

      // Assert
      expect(limiter.limit).toBe(10);
      expect(limiter.minRtt).toBeNull();
      expect(limiter.sampleRtt).toBeNull();
    });

    it('increaseOnSuccess: 20, a 1 ms success with 10 in flight -> 21', () => {
      // Arrange
      const limiter = new AimdLimiter(aimdParams({ initial: 20 }));

      // Act
      limiter.onSample({ rtt: 1, inFlight: 10, dropped: false }, 1);

      // Assert
      expect(limiter.limit).toBe(21);
      expect(limiter.sampleRtt).toBe(1);
    });

    it('decreaseOnDrops: 30, a drop -> 27', () => {
      // Arrange
      const limiter = new AimdLimiter(aimdParams({ initial: 30 }));

      // Act
      limiter.onSample({ rtt: 0, inFlight: 0, dropped: true }, 0);

      // Assert
      expect(limiter.limit).toBe(27);
    });

    it('successOverflow: at max, a success with the limit fully used keeps it at max', () => {
      // Arrange: Netflix's test passes 10 in flight, which would not raise a limit of 21 anyway; 21 makes it count.
      const limiter = new AimdLimiter(aimdParams({ initial: 21, max: 21 }));

      // Act
      limiter.onSample({ rtt: 1, inFlight: 21, dropped: false }, 1);

      // Assert
      expect(limiter.limit).toBe(21);
    });
  });

  describe('Flink AIMDScalingStrategyTest / CongestionControlRateLimitingStrategyTest analogues', () => {
    it('scales down by the factor, flooring (Flink rounds): 10 -> 5, 315 -> 157 with 0.5', () => {
      // Arrange
      const small = new AimdLimiter(aimdParams({ initial: 10, max: 1000, backoffRatio: 0.5 }));
      const large = new AimdLimiter(aimdParams({ initial: 315, max: 1000, backoffRatio: 0.5 }));

      // Act
      feed(small, 1, { rtt: 5, inFlight: 10, dropped: true });
      feed(large, 1, { rtt: 5, inFlight: 315, dropped: true });

      // Assert
      expect([small.limit, large.limit]).toEqual([5, 157]);
    });

    it('stops scaling down at min (Flink stops at one)', () => {
      // Arrange
      const atOne = new AimdLimiter(aimdParams({ initial: 1 }));
      const atThree = new AimdLimiter(aimdParams({ min: 3, initial: 10 }));

      // Act
      feed(atOne, 5, { rtt: 5, inFlight: 1, dropped: true });
      feed(atThree, 50, { rtt: 5, inFlight: 10, dropped: true });

      // Assert
      expect([atOne.limit, atThree.limit]).toEqual([1, 3]);
    });

    it('scales down by at least one while above min (0.9 * 5 floors to 4)', () => {
      // Arrange
      const limiter = new AimdLimiter(aimdParams({ initial: 5 }));

      // Act
      feed(limiter, 1, { rtt: 5, inFlight: 5, dropped: true });

      // Assert
      expect(limiter.limit).toBe(4);
    });

    it('scales up by one per successful window, then down on a failure', () => {
      // Arrange
      const limiter = new AimdLimiter(aimdParams({ initial: 4, max: 100 }));

      // Act
      const now = feed(limiter, 3, { rtt: 5, inFlight: 'limit' });
      const afterSuccesses = limiter.limit;
      feed(limiter, 1, { rtt: 5, inFlight: 'limit', dropped: true }, now);

      // Assert
      expect(afterSuccesses).toBe(7);
      expect(limiter.limit).toBe(6); // floor(7 * 0.9)
    });
  });

  describe('latency signal (the limit falls when latency grows)', () => {
    it('cuts the limit when a window\'s mean RTT exceeds tolerance * minRtt, not at tolerance * minRtt', () => {
      // Arrange: minRtt 10, tolerance 1.5.
      const limiter = new AimdLimiter(aimdParams({ initial: 50 }));
      const now = feed(limiter, 1, { rtt: 10, inFlight: 50 }); // -> 51

      // Act
      feed(limiter, 1, { rtt: 15, inFlight: 51 }, now); // at tolerance: still healthy -> 52
      const atTolerance = limiter.limit;
      feed(limiter, 1, { rtt: 16, inFlight: 52 }, now + 1); // over: floor(52 * 0.9) = 46

      // Assert
      expect(atTolerance).toBe(52);
      expect(limiter.limit).toBe(46);
      expect(limiter.minRtt).toBe(10);
      expect(limiter.sampleRtt).toBe(16);
    });

    it('honours a custom tolerance and backoffRatio', () => {
      // Arrange
      const limiter = new AimdLimiter(aimdParams({ initial: 40, tolerance: 1.2, backoffRatio: 0.5 }));
      const now = feed(limiter, 1, { rtt: 10, inFlight: 40 }); // -> 41

      // Act
      feed(limiter, 1, { rtt: 13, inFlight: 41 }, now);

      // Assert
      expect(limiter.limit).toBe(20); // floor(41 * 0.5)
    });

    it('compares the window mean, not single calls: one slow call among fast ones does not cut', () => {
      // Arrange: windows of 10 calls, at least 20 ms.
      const limiter = new AimdLimiter(aimdParams({ initial: 30, window: { minTime: 20, maxTime: 1000, minSamples: 10 } }));
      const rtts = [10, 10, 10, 10, 10, 10, 10, 10, 10, 50]; // mean 14 < 1.5 * 10

      // Act
      rtts.forEach((rtt, i) => limiter.onSample({ rtt, inFlight: 30, dropped: false }, i * 3));

      // Assert: the window (0..27 ms) closed on its 10th sample at t=27, and the limit rose.
      expect(limiter.sampleRtt).toBe(14);
      expect(limiter.limit).toBe(31);
    });

    it('keeps minRtt under sustained queueing, so the limit settles near tolerance * the service\'s concurrency', () => {
      // Arrange: a service of 20 servers and 10 ms: with L > 20 calls in flight, each takes 10 * L / 20 ms.
      const limiter = new AimdLimiter(aimdParams({ initial: 10 }));
      const limits: number[] = [];
      let now = 0;

      // Act: 20 probe intervals, with the limit in flight.
      for (let i = 0; i < 20 * PROBE_EVERY; i++) {
        const inFlight = limiter.limit;
        limiter.onSample({ rtt: 10 * Math.max(1, inFlight / 20), inFlight, dropped: false }, now++);
        if (!limiter.probing) limits.push(limiter.limit);
      }

      // Assert: a cut above 1.5 * 20 = 30 calls (RTT > 15 ms), floor(31 * 0.9) = 27; probes at about 14 find 10 ms.
      const settled = limits.slice(100);
      expect([Math.min(...settled), Math.max(...settled)]).toEqual([27, 31]);
      expect(limiter.minRtt).toBe(10);
    });

    it('re-measures minRtt every PROBE_EVERY windows at half the limit, then returns to the limit', () => {
      // Arrange: windows of 2 calls; minRtt 5, then the service settles at 7 ms (within tolerance: the limit grows).
      const limiter = new AimdLimiter(aimdParams({ initial: 40, window: { minTime: 0, maxTime: 0, minSamples: 2 } }));
      let now = feed(limiter, 2, { rtt: 5, inFlight: 'limit' });
      now = feed(limiter, 2 * (PROBE_EVERY - 1) - 1, { rtt: 7, inFlight: 'limit' }, now);
      const before = [limiter.limit, limiter.probing];

      // Act: the 50th window closes (-> 90), and the probe starts at 45.
      now = feed(limiter, 1, { rtt: 7, inFlight: 'limit' }, now);
      const probe = [limiter.limit, limiter.probing];
      now = feed(limiter, 1, { rtt: 7, inFlight: 90 }, now); // started before the probe: does not count
      now = feed(limiter, 1, { rtt: 1, inFlight: 1, dropped: true }, now); // a drop: cuts the saved limit, 90 -> 81
      const afterDrop = limiter.limit;
      feed(limiter, 2, { rtt: 9, inFlight: 45 }, now);

      // Assert: minRtt 5 until the probe ends, then 9 (it can rise); the limit returns to 81.
      expect(before).toEqual([89, false]);
      expect(probe).toEqual([45, true]);
      expect(afterDrop).toBe(45);
      expect([limiter.limit, limiter.probing, limiter.minRtt]).toEqual([81, false, 9]);
    });

    it('follows a service that became slower for good: cut to min, a probe there costs nothing and finds the new latency', () => {
      // Arrange: minRtt 10, then the service settles at 30 ms (3x): every window cuts, down to min.
      const limiter = new AimdLimiter(aimdParams({ initial: 50 }));
      let now = feed(limiter, 1, { rtt: 10, inFlight: 50 });
      const minRtts: (number | null)[] = [];

      // Act
      for (let i = 0; i < 21; i++) {
        now = feed(limiter, 1, { rtt: 30, inFlight: 'limit' }, now);
        minRtts.push(limiter.minRtt);
      }
      const atMin = [limiter.limit, limiter.probing];
      now = feed(limiter, 1, { rtt: 30, inFlight: 'limit' }, now); // ends the probe (minSamples 1), and closes its window
      const remeasured = limiter.minRtt;
      feed(limiter, 10, { rtt: 30, inFlight: 'limit' }, now);

      // Assert: 51 -> 45 -> ... -> 1 in 21 windows, minRtt still 10; then 30, and the limit grows by 1 per window
      // from the window that ended the probe on (a probe at min leaves the windows alone): 1 + 11.
      expect(minRtts.every((m) => m === 10)).toBe(true);
      expect(atMin).toEqual([1, true]);
      expect(remeasured).toBe(30);
      expect(limiter.limit).toBe(12);
    });
  });

  it('does not grow while application-limited (the highest in-flight count * 2 < limit)', () => {
    // Arrange
    const limiter = new AimdLimiter(aimdParams({ initial: 20 }));

    // Act
    const now = feed(limiter, 10, { rtt: 5, inFlight: 9 });
    const appLimited = limiter.limit;
    feed(limiter, 1, { rtt: 5, inFlight: 10 }, now);

    // Assert
    expect(appLimited).toBe(20);
    expect(limiter.limit).toBe(21);
  });

  it('moves only when a window closes', () => {
    // Arrange: windows of at least 10 samples.
    const limiter = new AimdLimiter(aimdParams({ initial: 20, window: { minTime: 0, maxTime: 0, minSamples: 10 } }));

    // Act
    const now = feed(limiter, 9, { rtt: 5, inFlight: 20 });
    const before = limiter.limit;
    feed(limiter, 1, { rtt: 5, inFlight: 20 }, now);

    // Assert
    expect(before).toBe(20);
    expect(limiter.limit).toBe(21);
  });

  it('cuts once for a burst of simultaneous timeouts, then once more when the next window closes', () => {
    // Arrange: 20 ms windows of at least 5 samples; 30 calls time out at t=100.
    const limiter = new AimdLimiter(aimdParams({ initial: 30, window: { minTime: 20, maxTime: 20, minSamples: 5 } }));
    feed(limiter, 1, { rtt: 5, inFlight: 30 }, 99);

    // Act
    for (let i = 0; i < 30; i++) limiter.onSample({ rtt: 1000, inFlight: 30, dropped: true }, 100);
    const afterBurst = limiter.limit;
    limiter.onSample({ rtt: 5, inFlight: 1, dropped: false }, 120);

    // Assert
    expect(afterBurst).toBe(27);
    expect(limiter.limit).toBe(24);
  });
});
