import { AimdLimiter } from '../../src/limits/aimdLimiter';
import { MIN_RTT_EPOCH } from '../../src/limits/windowedSamples';
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
      // Arrange: minRtt 10, tolerance 2.
      const limiter = new AimdLimiter(aimdParams({ initial: 50 }));
      const now = feed(limiter, 1, { rtt: 10, inFlight: 50 }); // -> 51

      // Act
      feed(limiter, 1, { rtt: 20, inFlight: 51 }, now); // at tolerance: still healthy -> 52
      const atTolerance = limiter.limit;
      feed(limiter, 1, { rtt: 21, inFlight: 52 }, now + 1); // over: floor(52 * 0.9) = 46

      // Assert
      expect(atTolerance).toBe(52);
      expect(limiter.limit).toBe(46);
      expect(limiter.minRtt).toBe(10);
      expect(limiter.sampleRtt).toBe(21);
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
      const rtts = [10, 10, 10, 10, 10, 10, 10, 10, 10, 50]; // mean 14 < 2 * 10

      // Act
      rtts.forEach((rtt, i) => limiter.onSample({ rtt, inFlight: 30, dropped: false }, i * 3));

      // Assert: the window (0..27 ms) closed on its 10th sample at t=27, and the limit rose.
      expect(limiter.sampleRtt).toBe(14);
      expect(limiter.limit).toBe(31);
    });

    it('lets minRtt rise again once the service is slower for good, so the limit grows again', () => {
      // Arrange: minRtt 10, then the service settles at 30 ms (3x): every window cuts, down to min.
      const limiter = new AimdLimiter(aimdParams({ initial: 50 }));
      let now = feed(limiter, 1, { rtt: 10, inFlight: 50 });
      now = feed(limiter, 40, { rtt: 30, inFlight: 'limit' }, now);
      const whileOld = limiter.limit;

      // Act: after two minRtt epochs, minRtt is 30.
      now = feed(limiter, 2 * MIN_RTT_EPOCH, { rtt: 30, inFlight: 'limit' }, now);
      const recovered = limiter.limit;
      feed(limiter, 10, { rtt: 30, inFlight: 'limit' }, now);

      // Assert
      expect(whileOld).toBe(1);
      expect(limiter.minRtt).toBe(30);
      expect(limiter.limit).toBe(recovered + 10);
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
