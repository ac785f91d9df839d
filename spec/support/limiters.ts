/**
 * Helpers for the adaptive-limiter specs (spec/limits): parameter sets and a driver that feeds a limiter
 * samples at scheduler times. The limiters are internal, so the specs import them by relative path.
 */
import { type AimdParams } from '../../src/limits/aimdLimiter';
import { type GradientParams } from '../../src/limits/gradientLimiter';
import { type ConcurrencyLimiter } from '../../src/limits/limiter';
import { type WindowParams } from '../../src/limits/windowedSamples';

/** Windows of one sample each: every sample updates the limit, as Netflix's limits fed directly (no WindowedLimit). */
export const PER_SAMPLE: WindowParams = { minTime: 0, maxTime: 0, minSamples: 1 };

/** AIMD settings: the resolver's defaults, one sample per window, overridable. */
export const aimdParams = (overrides: Partial<AimdParams> = {}): AimdParams => ({
  min: 1, max: 200, initial: 20, backoffRatio: 0.9, tolerance: 1.5, window: PER_SAMPLE, ...overrides,
});

/** Gradient settings: the resolver's defaults, one sample per window, overridable. */
export const gradientParams = (overrides: Partial<GradientParams> = {}): GradientParams => ({
  min: 1, max: 200, initial: 20, backoffRatio: 0.9, tolerance: 1.5, smoothing: 0.2, window: PER_SAMPLE, ...overrides,
});

/** Feeds `limiter` samples one ms apart from `start`, and returns the time after the last one. */
export function feed(
  limiter: ConcurrencyLimiter,
  count: number,
  sample: { rtt: number; inFlight: number | 'limit'; dropped?: boolean },
  start = 0,
): number {
  let now = start;
  for (let i = 0; i < count; i++) {
    const inFlight = sample.inFlight === 'limit' ? limiter.limit : sample.inFlight;
    limiter.onSample({ rtt: sample.rtt, inFlight, dropped: sample.dropped ?? false }, now++);
  }
  return now;
}
