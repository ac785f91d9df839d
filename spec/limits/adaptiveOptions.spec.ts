import { createLimiter, resolveConcurrency } from '../../src/limits/adaptiveOptions';
import { AimdLimiter } from '../../src/limits/aimdLimiter';
import { GradientLimiter } from '../../src/limits/gradientLimiter';

const OP = 'asyncWaitOrdered';

/** Calls `fn` and returns what it threw (fails the test when nothing is thrown). */
function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw, but nothing was thrown');
}

describe('resolveConcurrency', () => {
  describe('defaults', () => {
    it('returns null when there is no adaptive limit', () => {
      // Arrange / Act / Assert
      expect(resolveConcurrency(OP, undefined, 100)).toBeNull();
      expect(resolveConcurrency(OP, {}, 100)).toBeNull();
      expect(resolveConcurrency(OP, { adaptive: undefined }, 100)).toBeNull();
    });

    it('applies every default: gradient, [1, the operator bound], initial 10, 0.9, tolerance 1.25, 0.2, 10 ms..1 s windows of 10', () => {
      // Act
      const resolved = resolveConcurrency(OP, { adaptive: {} }, 100);

      // Assert
      expect(resolved).toEqual({
        limiter: 'gradient', min: 1, max: 100, initial: 10, isOverload: undefined, backoffRatio: 0.9, tolerance: 1.25, smoothing: 0.2,
        window: { minTime: 10, maxTime: 1000, minSamples: 10 },
      });
    });

    it('defaults tolerance to 1.5 for aimd', () => {
      // Act
      const resolved = resolveConcurrency(OP, { adaptive: { limiter: 'aimd' } }, 100);

      // Assert
      expect(resolved?.tolerance).toBe(1.5);
    });

    it('brings the default initial within [min, max]', () => {
      // Act / Assert
      expect(resolveConcurrency(OP, { adaptive: {} }, 4)?.initial).toBe(4);
      expect(resolveConcurrency(OP, { adaptive: { min: 20 } }, 100)?.initial).toBe(20);
      expect(resolveConcurrency(OP, { adaptive: { max: 6 } }, 100)?.initial).toBe(6);
    });

    it('takes the window bound that is not given from the one that is, when the default would contradict it', () => {
      // Act / Assert
      expect(resolveConcurrency(OP, { adaptive: { window: { maxTime: 5 } } }, 100)?.window).toEqual({ minTime: 5, maxTime: 5, minSamples: 10 });
      expect(resolveConcurrency(OP, { adaptive: { window: { minTime: 2000 } } }, 100)?.window).toEqual({ minTime: 2000, maxTime: 2000, minSamples: 10 });
      expect(resolveConcurrency(OP, { adaptive: { window: { minSamples: 3 } } }, 100)?.window).toEqual({ minTime: 10, maxTime: 1000, minSamples: 3 });
    });

    it('keeps every value given, undefined meaning the default', () => {
      // Arrange
      const isOverload = (e: unknown) => e === 'busy';

      // Act
      const resolved = resolveConcurrency(OP, {
        adaptive: {
          limiter: 'gradient', min: 2, max: 50, initial: 3, isOverload, backoffRatio: 0.5, tolerance: 1, smoothing: 1,
          window: { minTime: 0, maxTime: 0, minSamples: 1 },
        },
      }, 50);
      const withUndefined = resolveConcurrency(OP, { adaptive: { limiter: undefined, min: undefined, window: undefined } }, 50);

      // Assert
      expect(resolved).toEqual({
        limiter: 'gradient', min: 2, max: 50, initial: 3, isOverload, backoffRatio: 0.5, tolerance: 1, smoothing: 1,
        window: { minTime: 0, maxTime: 0, minSamples: 1 },
      });
      expect(withUndefined).toEqual(resolveConcurrency(OP, { adaptive: {} }, 50));
    });
  });

  describe('validation: a TypeError naming the operator, the option path and the value', () => {
    // [label, concurrency, bound, option path in the message, how the bad value is rendered]
    const invalid: [string, unknown, number, string, string][] = [
      ['concurrency null', null, 100, 'concurrency', 'got null'],
      ['concurrency 5', 5, 100, 'concurrency', 'got 5'],
      ['concurrency unknown key', { adaptiv: {} }, 100, 'concurrency.adaptiv', 'got {}'],
      ['adaptive true', { adaptive: true }, 100, 'concurrency.adaptive', 'got true'],
      ['adaptive null', { adaptive: null }, 100, 'concurrency.adaptive', 'got null'],
      ['adaptive unknown key', { adaptive: { maximum: 5 } }, 100, 'concurrency.adaptive.maximum', 'got 5'],
      ['limiter vegas', { adaptive: { limiter: 'vegas' } }, 100, 'concurrency.adaptive.limiter', 'got "vegas"'],
      ['min 0', { adaptive: { min: 0 } }, 100, 'concurrency.adaptive.min', 'got 0'],
      ['min 1.5', { adaptive: { min: 1.5 } }, 100, 'concurrency.adaptive.min', 'got 1.5'],
      ["min '2'", { adaptive: { min: '2' } }, 100, 'concurrency.adaptive.min', 'got "2"'],
      ['min above max', { adaptive: { min: 8, max: 5 } }, 100, 'concurrency.adaptive.min', 'got 8'],
      ['min above the bound (default max)', { adaptive: { min: 8 } }, 5, 'concurrency.adaptive.min', 'got 8'],
      ['max 0', { adaptive: { max: 0 } }, 100, 'concurrency.adaptive.max', 'got 0'],
      ['max NaN', { adaptive: { max: NaN } }, 100, 'concurrency.adaptive.max', 'got NaN'],
      ['max 2.5', { adaptive: { max: 2.5 } }, 100, 'concurrency.adaptive.max', 'got 2.5'],
      ['max above the bound', { adaptive: { max: 101 } }, 100, 'concurrency.adaptive.max', 'got 101'],
      ['initial below min', { adaptive: { min: 5, initial: 4 } }, 100, 'concurrency.adaptive.initial', 'got 4'],
      ['initial above max', { adaptive: { max: 20, initial: 21 } }, 100, 'concurrency.adaptive.initial', 'got 21'],
      ['initial 3.5', { adaptive: { initial: 3.5 } }, 100, 'concurrency.adaptive.initial', 'got 3.5'],
      ['isOverload true', { adaptive: { isOverload: true } }, 100, 'concurrency.adaptive.isOverload', 'got true'],
      ['backoffRatio 1', { adaptive: { backoffRatio: 1 } }, 100, 'concurrency.adaptive.backoffRatio', 'got 1'],
      ['backoffRatio 0.4', { adaptive: { backoffRatio: 0.4 } }, 100, 'concurrency.adaptive.backoffRatio', 'got 0.4'],
      ['backoffRatio NaN', { adaptive: { backoffRatio: NaN } }, 100, 'concurrency.adaptive.backoffRatio', 'got NaN'],
      ["backoffRatio '0.9'", { adaptive: { backoffRatio: '0.9' } }, 100, 'concurrency.adaptive.backoffRatio', 'got "0.9"'],
      ['tolerance 0.9', { adaptive: { tolerance: 0.9 } }, 100, 'concurrency.adaptive.tolerance', 'got 0.9'],
      ['tolerance Infinity', { adaptive: { tolerance: Infinity } }, 100, 'concurrency.adaptive.tolerance', 'got Infinity'],
      ['smoothing 0', { adaptive: { smoothing: 0 } }, 100, 'concurrency.adaptive.smoothing', 'got 0'],
      ['smoothing 1.5', { adaptive: { smoothing: 1.5 } }, 100, 'concurrency.adaptive.smoothing', 'got 1.5'],
      ['smoothing with aimd', { adaptive: { limiter: 'aimd', smoothing: 0.5 } }, 100, 'concurrency.adaptive.smoothing', 'got 0.5'],
      ['window 10', { adaptive: { window: 10 } }, 100, 'concurrency.adaptive.window', 'got 10'],
      ['window unknown key', { adaptive: { window: { size: 10 } } }, 100, 'concurrency.adaptive.window.size', 'got 10'],
      ['window.minTime -1', { adaptive: { window: { minTime: -1 } } }, 100, 'concurrency.adaptive.window.minTime', 'got -1'],
      ['window.minTime Infinity', { adaptive: { window: { minTime: Infinity } } }, 100, 'concurrency.adaptive.window.minTime', 'got Infinity'],
      ['window.maxTime NaN', { adaptive: { window: { maxTime: NaN } } }, 100, 'concurrency.adaptive.window.maxTime', 'got NaN'],
      ['window.maxTime below minTime', { adaptive: { window: { minTime: 50, maxTime: 40 } } }, 100, 'concurrency.adaptive.window.maxTime', 'got 40'],
      ['window.minSamples 0', { adaptive: { window: { minSamples: 0 } } }, 100, 'concurrency.adaptive.window.minSamples', 'got 0'],
      ['window.minSamples 2.5', { adaptive: { window: { minSamples: 2.5 } } }, 100, 'concurrency.adaptive.window.minSamples', 'got 2.5'],
    ];

    it.each(invalid)('rejects %s', (_label, concurrency, bound, path, got) => {
      // Act
      const error = thrownBy(() => resolveConcurrency(OP, concurrency, bound));

      // Assert
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toContain(`${OP}:`);
      expect(error.message).toContain(`"${path}"`);
      expect(error.message).toContain(got);
    });

    it('says why max may not exceed the operator bound, naming that bound', () => {
      // Act
      const asyncWait = thrownBy(() => resolveConcurrency(OP, { adaptive: { max: 101 } }, 100));
      const asyncBatch = thrownBy(() => resolveConcurrency('asyncBatchOrdered', { adaptive: { max: 9 } }, 8, 'maxInFlightBatches'));

      // Assert
      expect(asyncWait.message).toContain('an integer in [1, 100]');
      expect(asyncWait.message).toContain('raise capacity');
      expect(asyncBatch.message).toContain('asyncBatchOrdered:');
      expect(asyncBatch.message).toContain('raise maxInFlightBatches');
    });

    it('lists the known options when a key is misspelt', () => {
      // Act
      const error = thrownBy(() => resolveConcurrency(OP, { adaptive: { backoff: 0.5 } }, 100));

      // Assert
      expect(error.message).toContain('backoffRatio');
      expect(error.message).toContain('smoothing');
    });
  });
});

describe('createLimiter', () => {
  it('creates the limiter chosen, at its initial limit', () => {
    // Arrange
    const gradient = resolveConcurrency(OP, { adaptive: { initial: 7 } }, 100)!;
    const aimd = resolveConcurrency(OP, { adaptive: { limiter: 'aimd', initial: 9 } }, 100)!;

    // Act
    const limiters = [createLimiter(gradient), createLimiter(aimd)];

    // Assert
    expect(limiters[0]).toBeInstanceOf(GradientLimiter);
    expect(limiters[1]).toBeInstanceOf(AimdLimiter);
    expect(limiters.map((l) => [l.limit, l.minRtt, l.sampleRtt])).toEqual([[7, null, null], [9, null, null]]);
  });

  it('creates independent limiters from one resolved option (one per subscription)', () => {
    // Arrange
    const resolved = resolveConcurrency(OP, { adaptive: { limiter: 'aimd', initial: 20 } }, 100)!;
    const first = createLimiter(resolved);
    const second = createLimiter(resolved);

    // Act
    first.onSample({ rtt: 5, inFlight: 20, dropped: true }, 0);

    // Assert
    expect([first.limit, second.limit]).toEqual([18, 20]);
  });

  it('uses the resolved windows: with the defaults, one call does not move the limit, a drop does', () => {
    // Arrange
    const limiter = createLimiter(resolveConcurrency(OP, { adaptive: { limiter: 'aimd', initial: 20 } }, 100)!);

    // Act
    limiter.onSample({ rtt: 5, inFlight: 20, dropped: false }, 100);
    const afterOne = limiter.limit;
    limiter.onSample({ rtt: 5, inFlight: 20, dropped: true }, 101);

    // Assert
    expect(afterOne).toBe(20);
    expect(limiter.limit).toBe(18);
  });
});
