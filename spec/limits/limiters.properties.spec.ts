import fc from 'fast-check';
import { AimdLimiter } from '../../src/limits/aimdLimiter';
import { GradientLimiter } from '../../src/limits/gradientLimiter';
import { type WindowParams } from '../../src/limits/windowedSamples';
import { soak } from '../support/soak';

const RUNS = soak(100, 1000);

type Kind = 'aimd' | 'gradient';

/** Any valid settings of either limiter, with windows short enough that a run of a few thousand samples moves it. */
const settings = (window: fc.Arbitrary<WindowParams>, smoothing = fc.double({ min: 0.01, max: 1, noNaN: true })) =>
  fc
    .record({
      kind: fc.constantFrom<Kind>('aimd', 'gradient'),
      min: fc.integer({ min: 1, max: 20 }),
      span: fc.integer({ min: 0, max: 180 }),
      initialAt: fc.double({ min: 0, max: 1, noNaN: true }),
      backoffRatio: fc.double({ min: 0.5, max: 0.999, noNaN: true }),
      tolerance: fc.double({ min: 1, max: 4, noNaN: true }),
      smoothing,
      window,
    })
    .map(({ min, span, initialAt, ...rest }) => ({ ...rest, min, max: min + span, initial: min + Math.floor(initialAt * span) }));

const anyWindow: fc.Arbitrary<WindowParams> = fc
  .record({ minTime: fc.integer({ min: 0, max: 50 }), extra: fc.integer({ min: 0, max: 200 }), minSamples: fc.integer({ min: 1, max: 12 }) })
  .map(({ minTime, extra, minSamples }) => ({ minTime, maxTime: minTime + extra, minSamples }));

/** Windows of at most 100 ms: at one sample per ms or more, a window closes within about 100 samples. */
const shortWindow: fc.Arbitrary<WindowParams> = fc
  .record({ minTime: fc.integer({ min: 0, max: 20 }), extra: fc.integer({ min: 0, max: 80 }), minSamples: fc.integer({ min: 1, max: 10 }) })
  .map(({ minTime, extra, minSamples }) => ({ minTime, maxTime: minTime + extra, minSamples }));

const create = (s: { kind: Kind } & ConstructorParameters<typeof GradientLimiter>[0]): AimdLimiter | GradientLimiter =>
  s.kind === 'aimd' ? new AimdLimiter(s) : new GradientLimiter(s);

const isValidLimit = (limiter: { readonly limit: number }, min: number, max: number) =>
  Number.isInteger(limiter.limit) && limiter.limit >= min && limiter.limit <= max;

describe('adaptive limiters: properties', () => {
  it('keep the limit an integer within [min, max] for any sample sequence', () => {
    const sample = fc.record({
      dt: fc.integer({ min: 0, max: 60 }),
      rtt: fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.double({ min: 0, max: 50, noNaN: true })),
      inFlight: fc.integer({ min: 1, max: 400 }),
      dropped: fc.boolean(),
    });
    fc.assert(
      fc.property(settings(anyWindow), fc.array(sample, { maxLength: 400 }), (s, samples) => {
        // Arrange
        const limiter = create(s);
        let now = 0;

        // Act / Assert: after every sample. minRtt rises only when a probe ends (a probe under way before the sample).
        if (!isValidLimit(limiter, s.min, s.max)) return false;
        for (const { dt, ...rest } of samples) {
          now += dt;
          const [minBefore, wasProbing] = [limiter.minRtt, limiter.probing];
          limiter.onSample(rest, now);
          if (!isValidLimit(limiter, s.min, s.max)) return false;
          if (limiter.minRtt !== null && limiter.minRtt < 1) return false;
          if (limiter.sampleRtt !== null && !(limiter.sampleRtt >= 1)) return false;
          if (minBefore !== null && limiter.minRtt! > minBefore && !wasProbing) return false; // only a probe's end raises it
        }
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it('reach max under a steady latency (the no-load latency) with the limit fully used', () => {
    // Smoothing >= 0.1 so that gradient needs at most about 300 windows from 1 to 200.
    fc.assert(
      fc.property(
        settings(shortWindow, fc.double({ min: 0.1, max: 1, noNaN: true })),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 1, max: 5 }),
        (s, rtt, step) => {
          // Arrange
          const limiter = create(s);
          let now = 0;

          // Act: a call finishes every `step` ms, with the limit in flight.
          for (let i = 0; i < 40_000 && limiter.limit < s.max; i++) {
            now += step;
            limiter.onSample({ rtt, inFlight: limiter.limit, dropped: false }, now);
          }

          // Assert
          return limiter.limit === s.max;
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('reach min under persistent drops', () => {
    fc.assert(
      fc.property(settings(shortWindow), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 5 }), (s, rtt, step) => {
        // Arrange
        const limiter = create(s);
        let now = 0;

        // Act: every call is dropped (a timeout or an overload error), the limit in flight; time passes (a burst
        // of drops at one instant cuts once, then waits for the next window's end). At most `cuts` windows of
        // backoffRatio take the limit from max to min, each closing within maxTime / step + minSamples + 1 calls.
        const cuts = Math.ceil(Math.log(s.min / s.max) / Math.log(s.backoffRatio)) + 1;
        for (let i = 0; i < cuts * (Math.ceil(s.window.maxTime / step) + s.window.minSamples + 1) && limiter.limit > s.min; i++) {
          now += step;
          limiter.onSample({ rtt, inFlight: limiter.limit, dropped: true }, now);
        }

        // Assert
        return limiter.limit === s.min;
      }),
      { numRuns: RUNS },
    );
  });

  it('never raise the limit on a window with a drop, nor lower it on a healthy, fully used one at the no-load latency but to probe at half of it', () => {
    fc.assert(
      fc.property(settings(anyWindow), fc.array(fc.boolean(), { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 30 }), (s, drops, rtt) => {
        // Arrange: one-sample windows so that each sample is one update.
        const limiter = create({ ...s, window: { minTime: 0, maxTime: 0, minSamples: 1 } });
        let now = 0;

        // Act / Assert
        for (const dropped of drops) {
          const [before, wasProbing] = [limiter.limit, limiter.probing];
          limiter.onSample({ rtt, inFlight: before, dropped }, now++);
          if (dropped && limiter.limit > before) return false;
          const probeStarted = !wasProbing && limiter.probing;
          if (!dropped && limiter.limit < before && !(probeStarted && limiter.limit >= Math.max(s.min, Math.floor(before / 2)))) return false;
        }
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it('hold the probe limit while a probe lasts, return to their own limit when it ends, and probe again and again', () => {
    fc.assert(
      fc.property(settings(shortWindow), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 2, max: 20 }), (s, rtt, servers) => {
        // Arrange: a service of `servers` servers, with the limit in flight and no drops; a call ends every ms.
        // Windows of at most 100 ms then close at least every 100 calls: 6,000 calls make more than PROBE_EVERY.
        const limiter = create(s);
        let probeLimit: number | null = null;
        let probes = 0;

        // Act / Assert
        for (let now = 0; now < 6000; now++) {
          const before = limiter.limit;
          limiter.onSample({ rtt: rtt * Math.max(1, before / servers), inFlight: before, dropped: false }, now);
          if (probeLimit === null && limiter.probing) {
            probeLimit = limiter.limit; // max(min, floor(own / 2)) for the limiter's own limit `own`
            probes++;
          } else if (probeLimit !== null && limiter.probing) {
            if (limiter.limit !== probeLimit) return false;
          } else if (probeLimit !== null) {
            // Back to its own limit: 2 * probeLimit (+ 1), or at most 2 * min + 1 when the probe limit is min.
            const own = limiter.limit;
            if (probeLimit > s.min ? own < 2 * probeLimit || own > 2 * probeLimit + 1 : own < s.min || own > 2 * s.min + 1) return false;
            probeLimit = null;
          }
        }
        return probes > 0;
      }),
      { numRuns: RUNS },
    );
  });
});
