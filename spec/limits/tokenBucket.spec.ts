import fc from 'fast-check';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { resolveRateLimit, TokenBucket, type ResolvedRateLimit } from '../../src/limits/tokenBucket';
import { TestScheduler } from 'rxjs/testing';
import { soak } from '../support/soak';

/**
 * TokenBucket is internal (the rate limit of the async operators), so it is checked directly, in virtual time:
 * a hand-driven clock stands in for the scheduler (the bucket only ever reads now()).
 */

/** A scheduler whose now() is whatever the test sets; the bucket must never schedule anything. */
function manualClock(start = 0): { scheduler: SchedulerLike; set(t: number): void } {
  let t = start;
  const scheduler = {
    now: () => t,
    schedule: () => {
      throw new Error('a token bucket must not schedule');
    },
  } as unknown as SchedulerLike;
  return { scheduler, set: (next) => (t = next) };
}

/** How many single tokens can be taken right now (drains the bucket). */
function drain(bucket: TokenBucket, max = 10_000): number {
  let taken = 0;
  while (taken < max && bucket.tryTake(1)) taken++;
  return taken;
}

describe('TokenBucket', () => {
  it('starts full: burst tokens at once, then none', () => {
    // Arrange
    const clock = manualClock(1_000);
    const bucket = new TokenBucket(clock.scheduler, { perSecond: 2, burst: 5 });

    // Act
    const taken = drain(bucket);

    // Assert
    expect(taken).toBe(5);
    expect(bucket.tokens).toBe(0);
    expect(bucket.tryTake(1)).toBe(false);
  });

  it('refills at perSecond per 1000 ms of scheduler time, capped at burst', () => {
    // Arrange
    const clock = manualClock();
    const bucket = new TokenBucket(clock.scheduler, { perSecond: 10, burst: 10 });
    drain(bucket);

    // Act / Assert: 100 ms is one token
    clock.set(100);
    expect(bucket.tokens).toBeCloseTo(1, 12);
    expect(drain(bucket)).toBe(1);
    // 500 ms more: five tokens
    clock.set(600);
    expect(drain(bucket)).toBe(5);
    // a long quiet spell fills it up to burst, no more
    clock.set(60_000);
    expect(bucket.tokens).toBe(10);
    expect(drain(bucket)).toBe(10);
  });

  it('accumulates fractional tokens: half a token is not enough, two halves are', () => {
    // Arrange
    const clock = manualClock();
    const bucket = new TokenBucket(clock.scheduler, { perSecond: 4, burst: 2 });
    drain(bucket);

    // Act / Assert
    clock.set(125);
    expect(bucket.tokens).toBeCloseTo(0.5, 12);
    expect(bucket.tryTake(1)).toBe(false);
    clock.set(250);
    expect(bucket.tryTake(1)).toBe(true);
    expect(bucket.tokens).toBeCloseTo(0, 12);
  });

  it('takes n tokens at once, or none', () => {
    // Arrange
    const clock = manualClock();
    const bucket = new TokenBucket(clock.scheduler, { perSecond: 1, burst: 8 });

    // Act / Assert
    expect(bucket.tryTake(5)).toBe(true);
    expect(bucket.tryTake(4)).toBe(false);
    expect(bucket.tokens).toBe(3);
    expect(bucket.tryTake(3)).toBe(true);
    expect(bucket.tokens).toBe(0);
  });

  it('says exactly how long until n tokens are there: 0 when they are, else (n − tokens) / rate', () => {
    // Arrange
    const clock = manualClock();
    const bucket = new TokenBucket(clock.scheduler, { perSecond: 3, burst: 5 });

    // Act / Assert
    expect(bucket.delayUntil(5)).toBe(0);
    drain(bucket);
    const delay = bucket.delayUntil(2);
    expect(delay).toBeCloseTo(2000 / 3, 9);
    clock.set(delay - 0.001);
    expect(bucket.tryTake(2)).toBe(false);
    clock.set(delay);
    expect(bucket.tryTake(2)).toBe(true);
  });

  it('never grants more than burst at once: tryTake fails and delayUntil is Infinity', () => {
    // Arrange
    const clock = manualClock();
    const bucket = new TokenBucket(clock.scheduler, { perSecond: 100, burst: 4 });

    // Act / Assert
    expect(bucket.tryTake(5)).toBe(false);
    expect(bucket.delayUntil(5)).toBe(Infinity);
    expect(bucket.tokens).toBe(4);
  });

  it('treats a clock going backwards as no time passing: no refill, no loss, refill resumes from the new time', () => {
    // Arrange
    const clock = manualClock(5_000);
    const bucket = new TokenBucket(clock.scheduler, { perSecond: 10, burst: 10 });
    drain(bucket);
    expect(bucket.tryTake(3)).toBe(false);

    // Act: a virtual clock reset
    clock.set(0);

    // Assert
    expect(bucket.tokens).toBe(0);
    expect(bucket.tryTake(1)).toBe(false);
    clock.set(300);
    expect(bucket.tokens).toBeCloseTo(3, 12);
    expect(bucket.tryTake(3)).toBe(true);
  });

  it('keeps the tokens it had when the clock goes backwards', () => {
    // Arrange
    const clock = manualClock(1_000);
    const bucket = new TokenBucket(clock.scheduler, { perSecond: 10, burst: 10 });
    bucket.tryTake(4);

    // Act
    clock.set(-50_000);

    // Assert
    expect(bucket.tokens).toBe(6);
  });

  it('reads the time of the scheduler it is given (virtual time under TestScheduler.run)', () => {
    // Arrange
    const results: boolean[] = [];
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ flush }) => {
      const bucket = new TokenBucket(asyncScheduler, { perSecond: 10, burst: 1 });
      bucket.tryTake(1);

      // Act: 50 virtual ms is half a token, 100 is one
      asyncScheduler.schedule(() => results.push(bucket.tryTake(1)), 50);
      asyncScheduler.schedule(() => results.push(bucket.tryTake(1)), 100);
      flush();
    });

    // Assert
    expect(results).toEqual([false, true]);
  });

  describe('properties', () => {
    const limit: fc.Arbitrary<ResolvedRateLimit> = fc.record({
      perSecond: fc.double({ min: 0.05, max: 500, noNaN: true }),
      burst: fc.integer({ min: 1, max: 20 }),
    });
    /** A step of the clock (ms, fractional), and a take of n tokens: once, or as often as it succeeds. */
    const step = fc.record({
      dt: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.double({ min: 0, max: 3_000, noNaN: true })),
      n: fc.integer({ min: 1, max: 20 }),
      greedy: fc.boolean(),
    });

    it('over any window of W ms, takes at most burst + perSecond · W / 1000 tokens (up to 1e-9 of burst)', () => {
      fc.assert(
        fc.property(limit, fc.array(step, { maxLength: 60, size: 'max' }), (options, steps) => {
          // Arrange
          const clock = manualClock();
          const bucket = new TokenBucket(clock.scheduler, options);
          /** Tokens taken at each distinct time, in time order. */
          const times: number[] = [];
          const takenAt: number[] = [];
          let t = 0;

          // Act
          for (const { dt, n: raw, greedy } of steps) {
            t += dt;
            clock.set(t);
            const n = Math.min(raw, options.burst);
            let taken = 0;
            for (let i = 0; i <= options.burst && bucket.tryTake(n); i++) {
              taken += n;
              if (!greedy) break;
            }
            if (greedy && bucket.tokens >= n) return false; // a greedy taker leaves less than n behind
            const tokens = bucket.tokens;
            if (tokens < 0 || tokens > options.burst) return false;
            if (taken === 0) continue;
            if (times.length > 0 && times[times.length - 1] === t) takenAt[takenAt.length - 1]! += taken;
            else {
              times.push(t);
              takenAt.push(taken);
            }
          }

          // Assert: every window [times[i], times[j]]
          for (let i = 0; i < times.length; i++) {
            let sum = 0;
            for (let j = i; j < times.length; j++) {
              sum += takenAt[j]!;
              const bound = options.burst + (options.perSecond * (times[j]! - times[i]!)) / 1000;
              if (sum > bound + 1e-9 * options.burst + 1e-9) return false;
            }
          }
          return true;
        }),
        { numRuns: soak(200, 3_000) },
      );
    });

    it('delayUntil(n) is exact: n tokens are there after that long, and not 1e-6 tokens earlier', () => {
      fc.assert(
        fc.property(limit, fc.array(step, { maxLength: 10, size: 'max' }), fc.integer({ min: 1, max: 20 }), (options, steps, raw) => {
          // Arrange: some history, then a need for n tokens
          const clock = manualClock(1_000);
          const bucket = new TokenBucket(clock.scheduler, options);
          let t = 1_000;
          for (const { dt, n } of steps) {
            t += dt;
            clock.set(t);
            bucket.tryTake(Math.min(n, options.burst));
          }
          const n = Math.min(raw, options.burst);

          // Act
          const delay = bucket.delayUntil(n);

          // Assert
          if (delay < 0 || !Number.isFinite(delay)) return false;
          if (delay > 0) {
            clock.set(t + delay - Math.min(delay, 1e-6 * (1000 / options.perSecond)));
            if (bucket.tryTake(n)) return false;
          }
          clock.set(t + delay);
          return bucket.tryTake(n);
        }),
        { numRuns: soak(300, 5_000) },
      );
    });
  });
});

describe('resolveRateLimit', () => {
  it('is null when the option is left out', () => {
    expect(resolveRateLimit('op', undefined, 1)).toBeNull();
  });

  it.each([
    ['one second of tokens by default', { perSecond: 50 }, 1, { perSecond: 50, burst: 50 }],
    ['rounded up', { perSecond: 2.5 }, 1, { perSecond: 2.5, burst: 3 }],
    ['at least 1', { perSecond: 0.2 }, 1, { perSecond: 0.2, burst: 1 }],
    ['at least the largest call', { perSecond: 5 }, 100, { perSecond: 5, burst: 100 }],
    ['as given', { perSecond: 5, burst: 7 }, 7, { perSecond: 5, burst: 7 }],
    ['undefined burst is the default', { perSecond: 4, burst: undefined }, 1, { perSecond: 4, burst: 4 }],
  ])('resolves burst: %s', (_label, value, minBurst, expected) => {
    // Act
    const resolved = resolveRateLimit('op', value, minBurst);

    // Assert
    expect(resolved).toEqual(expected);
  });

  // [label, value, minBurst, expected message]
  const invalid: [string, unknown, number, RegExp][] = [
    ['not an object', 5, 1, /^op: option "rateLimit" must be an object, got 5$/],
    ['null', null, 1, /option "rateLimit" must be an object, got null/],
    ['perSecond missing', {}, 1, /option "rateLimit\.perSecond" must be a finite number > 0, got undefined/],
    ['perSecond 0', { perSecond: 0 }, 1, /"rateLimit\.perSecond" must be a finite number > 0, got 0/],
    ['perSecond -1', { perSecond: -1 }, 1, /"rateLimit\.perSecond" .*got -1/],
    ['perSecond NaN', { perSecond: NaN }, 1, /"rateLimit\.perSecond" .*got NaN/],
    ['perSecond Infinity', { perSecond: Infinity }, 1, /"rateLimit\.perSecond" .*got Infinity/],
    ["perSecond '5'", { perSecond: '5' }, 1, /"rateLimit\.perSecond" .*got "5"/],
    ['burst 0', { perSecond: 5, burst: 0 }, 1, /"rateLimit\.burst" must be an integer >= 1, got 0/],
    ['burst 1.5', { perSecond: 5, burst: 1.5 }, 1, /"rateLimit\.burst" .*got 1\.5/],
    ['burst below the largest call', { perSecond: 5, burst: 3 }, 10, /"rateLimit\.burst" must be an integer >= 10 \(.*batch.*\), got 3/],
    ['unknown key', { perSecond: 5, perSec: 5 }, 1, /op rateLimit: unknown option "perSec" \(known options: perSecond, burst\)/],
  ];
  it.each(invalid)('throws a TypeError naming the option and the value: %s', (_label, value, minBurst, message) => {
    // Act
    const act = () => resolveRateLimit('op', value, minBurst);

    // Assert
    expect(act).toThrow(TypeError);
    expect(act).toThrow(message);
  });
});
